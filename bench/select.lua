-- select K: socket.select over K idle UDP sockets plus one ready one
-- (a datagram to itself, never read), M times. Usage: select.lua K
local B = dofile((arg[0]:match("^(.*/)") or "./") .. "common.lua")
local socket = require("socket")
local K = tonumber(arg[1]) or 100
local M = math.max(20, B.n(3e6 / (K + 1)))
local name = "select" .. K
local set = {}
for i = 1, K do
  local u = assert(socket.udp())
  assert(u:setsockname("127.0.0.1", 0))
  set[i] = u
end
local r = assert(socket.udp())
assert(r:setsockname("127.0.0.1", 0))
local _, rport = r:getsockname()
assert(r:sendto("x", "127.0.0.1", tonumber(rport)))
set[K + 1] = r
local function run()
  local t0 = socket.gettime()
  for _ = 1, M do
    local ready, _, err = socket.select(set, nil)
    if not ready or #ready ~= 1 then error("select: " .. tostring(err)) end
  end
  return socket.gettime() - t0
end
local ok, t = pcall(run)
for _, u in ipairs(set) do u:close() end
if not ok then
  io.write(string.format("UNSUPPORTED %s %s\n", name, tostring(t):gsub("\n", " ")))
  return
end
B.result(name, M, t)
