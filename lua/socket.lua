-- The Lua half of require("socket"): helpers over socket.core (API.md §1, §2, §8).
-- require("socket") returns the very table of require("socket.core").
local socket = require("socket.core")

local ipairs, setmetatable, type, tostring, error = ipairs, setmetatable, type, tostring, error
local min = math.min

socket.BLOCKSIZE = 2048
socket.try = socket.newtry()

-- socket._pcall(f, ...): pcall, except that in a socket.co task its waits
-- yield on every Lua: co.pcall (PUC Lua 5.1's own pcall cannot yield). A
-- task exists only once socket.co is loaded. http, smtp and ftp run their
-- sessions under it, so that they run concurrently in tasks on 5.1 too.
local pcall, loaded = pcall, package.loaded
function socket._pcall(f, ...)
  local co = loaded["socket.co"]
  if type(co) == "table" and co.pcall then return co.pcall(f, ...) end
  return pcall(f, ...)
end

-- package.searchpath (Lua 5.1 has none): whether a file for name is on path.
local searchpath = package.searchpath or function(name, path)
  local file = name:gsub("%.", "/")
  for template in path:gmatch("[^;]+") do
    local f = io.open((template:gsub("%?", file)), "r")
    if f then
      f:close()
      return template
    end
  end
  return nil
end

-- TLS is a library of its own (socket.ssl.core, the netsocket-ssl rock):
-- it is in the build when require can find both of its halves.
socket._FEATURES.ssl = socket._FEATURES.ssl
  or (searchpath("socket.ssl.core", package.cpath) ~= nil
      and searchpath("socket.ssl", package.path) ~= nil)

function socket.connect4(address, port, laddress, lport)
  return socket.connect(address, port, laddress, lport, "inet")
end

function socket.connect6(address, port, laddress, lport)
  return socket.connect(address, port, laddress, lport, "inet6")
end

-- choose(t)(name, a, b): calls t[name](a, b); a non-string name means "default".
function socket.choose(t)
  return function(name, opt1, opt2)
    if type(name) ~= "string" then
      name, opt1, opt2 = "default", name, opt1
    end
    local f = t[name or "nil"]
    if not f then error("unknown key (" .. tostring(name) .. ")", 3) end
    return f(opt1, opt2)
  end
end

-- Misuse raises naming the caller's argument, as the C functions do.
local function argcheck(ok, n, fname, expected, v)
  if not ok then
    error(("bad argument #%d to '%s' (%s expected, got %s)"):format(n, fname, expected,
      v == nil and "no value" or type(v)), 3)
  end
end
socket._argcheck = argcheck                       -- for socket.pipe and socket.ssl

local families = { unspec = true, inet = true, inet6 = true }

-- Tries every address of host in turn: tcp4/tcp6, options, bind, listen.
local function bindany(host, port, backlog, family, reuseaddr, reuseport)
  local addrs, err = socket.dns.getaddrinfo(host)
  if not addrs then return nil, err end
  err = "no info on address"
  for _, alt in ipairs(addrs) do
    if family == "unspec" or family == alt.family then
      local sock, res
      sock, err = (alt.family == "inet" and socket.tcp4 or socket.tcp6)()
      if not sock then return nil, err end
      if reuseaddr then sock:setoption("reuseaddr", true) end
      if reuseport then
        res, err = sock:setoption("reuseport", true)
        if not res then sock:close() return nil, err end
      end
      res, err = sock:bind(alt.addr, port)
      if res then res, err = sock:listen(backlog) end
      if res then return sock end
      sock:close()
    end
  end
  return nil, err
end

-- bind{host="*", port=, backlog=32, family=, reuseaddr=true, reuseport=false}
local function bindtable(t)
  local family = t.family or "unspec"
  if not families[family] then
    error("bad argument #1 to 'bind' (invalid family '" .. tostring(family) .. "')", 3)
  end
  if t.port == nil then error("bad argument #1 to 'bind' (field 'port' missing)", 3) end
  if t.ssl ~= nil and not pcall(require, "socket.ssl") then return nil, "ssl not available" end
  local host = t.host or "*"
  if host == "*" then host = family == "inet6" and "::" or "0.0.0.0" end
  local server, err = bindany(host, t.port, t.backlog or 32, family, t.reuseaddr ~= false,
    t.reuseport == true)
  if server and t.ssl ~= nil then          -- ssl = params | ctx: server:setssl (§12.1)
    local ok
    ok, err = server:setssl(t.ssl)
    if not ok then
      server:close()
      return nil, err
    end
  end
  if not server then return nil, err end
  return server
end

function socket.bind(host, port, backlog)
  if type(host) == "table" then return bindtable(host) end
  argcheck(type(host) == "string", 1, "bind", "string", host)
  argcheck(type(port) == "string" or type(port) == "number", 2, "bind", "string", port)
  argcheck(backlog == nil or type(backlog) == "number", 3, "bind", "number", backlog)
  if host == "*" then host = "0.0.0.0" end
  return bindany(host, port, backlog or 32, "unspec", true, false)
end

-- Sinks and sources are callable tables that select() understands.
local function wrapper(sock, call)
  return setmetatable({
    getfd = function() return sock:getfd() end,
    dirty = function() return sock:dirty() end,
  }, { __call = call })
end

socket.sinkt = {}

socket.sinkt["close-when-done"] = function(sock)
  return wrapper(sock, function(_, chunk)
    if not chunk then
      sock:close()
      return 1
    end
    return sock:send(chunk)
  end)
end

socket.sinkt["keep-open"] = function(sock)
  return wrapper(sock, function(_, chunk)
    if not chunk then return 1 end
    return sock:send(chunk)
  end)
end

socket.sinkt["default"] = socket.sinkt["keep-open"]
socket.sink = socket.choose(socket.sinkt)

socket.sourcet = {}

socket.sourcet["by-length"] = function(sock, length)
  return wrapper(sock, function()
    if length <= 0 then return nil end
    local chunk, err = sock:receive(min(socket.BLOCKSIZE, length))
    if err then return nil, err end
    length = length - #chunk
    return chunk
  end)
end

socket.sourcet["until-closed"] = function(sock)
  local done = false
  return wrapper(sock, function()
    if done then return nil end
    local chunk, err, partial = sock:receive(socket.BLOCKSIZE)
    if not err then return chunk end
    if err == "closed" then
      sock:close()
      done = true
      return partial
    end
    return nil, err
  end)
end

socket.sourcet["default"] = socket.sourcet["until-closed"]
socket.source = socket.choose(socket.sourcet)

return socket
