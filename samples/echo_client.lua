-- A line echo client.
--   lua5.4 samples/echo_client.lua host port [line ...]
-- Sends each line given on the command line (or read from stdin) and prints
-- what comes back. Pass "quit" as the last line to stop samples/echo_server.lua.
local socket = require("socket")

local host, port = arg[1], tonumber(arg[2])
if not host or not port then
  io.stderr:write("usage: echo_client.lua host port [line ...]\n")
  os.exit(2)
end

local client = assert(socket.connect(host, port))
client:settimeout(10)

local function exchange(line)
  assert(client:send(line .. "\n"))
  local reply, err = client:receive("*l")
  print(("client: sent %q, got %s"):format(line, reply and ("%q"):format(reply) or err))
  return reply
end

if #arg > 2 then
  for i = 3, #arg do exchange(arg[i]) end
else
  for line in io.lines() do exchange(line) end
end
client:close()
