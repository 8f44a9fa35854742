-- socket.httpd: an HTTP/1.1 server (RFC 9110/9112) on socket.co tasks,
-- one task per connection. The request head is read and checked in C
-- (client:receivehead); this file adds framing, limits and responses.
-- Reference: doc/httpd.md.
local socket = require("socket")
local co = require("socket.co")
local copcall = co.pcall      -- pcall whose waits yield in a task on every Lua (PUC 5.1 included)

local pcall, type, tostring, tonumber, setmetatable, pairs, next, error =
  pcall, type, tostring, tonumber, setmetatable, pairs, next, error
local find, lower, sub, match = string.find, string.lower, string.sub, string.match
local concat = table.concat
local ostime, osdate = os.time, os.date
local headfields, headfield = socket._headfields, socket._headfield
local rawget = rawget

local httpd = {}

-- Every limit, with its default (doc/httpd.md lists them).
httpd.defaults = {
  maxheadbytes = 16384,       -- request line + fields + empty line (414/431 past it)
  maxfields = 100,            -- field lines of a head (431 past it)
  maxbodybytes = 1048576,     -- a request body, framed either way (413 past it)
  headtimeout = 10,           -- seconds for a whole head, from when the server waits for it
  bodytimeout = 10,           -- seconds a body read may wait for the next bytes
  keepalive = 5,              -- seconds an idle keep-alive connection waits for a request
  maxconnections = 1024,      -- connections served at once; more get 503 and are closed
}

local REASON = {
  [100] = "Continue", [200] = "OK", [201] = "Created", [202] = "Accepted", [204] = "No Content",
  [206] = "Partial Content", [301] = "Moved Permanently", [302] = "Found", [303] = "See Other",
  [304] = "Not Modified", [307] = "Temporary Redirect", [308] = "Permanent Redirect",
  [400] = "Bad Request", [401] = "Unauthorized", [403] = "Forbidden", [404] = "Not Found",
  [405] = "Method Not Allowed", [408] = "Request Timeout", [411] = "Length Required",
  [413] = "Content Too Large", [414] = "URI Too Long", [416] = "Range Not Satisfiable",
  [417] = "Expectation Failed", [426] = "Upgrade Required", [431] = "Request Header Fields Too Large",
  [500] = "Internal Server Error", [501] = "Not Implemented", [503] = "Service Unavailable",
  [505] = "HTTP Version Not Supported",
}
httpd.reasons = REASON

-- Status lines, made once per code (no formatting per response).
local STATUS = setmetatable({}, { __index = function(t, code)
  if type(code) ~= "number" or code < 100 or code > 999 or code % 1 ~= 0 then
    error("bad status code " .. tostring(code), 3)
  end
  local line = "HTTP/1.1 " .. code .. " " .. (REASON[code] or "Unknown") .. "\r\n"
  t[code] = line
  return line
end })

-- Decimal lengths of small bodies, made once each.
local LENGTH = setmetatable({}, { __index = function(t, n)
  local s = tostring(n)
  if n < 65536 then t[n] = s end
  return s
end })

