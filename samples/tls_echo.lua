-- A TLS line echo server and client.
--   lua5.4 samples/tls_echo.lua server [host [port [idle]]]
--   lua5.4 samples/tls_echo.lua client host port [line ...]
-- The first run makes a throwaway self-signed certificate for localhost and
-- 127.0.0.1 with the openssl command-line tool, in $TLS_ECHO_DIR (default
-- $TMPDIR/netsocket-tls-echo). The server presents it; the client trusts
-- exactly that certificate, with verification and host-name checks on, as
-- socket.ssl does by default. "quit" stops the server; it also stops by
-- itself after `idle` seconds (default 30) without a client.
local socket = require("socket")
local unpack = table.unpack or _G.unpack   -- (Lua 5.1 and LuaJIT: the global)
local ssl = require("socket.ssl")

local dir = os.getenv("TLS_ECHO_DIR") or ((os.getenv("TMPDIR") or "/tmp") .. "/netsocket-tls-echo")
local cert, key = dir .. "/cert.pem", dir .. "/key.pem"

local function exists(path)
  local f = io.open(path, "r")
  if f then f:close() end
  return f ~= nil
end

local function throwaway()
  if exists(cert) and exists(key) then return end
  local cmd = ("mkdir -p '%s' && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 "
    .. "-nodes -days 30 -subj /CN=localhost -addext subjectAltName=DNS:localhost,IP:127.0.0.1 "
    .. "-keyout '%s' -out '%s' 2>/dev/null"):format(dir, key, cert)
  assert(os.execute(cmd), "could not make a certificate with the openssl tool")
  print("tls_echo: made a throwaway certificate in " .. dir)
end

local function server(host, port, idle)
  throwaway()
  local srv = assert(socket.bind({ host = host, port = port,
    ssl = { mode = "server", certificate = cert, key = key } }))
  local ip, bound = srv:getsockname()
  print(("server: listening on %s port %d (TLS)"):format(ip, bound))
  io.stdout:flush()
  srv:settimeout(idle)        -- also bounds each client's handshake
  local running = true
  while running do
    local conn, err = srv:accept()
    if not conn and err == "timeout" then
      print("server: idle, stopping")
      break
    elseif not conn then
      print("server: handshake failed (" .. err .. ")")
    else
      print(("server: client connected, %s %s"):format(conn:info("protocol"), conn:info("cipher")))
      conn:settimeout(idle)
      while true do
        local line, rerr = conn:receive("*l")
        if not line then
          print("server: client gone (" .. rerr .. ")")
          break
        end
        if line == "quit" then
          conn:send("bye\n")
          running = false
          break
        end
        conn:send(line .. "\n")
      end
      conn:close()
    end
    io.stdout:flush()
  end
  srv:close()
  print("server: closed")
end

local function client(host, port, lines)
  throwaway()
  local conn = assert(ssl.connect(host, port, { cafile = cert }, 10))
  conn:settimeout(10)
  local function exchange(line)
    assert(conn:send(line .. "\n"))
    local reply, err = conn:receive("*l")
    print(("client: sent %q, got %s"):format(line, reply and ("%q"):format(reply) or err))
  end
  if #lines > 0 then
    for _, l in ipairs(lines) do exchange(l) end
  else
    for l in io.lines() do exchange(l) end
  end
  conn:close()
end

local mode = arg[1]
if mode == "server" then
  server(arg[2] or "127.0.0.1", tonumber(arg[3] or 0), tonumber(arg[4] or 30))
elseif mode == "client" and arg[2] and tonumber(arg[3]) then
  client(arg[2], tonumber(arg[3]), { unpack(arg, 4) })
else
  io.stderr:write("usage: tls_echo.lua server [host [port [idle]]]\n"
    .. "       tls_echo.lua client host port [line ...]\n")
  os.exit(2)
end
