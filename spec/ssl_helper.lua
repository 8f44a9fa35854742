-- Helpers for the TLS specs: certificates made by the openssl CLI at test
-- time, in-process TLS pairs over loopback, and child processes whose
-- output can be read line by line. Loaded with require("ssl_helper").
local socket = require("socket")
local H = require("helper")
local S = {}

local function q(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end
S.q = q

local function run(dir, cmd)
  local out, ok = H.sh("cd " .. q(dir) .. " && " .. cmd)
  assert(ok, cmd .. "\n" .. out)
  return out
end

local EC = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"

-- Signs name.csr with the CA into name.pem, with `ext` lines as extensions.
local function sign(dir, name, ext, days, serial)
  local f = assert(io.open(dir .. "/" .. name .. ".ext", "w"))
  f:write(ext, "\n")
  f:close()
  run(dir, ("openssl x509 -req -in %s.csr -CA ca.pem -CAkey ca.key -set_serial %d -days %d "
    .. "-extfile %s.ext -out %s.pem 2>&1"):format(name, serial, days, name, name))
end

local function leaf(dir, name, cn, keyopt, ext, days, serial)
  run(dir, ("openssl req -new %s -keyout %s.key -out %s.csr -subj %s 2>&1")
    :format(keyopt, name, name, q("/CN=" .. cn)))
  sign(dir, name, ext, days, serial)
end

-- Makes every certificate the TLS specs use; returns a table of paths
-- plus :cleanup().
--   ca         the test CA (ca.pem, ca.key)
--   server     RSA 2048, SAN DNS:localhost, IP:127.0.0.1, IP:::1
--   expired    like server (EC), expired yesterday
--   wronghost  SAN DNS:wrong.example only
--   client     CN=client, clientAuth
--   selfsigned a self-signed localhost certificate nobody trusts
--   serverenc  server.key encrypted with the password "secret"
--   dh         ffdhe2048 parameters
function S.certs()
  -- Under Wine there is no openssl CLI: make test-windows makes the same
  -- files on the Linux side first (NETSOCKET_CERTS names their directory).
  local made = os.getenv("NETSOCKET_CERTS")
  if made and made ~= "" then return S.certset(made, function() end) end
  local dir = os.tmpname()
  os.remove(dir)
  run("/", "mkdir -p " .. q(dir))
  run(dir, ("openssl req -x509 %s -keyout ca.key -out ca.pem -days 30 -subj '/CN=netsocket test CA' "
    .. "-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign 2>&1"):format(EC))
  local san = "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1\nextendedKeyUsage=serverAuth"
  leaf(dir, "server", "localhost", "-newkey rsa:2048 -nodes", san, 30, 2)
  leaf(dir, "expired", "localhost", EC, san, -1, 3)
  leaf(dir, "wronghost", "wrong.example", EC,
    "subjectAltName=DNS:wrong.example\nextendedKeyUsage=serverAuth", 30, 4)
  leaf(dir, "client", "client", EC, "extendedKeyUsage=clientAuth", 30, 5)
  run(dir, ("openssl req -x509 %s -keyout selfsigned.key -out selfsigned.pem -days 30 "
    .. "-subj /CN=localhost -addext subjectAltName=DNS:localhost,IP:127.0.0.1 2>&1"):format(EC))
  run(dir, "openssl pkey -in server.key -aes256 -passout pass:secret -out serverenc.key 2>&1")
  run(dir, "openssl genpkey -genparam -algorithm DH -pkeyopt group:ffdhe2048 -out dh.pem 2>&1")
  return S.certset(dir, function() H.sh("rm -rf " .. q(dir)) end)
end

-- The table S.certs returns, for the files in dir.
function S.certset(dir, cleanup)
  local c = { dir = dir }
  for _, n in ipairs({ "ca", "server", "expired", "wronghost", "client", "selfsigned" }) do
    c[n] = dir .. "/" .. n .. ".pem"
    c[n .. "key"] = dir .. "/" .. n .. ".key"
  end
  c.serverenckey = dir .. "/serverenc.key"
  c.dh = dir .. "/dh.pem"
  c.cleanup = cleanup
  return c
end

function S.read(path)
  return assert(H.readfile(path), "cannot read " .. path)
end

-- Server params for the test server certificate.
function S.serverparams(c, extra)
  local p = { mode = "server", certificate = c.server, key = c.serverkey }
  for k, v in pairs(extra or {}) do p[k] = v end
  return p
end

-- Client params trusting the test CA.
function S.clientparams(c, extra)
  local p = { mode = "client", cafile = c.ca }
  for k, v in pairs(extra or {}) do p[k] = v end
  return p
end

-- A connected TCP pair: the client connected to `host` (default
-- "localhost", so the host remembered for TLS is a name).
function S.tcppair(host)
  local srv = assert(socket.bind("127.0.0.1", 0))
  local _, port = srv:getsockname()
  local c = assert(socket.connect(host or "localhost", port))
  srv:settimeout(5)
  local p = assert(srv:accept())
  srv:close()
  return c, p
end

-- Drives both handshakes in this process (non-blocking, select between
-- steps, bounded). Returns cerr, perr: nil where that side succeeded.
function S.handshake(cc, pp)
  cc:settimeout(0)
  pp:settimeout(0)
  local cdone, pdone, cerr, perr
  local deadline
  for _ = 1, 400 do
    if not (cdone or cerr) then
      local ok, e = cc:dohandshake()
      if ok then cdone = true elseif e ~= "wantread" and e ~= "wantwrite" then cerr = e end
    end
    if not (pdone or perr) then
      local ok, e = pp:dohandshake()
      if ok then pdone = true elseif e ~= "wantread" and e ~= "wantwrite" then perr = e end
    end
    if (cdone or cerr) and (pdone or perr) then break end
    -- once one side has failed, give the other one a moment to see it
    if (cerr or perr) then
      deadline = deadline or socket.gettime() + 0.5
      if socket.gettime() > deadline then break end
    end
    socket.select({ cc, pp }, nil, 0.05)
  end
  cc:settimeout(5)
  pp:settimeout(5)
  return cerr, perr
end

-- A TLS pair in this process: client conn, server conn, client error,
-- server error. `host` is what the client connects to.
function S.tlspair(sparams, cparams, host)
  local ssl = require("socket.ssl")
  local c, p = S.tcppair(host)
  local cc = assert(ssl.wrap(c, cparams))
  local pp = assert(ssl.wrap(p, sparams))
  local cerr, perr = S.handshake(cc, pp)
  return cc, pp, cerr, perr
end

-- Runs shell `cmd` in the background with its stdout+stderr readable
-- line by line; the first line it prints is its PID (`exec` keeps it).
-- Returns {pid=, line=fn, rest=fn, kill=fn}.
function S.spawn(cmd)
  local p = assert(io.popen("exec sh -c " .. q("echo $$; exec " .. cmd .. " 2>&1"), "r"))
  local pid = tonumber(p:read("l"))
  local h = { pid = pid }
  function h.line() return p:read("l") end
  -- reads until the process ends; returns everything and closes the pipe
  function h.rest()
    local out = p:read("a")
    p:close()
    return out
  end
  function h.kill() H.sh("kill " .. pid .. " 2>/dev/null") end
  return h
end

-- A Lua child with our modules (same LUA_PATH/LUA_CPATH), started like
-- H.child but readable line by line: spawnlua(code, args...).
function S.spawnlua(code, ...)
  local args = {}
  for i, a in ipairs({ ... }) do args[i] = string.format("%q", tostring(a)) end
  local script = os.tmpname()
  local f = assert(io.open(script, "w"))
  f:write("local socket = require('socket')\nlocal ssl = require('socket.ssl')\nlocal arg = {",
    table.concat(args, ","), "}\nio.stdout:setvbuf('line')\n", code)
  f:close()
  local h
  if H.WINDOWS then       -- cmd.exe: no sh, no PID to kill (the children end themselves)
    local p = assert(io.popen(H.cmdline(H.quote(H.LUA) .. " " .. H.quote(script) .. " 2>&1"), "r"))
    h = { line = function() return p:read("l") end, kill = function() end }
    function h.rest()
      local out = p:read("a")
      p:close()
      return out
    end
  else
    h = S.spawn("timeout 60 " .. H.LUA .. " " .. q(script))
  end
  local rest = h.rest
  function h.rest()
    local out = rest()
    os.remove(script)
    return out
  end
  -- The captures of the first line matching `pattern`, skipping stray
  -- lines (a loaded Wine prints its own on the merged stderr); fails with
  -- everything the child said when no line matches.
  function h.expect(pattern)
    local seen = {}
    for _ = 1, 50 do
      local l = h.line()
      if not l then break end
      if l:match(pattern) then return l:match(pattern) end
      seen[#seen + 1] = l
    end
    error("child printed no line like " .. pattern .. ":\n" .. table.concat(seen, "\n")
      .. "\n" .. tostring(h.rest()), 2)
  end
  return h
end

-- The start of a S.spawnlua child that serves one TLS client: it prints
-- its port, accepts, and leaves the handshaken server conn in `conn`
-- (certificate arg[1], key arg[2]); the caller appends what follows.
S.ONECLIENT = [[
local srv = assert(socket.bind("127.0.0.1", 0))
local _, port = srv:getsockname()
print(port)
srv:settimeout(20)
local conn = assert(ssl.wrap(assert(srv:accept()), { mode = "server", certificate = arg[1], key = arg[2] }))
conn:settimeout(20)
assert(conn:dohandshake())
]]

-- Reads up to n bytes from sock in pieces (stops at an error); returns
-- what it read.
function S.drain(sock, n)
  local parts, got = {}, 0
  while got < n do
    local d, err, part = sock:receive(math.min(65536, n - got))
    d = d or part
    parts[#parts + 1] = d
    got = got + #d
    if err then break end
  end
  return table.concat(parts)
end

-- Deterministic test data: n bytes from seed, the same in every process.
function S.data(n, seed)
  local parts, x = {}, seed or 1
  local block = {}
  for i = 1, 4096 do
    x = (x * 1103515245 + 12345) % 2147483648
    block[i] = string.char(x % 256)
  end
  block = table.concat(block)
  -- each block starts with its number, so reordered blocks are caught too
  local whole = math.floor(n / #block)
  for i = 1, whole do parts[i] = ("%08d"):format(i) .. block:sub(9) end
  parts[#parts + 1] = (("%08d"):format(whole + 1) .. block:sub(9)):sub(1, n - whole * #block)
  return table.concat(parts)
end

return S
