-- tls_handshake: N full TLS 1.3 handshakes on the server side (B.tls:
-- socket.ssl or LuaSec): accept, wrap, dohandshake, close. The peer keeps
-- 4 clients busy and never resumes a session.
local B = dofile((arg[0]:match("^(.*/)") or "./") .. "common.lua")
local socket = require("socket")
local ssl, ctx = B.tls()
local N = B.n(2000)
local srv, port = B.listen(socket)
local peer = B.peer("handshake", port, N, 4, "tls_peer")
local t0 = socket.gettime()
for _ = 1, N do
  local c = assert(ssl.wrap(assert(srv:accept()), ctx))
  assert(c:dohandshake())
  c:close()
end
local t = socket.gettime() - t0
srv:close()
B.wait(peer)
B.result("tls_handshake", N, t)
