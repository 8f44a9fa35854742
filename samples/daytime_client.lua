-- An RFC 867 daytime client.
--   lua5.4 samples/daytime_client.lua tcp|udp host port
-- Prints the server's answer (without its line end).
local socket = require("socket")

local mode, host, port = arg[1], arg[2], tonumber(arg[3])
if (mode ~= "tcp" and mode ~= "udp") or not host or not port then
  io.stderr:write("usage: daytime_client.lua tcp|udp host port\n")
  os.exit(2)
end

local answer, err
if mode == "tcp" then
  local c = assert(socket.connect(host, port))
  c:settimeout(5)
  answer, err = c:receive("*a")          -- the server closes when done
  c:close()
else
  local u = assert(socket.udp())
  assert(u:setpeername(host, port))
  u:settimeout(5)
  assert(u:send("what time is it?"))
  answer, err = u:receive()
  u:close()
end
if not answer then
  io.stderr:write("daytime_client: " .. err .. "\n")
  os.exit(1)
end
print((answer:gsub("\r?\n$", "")))
