-- lines: N lines of 40 bytes ("...\n"), each read with receive("*l").
local B = dofile((arg[0]:match("^(.*/)") or "./") .. "common.lua")
local socket = require("socket")
local N = B.n(3000000)
local srv, port = B.listen(socket)
local peer = B.peer("lines", port, N)
local c = assert(srv:accept())
srv:close()
local total = 0
local t0 = socket.gettime()
for _ = 1, N do
  local l, err = c:receive("*l")
  if not l then error(err) end
  total = total + #l
end
local t = socket.gettime() - t0
assert(total == N * 39, "lines: wrong byte count")
c:close()
B.wait(peer)
B.result("lines", N, t)
