-- The `make demo` tour: a real echo server (samples/echo_server.lua) runs as
-- its own process; this script starts it, talks to it as a client over
-- loopback, and prints both sides of the exchange.
local socket = require("socket")

local lua = os.getenv("NETSOCKET_LUA") or arg[-1] or "lua5.4"
local here = arg[0]:match("^(.*)/[^/]*$") or "."

print(("netsocket demo — %s (%s)"):format(socket._IMPL, socket._VERSION))
print("1. start samples/echo_server.lua on 127.0.0.1, port chosen by the OS")
local server = assert(io.popen(("%s %s/echo_server.lua 127.0.0.1 0 10"):format(lua, here), "r"))
local first = server:read("l")
print("   " .. tostring(first))
local port = tonumber(first and first:match("port (%d+)"))
if not port then
  print("demo: the server did not start")
  os.exit(1)
end

print("2. connect a client and exchange lines")
local c <close> = assert(socket.connect("127.0.0.1", port))
c:settimeout(5)
local ok = true
for _, line in ipairs({ "hello, netsocket", "a line with a CR\r", "ünïcödé bytes" }) do
  assert(c:send(line .. "\n"))
  local reply, err = c:receive("*l")
  print(("   client sent %q, received %s"):format(line, reply and ("%q"):format(reply) or err))
  ok = ok and reply == line:gsub("\r", "")
end

print("3. a few features LuaSocket 3.x lacks")
local r, s = c:getstats()
print(("   getstats() -> %s received, %s sent (integers: %s)"):format(r, s, math.type(r)))
print(("   socket._SETSIZE = %d (select has no 1024-descriptor limit)"):format(socket._SETSIZE))
local got, err = c:receivesome(100, 0.05)
print(("   receivesome(100, 0.05) with nothing sent -> %s, %q"):format(tostring(got), err))

print("4. ask the server to stop")
assert(c:send("quit\n"))
print("   client received " .. ("%q"):format(c:receive("*l")))
c:close()
print("5. the server's own log")
for line in server:lines() do print("   " .. line) end
local closed = server:close()
print(closed and ok and "demo: done, all replies matched" or "demo: FAILED")
os.exit(closed and ok and 0 or 1)
