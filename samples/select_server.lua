-- A select()-based line server: one process, one thread, many clients at
-- once. No client can hold up the others: the server reads only what
-- socket.select says has arrived, and keeps each client's unfinished line
-- until the rest comes.
--
--   lua5.4 samples/select_server.lua [host [port [idle]]]
--
-- host  defaults to 127.0.0.1.
-- port  defaults to 0: the OS picks one. The first line printed is
--       "select_server: listening on HOST port N".
-- idle  seconds (default 30): the server stops by itself once it has had no
--       client for that long.
--
-- What a client sends, line by line:
--   any line     answered with "echo: " and the line
--   /who         answered with "clients: N", the number connected now
--   /quit        answered with "bye"; the server closes that connection
--   /shutdown    answered with "bye"; the server closes every connection,
--                prints "select_server: stopped (shutdown), served N clients"
--                and exits 0 (after `idle` seconds alone: "stopped (idle)")
-- Try it with `nc 127.0.0.1 N` from several terminals at once.
local socket = require("socket")
local unpack = table.unpack or _G.unpack   -- (Lua 5.1 and LuaJIT: the global)

local host = arg[1] or "127.0.0.1"
local port = tonumber(arg[2] or 0)
local idle = tonumber(arg[3] or 30)
if not port or not idle or idle <= 0 then
  io.stderr:write("usage: lua5.4 samples/select_server.lua [host [port [idle-seconds]]]\n")
  os.exit(2)
end

local server = assert(socket.bind(host, port, 64))
local ip, bound = server:getsockname()
server:settimeout(0)                    -- select says when; accept never blocks
print(("select_server: listening on %s port %d"):format(ip, bound))
io.stdout:flush()

local clients = {}                      -- connected clients, in arrival order
local state = {}                        -- client -> { n = number, partial = unfinished line }
local served = 0

local function log(fmt, ...)
  print(("select_server: " .. fmt):format(...))
  io.stdout:flush()
end

local function drop(c, why)
  for i = #clients, 1, -1 do
    if clients[i] == c then table.remove(clients, i) end
  end
  log("client %d gone (%s), %d connected", state[c].n, why, #clients)
  state[c] = nil
  c:close()
end

-- Sends one reply. A client that does not read its replies for 5 seconds
-- is dropped rather than allowed to stall everyone else.
local function reply(c, text)
  c:settimeout(5)
  local ok, err = c:send(text .. "\n")
  c:settimeout(0)
  if not ok then drop(c, err) end
  return ok
end

-- Handles one complete line; returns false to stop the server.
local function handle(c, line)
  if line == "/who" then
    reply(c, "clients: " .. #clients)
  elseif line == "/quit" then
    if reply(c, "bye") then drop(c, "quit") end
  elseif line == "/shutdown" then
    reply(c, "bye")
    return false
  else
    reply(c, "echo: " .. line)
  end
  return true
end

local why, lastclient = "idle", socket.gettime()
local running = true
while running do
  local readable = socket.select({ server, unpack(clients) }, nil, math.min(idle, 1))
  if readable[server] then
    for _ = 1, 64 do                    -- everyone waiting, a bounded number
      local c = server:accept()
      if not c then break end
      c:settimeout(0)
      served = served + 1
      clients[#clients + 1] = c
      state[c] = { n = served, partial = "" }
      local peer, peerport = c:getpeername()
      log("client %d connected from %s:%d, %d connected", served, peer, peerport, #clients)
    end
  end
  for _, c in ipairs({ unpack(clients) }) do
    if readable[c] and state[c] then
      -- every complete line that has arrived; keep the rest for later
      for _ = 1, 1000 do
        local line, err, partial = c:receive("*l", state[c].partial)
        if line then
          state[c].partial = ""
          running = handle(c, line)
          if not running then why = "shutdown" break end
          if not state[c] then break end          -- /quit, or a failed reply
        elseif err == "timeout" and #partial > 65536 then
          drop(c, "line too long")
          break
        elseif err == "timeout" then
          state[c].partial = partial
          break
        else
          drop(c, err)                            -- "closed" and the like
          break
        end
      end
      if not running then break end
    end
  end
  local now = socket.gettime()
  if #clients > 0 then
    lastclient = now
  elseif now - lastclient >= idle then
    running = false
  end
end

for _, c in ipairs({ unpack(clients) }) do drop(c, why) end
server:close()
log("stopped (%s), served %d clients", why, served)
