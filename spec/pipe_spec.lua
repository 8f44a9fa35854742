-- socket.pipe: named pipes on top of socket.unix (API.md §10.2).
local socket = require("socket")
local H = require("helper")
local U = require("socket.unix")
local pipe = require("socket.pipe")

local dir -- a fresh temp directory for this file (mktemp -d), removed in teardown
local seq = 0

local function tmppath(tag)
  seq = seq + 1
  return ("%s/%s%d"):format(dir, tag or "p", seq)
end

-- A fresh name for the abstract namespace, without the leading "@".
local function abstractname(tag)
  seq = seq + 1
  return ("netsocket-pipe-spec-%d-%d-%s"):format(H.pid(), seq, tag or "a")
end

local function issocket(path)
  local _, ok = H.sh("test -S '" .. path .. "'")
  return ok
end

-- The descriptors of this process, one "fd -> target" per line (for messages).
local function fdlist()
  return (H.sh("ls -l /proc/" .. H.pid() .. "/fd | sed -n 's/.* \\([0-9]* -> .*\\)$/\\1/p'"))
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

-- Asserts that `...` is exactly nil, err.
local function soft(err, ...)
  assert.equal(2, select("#", ...), "expected exactly nil, err")
  local a, b = ...
  assert.is_nil(a, "expected nil, got " .. tostring(a))
  assert.equal(err, b)
end

-- Fills the accept queue of the listener at `path` with clients that are
-- never accepted: non-blocking connects until one says "timeout". Returns how
-- many got in.
local function fill_backlog(path)
  for n = 0, 256 do
    local c = track(U.stream())
    c:settimeout(0)
    local ok, err = c:connect(path)
    if not ok then
      assert.equal("timeout", err)
      return n
    end
  end
  error("the accept queue never filled")
end

