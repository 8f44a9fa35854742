-- socket.ftp: FTP client (RFC 959, RFC 2428) with LuaSocket 3.x's API:
-- ftp.get, ftp.put, ftp.command, ftp.open. Passive by default (EPSV, then
-- PASV if the server refuses EPSV); active (PORT/EPRT) with `pasv = false`.
local socket = require("socket")
local url = require("socket.url")
local tp = require("socket.tp")
local ltn12 = require("ltn12")

local setmetatable, type, pairs, ipairs, tonumber, error = setmetatable, type, pairs, ipairs, tonumber, error
local match, gsub, format = string.match, string.gsub, string.format
local concat = table.concat

local ftp = {}
socket.ftp = ftp

ftp.TIMEOUT = 60
ftp.PORT = 21
ftp.USER = "ftp"
ftp.PASSWORD = "anonymous@anonymous.org"

------------------------------------------------------------------------------
-- Sessions: every method raises a socket.try exception on failure, after
-- closing the session (get/put/command turn that into nil, message).

local methods = {}
local metat = { __index = methods }

function ftp.open(server, port, create)
  local t = socket.try(tp.connect(server, port or ftp.PORT, ftp.TIMEOUT, create))
  local f = setmetatable({ tp = t }, metat)
  f.try = socket.newtry(function() f:close() end)
  return f
end

-- Active mode: the server connects back to the listener opened by port/eprt.
function methods:portconnect()
  self.try(self.server:settimeout(ftp.TIMEOUT))
  self.data = self.try(self.server:accept())
  self.try(self.data:settimeout(ftp.TIMEOUT))
  self.server:close()
  self.server = nil
end

function methods:pasvconnect()
  self.data = self.try(socket.tcp())
  self.try(self.data:settimeout(ftp.TIMEOUT))
  self.try(self.data:connect(self.pasvt.address, self.pasvt.port))
end

function methods:login(user, password)
  self.try(self.tp:command("USER", user or ftp.USER))
  local code = self.try(self.tp:check({ "2..", 331 }))
  if code == 331 then
    self.try(self.tp:command("PASS", password or ftp.PASSWORD))
    self.try(self.tp:check("2.."))
  end
  return 1
end

-- The data connection goes to the control connection's peer, whatever
-- address a PASV reply names (no FTP bounce to a third host; curl does the
-- same). 3.x connects to the address in the reply.
local function setpasv(self, port)
  self.pasvt = { address = (self.tp:getpeername()), port = port }
  if self.server then
    self.server:close()
    self.server = nil
  end
  return self.pasvt.address, self.pasvt.port
end

local function validport(p)
  p = tonumber(p)
  return p and p >= 1 and p <= 65535 and p % 1 == 0 and p or nil
end

-- PASV reply "227 ... (h1,h2,h3,h4,p1,p2)".
local function pasvport(reply)
  local a, b, c, d, p1, p2 = match(reply, "(%d+)%D(%d+)%D(%d+)%D(%d+)%D(%d+)%D(%d+)")
  if not a then return nil end
  for _, v in ipairs({ a, b, c, d, p1, p2 }) do
    if tonumber(v) > 255 then return nil end
  end
  return validport(tonumber(p1) * 256 + tonumber(p2))   -- numbers, not strings: 5.3 makes string arithmetic float
end

function methods:pasv()
  self.try(self.tp:command("PASV"))
  local _, reply = self.try(self.tp:check("2.."))
  local port = pasvport(reply)
  self.try(port, reply)
  return setpasv(self, port)
end

-- EPSV reply "229 ... (|||port|)" (RFC 2428: any delimiter, used 4 times).
local function epsvport(reply)
  local _, _, _, port = match(reply, "%((.)(.-)%1(.-)%1(.-)%1%)")
  return validport(port)
end

function methods:epsv()
  self.try(self.tp:command("EPSV"))
  local _, reply = self.try(self.tp:check("229"))
  local port = epsvport(reply)
  self.try(port, "invalid epsv response")
  return setpasv(self, port)
end

