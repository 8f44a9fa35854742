-- An HTTP echo server: every request is answered with the request itself,
-- its request line, headers and body, as text/plain. Each client is served
-- by a socket.co task of its own, in plain blocking style.
--
--   lua5.4 samples/http_echo.lua [host [port [count [idle]]]]
--
-- host   defaults to 127.0.0.1.
-- port   defaults to 0: the OS picks one. The first line printed is
--        "http_echo: listening on http://HOST:PORT/".
-- count  stop after answering that many requests (0, the default: no limit).
-- idle   seconds (default 30): stop after that long without a client; a
--        client silent that long is dropped.
--
-- HTTP/1.0 and 1.1: a body is read by Content-Length or chunked transfer
-- coding (up to 1 MiB), "Expect: 100-continue" is honoured, HEAD gets the
-- headers only, and every answer closes the connection. A malformed request
-- gets "400 Bad Request". Each request is logged as one line. When it stops
-- it prints "http_echo: stopped (count|idle), answered N requests".
--
-- Try it from the repository root, after `make`:
--   export LUA_PATH="$PWD/lua/?.lua;;" LUA_CPATH="$PWD/build/?.so;;"
--   lua5.4 samples/http_echo.lua 127.0.0.1 8080
--   curl http://127.0.0.1:8080/hello -H 'X-Demo: yes' -d 'a body'
local socket = require("socket")
local co = require("socket.co")

local host = arg[1] or "127.0.0.1"
local port = tonumber(arg[2] or 0)
local count = tonumber(arg[3] or 0)
local idle = tonumber(arg[4] or 30)
if not port or not count or not idle or idle <= 0 then
  io.stderr:write("usage: lua5.4 samples/http_echo.lua [host [port [count [idle-seconds]]]]\n")
  os.exit(2)
end

local MAXBODY = 1024 * 1024       -- bytes
local MAXHEADERS = 100            -- header lines
local MAXCHUNKS = 10000           -- chunks of a chunked body

local server = assert(socket.bind(host, port, 64))
local ip, bound = server:getsockname()
print(("http_echo: listening on http://%s:%d/"):format(ip:find(":", 1, true) and "[" .. ip .. "]" or ip, bound))
io.stdout:flush()

local answered, connected = 0, 0
local lastseen = socket.gettime()
local why = "idle"

local REASON = { [200] = "OK", [400] = "Bad Request", [413] = "Content Too Large",
                 [501] = "Not Implemented" }

-- Reads a chunked body (RFC 9112 §7.1); the trailer lines are appended to
-- `trailers`. Returns the body, or nil and a status code.
local function chunked(client, trailers)
  local parts, size = {}, 0
  for _ = 1, MAXCHUNKS do
    local line = client:receive("*l")
    local n = line and tonumber(line:match("^%s*(%x+)"), 16)
    if not n then return nil, 400 end
    if n == 0 then
      for _ = 1, MAXHEADERS do
        local t = client:receive("*l")
        if not t then return nil, 400 end
        if t == "" then return table.concat(parts) end
        trailers[#trailers + 1] = t
      end
      return nil, 400
    end
    size = size + n
    if size > MAXBODY then return nil, 413 end
    local data = client:receive(n)
    if not data or client:receive("*l") ~= "" then return nil, 400 end
    parts[#parts + 1] = data
  end
  return nil, 413
end

-- Reads one request. Returns method, version, the echo text, or nil and a
-- status code (nil code: the client went away).
local function request(client)
  local line = client:receive("*l")
  if not line then return nil end
  local method, version = line:match("^(%u+) %S+ HTTP/(1%.[01])$")
  if not method then return nil, 400 end
  local headers, fields = {}, {}
  for _ = 1, MAXHEADERS + 1 do
    local h = client:receive("*l")
    if not h then return nil, 400 end
    if h == "" then break end
    local name, value = h:match("^([%w!#$%%&'*+.^_`|~-]+):%s*(.-)%s*$")
    if not name or #headers == MAXHEADERS then return nil, 400 end
    headers[#headers + 1] = h
    fields[name:lower()] = value
  end
  if version == "1.1" and (fields.expect or ""):lower() == "100-continue" then
    client:send("HTTP/1.1 100 Continue\r\n\r\n")
  end
  local body, code = "", nil
  local te = fields["transfer-encoding"]
  if te then
    if te:lower() ~= "chunked" then return nil, 501 end
    body, code = chunked(client, headers)
  elseif fields["content-length"] then
    local n = fields["content-length"]:match("^%d+$") and tonumber(fields["content-length"])
    if not n then return nil, 400 end
    if n > MAXBODY then return nil, 413 end
    body = n > 0 and client:receive(n) or ""
    code = not body and 400 or nil
  end
  if not body then return nil, code end
  local echo = line .. "\n" .. table.concat(headers, "\n") .. (#headers > 0 and "\n" or "") .. "\n" .. body
  return method, version, echo
end

local function respond(client, version, code, text, head)
  -- (the body is concatenated: Lua 5.1's format("%s") stops at a "\0")
  client:send(("HTTP/%s %d %s\r\nContent-Type: text/plain; charset=utf-8\r\n"
    .. "Content-Length: %d\r\nConnection: close\r\nServer: netsocket http_echo\r\n\r\n")
    :format(version, code, REASON[code], #text) .. (head and "" or text))
end

local function serve(client)
  client:settimeout(idle)
  local peer, peerport = client:getpeername()
  local method, version, echo = request(client)
  if method then
    respond(client, version, 200, echo, method == "HEAD")
    print(("http_echo: %s:%s %q -> 200, %d bytes"):format(peer, peerport, echo:match("^[^\n]*"), #echo))
  elseif version then                             -- request() gave nil, code
    local code = version
    respond(client, "1.1", code, REASON[code] .. "\n")
    print(("http_echo: %s:%s -> %d"):format(peer, peerport, code))
  else
    print(("http_echo: %s:%s went away"):format(peer, peerport))
  end
  io.stdout:flush()
  client:close()
  connected = connected - 1
  lastseen = socket.gettime()
  if version then
    answered = answered + 1
    if count > 0 and answered >= count then
      why = "count"
      server:close()                              -- wakes the accept loop
    end
  end
end

co.spawn(function()
  server:settimeout(idle)
  while true do
    local client, err = server:accept()
    if client then
      connected = connected + 1
      co.spawn(serve, client)
    elseif err == "timeout" then
      local quiet = socket.gettime() - lastseen
      if connected == 0 and quiet >= idle then break end
      server:settimeout(connected == 0 and idle - quiet or idle)
    else
      break                                       -- "closed": count reached
    end
  end
  server:close()
end)

assert(co.run())
print(("http_echo: stopped (%s), answered %d requests"):format(why, answered))
