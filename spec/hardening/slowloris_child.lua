-- Child process of slowloris_spec.lua (not a spec itself): the attackers
-- and the real clients of a TLS server on 127.0.0.1.
--   lua slowloris_child.lua <port> <rounds of 3 loris> <real clients> <seconds the loris stay>
-- First the loris connect, three kinds per round: one that sends nothing,
-- one that sends half a ClientHello and stops, one that sends a ClientHello
-- one byte per second. 0.2 s later the real clients connect one after the
-- other, each doing a full handshake and one request ("ping" -> "PING").
-- Output, one line per real client: REAL <i> <ok|error> <seconds from its
-- connect to its answer>; per loris when it ends: LORIS <kind> <what the
-- server did>; and at the end: END.
local socket = require("socket")
local co = require("socket.co")
local ssl = require("socket.ssl")
io.stdout:setvbuf("line")

local port, rounds, nreal, stay = tonumber(arg[1]), tonumber(arg[2]), tonumber(arg[3]), tonumber(arg[4])

-- A real ClientHello: a client conn on a local pair writes it to the peer.
local function clienthello()
  local srv = assert(socket.bind("127.0.0.1", 0))
  local c = assert(socket.connect("127.0.0.1", select(2, srv:getsockname()), nil, nil, "inet"))
  local p = assert(srv:accept())
  srv:close()
  local conn = assert(ssl.wrap(c, { mode = "client", verify = "none" }))
  conn:settimeout(0)
  conn:dohandshake()
  local hello = assert(p:receivesome(65536, 2))
  conn:close()
  p:close()
  return hello
end
local HELLO = clienthello()

-- After its attack a loris waits (bounded) to see what the server did.
local function outcome(c, kind)
  c:settimeout(stay)
  local _, err = c:receive("*a")
  print(("LORIS %s %s"):format(kind, err == "closed" and "closed" or tostring(err)))
  c:close()
end

local loris = {
  silent = function(c) return c end,
  half = function(c) c:send(HELLO:sub(1, math.floor(#HELLO / 2))) return c end,
  drip = function(c)
    c:settimeout(0)
    for i = 1, math.min(#HELLO, math.floor(stay)) do
      if not c:send(HELLO:sub(i, i)) then return c end
      socket.sleep(1)
    end
    return c
  end,
}

for _ = 1, rounds do
  for _, kind in ipairs({ "silent", "half", "drip" }) do
    local c = assert(socket.connect("127.0.0.1", port))
    co.spawn(function() outcome(loris[kind](c), kind) end)
  end
end

co.spawn(function()
  socket.sleep(0.2)
  for i = 1, nreal do
    local t0 = socket.gettime()
    local conn, err = ssl.connect("127.0.0.1", port, { verify = "none" }, 20)
    local got
    if conn then
      conn:settimeout(20)
      conn:send("ping\n")
      got, err = conn:receive()
      conn:close()
    end
    print(("REAL %d %s %.3f"):format(i, got == "PING" and "ok" or tostring(err), socket.gettime() - t0))
  end
end)

print("STARTED")
local ok, err = co.run(stay + 40)
print("END " .. tostring(ok) .. " " .. tostring(err))