-- Listens on the control connection's local address (a fresh port unless
-- given) for the server's data connection.
local function listen(self, address, port)
  self.pasvt = nil
  if self.server then self.server:close() end
  if not address then
    address = self.try(self.tp:getsockname())
    self.server = self.try(socket.bind(address, 0))
    address, port = self.try(self.server:getsockname())
    self.try(self.server:settimeout(ftp.TIMEOUT))
  end
  return address, port
end

-- port([address, port]): PORT h1,h2,h3,h4,p1,p2 (IPv4 only).
function methods:port(address, port)
  address, port = listen(self, address, port)
  local arg = gsub(address, "%.", ",") .. format(",%d,%d", math.floor(port / 256), port % 256)
  self.try(self.tp:command("PORT", arg))
  self.try(self.tp:check("2.."))
  return 1
end

-- eprt(family, [address, port]): EPRT |family|address|port|, family "1"
-- (IPv4) or "2" (IPv6).
function methods:eprt(family, address, port)
  address, port = listen(self, address, port)
  self.try(self.tp:command("EPRT", format("|%s|%s|%d|", family, address, port)))
  self.try(self.tp:check("2.."))
  return 1
end

local function argument(t)
  local a = t.argument or url.unescape((gsub(t.path or "", "^[/\\]", "")))
  if a == "" then return nil end
  return a
end

-- send{path|argument [, command="stor"], source [, step]}: uploads over the
-- data connection set up by pasv/epsv/port/eprt; returns the bytes sent.
function methods:send(sendt)
  self.try(self.pasvt or self.server, "need port or pasv first")
  if self.pasvt then self:pasvconnect() end
  self.try(self.tp:command(sendt.command or "STOR", argument(sendt)))
  local code = self.try(self.tp:check({ "2..", "1.." }))
  if not self.pasvt then self:portconnect() end
  local data = self.data
  local sent = 0
  local snk = socket.sink("keep-open", data)
  local counted = function(chunk, err)
    if chunk then sent = sent + #chunk end
    return snk(chunk, err)
  end
  self.try(ltn12.pump.all(sendt.source, counted, sendt.step or ltn12.pump.step))
  data:close()                  -- end of file for the server
  self.data = nil
  if code < 200 then self.try(self.tp:check("2..")) end
  return sent
end

-- receive{path|argument [, command="retr"], sink [, step]}: downloads into
-- the sink. A command answered at once with 2xx gives the reply text to
-- the sink instead (3.x).
function methods:receive(recvt)
  self.try(self.pasvt or self.server, "need port or pasv first")
  if self.pasvt then self:pasvconnect() end
  self.try(self.tp:command(recvt.command or "RETR", argument(recvt)))
  local code, reply = self.try(self.tp:check({ "1..", "2.." }))
  if code >= 200 and code <= 299 then
    recvt.sink(reply)
    return 1
  end
  if not self.pasvt then self:portconnect() end
  local src = socket.source("until-closed", self.data)
  self.try(ltn12.pump.all(src, recvt.sink, recvt.step or ltn12.pump.step))
  self.try(self.tp:check("2.."))
  self.data:close()
  self.data = nil
  return 1
end

function methods:cwd(dir)
  self.try(self.tp:command("CWD", dir))
  self.try(self.tp:check(250))
  return 1
end

function methods:type(t)
  self.try(self.tp:command("TYPE", t))
  self.try(self.tp:check(200))
  return 1
end

function methods:greet()
  local code = self.try(self.tp:check({ "1..", "2.." }))
  if code < 200 then self.try(self.tp:check("2..")) end
  return 1
end

function methods:quit()
  self.try(self.tp:command("QUIT"))
  self.try(self.tp:check("2.."))
  return 1
end

function methods:close()
  if self.data then self.data:close() end
  if self.server then self.server:close() end
  return self.tp:close()
end

------------------------------------------------------------------------------
-- The simple and generic forms.

local function typeof(params)
  if not params then return nil end
  local t = match(params, "^type=(.)$")
  socket.try(t == "a" or t == "i", "invalid type '" .. (t or params) .. "'")
  return t
end

