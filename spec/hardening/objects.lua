-- A fresh live object of each socket class, for the hardening children
-- (wrongtypes_child.lua, useafter_child.lua). `env` gives:
--   path()        a new unix socket path
--   hold(o)       keeps a peer or server alive until the caller releases it
--   client()      a connected tcp{client}
--   closedport    a TCP/UDP port nobody listens on (from closedport() below)
-- makers(env) returns { [class] = function() -> object }.
local socket = require("socket")
local unix = require("socket.unix")

local M = {}

-- A port that was just free: bound, then closed.
M.closedport = require("helper").freeport

function M.makers(env)
  local path, hold = env.path, env.hold
  return {
    ["tcp{master}"] = function() return socket.tcp4() end,
    ["tcp{client}"] = function() return env.client() end,
    ["tcp{server}"] = function() return assert(socket.bind("127.0.0.1", 0)) end,
    ["udp{unconnected}"] = function()
      local u = socket.udp4(); assert(u:setsockname("127.0.0.1", 0)); return u
    end,
    ["udp{connected}"] = function()
      local u = socket.udp4(); assert(u:setpeername("127.0.0.1", env.closedport)); return u
    end,
    ["unixstream{master}"] = function() return unix.stream() end,
    ["unixstream{server}"] = function()
      local s = unix.stream(); assert(s:bind(path())); assert(s:listen(5)); return s
    end,
    ["unixstream{client}"] = function()
      local p = path()
      local s = hold(unix.stream()); assert(s:bind(p)); assert(s:listen(5))
      local c = unix.stream(); assert(c:connect(p)); hold(assert(s:accept()))
      return c
    end,
    ["unixdgram{unconnected}"] = function()
      local d = unix.dgram(); assert(d:bind(path())); return d
    end,
    ["unixdgram{connected}"] = function()
      local p = path()
      local b = hold(unix.dgram()); assert(b:bind(p))
      local d = unix.dgram(); assert(d:connect(p)); return d
    end,
  }
end

return M
