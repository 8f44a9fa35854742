-- Shared by the workload scripts. Each script runs against whatever
-- require("socket") finds (LUA_CPATH/LUA_PATH pick netsocket or LuaSocket),
-- starts its peer (bench/c/peer.c, built by `make bench`) as a child
-- process, and prints one line: "RESULT <workload> <units> <seconds>".
local B = {}

B.dir = arg and arg[0] and arg[0]:match("^(.*/)") or "./"
B.bin = os.getenv("BENCH_BIN") or (B.dir .. "../build/bench")
B.scale = tonumber(os.getenv("BENCH_SCALE") or "") or 1

-- A size fixed by the script, shrunk in quick mode.
function B.n(base)
  return math.max(1, math.floor(base * B.scale))
end

-- Starts the peer (bench/c/peer.c, or `prog`: tls_peer); returns a handle for B.wait.
function B.peer(mode, port, a, b, prog)
  local cmd = string.format("exec '%s/%s' %s %d %d %d", B.bin, prog or "peer", mode, port, a, b or 1)
  return assert(io.popen(cmd, "r"))
end

function B.wait(h)
  local ok, how, code = h:close()
  if not ok then error("peer failed: " .. tostring(how) .. " " .. tostring(code)) end
end

-- A listening TCP socket on 127.0.0.1 and its port.
function B.listen(socket)
  local srv = assert(socket.bind("127.0.0.1", 0))
  local _, port = srv:getsockname()
  return srv, tonumber(port)
end

function B.result(name, units, secs)
  io.write(string.format("RESULT %s %.0f %.6f\n", name, units, secs))
end

-- The timed part of bulk and tls_bulk: N sends of 64 KiB on connection c,
-- then N receive(65536) of what the peer sends back; returns the seconds.
function B.bulk(socket, c, N)
  local data = string.rep("x", 65536)
  local t0 = socket.gettime()
  for _ = 1, N do assert(c:send(data)) end
  for _ = 1, N do
    local s, err = c:receive(65536)
    if not s then error(err) end
  end
  return socket.gettime() - t0
end

-- The TLS library under test and a server context with the settings of
-- bench/c/tls.h: netsocket's socket.ssl, or LuaSec's ssl (BENCH_TLS names
-- the module; by default socket.ssl where it exists). The certificate is
-- the one in $BENCH_CERTS (bench/run.lua makes it; B.certs() by hand).
-- package.searchpath, which Lua 5.1 and LuaJIT lack.
function B.searchpath(name, path)
  name = name:gsub("%.", "/")
  for pat in path:gmatch("[^;]+") do
    local file = pat:gsub("%?", name)
    local f = io.open(file)
    if f then f:close() return file end
  end
end

function B.tls()
  local name = os.getenv("BENCH_TLS")
  if not name then
    name = B.searchpath("socket.ssl", package.path) and "socket.ssl" or "ssl"
  end
  local ssl = require(name)
  local dir = assert(os.getenv("BENCH_CERTS"), "BENCH_CERTS is not set")
  local ctx = assert(ssl.newcontext({
    mode = "server", protocol = "tlsv1_3",
    certificate = dir .. "/server.pem", key = dir .. "/server.key",
    ciphersuites = "TLS_AES_128_GCM_SHA256", curveslist = "X25519",
    options = { "all", "no_compression" }, verify = "none",
  }))
  return ssl, ctx
end

-- Makes the ECDSA P-256 certificate of the TLS workloads in a new temp
-- dir; returns the dir (remove it with B.rmcerts).
function B.certs()
  local dir = os.tmpname()
  os.remove(dir)
  local cmd = ("mkdir -p '%s' && cd '%s' && openssl req -x509 -newkey ec "
    .. "-pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout server.key -out server.pem "
    .. "-days 2 -subj /CN=localhost -addext subjectAltName=DNS:localhost,IP:127.0.0.1 2>&1")
    :format(dir, dir)
  local h = io.popen(cmd)
  local out = h:read("*a")
  assert(h:close(), "openssl req failed: " .. out)
  return dir
end

function B.rmcerts(dir)
  if dir and dir:match("^/tmp/") then
    os.remove(dir .. "/server.pem")
    os.remove(dir .. "/server.key")
    os.remove(dir)
  end
end

-- Which socket.core was loaded (for the driver's sanity check).
function B.which()
  return B.searchpath("socket.core", package.cpath) or "?"
end

return B
