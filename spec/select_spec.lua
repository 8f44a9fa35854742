-- socket.select: API.md §6 and §13 row 10.
local socket = require("socket")
local H = require("helper")

-- Waits (bounded) until `s` is reported readable; the precondition for tests
-- that need data to have crossed loopback before they look at select.
local function await_readable(s)
  local r = socket.select({ s }, nil, 5)
  assert(type(r) == "table" and r[1] == s, "data did not arrive within 5 s")
end

-- A connected pair whose peer side `p` has `data` waiting in the kernel.
local function ready_pair(data)
  local c, p = H.pair()
  assert(c:send(data or "x"))
  await_readable(p)
  return c, p
end

-- Asserts the exact 3-value timeout result of §6: {}, {}, "timeout".
local function assert_timeout(n, r, w, e)
  assert.are.equal(3, n)
  assert.are.equal("table", type(r))
  assert.are.equal("table", type(w))
  assert.is_nil(next(r))
  assert.is_nil(next(w))
  assert.are.equal("timeout", e)
end

local function pack(...) return select("#", ...), ... end

local function closeall(...)
  for _, s in ipairs({ ... }) do s:close() end
end

describe("socket.select (§6)", function()
  describe("argument types", function()
    it("raises for a string recvt with the 3.x message", function()
      H.raises(socket.select, { "x", nil, 0, n = 3 },
        "bad argument #1", "(table expected, got string)")
    end)

    it("raises for a string sendt as argument #2", function()
      H.raises(socket.select, { nil, "x", 0, n = 3 },
        "bad argument #2", "(table expected, got string)")
    end)

    it("raises for a number or boolean in place of a table", function()
      H.raises(socket.select, { 5, nil, 0, n = 3 },
        "bad argument #1", "(table expected, got number)")
      H.raises(socket.select, { nil, false, 0, n = 3 },
        "bad argument #2", "(table expected, got boolean)")
    end)

    it("raises for a non-number timeout (§0, luaL_optnumber as in 3.x)", function()
      H.raises(socket.select, { nil, nil, "soon", n = 3 },
        "bad argument #3", "(number expected, got string)")
    end)

    it("accepts nil for both sets (same as empty tables)", function()
      assert_timeout(pack(socket.select(nil, nil, 0)))
    end)
  end)

  describe("elements", function()
    it("reads recvt from index 1 up to the first nil only", function()
      local c1, p1 = H.pair()            -- nothing pending
      local c2, p2 = ready_pair("data")  -- readable
      -- a constructor with a hole: #t is 3 in 5.4 (5.5 may say 1), but
      -- reading stops at index 2 whatever # says
      local t = { p1, nil, p2 }
      assert_timeout(pack(socket.select(t, nil, 0)))
      -- the same readable socket at index 2 is seen
      local r = socket.select({ p1, p2 }, nil, 5)
      assert.are.equal(p2, r[1])
      assert.is_nil(r[2])
      closeall(c1, p1, c2, p2)
    end)

    it("reads sendt from index 1 up to the first nil only", function()
      local c, p = H.pair()
      local t = { nil, c }               -- index 1 is nil: the array is empty (#t is 2 in 5.4)
      assert_timeout(pack(socket.select(nil, t, 0)))
      closeall(c, p)
    end)

    it("ignores hash keys", function()
      local c, p = ready_pair("x")
      assert_timeout(pack(socket.select({ x = p, [p] = true }, { y = c, [c] = 1 }, 0)))
      closeall(c, p)
    end)

    it("ignores closed sockets, strings, numbers, booleans and tables without getfd", function()
      local c, p = ready_pair("x")
      local dead = socket.tcp()
      dead:close()
      local deadc, deadp = H.pair()
      deadc:close()
      local minus = { getfd = function() return -1 end }
      local recvt = { dead, deadc, "str", 42, 1.5, true, false, {}, minus, p }
      local n, r, w = pack(socket.select(recvt, nil, 5))
      assert.are.equal(2, n)
      assert.are.equal(1, #r)
      assert.are.equal(p, r[1])
      assert.are.equal(1, r[p])
      assert.is_nil(next(w))
      closeall(c, p, deadp)
    end)

    it("with only ignored elements and a timeout, waits and times out", function()
      local dead = socket.tcp()
      dead:close()
      local junk = { dead, "str", 7, true, {} }
      local t0 = socket.gettime()
      assert_timeout(pack(socket.select(junk, junk, 0.1)))
      assert.is_true(socket.gettime() - t0 >= 0.08)
    end)

    it("a closed socket in sendt is not writable", function()
      local c, p = H.pair()
      c:close()
      assert_timeout(pack(socket.select(nil, { c }, 0)))
      p:close()
    end)

    it("accepts a plain table whose getfd method returns a real socket's fd", function()
      local c, p = ready_pair("x")
      local seen_self
      local foreign = {
        getfd = function(self) seen_self = self; return p:getfd() end,
        dirty = function() return false end,
      }
      local r = socket.select({ foreign }, nil, 5)
      assert.are.equal(foreign, r[1])
      assert.are.equal(1, r[foreign])
      assert.is_nil(r[p])
      assert.are.equal(foreign, seen_self)   -- called as a method
      local _, w = socket.select(nil, { foreign }, 5)
      assert.are.equal(foreign, w[1])
      assert.are.equal(1, w[foreign])
      closeall(c, p)
    end)

    it("finds getfd by indexing (an __index metatable counts)", function()
      local c, p = ready_pair("x")
      local obj = setmetatable({}, { __index = { getfd = function() return p:getfd() end } })
      local r = socket.select({ obj }, nil, 5)
      assert.are.equal(obj, r[1])
      closeall(c, p)
    end)

    it("a foreign table whose dirty() is true is returned without kernel data", function()
      local c, p = H.pair()       -- nothing pending on p
      local foreign = {
        getfd = function() return p:getfd() end,
        dirty = function() return true end,
      }
      local t0 = socket.gettime()
      local n, r = pack(socket.select({ foreign }, nil, 5))
      assert.is_true(socket.gettime() - t0 < 1)
      assert.are.equal(2, n)
      assert.are.equal(foreign, r[1])
      assert.are.equal(1, r[foreign])
      closeall(c, p)
    end)

    it("accepts an LTN12 sink (§8: it has getfd/dirty)", function()
      local c, p = H.pair()
      local sink = socket.sink("keep-open", c)
      local _, w = socket.select(nil, { sink }, 5)
      assert.are.equal(sink, w[1])
      assert.are.equal(1, w[sink])
      closeall(c, p)
    end)
  end)

  describe("dirty sockets", function()
    it("a socket with buffered bytes is readable though the kernel has none", function()
      local c, p = ready_pair("abc")
      assert.are.equal("a", p:receive(1))
      assert.is_true(p:dirty())
      local t0 = socket.gettime()
      local n, r = pack(socket.select({ p }, nil, 5))
      assert.is_true(socket.gettime() - t0 < 1)
      assert.are.equal(2, n)
      assert.are.equal(p, r[1])
      assert.are.equal(1, r[p])
      closeall(c, p)
    end)

    it("a dirty element forces a zero wait even with an idle socket in the set", function()
      local c1, idle = H.pair()
      local c2, p = ready_pair("abc")
      assert(p:receive(1))
      assert.is_true(p:dirty())
      local t0 = socket.gettime()
      -- a long timeout (bounded, so a failure cannot hang the suite); the
      -- dirty element must make the wait 0 (§6)
      local n, r, w = pack(socket.select({ idle, p }, nil, 5))
      assert.is_true(socket.gettime() - t0 < 1)
      assert.are.equal(2, n)
      assert.are.equal(1, #r)
      assert.are.equal(p, r[1])
      assert.is_nil(r[idle])
      assert.is_nil(next(w))
      closeall(c1, idle, c2, p)
    end)

    it("dirty elements come first, in recvt order, then the others by ascending fd", function()
      local ca, pa = ready_pair("x")
      local cb, pb = ready_pair("x")
      local cc, pc = ready_pair("x")
      -- Make the two highest-fd peers dirty, so fd order alone would put
      -- the clean one first.
      local ps = { pa, pb, pc }
      table.sort(ps, function(x, y) return x:getfd() < y:getfd() end)
      local clean, d1, d2 = ps[1], ps[2], ps[3]
      -- refill d1 and d2 with 2 bytes each and read one, leaving one buffered
      local peer_of = { [pa] = ca, [pb] = cb, [pc] = cc }
      for _, s in ipairs({ d1, d2 }) do
        assert.are.equal("x", s:receive(1))   -- drain the first byte
        assert(peer_of[s]:send("yz"))
        await_readable(s)
        assert.are.equal("y", s:receive(1))
        assert.is_true(s:dirty())
      end
      assert.is_false(clean:dirty())
      -- recvt order: d2 before d1 (so recvt order differs from fd order too)
      local n, r = pack(socket.select({ clean, d2, d1 }, nil, 5))
      assert.are.equal(2, n)
      assert.are.equal(3, #r)
      assert.are.equal(d2, r[1])
      assert.are.equal(d1, r[2])
      assert.are.equal(clean, r[3])
      assert.are.equal(1, r[d2])
      assert.are.equal(2, r[d1])
      assert.are.equal(3, r[clean])
      closeall(ca, pa, cb, pb, cc, pc)
    end)
  end)

  describe("results", function()
    it("success gives exactly 2 values", function()
      local c, p = ready_pair("x")
      assert.are.equal(2, (pack(socket.select({ p }, nil, 5))))
      assert.are.equal(2, (pack(socket.select(nil, { c }, 5))))
      assert.are.equal(2, (pack(socket.select({ p }, { c }, 5))))
      closeall(c, p)
    end)

    it("a timeout gives exactly 3 values: {}, {}, \"timeout\"", function()
      local c, p = H.pair()
      assert_timeout(pack(socket.select({ p }, nil, 0)))
      assert_timeout(pack(socket.select({ p, c }, {}, 0.05)))
      closeall(c, p)
    end)

    it("tables are arrays and reverse maps at once, with integer indices (§0)", function()
      local c, p = ready_pair("x")
      local r, w = socket.select({ p }, { c }, 5)
      assert.are.equal(p, r[1])
      assert.are.equal(1, r[p])
      assert.are.equal("integer", math.type(r[p]))
      assert.are.equal(c, w[1])
      assert.are.equal(1, w[c])
      assert.are.equal("integer", math.type(w[c]))
      -- nothing else in either table
      local count = 0
      for _ in pairs(r) do count = count + 1 end
      assert.are.equal(2, count)
      count = 0
      for _ in pairs(w) do count = count + 1 end
      assert.are.equal(2, count)
      closeall(c, p)
    end)

    it("the readable table is empty but present when only sendt is ready", function()
      local c, p = H.pair()
      local n, r, w = pack(socket.select({ p }, { c }, 5))
      assert.are.equal(2, n)
      assert.are.equal("table", type(r))
      assert.is_nil(next(r))
      assert.are.equal(c, w[1])
      closeall(c, p)
    end)

    it("duplicates collapse", function()
      local c, p = ready_pair("x")
      local r, w = socket.select({ p, p, p }, { c, c }, 5)
      assert.are.equal(1, #r)
      assert.are.equal(p, r[1])
      assert.are.equal(1, r[p])
      assert.are.equal(1, #w)
      assert.are.equal(c, w[1])
      assert.are.equal(1, w[c])
      closeall(c, p)
    end)

    it("the same socket may appear in both results", function()
      local c, p = ready_pair("x")
      local r, w = socket.select({ p }, { p }, 5)
      assert.are.equal(p, r[1])
      assert.are.equal(p, w[1])
      closeall(c, p)
    end)

    it("ready elements are ordered by ascending fd, whatever the input order", function()
      local cs, ps = {}, {}
      for i = 1, 4 do cs[i], ps[i] = ready_pair("x") end
      local sorted = { table.unpack(ps) }
      table.sort(sorted, function(a, b) return a:getfd() < b:getfd() end)
      local input = { sorted[3], sorted[1], sorted[4], sorted[2] }
      local r = socket.select(input, nil, 5)
      assert.are.equal(4, #r)
      for i = 1, 4 do
        assert.are.equal(sorted[i], r[i])
        assert.are.equal(i, r[sorted[i]])
      end
      -- the same for sendt
      local wsorted = { table.unpack(cs) }
      table.sort(wsorted, function(a, b) return a:getfd() < b:getfd() end)
      local _, w = socket.select(nil, { wsorted[2], wsorted[4], wsorted[1], wsorted[3] }, 5)
      assert.are.equal(4, #w)
      for i = 1, 4 do assert.are.equal(wsorted[i], w[i]) end
      for i = 1, 4 do closeall(cs[i], ps[i]) end
    end)
  end)

  describe("waiting", function()
    it("select(nil, nil, 0.2) waits about 0.2 s and times out (§13 row 10)", function()
      local t0 = socket.gettime()
      local n, r, w, e = pack(socket.select(nil, nil, 0.2))
      local dt = socket.gettime() - t0
      assert_timeout(n, r, w, e)
      assert.is_true(dt >= 0.18, "returned after " .. dt .. " s")
      assert.is_true(dt < 2, "returned after " .. dt .. " s")
    end)

    it("select({}, {}, 0.2) waits it out too", function()
      local t0 = socket.gettime()
      assert_timeout(pack(socket.select({}, {}, 0.2)))
      assert.is_true(socket.gettime() - t0 >= 0.18)
    end)

    it("a zero timeout polls and returns at once", function()
      local c, p = H.pair()
      local t0 = socket.gettime()
      assert_timeout(pack(socket.select({ p, c }, nil, 0)))
      assert.is_true(socket.gettime() - t0 < 0.5)
      closeall(c, p)
    end)

    it("a timeout on an idle socket waits about that long", function()
      local c, p = H.pair()
      local t0 = socket.gettime()
      assert_timeout(pack(socket.select({ p }, nil, 0.2)))
      local dt = socket.gettime() - t0
      assert.is_true(dt >= 0.18 and dt < 2, "returned after " .. dt .. " s")
      closeall(c, p)
    end)

    it("a nil timeout waits forever: returns once something is ready", function()
      local c, p = ready_pair("x")
      local n, r = pack(socket.select({ p }, nil, nil))
      assert.are.equal(2, n)
      assert.are.equal(p, r[1])
      n, r = pack(socket.select({ p }, nil))
      assert.are.equal(2, n)
      assert.are.equal(p, r[1])
      closeall(c, p)
    end)

    it("a negative timeout waits forever: returns once something is ready", function()
      local c, p = ready_pair("x")
      local n, r = pack(socket.select({ p }, nil, -1))
      assert.are.equal(2, n)
      assert.are.equal(p, r[1])
      local n2, _, w = pack(socket.select(nil, { c }, -5))
      assert.are.equal(2, n2)
      assert.are.equal(c, w[1])
      closeall(c, p)
    end)

    it("wakes up when data arrives during the wait", function()
      local c, p = H.pair()
      -- The child connects back and sends once it is told to, while the
      -- parent waits in select (bounded by 10 s for safety).
      local srv, port = H.server()
      local child = H.child([[
        local s = assert(socket.connect("127.0.0.1", tonumber(arg[1])))
        assert(s:receive(1))        -- wait for the go signal
        assert(s:send("ping"))
        local d, e = s:receive("*a") -- until the parent closes (§4.3)
        assert(d == nil and e == "closed", tostring(e))
        s:close()
        print("done")
      ]], port)
      srv:settimeout(10)
      local peer = assert(srv:accept())
      srv:close()
      assert(peer:send("g"))
      local t0 = socket.gettime()
      local r = socket.select({ p, peer }, nil, 10)
      assert.is_true(socket.gettime() - t0 < 5)
      assert.are.equal(1, #r)
      assert.are.equal(peer, r[1])
      assert.are.equal("ping", peer:receive(4))
      peer:close()
      local out = child:wait()
      assert.are.equal("done\n", out)
      closeall(c, p)
    end)
  end)

  describe("readiness", function()
    it("reports a connected socket as writable", function()
      local c, p = H.pair()
      local n, r, w = pack(socket.select(nil, { c, p }, 5))
      assert.are.equal(2, n)
      assert.is_nil(next(r))
      assert.are.equal(2, #w)
      assert.are.equal(1, w[w[1]])
      assert.are.equal(2, w[w[2]])
      assert.is_truthy(w[c])
      assert.is_truthy(w[p])
      closeall(c, p)
    end)

    it("a listening server is readable once a client connects", function()
      local srv = H.server()
      local _, port = srv:getsockname()
      assert_timeout(pack(socket.select({ srv }, nil, 0)))
      local c = assert(socket.connect("127.0.0.1", port))
      local r = socket.select({ srv }, nil, 5)
      assert.are.equal(srv, r[1])
      assert.are.equal(1, r[srv])
      srv:settimeout(5)   -- §6: readable does not guarantee accept won't block
      local p = assert(srv:accept())
      closeall(c, p, srv)
    end)

    it("a socket whose peer closed is readable (EOF)", function()
      local c, p = H.pair()
      c:close()
      local r = socket.select({ p }, nil, 5)
      assert.are.equal(p, r[1])
      local data, err = p:receive(1)
      assert.is_nil(data)
      assert.are.equal("closed", err)
      p:close()
    end)

    it("readable and writable sets are computed together", function()
      local c1, p1 = ready_pair("x")
      local c2, p2 = H.pair()
      local r, w = socket.select({ p1, p2 }, { c2 }, 5)
      assert.are.equal(1, #r)
      assert.are.equal(p1, r[1])
      assert.are.equal(1, #w)
      assert.are.equal(c2, w[1])
      closeall(c1, p1, c2, p2)
    end)
  end)

  describe("limits (no FD_SETSIZE)", function()
    it("handles more than 1100 sockets and fds above 1024 #linux #limits", function()
      -- Run in a child whose soft fd limit is raised; the hard limit (and so
      -- the child's _SETSIZE) is left alone.
      local child = H.childsh("ulimit -Sn 4096 &&", [[
        local N = 600
        local srv = assert(socket.bind("127.0.0.1", 0))
        local _, port = srv:getsockname()
        local clients, peers, all = {}, {}, {}
        for i = 1, N do
          clients[i] = assert(socket.connect("127.0.0.1", port))
          peers[i] = assert(srv:accept())
          all[#all + 1] = clients[i]
          all[#all + 1] = peers[i]
        end
        srv:close()
        assert(#all == 2 * N)
        local k = N - 10
        local target, sender = peers[k], clients[k]
        assert(target:getfd() > 1024, "target fd " .. target:getfd() .. " is not above 1024")
        -- nothing pending anywhere
        local r, w, e = socket.select(all, nil, 0)
        assert(e == "timeout" and next(r) == nil and next(w) == nil, "idle select: " .. tostring(e))
        assert(sender:send("x"))
        local res = table.pack(socket.select(all, nil, 5))
        local n
        n, r, w, e = res.n, res[1], res[2], res[3]
        assert(n == 2, "select returned " .. n .. " values")
        assert(e == nil, tostring(e))
        assert(#r == 1, "#r == " .. #r)
        assert(r[1] == target, "wrong socket reported")
        assert(r[target] == 1, "no reverse map")
        assert(next(w) == nil, "writable set not empty")
        assert(target:receive(1) == "x")
        r, w, e = socket.select(all, nil, 0)
        assert(e == "timeout", "after draining: " .. tostring(e))
        -- writable check on an fd above 1024
        r, w, e = socket.select(nil, { target }, 5)
        assert(e == nil and #w == 1 and w[1] == target and w[target] == 1, "high fd not writable")
        assert(next(r) == nil)
        -- every connected socket is writable
        r, w, e = socket.select(nil, all, 5)
        assert(e == nil and #w == 2 * N, "writable count " .. #w)
        for i = 2, #w do
          assert(w[i - 1]:getfd() < w[i]:getfd(), "writable set not in fd order")
        end
        for _, s in ipairs(all) do s:close() end
        print("OK")
      ]])
      local out = child:wait()
      assert.are.equal("OK\n", out)
    end)
  end)
end)
