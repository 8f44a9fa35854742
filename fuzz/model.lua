-- A reference model of the stream receive patterns (API.md §4.3) and of
-- receivesome (§12.1), written to be obviously right rather than fast: one
-- string buffer over a script of events. Events are what a peer and the
-- kernel can do: a chunk of bytes (a string), WOULDBLOCK (a wait that ends
-- with data ready), TIMEOUT (a wait that runs out) and CLOSE (EOF; every
-- later read sees EOF again). After the script, the peer is idle: every
-- wait times out.
--
-- Every method returns what the real method returns, as
-- table.pack(pcall(...)) would: {true, results..., n = k} or {false, message}.

local M = {}
M.__index = M

M.WOULDBLOCK, M.TIMEOUT, M.CLOSE = 1, 2, 3

local floor, type, tonumber, tostring = math.floor, type, tonumber, tostring
local pack = table.pack

function M.new(events)
  return setmetatable({
    events = events,
    nextev = 1,
    buf = "",            -- bytes delivered and not yet consumed
    eof = false,         -- the peer closed
    closed = false,      -- close() was called
    received = 0,        -- getstats(): bytes consumed, CRs and "\n" included
  }, M)
end

-- Reads more: nil when a chunk was appended, else "timeout" or "closed".
function M:more()
  while true do
    if self.closed or self.eof then return "closed" end
    local e = self.events[self.nextev]
    if e == nil then return "timeout" end
    self.nextev = self.nextev + 1
    if type(e) == "string" then
      self.buf = self.buf .. e
      return nil
    elseif e == M.TIMEOUT then
      return "timeout"
    elseif e == M.CLOSE then
      self.eof = true
      return "closed"
    end
    -- M.WOULDBLOCK: the wait ends with data ready; read again
  end
end

-- Consumes and returns the first n bytes of the buffer.
function M:take(n)
  local s = self.buf:sub(1, n)
  self.buf = self.buf:sub(n + 1)
  self.received = self.received + #s
  return s
end

local function nocr(s) return (s:gsub("\r", "")) end

local function typename(v)
  if v == nil then return "nil" end
  return type(v)
end

-- "line", "keep" (a line with its "\n"), "all", or "count", n; nil if invalid.
local function pattern(p)
  if p == nil then return "line" end
  if type(p) == "string" then
    local two = p:sub(1, 2)
    if two == "*l" then return "line" end
    if two == "*a" then return "all" end
    if two == "*L" then return "keep" end
  end
  local n = (type(p) == "number" or type(p) == "string") and tonumber(p) or nil
  if n ~= nil then
    if n ~= n or n < 0 then return nil end         -- NaN or negative
    if n >= 4e18 then return "count", 4e18 end     -- the engine's ceiling
    return "count", floor(n)                       -- 2.7 reads 2
  end
  if p == "l" then return "line" end
  if p == "a" then return "all" end
  if p == "L" then return "keep" end
  return nil
end

-- The line limit (doc/tcp.md, an extension): an integer >= 0, or nil.
local function linelimit(max)
  if max == nil then return nil end
  local n = (type(max) == "number" or type(max) == "string") and tonumber(max) or nil
  if n == nil then return nil, "number expected, got " .. typename(max) end
  n = math.tointeger(n)
  if n == nil then return nil, "number has no integer representation" end
  if n < 0 then return nil, "negative line limit" end
  return n
end

