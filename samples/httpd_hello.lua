-- Hello, world over socket.httpd: GET / answers 200 "Hello, world!" with a
-- Content-Length, on keep-alive connections; anything else is 404. The
-- first line printed is the URL. SIGTERM (or Ctrl+C) stops it cleanly:
-- no new connections, the requests in flight finish (within 5 seconds),
-- then it prints "stopped" and exits with status 0. `make bench` runs
-- exactly this file.
--   lua samples/httpd_hello.lua [PORT] [reuseport]
local socket = require("socket")
local httpd = require("socket.httpd")
local co = require("socket.co")

local port = tonumber(arg[1]) or 8080
local server = assert(httpd.new(function(req, res)
  if req.target == "/" then
    return res:send("Hello, world!", "text/plain")
  end
  res.status = 404
  res:send("not found\n", "text/plain")
end, {
  port = port,
  reuseport = arg[2] == "reuseport",
  onerror = function(err) io.stderr:write("httpd_hello: ", tostring(err), "\n") end,
}))
local _, bound = server:getsockname()
print(("listening on http://127.0.0.1:%d/"):format(bound))
io.stdout:flush()
local stop = assert(socket.signal("TERM", "INT"))
co.spawn(function()
  local name = stop:receive()
  server:stop(5)
  io.stdout:write("httpd_hello: SIG", name, ", stopping\n")
  io.stdout:flush()
  -- watched until the connections are done: another TERM or INT in the
  -- grace period (timeout(1) and group kills send TERM twice) changes nothing
  while server:connections() > 0 do stop:receive(0.05) end
  stop:close()
end)
assert(co.run())
print("httpd_hello: stopped")
os.exit(0)
