-- The socket module itself: API.md §1 (modules, constants), §2 (functions in
-- `socket`) and §8 (exceptions and LTN12 helpers).
local socket = require("socket")
local H = require("helper")

local function pack(...) return select("#", ...), ... end

local function closeall(...)
  for _, s in ipairs({ ... }) do s:close() end
end

local function sorted_keys(t)
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = k end
  table.sort(keys)
  return keys
end

-- The hard RLIMIT_NOFILE as a shell started by this process sees it.
local function hard_nofile()
  local out = H.sh("ulimit -Hn")
  out = out:gsub("%s+$", "")
  if out == "unlimited" then return 2 ^ 31 - 1 end
  return assert(math.tointeger(tonumber(out)), "ulimit -Hn printed " .. out)
end

-- A port on 127.0.0.1 where nothing listens (bound by the OS, then freed).
local function dead_port()
  local srv, port = H.server()
  srv:close()
  return port
end

describe("modules (§1)", function()
  it("require('socket') is the same table as require('socket.core')", function()
    local core = require("socket.core")
    assert.are.equal("table", type(core))
    assert.is_true(rawequal(core, socket))
    assert.is_true(rawequal(package.loaded["socket.core"], package.loaded["socket"]))
  end)

  it("the C part provides constructors, connect, select, gettime, sleep, skip, newtry, protect, __unload, dns", function()
    for _, name in ipairs({ "tcp", "tcp4", "tcp6", "udp", "udp4", "udp6", "connect", "select",
                            "gettime", "sleep", "skip", "newtry", "protect", "__unload", "fromfd" }) do
      assert.are.equal("function", type(socket[name]), name)
    end
    assert.are.equal("table", type(socket.dns))
  end)

  it("socket.lua adds connect4, connect6, bind, try, choose, sourcet, sinkt, sink, source, BLOCKSIZE", function()
    for _, name in ipairs({ "connect4", "connect6", "bind", "try", "choose", "sink", "source" }) do
      assert.are.equal("function", type(socket[name]), name)
    end
    assert.are.equal("table", type(socket.sinkt))
    assert.are.equal("table", type(socket.sourcet))
    assert.is_not_nil(socket.BLOCKSIZE)
  end)

  it("__unload is callable and harmless", function()
    socket.__unload()
    H.isfloat(socket.gettime())
  end)
end)

