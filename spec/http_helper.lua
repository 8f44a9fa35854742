-- Helpers for the socket.http specs: a scripted HTTP server written with
-- netsocket (socket.co tasks in this process, so tests see exactly what the
-- client sent), a runner for client code inside a task, and real servers
-- nobody here wrote (python3 -m http.server, openssl s_server -WWW) as child
-- processes. Loaded with require("http_helper").
local socket = require("socket")
local co = require("socket.co")
local H = require("helper")
local S = require("ssl_helper")
local HH = {}

-- The modules socket.http uses must be this tree's, not Debian's LuaSocket
-- (which sits on the default path too).
function HH.checkpaths()
  local root = assert(os.getenv("NETSOCKET_BUILD"), "run through `make test`"):match("^(.*)/[^/]+$")
  for _, m in ipairs({ "ltn12", "mime", "socket.url", "socket.headers", "socket.http" }) do
    local found = package.searchpath(m, package.path)
    assert(found and found:sub(1, #root) == root,
      m .. " would load from " .. tostring(found) .. ", not from " .. root .. "/lua")
  end
end

-- Reads one request: {line, method, target, version, headers (lower-case
-- names), lines (the header lines as sent), body, chunks (sizes, when
-- chunked), trailers}. nil, err when the client sent nothing usable.
function HH.readrequest(c)
  local line, err = c:receive("*l")
  if not line then return nil, err end
  local req = { line = line, headers = {}, lines = {} }
  req.method, req.target, req.version = line:match("^(%S+) (%S+) (HTTP/%d%.%d)$")
  for _ = 1, 200 do
    local l = c:receive("*l")
    if not l or l == "" then break end
    req.lines[#req.lines + 1] = l
    local name, value = l:match("^([^:]+):%s*(.-)%s*$")
    if name then req.headers[name:lower()] = value end
  end
  local length = tonumber(req.headers["content-length"])
  if length then
    req.body = c:receive(length)
  elseif req.headers["transfer-encoding"] == "chunked" then
    local parts = {}
    req.chunks = {}
    for _ = 1, 100000 do
      local size = tonumber((c:receive("*l") or ""):match("^%x+"), 16)
      if not size then break end
      req.chunks[#req.chunks + 1] = size
      if size == 0 then
        req.trailers = {}
        for _ = 1, 100 do
          local t = c:receive("*l")
          if not t or t == "" then break end
          req.trailers[#req.trailers + 1] = t
        end
        break
      end
      parts[#parts + 1] = c:receive(size)
      c:receive("*l")
    end
    req.body = table.concat(parts)
  end
  return req
end

-- A response: status line, header lines in the order given, body.
-- hdrs is an array of "Name: value" strings; Content-Length is added when
-- `body` is given and no header mentions a length or an encoding.
function HH.response(status, hdrs, body)
  local out = { "HTTP/1.1 " .. status }
  local framed = false
  for _, h in ipairs(hdrs or {}) do
    out[#out + 1] = h
    local l = h:lower()
    if l:find("^content%-length:") or l:find("^transfer%-encoding:") then framed = true end
  end
  if body and not framed then out[#out + 1] = "Content-Length: " .. #body end
  return table.concat(out, "\r\n") .. "\r\n\r\n" .. (body or "")
end

-- A chunked encoding of the pieces, with optional trailer lines.
function HH.chunked(pieces, trailers)
  local out = {}
  for _, p in ipairs(pieces) do out[#out + 1] = ("%x\r\n%s\r\n"):format(#p, p) end
  out[#out + 1] = "0\r\n"
  for _, t in ipairs(trailers or {}) do out[#out + 1] = t .. "\r\n" end
  out[#out + 1] = "\r\n"
  return table.concat(out)
end

local servers = {}

-- A server on 127.0.0.1 (port from the OS) run by socket.co tasks. For each
-- connection: the request is read, recorded in srv.requests and passed to
-- handler(req, client, srv), which returns the raw response (a string) or
-- sends it itself and returns nil; then the connection is closed.
-- opts.ssl: server TLS params (the server then speaks https);
-- opts.raw: the handler gets the connection before anything is read.
function HH.server(handler, opts)
  opts = opts or {}
  local server = assert(socket.bind({ host = "127.0.0.1", port = 0, ssl = opts.ssl }))
  server:settimeout(5)
  local _, port = server:getsockname()
  local srv = { port = port, requests = {}, scheme = opts.ssl and "https" or "http", accepted = 0 }
  function srv.url(path, host)
    return srv.scheme .. "://" .. (host or "127.0.0.1") .. ":" .. port .. (path or "/")
  end
  function srv.close()
    srv.stopped = true
    server:close()
  end
  co.spawn(function()
    for _ = 1, 1000 do
      local c, err = server:accept()
      if srv.stopped then
        if c then c:close() end
        break
      end
      if c then
        srv.accepted = srv.accepted + 1
        co.spawn(function()
          c:settimeout(5)
          local req
          if opts.raw then
            req = {}
          else
            req = HH.readrequest(c)
          end
          if req then
            srv.requests[#srv.requests + 1] = req
            local resp = handler(req, c, srv)
            if resp then c:send(resp) end
          end
          c:close()
        end)
      elseif err ~= "timeout" then
        srv.lasterror = err                   -- e.g. a TLS handshake the client refused
      end
    end
  end)
  servers[#servers + 1] = srv
  return srv
end

-- Runs fn(...) in a socket.co task while the servers' tasks serve; returns
-- its results. Fails when it has not finished within `limit` seconds.
function HH.run(fn, limit)
  local results
  co.spawn(function() results = table.pack(fn()) end)
  local deadline = socket.gettime() + (limit or 10)
  while not results and socket.gettime() < deadline do co.step(0.05) end
  assert(results, "the client task did not finish within " .. (limit or 10) .. " s")
  return table.unpack(results, 1, results.n)
end

-- Closes every server made by HH.server and lets their tasks end.
function HH.cleanup()
  for i = #servers, 1, -1 do
    servers[i].close()
    servers[i] = nil
  end
  co.run(2)
end

HH.freeport = H.freeport

-- Waits until something accepts connections on 127.0.0.1:port.
local function waitlisten(port, what, h)
  local deadline = socket.gettime() + 15
  while socket.gettime() < deadline do
    local c = socket.connect("127.0.0.1", port)
    if c then
      c:close()
      return
    end
    socket.sleep(0.05)
  end
  h.kill()
  error(what .. " did not start listening on port " .. port .. ":\n" .. h.rest())
end

-- A child server process; returns {port=, url=fn(path), stop=fn() -> output}.
local function child(cmd, what, port, scheme)
  local h = S.spawn(cmd)
  waitlisten(port, what, h)
  local srv = { port = port, pid = h.pid }
  function srv.url(path, host)
    return scheme .. "://" .. (host or "127.0.0.1") .. ":" .. port .. (path or "/")
  end
  function srv.stop()
    h.kill()
    return h.rest()
  end
  return srv
end

-- python3 -m http.server serving `dir`. python3 is required (Debian package
-- python3): without it this fails, it does not skip.
function HH.python(dir)
  local _, ok = H.sh("command -v python3")
  assert(ok, "python3 not found: the socket.http specs need it as a real HTTP server "
    .. "(Debian: apt-get install python3)")
  local port = HH.freeport()
  return child(("python3 -m http.server --bind 127.0.0.1 %d --directory %s"):format(port, S.q(dir)),
    "python3 -m http.server", port, "http")
end

-- openssl s_server -WWW serving files under `dir` with cert/key.
function HH.opensslwww(dir, cert, key)
  local port = HH.freeport()
  local cmd = ("cd %s && exec openssl s_server -quiet -accept 127.0.0.1:%d -cert %s -key %s -WWW")
    :format(S.q(dir), port, S.q(cert), S.q(key))
  return child("sh -c " .. S.q(cmd), "openssl s_server", port, "https")
end

-- A temporary directory with files {name = content}; returns its path and
-- a function that removes it.
function HH.tempdir(files)
  local dir = os.tmpname()
  os.remove(dir)
  assert(os.execute("mkdir -p " .. S.q(dir)))
  for name, content in pairs(files or {}) do
    local sub = name:match("^(.*)/[^/]*$")
    if sub then assert(os.execute("mkdir -p " .. S.q(dir .. "/" .. sub))) end
    local f = assert(io.open(dir .. "/" .. name, "wb"))
    f:write(content)
    f:close()
  end
  return dir, function() H.sh("rm -rf " .. S.q(dir)) end
end

return HH
