-- What the fuzz drivers share: reading an input byte by byte, and showing
-- values in failure reports and traces.
local M = {}

-- A reader over s: byte() (0 past the end), bytes(k), more().
function M.reader(s)
  local i = 1
  local r = {}
  function r.byte()
    local b = s:byte(i) or 0
    i = i + 1
    return b
  end
  function r.bytes(k)
    local b = s:sub(i, i + k - 1)
    i = i + k
    return b
  end
  function r.more() return i <= #s end
  return r
end

-- A value as a script would write it (strings quoted, one line).
function M.show(v)
  if type(v) == "string" then return (string.format("%q", v):gsub("\\\n", "\\n")) end
  return tostring(v)
end

-- The values t[1..t.n], comma-separated.
function M.showlist(t)
  local out = {}
  for i = 1, t.n do out[i] = M.show(t[i]) end
  return table.concat(out, ", ")
end

return M
