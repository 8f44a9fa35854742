-- socket.pipe: named pipes over unix stream sockets (API.md §10.2).
-- "@name" is the Linux abstract name "\0name"; any other name is a path.
-- Where socket.winpipe loads (Windows), they are real Windows named pipes
-- (\\.\pipe\<name>) instead: see the end of this file and doc/windows.md.
local socket = require("socket")
local haswin, winpipe = pcall(require, "socket.winpipe")
local unix = require("socket.unix")

local pipe = {}

local argcheck = socket._argcheck                 -- raises naming the caller's argument

local function address(name, fname)
  if type(name) ~= "string" then
    error(("bad argument #1 to '%s' (string expected, got %s)"):format(fname, type(name)), 3)
  end
  if name:sub(1, 1) == "@" then
    if not socket._FEATURES.abstract then return nil, "abstract namespace not supported" end
    return "\0" .. name:sub(2), true
  end
  return name, false
end

-- bind(name [, backlog=32]) -> unixstream{server} | nil, err. A stale socket
-- file (nothing accepts on it) is removed and the bind retried.
function pipe.bind(name, backlog)
  local path, abstract = address(name, "bind")
  argcheck(backlog == nil or type(backlog) == "number", 2, "bind", "number", backlog)
  if not path then return nil, abstract end
  local server, err = unix.stream()
  if not server then return nil, err end
  local ok
  ok, err = server:bind(path)
  if not ok and err == "address already in use" and not abstract and unix._removestale(path) then
    ok, err = server:bind(path)
  end
  if ok then ok, err = server:listen(backlog or 32) end
  if not ok then
    server:close()
    return nil, err
  end
  unix._unlinkonclose(server)
  return server
end

-- connect(name [, timeout]) -> unixstream{client} (timeouts -1,-1) | nil, err.
-- `timeout` (seconds) bounds the connect only; nil blocks.
function pipe.connect(name, timeout)
  local path, abstract = address(name, "connect")
  argcheck(timeout == nil or type(timeout) == "number", 2, "connect", "number", timeout)
  if not path then return nil, abstract end
  local client, err = unix.stream()
  if not client then return nil, err end
  if timeout ~= nil then client:settimeout(timeout) end
  local ok
  ok, err = client:connect(path)
  if not ok then
    client:close()
    return nil, err
  end
  client:settimeout(-1)
  return client
end

-- Windows: the pipe is \\.\pipe\<name> ("@name" and "name" alike); the
-- objects are loopback stream sockets bridged to it in C (src/os/win/wpipe.c),
-- so every stream method, socket.select and socket.co work on them.
if haswin then
  local server = {}
  server.__index = server

  local function checkname(name, fname)
    if type(name) ~= "string" then
      error(("bad argument #1 to '%s' (string expected, got %s)"):format(fname, type(name)), 3)
    end
    if name:find("\0", 1, true) then
      error(("bad argument #1 to '%s' (path contains a zero byte)"):format(fname), 3)
    end
    if name:sub(1, 1) == "@" then return name:sub(2) end
    -- a pipe name may not hold a backslash: a path's become slashes
    if name:sub(1, 9) ~= "\\\\.\\pipe\\" then name = name:gsub("\\", "/") end
    return name
  end

  -- server:accept() -> tcp{client} | nil, err: one doorbell byte per client,
  -- read with the server's timeouts (so it yields inside a socket.co task).
  function server:accept()
    if not self.h then return nil, "closed" end
    local b, err = self.bell:receive(1)
    if not b then return nil, err end
    local fd = self.h:take()
    if not fd then return nil, "closed" end
    return socket.fromfd(fd, "tcp{client}")
  end

  function server:close()
    if self.h then
      self.h:close()
      self.bell:close()
      self.h = nil
    end
    return 1
  end
  server.__close = server.close

  function server:settimeout(...) return self.bell:settimeout(...) end
  function server:gettimeout() return self.bell:gettimeout() end
  function server:getfd() return self.h and self.bell:getfd() or -1 end
  function server:dirty() return self.h ~= nil and self.bell:dirty() end
  function server:getsockname() return self.name end
  function server.__tostring(self)
    return (self.h and "namedpipe{server}: " or "namedpipe{closed}: ") .. self.name
  end

  function pipe.bind(name, backlog)
    name = checkname(name, "bind")
    argcheck(backlog == nil or type(backlog) == "number", 2, "bind", "number", backlog)
    local h, bellfd = winpipe.listen(name, backlog)
    if not h then return nil, bellfd end
    local bell, err = socket.fromfd(bellfd, "tcp{client}")
    if not bell then
      h:close()
      return nil, err
    end
    return setmetatable({ h = h, bell = bell, name = name }, server)
  end

  function pipe.connect(name, timeout)
    name = checkname(name, "connect")
    argcheck(timeout == nil or type(timeout) == "number", 2, "connect", "number", timeout)
    local fd, err = winpipe.connect(name, timeout)
    if not fd then return nil, err end
    return socket.fromfd(fd, "tcp{client}")
  end
end

return pipe
