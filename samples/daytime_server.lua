-- An RFC 867 daytime server over TCP and UDP at once.
--   lua5.4 samples/daytime_server.lua [host [port [count [idle]]]]
-- host defaults to 127.0.0.1; port 0 (the default) lets the OS choose one for
-- each protocol, and both are printed. A TCP client gets the time and the
-- connection is closed; any UDP datagram is answered with the time. The
-- server stops after `count` answers (0, the default, means no limit) or
-- after `idle` seconds without a request (default 30).
local socket = require("socket")

local host = arg[1] or "127.0.0.1"
local port = tonumber(arg[2] or 0)
local count = tonumber(arg[3] or 0)
local idle = tonumber(arg[4] or 30)

local function daytime()
  return os.date("!%A, %B %d, %Y %H:%M:%S-UTC") .. "\r\n"
end

local tcp = assert(socket.bind(host, port))
local udp = assert(socket.udp())
assert(udp:setsockname(host, port == 0 and 0 or port))
tcp:settimeout(0)                   -- select says when; accept never blocks
udp:settimeout(0)
print(("daytime: tcp port %d, udp port %d"):format(select(2, tcp:getsockname()),
  select(2, udp:getsockname())))
io.stdout:flush()

local answered = 0
while count == 0 or answered < count do
  local readable, _, err = socket.select({ tcp, udp }, nil, idle)
  if err then
    print("daytime: idle for " .. idle .. " s, stopping")
    break
  end
  for _, s in ipairs(readable) do
    if s == tcp then
      local client = tcp:accept()
      if client then
        client:settimeout(5)
        client:send(daytime())
        client:close()
        answered = answered + 1
      end
    else
      local _, ip, rport = udp:receivefrom()
      if ip then
        udp:sendto(daytime(), ip, rport)
        answered = answered + 1
      end
    end
  end
end
print(("daytime: answered %d requests"):format(answered))
tcp:close()
udp:close()
