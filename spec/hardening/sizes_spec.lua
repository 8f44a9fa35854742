-- Issue 7 (absurd sizes): clean errors or bounded behaviour, never huge
-- allocations. RSS is read from /proc/self/status in a child process.
local socket = require("socket")
local unix = require("socket.unix")
local H = require("helper")

describe("hardening: absurd sizes", function()
  it("tcp receive(2^53) times out (or returns what came) without allocating gigabytes", function()
    local out, ok = H.child([[
local function rss()
  local f = io.open("/proc/self/status"); local s = f:read("a"); f:close()
  return tonumber(s:match("VmRSS:%s*(%d+)"))
end
local srv = assert(socket.bind("127.0.0.1", 0)); local _, port = srv:getsockname()
local c = assert(socket.connect("127.0.0.1", port)); local p = assert(srv:accept())
local before = rss()
local res = {}
for _, size in ipairs({2^53, math.maxinteger, 2^40}) do
  p:send("some bytes")
  c:settimeout(0.2)
  local t0 = socket.gettime()
  local ok, got, err, partial = pcall(c.receive, c, size)
  res[#res + 1] = ("%s:%s:%s:%s:%s:%.2f"):format(tostring(size), tostring(ok), tostring(got),
    tostring(err), tostring(partial), socket.gettime() - t0)
end
-- with a closed peer: everything that came, then "closed"
p:send(string.rep("y", 100000)); p:close()
c:settimeout(2)
local got, err, partial = c:receive(2^53)
res[#res + 1] = ("closed:%s:%s:%d"):format(tostring(got), tostring(err), #(partial or ""))
-- receivesome with an absurd max
local c2 = assert(socket.connect("127.0.0.1", port)); local p2 = assert(srv:accept())
p2:send("abc")
local ok2, rs, rerr = pcall(c2.receivesome, c2, 2^53, 1)
res[#res + 1] = ("receivesome:%s:%s:%s"):format(tostring(ok2), tostring(rs), tostring(rerr))
print("RSS " .. before .. " " .. rss())
print("RES " .. table.concat(res, "|"))
]]):wait()
    local o2 = out:gsub("\n", " | ")
    assert.is_true(ok, o2)
    local before, after = out:match("RSS (%d+) (%d+)")
    assert.is_truthy(before, o2)
    assert.is_true(tonumber(after) < 100 * 1024, ("VmRSS %s kB after receive(2^53)"):format(after))
    local res = out:match("RES ([^\n]*)")
    local n = 0
    for _, okc, got, err, _, dt in res:gmatch("([^:|]+):(%a+):([^:]*):([^:]*):([^:]*):([%d.]+)") do
      n = n + 1
      assert.are.equal("true", okc, res)           -- a size is not misuse; no error raised
      assert.are.equal("nil", got, res)
      assert.are.equal("timeout", err, res)
      assert.is_true(tonumber(dt) < 0.6, res)
    end
    assert.are.equal(3, n, res)
    assert.is_truthy(res:match("closed:nil:closed:1000%d%d"), res)
    assert.is_truthy(res:match("receivesome:true:abc:nil"), res)
  end)

  it("udp receive(2^30) raises naming the argument; so do receivefrom and unix dgram #linux #unixsock", function()
    -- (LuaJIT counts a method called as a function as a method call: compat.h)
    local ARG2 = rawget(_G, "jit") and "bad argument #1" or "bad argument #2"
    local u = socket.udp4()
    assert(u:setsockname("127.0.0.1", 0))
    u:settimeout(0)
    H.raises(u.receive, { u, 2 ^ 30 }, ARG2, "receive size too large")
    H.raises(u.receivefrom, { u, 2 ^ 30 }, ARG2, "receive size too large")
    H.raises(u.receive, { u, math.maxinteger }, ARG2, "receive size too large")
    u:close()
    local d = unix.dgram()
    d:settimeout(0)
    H.raises(d.receive, { d, 2 ^ 30 }, ARG2, "receive size too large")
    d:close()
  end)

  it("a 10 KB unix path gives nil,'path too long' everywhere a path is taken #linux #unixsock", function()
    local long = "/tmp/" .. string.rep("p", 10 * 1024)
    local s = unix.stream()
    assert.are.same({ nil, "path too long" }, { s:bind(long) })
    s:close()
    s = unix.stream()
    assert.are.same({ nil, "path too long" }, { s:connect(long) })
    s:close()
    local d = unix.dgram()
    assert.are.same({ nil, "path too long" }, { d:bind(long) })
    assert.are.same({ nil, "path too long" }, { d:sendto("x", long) })
    assert.are.same({ nil, "path too long" }, { d:connect(long) })
    d:close()
    local pipe = require("socket.pipe")
    assert.are.same({ nil, "path too long" }, { pipe.bind(long) })
    assert.are.same({ nil, "path too long" }, { pipe.connect(long, 0.1) })
    -- 108 bytes is the first length that does not fit (API.md §7)
    s = unix.stream()
    assert.are.same({ nil, "path too long" }, { s:bind("/tmp/" .. string.rep("q", 103)) })
    s:close()
  end)
end)
