-- socket.pipe: named pipes over unix stream sockets (API.md §10.2).
-- "@name" is the Linux abstract name "\0name"; any other name is a path.
local unix = require("socket.unix")
local socket = require("socket")

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

return pipe
