-- all: K connections of 256 MiB, each read whole with receive("*a").
local B = dofile((arg[0]:match("^(.*/)") or "./") .. "common.lua")
local socket = require("socket")
local SIZE, K = 256 * 1024 * 1024, B.n(4)
local srv, port = B.listen(socket)
local peer = B.peer("all", port, SIZE, K)
local t0 = socket.gettime()
for _ = 1, K do
  local c = assert(srv:accept())
  local s, err = c:receive("*a")
  if not s then error(err) end
  assert(#s == SIZE, "all: short")
  s = nil                                  -- luacheck: ignore
  c:close()
end
local t = socket.gettime() - t0
srv:close()
B.wait(peer)
B.result("all", SIZE * K, t)
