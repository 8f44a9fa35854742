-- tls_bulk: bulk over TLS (B.tls: socket.ssl or LuaSec): N sends of
-- 64 KiB to the peer, then N receive(65536) of what it sends back; the
-- handshake is not timed.
local B = dofile((arg[0]:match("^(.*/)") or "./") .. "common.lua")
local socket = require("socket")
local ssl, ctx = B.tls()
local N = B.n(4096)                        -- 256 MiB each way
local srv, port = B.listen(socket)
local peer = B.peer("bulk", port, N, 1, "tls_peer")
local c = assert(ssl.wrap(assert(srv:accept()), ctx))
srv:close()
assert(c:dohandshake())
local t = B.bulk(socket, c, N)
c:close()
B.wait(peer)
B.result("tls_bulk", 2 * N * 65536, t)
