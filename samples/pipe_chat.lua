-- A named-pipe chat: every line a client sends goes to every other client.
--
--   lua5.4 samples/pipe_chat.lua server <name> [idle]
--   lua5.4 samples/pipe_chat.lua client <name> [line ...]
--
-- <name> is a socket file path, or "@name" for a Linux abstract name (see
-- socket.pipe, API.md §10.2).
--
-- server: listens on <name> and prints "ready <name>". Each line a client
--   sends is relayed, byte for byte ("\r" and "\n" included), to every other
--   connected client. The server stops by itself after `idle` seconds
--   (default 30) without any client, or when a client sends the line
--   "/quit-server". It removes its socket file when it stops.
-- client: connects, sends the given lines, then prints what it receives until
--   the server has been silent for 2 seconds (or goes away), and exits.
--
-- Try it from the repository root, after `make`, in three terminals:
--   export LUA_PATH="$PWD/lua/?.lua;;" LUA_CPATH="$PWD/build/?.so;;"
--   lua5.4 samples/pipe_chat.lua server /tmp/chat.sock
--   lua5.4 samples/pipe_chat.lua client /tmp/chat.sock           # waits 2 s for lines
--   lua5.4 samples/pipe_chat.lua client /tmp/chat.sock hi there  # the first prints them
--   lua5.4 samples/pipe_chat.lua client /tmp/chat.sock /quit-server
local socket = require("socket")
local unpack = table.unpack or _G.unpack   -- (Lua 5.1 and LuaJIT: the global)
local pipe = require("socket.pipe")

local function usage()
  io.stderr:write("usage: lua5.4 pipe_chat.lua server <name> [idle]\n",
                  "       lua5.4 pipe_chat.lua client <name> [line ...]\n")
  os.exit(2)
end

local function serve(name, idle)
  local server, err = pipe.bind(name)
  if not server then
    io.stderr:write("server: ", err, "\n")
    os.exit(1)
  end
  server:settimeout(0)
  print("ready " .. name)
  io.stdout:flush()

  local clients = {}   -- connected clients, in arrival order
  local pending = {}   -- client -> the start of a line not yet complete

  local function drop(c)
    for i = #clients, 1, -1 do
      if clients[i] == c then table.remove(clients, i) end
    end
    pending[c] = nil
    c:close()
  end

  local function relay(from, line)
    for _, c in ipairs({ unpack(clients) }) do
      if c ~= from then
        c:settimeout(5)                 -- a client that does not read is dropped
        local ok = c:send(line)
        c:settimeout(0)
        if not ok then drop(c) end
      end
    end
  end

  local lastclient = socket.gettime()
  local running = true
  while running do
    local readable = socket.select({ server, unpack(clients) }, nil, math.min(idle, 0.5))
    -- Newcomers first: a line read in this round then reaches them too.
    if readable[server] then
      for _ = 1, 64 do
        local c = server:accept()
        if not c then break end
        c:settimeout(0)
        clients[#clients + 1] = c
        pending[c] = ""
      end
    end
    for _, c in ipairs({ unpack(clients) }) do
      if readable[c] and pending[c] then
        -- every complete line that has arrived; keep the rest for later
        for _ = 1, 1000 do
          local line, rerr, partial = c:receive("*L", pending[c])
          if line then
            pending[c] = ""
            if line:gsub("\r?\n$", "") == "/quit-server" then
              running = false
              break
            end
            relay(c, line)
          elseif rerr == "timeout" then
            pending[c] = partial
            break
          else                          -- "closed": pass on an unfinished last line
            if partial ~= "" then relay(c, partial) end
            drop(c)
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
      print("idle for " .. idle .. " s")
      running = false
    end
  end

  for _, c in ipairs({ unpack(clients) }) do drop(c) end
  server:close()                        -- also removes the socket file
  print("bye")
end

local function client(name, lines)
  local c, err = pipe.connect(name, 5)
  if not c then
    io.stderr:write("client: ", err, "\n")
    os.exit(1)
  end
  for _, line in ipairs(lines) do
    local ok, serr = c:send(line .. "\n")
    if not ok then
      io.stderr:write("client: ", serr, "\n")
      os.exit(1)
    end
  end
  c:settimeout(2)
  local deadline = socket.gettime() + 300
  while socket.gettime() < deadline do
    local line = c:receive("*L")
    if not line then break end          -- silent for 2 s, or the server went away
    io.write(line)
    io.flush()
  end
  c:close()
end

local mode, name = arg[1], arg[2]
if not name then usage() end
if mode == "server" then
  local idle = tonumber(arg[3] or 30)
  if not idle then usage() end
  serve(name, idle)
elseif mode == "client" then
  client(name, { unpack(arg, 3) })
else
  usage()
end
