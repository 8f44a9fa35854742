-- bulk: N sends of 64 KiB to the peer, then N receive(65536) of what it sends back.
local B = dofile((arg[0]:match("^(.*/)") or "./") .. "common.lua")
local socket = require("socket")
local N = B.n(16384)                       -- 1 GiB each way
local srv, port = B.listen(socket)
local peer = B.peer("bulk", port, N)
local c = assert(srv:accept())
srv:close()
local t = B.bulk(socket, c, N)
c:close()
B.wait(peer)
B.result("bulk", 2 * N * 65536, t)
