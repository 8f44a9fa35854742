-- socket.dns.resolve and socket.dns.localaddresses, API.md §11 ([N] rows).
--
-- No DNS traffic may leave the machine: the only names resolved are
-- "localhost" (in /etc/hosts, 127.0.0.1 only; never looked up as inet6) and
-- numeric addresses. Every failure has a local cause: an empty name, a
-- numeric address of the wrong family (getaddrinfo answers
-- EAI_ADDRFAMILY without asking NSS). Nothing waits on a fixed sleep: every
-- loop polls a condition, bounded in time.
local socket = require("socket")
local H = require("helper")
local dns = socket.dns

local function pack(...) return select("#", ...), ... end

local ADDRFAMILY = "Address family for hostname not supported"
local NONAME = "host or service not provided, or not known"

-- Polls cond() until it is true or `limit` seconds have passed.
local function eventually(cond, limit)
  local deadline = socket.gettime() + (limit or 10)
  while not cond() do
    if socket.gettime() > deadline then return false end
    socket.sleep(0.01)
  end
  return true
end

local function threadcount()
  local out = H.sh("ls /proc/" .. H.pid() .. "/task | wc -l")
  return tonumber(out:match("%d+"))
end

-- Blocks until the lookup finishes and checks that it succeeded.
local function resolved(name, family)
  local a = dns.resolve(name, family)
  assert.are.equal("success", (a:wait(10)))
  return a
end

