-- concurrent: the echo server that bench/c/loadgen drives (the `co*` and
-- `selectloop*` workloads, and `make soak`). It prints its port, then
-- echoes 64-byte requests on every connection until the load generator
-- stops it (SIGTERM) or LIFETIME seconds have passed.
--   concurrent.lua MODE [NAME [LIFETIME]]
-- MODE: "co"     one socket.co task per client, blocking style (netsocket)
--       "select" one socket.select loop over every client (any library)
--       "copas"  copas over LuaSocket, one copas thread per client
-- A library that cannot serve (LuaSocket's select past FD_SETSIZE) says
-- "UNSUPPORTED NAME why" on stderr and exits 1.
local socket = require("socket")
local MODE = arg[1] or "co"
local NAME = arg[2] or ("concurrent-" .. MODE)
local LIFETIME = tonumber(arg[3]) or 900
local MSG = 64

local server = assert(socket.bind("127.0.0.1", 0, 4096))
io.stdout:write(select(2, server:getsockname()), "\n")
io.stdout:flush()

local function unsupported(why, clients)
  why = tostring(why):gsub("\n.*", ""):gsub("^.-:%d+: ", "")
  io.stderr:write(("UNSUPPORTED %s %s (with %d clients connected)\n"):format(NAME, why, clients))
  os.exit(1)
end

-- One client, blocking style: a socket.co task, or a copas thread.
local function echo(c)
  while true do
    local s = c:receive(MSG)
    if not s then return end
    c:send(s)
  end
end

local serve = {}

function serve.co()
  local co = require("socket.co")
  co.spawn(function()
    server:foreachaccept(function(c)
      c:setoption("tcp-nodelay", true)
      echo(c)
      c:close()
    end)
  end)
  co.run(LIFETIME)
end

-- The classic LuaSocket server: select over the listener and every client,
-- non-blocking receive with the partial result kept as the next prefix.
function serve.select()
  local set, at, partial = { server }, { [server] = 1 }, {}
  server:settimeout(0)
  local function drop(c)
    local i, last = at[c], set[#set]
    set[i], at[last] = last, i
    set[#set], at[c], partial[c] = nil, nil, nil
    c:close()
  end
  local deadline = socket.gettime() + LIFETIME
  while socket.gettime() < deadline do
    local ok, ready = pcall(socket.select, set, nil, 1)
    if not ok then unsupported(ready, #set - 1) end
    for _, s in ipairs(ready) do
      if s == server then
        for _ = 1, 64 do
          local c = server:accept()
          if not c then break end
          c:settimeout(0)
          c:setoption("tcp-nodelay", true)
          set[#set + 1], at[c] = c, #set + 1
        end
      elseif at[s] then
        local data, err, part = s:receive(MSG, partial[s])
        if data then
          partial[s] = nil
          local _, serr, i = s:send(data)
          if serr == "timeout" then                -- 64 bytes: next to never
            s:settimeout(5)
            s:send(data, i + 1)
            s:settimeout(0)
          end
        elseif err == "timeout" then
          partial[s] = part
        else
          drop(s)
        end
      end
    end
  end
end

function serve.copas()
  local copas = require("copas")
  local clients = 0
  copas.addserver(server, function(raw)
    clients = clients + 1
    raw:setoption("tcp-nodelay", true)
    echo(copas.wrap(raw))
    raw:close()
    clients = clients - 1
  end)
  local deadline = socket.gettime() + LIFETIME
  while socket.gettime() < deadline do
    local ok, err = pcall(copas.step, 1)
    if not ok then unsupported(err, clients) end
  end
end

assert(serve[MODE], "concurrent.lua: unknown mode " .. MODE)()
