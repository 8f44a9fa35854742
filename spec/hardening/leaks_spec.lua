-- Issue 7 (leaks): open and drop many objects of each class without
-- closing them; after two full collections the process's open-descriptor
-- count must be back where it started. Each class runs in a child process
-- with the collector stopped while the objects are made, so they really
-- are all open at once (the peak is checked too: a test that cannot fail
-- is a defect).
local H = require("helper")

-- Child prologue: fd counting through /proc/self/fd (pipes included: the
-- child opens none of its own while counting).
local PRE = [[
local PID = (function()
  local f = io.open("/proc/self/stat"); local s = f:read("l"); f:close(); return s:match("^(%d+)")
end)()
local function fds()
  local p = io.popen("ls /proc/" .. PID .. "/fd 2>/dev/null | wc -l")
  local n = tonumber(p:read("a")); p:close(); return n
end
local function settle(start)
  local n
  for _ = 1, 50 do                               -- bounded poll, 5 s at most
    collectgarbage("collect"); collectgarbage("collect")
    n = fds()
    if n <= start then return n end
    socket.sleep(0.1)
  end
  return n
end
local total, batch = tonumber(arg[1]), tonumber(arg[2])
collectgarbage("collect")
local start = fds()
local peak = 0
collectgarbage("stop")
local made = 0
while made < total do
  for _ = 1, math.min(batch, total - made) do make(); made = made + 1 end
  peak = math.max(peak, fds())
  collectgarbage("collect"); collectgarbage("collect")
end
collectgarbage("restart")
local after = settle(start)
print(("RESULT %d %d %d %d"):format(start, peak, after, made))
]]

-- Runs `maker` (Lua source defining make()) `total` times in batches.
local function leakrun(maker, total, batch)
  local h = H.childsh("ulimit -Sn 20000 2>/dev/null; exec", "local unix = require('socket.unix')\n" .. maker .. "\n" .. PRE,
    total, batch)
  local out = h.wait()
  local start, peak, after, made = out:match("RESULT (%d+) (%d+) (%d+) (%d+)")
  assert(start, "child failed:\n" .. out)
  return tonumber(start), tonumber(peak), tonumber(after), tonumber(made), out
end

local function check(maker, total, batch, perobj)
  local start, peak, after, made = leakrun(maker, total, batch)
  print(("\n[leaks] %d objects: fds start %d, peak %d, after %d"):format(made, start, peak, after))
  assert.are.equal(total, made)
  -- the objects were open at once (otherwise nothing was tested)
  assert.is_true(peak >= start + batch * perobj * 0.9,
    ("peak %d fds, start %d: objects were not open at once"):format(peak, start))
  -- A leak leaves more fds than at the start; the start may count one
  -- transient descriptor (the counting itself) that is gone by the end.
  assert.is_true(after <= start, ("%d fds leaked after %d objects"):format(after - start, total))
  assert.is_true(after >= start - 1, ("fd count fell from %d to %d"):format(start, after))
end

describe("hardening: dropped objects do not leak descriptors #linux #limits", function()
  it("10,000 tcp masters (tcp4)", function()
    check("function make() local s = socket.tcp4() end", 10000, 5000, 1)
  end)

  it("10,000 tcp servers (bind)", function()
    check("function make() local s = socket.bind('127.0.0.1', 0) end", 10000, 2500, 1)
  end)

  it("10,000 tcp clients and their accepted peers", function()
    check([[
local srv = assert(socket.bind("127.0.0.1", 0, 1024))
local _, port = srv:getsockname()
function make()
  local c = assert(socket.connect("127.0.0.1", port))
  local p = assert(srv:accept())
end]], 10000, 2500, 2)
  end)

  it("10,000 udp sockets (bound and connected)", function()
    check([[
function make()
  local u = socket.udp4(); assert(u:setsockname("127.0.0.1", 0))
  local v = socket.udp4(); assert(v:setpeername("127.0.0.1", 9))
end]], 10000, 2500, 2)
  end)

  it("10,000 unix stream clients, peers and servers", function()
    check([[
local dir = os.tmpname(); os.remove(dir); os.execute("mkdir " .. dir)
local srv = unix.stream(); assert(srv:bind(dir .. "/s")); assert(srv:listen(1024))
local n = 0
function make()
  local c = unix.stream(); assert(c:connect(dir .. "/s"))
  local p = assert(srv:accept())
  n = n + 1
  if n % 10 == 0 then local m = unix.stream(); assert(m:bind(dir .. "/m" .. n)); os.remove(dir .. "/m" .. n) end
end]], 10000, 2000, 2)
  end)

  it("10,000 unix dgram sockets (bound and connected)", function()
    check([[
local dir = os.tmpname(); os.remove(dir); os.execute("mkdir " .. dir)
local b = unix.dgram(); assert(b:bind(dir .. "/b"))
local n = 0
function make()
  n = n + 1
  local d = unix.dgram(); assert(d:bind(dir .. "/d" .. n)); os.remove(dir .. "/d" .. n)
  local e = unix.dgram(); assert(e:connect(dir .. "/b"))
end]], 10000, 2500, 2)
  end)

  it("10,000 pollers (each with a socket registered)", function()
    check([[
local u = socket.udp4()
function make()
  local p = socket.poller()
  assert(p:set(u, "r"))
end]], 10000, 2500, 1)
  end)

  it("10,000 dns resolve objects (dropped while resolving and after)", function()
    check([[
local dns = require("socket.dns")
local n = 0
function make()
  n = n + 1
  local a = dns.resolve("localhost")
  assert(a:getfd() >= 0)
  if n % 2 == 0 then a:wait(5) end
end]], 10000, 500, 1)
  end)

  it("10,000 TLS connections (wrapped and dropped, with their peers)", function()
    if not pcall(require, "socket.ssl") then
      pending("socket.ssl not built")
      return
    end
    check([[
local ssl = require("socket.ssl")
local ctx = assert(ssl.newcontext({mode = "client", verify = "none"}))
local srv = assert(socket.bind("127.0.0.1", 0, 1024))
local _, port = srv:getsockname()
function make()
  local c = assert(socket.connect("127.0.0.1", port))
  local p = assert(srv:accept())
  local conn = assert(ssl.wrap(c, ctx))
  conn:settimeout(0)
  conn:dohandshake()          -- ClientHello sent: OpenSSL state is live
end]], 10000, 1000, 2)
  end)
end)
