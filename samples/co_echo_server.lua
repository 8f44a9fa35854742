-- A line echo server written in plain blocking style, served concurrently
-- by socket.co: every client gets a task of its own, so a slow client never
-- holds up the others.
--
--   lua5.4 samples/co_echo_server.lua [port [idle]]
--
-- port  defaults to 0: the OS picks one. The first line printed is
--       "co_echo_server: listening on 127.0.0.1 port N".
-- idle  seconds (default 30): the server stops by itself once it has had no
--       client for that long; a client silent that long is dropped.
--
-- Each line a client sends comes back. A line "quit-server" is answered with
-- "bye" and stops the server: it accepts no one else, lets the clients still
-- connected finish, prints "co_echo_server: stopped (...)" and exits 0.
-- Try it with `nc 127.0.0.1 N` from several terminals at once.
local socket = require("socket")
local co = require("socket.co")

local port = tonumber(arg[1] or 0)
local idle = tonumber(arg[2] or 30)
if not port or not idle or idle <= 0 then
  io.stderr:write("usage: lua5.4 samples/co_echo_server.lua [port [idle-seconds]]\n")
  os.exit(2)
end

local server = assert(socket.bind("127.0.0.1", port, 1024))
local _, bound = server:getsockname()
print(("co_echo_server: listening on 127.0.0.1 port %d"):format(bound))
io.stdout:flush()

local connected, served = 0, 0
local lastseen = socket.gettime()
local why = "idle"

-- One client, exactly as a one-client-at-a-time server would write it.
local function serve(client)
  client:settimeout(idle)
  while true do
    local line = client:receive("*l")
    if not line then break end                    -- closed, reset or idle
    if line == "quit-server" then
      client:send("bye\n")
      why = "quit-server"
      server:close()                              -- wakes the accept loop below
      break
    end
    if not client:send(line .. "\n") then break end
  end
  client:close()
  connected = connected - 1
  lastseen = socket.gettime()
end

-- The accept loop: a task like any other.
co.spawn(function()
  server:settimeout(idle)
  while true do
    local client, err = server:accept()
    if client then
      connected, served = connected + 1, served + 1
      co.spawn(serve, client)
    elseif err == "timeout" then
      local quiet = socket.gettime() - lastseen
      if connected == 0 and quiet >= idle then break end
      server:settimeout(connected == 0 and idle - quiet or idle)
    else
      break                                       -- "closed": quit-server
    end
  end
  server:close()
end)

assert(co.run())
print(("co_echo_server: stopped (%s), served %d clients"):format(why, served))