function M:receive(p, prefix, max)
  local kind, count = pattern(p)
  if kind == nil then return pack(false, "bad argument #1 to 'receive' (invalid receive pattern)") end
  if prefix == nil then
    prefix = ""
  elseif type(prefix) == "number" then
    prefix = tostring(prefix)
  elseif type(prefix) ~= "string" then
    return pack(false, "bad argument #2 to 'receive' (string expected, got " .. typename(prefix) .. ")")
  end
  local limit, bad = linelimit(max)
  if bad then return pack(false, "bad argument #3 to 'receive' (" .. bad .. ")") end
  if kind == "count" then
    if #prefix >= count and #prefix > 0 then return pack(true, prefix, nil, nil) end
    local need = count - #prefix
    if need == 0 then                              -- receive(0): wait until readable
      local err = nil
      if self.buf == "" then err = self:more() end
      if err then return pack(true, nil, err, "") end
      return pack(true, "", nil, nil)
    end
    local err = nil
    while #self.buf < need do
      err = self:more()
      if err then break end
    end
    if err then return pack(true, nil, err, prefix .. self:take(#self.buf)) end
    return pack(true, prefix .. self:take(need), nil, nil)
  elseif kind == "line" or kind == "keep" then
    -- With a limit: a "\n" among the first limit + 2 bytes ends the line,
    -- which may hold at most `limit` bytes besides its "\r\n" or "\n";
    -- limit + 2 bytes without one are too long. Too long consumes nothing.
    while true do
      local upto = limit and math.min(#self.buf, limit + 2) or #self.buf
      local nl = self.buf:sub(1, upto):find("\n", 1, true)
      local content = nl and (self.buf:sub(nl - 1, nl - 1) == "\r" and nl > 1 and nl - 2 or nl - 1)
      if (nl and limit and content > limit) or (not nl and limit and upto == limit + 2) then
        return pack(true, nil, "line too long", prefix)
      end
      if nl then
        local line = self:take(nl)
        if kind == "line" then line = nocr(line:sub(1, -2)) end
        return pack(true, prefix .. line, nil, nil)
      end
      local err = self:more()
      if err then
        local part = self:take(#self.buf)
        if kind == "line" then part = nocr(part) end
        return pack(true, nil, err, prefix .. part)
      end
    end
  else                                             -- "all": until EOF or a timeout
    local err
    repeat err = self:more() until err
    local data = self:take(#self.buf)
    if err == "closed" and #data > 0 then return pack(true, prefix .. data, nil, nil) end
    return pack(true, nil, err, prefix .. data)
  end
end

-- receivesome(max [, timeout]). `held` is how many of the buffered bytes the
-- io backend still holds (the tail of a chunk the engine has not read yet):
-- bytes the engine has buffered come back at once, otherwise one recv.
function M:receivesome(max, held, timeout)
  local n = (type(max) == "number" or type(max) == "string") and tonumber(max) or nil
  if n == nil then
    return pack(false, "bad argument #1 to 'receivesome' (number expected, got " .. typename(max) .. ")")
  end
  if n ~= n or n < 1 then return pack(false, "bad argument #1 to 'receivesome' (size must be positive)") end
  local t = (type(timeout) == "number" or type(timeout) == "string") and tonumber(timeout) or nil
  if timeout ~= nil and t == nil then
    return pack(false, "bad argument #2 to 'receivesome' (number expected, got " .. typename(timeout) .. ")")
  end
  n = n >= 4e18 and 4e18 or floor(n)
  local buffered = #self.buf - held
  if buffered > 0 then return pack(true, self:take(n < buffered and n or buffered)) end
  if held > 0 then return pack(true, self:take(n < held and n or held)) end
  local err = self:more()
  if err then return pack(true, nil, err) end
  return pack(true, self:take(n < #self.buf and n or #self.buf))
end

-- An HTTP request head (receivehead, doc/tcp.md) in s, checked line by
-- line as RFC 9112 says, strictly: the head's length and its parts, or
-- nil, error, or nil when more bytes are needed.
local TOKEN = "^[%w!#$%%&'*+%-.^_`|~]+"
local function headline(line)
  local m, t, v = line:match("^([%w!#$%%&'*+%-.^_`|~]+) ([\33-\126]+) (HTTP/%d%.%d)$")
  return m, t, v
end

local function parsehead(s, max, maxfields)
  local w = s:sub(1, max)
  local pos = 1
  while true do                                     -- empty lines before the request line
    if w:sub(pos, pos) == "\n" then pos = pos + 1
    elseif w:sub(pos, pos + 1) == "\r\n" then pos = pos + 2
    else break end
  end
  local method, target, version
  local fields, order, nfields = {}, {}, 0
  while true do
    local nl = w:find("\n", pos, true)
    if not nl then
      if #w < max then return nil end
      return nil, method and "head too large" or "request line too long"
    end
    local line = w:sub(pos, nl - 1)
    if line:sub(-1) == "\r" then line = line:sub(1, -2) end
    pos = nl + 1
    if not method then
      method, target, version = headline(line)
      if not method then return nil, "bad request line" end
    elseif line == "" then
      local list = {}
      for _, name in ipairs(order) do
        local v = fields[name]
        list[#list + 1] = name .. "=" .. (type(v) == "table" and "{" .. table.concat(v, "|") .. "}" or v)
      end
      table.sort(list)
      return nl, method, target, version, table.concat(list, "\n"), fields
    else
      nfields = nfields + 1
      if nfields > maxfields then return nil, "too many fields" end
      if line:find("^[ \t]") then return nil, "obs-fold" end
      local name = line:match(TOKEN) or ""
      local after = line:sub(#name + 1, #name + 1)
      if name ~= "" and (after == " " or after == "\t") then return nil, "whitespace before colon" end
      if name == "" or after ~= ":" then return nil, "bad field name" end
      local value = line:sub(#name + 2)
      if value:find("[^\t \33-\126\128-\255]") then return nil, "invalid character in field" end
      value = value:match("^[ \t]*(.-)[ \t]*$")
      name = name:lower()
      local had = fields[name]
      if had == nil then
        fields[name] = value
        order[#order + 1] = name
      elseif type(had) == "string" then
        fields[name] = { had, value }
      else
        had[#had + 1] = value
      end
    end
  end
end

-- Raw (socket.httpd's form): also whether the request is simple: HTTP/1.1,
-- one Host, no Connection, Content-Length, Transfer-Encoding or Expect.
local function simple(version, fields)
  return version == "HTTP/1.1" and type(fields.host) == "string" and fields.connection == nil
    and fields["content-length"] == nil and fields["transfer-encoding"] == nil and fields.expect == nil
end

function M:receivehead(max, maxfields, raw)
  max, maxfields = max or 16384, maxfields or 100
  while true do
    local len, a, b, c, d, fields = parsehead(self.buf, max, maxfields)
    if len then
      self:take(len)
      if raw then return pack(true, a, b, c, d, simple(c, fields)) end
      return pack(true, a, b, c, d)
    end
    if a then return pack(true, nil, a) end
    local err = self:more()
    if err then return pack(true, nil, err) end
  end
end

-- dirty(): the engine's own buffer holds bytes (not the backend's).
function M:dirty(held)
  return pack(true, #self.buf - held > 0)
end

function M:close()
  self.buf = ""
  self.closed = true
  return pack(true, 1)
end

return M
