-- Regression: since 8650d1c, inet_tryconnect (src/inet.c) replaces the
-- object's socket with a fresh one after every failed attempt, even when the
-- next address has the same family. For the connect *method* nothing is
-- re-applied, so a master that was bound (bind) and configured (setoption)
-- by the script silently connects from a random port with default options
-- once the first address fails. API.md §4.2 asks for "a new socket whenever
-- the family changes", and 3.x reuses the socket within a family.
--
-- Only "localhost" is resolved: in a child's own mount namespace a private
-- hosts file maps it to 127.0.0.1 and 127.0.0.2. The resolver's first
-- address refuses; the listener sits on the second. Same technique as
-- spec/connect_multi_spec.lua.
local socket = require("socket")
local H = require("helper")

local hosts = os.tmpname()
local f = assert(io.open(hosts, "w"))
f:write("127.0.0.2 localhost\n127.0.0.1 localhost\n")
f:close()

local PREFIX = ("unshare -m sh -c 'mount --bind %s /etc/hosts && exec \"$0\" \"$@\"'"):format(hosts)
local seen = H.sh(PREFIX .. " getent ahostsv4 localhost")
local first = seen:match("^(127%.0%.0%.[12])%s")
local second = first == "127.0.0.1" and "127.0.0.2" or "127.0.0.1"
local usable = first ~= nil and seen:find(second, 1, true) ~= nil

describe("regress: connect keeps the object's socket within a family (§4.2)", function()
  teardown(function() os.remove(hosts) end)

  it("a bound, configured tcp4 master keeps its local address and options after a refused first address", function()
    if not usable then pending("needs `unshare -m` and mount (root)") return end
    -- The first address must refuse: find a port free on `first` whose
    -- twin on `second` listens (another process may hold it; try again).
    local srv, port
    for _ = 1, 20 do
      srv, port = H.server(second)
      local probe = socket.tcp4()
      local free = probe:bind(first, port)
      probe:close()
      if free then break end
      srv:close()
      srv = nil
    end
    assert(srv, "no port free on both addresses after 20 tries")
    local out = H.childsh(PREFIX, [[
      local m = assert(socket.tcp4())
      assert(m:setoption("tcp-nodelay", true) == 1)
      assert(m:bind("127.0.0.1", 0) == 1)       -- any loopback source reaches both
      local _, lport = m:getsockname()
      local fd = m:getfd()
      local ok, err = m:connect("localhost", tonumber(arg[1]))
      local _, nport = m:getsockname()
      io.write("connect=", tostring(ok or err), " sameport=", tostring(nport == lport),
               " samefd=", tostring(m:getfd() == fd),
               " nodelay=", tostring(m:getoption("tcp-nodelay")), "\n")
      m:close()
    ]], port):wait()
    srv:close()
    assert.matches("connect=1 ", out, 1, true)
    assert.matches("sameport=true", out, 1, true)
    assert.matches("nodelay=true", out, 1, true)
  end)
end)
