-- Helpers for the socket.httpd specs: a test server in a child process
-- (so real clients run by io.popen/os.execute can talk to it while the
-- spec waits), and raw exchanges over a plain socket.
local socket = require("socket")
local H = require("helper")
local S = require("ssl_helper")
local M = {}

-- The child's handler: / hello, /echo (whole body), /stream (body piped
-- back through an ltn12 source and sink, chunked), /conns (connections
-- served besides this one, and the child's open descriptors), /sleep.
local SERVER = [[
local httpd = require("socket.httpd")
local co = require("socket.co")
local ltn12 = require("ltn12")
io.stdout:setvbuf("line")
local opts = assert(load("return " .. arg[1]))()
local srv
local function fds()
  local p = io.popen("ls /proc/" .. socket._pid() .. "/fd | wc -l")
  local n = p:read("n")
  p:close()
  return n
end
srv = assert(httpd.new(function(req, res)
  local p = req.path
  if p == "/" then return res:send("Hello, world!", "text/plain") end
  if p == "/echo" then
    local body, err = req:body()
    if not body then
      res.status = err == "body too large" and 413 or 400
      return res:send(err)
    end
    res:set("X-Method", req.method)
    return res:send(body)
  end
  if p == "/stream" then
    return ltn12.pump.all(req:source(), res:sink("application/octet-stream"))
  end
  if p == "/conns" then return res:send((srv:connections() - 1) .. " " .. fds()) end
  if p == "/sleep" then socket.sleep(tonumber(req.query) or 0.2) return res:send("slept") end
  if p == "/error" then error("boom") end
  res.status = 404
  res:send("")
end, opts))
print((select(2, srv:getsockname())))
co.run()
]]

-- Starts the test server with `opts` (Lua table source); returns
-- {port=, pid=, stop=fn}.
function M.start(opts)
  local script = os.tmpname()
  local f = assert(io.open(script, "w"))
  f:write("local socket = require('socket')\nlocal arg = {", string.format("%q", opts or "{}"), "}\n",
    "function socket._pid() local f = io.open('/proc/self/stat') local s = f:read('l') f:close() "
    .. "return s:match('^(%d+)') end\n", SERVER)
  f:close()
  local h = S.spawn("timeout 120 " .. H.LUA .. " " .. S.q(script))
  local port = tonumber(h.line())
  if not port then error("test server did not start: " .. tostring(h.rest())) end
  return {
    port = port,
    url = "http://127.0.0.1:" .. port,
    stop = function()
      h.kill()
      local out = h.rest()
      os.remove(script)
      return out
    end,
  }
end

-- Sends `raw` on a new connection and reads until the server closes it or
-- `wait` seconds pass; returns what came back and whether it was closed.
function M.raw(port, raw, wait)
  local c = assert(socket.connect("127.0.0.1", port))
  c:settimeout(wait or 2, "t")
  c:send(raw)
  local data, err, part = c:receive("*a")
  c:close()
  return data or part, data ~= nil or err == "closed"
end

-- The status codes of every response in `s`, in order.
function M.statuses(s)
  local t = {}
  for code in s:gmatch("HTTP/1%.1 (%d%d%d) ") do t[#t + 1] = tonumber(code) end
  return t
end

-- A self-signed EC certificate for localhost in a new temp directory:
-- its params for a TLS server, and a function removing it.
function M.selfsigned()
  if os.getenv("NETSOCKET_CERTS") then   -- Windows: no openssl CLI; S.certs has it made
    local c = S.certs()
    return { certificate = c.selfsigned, key = c.selfsignedkey }, c.cleanup
  end
  local dir = os.tmpname()
  os.remove(dir)
  local out, made = H.sh(("mkdir -p %s && cd %s && openssl req -x509 -newkey ec -pkeyopt "
    .. "ec_paramgen_curve:prime256v1 -nodes -keyout key.pem -out cert.pem -days 2 -subj /CN=localhost")
    :format(S.q(dir), S.q(dir)))
  assert(made, out)
  return { certificate = dir .. "/cert.pem", key = dir .. "/key.pem" }, function() H.sh("rm -rf " .. S.q(dir)) end
end

return M
