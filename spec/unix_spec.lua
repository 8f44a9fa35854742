-- socket.unix: unix-domain stream and datagram sockets (API.md §10.1, §0,
-- §3, §7, §12.1, §13 row 18). The stream engine (patterns, timeouts, send
-- ranges) is pinned by the TCP specs; here a few representative cases show
-- that unixstream really runs it.
local socket = require("socket")
local H = require("helper")
local U = require("socket.unix")

local dir -- a fresh temp directory for this file (mktemp -d), removed in teardown
local seq = 0

-- A fresh path inside the temp directory.
local function tmppath(tag)
  seq = seq + 1
  return ("%s/%s%d"):format(dir, tag or "s", seq)
end

-- A fresh Linux abstract name ("\0..."), unique to this process.
local function abstract(tag)
  seq = seq + 1
  return ("\0netsocket-unix-spec-%d-%d-%s"):format(H.pid(), seq, tag or "a")
end

local function issocket(path)
  local _, ok = H.sh("test -S '" .. path .. "'")
  return ok
end

-- Open sockets of this process. (H.fdcount also counts popen's pipes, and
-- can see the write end of its own pipe before the parent closes it: +1 at
-- random. Sockets are what these specs care about.)
local function sockcount()
  local out = H.sh("ls -l /proc/" .. H.pid() .. "/fd | grep -c 'socket:'")
  return assert(tonumber(out:match("%d+")), out)
end

local function exists(path)
  local _, ok = H.sh("test -e '" .. path .. "'")
  return ok
end

