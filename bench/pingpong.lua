-- pingpong: N round trips of 64 bytes on one connection (tcp-nodelay).
-- The driver pins this process and its peer to one CPU (taskset -c 1).
local B = dofile((arg[0]:match("^(.*/)") or "./") .. "common.lua")
local socket = require("socket")
local N = B.n(100000)
local srv, port = B.listen(socket)
local peer = B.peer("echo", port, 64)
local c = assert(srv:accept())
srv:close()
c:setoption("tcp-nodelay", true)
local msg = string.rep("p", 64)
local t0 = socket.gettime()
for _ = 1, N do
  assert(c:send(msg))
  local s, err = c:receive(64)
  if not s then error(err) end
end
local t = socket.gettime() - t0
c:close()
B.wait(peer)
B.result("pingpong", N, t)
