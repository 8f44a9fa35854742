-- Driver of the receive target (fuzz/receive.c): decodes one input into a
-- script of events and a list of calls, runs the calls on a real tcp{client}
-- whose io backend plays the script, runs them on the model (fuzz/model.lua)
-- too, and fails on the first difference: results, dirty(), getstats().
local Model = require("model")
local bytes = require("input")
local headfields = require("socket.core")._headfields
local reader, show, showlist = bytes.reader, bytes.show, bytes.showlist

local fuzz = fuzz          -- luacheck: globals fuzz (set by fuzz/fuzzlua.c)
local fmt, pack, concat = string.format, table.pack, table.concat

local MAXCALLS = 64
local MAXBYTES = 1536 * 1024   -- long chunks stop here: past BUFFER_KEEP (1 MiB), not much further
local TRACE = os.getenv("FUZZ_TRACE")    -- set it to see every call and result

local SPECIAL = { math.huge, -math.huge, 0 / 0, 2 ^ 53, 4e18, 1e300, math.maxinteger, -0.0 }
local BADMAX = { -1, 2.5, "7", 0 / 0, math.huge, "x", true, 2 ^ 53, 3.0, {} }
local BADSIZES = { 0, -1, 0.5, "3", "x", 1e300, 0 / 0, 2.9, true, " 0x10 " }