-- The Date field, made once a second. HEAD200[ctype] (false: no
-- Content-Type): the head of a plain 200 up to its Content-Length value,
-- remade with the Date line (Response:send's fast path).
local datesec, dateline = -1, ""
local HEAD200, nhead200 = {}, 0
local function date()
  local t = ostime()
  if t ~= datesec then
    datesec, dateline = t, "Date: " .. osdate("!%a, %d %b %Y %H:%M:%S GMT", t) .. "\r\n"
    HEAD200, nhead200 = {}, 0
  end
  return dateline
end

-- What a receivehead error is answered with.
local HEADERR = {
  ["request line too long"] = 414, ["head too large"] = 431, ["too many fields"] = 431,
}

local function plain(c, code)
  c:send(STATUS[code] .. date() .. "Content-Length: 0\r\nConnection: close\r\n\r\n")
end

-- Whether a Connection field value holds the token `tok` (lower case).
local function hastoken(v, tok)
  if type(v) == "table" then v = concat(v, ",") end
  for t in (lower(v) .. ","):gmatch("[ \t]*([^,]-)[ \t]*,") do
    if t == tok then return true end
  end
  return false
end

---------------------------------------------------------------- requests --

local Request = {}
local RequestMT = { __index = function(req, k)
  if k == "headers" then                  -- made on first use from the head's field lines
    local h = headfields(req._lines)
    req.headers = h
    return h
  end
  if k == "path" or k == "query" then
    local target = req.target
    local q = find(target, "?", 1, true)
    if q then
      req.path, req.query = sub(target, 1, q - 1), sub(target, q + 1)
    else
      req.path, req.query = target, false
    end
    return req[k] or nil
  end
  return Request[k]
end }

-- A field's value as one string (a repeated field: its values joined with
-- ", "), or nil. `name` in lower case. Until the handler reads req.headers,
-- the value comes straight from the head's lines, without the table.
function Request:header(name)
  local h = rawget(self, "headers")
  if h == nil then
    if type(name) ~= "string" then return nil end     -- (as indexing the table with it)
    return headfield(self._lines, name)
  end
  local v = h[name]
  if type(v) == "table" then return concat(v, ", ") end
  return v
end

-- Body state of a request: req._left (bytes of a Content-Length body not
-- read yet), req._chunked (a chunked body not read to its end), req._cont
-- (100 Continue is owed before the first read), req._err (the body broke).
local function continue(req)
  if req._cont then
    req._cont = false
    req._conn:send("HTTP/1.1 100 Continue\r\n\r\n")
  end
end

local function bodyfail(req, err)
  req._err, req._left, req._chunked = err, 0, false
  req._res._close = true                  -- the framing is lost: no next request
  return nil, err
end

-- Reads the next piece of the body (at most `max` bytes): a string, or
-- nil at the end, or nil, err.
local function readpiece(req, max)
  if req._err then return nil, req._err end
  local c, lim = req._conn, req._limits
  if req._left > 0 then
    continue(req)
    local n = req._left < max and req._left or max
    local data, err = c:receive(n)
    if not data then return bodyfail(req, err) end
    req._left = req._left - #data
    return data
  end
  if not req._chunked then return nil end
  continue(req)
  if req._inchunk == 0 then
    local line, err = c:receive("*l", nil, 4096)
    if not line then return bodyfail(req, err == "line too long" and "bad chunk size" or err) end
    local hex = match(line, "^0*(%x*)[ \t]*;") or match(line, "^0*(%x*)$")
    if not hex or (hex == "" and not find(line, "^0")) or #hex > 12 then
      return bodyfail(req, "bad chunk size")
    end
    local size = hex == "" and 0 or tonumber(hex, 16)
    if size == 0 then                       -- last chunk: trailer fields, then the end
      for _ = 1, lim.maxfields + 1 do
        local t, terr = c:receive("*l", nil, lim.maxheadbytes)
        if not t then return bodyfail(req, terr == "line too long" and "bad trailer" or terr) end
        if t == "" then
          req._chunked = false
          return nil
        end
      end
      return bodyfail(req, "bad trailer")
    end
    req._read = req._read + size
    if req._read > lim.maxbodybytes then return bodyfail(req, "body too large") end
    req._inchunk = size
  end
  local n = req._inchunk < max and req._inchunk or max
  local data, err = c:receive(n)
  if not data then return bodyfail(req, err) end
  req._inchunk = req._inchunk - n
  if req._inchunk == 0 then
    local crlf, cerr = c:receive(2)
    if crlf ~= "\r\n" then return bodyfail(req, crlf and "bad chunk" or cerr) end
  end
  return data
end

