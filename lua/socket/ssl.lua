-- require("socket.ssl"): LuaSec-compatible TLS over socket.ssl.core (API.md §9).
-- This file holds the defaults (§9.4) and the argument sugar; contexts,
-- connections and certificates are C.
local found, core = pcall(require, "socket.ssl.core")
if not found then
  error("socket.ssl needs its C module socket.ssl.core, which was not built or not installed: "
    .. "install OpenSSL's headers (Debian: apt-get install libssl-dev) and run `make`, or "
    .. "`luarocks make netsocket-ssl-scm-1.rockspec`.\n" .. tostring(core), 2)
end
local socket = require("socket")

local ipairs, pairs, type, error = ipairs, pairs, type, error
local open = io.open

local ssl = {
  _VERSION = "1.3.2",
  _COPYRIGHT = "netsocket TLS, LuaSec-compatible; OpenSSL under its own license",
  _IMPL = socket._IMPL,
  config = core.config,
  loadcertificate = core.loadcertificate,
}

-- Filled into every params table that lacks the key (§9.4). `verify` and
-- `checkhostname` apply to clients only.
ssl.defaults = {
  protocol = "any",
  minprotocol = "tlsv1_2",
  verify = { "peer" },
  checkhostname = true,
  options = { "all", "no_compression" },
}

-- The system CA bundle and directory, as Debian, Fedora, the BSDs and
-- macOS (Homebrew) install them. Not on Windows: its system store is the
-- ROOT store (src/os/win/wssl.c, the default paths), and a rooted path such
-- as /etc/ssl/cert.pem is \etc\ssl\cert.pem on the current drive there,
-- where any user may create it and would choose what every client trusts.
local windows = package.config:sub(1, 1) == "\\"
local function firstfile(list)
  if windows then return nil end
  for _, p in ipairs(list) do
    local f = open(p, "r")
    if f then
      local ok = f:read(0) ~= nil          -- nil for a directory or an empty file
      f:close()
      if ok then return p end
    end
  end
  return nil
end

local cafile = firstfile({
  "/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt",
  "/etc/ssl/ca-bundle.pem", "/etc/ssl/cert.pem", "/usr/local/etc/openssl/cert.pem",
  "/usr/local/share/certs/ca-root-nss.crt",
})
local capath = nil
if not windows then
  local f = open("/etc/ssl/certs/.", "r")
  if f then
    f:close()
    capath = "/etc/ssl/certs"
  end
end

function ssl.getcafile() return cafile end
function ssl.getcapath() return capath end
function ssl.setcafile(path) cafile = path end
function ssl.setcapath(path) capath = path end

local function verifies(v)
  if v == "peer" then return true end
  if type(v) == "table" then
    for _, name in ipairs(v) do
      if name == "peer" then return true end
    end
  end
  return false
end

-- newcontext(params) -> ctx | nil, err
function ssl.newcontext(params)
  if type(params) ~= "table" then
    error("bad argument #1 to 'newcontext' (table expected, got " .. type(params) .. ")", 2)
  end
  local p, d = {}, ssl.defaults
  for k, v in pairs(params) do p[k] = v end
  if p.mode == nil then p.mode = "client" end
  for _, k in ipairs({ "protocol", "minprotocol", "options" }) do
    if p[k] == nil then p[k] = d[k] end
  end
  local usedefaults = false
  if p.mode == "client" then
    if p.verify == nil then p.verify = d.verify end
    if p.checkhostname == nil then p.checkhostname = d.checkhostname end
    if p.cafile == nil and p.capath == nil and verifies(p.verify) then
      -- capath is only a fallback: the bundle already holds the same roots
      p.cafile = cafile
      if not cafile then p.capath = capath end
      usedefaults = p.cafile == nil and p.capath == nil
    end
  end
  return core.newcontext(p, usedefaults)
end

local argcheck = socket._argcheck                 -- raises naming the caller's argument

local function issocket(v) return type(v) == "userdata" or type(v) == "table" end
local function isconfig(v)
  return v == nil or v == true or type(v) == "table" or type(v) == "userdata"
end

-- core.create raises about its own arguments (a userdata that is not a
-- context, an object without getfd/setfd): name the caller's instead. wrap
-- keeps LuaSec's own text for a bad context (API.md §9.1): nctx nil.
local function create(ctx, sock, nctx, fname)
  local ok, conn, err = pcall(core.create, ctx, sock)
  if not ok then
    local msg = tostring(conn)
    if msg:find("invalid context", 1, true) then
      if not nctx then error("bad argument #1 to 'create' (invalid context)", 3) end
      error(("bad argument #%d to '%s' (invalid context)"):format(nctx, fname), 3)
    elseif msg:find("socket expected", 1, true) then
      error(("bad argument #1 to '%s' (socket expected)"):format(fname), 3)
    end
    error(conn, 0)
  end
  return conn, err
end

-- wrap(sock, params|ctx) -> conn | nil, err (no handshake)
function ssl.wrap(sock, cfg)
  argcheck(issocket(sock), 1, "wrap", "socket", sock)
  local ctx = cfg
  if type(cfg) == "table" then
    local err
    ctx, err = ssl.newcontext(cfg)
    if not ctx then return nil, err end
  end
  return create(ctx, sock, nil, "wrap")
end

-- A context for starttls/setssl: params default to `mode` (server for a
-- socket that acceptnossl gave out, or a setssl server).
local function tocontext(params, mode)
  if type(params) ~= "table" then return params end
  if params.mode == nil then
    local p = {}
    for k, v in pairs(params) do p[k] = v end
    p.mode = mode
    params = p
  end
  return ssl.newcontext(params)
end

-- starttls(sock, params|ctx|nil [, timeout]) -> conn | nil, err
function ssl.starttls(sock, params, timeout)
  argcheck(issocket(sock), 1, "starttls", "socket", sock)
  argcheck(isconfig(params), 2, "starttls", "table", params)
  argcheck(timeout == nil or type(timeout) == "number", 3, "starttls", "number", timeout)
  local kept = core.gettls(sock)
  local ctx, err
  if params == nil or params == true then
    ctx = kept
    if ctx == nil then ctx, err = ssl.newcontext({}) end
  else
    ctx, err = tocontext(params, kept and "server" or "client")
  end
  if not ctx then return nil, err end
  local conn
  conn, err = create(ctx, sock, 2, "starttls")
  if not conn then return nil, err end
  local ok
  ok, err = core.handshake(conn, timeout)
  if not ok then
    conn:close()
    return nil, err
  end
  return conn
end

-- connect(host, port [, params|ctx [, timeout]]) -> conn | nil, err
function ssl.connect(host, port, params, timeout)
  argcheck(type(host) == "string", 1, "connect", "string", host)
  argcheck(type(port) == "string" or type(port) == "number", 2, "connect", "string", port)
  argcheck(isconfig(params), 3, "connect", "table", params)
  argcheck(timeout == nil or type(timeout) == "number", 4, "connect", "number", timeout)
  return socket.connect({ host = host, port = port, timeout = timeout, ssl = params or true })
end

-- setssl(server, params|ctx|nil) -> 1 | nil, err
function ssl.setssl(server, params)
  local ctx, err = tocontext(params, "server")
  if params ~= nil and not ctx then return nil, err end
  return core.setssl(server, ctx)
end

socket._FEATURES.ssl = true
return ssl
