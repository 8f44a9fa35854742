-- connect and bind over a name with several addresses (API.md §4.2, §2):
-- every address is tried in turn, with a new socket whenever the family
-- changes. The name comes from a private hosts file, bind-mounted over
-- /etc/hosts in a child's own mount namespace, so resolution stays local.
local socket = require("socket")
local H = require("helper")

local hosts = os.tmpname()
local f = assert(io.open(hosts, "w"))
f:write("::1 multi.test\n127.0.0.1 multi.test\n")
f:close()

local PREFIX = ("unshare -m sh -c 'mount --bind %s /etc/hosts && exec \"$0\" \"$@\"'"):format(hosts)
local usable = H.sh(PREFIX .. " getent ahosts multi.test"):find("::1", 1, true) ~= nil

-- Runs code in the namespace; returns its output.
local function inside(code, ...)
  return H.childsh(PREFIX, code, ...):wait()
end

local function listener(host)
  local s = assert((host:find(":") and socket.tcp6 or socket.tcp4)())
  assert(s:bind(host, 0))
  assert(s:listen())
  local _, port = s:getsockname()
  return s, port
end

describe("connect over a name with an IPv6 and an IPv4 address #linux #linuxonly", function()
  before_each(function()
    if not usable then pending("needs `unshare -m` and mount (root)") end
  end)

  it("the resolver sees ::1 first, then 127.0.0.1", function()
    if not usable then return end
    local out = inside([[
      for _, a in ipairs(socket.dns.getaddrinfo("multi.test")) do io.write(a.family, "=", a.addr, " ") end
    ]])
    assert.are.equal("inet6=::1 inet=127.0.0.1 ", out)
  end)

  it("falls back from a refused ::1 to 127.0.0.1 with a new inet4 socket", function()
    if not usable then return end
    local s, port = listener("127.0.0.1")
    local out = inside([[
      local c, err = socket.connect("multi.test", tonumber(arg[1]))
      if not c then print("failed", err) return end
      print(c:getfamily(), (c:getpeername()))
      local m = socket.tcp()
      print(m:connect("multi.test", tonumber(arg[1])), m:getfamily())
    ]], port)
    assert.are.equal("inet4\t127.0.0.1\n1\tinet4\n", out)
    s:close()
  end)

  it("uses ::1 when it answers", function()
    if not usable then return end
    local s, port = listener("::1")
    local out = inside([[
      local c = assert(socket.connect("multi.test", tonumber(arg[1])))
      print(c:getfamily(), (c:getpeername()))
    ]], port)
    assert.are.equal("inet6\t::1\n", out)
    s:close()
  end)

  it("connect6 and connect4 restrict the remote family ([D] §2)", function()
    if not usable then return end
    -- Each listener's port must be free on the other family too, or the
    -- refused connects below could reach someone else's socket.
    local function exclusive(host, other)
      for _ = 1, 20 do
        local s, port = listener(host)
        local probe = assert((other:find(":") and socket.tcp6 or socket.tcp4)())
        local free = probe:bind(other, port)
        probe:close()
        if free then return s, port end
        s:close()
      end
      error("no port free on both families after 20 tries")
    end
    local s4, p4 = exclusive("127.0.0.1", "::1")
    local s6, p6 = exclusive("::1", "127.0.0.1")
    local out = inside([[
      print(socket.connect6("multi.test", tonumber(arg[1])))
      print(socket.connect4("multi.test", tonumber(arg[2])))
      print((socket.connect6("multi.test", tonumber(arg[2])):getpeername()))
    ]], p4, p6)
    assert.are.equal("nil\tconnection refused\nnil\tconnection refused\n::1\n", out)
    s4:close()
    s6:close()
  end)

  it("with a zero timeout only the first address is tried (§3)", function()
    if not usable then return end
    local s, port = listener("127.0.0.1")
    local out = inside([[
      local m = socket.tcp()
      m:settimeout(0)
      print(m:connect("multi.test", tonumber(arg[1])))
      print(m:getfamily())
    ]], port)
    -- ::1 is tried and fails (refused at once, or still pending: "timeout");
    -- 127.0.0.1, where the listener is, is never tried.
    assert.is_truthy(out == "nil\tconnection refused\ninet6\n" or out == "nil\ttimeout\ninet6\n", out)
    s:settimeout(0.3)
    assert.are.same({ nil, "timeout" }, { s:accept() })
    s:close()
  end)

  it("socket.connect with a local address binds it again on each new socket", function()
    if not usable then return end
    local s, port = listener("127.0.0.1")
    local out = inside([[
      -- inet4 local address: only the IPv4 entries of multi.test are tried
      local c, err = socket.connect("multi.test", tonumber(arg[1]), "127.0.0.1", 0)
      print(c and c:getfamily() or err, c and (c:getsockname()))
    ]], port)
    assert.are.equal("inet4\t127.0.0.1\n", out)
    s:close()
  end)

  it("socket.bind takes the first address that binds", function()
    if not usable then return end
    local out = inside([[
      local s = assert(socket.bind("multi.test", 0))
      print(s:getfamily(), (s:getsockname()))
    ]])
    assert.are.equal("inet6\t::1\n", out)
  end)
end)
