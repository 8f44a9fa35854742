-- accept: the peer connects N times (and waits for our close); each
-- connection is accepted and closed.
local B = dofile((arg[0]:match("^(.*/)") or "./") .. "common.lua")
local socket = require("socket")
local N = B.n(20000)
local srv, port = B.listen(socket)
local peer = B.peer("accept", port, N)
local t0 = socket.gettime()
for _ = 1, N do
  local c, err = srv:accept()
  if not c then error(err) end
  c:close()
end
local t = socket.gettime() - t0
srv:close()
B.wait(peer)
B.result("accept", N, t)
