-- socket.co skips the epoll_ctl of a wait when the poller already holds
-- that descriptor (poller:set with the token a wait yields), and a plain
-- socket whose last read emptied the kernel's queue waits before reading
-- again instead of spending a recv on EAGAIN. Pinned here: the syscalls
-- saved stay saved, and neither shortcut ever costs a wake-up or a byte.
local socket = require("socket")
local co = require("socket.co")
local H = require("helper")

describe("poller:set with a token", function()
  it("skips a set that repeats the last one made with the same token #linux #linuxonly", function()
    local p = assert(socket.poller())
    local to = assert(socket.udp())
    assert(to:setsockname("127.0.0.1", 0))
    local u = assert(socket.udp())
    assert(u:setsockname("127.0.0.1", 0))
    local fd = u:getfd()
    assert(p:set(fd, "r", 42))
    assert(to:sendto("x", u:getsockname()))
    local n, out = p:wait(2)
    assert.equal(1, n)
    assert.equal(fd, out[1])
    -- The descriptor goes away behind the poller's back (the kernel drops
    -- its registration) and a new socket gets the same number: the lowest
    -- free one, once any lower holes are filled.
    u:close()
    local held, u2 = {}, nil
    for _ = 1, 64 do
      u2 = assert(socket.udp())
      assert(u2:setsockname("127.0.0.1", 0))
      if u2:getfd() == fd then break end
      held[#held + 1] = u2
    end
    for _, h in ipairs(held) do h:close() end
    assert.equal(fd, u2:getfd())
    assert(to:sendto("y", u2:getsockname()))
    assert(p:set(fd, "r", 42))          -- the same token: taken as registered
    assert.equal(0, (p:wait(0.1)))       -- so nothing is watched: the skip is real
    assert(p:set(fd, "r", 43))          -- another descriptor's token: registered
    n, out = p:wait(2)
    assert.equal(1, n)
    assert.equal(fd, out[1])
    assert(p:set(fd, ""))
    assert(p:set(fd, "r", 43))          -- removed since: registered again
    assert.equal(1, (p:wait(2)))
    u2:close() to:close() p:close()
  end)

  it("rejects a token that is not an integer", function()
    local p = assert(socket.poller())
    local c, q = H.pair()
    H.raises(function() return p:set(c, "r", "x") end, {}, "bad argument #3 to 'set'")
    H.raises(function() return p:set(c, "r", 1.5) end, {}, "bad argument #3 to 'set'")
    c:close() q:close() p:close()
  end)
end)