describe("constants (§1)", function()
  it("_VERSION is \"LuaSocket 3.1.0\"", function()
    assert.are.equal("string", type(socket._VERSION))
    assert.are.equal("LuaSocket 3.", socket._VERSION:sub(1, #"LuaSocket 3."))
    assert.are.equal("LuaSocket 3.1.0", socket._VERSION)
  end)

  it("_DATAGRAMSIZE is the integer 8192", function()
    assert.are.equal(8192, socket._DATAGRAMSIZE)
    assert.are.equal("integer", math.type(socket._DATAGRAMSIZE))
  end)

  it("BLOCKSIZE is the integer 2048", function()
    assert.are.equal(2048, socket.BLOCKSIZE)
    assert.are.equal("integer", math.type(socket.BLOCKSIZE))
  end)

  it("_SOCKETINVALID is the integer -1", function()
    assert.are.equal(-1, socket._SOCKETINVALID)
    assert.are.equal("integer", math.type(socket._SOCKETINVALID))
  end)

  it("_DEBUG is nil", function()
    assert.is_nil(socket._DEBUG)
  end)

  it("_IMPL is \"netsocket <semver>\"", function()
    assert.are.equal("string", type(socket._IMPL))
    assert.is_truthy(socket._IMPL:match("^netsocket %d+%.%d+%.%d+"), socket._IMPL)
  end)

  it("_SETSIZE is the integer hard fd limit (ulimit -Hn) #linux #limits", function()
    assert.are.equal("integer", math.type(socket._SETSIZE))
    assert.are.equal(hard_nofile(), socket._SETSIZE)
  end)

  it("_SETSIZE is read at load time: a child with a lowered hard limit reports it #linux #limits", function()
    local out = H.childsh("ulimit -Sn 1000 && ulimit -Hn 1000 &&",
      "print(math.type(socket._SETSIZE), socket._SETSIZE)"):wait()
    assert.are.equal("integer\t1000\n", out)
  end)

  it("_FEATURES has boolean fields, ipv6=true, and each flag tells the truth", function()
    local f = socket._FEATURES
    assert.are.equal("table", type(f))
    assert.is_true(f.ipv6)
    for _, k in ipairs({ "unix", "ssl", "abstract", "co", "asyncdns" }) do
      assert.are.equal("boolean", type(f[k]), k)
    end
    -- A feature is claimed exactly when its module loads (§1 lists co=true:
    -- that becomes true with the cosocket module, not before).
    local loads = function(name) return (pcall(require, name)) end
    assert.are.equal(loads("socket.unix"), f.unix)
    assert.are.equal(loads("socket.ssl"), f.ssl)
    assert.are.equal(loads("socket.co"), f.co)
    assert.are.equal(type(socket.dns.resolve) == "function", f.asyncdns)
  end)
end)

describe("gettime (§2)", function()
  it("is a float close to the wall clock", function()
    local t = socket.gettime()
    H.isfloat(t)
    assert.is_true(math.abs(t - os.time()) < 2, "gettime " .. t .. " vs os.time " .. os.time())
  end)

  it("does not go backwards over a short interval", function()
    local a = socket.gettime()
    local b = socket.gettime()
    assert.is_true(b >= a)
  end)
end)

describe("sleep (§2)", function()
  it("returns no values", function()
    assert.are.equal(0, select("#", socket.sleep(0)))
    assert.are.equal(0, select("#", socket.sleep(0.01)))
  end)

  it("returns at once for a negative time", function()
    local t0 = socket.gettime()
    assert.are.equal(0, select("#", socket.sleep(-1)))
    socket.sleep(-1000)
    assert.is_true(socket.gettime() - t0 < 0.5)
  end)

  it("raises for a non-number", function()
    H.raises(socket.sleep, { "soon", n = 1 }, "bad argument #1", "(number expected, got string)")
    H.raises(socket.sleep, { {}, n = 1 }, "bad argument #1", "(number expected, got table)")
    H.raises(socket.sleep, { n = 0 }, "bad argument #1", "(number expected, got no value)")
  end)

  it("sleep(0.1) takes at least about 0.1 s", function()
    local t0 = socket.gettime()
    socket.sleep(0.1)
    local dt = socket.gettime() - t0
    assert.is_true(dt >= 0.095, "slept " .. dt .. " s")
    assert.is_true(dt < 2, "slept " .. dt .. " s")
  end)
end)

describe("skip (§2)", function()
  it("skip(1, 'a', 'b', 'c') gives 'b', 'c'", function()
    local n, x, y = pack(socket.skip(1, "a", "b", "c"))
    assert.are.equal(2, n)
    assert.are.equal("b", x)
    assert.are.equal("c", y)
  end)

  it("skip(5, 'a') gives nothing", function()
    assert.are.equal(0, select("#", socket.skip(5, "a")))
  end)

  it("skip(0, ...) gives all the arguments", function()
    local n, x, y = pack(socket.skip(0, "a", "b"))
    assert.are.equal(2, n)
    assert.are.equal("a", x)
    assert.are.equal("b", y)
  end)

  it("skip(2, ...) keeps embedded nils", function()
    local n, x, y, z = pack(socket.skip(2, 1, 2, nil, 4, nil))
    assert.are.equal(3, n)
    assert.is_nil(x)
    assert.are.equal(4, y)
    assert.is_nil(z)
  end)
end)

describe("newtry / try / protect (§8)", function()
  it("try returns all its arguments when the first is truthy", function()
    local try = socket.newtry()
    local n, a, b, c, d = pack(try(1, nil, "x", nil))
    assert.are.equal(4, n)
    assert.are.equal(1, a)
    assert.is_nil(b)
    assert.are.equal("x", c)
    assert.is_nil(d)
    n = pack(socket.try("only"))
    assert.are.equal(1, n)
    assert.are.equal(3, (pack(socket.try(true, nil, nil))))
  end)

  it("try raises E={v2} with getmetatable(E)==false and no position", function()
    local ok, e = pcall(socket.try, nil, "boom")
    assert.is_false(ok)
    assert.are.equal("table", type(e))
    assert.are.equal("boom", e[1])
    assert.are.equal(false, getmetatable(e))
    ok, e = pcall(socket.try, false, "bang", "ignored")
    assert.is_false(ok)
    assert.are.equal("bang", e[1])
  end)

  it("newtry(fin) calls fin before raising, and only then", function()
    local calls = 0
    local try = socket.newtry(function() calls = calls + 1 end)
    assert.are.equal("ok", try("ok"))
    assert.are.equal(0, calls)
    local ok, e = pcall(try, nil, "failed")
    assert.is_false(ok)
    assert.are.equal(1, calls)
    assert.are.equal("failed", e[1])
  end)

  it("protect returns f's results", function()
    local f = socket.protect(function(a, b) return a + b, nil, "x" end)
    local n, s, m, x = pack(f(1, 2))
    assert.are.equal(3, n)
    assert.are.equal(3, s)
    assert.is_nil(m)
    assert.are.equal("x", x)
  end)

  it("protect returns nil, E[1] on a try-exception", function()
    local fin_called = false
    local try = socket.newtry(function() fin_called = true end)
    local f = socket.protect(function() try(nil, "oops"); return "unreached" end)
    local n, a, b = pack(f())
    assert.are.equal(2, n)
    assert.is_nil(a)
    assert.are.equal("oops", b)
    assert.is_true(fin_called)
    local g = socket.protect(function() socket.try(false, "plain try") end)
    local x, y = g()
    assert.is_nil(x)
    assert.are.equal("plain try", y)
  end)

  it("protect re-raises other errors unchanged (same object)", function()
    local obj = { "not a try exception" }
    local ok, e = pcall(socket.protect(function() error(obj) end))
    assert.is_false(ok)
    assert.is_true(rawequal(obj, e))
    local mt_obj = setmetatable({ "x" }, {})
    ok, e = pcall(socket.protect(function() error(mt_obj) end))
    assert.is_false(ok)
    assert.is_true(rawequal(mt_obj, e))
    ok, e = pcall(socket.protect(function() error("plain message", 0) end))
    assert.is_false(ok)
    assert.are.equal("plain message", e)
    local line
    ok, e = pcall(socket.protect(function() line = debug.getinfo(1, "l").currentline; error("here") end))
    assert.is_false(ok)
    assert.are.equal("string", type(e))
    assert.is_truthy(e:find(":" .. line .. ": here", 1, true), e)
  end)

  it("protect is yield-safe: coroutine.yield inside the protected function", function()
    -- 5.1 and LuaJIT: no C continuations; only a socket.co task yields across protect (co_spec)
    if socket._k51 then return pending("a plain coroutine cannot yield across a C function on " .. _VERSION) end
    local f = socket.protect(function(x)
      local y = coroutine.yield(x + 1)
      local z = coroutine.yield(y .. "!")
      return "done", z
    end)
    local co = coroutine.create(f)
    local ok, v = coroutine.resume(co, 1)
    assert.is_true(ok, v)
    assert.are.equal(2, v)
    ok, v = coroutine.resume(co, "hi")
    assert.is_true(ok, v)
    assert.are.equal("hi!", v)
    local ok2, a, b = coroutine.resume(co, 7)
    assert.is_true(ok2, a)
    assert.are.equal("done", a)
    assert.are.equal(7, b)
    assert.are.equal("dead", coroutine.status(co))
  end)

  it("protect catches a try-exception raised after a yield", function()
    -- 5.1 and LuaJIT: no C continuations; only a socket.co task yields across protect (co_spec)
    if socket._k51 then return pending("a plain coroutine cannot yield across a C function on " .. _VERSION) end
    local f = socket.protect(function()
      local v = coroutine.yield("waiting")
      socket.try(nil, "after " .. v)
    end)
    local co = coroutine.wrap(function() return f() end)
    assert.are.equal("waiting", co())
    local n, a, b = pack(co("resume"))
    assert.are.equal(2, n)
    assert.is_nil(a)
    assert.are.equal("after resume", b)
  end)
end)

describe("choose (§2)", function()
  local f
  before_each(function()
    f = socket.choose({
      a = function(x, y) return "a", x, y end,
      default = function(x, y) return "default", x, y end,
    })
  end)

  it("calls the function for the name with two options", function()
    local n, k, x, y = pack(f("a", 1, 2))
    assert.are.equal(3, n)
    assert.are.equal("a", k)
    assert.are.equal(1, x)
    assert.are.equal(2, y)
  end)

  it("a non-string name shifts the arguments and uses \"default\"", function()
    local k, x, y = f(5, 6)
    assert.are.equal("default", k)
    assert.are.equal(5, x)
    assert.are.equal(6, y)
    k, x, y = f(nil, "q")
    assert.are.equal("default", k)
    assert.is_nil(x)
    assert.are.equal("q", y)
  end)

  it("an unknown key raises \"unknown key (name)\"", function()
    H.raises(f, { "zzz", n = 1 }, "unknown key (zzz)")
    local g = socket.choose({ a = function() end })
    H.raises(g, { 42, n = 1 }, "unknown key (default)")
  end)
end)

describe("LTN12 sinks and sources over sockets (§8)", function()
  -- socket.http adds "http-chunked" to both tables when it loads (3.x
  -- does the same, and stores itself as socket.http); another spec may
  -- have loaded it in this process (busted forgets package.loaded, not that).
  local function corekeys(t)
    local keys = {}
    for _, k in ipairs(sorted_keys(t)) do
      if k ~= "http-chunked" or rawget(socket, "http") == nil then keys[#keys + 1] = k end
    end
    return keys
  end

  it("sinkt has exactly close-when-done, default, keep-open (and http-chunked once socket.http is loaded)", function()
    assert.are.same({ "close-when-done", "default", "keep-open" }, corekeys(socket.sinkt))
    for k, v in pairs(socket.sinkt) do assert.are.equal("function", type(v), k) end
    require("socket.http")
    assert.are.equal("function", type(socket.sinkt["http-chunked"]))
  end)

  it("sourcet has exactly by-length, default, until-closed (and http-chunked once socket.http is loaded)", function()
    assert.are.same({ "by-length", "default", "until-closed" }, corekeys(socket.sourcet))
    for k, v in pairs(socket.sourcet) do assert.are.equal("function", type(v), k) end
    require("socket.http")
    assert.are.equal("function", type(socket.sourcet["http-chunked"]))
  end)

  it("a sink is a callable table with getfd and dirty", function()
    local c, p = H.pair()
    for _, mode in ipairs({ "keep-open", "default", "close-when-done" }) do
      local sink = socket.sink(mode, c)
      assert.are.equal("table", type(sink), mode)
      assert.are.equal(c:getfd(), sink:getfd(), mode)
      assert.are.equal(false, sink:dirty(), mode)
    end
    closeall(c, p)
  end)

  it("keep-open sends each chunk and returns 1 on nil, leaving the socket open", function()
    local c, p = H.pair()
    local sink = socket.sink("keep-open", c)
    -- §8 is silent on a data chunk's result; 3.x returns sock:send(chunk)
    assert.are.equal(3, sink("abc"))
    assert.are.equal(2, sink("de"))
    local r = sink(nil)
    assert.are.equal(1, r)
    assert.are.equal("integer", math.type(r))
    assert.is_true(c:getfd() >= 0)
    assert.are.equal("abcde", p:receive(5))
    assert.are.equal(1, c:send("f"))    -- still usable
    assert.are.equal("f", p:receive(1))
    closeall(c, p)
  end)

  it("default sink is keep-open; socket.sink(sock) picks default", function()
    local c, p = H.pair()
    local sink = socket.sink(c)
    assert.is_truthy(sink("xy"))
    assert.are.equal(1, sink(nil))
    assert.is_true(c:getfd() >= 0)
    local s2 = socket.sink("default", c)
    assert.is_truthy(s2("z"))
    assert.are.equal(1, s2(nil))
    assert.is_true(c:getfd() >= 0)
    assert.are.equal("xyz", p:receive(3))
    closeall(c, p)
  end)

  it("close-when-done closes the socket on a nil chunk and returns 1", function()
    local c, p = H.pair()
    local sink = socket.sink("close-when-done", c)
    assert.are.equal(5, sink("hello"))
    local r = sink(nil)
    assert.are.equal(1, r)
    assert.are.equal("integer", math.type(r))
    assert.are.equal(-1, c:getfd())
    p:settimeout(5)
    assert.are.equal("hello", p:receive("*a"))
    p:close()
  end)

  it("by-length reads exactly len bytes, then nil", function()
    local c, p = H.pair()
    assert(c:send("hello world"))
    local src = socket.source("by-length", p, 5)
    assert.are.equal("hello", src())
    assert.is_nil(src())
    assert.is_nil(src())
    assert.are.equal(" world", p:receive(6))   -- the rest was not consumed
    closeall(c, p)
  end)

  it("by-length reads in BLOCKSIZE pieces", function()
    local c, p = H.pair()
    local data = string.rep("0123456789", 500)   -- 5000 bytes
    assert.are.equal(5000, c:send(data))
    local src = socket.source("by-length", p, 5000)
    local sizes, got = {}, {}
    for _ = 1, 10 do
      local chunk = src()
      if not chunk then break end
      sizes[#sizes + 1] = #chunk
      got[#got + 1] = chunk
    end
    assert.are.same({ 2048, 2048, 904 }, sizes)
    assert.are.equal(data, table.concat(got))
    closeall(c, p)
  end)

  it("by-length gives nil, err on failure", function()
    local c, p = H.pair()
    assert(c:send("abc"))
    c:close()
    local src = socket.source("by-length", p, 10)
    local chunk, err = src()
    assert.is_nil(chunk)
    assert.are.equal("closed", err)
    p:close()
    local c2, p2 = H.pair()
    p2:settimeout(0)
    local src2 = socket.source("by-length", p2, 10)
    chunk, err = src2()
    assert.is_nil(chunk)
    assert.are.equal("timeout", err)
    closeall(c2, p2)
  end)

  it("until-closed returns the partial once on close, closes the socket, then nil", function()
    local c, p = H.pair()
    local data = string.rep("abcdefghij", 500)   -- 5000 bytes
    assert.are.equal(5000, c:send(data))
    c:close()
    local src = socket.source("until-closed", p)
    local sizes, got = {}, {}
    for _ = 1, 10 do
      local chunk = src()
      if not chunk then break end
      sizes[#sizes + 1] = #chunk
      got[#got + 1] = chunk
    end
    assert.are.same({ 2048, 2048, 904 }, sizes)
    assert.are.equal(data, table.concat(got))
    assert.are.equal(-1, p:getfd())
    assert.is_nil(src())
    p:close()
  end)

  it("default source is until-closed", function()
    local c, p = H.pair()
    assert(c:send("hello"))
    c:close()
    local src = socket.source("default", p)
    assert.are.equal("hello", src())
    assert.is_nil(src())
    assert.are.equal(-1, p:getfd())
    local c2, p2 = H.pair()
    assert(c2:send("bye"))
    c2:close()
    local src2 = socket.source(p2)     -- choose: non-string name -> default
    assert.are.equal("bye", src2())
    assert.is_nil(src2())
    p2:close()
  end)
end)

describe("socket.connect (§2)", function()
  it("returns a tcp{client} with timeouts -1, -1", function()
    local srv, port = H.server()
    local c = socket.connect("127.0.0.1", port)
    assert.is_not_nil(c)
    assert.are.equal("tcp{client}", c.class)
    assert.is_truthy(tostring(c):match("^tcp{client}: 0x"), tostring(c))
    local b, t = c:gettimeout()
    assert.are.equal(-1, b)
    assert.are.equal(-1, t)
    H.isfloat(b)
    H.isfloat(t)
    local ip, pport, fam = c:getpeername()
    assert.are.equal("127.0.0.1", ip)
    assert.are.equal(port, pport)
    assert.are.equal("inet", fam)
    srv:settimeout(5)
    local p = assert(srv:accept())
    closeall(c, p, srv)
  end)

  it("an accepted client starts at -1,-1 whatever the server's timeouts (§3)", function()
    local srv, port = H.server()
    srv:settimeout(3)
    local c = assert(socket.connect("127.0.0.1", port))
    local p = assert(srv:accept())
    local b, t = p:gettimeout()
    assert.are.equal(-1, b)
    assert.are.equal(-1, t)
    closeall(c, p, srv)
  end)

  it("binds to the local address when one is given", function()
    local srv, port = H.server()
    local c = assert(socket.connect("127.0.0.1", port, "127.0.0.1"))
    local ip, lport = c:getsockname()
    assert.are.equal("127.0.0.1", ip)
    assert.are.equal("integer", math.type(lport))
    assert.is_true(lport > 0)
    srv:settimeout(5)
    local p = assert(srv:accept())
    local _, peerport = p:getpeername()
    assert.are.equal(lport, peerport)
    closeall(c, p, srv)
  end)

  it("returns nil, \"connection refused\" when nothing listens", function()
    local c, err = socket.connect("127.0.0.1", dead_port())
    assert.is_nil(c)
    assert.are.equal("connection refused", err)
  end)

  it("accepts family \"unspec\" and \"inet\"", function()
    local srv, port = H.server()
    srv:settimeout(5)
    for _, fam in ipairs({ "unspec", "inet" }) do
      local c = assert(socket.connect("127.0.0.1", port, nil, nil, fam))
      local p = assert(srv:accept())
      local _, _, f = c:getpeername()
      assert.are.equal("inet", f)
      closeall(c, p)
    end
    srv:close()
  end)

  it("raises for an unknown family: bad argument #5 (invalid option 'foo')", function()
    local srv, port = H.server()
    H.raises(socket.connect, { "127.0.0.1", port, nil, nil, "foo", n = 5 },
      "bad argument #5", "(invalid option 'foo')")
    srv:close()
  end)

  it("connect4 connects over IPv4", function()
    local srv, port = H.server()
    local c = assert(socket.connect4("127.0.0.1", port))
    assert.are.equal("tcp{client}", c.class)
    local _, _, fam = c:getpeername()
    assert.are.equal("inet", fam)
    srv:settimeout(5)
    local p = assert(srv:accept())
    closeall(c, p, srv)
  end)

  it("connect6 connects over IPv6", function()
    local srv, port = H.server("::1")
    local c = assert(socket.connect6("::1", port))
    local ip, pport, fam = c:getpeername()
    assert.are.equal("::1", ip)
    assert.are.equal(port, pport)
    assert.are.equal("inet6", fam)
    srv:settimeout(5)
    local p = assert(srv:accept())
    closeall(c, p, srv)
  end)

  it("connect6('127.0.0.1', p) fails: [D] the family restricts remote resolution", function()
    local srv, port = H.server()     -- something does listen on 127.0.0.1
    local c, err = socket.connect6("127.0.0.1", port)
    assert.is_nil(c)
    assert.are.equal("Address family for hostname not supported", err)
    c, err = socket.connect("127.0.0.1", port, nil, nil, "inet6")
    assert.is_nil(c)
    assert.are.equal("Address family for hostname not supported", err)
    srv:close()
  end)

  it("connect4('::1', p) fails: [D] the family restricts remote resolution", function()
    local srv, port = H.server("::1")
    local c, err = socket.connect4("::1", port)
    assert.is_nil(c)
    assert.are.equal("Address family for hostname not supported", err)
    srv:close()
  end)
end)

describe("socket.bind (§2)", function()
  it("bind('*', 0) binds 0.0.0.0 and sets reuseaddr", function()
    local srv = socket.bind("*", 0)
    assert.is_not_nil(srv)
    assert.are.equal("tcp{server}", srv.class)
    local ip, port, fam = srv:getsockname()
    assert.are.equal("0.0.0.0", ip)
    assert.are.equal("integer", math.type(port))
    assert.is_true(port > 0)
    assert.are.equal("inet", fam)
    assert.is_true(srv:getoption("reuseaddr"))
    -- it listens: a loopback client gets through
    local c = assert(socket.connect("127.0.0.1", port))
    srv:settimeout(5)
    local p = assert(srv:accept())
    closeall(c, p, srv)
  end)

  it("binds a numeric IPv4 address and accepts a backlog", function()
    local srv = assert(socket.bind("127.0.0.1", 0, 5))
    local ip, port = srv:getsockname()
    assert.are.equal("127.0.0.1", ip)
    assert.is_true(port > 0)
    assert.is_true(srv:getoption("reuseaddr"))
    srv:close()
  end)

  it("binds ::1 as an inet6 server", function()
    local srv = assert(socket.bind("::1", 0))
    local ip, port, fam = srv:getsockname()
    assert.are.equal("::1", ip)
    assert.is_true(port > 0)
    assert.are.equal("inet6", fam)
    assert.are.equal("tcp{server}", srv.class)
    srv:close()
  end)

  it("returns nil and an error string for an empty host", function()
    local srv, err = socket.bind("", 0)
    assert.is_nil(srv)
    assert.are.equal("host or service not provided, or not known", err)
  end)

  it("returns nil and the strerror text for an address not on this machine", function()
    local srv, err = socket.bind("192.0.2.1", 0)
    assert.is_nil(srv)
    assert.are.equal("Cannot assign requested address", err)
  end)

  it("returns nil, \"address already in use\" for a port that is listening", function()
    local srv, port = H.server()
    local s2, err = socket.bind("127.0.0.1", port)
    assert.is_nil(s2)
    assert.are.equal("address already in use", err)
    srv:close()
  end)

  it("returns nil, \"invalid port\" for a port outside 0..65535 ([D] §0)", function()
    local srv, err = socket.bind("127.0.0.1", 70000)
    assert.is_nil(srv)
    assert.are.equal("invalid port", err)
  end)
end)

describe("constructors (§2)", function()
  it("tcp() has no OS socket until bind/connect", function()
    local m = socket.tcp()
    assert.are.equal("tcp{master}", m.class)
    assert.are.equal(-1, m:getfd())
    local ok, err = m:setoption("reuseaddr", true)
    assert.is_nil(ok)
    assert.are.equal("setsockopt failed", err)
    ok, err = m:getsockname()
    assert.is_nil(ok)
    assert.are.equal("Bad file descriptor", err)
    ok, err = m:listen()
    assert.is_nil(ok)
    assert.are.equal("Bad file descriptor", err)
    assert.are.equal("tcp{master}", m.class)
    assert.are.equal("inet4", m:getfamily())
    m:close()
  end)

  it("tcp4() and tcp6() create the socket at once; IPv6 sockets are v6only", function()
    local a, b = socket.tcp4(), socket.tcp6()
    assert.is_true(a:getfd() >= 0)
    assert.is_true(b:getfd() >= 0)
    assert.are.equal("integer", math.type(a:getfd()))
    assert.are.equal("inet4", a:getfamily())
    assert.are.equal("inet6", b:getfamily())
    assert.is_true(b:getoption("ipv6-v6only"))
    closeall(a, b)
  end)

  it("fromfd adopts a descriptor as the given class", function()
    local c, p = H.pair()
    local fd = c:getfd()
    assert.are.equal(0, select("#", c:setfd(-1)))
    local n = socket.fromfd(fd, "tcp{client}")
    assert.is_not_nil(n)
    assert.are.equal("tcp{client}", n.class)
    assert.are.equal(fd, n:getfd())
    assert.are.equal("inet4", n:getfamily())
    assert.are.equal(2, n:send("hi"))
    assert.are.equal("hi", p:receive(2))
    assert(p:send("yo"))
    n:settimeout(5)
    assert.are.equal("yo", n:receive(2))
    c:close()            -- fd -1: harmless
    closeall(n, p)
  end)

  it("fromfd on a bad descriptor gives nil, \"Bad file descriptor\"", function()
    local n, err = socket.fromfd(19999, "tcp{client}")
    assert.is_nil(n)
    assert.are.equal("Bad file descriptor", err)
  end)
end)