describe("socket.dns.resolve (§11)", function()
  -- Leave no worker running for the specs after this one (some count fds).
  teardown(function()
    collectgarbage()
    collectgarbage()
    eventually(function() return threadcount() == 1 end)
  end)

  describe("the address object", function()
    it("is returned at once, of class dns{address}, selectable", function()
      local a = dns.resolve("127.0.0.1")
      assert.are.equal("userdata", type(a))
      assert.are.equal("dns{address}", a.class)
      local mt = debug.getmetatable(a)
      assert.are.equal(debug.getregistry()["dns{address}"], mt)
      assert.is_true(rawget(mt, "select{able}"))
      a:close()
    end)

    it("the first getstatus() is 'waiting' or 'success' (no timing assumed)", function()
      local a = dns.resolve("localhost")
      local n, st = pack(a:getstatus())
      assert.are.equal(1, n)
      assert.is_truthy(st == "waiting" or st == "success", st)
      assert.are.equal("success", (a:wait()))
    end)

    it("aliases are the same functions", function()
      local a = dns.resolve("127.0.0.1")
      assert.are.equal(a.getstatus, a.get_status)
      assert.are.equal(a.wait, a.wait_until_resolved)
      assert.are.equal(a.getip, a.get_ip)
      assert.are.equal(a.gethostname, a.get_hostname)
      a:close()
    end)

    it("gethostname() and tostring give the name as given, before and after close", function()
      local a = dns.resolve("localhost")
      assert.are.equal("localhost", a:gethostname())
      assert.are.equal("localhost", tostring(a))
      a:close()
      assert.are.equal("localhost", a:get_hostname())
      assert.are.equal("localhost", tostring(a))
      local b = dns.resolve("::1", "inet6")
      assert.are.equal("::1", tostring(b))
      b:close()
    end)

    it("getfd() is a descriptor until close, then -1; dirty() is false", function()
      local a = dns.resolve("127.0.0.1")
      local fd = a:getfd()
      assert.are.equal("integer", math.type(fd))
      assert.is_true(fd >= 0)
      assert.is_false(a:dirty())
      assert.are.equal(1, a:close())
      assert.are.equal(-1, a:getfd())
      assert.is_false(a:dirty())
      assert.are.equal(1, a:close())
    end)
  end)

  describe("lookups that succeed", function()
    it("resolve('localhost') gives 127.0.0.1", function()
      local a = dns.resolve("localhost")
      local n, st = pack(a:wait())
      assert.are.equal(1, n)
      assert.are.equal("success", st)
      assert.are.equal("success", a:getstatus())
      assert.are.equal("127.0.0.1", a:getip())
      assert.are.same({ { family = "inet", addr = "127.0.0.1" } }, a:getips())
    end)

    it("resolve('localhost', 'inet') gives 127.0.0.1", function()
      local a = resolved("localhost", "inet")
      assert.are.same({ { family = "inet", addr = "127.0.0.1" } }, a:getips())
    end)

    it("resolve('127.0.0.1') and resolve('127.0.0.1', 'unspec')", function()
      for _, fam in ipairs({ false, "unspec" }) do
        local a = resolved("127.0.0.1", fam or nil)
        assert.are.equal("127.0.0.1", a:get_ip())
        assert.are.same({ { family = "inet", addr = "127.0.0.1" } }, a:getips())
      end
    end)

    it("resolve('::1', 'inet6') gives ::1", function()
      local a = resolved("::1", "inet6")
      assert.are.equal("::1", a:getip())
      assert.are.same({ { family = "inet6", addr = "::1" } }, a:getips())
    end)

    it("getips() gives a fresh table each time", function()
      local a = resolved("127.0.0.1")
      assert.are_not.equal(a:getips(), a:getips())
    end)
  end)

  describe("lookups that fail (local causes only)", function()
    local function fails(name, family, err)
      local a = dns.resolve(name, family)
      local n, st, e = pack(a:wait(10))
      assert.are.equal(2, n)
      assert.are.equal("failure", st)
      assert.are.equal(err, e)
      n, st, e = pack(a:getstatus())
      assert.are.same({ 2, "failure", err }, { n, st, e })
      assert.is_nil(a:getip())
      assert.are.same({}, a:getips())
      a:close()
    end

    it("an empty name", function()
      fails("", nil, NONAME)
    end)

    it("an IPv4 literal asked for as inet6", function()
      fails("127.0.0.1", "inet6", ADDRFAMILY)
    end)

    it("an IPv6 literal asked for as inet", function()
      fails("::1", "inet", ADDRFAMILY)
    end)

    it("a name with an embedded NUL fails without a lookup", function()
      fails("127.0.0.1\0x", nil, NONAME)
    end)
  end)

  describe("bad arguments raise", function()
    it("an unknown family names argument #2", function()
      H.raises(dns.resolve, { "127.0.0.1", "bogus" }, "bad argument #2", "invalid option 'bogus'")
    end)

    it("a missing or non-string name names argument #1", function()
      H.raises(dns.resolve, {}, "bad argument #1", "string expected, got no value")
      H.raises(dns.resolve, { {} }, "bad argument #1", "string expected, got table")
    end)

    it("a non-number wait timeout", function()
      local a = dns.resolve("127.0.0.1")
      -- (LuaJIT counts a method called as a function as a method call: compat.h)
      H.raises(a.wait, { a, "soon" }, rawget(_G, "jit") and "bad argument #1" or "bad argument #2", "number expected")
      a:close()
    end)

    it("a method called on another object", function()
      local a = dns.resolve("127.0.0.1")
      H.raises(a.getstatus, { {} }, "dns{address} expected")
      a:close()
    end)
  end)

  describe("wait", function()
    it("wait(0) polls: it returns at once, and repeated polls see the end", function()
      local a = dns.resolve("localhost")
      local t0 = socket.gettime()
      local st = a:wait(0)
      assert.is_true(socket.gettime() - t0 < 1)
      assert.is_truthy(st == "waiting" or st == "success", st)
      assert.is_true(eventually(function() return a:wait(0) == "success" end))
      assert.are.equal("127.0.0.1", a:getip())
    end)

    it("wait() and wait(-1) block until done", function()
      assert.are.equal("success", (dns.resolve("localhost"):wait()))
      assert.are.equal("success", (dns.resolve("127.0.0.1"):wait(-1)))
      assert.are.equal("success", (dns.resolve("127.0.0.1"):wait_until_resolved(nil)))
    end)

    it("wait(t) returns the final status well before t", function()
      local a = dns.resolve("127.0.0.1")
      local t0 = socket.gettime()
      assert.are.equal("success", (a:wait(30)))
      assert.is_true(socket.gettime() - t0 < 10)
    end)
  end)

  describe("cancel", function()
    it("turns the status into 'failure', 'cancelled' at once", function()
      local a = dns.resolve("localhost")
      assert.are.equal(1, a:cancel())
      local n, st, e = pack(a:getstatus())
      assert.are.same({ 2, "failure", "cancelled" }, { n, st, e })
      assert.are.same({ "failure", "cancelled" }, { a:wait() })
      assert.is_nil(a:getip())
      assert.are.same({}, a:getips())
      assert.are.equal(1, a:cancel())
      a:close()
      assert.are.same({ "failure", "closed" }, { a:getstatus() })
    end)

    it("also after success, and the object becomes readable", function()
      local a = resolved("127.0.0.1")
      a:cancel()
      assert.are.same({ "failure", "cancelled" }, { a:getstatus() })
      local r = socket.select({ a }, nil, 2)
      assert.are.equal(a, r[1])
      a:close()
    end)
  end)

  describe("close", function()
    it("a closed object answers 'failure', 'closed'", function()
      local a = dns.resolve("127.0.0.1")
      a:close()
      assert.are.same({ "failure", "closed" }, { a:getstatus() })
      assert.are.same({ "failure", "closed" }, { a:wait() })
      assert.is_nil(a:getip())
      assert.are.same({}, a:getips())
    end)

    it("`local a <close>` releases the object at scope exit", function()
      local ref
      H.closing(function(a)
        ref = a
        assert.is_true(a:getfd() >= 0)
      end, dns.resolve("127.0.0.1"))
      assert.are.equal(-1, ref:getfd())
    end)
  end)

  describe("select", function()
    it("select({a}, nil, 2) returns the object once resolved", function()
      local a = dns.resolve("localhost")
      local r, w, e = socket.select({ a }, nil, 2)
      assert.is_nil(e)
      assert.are.equal(a, r[1])
      assert.are.equal(1, r[a])
      assert.are.same({}, w)
      assert.are.equal("success", a:getstatus())
      -- the descriptor stays readable once the lookup is over
      r = socket.select({ a }, nil, 0)
      assert.are.equal(a, r[1])
      a:close()
    end)

    it("a closed object is ignored", function()
      local a = dns.resolve("127.0.0.1")
      a:close()
      local n, r, w, e = pack(socket.select({ a }, nil, 0))
      assert.are.equal(3, n)
      assert.is_nil(next(r))
      assert.is_nil(next(w))
      assert.are.equal("timeout", e)
    end)

    it("several objects: each is returned once it has finished", function()
      local objs = { dns.resolve("127.0.0.1"), dns.resolve("localhost"), dns.resolve("", nil) }
      local seen = {}
      assert.is_true(eventually(function()
        local r = socket.select(objs, nil, 1)
        for _, o in ipairs(r) do seen[o] = true end
        return seen[objs[1]] and seen[objs[2]] and seen[objs[3]]
      end))
      assert.are.equal("success", objs[1]:getstatus())
      assert.are.equal("success", objs[2]:getstatus())
      assert.are.equal("failure", objs[3]:getstatus())
      for _, o in ipairs(objs) do o:close() end
    end)
  end)

  describe("resources", function()
    it("2000 dropped objects, finished or not, leave no fd and no thread behind #linux #proc", function()
      collectgarbage()
      collectgarbage()
      -- earlier tests may still have workers finishing: start from quiet
      local threads0 = threadcount()
      assert.is_true(eventually(function()
        threads0 = threadcount()
        return threads0 == 1
      end), "threads left over from earlier tests: " .. tostring(threads0))
      local fds0 = H.fdcount()
      local kinds = {}
      for i = 1, 2000 do
        local a = dns.resolve(i % 2 == 0 and "localhost" or "127.0.0.1")
        if i % 4 == 0 then a:wait() end                 -- finished
        if i % 7 == 0 then a:cancel() end                -- cancelled
        if i % 11 == 0 then a:close() end                -- closed early
        local st = a:getstatus()
        kinds[st] = true
        assert.is_truthy(st == "waiting" or st == "success" or st == "failure", st)
      end
      collectgarbage()
      collectgarbage()
      local fds = H.fdcount()
      assert.is_true(eventually(function()
        fds = H.fdcount()
        return fds == fds0
      end), "fds: " .. fds0 .. " before, " .. fds .. " after")
      local threads = threadcount()
      assert.is_true(eventually(function()
        threads = threadcount()
        return threads == threads0
      end), "threads: " .. threads0 .. " before, " .. threads .. " after")
      assert.is_true(kinds.success)
    end)

    it("a process may exit while lookups run (the library stays loaded)", function()
      -- Lua unloads C libraries when it closes the state; a worker still in
      -- our code would crash the process if the library went away.
      for _ = 1, 5 do
        local out, ok = H.child([[
          local keep = {}
          for i = 1, 100 do keep[i] = socket.dns.resolve(i % 2 == 0 and "localhost" or "127.0.0.1") end
          for i = 1, 100 do socket.dns.resolve("127.0.0.1"):cancel() end
          print("done")
        ]]):wait()
        assert.are.equal("done\n", out)
        assert.is_true(ok)
      end
    end)

    it("when no thread can be started, the object fails softly", function()
      if os.getenv("NETSOCKET_LUA") then
        pending("sanitizer runtimes do not run under an address-space limit")
        return
      end
      -- A 60 MB address-space limit leaves room for the interpreter and a
      -- few dozen 512 KiB worker stacks: with 300 lookups started at once
      -- thread creation fails in some runs (how many run together depends
      -- on timing). Lua's own allocations may fail too: a soft "not enough
      -- memory" error, never a crash. (20 MB was too tight for the
      -- interpreter to start reliably.)
      local out, ok = H.childsh("ulimit -v 60000 &&", [[
        local spawnfail, other = 0, {}
        local ran, err = pcall(function()
          local keep = {}
          for i = 1, 300 do keep[i] = socket.dns.resolve("127.0.0.1") end
          for _, a in ipairs(keep) do
            local st, e = a:wait(10)
            if e == "cannot start resolver thread: Resource temporarily unavailable" then
              spawnfail = spawnfail + 1
            elseif not (st == "success" or (st == "failure" and type(e) == "string")) then
              other[#other + 1] = tostring(st) .. " " .. tostring(e)
            end
          end
        end)
        if not ran and not tostring(err):find("not enough memory", 1, true) then
          other[#other + 1] = tostring(err)
        end
        io.write(#other == 0 and "ok" or table.concat(other, ";"), " ", spawnfail, "\n")
      ]]):wait()
      assert.is_true(ok, out)
      assert.matches("^ok %d+\n$", out)
    end)
  end)
end)

describe("socket.dns.localaddresses (§11)", function()
  local function has(list, entry)
    for _, e in ipairs(list) do
      if e.interface == entry.interface and e.family == entry.family and e.addr == entry.addr then
        assert.are.same(entry, e)
        return true
      end
    end
    return false
  end

  it("lists lo's 127.0.0.1 with every field #linux #linuxonly", function()
    local list = assert(dns.localaddresses())
    assert.is_true(has(list, { interface = "lo", family = "inet", addr = "127.0.0.1",
                               netmask = "255.0.0.0", up = true, loopback = true }))
  end)

  it("gives every entry the documented fields and types", function()
    for _, e in ipairs(assert(dns.localaddresses())) do
      assert.are.equal("string", type(e.interface))
      assert.is_truthy(e.family == "inet" or e.family == "inet6", e.family)
      assert.are.equal("string", type(e.addr))
      assert.are.equal("boolean", type(e.up))
      assert.are.equal("boolean", type(e.loopback))
    end
  end)

  it("is sorted by interface index, then inet before inet6", function()
    local list = assert(dns.localaddresses())
    local out = H.sh("cat /sys/class/net/*/ifindex 2>/dev/null; ls /sys/class/net 2>/dev/null")
    local idx = {}
    local names, nums = {}, {}
    for l in out:gmatch("[^\n]+") do
      if l:match("^%d+$") then nums[#nums + 1] = tonumber(l) else names[#names + 1] = l end
    end
    if #names ~= #nums or #names == 0 then pending("no /sys/class/net") return end
    for i, n in ipairs(names) do idx[n] = nums[i] end
    local rank = { inet = 0, inet6 = 1 }
    for i = 2, #list do
      local a, b = list[i - 1], list[i]
      local ia, ib = idx[a.interface:match("^[^:]+")], idx[b.interface:match("^[^:]+")]
      if ia and ib then
        assert.is_true(ia < ib or (ia == ib and rank[a.family] <= rank[b.family]),
          a.interface .. "/" .. a.family .. " before " .. b.interface .. "/" .. b.family)
      end
    end
  end)

  it("localaddresses('inet6') lists only inet6 entries; 'inet' only inet", function()
    for _, fam in ipairs({ "inet", "inet6" }) do
      local list = assert(dns.localaddresses(fam))
      for _, e in ipairs(list) do assert.are.equal(fam, e.family) end
    end
    local all = assert(dns.localaddresses("unspec"))
    assert.are.equal(#all, #dns.localaddresses("inet") + #dns.localaddresses("inet6"))
  end)

  it("an unknown family raises naming argument #1", function()
    H.raises(dns.localaddresses, { "bogus" }, "bad argument #1", "invalid option 'bogus'")
  end)
end)