describe("socket.co registration cache", function()
  -- A socket collected without close() frees its fd unannounced while its
  -- read interest lingers in the scheduler; a new socket with the same
  -- number must still be registered (a different token) and wake.
  it("wakes a task on a new socket that reuses a collected socket's fd", function()
    local results, reused = {}, 0
    for round = 1, 5 do
      local fd, srv2, port2
      local weak = setmetatable({}, { __mode = "k" })
      do
        local c, p = H.pair()
        srv2, port2 = H.server()               -- takes the pair's freed listener fd
        weak[c] = true
        c:settimeout(5)
        fd = c:getfd()
        co.spawn(function() results[#results + 1] = c:receive("*l") end)   -- waits first
        co.spawn(function() co.sleep(0.02); p:send("round " .. round .. "\n") end)
        assert.is_true(co.run(5))
        p:close()
      end
      collectgarbage() collectgarbage()          -- c goes, its fd with it
      assert.is_nil(next(weak), "the socket was not collected: the test proved nothing")
      local c2 = assert(socket.connect("127.0.0.1", port2))
      local p2 = assert(srv2:accept())
      srv2:close()                               -- c2 has no timeout: a lost wake-up
      if c2:getfd() == fd then reused = reused + 1 end   -- hangs until co.run gives up
      co.spawn(function() results[#results + 1] = c2:receive("*l") end)
      co.spawn(function() co.sleep(0.05); p2:send("again\n") end)
      local ok, err = co.run(5)
      c2:close() p2:close()
      assert.is_true(ok, tostring(err))
    end
    assert.is_true(reused > 0, "the kernel never reused the fd: the test proved nothing")
    for i = 1, 5 do
      assert.equal("round " .. i, results[2 * i - 1])
      assert.equal("again", results[2 * i])
    end
  end)

  it("wakes a task after setfd gave its object another descriptor", function()
    local a, pa = H.pair()
    local b, pb = H.pair()
    a:settimeout(5)
    local got = {}
    co.spawn(function()
      got[1] = a:receive("*l")                   -- registers a's fd, which lingers
      local old = a:getfd()
      a:setfd(b:getfd())                         -- a now reads b's descriptor
      b:setfd(old)
      got[2] = a:receive("*l")
    end)
    assert(pa:send("first\n"))
    co.spawn(function() co.sleep(0.05); pb:send("second\n") end)
    local ok, err = co.run(5)
    a:close() b:close() pa:close() pb:close()
    assert.is_true(ok, tostring(err))
    assert.same({ "first", "second" }, got)
  end)
end)

describe("socket.co read after a drained read", function()
  it("waits for the rest of a pattern that arrives in pieces", function()
    local c, p = H.pair()
    c:settimeout(5)
    local got
    co.spawn(function() got = c:receive(100) end)
    co.spawn(function()
      p:send(("a"):rep(40))
      co.sleep(0.05)
      p:send(("b"):rep(60))
    end)
    assert.is_true(co.run(5))
    c:close() p:close()
    assert.equal(("a"):rep(40) .. ("b"):rep(60), got)
  end)

  it("with timeout 0 reads what came meanwhile instead of answering timeout", function()
    local c, p = H.pair()
    local got = {}
    co.spawn(function()
      c:settimeout(5)
      got[1] = c:receive("*l")                   -- a short read: the queue was drained
      c:settimeout(0)
      p:send("two\n")
      co.sleep(0.05)                             -- "two" has arrived by now
      got[2], got[3] = c:receive("*l")
    end)
    assert(p:send("one\n"))
    assert.is_true(co.run(5))
    c:close() p:close()
    assert.same({ "one", "two" }, got)
  end)

  it("times out with the partial result after a drained read", function()
    local c, p = H.pair()
    local r
    co.spawn(function()
      c:settimeout(0.1)
      assert.equal("x", c:receive("*l"))
      local t0 = socket.gettime()
      r = table.pack(c:receive("*l"))
      r.dt = socket.gettime() - t0
    end)
    assert(p:send("x\nabc"))
    assert.is_true(co.run(5))
    c:close() p:close()
    assert.equal(nil, r[1])
    assert.equal("timeout", r[2])
    assert.equal("abc", r[3])
    assert.is_true(r.dt >= 0.09, "ended early: " .. r.dt)
  end)

  it("reports the peer's close after a drained read", function()
    local c, p = H.pair()
    local r
    co.spawn(function()
      c:settimeout(5)
      assert.equal("x", c:receive("*l"))
      r = table.pack(c:receive("*l"))
    end)
    co.spawn(function() p:send("x\n"); co.sleep(0.05); p:send("tail"); p:close() end)
    assert.is_true(co.run(5))
    c:close()
    assert.same({ nil, "closed", "tail", n = 3 }, r)
  end)
end)

-- strace counts what the shortcuts save: a cosocket echo (client and
-- server tasks in one process, 300 round trips on one connection) makes
-- no EAGAIN recv and a constant number of epoll_ctl calls. Before them:
-- two EAGAIN recvs and about two epoll_ctl per round trip.
describe("socket.co syscalls per round trip", function()
  it("has no EAGAIN recv and no epoll_ctl per wait #linux #strace", function()
    local _, have = H.sh("command -v strace")
    assert.is_true(have, "strace is missing (scripts/deps.sh installs it)")
    local log = os.tmpname()
    local h = H.childsh("strace -f -qq -e trace=recvfrom,epoll_ctl -o " .. log, [[
      local co = require("socket.co")
      local srv = assert(socket.bind("127.0.0.1", 0))
      local ip, port = srv:getsockname()
      local c = assert(socket.connect(ip, port))
      local s = assert(srv:accept())
      c:settimeout(5) s:settimeout(5)
      local N, msg, done = 300, ("m"):rep(64), 0
      co.spawn(function()
        while true do
          local r = s:receive(64)
          if not r then return end
          s:send(r)
        end
      end)
      co.spawn(function()
        for _ = 1, N do
          c:send(msg)
          if c:receive(64) == msg then done = done + 1 end
        end
        c:close()
      end)
      assert(co.run(20))
      print("done", done)
    ]])
    local out = h.wait()
    local f = assert(io.open(log))
    local text = f:read("a")
    f:close()
    os.remove(log)
    assert.truthy(out:find("done\t300", 1, true), out)
    local recvs, eagain, ctl = 0, 0, 0
    for line in text:gmatch("[^\n]+") do
      if line:find("recvfrom(", 1, true) then
        recvs = recvs + 1
        if line:find("EAGAIN", 1, true) then eagain = eagain + 1 end
      elseif line:find("epoll_ctl(", 1, true) then
        ctl = ctl + 1
      end
    end
    assert.is_true(recvs >= 600, "recvs: " .. recvs)       -- the trace saw the work
    assert.is_true(eagain <= 10, "EAGAIN recvs: " .. eagain .. " of " .. recvs)
    assert.is_true(ctl <= 10, "epoll_ctl: " .. ctl)
  end)
end)

-- The poller keeps one task per fd and direction, or a set when several
-- wait on the same one (select in several tasks, a reader and selects).
describe("socket.co with several tasks waiting on one fd", function()
  it("wakes every task that waits to read the same socket", function()
    local c, p = H.pair()
    c:settimeout(5)
    local woke, line = 0, nil
    for _ = 1, 3 do
      co.spawn(function()
        local r = socket.select({ c }, nil, 5)
        if r[1] == c then woke = woke + 1 end
      end)
    end
    -- whichever runs first, the second line stays buffered: c stays ready
    co.spawn(function() line = c:receive("*l") end)
    co.spawn(function() co.sleep(0.05); p:send("for all\nand more\n") end)
    local ok, err = co.run(5)
    c:close() p:close()
    assert.is_true(ok, tostring(err))
    assert.equal(3, woke)
    assert.equal("for all", line)
  end)

  it("keeps the other waiter when one of two times out", function()
    local c, p = H.pair()
    local r1, r2
    co.spawn(function() r1 = table.pack(socket.select({ c }, nil, 0.05)) end)
    co.spawn(function() r2 = table.pack(socket.select({ c }, nil, 5)) end)
    co.spawn(function() co.sleep(0.2); p:send("late") end)
    local ok, err = co.run(2)                      -- r2's own 5 s would hide a lost wake-up
    c:close() p:close()
    assert.is_true(ok, tostring(err))
    assert.equal("timeout", r1[3])
    assert.equal(c, r2[1][1])
  end)

  it("drops the rest of a select set once one of its sockets is ready", function()
    local a, pa = H.pair()
    local b, pb = H.pair()
    a:settimeout(5)
    local first, later
    co.spawn(function()
      first = socket.select({ a, b }, nil, 5)[1]
      co.sleep(0.1)                                -- a turns readable meanwhile
      later = a:receive("*l")
    end)
    co.spawn(function()
      co.sleep(0.05); pb:send("b\n")
      co.sleep(0.01); pa:send("a\n")
    end)
    local ok, err = co.run(5)
    a:close() b:close() pa:close() pb:close()
    assert.is_true(ok, tostring(err))
    assert.equal(b, first)
    assert.equal("a", later)
  end)

  it("wakes every waiter of a socket that is closed", function()
    local c, p = H.pair()
    c:settimeout(5)
    local results = {}
    -- one reader, one writer stuck on a peer that does not read, and a
    -- second reader refused while the first holds the read direction
    co.spawn(function() results[1] = table.pack(c:receive("*l")) end)
    co.spawn(function() results[2] = table.pack(c:send(string.rep("x", 16 * 1024 * 1024))) end)
    co.spawn(function() results[3] = table.pack(c:receive("*l")) end)
    co.spawn(function() co.sleep(0.05); c:close() end)
    local t0 = socket.gettime()
    local ok, err = co.run(5)
    p:close()
    assert.is_true(ok, tostring(err))
    assert.is_true(socket.gettime() - t0 < 2, "the waiters were not woken by the close")
    for i = 1, 2 do
      assert.is_nil(results[i][1])
      assert.equal("closed", results[i][2])
    end
    assert.same({nil, "socket busy reading", ""}, {results[3][1], results[3][2], results[3][3]})
  end)
end)

-- Found in review: a wait without a token (select in a task, a DNS wait) on
-- an fd the poller had no entry for left the kernel watching what the
-- poller's table said was not watched: once woken, the fd stayed in the
-- epoll set and every step returned at once (a busy loop until it was
-- read). A fresh process, so that the first wait is such a one.
describe("socket.co waits without a token", function()
  local function steps(body)
    local h = H.child([[
      local co = require("socket.co")
      local srv = assert(socket.bind("127.0.0.1", 0))
      local _, port = srv:getsockname()
      local c = assert(socket.connect("127.0.0.1", port))
      local s = assert(srv:accept())
      local first = ]] .. body .. [[

      co.spawn(function()
        first(c)
        co.sleep(0.3)                             -- c stays readable, unread
        assert(c:receive("*l") == "hi")
      end)
      co.spawn(function() co.sleep(0.05); s:send("hi\n") end)
      local n = 0
      while co.step() > 0 and n < 100000 do n = n + 1 end
      print("steps", n)
    ]])
    local out = h.wait()
    return tonumber(out:match("steps\t(%d+)")), out
  end

  it("does not spin after a select in a task woke on a socket it did not read", function()
    local n, out = steps("function(c) assert(socket.select({ c }, nil, 2)[1] == c) end")
    assert.is_not_nil(n, out)
    assert.is_true(n < 50, "steps: " .. n)
  end)

  it("does not spin after a DNS wait in a task", function()
    local n, out = steps([[function()
      local r = assert(require("socket.dns").resolve("localhost", "inet"))
      assert(r:wait(2))
    end]])
    assert.is_not_nil(n, out)
    assert.is_true(n < 50, "steps: " .. n)
  end)
end)

describe("poller:set removing an fd it never had", function()
  local function rss()
    local f = assert(io.open("/proc/self/status"))
    local kb = tonumber(f:read("a"):match("VmRSS:%s*(%d+)"))
    f:close()
    return kb
  end

  it("keeps no table entry for it, however large the number", function()
    local p = assert(socket.poller())
    local before = rss()
    assert.equal(1, p:set(4000000, "", 7))       -- an entry would be 96 MB of zeroes
    assert.is_true(rss() - before < 16 * 1024, "RSS grew by " .. (rss() - before) .. " kB")
    p:close()
  end)
end)

describe("a socket closed by a <close> variable", function()
  it("wakes the tasks waiting on it", function()
    local c, p = H.pair()
    c:settimeout(5)
    local r
    co.spawn(function() r = table.pack(c:receive("*l")) end)
    co.spawn(function()
      co.sleep(0.05)
      H.closing(function() end, c)   -- closed as a <close> variable's block ends
    end)
    local t0 = socket.gettime()
    local ok, err = co.run(3)
    p:close()
    assert.is_true(ok, tostring(err))
    assert.is_true(socket.gettime() - t0 < 2, "the waiter was not woken")
    assert.is_nil(r[1])
    assert.equal("closed", r[2])
  end)
end)
