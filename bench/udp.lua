-- udp: N round trips of a 64-byte datagram (connected UDP socket).
-- The driver pins this process and its peer to one CPU (taskset -c 1).
local B = dofile((arg[0]:match("^(.*/)") or "./") .. "common.lua")
local socket = require("socket")
local N = B.n(100000)
local u = assert(socket.udp())
assert(u:setsockname("127.0.0.1", 0))
local _, port = u:getsockname()
local peer = B.peer("udpecho", tonumber(port), N)
u:settimeout(60)
local hello, ip, pport = u:receivefrom()
assert(hello == "hello", ip)
assert(u:setpeername(ip, pport))
u:settimeout(-1)
local msg = string.rep("u", 64)
local t0 = socket.gettime()
for _ = 1, N do
  assert(u:send(msg))
  local s, err = u:receive()
  if not s then error(err) end
end
local t = socket.gettime() - t0
u:close()
B.wait(peer)
B.result("udp", N, t)