local open = {}
local function track(...)
  for i = 1, select("#", ...) do
    local s = select(i, ...)
    if type(s) == "userdata" then open[#open + 1] = s end
  end
  return ...
end

local isint = H.isint

local function isfloat(v, what)
  assert.equal("float", math.type(v), (what or "value") .. " should be a float, got " .. tostring(v))
end

-- Asserts that `...` is exactly nil, err.
local function soft(err, ...)
  local n = select("#", ...)
  local a, b = ...
  assert.is_nil(a, "expected nil, got " .. tostring(a))
  assert.equal(err, b)
  return n
end

-- Calls `f` (which must call the method with `:` syntax, not as a tail call,
-- so Lua names it) and asserts the raised message contains every text.
local function raises(f, ...)
  return H.raises(f, { n = 0 }, ...)
end

-- A listening unixstream server on a fresh path.
local function userver(path)
  path = path or tmppath("srv")
  local srv = track(U.stream())
  assert.equal(1, srv:bind(path))
  assert.equal(1, srv:listen())
  srv:settimeout(5)
  return srv, path
end

-- A connected pair: c from connect, p from accept. Both blocking.
local function upair()
  local srv, path = userver()
  local c = track(U.stream())
  assert.equal(1, c:connect(path))
  local p = track(assert(srv:accept()))
  srv:close()
  return c, p, path
end

local function ubound_dgram(path)
  path = path or tmppath("dg")
  local d = track(U.dgram())
  assert.equal(1, d:bind(path))
  d:settimeout(5)
  return d, path
end

describe("socket.unix", function()
  setup(function()
    local out, ok = H.sh("mktemp -d")
    assert(ok, out)
    dir = out:gsub("%s+$", "")
    assert(#dir > 0 and #dir < 60, "unexpected temp dir " .. dir)
  end)

  teardown(function()
    if dir then H.sh("rm -rf '" .. dir .. "'") end
  end)

  after_each(function()
    for i = #open, 1, -1 do
      pcall(function() open[i]:close() end)
      open[i] = nil
    end
  end)

  describe("module (§1, §10.1, §13 row 18)", function()
    it("require returns a table and does not set socket.unix", function()
      assert.equal("table", type(U))
      assert.is_nil(rawget(socket, "unix"))
      assert.is_nil(socket.unix)
      assert.equal(U, require("socket.unix"))
      assert.is_nil(require("socket").unix)
    end)

    it("does not set socket.unix in a fresh interpreter either, whatever the require order", function()
      local out, ok = H.sh(H.LUA .. [[ -e "local U = require('socket.unix'); local s = require('socket');
        io.write(type(U), ' ', tostring(rawget(s, 'unix')), ' ', tostring(s.unix))"]])
      assert.is_true(ok, out)
      assert.equal("table nil nil", out)
      out, ok = H.sh(H.LUA .. [[ -e "local s = require('socket'); local U = require('socket.unix');
        io.write(type(U), ' ', tostring(rawget(s, 'unix')), ' ', tostring(s.unix))"]])
      assert.is_true(ok, out)
      assert.equal("table nil nil", out)
    end)

    it("U.stream, U.tcp and U(...) make unixstream{master}; U.dgram and U.udp make unixdgram{unconnected}", function()
      for _, mk in ipairs({ U.stream, U.tcp, function() return U() end }) do
        local s = track(mk())
        assert.equal("unixstream{master}", s.class)
        assert.matches("^unixstream{master}: 0x%x+$", tostring(s))
        isint(s:getfd(), "getfd")
        assert.is_true(s:getfd() >= 0, "the OS socket exists at once")
      end
      for _, mk in ipairs({ U.dgram, U.udp }) do
        local d = track(mk())
        assert.equal("unixdgram{unconnected}", d.class)
        assert.matches("^unixdgram{unconnected}: 0x%x+$", tostring(d))
        assert.is_true(d:getfd() >= 0)
      end
      assert.equal("function", type(getmetatable(U).__call))
    end)

    it("__close and __gc close the OS socket (§0)", function()
      local before = sockcount()
      local s, d
      do
        local s1 <close> = U.stream()
        local d1 <close> = U.dgram()
        s, d = s1, d1
        assert.equal(before + 2, sockcount())
      end
      assert.equal(-1, s:getfd())
      assert.equal(-1, d:getfd())
      assert.equal(before, sockcount())
      s, d = nil, nil
      local function make()
        local a, b = U.stream(), U.dgram()
        assert.equal(before + 2, sockcount())
        return a ~= b
      end
      assert.is_true(make())
      collectgarbage("collect")
      collectgarbage("collect")
      assert.equal(before, sockcount(), "collected objects kept their sockets")
    end)

    it("socket._FEATURES.unix and .abstract are true", function()
      assert.is_true(socket._FEATURES.unix)
      assert.is_true(socket._FEATURES.abstract)
    end)

    it("registers the five metatables under their class names, with class fields and group keys (§0)", function()
      local reg = debug.getregistry()
      for _, name in ipairs({ "unixstream{master}", "unixstream{client}", "unixstream{server}",
                              "unixdgram{unconnected}", "unixdgram{connected}" }) do
        local mt = reg[name]
        assert.equal("table", type(mt), name .. " is not registered")
        assert.equal(name, mt.__index.class)
        assert.is_true(mt["select{able}"], name .. " lacks select{able}")
        assert.equal("function", type(mt.__gc))
        assert.equal("function", type(mt.__close))
        assert.equal("function", type(mt.__tostring))
      end
    end)
  end)

  describe("unixstream classes and states (§10.1)", function()
    it("master -> server by listen, master -> client by connect; accept gives a client", function()
      local srv, path = userver()
      assert.equal("unixstream{server}", srv.class)
      assert.matches("^unixstream{server}: 0x%x+$", tostring(srv))
      local c = track(U.stream())
      assert.equal(1, c:connect(path))
      assert.equal("unixstream{client}", c.class)
      assert.matches("^unixstream{client}: 0x%x+$", tostring(c))
      local p = track(assert(srv:accept()))
      assert.equal("unixstream{client}", p.class)
    end)

    it("setsockname and setpeername are bind and connect", function()
      local path = tmppath()
      local srv = track(U.stream())
      local r = srv:setsockname(path)
      assert.equal(1, r); isint(r, "setsockname")
      r = srv:listen(5)
      assert.equal(1, r); isint(r, "listen")
      local c = track(U.stream())
      r = c:setpeername(path)
      assert.equal(1, r); isint(r, "setpeername")
      assert.equal("unixstream{client}", c.class)
    end)

    it("bind, listen, connect need a master and raise naming unixstream{master}", function()
      local srv, path = userver()
      local c = track(U.stream())
      assert.equal(1, c:connect(path))
      local p = track(assert(srv:accept()))
      local other = tmppath()
      for _, obj in ipairs({ srv, c, p }) do
        raises(function() obj:bind(other) end, "calling 'bind' on bad self (unixstream{master} expected)")
        raises(function() obj:setsockname(other) end, "calling 'setsockname' on bad self (unixstream{master} expected)")
        raises(function() obj:listen() end, "calling 'listen' on bad self (unixstream{master} expected)")
        raises(function() obj:connect(path) end, "calling 'connect' on bad self (unixstream{master} expected)")
        raises(function() obj:setpeername(path) end, "calling 'setpeername' on bad self (unixstream{master} expected)")
      end
      assert.is_false(exists(other), "a raising bind must not create the file")
    end)

    it("accept needs a server; receive and send need a client", function()
      local m = track(U.stream())
      raises(function() m:accept() end, "calling 'accept' on bad self (unixstream{server} expected)")
      raises(function() m:receive() end, "calling 'receive' on bad self (unixstream{client} expected)")
      raises(function() m:send("x") end, "calling 'send' on bad self (unixstream{client} expected)")
      local srv = userver()
      raises(function() srv:receive() end, "calling 'receive' on bad self (unixstream{client} expected)")
    end)

    it("methods of one family raise on objects of another", function()
      local d = track(U.dgram())
      local t = track(socket.tcp())
      raises(function() U.stream().listen(d) end, "unixstream{master} expected")
      raises(function() U.stream().bind(t, "x") end, "unixstream{master} expected")
      raises(function() d.receivefrom(t) end, "unixdgram{unconnected} expected")
    end)

    it("close keeps the class; getfd gives -1; close again returns 1", function()
      local srv = userver()
      local s = track(U.stream())
      for _, obj in ipairs({ srv, s }) do
        local cls = obj.class
        local r = obj:close()
        assert.equal(1, r); isint(r, "close")
        assert.equal(1, obj:close())
        assert.equal(-1, obj:getfd())
        assert.equal(cls, obj.class)
        assert.matches("^" .. cls:gsub("[{}]", "%%%0") .. ": 0x%x+$", tostring(obj))
      end
    end)

    it("dirty() is false on masters and servers", function()
      local srv = userver()
      assert.is_false(srv:dirty())
      assert.is_false(track(U.stream()):dirty())
    end)
  end)

  describe("unixstream addresses (§10.1)", function()
    it("getsockname returns the path, exactly one value", function()
      local path = tmppath()
      local s = track(U.stream())
      assert.equal(1, s:bind(path))
      assert.equal(1, select("#", s:getsockname()))
      assert.equal(path, s:getsockname())
      assert.is_true(issocket(path))
      assert.equal(1, s:listen())
      assert.equal(path, s:getsockname())
    end)

    it("getpeername returns the peer's path; unbound ends report ''", function()
      local c, p, path = upair()
      assert.equal(path, c:getpeername())
      assert.equal(1, select("#", c:getpeername()))
      assert.equal("", c:getsockname())        -- the connecting end is unbound
      assert.equal(path, p:getsockname())      -- the accepted end carries the server's name
      assert.equal("", p:getpeername())        -- its peer is unbound
    end)

    it("getpeername on an unconnected master: nil,'Transport endpoint is not connected'", function()
      local s = track(U.stream())
      assert.equal(2, soft("Transport endpoint is not connected", s:getpeername()))
    end)

    it("after close getsockname/getpeername give nil,'Bad file descriptor' (§13 row 20)", function()
      local c = upair()
      c:close()
      soft("Bad file descriptor", c:getpeername())
      soft("Bad file descriptor", c:getsockname())
    end)

    it("bind never unlinks: a second bind gives nil,'address already in use', even after the first closed", function()
      local path = tmppath()
      local a = track(U.stream())
      assert.equal(1, a:bind(path))
      local b = track(U.stream())
      assert.equal(2, soft("address already in use", b:bind(path)))
      a:close()
      assert.is_true(issocket(path), "close must not remove the socket file")
      local c = track(U.stream())
      soft("address already in use", c:bind(path))
      assert.is_true(issocket(path))
    end)

    it("bind in a missing directory gives nil,'No such file or directory'", function()
      local s = track(U.stream())
      soft("No such file or directory", s:bind(dir .. "/no/such/dir/sock"))
    end)

    it("a 107-byte path fits; 108 bytes and 10 KB give nil,'path too long' (§7)", function()
      local function ofsize(n)
        seq = seq + 1
        local head = dir .. "/L" .. seq .. "-"
        return head .. string.rep("x", n - #head)
      end
      local ok107 = ofsize(107)
      assert.equal(107, #ok107)
      local s = track(U.stream())
      assert.equal(1, s:bind(ok107))
      assert.equal(ok107, s:getsockname())
      assert.equal(1, s:listen())
      local c = track(U.stream())
      assert.equal(1, c:connect(ok107))
      assert.equal(ok107, c:getpeername())

      for _, n in ipairs({ 108, 109, 200, 10240 }) do
        local long = ofsize(n)
        assert.equal(n, #long)
        soft("path too long", track(U.stream()):bind(long))
        soft("path too long", track(U.stream()):connect(long))
        soft("path too long", track(U.dgram()):bind(long))
        soft("path too long", track(U.dgram()):connect(long))
        soft("path too long", track(U.dgram()):sendto("x", long))
        assert.is_false(exists(long:sub(1, 107)), "nothing may be created for a too-long path")
      end
      -- abstract names are limited too (109 bytes: longer than sun_path whatever the rule)
      soft("path too long", track(U.stream()):bind("\0" .. string.rep("z", 108)))
      soft("path too long", track(U.stream()):bind("\0" .. string.rep("z", 10240)))
    end)

    it("a path with a zero byte in the middle raises", function()
      local s = track(U.stream())
      local bad = dir .. "/a\0b"
      raises(function() s:bind(bad) end, "bad argument #1 to 'bind'")
      raises(function() s:connect(bad) end, "bad argument #1 to 'connect'")
      local d = track(U.dgram())
      raises(function() d:bind(bad) end, "bad argument #1 to 'bind'")
      raises(function() d:connect(bad) end, "bad argument #1 to 'connect'")
      raises(function() d:sendto("x", bad) end, "bad argument #2 to 'sendto'")
      assert.is_false(exists(dir .. "/a"))
      assert.equal("unixstream{master}", s.class)
      assert.is_true(s:getfd() >= 0, "a raising call must not destroy the socket")
    end)

    it("wrong argument types raise naming the argument", function()
      local s = track(U.stream())
      raises(function() s:bind() end, "bad argument #1 to 'bind' (string expected, got no value)")
      raises(function() s:bind({}) end, "bad argument #1 to 'bind' (string expected, got table)")
      raises(function() s:connect() end, "bad argument #1 to 'connect' (string expected, got no value)")
      raises(function() s:setpeername(true) end, "bad argument #1 to 'setpeername' (string expected, got boolean)")
      raises(function() s:listen("many") end, "bad argument #1 to 'listen' (number expected, got string)")
      raises(function() s:settimeout("soon") end, "bad argument #1 to 'settimeout' (number expected, got string)")
      raises(function() s:settimeout(1, "x") end, "bad argument #2 to 'settimeout' (invalid timeout mode)")
      raises(function() s:setoption() end, "bad argument #1 to 'setoption'")
      local c = upair()
      raises(function() c:send() end, "bad argument #1 to 'send' (string expected, got no value)")
      raises(function() c:send({}) end, "bad argument #1 to 'send' (string expected, got table)")
      raises(function() c:receive({}) end, "bad argument #1 to 'receive'")
      raises(function() c:receive("x") end, "bad argument #1 to 'receive' (invalid receive pattern)")
      raises(function() c:receive(-1) end, "invalid receive pattern")
      raises(function() c:shutdown("x") end, "bad argument #1 to 'shutdown' (invalid option 'x')")
      local d = track(U.dgram())
      raises(function() d:bind() end, "bad argument #1 to 'bind' (string expected, got no value)")
      raises(function() d:connect({}) end, "bad argument #1 to 'connect' (string expected, got table)")
      raises(function() d:sendto("x") end, "bad argument #2 to 'sendto' (string expected, got no value)")
      raises(function() d:sendto(nil, dir .. "/x") end, "bad argument #1 to 'sendto' (string expected, got nil)")
      raises(function() d:receive("x") end, "bad argument #1 to 'receive'")
      raises(function() d:receivefrom({}) end, "bad argument #1 to 'receivefrom'")
    end)
  end)

  describe("unixstream connect errors (§10.1, §13 row 18)", function()
    it("a missing path gives nil,'No such file or directory' and destroys the OS socket", function()
      local before = sockcount()
      local c = U.stream()
      assert.is_true(c:getfd() >= 0)
      assert.equal(2, soft("No such file or directory", c:connect(dir .. "/missing")))
      assert.equal(-1, c:getfd())
      assert.equal("unixstream{master}", c.class)
      assert.matches("^unixstream{master}: 0x%x+$", tostring(c))
      assert.equal(before, sockcount(), "the failed connect leaked its descriptor")
      assert.equal(1, c:close())
    end)

    it("bound but not listening gives nil,'connection refused' and destroys the OS socket", function()
      local path = tmppath()
      local b = track(U.stream())
      assert.equal(1, b:bind(path))
      local c = track(U.stream())
      soft("connection refused", c:connect(path))
      assert.equal(-1, c:getfd())
      assert.equal("unixstream{master}", c.class)
      -- setpeername is the same method
      local c2 = track(U.stream())
      soft("connection refused", c2:setpeername(path))
      assert.equal(-1, c2:getfd())
    end)

    it("a stale socket file (its server closed) refuses", function()
      local path = tmppath()
      local srv = track(U.stream())
      assert.equal(1, srv:bind(path))
      assert.equal(1, srv:listen())
      srv:close()
      local c = track(U.stream())
      soft("connection refused", c:connect(path))
      assert.equal(-1, c:getfd())
    end)

    it("a new object connects after a failed one (make a new one to retry)", function()
      local path = tmppath()
      local c = track(U.stream())
      soft("No such file or directory", c:connect(path))
      local srv = userver(path)
      local c2 = track(U.stream())
      assert.equal(1, c2:connect(path))
      assert.equal("unixstream{client}", c2.class)
      assert.truthy(srv:accept())
    end)
  end)

  describe("Linux abstract names (§10.1)", function()
    it("bind/connect with '\\0name'; getsockname and getpeername return the full name; no file appears", function()
      local name = abstract()
      local srv = track(U.stream())
      local before = H.sh("ls -A '" .. dir .. "'")
      assert.equal(1, srv:bind(name))
      assert.equal(name, srv:getsockname())
      assert.equal(1, srv:listen())
      local c = track(U.stream())
      assert.equal(1, c:connect(name))
      assert.equal(name, c:getpeername())
      srv:settimeout(5)
      local p = track(assert(srv:accept()))
      assert.equal(name, p:getsockname())
      assert.equal(4, c:send("ping"))
      p:settimeout(5)
      assert.equal("ping", p:receive(4))
      assert.equal(before, H.sh("ls -A '" .. dir .. "'"))
    end)

    it("all bytes count: embedded and trailing zero bytes are part of the name", function()
      local name = abstract("x\0y")
      local srv = track(U.stream())
      assert.equal(1, srv:bind(name))
      assert.equal(name, srv:getsockname())
      assert.equal(1, srv:listen())
      -- the same name with one more zero byte is a different, unbound name
      soft("connection refused", track(U.stream()):connect(name .. "\0"))
      -- and so is a prefix of it
      soft("connection refused", track(U.stream()):connect(name:sub(1, -2)))
      assert.equal(1, track(U.stream()):connect(name))
      -- a second bind of the same abstract name is in use
      soft("address already in use", track(U.stream()):bind(name))
    end)

    it("an abstract name is released when its socket closes", function()
      local name = abstract()
      local a = track(U.stream())
      assert.equal(1, a:bind(name))
      a:close()
      local b = track(U.stream())
      assert.equal(1, b:bind(name))
    end)
  end)

  describe("unixstream options and timeouts (§10.1, §3)", function()
    it("setoption/getoption keepalive and reuseaddr", function()
      local s = track(U.stream())
      for _, opt in ipairs({ "keepalive", "reuseaddr" }) do
        assert.is_false(s:getoption(opt))
        local r = s:setoption(opt, true)
        assert.equal(1, r); isint(r, "setoption")
        assert.is_true(s:getoption(opt))
        assert.equal(1, s:setoption(opt, false))
        assert.is_false(s:getoption(opt))
        raises(function() s:setoption(opt, 1) end, "bad argument #2 to 'setoption' (boolean expected, got number)")
      end
    end)

    it("setoption/getoption linger", function()
      local c = upair()
      local l = c:getoption("linger")
      assert.same({ on = false, timeout = 0 }, l)
      assert.equal(1, c:setoption("linger", { on = true, timeout = 3 }))
      l = c:getoption("linger")
      assert.same({ on = true, timeout = 3 }, l)
      isint(l.timeout, "linger timeout")
      raises(function() c:setoption("linger", { timeout = 1 }) end, "boolean 'on' field expected")
      raises(function() c:setoption("linger", { on = true }) end, "number 'timeout' field expected")
    end)

    it("TCP-only options raise unsupported option", function()
      local s = track(U.stream())
      raises(function() s:setoption("tcp-nodelay", true) end,
        "bad argument #1 to 'setoption' (unsupported option `tcp-nodelay')")
      raises(function() s:getoption("tcp-nodelay") end,
        "bad argument #1 to 'getoption' (unsupported option `tcp-nodelay')")
      raises(function() s:setoption("broadcast", true) end, "unsupported option `broadcast'")
      raises(function() s:setoption("foo", true) end, "unsupported option `foo'")
    end)

    it("gettimeout gives b, t as floats; settimeout returns 1 (§3)", function()
      local s = track(U.stream())
      local b, t = s:gettimeout()
      assert.equal(-1, b); isfloat(b, "b")
      assert.equal(-1, t); isfloat(t, "t")
      local r = s:settimeout(0.5)
      assert.equal(1, r); isint(r, "settimeout")
      b, t = s:gettimeout()
      assert.equal(0.5, b)
      assert.equal(-1, t)
      assert.equal(1, s:settimeout(2, "t"))
      b, t = s:gettimeout()
      assert.equal(0.5, b)
      assert.equal(2, t); isfloat(t, "t")
      s:settimeout(-5)
      assert.equal(-5, (s:gettimeout()))
      isfloat((s:gettimeout()), "b")
      s:settimeout(nil, "r")
      assert.same({ -5, -1 }, { s:gettimeout() })
    end)

    it("accepted clients start at -1,-1 whatever the server's timeouts (§3)", function()
      local srv, path = userver()
      srv:settimeout(3, "b")
      srv:settimeout(4, "t")
      local c = track(U.stream())
      assert.equal(1, c:connect(path))
      local p = track(assert(srv:accept()))
      assert.same({ -1, -1 }, { p:gettimeout() })
    end)

    it("accept with a timeout and no client gives nil,'timeout'; on a closed server nil,'closed'", function()
      local srv = userver()
      srv:settimeout(0.2)
      local t0 = socket.gettime()
      soft("timeout", srv:accept())
      local el = socket.gettime() - t0
      assert.is_true(el >= 0.15 and el < 1.5, "took " .. el)
      srv:close()
      soft("closed", srv:accept())
    end)

    it("getpeercred gives this process's pid, uid and gid as integers", function()
      local c, p = upair()
      local uid = tonumber((H.sh("id -u")))
      local gid = tonumber((H.sh("id -g")))
      for _, obj in ipairs({ c, p }) do
        local pid, u, g = obj:getpeercred()
        isint(pid, "pid"); isint(u, "uid"); isint(g, "gid")
        assert.equal(H.pid(), pid)
        assert.equal(uid, u)
        assert.equal(gid, g)
      end
    end)

    it("getpeercred gives a child peer's pid", function()
      local srv, path = userver()
      srv:settimeout(20)
      local h = H.child([[
        local U = require("socket.unix")
        local c = U.stream()
        assert(c:connect(arg[1]))
        local f = assert(io.open("/proc/self/stat"))
        local pid = f:read("l"):match("^(%d+)")
        f:close()
        c:send(pid .. "\n")
        c:settimeout(20)
        c:receive("*l")          -- wait until the parent has read our credentials
        c:close()
        io.write("done")
      ]], path)
      local p = track(srv:accept())
      assert.truthy(p, "the child never connected")
      p:settimeout(20)
      local pid, uid = p:getpeercred()
      local line = p:receive("*l")
      p:send("bye\n")
      local out, ok = h:wait()
      assert.equal("done", out)
      assert.is_true(ok)
      isint(pid, "pid")
      assert.equal(tonumber(line), pid)
      assert.are_not.equal(H.pid(), pid)
      assert.equal(tonumber((H.sh("id -u"))), uid)
    end)
  end)

  describe("unixstream receive, send and the §12.1 methods", function()
    it("line patterns drop every CR; 'L' keeps CR and LF; success gives exactly 3 values", function()
      local c, p = upair()
      c:settimeout(5)
      assert.equal(17, p:send("a\r\nb\nli\rne2\nx\r\ny\n"))
      assert.equal(3, select("#", c:receive()))   -- "a"
      assert.same({ "b", nil, nil }, { c:receive("*l") })
      assert.equal("line2", c:receive("l"))
      assert.equal("x\r\n", c:receive("L"))
      assert.equal("y\n", c:receive("*L"))
    end)

    it("*a returns everything with CRs kept, then nil,'closed',''", function()
      local c, p = upair()
      c:settimeout(5)
      p:send("all data\r\nmore")
      p:close()
      assert.equal("all data\r\nmore", c:receive("*a"))
      assert.same({ nil, "closed", "" }, { c:receive("*a") })
    end)

    it("counts, prefixes and early EOF (§13 rows 2, 5)", function()
      local c, p = upair()
      c:settimeout(0.2)
      p:send("hel")
      assert.equal("abcd", c:receive(2, "abcd"))       -- prefix long enough: no I/O
      assert.equal("he", c:receive(2))
      assert.is_true(c:dirty())
      assert.same({ nil, "timeout", "xyl" }, { c:receive(5, "xy") })
      assert.is_false(c:dirty())
      p:send("45")
      assert.equal("xyl45", c:receive(5, "xyl"))
      assert.equal("7", c:receive("1", "7"))            -- numeric string pattern; prefix returned whole
      p:send("hello")
      p:close()
      assert.same({ nil, "closed", "hello" }, { c:receive(10) })
      assert.same({ nil, "closed", "" }, { c:receive(10) })
      assert.same({ nil, "closed", "" }, { c:receive() })
    end)

    it("a timeout consumes the partial; passing it back as prefix continues (§13 row 4)", function()
      local c, p = upair()
      c:settimeout(0.2)
      p:send("rest")
      local t0 = socket.gettime()
      assert.same({ nil, "timeout", "rest" }, { c:receive("*l") })
      local el = socket.gettime() - t0
      assert.is_true(el >= 0.15 and el < 1.5, "took " .. el)
      p:send("abc\n")
      assert.equal("restabc", c:receive("*l", "rest"))
    end)

    it("receive(0): nil,'timeout','' without data; '' with data, which stays (§13 row 6)", function()
      local c, p = upair()
      c:settimeout(0.1)
      assert.same({ nil, "timeout", "" }, { c:receive(0) })
      c:settimeout(5)
      p:send("abc")
      assert.equal("", c:receive(0))
      assert.equal("abc", c:receive(3))
    end)

    it("a block timeout alone is a deadline for the whole call (§3)", function()
      local srv, path = userver()
      srv:settimeout(20)
      -- The child sends one byte every 0.3 s: with a per-wait limit of 0.5 s
      -- receive(10) would never time out and would end with "closed".
      local h = H.child([[
        local U = require("socket.unix")
        local c = U.stream()
        assert(c:connect(arg[1]))
        for _ = 1, 8 do
          socket.sleep(0.3)
          if not c:send("x") then break end
        end
        c:close()
      ]], path)
      local p = track(assert(srv:accept()))
      p:settimeout(0.5)
      local t0 = socket.gettime()
      local d, e, partial = p:receive(10)
      local el = socket.gettime() - t0
      p:close()
      h:wait()
      assert.is_nil(d)
      assert.equal("timeout", e)
      assert.is_true(partial == "x" or partial == "xx", "partial " .. tostring(partial))
      assert.is_true(el >= 0.45 and el < 1.2, "timed out after " .. el .. " s")
    end)

    it("send ranges return the last index as an integer; locally closed gives nil,'closed',i-1", function()
      local c, p = upair()
      p:settimeout(5)
      local r = c:send("hello")
      assert.equal(5, r); isint(r, "send")
      assert.same({ 7, nil, nil }, { c:send("hello world", 3, 7) })
      assert.equal(0, c:send(""))
      assert.equal("hellollo w", p:receive(10))
      c:close()
      assert.same({ nil, "closed", 2 }, { c:send("hello", 3) })
      assert.same({ nil, "closed", "" }, { c:receive() })
    end)

    it("send after the peer closed reports 'closed' without killing the process", function()
      local c, p = upair()
      p:close()
      local last, err
      for _ = 1, 10 do
        last, err = c:send("abc")
        if not last then break end
      end
      assert.is_nil(last)
      assert.equal("closed", err)
    end)

    it("receivesome returns buffered bytes first, then one recv; nil,'timeout'; nil,'closed' (§12.1)", function()
      local c, p = upair()
      c:settimeout(2)
      assert.equal(11, p:send("hello world"))
      assert.equal("h", c:receive(1))
      assert.is_true(c:dirty())
      assert.equal(4, p:send("MORE"))
      assert.equal("ello", c:receivesome(4))
      assert.equal(" world", c:receivesome(100))
      assert.is_false(c:dirty())
      assert.equal("MORE", c:receivesome(100))
      local t0 = socket.gettime()
      assert.same({ nil, "timeout" }, { c:receivesome(10, 0.2) })
      local el = socket.gettime() - t0
      assert.is_true(el >= 0.15 and el < 1.5, "took " .. el)
      p:send("last")
      p:close()
      assert.equal("last", c:receivesome(100))
      assert.same({ nil, "closed" }, { c:receivesome(100) })
    end)

    it("sendsome never waits and returns the last index written (§12.1)", function()
      local c, p = upair()
      local r = c:sendsome("hello")
      assert.equal(5, r); isint(r, "sendsome")
      assert.equal(7, c:sendsome("hello world", 3, 7))
      p:settimeout(2)
      assert.equal("hellollo w", p:receive(10))
      c:settimeout(3)
      local chunk = string.rep("f", 65536)
      local last
      local t0 = socket.gettime()
      for _ = 1, 10000 do
        last = c:sendsome(chunk)
        if last == 0 then break end
      end
      assert.equal(0, last, "the socket buffer never filled")
      assert.equal(2, c:sendsome("hello", 3, 5))
      assert.is_true(socket.gettime() - t0 < 2, "sendsome waited")
    end)

    it("getstats/setstats count bytes, including dropped CR/LF", function()
      local c, p = upair()
      c:settimeout(2)
      p:send("ab\r\n")
      assert.equal("ab", c:receive())
      c:send("hello")
      local rcv, snt, age = c:getstats()
      assert.equal(4, rcv); isint(rcv, "received")
      assert.equal(5, snt); isint(snt, "sent")
      isfloat(age, "age")
      assert.is_true(age >= 0 and age < 60)
      assert.equal(1, c:setstats(10, 20))
      rcv, snt = c:getstats()
      assert.equal(10, rcv)
      assert.equal(20, snt)
    end)

    it("shutdown('send') gives the peer EOF; shutdown returns 1, even when closed", function()
      local c, p = upair()
      p:settimeout(2)
      c:send("bye")
      assert.equal(1, c:shutdown("send"))
      assert.same({ nil, "closed", "bye" }, { p:receive(10) })
      c:close()
      assert.equal(1, c:shutdown())
    end)
  end)

  describe("socket.select with unix sockets (§6)", function()
    it("reports a server with a pending client, readable and writable clients, dirty ones first", function()
      local srv, path = userver()
      local r, w, e = socket.select({ srv }, nil, 0)
      assert.same({}, r); assert.same({}, w); assert.equal("timeout", e)
      local c = track(U.stream())
      assert.equal(1, c:connect(path))
      r = socket.select({ srv }, nil, 2)
      assert.equal(srv, r[1]); assert.equal(1, r[srv])
      local p = track(assert(srv:accept()))
      local _, wr = socket.select(nil, { c }, 2)
      assert.equal(c, wr[1])
      r, w, e = socket.select({ p }, nil, 0)
      assert.equal("timeout", e)
      c:send("abc")
      r = socket.select({ p }, nil, 2)
      assert.equal(p, r[1])
      p:settimeout(2)
      assert.equal("a", p:receive(1))
      -- the rest is buffered: p is returned at once though the kernel has nothing
      assert.is_true(p:dirty())
      local t0 = socket.gettime()
      r = socket.select({ c, p }, nil, 5)
      assert.is_true(socket.gettime() - t0 < 1)
      assert.equal(p, r[1])
      assert.is_nil(r[2])
    end)

    it("reports a unixdgram with a datagram waiting; closed sockets are ignored", function()
      local b, pb = ubound_dgram()
      local a = track(U.dgram())
      local r, _, e = socket.select({ b }, nil, 0)
      assert.equal("timeout", e)
      assert.equal(4, a:sendto("ping", pb))
      r = socket.select({ b }, nil, 2)
      assert.equal(b, r[1])
      local closed = track(U.dgram())
      closed:close()
      r = socket.select({ closed, b }, nil, 2)
      assert.equal(b, r[1])
      assert.is_nil(r[2])
    end)
  end)

  describe("socket.fromfd (§2)", function()
    it("adopts a unix stream fd as unixstream{client}", function()
      local c, p, path = upair()
      local fd = c:getfd()
      c:setfd(-1)          -- detach: c no longer owns fd
      c:close()
      local a = track(socket.fromfd(fd, "unixstream{client}"))
      assert.truthy(a)
      assert.equal("unixstream{client}", a.class)
      assert.equal(fd, a:getfd())
      assert.equal(path, a:getpeername())
      a:settimeout(2)
      p:settimeout(2)
      assert.equal(5, a:send("hello"))
      assert.equal("hello", p:receive(5))
      p:send("back\n")
      assert.equal("back", a:receive())
    end)

    it("adopts a listening unix fd as unixstream{server}", function()
      local srv, path = userver()
      local fd = srv:getfd()
      srv:setfd(-1)
      srv:close()
      local s = track(socket.fromfd(fd, "unixstream{server}"))
      assert.equal("unixstream{server}", s.class)
      assert.equal(path, s:getsockname())
      local c = track(U.stream())
      assert.equal(1, c:connect(path))
      s:settimeout(2)
      assert.truthy(s:accept())
    end)

    it("a bad fd gives nil,'Bad file descriptor'", function()
      soft("Bad file descriptor", socket.fromfd(987654, "unixstream{client}"))
    end)
  end)

  describe("unixdgram (§10.1)", function()
    it("bind needs unconnected; connect works on either and yields unixdgram{connected}", function()
      local b, pb = ubound_dgram()
      local b2, pb2 = ubound_dgram()
      local d = track(U.dgram())
      local r = d:connect(pb)
      assert.equal(1, r); isint(r, "connect")
      assert.equal("unixdgram{connected}", d.class)
      assert.matches("^unixdgram{connected}: 0x%x+$", tostring(d))
      raises(function() d:bind(tmppath()) end, "calling 'bind' on bad self (unixdgram{unconnected} expected)")
      raises(function() d:setsockname(tmppath()) end, "calling 'setsockname' on bad self (unixdgram{unconnected} expected)")
      assert.equal(3, d:send("one"))
      assert.equal("one", b:receive())
      -- connect again, on a connected object, to another path
      assert.equal(1, d:setpeername(pb2))
      assert.equal("unixdgram{connected}", d.class)
      assert.equal(3, d:send("two"))
      assert.equal("two", b2:receive())
      b:settimeout(0)
      soft("timeout", b:receive())
    end)

    it("send needs connected; sendto and receivefrom need unconnected", function()
      local u = track(U.dgram())
      raises(function() u:send("x") end, "calling 'send' on bad self (unixdgram{connected} expected)")
      local _, pb = ubound_dgram()
      local c = track(U.dgram())
      assert.equal(1, c:connect(pb))
      raises(function() c:sendto("x", pb) end, "calling 'sendto' on bad self (unixdgram{unconnected} expected)")
      raises(function() c:receivefrom() end, "calling 'receivefrom' on bad self (unixdgram{unconnected} expected)")
    end)

    it("send and sendto return byte counts as integers", function()
      local b, pb = ubound_dgram()
      local a = track(U.dgram())
      local n = a:sendto("hello", pb)
      assert.equal(5, n); isint(n, "sendto")
      assert.equal("hello", b:receive())
      assert.equal(1, a:connect(pb))
      n = a:send("world!")
      assert.equal(6, n); isint(n, "send")
      assert.equal("world!", b:receive())
    end)

    it("sendto or connect to a missing path gives nil,'No such file or directory'", function()
      local a = track(U.dgram())
      assert.equal(2, soft("No such file or directory", a:sendto("x", dir .. "/missing")))
      soft("No such file or directory", track(U.dgram()):connect(dir .. "/missing"))
    end)

    it("sendto a path bound by a closed socket gives nil,'connection refused'", function()
      local b, pb = ubound_dgram()
      b:close()
      soft("connection refused", track(U.dgram()):sendto("x", pb))
    end)

    it("receivefrom gives data and the sender's path, '' when the sender is unbound", function()
      local b, pb = ubound_dgram()
      local a, pa = ubound_dgram()
      assert.equal(3, a:sendto("abc", pb))
      local d, from = b:receivefrom()
      assert.equal("abc", d)
      assert.equal(pa, from)
      local anon = track(U.dgram())
      assert.equal(4, anon:sendto("anon", pb))
      assert.same({ "anon", "" }, { b:receivefrom() })
      -- the reply goes back to the bound sender
      assert.equal(2, b:sendto("ok", from))
      assert.same({ "ok", pb }, { a:receivefrom() })
    end)

    it("abstract names: getsockname and receivefrom return the full '\\0name'", function()
      local na, nb = abstract("da"), abstract("db")
      local a = track(U.dgram())
      local b = track(U.dgram())
      assert.equal(1, a:bind(na))
      assert.equal(1, b:bind(nb))
      assert.equal(na, a:getsockname())
      b:settimeout(5)
      assert.equal(2, a:sendto("hi", nb))
      assert.same({ "hi", na }, { b:receivefrom() })
    end)

    it("receive defaults to 8192 bytes; larger sizes are honoured; one value is returned", function()
      local b, pb = ubound_dgram()
      local a = track(U.dgram())
      local big = {}
      for i = 1, 10000 do big[i] = string.char(32 + i % 90) end
      big = table.concat(big)
      assert.equal(10000, a:sendto(big, pb))
      assert.equal(1, select("#", b:receive()))   -- consumes one datagram
      assert.equal(10000, a:sendto(big, pb))
      local d = b:receive()
      assert.equal(8192, #d)
      assert.equal(big:sub(1, 8192), d)
      assert.equal(10000, a:sendto(big, pb))
      assert.equal(big, b:receive(20000))
      assert.equal(10000, a:sendto(big, pb))
      local df, from = b:receivefrom()
      assert.equal(big:sub(1, 8192), df)
      assert.equal("", from)
    end)

    it("a datagram longer than size is truncated and the rest lost", function()
      local b, pb = ubound_dgram()
      local a, pa = ubound_dgram()
      a:sendto("hello world", pb)
      a:sendto("next", pb)
      assert.equal("hello", b:receive(5))
      assert.equal("next", b:receive())
      a:sendto("hello world", pb)
      assert.same({ "hel", pa }, { b:receivefrom(3) })
      b:settimeout(0)
      soft("timeout", b:receive())
    end)

    it("an empty datagram is sent (0) and received as ''", function()
      local b, pb = ubound_dgram()
      local a, pa = ubound_dgram()
      local n = a:sendto("", pb)
      assert.equal(0, n); isint(n, "sendto")
      assert.equal("", b:receive())
      assert.equal(0, a:sendto("", pb))
      assert.same({ "", pa }, { b:receivefrom() })
      local c = track(U.dgram())
      assert.equal(1, c:connect(pb))
      assert.equal(0, c:send(""))
      assert.equal("", b:receive())
    end)

    it("timeouts give nil,'timeout'; settimeout/gettimeout as §3", function()
      local b = ubound_dgram()
      local d = track(U.dgram())
      assert.same({ -1, -1 }, { d:gettimeout() })
      isfloat((d:gettimeout()), "b")
      local r = b:settimeout(0.2)
      assert.equal(1, r); isint(r, "settimeout")
      assert.same({ 0.2, -1 }, { b:gettimeout() })
      local t0 = socket.gettime()
      assert.equal(2, soft("timeout", b:receive()))
      local el = socket.gettime() - t0
      assert.is_true(el >= 0.15 and el < 1.5, "took " .. el)
      t0 = socket.gettime()
      soft("timeout", b:receivefrom())
      el = socket.gettime() - t0
      assert.is_true(el >= 0.15 and el < 1.5, "took " .. el)
      b:settimeout(0)
      t0 = socket.gettime()
      soft("timeout", b:receive())
      assert.is_true(socket.gettime() - t0 < 0.1)
      b:settimeout(5, "t")
      b:settimeout(0.1)
      assert.same({ 0.1, 5 }, { b:gettimeout() })
      raises(function() b:settimeout(1, "x") end, "bad argument #2 to 'settimeout' (invalid timeout mode)")
    end)

    -- A unix datagram receiver that does not read fills up; then sends would
    -- block (EAGAIN), and must obey the timeouts like every other wait (§3).
    -- Run in a child under timeout(1) (coreutils), so a spinning send cannot hang the suite.
    -- `send` is the Lua expression that sends one datagram with `a`.
    local function fullqueue_child(connect, send)
      local h = H.childsh("timeout 20", [[
        local U = require("socket.unix")
        local path = arg[1]
        local b = U.dgram()
        assert(b:bind(path))
        local a = U.dgram()
        if arg[2] == "connect" then assert(a:connect(path)) end
        local function snd() return ]] .. send .. [[ end
        a:settimeout(0)
        local t0 = socket.gettime()
        local n, r, e = 0, nil, nil
        for _ = 1, 100000 do
          r, e = snd()
          if not r then break end
          n = n + 1
        end
        io.write(("fill %s %s %.2f\n"):format(tostring(r), tostring(e), socket.gettime() - t0))
        io.flush()
        a:settimeout(0.3)
        t0 = socket.gettime()
        r, e = snd()
        io.write(("timed %s %s %.2f\n"):format(tostring(r), tostring(e), socket.gettime() - t0))
      ]], tmppath("full"), connect and "connect" or "")
      local out, ok = h:wait()
      assert.is_true(ok, "the child did not finish (a spinning send?): " .. out)
      local el0 = tonumber(out:match("^fill nil timeout ([%d.]+)\n"))
      assert.truthy(el0, out)
      assert.is_true(el0 < 2, "filling with b=0 took " .. el0)
      local el = tonumber(out:match("\ntimed nil timeout ([%d.]+)\n"))
      assert.truthy(el, out)
      assert.is_true(el >= 0.25 and el < 1.5, "timed out after " .. el)
    end

    it("sendto to a full receiver: b=0 gives nil,'timeout' at once, b=0.3 after about 0.3 s", function()
      fullqueue_child(false, 'a:sendto("x", path)')
    end)

    it("send on a connected socket to a full receiver: nil,'timeout' at once, then after the timeout", function()
      fullqueue_child(true, 'a:send("x")')
    end)

    it("getsockname gives the path ('' unbound); setoption('reuseaddr') returns 1; other options raise", function()
      local b, pb = ubound_dgram()
      assert.equal(pb, b:getsockname())
      assert.is_true(issocket(pb))
      assert.equal("", track(U.dgram()):getsockname())
      local r = b:setoption("reuseaddr", true)
      assert.equal(1, r); isint(r, "setoption")
      raises(function() b:setoption("tcp-nodelay", true) end, "unsupported option `tcp-nodelay'")
    end)

    it("bind never unlinks: a second bind gives nil,'address already in use'", function()
      local b, pb = ubound_dgram()
      soft("address already in use", track(U.dgram()):bind(pb))
      b:close()
      soft("address already in use", track(U.dgram()):bind(pb))
    end)

    it("a closed object answers nil,'closed'; close twice returns 1; class kept; getfd -1; dirty false", function()
      local _, pb = ubound_dgram()
      local u = track(U.dgram())
      local c = track(U.dgram())
      assert.equal(1, c:connect(pb))
      assert.is_false(u:dirty())
      for _, d in ipairs({ u, c }) do
        local cls = d.class
        local r = d:close()
        assert.equal(1, r); isint(r, "close")
        assert.equal(1, d:close())
        assert.equal(-1, d:getfd())
        assert.equal(cls, d.class)
        assert.matches("^" .. cls:gsub("[{}]", "%%%0") .. ": 0x%x+$", tostring(d))
        assert.equal(2, soft("closed", d:receive()))
      end
      soft("closed", u:sendto("x", pb))
      soft("closed", u:receivefrom())
      soft("closed", c:send("x"))
    end)
  end)
end)