local function pattern(r)
  local sel = r.byte()
  local k, hi = sel % 16, sel // 16
  local p
  if k == 0 then p = nil
  elseif k == 1 then p = "*l"
  elseif k == 2 then p = "*a"
  elseif k == 3 then p = "*L"
  elseif k == 4 then p = "l"
  elseif k == 5 then p = "a"
  elseif k == 6 then p = "L"
  elseif k == 7 then p = r.byte()
  elseif k == 8 then p = r.byte() * 97 + r.byte()
  elseif k == 9 then p = r.byte() / 4
  elseif k == 10 then p = ({ "%d", " %d ", "0x%x", "%d.75", "%de0" })[r.byte() % 5 + 1]:format(r.byte())
  elseif k == 11 then p = r.bytes(r.byte() % 6)
  elseif k == 12 then p = -(r.byte() / 8)
  elseif k == 13 then p = SPECIAL[r.byte() % #SPECIAL + 1]
  elseif k == 14 then p = 0
  else p = r.byte() % 4 end
  local prefix
  if hi >= 8 and hi <= 13 then prefix = r.bytes(r.byte() % 8)
  elseif hi == 14 then prefix = r.byte()
  elseif hi == 15 then prefix = ({ true, {}, 2.5 })[r.byte() % 3 + 1] end
  return p, prefix
end

local function decode(s)
  local r = reader(s)
  local events, calls, total = {}, {}, 0
  while r.more() and #calls < MAXCALLS do
    local op = r.byte()
    local k, hi = op % 16, op // 16
    if k <= 2 then                                   -- a chunk
      local data = r.bytes(r.byte())
      if #data > 0 then events[#events + 1] = data end
    elseif k == 3 then                               -- a long chunk (to 64 KiB): a unit repeated
      local unit = r.bytes(hi % 4 + 1)
      local n = (r.byte() + 1) * 256 // math.max(#unit, 1)
      if #unit > 0 and total + n * #unit <= MAXBYTES then
        events[#events + 1] = unit:rep(n)
        total = total + n * #unit
      end
    elseif k == 4 then events[#events + 1] = Model.WOULDBLOCK
    elseif k == 5 then events[#events + 1] = Model.TIMEOUT
    elseif k == 6 then events[#events + 1] = Model.CLOSE
    elseif k <= 11 then
      local p, prefix = pattern(r)
      calls[#calls + 1] = { "receive", p, prefix }
    elseif k == 15 then                              -- with a line limit
      local p, prefix = pattern(r)
      local m = r.byte()
      calls[#calls + 1] = { "receive", p, prefix, m < 192 and m % 64 or BADMAX[m % #BADMAX + 1] }
    elseif k <= 13 then
      local m = r.byte()
      local max = m % 64 == 0 and BADSIZES[m // 64 + 1 + (r.byte() % 2) * 4] or (m < 64 and m or (m % 64) * 97)
      local t = ({ nil, 0, nil, "soon" })[hi % 4 + 1]
      calls[#calls + 1] = { "receivesome", max, t }
    elseif hi < 2 then
      calls[#calls + 1] = { "close" }
    elseif hi < 4 then                               -- receivehead(max, maxfields[, raw])
      local m, f = r.byte(), r.byte()
      calls[#calls + 1] = { "receivehead", m < 16 and 16384 or m * 3, f < 128 and f % 8 + 1 or 100,
                            m % 2 == 1 or nil }
    else
      calls[#calls + 1] = { "receive", "*l" }
    end
  end
  return events, calls
end

local function showpack(t) return "{" .. showlist(t) .. "}" end

local function same(a, b)
  if a.n ~= b.n then return false end
  for i = 1, a.n do
    if a[i] ~= b[i] and not (a[i] ~= a[i] and b[i] ~= b[i]) then return false end
  end
  return true
end

local function showcall(c)
  return c[1] .. "(" .. show(c[2]) .. ", " .. show(c[3]) .. (c[4] ~= nil and ", " .. show(c[4]) or "") .. ")"
end

local function describe(events, calls, upto)
  local ev, cs = {}, {}
  for i, e in ipairs(events) do
    ev[i] = type(e) == "string" and show(e) or ({ "WOULDBLOCK", "TIMEOUT", "CLOSE" })[e]
  end
  for i = 1, upto do cs[i] = showcall(calls[i]) end
  return "events: " .. concat(ev, " ") .. "\ncalls: " .. concat(cs, "; ")
end

-- A fields table as the model gives it: "name=value" lines, sorted.
local function canon(fields)
  local list = {}
  for name, v in pairs(fields) do
    list[#list + 1] = name .. "=" .. (type(v) == "table" and "{" .. concat(v, "|") .. "}" or v)
  end
  table.sort(list)
  return concat(list, "\n")
end

-- Real calls go through a Lua function (not a tail call), so that errors
-- name the method as a script would see them.
local function real(obj, c)
  if c[1] == "receive" then
    return pack(pcall(function() local t = pack(obj:receive(c[2], c[3], c[4])); return t end))
  elseif c[1] == "receivesome" then
    return pack(pcall(function() local t = pack(obj:receivesome(c[2], c[3])); return t end))
  elseif c[1] == "receivehead" then
    return pack(pcall(function()
      if c[4] then                                   -- raw: lines (made a table here) and simple
        local t = pack(obj:receivehead(c[2], c[3], true))
        if type(t[4]) == "string" then t[4] = canon(headfields(t[4])) end
        return t
      end
      local t = pack(obj:receivehead(c[2], c[3]))
      if type(t[4]) == "table" then t[4] = canon(t[4]) end
      return t
    end))
  end
  return pack(pcall(function() local t = pack(obj:close()); return t end))
end

-- pcall(f) gave {true, packed} or {false, msg}: make it {true, results...}
-- or {false, msg without the caller's position}.
local function flatten(t)
  if not t[1] then return pack(false, (tostring(t[2]):gsub("^[^:]*:%d+: ", ""))) end
  local r = t[2]
  return pack(true, table.unpack(r, 1, r.n))
end

return function(input)
  local events, calls = decode(input)
  local obj = fuzz.stream(events)
  obj:settimeout(0)
  local model = Model.new(events)
  for i, c in ipairs(calls) do
    local held = fuzz.held(obj)
    local got = flatten(real(obj, c))
    local want
    if c[1] == "receive" then want = model:receive(c[2], c[3], c[4])
    elseif c[1] == "receivesome" then want = model:receivesome(c[2], held, c[3])
    elseif c[1] == "receivehead" then want = model:receivehead(c[2], c[3], c[4])
    else want = model:close() end
    if TRACE then io.stderr:write(showcall(c), " -> ", showpack(got), "\n") end
    if not same(got, want) then
      fuzz.fail(fmt("call %d: got %s, model %s\n%s", i, showpack(got), showpack(want), describe(events, calls, i)))
    end
    local dirty, mdirty = obj:dirty(), model:dirty(fuzz.held(obj))[2]
    if dirty ~= mdirty then
      fuzz.fail(fmt("after call %d: dirty() %s, model %s\n%s", i, show(dirty), show(mdirty),
        describe(events, calls, i)))
    end
    local received = obj:getstats()
    if received ~= model.received then
      fuzz.fail(fmt("after call %d: getstats() received %s, model %s\n%s", i, show(received),
        show(model.received), describe(events, calls, i)))
    end
  end
  obj:close()
end
