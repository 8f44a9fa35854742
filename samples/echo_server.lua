-- A line echo server.
--   lua5.4 samples/echo_server.lua [host [port [idle]]]
-- host defaults to 127.0.0.1, port to 0 (the OS picks one; it is printed).
-- Each line a client sends comes back; "quit" stops the server. The server
-- also stops by itself after `idle` seconds (default 30) without a client.
local socket = require("socket")

local host = arg[1] or "127.0.0.1"
local port = tonumber(arg[2] or 0)
local idle = tonumber(arg[3] or 30)

local server = assert(socket.bind(host, port))
local ip, bound = server:getsockname()
print(("server: listening on %s port %d"):format(ip, bound))
io.stdout:flush()
server:settimeout(idle)

local running = true
while running do
  local client, err = server:accept()
  if not client then
    print("server: " .. err .. ", stopping")
    break
  end
  local peer, peerport = client:getpeername()
  print(("server: client %s:%d connected"):format(peer, peerport))
  client:settimeout(idle)
  while true do
    local line, rerr = client:receive("*l")
    if not line then
      print("server: client gone (" .. rerr .. ")")
      break
    end
    if line == "quit" then
      client:send("bye\n")
      running = false
      break
    end
    client:send(line .. "\n")
  end
  local received, sent = client:getstats()
  print(("server: %d bytes in, %d bytes out"):format(received, sent))
  client:close()
  io.stdout:flush()
end
server:close()
print("server: closed")