-- Table fields win over the parts of t.url.
local function override(t)
  if not t.url then return t end
  local u = socket.try(url.parse(t.url))
  for k, v in pairs(t) do u[k] = v end
  if not u.type then u.type = typeof(u.params) end
  return u
end

-- genericform(url): the request table of the string form.
function ftp.genericform(u)
  local t = socket.try(url.parse(u, { path = "/", scheme = "ftp" }))
  socket.try(t.scheme == "ftp", "wrong scheme '" .. tostring(t.scheme) .. "'")
  socket.try(t.host, "missing hostname")
  t.type = typeof(t.params)
  return t
end

-- Opens the data channel: active with pasv == false, else EPSV, falling
-- back to PASV when the server refuses EPSV (5xx).
local function datachannel(f, t)
  if t.pasv == false then
    local _, _, family = f.try(f.tp:getsockname())
    if family == "inet6" then return f:eprt("2") end
    return f:port()
  end
  f.try(f.tp:command("EPSV"))
  local code, reply = f.try(f.tp:check(function(c, r) return c, r end))
  if code == 229 then
    local port = epsvport(reply)
    f.try(port, "invalid epsv response")
    return setpasv(f, port)
  end
  f.try(code >= 500 and code <= 599, reply)
  return f:pasv()
end

local function session(t)
  t = override(t)
  socket.try(t.host, "missing hostname")
  local f = ftp.open(t.host, t.port, t.create)
  f:greet()
  f:login(t.user, t.password)
  if t.type then f:type(t.type) end
  return f, t
end

-- Runs fn(f) on the open session f; a source, sink or step that raises
-- closes the session (control and data connections) too.
local function closing(f, fn)
  local ok, res = socket._pcall(fn, f)
  if not ok then
    f:close()
    error(res, 0)
  end
  return res
end

local function tput(putt)
  local f
  f, putt = session(putt)
  return closing(f, function()
    datachannel(f, putt)
    local sent = f:send(putt)
    f:quit()
    f:close()
    return sent
  end)
end

local function tget(gett)
  local f
  f, gett = session(gett)
  return closing(f, function()
    datachannel(f, gett)
    f:receive(gett)
    f:quit()
    return f:close()
  end)
end

local function argcheck(v, fname)
  local t = type(v)
  if t ~= "string" and t ~= "table" then
    error("bad argument #1 to '" .. fname .. "' (string or table expected, got "
      .. (v == nil and "no value" or t) .. ")", 4)
  end
  return t
end

-- put(url, body) -> bytes sent; put{...} -> bytes sent; or nil, err.
ftp.put = socket.protect(function(putt, body)
  if argcheck(putt, "put") == "string" then
    local t = ftp.genericform(putt)
    t.source = ltn12.source.string(body)
    return tput(t)
  end
  return tput(putt)
end)

-- get(url) -> contents; get{...} -> 1; or nil, err.
ftp.get = socket.protect(function(gett)
  if argcheck(gett, "get") == "string" then
    local t = ftp.genericform(gett)
    local parts = {}
    t.sink = ltn12.sink.table(parts)
    tget(t)
    return concat(parts)
  end
  return tget(gett)
end)

-- command{host|url, command [, argument] [, check]}: one command, or lists
-- of them, on a logged-in session; returns 1 or nil, err.
ftp.command = socket.protect(function(cmdt)
  argcheck(cmdt, "command")
  cmdt = override(cmdt)
  socket.try(cmdt.host, "missing hostname")
  socket.try(cmdt.command, "missing command")
  local f = ftp.open(cmdt.host, cmdt.port, cmdt.create)
  f:greet()
  f:login(cmdt.user, cmdt.password)
  if type(cmdt.command) == "table" then
    local args, checks = cmdt.argument or {}, cmdt.check or {}
    for i, cmd in ipairs(cmdt.command) do
      f.try(f.tp:command(cmd, args[i]))
      if checks[i] then f.try(f.tp:check(checks[i])) end
    end
  else
    f.try(f.tp:command(cmdt.command, cmdt.argument))
    if cmdt.check then f.try(f.tp:check(cmdt.check)) end
  end
  f:quit()
  return f:close()
end)

return ftp