describe("socket.pipe #linux #unixsock", function()
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

  describe("bind", function()
    it("returns a unixstream{server} bound to the path", function()
      local path = tmppath()
      local srv = track(pipe.bind(path))
      assert.truthy(srv)
      assert.equal("unixstream{server}", srv.class)
      assert.equal(path, srv:getsockname())
      assert.is_true(issocket(path))
      local c = track(pipe.connect(path))
      assert.truthy(c)
      srv:settimeout(5)
      local p = track(assert(srv:accept()))
      assert.equal("unixstream{client}", p.class)
      assert.equal(5, c:send("hello"))
      p:settimeout(5)
      assert.equal("hello", p:receive(5))
    end)

    it("passes the backlog to listen (default 32)", function()
      local path = tmppath()
      track(assert(pipe.bind(path, 1)))
      local n = fill_backlog(path)
      assert.is_true(n >= 1 and n <= 2, n .. " connections queued with backlog 1")
      local path2 = tmppath()
      track(assert(pipe.bind(path2)))
      n = fill_backlog(path2)
      assert.is_true(n >= 32 and n <= 33, n .. " connections queued with the default backlog")
    end)

    it("'@name' is the abstract name '\\0name': no file, getsockname gives '\\0name'", function()
      local name = abstractname()
      local before = H.sh("ls -A '" .. dir .. "' .")
      local srv = track(pipe.bind("@" .. name))
      assert.truthy(srv)
      assert.equal("unixstream{server}", srv.class)
      assert.equal("\0" .. name, srv:getsockname())
      assert.equal(before, H.sh("ls -A '" .. dir .. "' ."), "a file appeared")
      -- reachable through the raw API with the real abstract name ...
      local raw = track(U.stream())
      assert.equal(1, raw:connect("\0" .. name))
      -- ... and through pipe.connect with "@"
      local c = track(pipe.connect("@" .. name))
      assert.truthy(c)
      assert.equal("\0" .. name, c:getpeername())
      srv:settimeout(5)
      assert.truthy(srv:accept())
      assert.truthy(srv:accept())
    end)

    it("a second bind of a live abstract name gives nil,'address already in use'", function()
      local name = "@" .. abstractname()
      track(assert(pipe.bind(name)))
      soft("address already in use", pipe.bind(name))
    end)

    it("an abstract server's close removes no file and returns 1", function()
      local name = abstractname()
      local srv = assert(pipe.bind("@" .. name))
      assert.equal(1, srv:close())
      assert.equal(1, srv:close())
      assert.is_false(exists(name))
      assert.is_false(exists("@" .. name))
      -- the name is free again
      track(assert(pipe.bind("@" .. name)))
    end)

    it("cleans up a stale socket file and binds", function()
      local path = tmppath()
      local raw = U.stream()
      assert.equal(1, raw:bind(path))
      raw:close()                       -- no listen, no unlink: a stale file
      assert.is_true(issocket(path))
      soft("address already in use", track(U.stream()):bind(path))
      local srv = track(pipe.bind(path))
      assert.truthy(srv, "the stale file was not cleaned up")
      assert.equal("unixstream{server}", srv.class)
      local c = track(pipe.connect(path))
      assert.truthy(c)
      srv:settimeout(5)
      assert.truthy(srv:accept())
    end)

    it("cleans up the file of a server that listened and closed", function()
      local path = tmppath()
      local raw = U.stream()
      assert.equal(1, raw:bind(path))
      assert.equal(1, raw:listen())
      raw:close()
      assert.is_true(issocket(path), "a raw server must not unlink on close")
      track(assert(pipe.bind(path)))
    end)

    it("a live server's path gives nil,'address already in use' and is left alone", function()
      local path = tmppath()
      local srv = track(assert(pipe.bind(path)))
      local fds = sockcount()
      soft("address already in use", pipe.bind(path))
      assert.equal(fds, sockcount(), "the failed bind leaked descriptors")
      assert.is_true(issocket(path), "the live server's file was removed")
      -- The stale check probes the path with a real connect, which the live
      -- server sees as one extra connection, closed at once by the prober:
      -- accept it, and see EOF on it. There is exactly one.
      srv:settimeout(5)
      local probe = track(assert(srv:accept()))
      probe:settimeout(5)
      assert.same({ nil, "closed", "" }, { probe:receive() })
      srv:settimeout(0)
      soft("timeout", srv:accept())
      -- the live server still works
      local c = track(pipe.connect(path))
      assert.truthy(c)
      srv:settimeout(5)
      local p = track(assert(srv:accept()))
      c:send("still\n")
      p:settimeout(5)
      assert.equal("still", p:receive())
    end)

    -- The probe must not block on a live server whose accept queue is full,
    -- and must not take "would block" for "stale". In a child under
    -- timeout(1) (coreutils) so a blocking probe cannot hang the suite.
    it("a live server with a full accept queue is not stale: nil,'address already in use'", function()
      local path = tmppath("busy")
      local h = H.childsh("timeout 20", [[
        local U = require("socket.unix")
        local pipe = require("socket.pipe")
        local path = arg[1]
        local srv = U.stream()
        assert(srv:bind(path))
        assert(srv:listen(0))
        local keep = {}
        for _ = 1, 64 do
          local c = U.stream()
          c:settimeout(0)
          keep[#keep + 1] = c
          if not c:connect(path) then break end
        end
        local t0 = socket.gettime()
        local s, err = pipe.bind(path)
        io.write(("%s %s %.2f\n"):format(tostring(s), tostring(err), socket.gettime() - t0))
      ]], path)
      local out, ok = h:wait()
      assert.is_true(ok, "the child did not finish (a blocking probe?): " .. out)
      local el = tonumber(out:match("^nil address already in use ([%d.]+)\n$"))
      assert.truthy(el, out)
      assert.is_true(el < 2, "pipe.bind took " .. el .. " s")
      assert.is_true(issocket(path), "the live server's file was removed")
    end)

    it("a live raw (non-pipe) server's path also gives nil,'address already in use'", function()
      local path = tmppath()
      local srv = track(U.stream())
      assert.equal(1, srv:bind(path))
      assert.equal(1, srv:listen())
      soft("address already in use", pipe.bind(path))
      assert.is_true(issocket(path))
      srv:settimeout(5)
      assert.truthy(srv:accept(), "the probe connection should be there") -- see above
    end)

    -- §10.2 unlinks only a stale *socket* file. A regular file in the way is
    -- not a stale pipe (connect to it is refused too, so the probe alone
    -- cannot tell): the bind must fail and the file must survive.
    it("a regular file at the path is not removed: nil,'address already in use'", function()
      local path = tmppath("regular")
      local f = assert(io.open(path, "w"))
      f:write("precious data\n")
      f:close()
      local srv, err = pipe.bind(path)
      track(srv)
      local g = io.open(path, "r")
      local content = g and g:read("a")
      if g then g:close() end
      assert.equal("precious data\n", content, "pipe.bind deleted a regular file")
      assert.is_nil(srv)
      assert.equal("address already in use", err)
    end)

    it("a missing directory gives nil,'No such file or directory'", function()
      soft("No such file or directory", pipe.bind(dir .. "/no/such/dir/p"))
    end)

    it("a path of 108 bytes gives nil,'path too long'", function()
      local head = dir .. "/long-"
      soft("path too long", pipe.bind(head .. string.rep("x", 108 - #head)))
      soft("path too long", pipe.bind(head .. string.rep("x", 10240)))
    end)

    it("the server removes its file on close()", function()
      local path = tmppath()
      local srv = assert(pipe.bind(path))
      assert.is_true(issocket(path))
      local r = srv:close()
      assert.equal(1, r)
      assert.equal("integer", math.type(r))
      assert.is_false(exists(path), "close() left the socket file behind")
      assert.equal(1, srv:close())
      -- the path is free for a raw bind (no stale handling needed)
      local raw = track(U.stream())
      assert.equal(1, raw:bind(path))
    end)

    it("the server removes its file when garbage-collected without close", function()
      local path = tmppath()
      local function make()
        local srv = assert(pipe.bind(path))
        assert.is_true(issocket(path))
      end
      make()
      collectgarbage("collect")
      collectgarbage("collect")
      assert.is_false(exists(path), "the collected server left its socket file behind")
    end)

    it("a closed server, collected later, leaves a newer file at its path alone", function()
      local path = tmppath()
      local function make()
        local srv = assert(pipe.bind(path))
        assert.equal(1, srv:close())
      end
      make()
      assert.is_false(exists(path))
      local raw = track(U.stream())
      assert.equal(1, raw:bind(path))
      collectgarbage("collect")
      collectgarbage("collect")
      assert.is_true(issocket(path), "collecting the old server removed the new file")
    end)

    it("a server closed with <close> removes its file", function()
      local path = tmppath()
      H.closing(function()
        assert.is_true(issocket(path))
      end, assert(pipe.bind(path)))
      assert.is_false(exists(path))
    end)

    it("closing an accepted client or a client does not remove the server's file", function()
      local path = tmppath()
      local srv = track(assert(pipe.bind(path)))
      local c = assert(pipe.connect(path))
      srv:settimeout(5)
      local p = assert(srv:accept())
      p:close()
      c:close()
      assert.is_true(issocket(path))
    end)

    it("a raw U server never removes its file", function()
      local path = tmppath()
      local srv = U.stream()
      assert.equal(1, srv:bind(path))
      assert.equal(1, srv:listen())
      srv:close()
      assert.is_true(issocket(path))
      local gcpath = tmppath()
      local function make()
        local s = U.stream()
        assert.equal(1, s:bind(gcpath))
        assert.equal(1, s:listen())
      end
      make()
      collectgarbage("collect")
      collectgarbage("collect")
      assert.is_true(issocket(gcpath))
    end)

    it("a bad name raises naming argument #1", function()
      -- (pipe is Lua code: an absent argument may read "got nil" or "got no value")
      H.raises(pipe.bind, { n = 0 }, "bad argument #1 to 'bind' (string expected, got ")
      H.raises(pipe.bind, { {}, n = 1 }, "bad argument #1 to 'bind' (string expected, got table)")
    end)
  end)

  describe("connect", function()
    it("returns a unixstream{client} with timeouts -1,-1, also when a timeout was given", function()
      local path = tmppath()
      local srv = track(assert(pipe.bind(path)))
      srv:settimeout(5)
      for _, t in ipairs({ false, 2.5, 0 }) do
        local c
        if t then c = pipe.connect(path, t) else c = pipe.connect(path) end
        track(c)
        assert.truthy(c)
        assert.equal("unixstream{client}", c.class)
        assert.equal(path, c:getpeername())
        local b, tt = c:gettimeout()
        assert.equal(-1, b)
        assert.equal(-1, tt)
        local p = track(assert(srv:accept()))
        p:settimeout(5)
        assert.equal(3, c:send("abc"))
        assert.equal("abc", p:receive(3))
        p:send("xyz")
        assert.equal("xyz", c:receive(3))
      end
    end)

    it("a missing path gives nil,'No such file or directory'", function()
      local fds = sockcount()
      soft("No such file or directory", pipe.connect(dir .. "/missing"))
      soft("No such file or directory", pipe.connect(dir .. "/missing", 1))
      assert.equal(fds, sockcount(), "failed connects leaked descriptors")
    end)

    it("a path bound but not listening gives nil,'connection refused'", function()
      local path = tmppath()
      local raw = track(U.stream())
      assert.equal(1, raw:bind(path))
      soft("connection refused", pipe.connect(path))
      soft("connection refused", pipe.connect(path, 1))
    end)

    it("an unbound abstract name gives nil,'connection refused'", function()
      soft("connection refused", pipe.connect("@" .. abstractname()))
    end)

    for _, backlog in ipairs({ 0, 1 }) do
      it("with a timeout to a listener whose backlog is full (listen(" .. backlog .. ")) gives nil,'timeout' after about that timeout", function()
        local path = tmppath()
        local srv = track(U.stream())
        assert.equal(1, srv:bind(path))
        assert.equal(1, srv:listen(backlog))
        local n = fill_backlog(path)
        assert.is_true(n >= 1, "no connection got in")
        local fds, fdsbefore = sockcount(), fdlist()
        local t0 = socket.gettime()
        soft("timeout", pipe.connect(path, 0.5))
        local el = socket.gettime() - t0
        assert.is_true(el >= 0.45 and el < 2, "gave up after " .. el .. " s")
        t0 = socket.gettime()
        soft("timeout", pipe.connect(path, 0))
        assert.is_true(socket.gettime() - t0 < 0.3, "a zero timeout waited")
        assert.equal(fds, sockcount(), "the timed-out connects leaked descriptors:\nbefore\n"
          .. fdsbefore .. "after\n" .. fdlist())
        -- once one queued client is accepted, there is room again
        srv:settimeout(5)
        track(assert(srv:accept()))
        local c = track(pipe.connect(path, 2))
        assert.truthy(c)
        assert.same({ -1, -1 }, { c:gettimeout() })
      end)
    end

    it("a bad name raises naming argument #1", function()
      H.raises(pipe.connect, { n = 0 }, "bad argument #1 to 'connect' (string expected, got ")
      H.raises(pipe.connect, { nil, 1, n = 2 }, "bad argument #1 to 'connect' (string expected, got nil)")
    end)
  end)

  describe("the raw U methods never apply the '@' mapping", function()
    it("U.stream():bind('@x') creates a file named '@x' in the cwd", function()
      -- run in the temp dir as cwd so nothing is left in the working tree
      local h = H.childsh("cd '" .. dir .. "' &&", [[
        local U = require("socket.unix")
        local s = U.stream()
        io.write(tostring(s:bind("@x")), " ", tostring(s:getsockname()), "\n")
        s:close()
      ]])
      local out, ok = h:wait()
      assert.is_true(ok, out)
      assert.equal("1 @x\n", out)
      assert.is_true(issocket(dir .. "/@x"), "no file named @x in the cwd")
    end)

    it("a bound path may contain '@' anywhere; connect('@name') on a raw object is a relative path", function()
      local path = dir .. "/@y"
      local raw = track(U.stream())
      assert.equal(1, raw:bind(path))
      assert.equal(path, raw:getsockname())
      assert.is_true(issocket(path))
      local name = abstractname()
      track(assert(pipe.bind("@" .. name)))
      soft("No such file or directory", track(U.stream()):connect("@" .. name))
    end)
  end)
end)