-- The whole body as a string (at most `max` bytes, default and ceiling the
-- server's maxbodybytes), "" when there is none, or nil, err.
function Request:body(max)
  local lim = self._limits.maxbodybytes
  max = max and max < lim and max or lim
  if self._left > max then return bodyfail(self, "body too large") end
  local parts, n = {}, 0
  while true do
    local data, err = readpiece(self, 65536)
    if not data then
      if err then return nil, err end
      return concat(parts)
    end
    n = n + #data
    if n > max then return bodyfail(self, "body too large") end
    parts[#parts + 1] = data
  end
end

-- An ltn12 source of the body: pieces of at most 64 KiB, then nil.
function Request:source()
  return function() return readpiece(self, 65536) end
end

--------------------------------------------------------------- responses --

local Response = {}
Response.__index = Response

-- Sets a response field (`name` as it should appear). Values with CR or LF
-- raise: a field cannot smuggle another one.
local NAMEOK, nnameok = {}, 0           -- names checked already (a few hundred at most)

function Response:set(name, value)
  if type(name) ~= "string" then name = tostring(name) end
  if type(value) ~= "string" then value = tostring(value) end
  if not NAMEOK[name] then
    if find(name, "[^%w!#$%%&'*+%-.^_`|~]") or name == "" then
      error("bad argument #1 to 'set' (invalid field name)", 2)
    end
    if nnameok < 256 then NAMEOK[name], nnameok = true, nnameok + 1 end
  end
  if find(value, "\r", 1, true) or find(value, "\n", 1, true) or find(value, "\0", 1, true) then
    error("bad argument #2 to 'set' (CR, LF or NUL in field value)", 2)
  end
  local n = self._nf + 1                 -- the connection's list, reused by each request
  self._fields[n], self._nf = name .. ": " .. value .. "\r\n", n
  return self
end

local function extra(res)
  local n = res._nf
  if n == 0 then return "" end
  if n == 1 then return res._fields[1] end
  return concat(res._fields, "", 1, n)
end

-- "\r\nContent-Type: x\r\n" per content type (a few hundred at most).
local CTYPE, nctype = {}, 0
local function ctypeline(ctype)
  local line = CTYPE[ctype]
  if line then return line end
  line = "\r\nContent-Type: " .. ctype .. "\r\n"
  if nctype < 256 then CTYPE[ctype], nctype = line, nctype + 1 end
  return line
end

-- A long send runs under bodytimeout between bytes and no total limit
-- (the connection's head timeout would cut a slow download short); the
-- server restores its timeouts after the handler.
local function longsend(res)
  if not res._retime then
    local c, lim = res._conn, res._limits
    c:settimeout(lim.bodytimeout)
    c:settimeout(nil, "t")
    res._retime = true
  end
end

-- Sends the whole response: status (res.status, default 200), fields, and
-- `body` with a Content-Length, in one send. `ctype`: a Content-Type.
function Response:send(body, ctype)
  if self._sent then error("response already sent", 2) end
  -- (_sent is set once nothing can raise any more: a handler whose send
  -- raised, a bad status or body, has sent nothing and gets its 500)
  if type(body) ~= "string" then body = body and tostring(body) or "" end
  local st = self.status
  local len = LENGTH[#body]
  if st == 200 and not (self._close or self._v10 or self._head) then
    -- the common case: one head per content type and second, one concatenation
    if ostime() ~= datesec then date() end
    local key = ctype or false
    local pre = HEAD200[key]
    if not pre then
      pre = STATUS[200] .. dateline .. (ctype and "Content-Type: " .. ctype .. "\r\n" or "") .. "Content-Length: "
      if nhead200 < 64 then HEAD200[key], nhead200 = pre, nhead200 + 1 end
    end
    self._sent = true
    if #body > 65536 then longsend(self) end
    local nf = self._nf
    local ok, err
    if nf == 0 then ok, err = self._conn:send(pre .. len .. "\r\n\r\n" .. body)
    elseif nf == 1 then ok, err = self._conn:send(pre .. len .. "\r\n" .. self._fields[1] .. "\r\n" .. body)
    else ok, err = self._conn:send(pre .. len .. "\r\n" .. concat(self._fields, "", 1, nf) .. "\r\n" .. body) end
    if not ok then self._close = true end
    return ok, err
  end
  local conn = self._close and "Connection: close\r\n" or (self._v10 and "Connection: keep-alive\r\n" or "")
  if self._head or st == 204 or st == 304 then body = "" end
  -- head and body in one string (one concatenation), one send
  local msg = STATUS[st] .. date() .. "Content-Length: " .. len
    .. (ctype and ctypeline(ctype) or "\r\n") .. conn .. extra(self) .. "\r\n" .. body
  self._sent = true
  if #body > 65536 then longsend(self) end
  local ok, err = self._conn:send(msg)
  if not ok then self._close = true end
  return ok, err
end

-- Streams the body: the first call sends the head (chunked for HTTP/1.1;
-- for HTTP/1.0 the body ends with the connection), then each piece.
function Response:write(data, ctype)
  local c = self._conn
  data = tostring(data)
  if not self._sent then
    local ct = ctype and "Content-Type: " .. ctype .. "\r\n" or ""
    local framing = "Transfer-Encoding: chunked\r\n"
    local close = self._close or self._v10
    local conn = close and "Connection: close\r\n" or ""
    local head = STATUS[self.status] .. date() .. (self._v10 and "" or framing) .. ct .. conn .. extra(self) .. "\r\n"
    self._sent, self._streaming, self._close = true, true, close   -- (nothing above raised)
    longsend(self)
    local ok, err = c:send(head)
    if not ok then
      self._close = true
      return nil, err
    end
  elseif not self._streaming then
    error("response already sent", 2)
  end
  if self._head or #data == 0 then return true end
  local ok, err
  if self._v10 then ok, err = c:send(data)
  else ok, err = c:send(("%x"):format(#data) .. "\r\n" .. data .. "\r\n") end
  if not ok then
    self._close = true
    return nil, err
  end
  return true
end

-- Ends a streamed response (the last chunk). Called for you after the handler.
function Response:finish()
  if self._streaming and not self._finished then
    self._finished = true
    if not self._v10 and not self._head then
      local ok, err = self._conn:send("0\r\n\r\n")
      if not ok then
        self._close = true
        return nil, err
      end
    end
  end
  return true
end

-- An ltn12 sink writing the streamed body.
function Response:sink(ctype)
  return function(chunk, err)
    if chunk == nil then
      if err then self._close = true return nil, err end
      return self:finish()
    end
    return self:write(chunk, ctype)
  end
end

------------------------------------------------------------- connections --

-- Framing of a request body: nil (ok) or the status that refuses it.
local function framing(req, h, lim)
  local te, cl = h["transfer-encoding"], h["content-length"]
  req._left, req._chunked, req._inchunk, req._read = 0, false, 0, 0
  if te then
    if cl or req.version == "HTTP/1.0" or type(te) == "table" then return 400 end
    local v = lower(te)
    if v ~= "chunked" then
      if find(v, "chunked", 1, true) then return 400 end  -- "chunked, x", "xchunked": TE.TE tricks
      return 501
    end
    req._chunked = true
  elseif cl then
    if type(cl) == "table" then                    -- repeated: only identical copies pass
      for i = 2, #cl do if cl[i] ~= cl[1] then return 400 end end
      cl = cl[1]
    end
    if not find(cl, "^%d+$") or #cl > 15 then return 400 end
    local n = tonumber(cl)
    if n > lim.maxbodybytes then return 413 end
    req._left = n
  else
    return nil
  end
  local e = h.expect
  if e then
    if lower(e) ~= "100-continue" then return 417 end
    req._cont = req.version ~= "HTTP/1.0"
  end
  return nil
end

-- Reads and drops what is left of a body, within the limit; false if the
-- connection cannot be reused.
local function discard(req)
  if req._err then return false end
  if req._cont then return false end     -- the client waits for 100 Continue: close instead
  local n = 0
  while true do
    local d, err = readpiece(req, 65536)
    if not d then return err == nil end
    n = n + #d
    if n > req._limits.maxbodybytes then return false end
  end
end

-- Serves the requests of connection c. One req and one res per connection,
-- reset for each request (no allocation per request but the head's fields).
local function serve(srv, c, req, res)
  local lim, handler = srv.limits, srv.handler
  local maxhead, maxfields = lim.maxheadbytes, lim.maxfields
  c:settimeout(lim.keepalive)
  c:settimeout(lim.headtimeout, "t")
  while not srv._stopping do             -- stopped during the last request: no next one
    req._idle = true
    -- raw: the field lines as one string, and whether the request is simple
    -- (HTTP/1.1, one Host, no Connection, Content-Length, Transfer-Encoding
    -- or Expect): then nothing here needs a field, and req.headers is made
    -- only if the handler asks for it
    local method, target, version, lines, simple = c:receivehead(maxhead, maxfields, true)
    req._idle = false
    if not method then
      local code = HEADERR[target] or (target ~= "timeout" and target ~= "closed" and 400)
      if code then plain(c, code) end
      return
    end
    local close, v10, hasbody = srv._stopping, false, false
    if simple then
      req.method, req.target, req.version, req.headers, req._lines = method, target, version, nil, lines
      req.path, req.query = nil, nil
      if req._framed then                -- the body state of a request that had one
        req._err, req._cont, req._left, req._chunked, req._framed = nil, false, 0, false, false
      end
    else
      local h = headfields(lines)
      v10 = version == "HTTP/1.0"
      if version ~= "HTTP/1.1" and not v10 then
        if sub(version, 1, 7) ~= "HTTP/1." then
          plain(c, 505)
          return
        end
      end
      local conn = h.connection
      if conn then
        if v10 then close = close or not hastoken(conn, "keep-alive")
        else close = close or hastoken(conn, "close") end
      elseif v10 then
        close = true
      end
      local host = h.host
      if (not v10 and not host) or type(host) == "table" then
        plain(c, 400)
        return
      end
      req.method, req.target, req.version, req.headers, req._lines = method, target, version, h, lines
      req.path, req.query, req._err, req._cont, req._framed = nil, nil, nil, false, true
      if h["content-length"] or h["transfer-encoding"] or h.expect then
        local bad = framing(req, h, lim)
        if bad then
          plain(c, bad)
          return
        end
        hasbody = req._left > 0 or req._chunked
      else
        req._left, req._chunked = 0, false
      end
      if hasbody then
        c:settimeout(lim.bodytimeout)
        c:settimeout(nil, "t")
      end
    end
    res.status, res._nf, res._sent, res._streaming, res._finished = 200, 0, false, false, false
    res._close, res._head, res._v10 = close, method == "HEAD", v10
    -- unprotected here: serve runs under co.pcall (in httpd.new), which
    -- answers a handler's error (req._inhandler) with 500 and closes; the
    -- send for a handler that sent nothing counts as the handler's (its
    -- res.status may be bad)
    req._inhandler = true
    handler(req, res)
    if not res._sent then res:send("") end
    req._inhandler = false
    if res._streaming then res:finish() end
    if res._close then return end
    if hasbody and not discard(req) then return end
    if hasbody or res._retime then
      res._retime = false
      c:settimeout(lim.keepalive)
      c:settimeout(lim.headtimeout, "t")
    end
  end
end

---------------------------------------------------------------- servers --

local Server = {}
Server.__index = Server

-- httpd.new(handler [, options]) -> server | nil, err. Listens at once; the
-- connections are served by socket.co tasks (run them with co.run()).
function httpd.new(handler, options)
  if type(handler) ~= "function" then error("bad argument #1 to 'new' (function expected)", 2) end
  options = options or {}
  if type(options) ~= "table" then error("bad argument #2 to 'new' (table expected)", 2) end
  local lim = {}
  for k, v in pairs(httpd.defaults) do
    local o = options[k]
    if o ~= nil then
      if type(o) ~= "number" or o <= 0 then
        error("bad argument #2 to 'new' (" .. k .. " must be a positive number)", 2)
      end
      v = o
    end
    lim[k] = v
  end
  local ssl = options.ssl
  if ssl then
    local p = {}
    for k, v in pairs(ssl) do p[k] = v end
    p.mode = p.mode or "server"
    p.alpn = p.alpn or { "http/1.1" }
    ssl = p
  end
  local sock, err = socket.bind{ host = options.host or "127.0.0.1", port = options.port or 0,
                                 backlog = options.backlog or 511, reuseport = options.reuseport,
                                 ssl = ssl }
  if not sock then return nil, err end
  -- A TLS handshake runs within the listening socket's timeouts (setssl):
  -- without one, a client that connects and never sends its ClientHello
  -- held a task and a descriptor for ever. The handshake counts as part of
  -- the head. (An accept that times out just waits again.)
  if ssl then sock:settimeout(lim.headtimeout, "t") end
  local srv = setmetatable({ handler = handler, limits = lim, socket = sock, onerror = options.onerror,
                             _conns = {}, _n = 0, _stopping = false }, Server)
  co.spawn(function()
    sock:foreachaccept(function(c)
      if srv._n >= lim.maxconnections or srv._stopping then
        c:settimeout(0)
        plain(c, 503)
        c:close()
        return
      end
      srv._n = srv._n + 1
      local req = setmetatable({ _conn = c, _limits = lim, _idle = false, _inhandler = false,
                                 _framed = false, _err = nil, _cont = false, _left = 0, _chunked = false,
                                 _task = co.running() }, RequestMT)
      req._res = setmetatable({ _conn = c, _limits = lim, _fields = {}, _nf = 0, _retime = false }, Response)
      srv._conns[c] = req
      local ok, e = copcall(serve, srv, c, req, req._res)     -- yields on PUC 5.1 too
      if not ok and req._inhandler then         -- the handler raised: 500 unless it answered
        if srv.onerror then pcall(srv.onerror, e, req) end
        local res = req._res
        if not res._sent then
          res.status, res._nf, res._close = 500, 0, true
          copcall(res.send, res, "")
        end
        ok = true
      end
      srv._conns[c] = nil
      srv._n = srv._n - 1
      c:close()
      if not ok and srv.onerror then pcall(srv.onerror, e) end
    end)
  end)
  return srv
end

-- The address and port the server listens on.
function Server:getsockname()
  return self.socket:getsockname()
end

-- Stops: no new connections; idle keep-alive connections close now; the
-- requests in flight finish, within `grace` seconds (default 5), after
-- which their connections are closed too.
function Server:stop(grace)
  if grace ~= nil and (type(grace) ~= "number" or grace ~= grace or grace < 0) then
    error("bad argument #1 to 'stop' (non-negative number expected, got " .. tostring(grace) .. ")", 2)
  end
  if self._stopping then return true end
  self._stopping = true
  self.socket:close()
  local conns = self._conns
  for c, req in pairs(conns) do
    if req._idle then c:close()
    elseif not req._res._sent then req._res._close = true end   -- in flight: answered with Connection: close
  end
  if next(conns) then
    local srv = self
    co.spawn(function()
      local now = socket._now or socket.gettime     -- monotonic: a clock step does not move the deadline
      local deadline = now() + (grace or 5)
      while next(conns) and now() < deadline do socket.sleep(0.01) end
      if not next(conns) then return end
      for c in pairs(conns) do c:close() end      -- wakes the handlers waiting on their connection
      socket.sleep(0.01)                          -- which then end on their own
      for c, req in pairs(conns) do               -- the others (waiting elsewhere, or never returning) end here
        co._drop(req._task)
        conns[c] = nil
        srv._n = srv._n - 1
      end
    end)
  end
  return true
end

-- The number of connections being served.
function Server:connections()
  return self._n
end

-- httpd.serve(handler [, options]): new, then co.run() until stopped.
function httpd.serve(handler, options)
  local srv, err = httpd.new(handler, options)
  if not srv then return nil, err end
  return co.run()
end

return httpd
