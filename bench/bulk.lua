-- bulk: N sends of 64 KiB to the peer, then N receive(65536) of what it sends back.
local B = dofile((arg[0]:match("^(.*/)") or "./") .. "common.lua")
local socket = require("socket")
local N = B.n(16384)                       -- 1 GiB each way
local srv, port = B.listen(socket)
local peer = B.peer("bulk", port, N)
local c = assert(srv:accept())
srv:close()
local data = string.rep("x", 65536)
local t0 = socket.gettime()
for _ = 1, N do assert(c:send(data)) end
for _ = 1, N do
  local s, err = c:receive(65536)
  if not s then error(err) end
end
local t = socket.gettime() - t0
c:close()
B.wait(peer)
B.result("bulk", 2 * N * 65536, t)
