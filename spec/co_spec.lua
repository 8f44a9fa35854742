-- socket.co (API.md §12.2), foreachaccept under the scheduler (§12.1) and
-- socket.poller().
--
-- Everything runs over loopback (127.0.0.1, or "localhost" where a name is
-- the point). Nothing synchronises on a fixed sleep: tasks wait on sockets,
-- and the only sleeps are inside tasks where sleeping or a timeout is what
-- is tested. Every co.run has a bound, every loop a limit; what a test opens
-- is closed after it, and the scheduler is drained, even when it fails.
local socket = require("socket")
local co = require("socket.co")
local unix = require("socket.unix")
local H = require("helper")

local now = socket.gettime

local function pack(...) return { n = select("#", ...), ... } end

-- Objects a test opened; after_each closes them.
local opened = {}
local function track(s)
  opened[#opened + 1] = s
  return s
end

-- A connected TCP pair, tracked. Both ends get a 20 s block timeout, so
-- that a call that blocked instead of yielding would end (and fail the
-- test) instead of hanging the suite; timeout tests set their own values.
local function tpair()
  local c, p = H.pair()
  c:settimeout(20)
  p:settimeout(20)
  return track(c), track(p)
end

-- Runs `code` in a child process (it sees `socket`, `co` and `say(...)`,
-- which collects a line) under timeout(1): where a call with no timeout
-- would block forever if it did not yield, the child dies instead of the
-- suite hanging. Returns the collected lines, then the raw output.
local function bounded(code, seconds)
  local h = H.childsh("timeout " .. (seconds or 30), [[
    local co = require("socket.co")
    local lines = {}
    local function say(...)
      local t = table.pack(...)
      for i = 1, t.n do t[i] = tostring(t[i]) end
      lines[#lines + 1] = table.concat(t, " ", 1, t.n)
    end
    local ok, err = pcall(function()
  ]] .. code .. [[
    end)
    if not ok then say("error", err) end
    io.write(table.concat(lines, "\n"), "\n")
  ]])
  local out, ok = h:wait()
  return out, ok
end

-- Expected output with -1.0 as the Lua running prints it: without a float
-- subtype (5.1, 5.2, LuaJIT) -1.0 prints as -1 and math.type says integer.
local function floats(text)
  if math.type(-1.0) == "float" then return text end
  return (text:gsub("float %-1%.0", "integer -1"):gsub("%-1%.0", "-1"))
end

-- Runs the tasks to the end within `limit` seconds, or fails the test.
local function runall(limit)
  local t0 = now()
  local ok, err = co.run(limit or 10)
  assert(ok == true, ("co.run did not finish in %.1f s: %s"):format(now() - t0, tostring(err)))
end

-- Asserts that `got` seconds is about `expected` (never early; late by at
-- most `slack`).
local function about(expected, got, slack, what)
  slack = slack or 0.3
  assert(got >= expected - 0.02 and got <= expected + slack,
    ("%s took %.3f s, expected %.2f s (+%.2f)"):format(what or "the call", got, expected, slack))
end

-- Two tasks exchanging numbered lines over their own pair until stop() says
-- so. Returns a table whose `rounds` counts the completed round trips.
local function chatter(stop)
  local a, b = tpair()
  local st = { rounds = 0, done = false }
  co.spawn(function()
    for i = 1, 1000000 do
      if stop() then break end
      assert(a:send(i .. "\n"))
      local line, err = a:receive()
      assert(line == "pong " .. i, "chatter got " .. tostring(line or err))
      st.rounds = i
    end
    assert(a:send("bye\n"))
  end)
  co.spawn(function()
    for _ = 1, 1000001 do
      local line = assert(b:receive())
      if line == "bye" then break end
      assert(b:send("pong " .. line .. "\n"))
    end
    st.done = true
  end)
  return st
end

-- Runs call() in a task while a chatter pair runs; returns call's packed
-- results, how long it took and the round trips the chatter made meanwhile.
local function timedwhilechatting(call)
  local stop = false
  local chat = chatter(function() return stop end)
  local res, took
  co.spawn(function()
    local t0 = now()
    res = pack(call())
    took = now() - t0
    stop = true
  end)
  runall(5)
  return res, took, chat.rounds
end

-- Bytes that differ from one 1 KB block to the next and from seed to seed
-- (each block starts with its seed and number), so a lost, repeated or
-- foreign chunk cannot compare equal.
local function payload(seed, size)
  local fill = {}
  for i = 1, 63 do fill[i] = string.char(33 + (seed * 7 + i * 13) % 90) end
  fill = table.concat(fill):rep(16):sub(1, 1024 - 16)
  local parts = {}
  for k = 1, math.floor((size + 1023) / 1024) do
    parts[k] = ("%06d:%08d;"):format(seed % 1000000, k) .. fill
  end
  return table.concat(parts):sub(1, size)
end

-- Where two strings first differ (for failure messages on megabytes).
local function firstdiff(a, b)
  if a == b then return nil end
  local n = math.min(#a, #b)
  for i = 1, n, 4096 do
    if a:sub(i, i + 4095) ~= b:sub(i, i + 4095) then
      for j = i, math.min(i + 4095, n) do
        if a:byte(j) ~= b:byte(j) then return j end
      end
    end
  end
  return n + 1
end

local function same_bytes(expected, got, what)
  assert(type(got) == "string", (what or "data") .. ": got " .. tostring(got))
  local d = firstdiff(expected, got)
  assert(d == nil, ("%s: %d bytes expected, %d got, first difference at byte %s")
    :format(what or "data", #expected, #got, tostring(d)))
end

-- The soft limit on open files of this process.
local function fdlimit()
  local f = io.open("/proc/self/limits")
  if not f then return nil end
  local s = f:read("a")
  f:close()
  local soft = s:match("Max open files%s+(%S+)")
  return soft == "unlimited" and math.huge or tonumber(soft)
end

-- A port on which nothing listens (bound, then closed).
local function deadport()
  local s, port = H.server()
  s:close()
  return port
end

local function tmppath()
  local path = os.tmpname()
  os.remove(path)
  return path
end

after_each(function()
  for i = #opened, 1, -1 do
    opened[i]:close()
    opened[i] = nil
  end
  -- What a failed test left behind: closing woke the socket waiters; let
  -- them (and short sleepers) end without reporting.
  co.onerror = function() end
  co.run(5)
  co.onerror = nil
  -- Megabyte payloads: collect them now, not during a timed call.
  collectgarbage()
end)

describe("socket.co scheduler (§12.2)", function()
  it("spawn returns the task, a coroutine, that starts on the next step with its arguments", function()
    assert.are.equal(co.spawn, co.event)
    local got
    local t = co.spawn(function(...) got = pack(...) end, 1, nil, "three")
    assert.are.equal("thread", type(t))
    assert.are.equal("suspended", coroutine.status(t))
    assert.is_nil(got)                                  -- not started by spawn
    assert.are.equal(0, co.step(0))
    assert.are.same({ n = 3, 1, nil, "three" }, got)
    assert.are.equal("dead", coroutine.status(t))
    local t2 = co.event(function() got = "event" end)
    assert.are.equal("thread", type(t2))
    assert.are_not.equal(t, t2)
    assert.are.equal(0, co.step(0))
    assert.are.equal("event", got)
  end)

  it("step returns the number of live tasks; step(t) waits at most t", function()
    local order = {}
    co.spawn(function() order[#order + 1] = "quick" end)
    co.spawn(function() socket.sleep(0.3); order[#order + 1] = "slow" end)
    co.spawn(function() socket.sleep(0.1); order[#order + 1] = "middle" end)
    local n = co.step(0)
    assert.are.equal(2, n)
    assert.are.equal("integer", math.type(n))
    assert.are.same({ "quick" }, order)
    local t0 = now()
    assert.are.equal(2, co.step(0.02))                 -- nothing due yet
    about(0.02, now() - t0, 0.15, "step(0.02)")
    assert.are.same({ "quick" }, order)
    for _ = 1, 100 do
      if co.step(1) < 2 then break end
    end
    assert.are.same({ "quick", "middle" }, order)
    for _ = 1, 100 do
      if co.step(1) == 0 then break end
    end
    assert.are.same({ "quick", "middle", "slow" }, order)
    t0 = now()
    assert.are.equal(0, co.step())                     -- nothing to wait for
    assert.is_true(now() - t0 < 0.1)
  end)

  it("run() gives exactly true when no task remains, nil,'timeout' when its time runs out", function()
    assert.are.same({ n = 1, true }, pack(co.run()))   -- nothing to run
    assert.are.same({ n = 1, true }, pack(co.run(1)))
    local finished = false
    co.spawn(function() socket.sleep(0.5); finished = true end)
    local t0 = now()
    assert.are.same({ n = 2, nil, "timeout" }, pack(co.run(0.2)))
    about(0.2, now() - t0, 0.15, "run(0.2)")
    assert.is_false(finished)
    assert.are.same({ n = 1, true }, pack(co.run(5)))
    assert.is_true(finished)
    about(0.5, now() - t0, 0.25, "the sleeper")
  end)

  it("running() is the task inside one, nil outside and in a plain coroutine of a task", function()
    assert.is_nil(co.running())
    local seen = {}
    local t1, t2
    t1 = co.spawn(function()
      seen.t1 = co.running()
      socket.sleep(0.01)
      seen.t1after = co.running()
      local inner = coroutine.create(function() return co.running() end)
      local ok, r = coroutine.resume(inner)
      seen.innerok, seen.inner = ok, r
      seen.wrapped = coroutine.wrap(function() return co.running() == nil end)()
    end)
    t2 = co.spawn(function() seen.t2 = co.running() end)
    runall(5)
    assert.are.equal(t1, seen.t1)
    assert.are.equal(t1, seen.t1after)
    assert.are.equal(t2, seen.t2)
    assert.is_true(seen.innerok)
    assert.is_nil(seen.inner)
    assert.is_true(seen.wrapped)
    assert.is_nil(co.running())
  end)

  it("onerror(task, err) receives a task's error, and the other tasks go on", function()
    local E = { "a table error" }
    local calls = {}
    co.onerror = function(task, err) calls[#calls + 1] = { task = task, err = err } end
    local done = {}
    local a, b, c, bad1, bad2
    a = co.spawn(function() socket.sleep(0.05); done[#done + 1] = "a" end)
    bad1 = co.spawn(function() error("plain", 0) end)
    b = co.spawn(function() done[#done + 1] = "b" end)
    bad2 = co.spawn(function() socket.sleep(0.02); error(E) end)
    c = co.spawn(function() socket.sleep(0.1); done[#done + 1] = "c" end)
    runall(5)
    assert.are.same({ "b", "a", "c" }, done)
    assert.are.equal(2, #calls)
    assert.are.equal(bad1, calls[1].task)
    assert.are.equal("plain", calls[1].err)
    assert.are.equal(bad2, calls[2].task)
    assert.is_true(rawequal(E, calls[2].err))
    assert.are.equal("dead", coroutine.status(bad1))
    assert.are.equal("dead", coroutine.status(bad2))
    assert.are_not.equal(a, b)
    assert.are_not.equal(b, c)
  end)

  it("without onerror the error leaves step/run unchanged; the other tasks stay queued", function()
    assert.is_nil(co.onerror)
    local E = setmetatable({}, { __tostring = function() return "E" end })
    local done = {}
    co.spawn(function() done[#done + 1] = "a1"; socket.sleep(0.05); done[#done + 1] = "a2" end)
    local bad = co.spawn(function() error(E) end)
    co.spawn(function() done[#done + 1] = "c" end)
    local ok, err = pcall(co.run, 5)
    assert.is_false(ok)
    assert.is_true(rawequal(E, err))
    assert.are.equal("dead", coroutine.status(bad))
    assert.are.same({ "a1" }, done)
    assert.are.equal(1, co.step(0))                     -- "c" runs and ends; "a" still sleeps
    assert.are.same({ "a1", "c" }, done)
    runall(5)
    assert.are.same({ "a1", "c", "a2" }, done)

    -- A string error keeps its position; through step as well.
    local line
    co.spawn(function() line = debug.getinfo(1, "l").currentline; error("boom") end)
    co.spawn(function() done[#done + 1] = "d" end)
    ok, err = pcall(co.step, 0)
    assert.is_false(ok)
    assert.are.equal(("spec/co_spec.lua:%d: boom"):format(line), err:match("spec/co_spec%.lua:%d+: boom$"))
    runall(5)
    assert.are.same({ "a1", "c", "a2", "d" }, done)
  end)

  it("prints nothing, with or without onerror (a child process)", function()
    local h = H.child([[
      local co = require("socket.co")
      local E = setmetatable({}, { __tostring = function() return "tableerr" end })
      co.spawn(function() error("boom", 0) end)
      co.spawn(function() socket.sleep(0.01) error(E) end)
      co.spawn(function() error("second", 0) end)
      for _ = 1, 3 do
        local ok, err = pcall(co.run, 5)
        io.write(tostring(ok), ":", tostring(err), "\n")
      end
      co.onerror = function(t, err) io.write("onerror:", type(t), ":", tostring(err), "\n") end
      co.spawn(function() error("boom2", 0) end)
      io.write(tostring(co.run(5)), "\n")
    ]])
    local out, ok = h:wait()
    assert.are.equal("false:boom\nfalse:second\nfalse:tableerr\nonerror:thread:boom2\ntrue\n", out)
    assert.is_true(ok)
  end)

  it("sleeps wake in deadline order, concurrently (co.sleep is socket.sleep)", function()
    assert.are.equal(socket.sleep, co.sleep)
    local order = {}
    local t0 = now()
    for _, s in ipairs({ 0.3, 0.1, 0.2 }) do
      co.spawn(function()
        co.sleep(s)
        order[#order + 1] = { s, now() - t0 }
      end)
    end
    runall(5)
    local total = now() - t0
    assert.are.same({ 0.1, 0.2, 0.3 }, { order[1][1], order[2][1], order[3][1] })
    for i = 1, 3 do about(order[i][1], order[i][2], 0.15, "sleep(" .. order[i][1] .. ")") end
    about(0.3, total, 0.15, "three sleeps together")
  end)

  it("socket.sleep with zero or a negative time does not yield; a non-number still raises", function()
    local log = {}
    co.spawn(function()
      socket.sleep(0); socket.sleep(-1)
      log[#log + 1] = "a"
      local ok, err = pcall(socket.sleep, "x")
      log[#log + 1] = ok and "no error" or err
    end)
    co.spawn(function() log[#log + 1] = "b" end)
    runall(5)
    assert.are.equal("a", log[1])
    assert.matches("number expected", log[2], 1, true)
    assert.are.equal("b", log[3])
  end)
end)

describe("sockets inside tasks", function()
  it("serve hundreds of concurrent clients of a task-per-client echo server (lines and 100 KB each)", function()
    local N = 300
    local limit = fdlimit()
    if not limit or limit < 1000 then
      pending(("needs an open-file soft limit of at least 1000 (ulimit -n is %s)"):format(tostring(limit)))
    end
    local BULK = 100 * 1024
    local server = track(assert(socket.bind("127.0.0.1", 0, 1024)))
    local _, port = server:getsockname()
    local gatew, gater = tpair()
    local live, peak, served, echoed, finished = 0, 0, 0, 0, 0

    -- The server, in plain blocking style: a line comes back as it is; a
    -- line "BULK n" is followed by n bytes, which come back.
    local function handler(c)
      track(c)
      c:settimeout(30)
      live = live + 1
      if live > peak then peak = live end
      for _ = 1, 1000 do
        local line, err = c:receive("*l")
        if not line then
          assert.are.equal("closed", err)
          break
        end
        local n = line:match("^BULK (%d+)$")
        if n then
          local data = assert(c:receive(tonumber(n)))
          assert.are.equal(#data, (c:send(data)))
        else
          assert(c:send(line .. "\n"))
        end
      end
      c:close()
      live = live - 1
      served = served + 1
    end
    server:settimeout(30)
    co.spawn(function()
      for _ = 1, N do
        local c = assert(server:accept())
        assert.are.equal("tcp{client}", c.class)
        co.spawn(handler, c)
      end
    end)

    for i = 1, N do
      co.spawn(function()
        local c = track(assert(socket.connect("127.0.0.1", port)))
        c:settimeout(30)
        for j = 1, 5 do
          local line = ("client %d line %d %s"):format(i, j, ("x"):rep(i % 50))
          assert(c:send(line .. "\n"))
          local back, err = c:receive("*l")
          assert(back == line, ("client %d: %q instead of %q (%s)"):format(i, tostring(back), line, tostring(err)))
        end
        -- Every client holds its connection until all of them have had
        -- their echoes: only a concurrent server gets everyone this far.
        echoed = echoed + 1
        if echoed == N then gatew:close() end
        local r, _, err = socket.select({ gater }, nil, 60)
        assert(r and r[1] == gater, "gate: " .. tostring(err))
        local bulk = payload(i, BULK)
        assert(c:send("BULK " .. BULK .. "\n"))
        assert.are.equal(BULK, (c:send(bulk)))
        local back = c:receive(BULK)
        same_bytes(bulk, back, "client " .. i .. " bulk")
        local received, sent = c:getstats()
        assert.are.equal(sent - #("BULK " .. BULK .. "\n"), received)   -- all but that line came back
        c:close()
        finished = finished + 1
      end)
    end
    runall(120)
    assert.are.equal(N, echoed)
    assert.are.equal(N, finished)
    assert.are.equal(N, served)
    assert.are.equal(N, peak)                            -- all handlers were live at once
    assert.are.equal(0, live)
  end)

  it("a block timeout in a task fires on time, the partial is kept, others keep exchanging", function()
    local c, p = tpair()
    local stop = false
    local chat = chatter(function() return stop end)
    local res, took, after
    co.spawn(function()
      c:settimeout(0.3)
      local t0 = now()
      res = pack(c:receive(10))
      took = now() - t0
      -- The partial left the buffer; continue from it as the prefix.
      assert(c:send("k"))
      after = pack(c:receive(7, res[3]))
      stop = true
    end)
    co.spawn(function()
      assert(p:send("abc"))
      -- "defg" only once the client's receive has timed out.
      assert.are.equal("k", p:receive(1))
      assert(p:send("defg"))
    end)
    runall(10)
    assert.are.same({ n = 3, nil, "timeout", "abc" }, res)
    about(0.3, took, 0.2, "receive with settimeout(0.3)")
    assert.are.same({ n = 3, "abcdefg", nil, nil }, after)
    assert.is_true(chat.rounds > 50, "the other tasks made " .. chat.rounds .. " round trips")
    assert.is_true(chat.done)
  end)

  it("block and total timeouts follow the §3 table for a trickling peer, all at once", function()
    -- A peer task sends one byte every 0.3 s (at 0.3, 0.6, ...); receive(10).
    local cases = {
      { b = 0.5, t = nil, took = 0.5, bytes = 1 },
      { b = nil, t = 1, took = 1.0, bytes = 3 },
      { b = 0.5, t = 2, took = 2.0, bytes = 6 },
      { b = 0.2, t = 5, took = 0.2, bytes = 0 },
    }
    local remaining = #cases
    local chat = chatter(function() return remaining == 0 end)
    local t0 = now()
    for _, case in ipairs(cases) do
      local c, p = tpair()
      co.spawn(function()
        if case.b then c:settimeout(case.b) end
        if case.t then c:settimeout(case.t, "t") end
        local start = now()
        case.res = pack(c:receive(10))
        case.elapsed = now() - start
        case.done = true
        remaining = remaining - 1
      end)
      co.spawn(function()
        for k = 1, 9 do
          socket.sleep(t0 + 0.3 * k - now())
          if case.done then break end
          assert(p:send("x"))
        end
      end)
    end
    runall(10)
    for _, case in ipairs(cases) do
      local name = ("b=%s,t=%s"):format(tostring(case.b), tostring(case.t))
      assert.are.same({ n = 3, nil, "timeout", ("x"):rep(case.bytes) }, case.res, name)
      about(case.took, case.elapsed, 0.2, name)
    end
    assert.is_true(chat.rounds > 100, "the other tasks made " .. chat.rounds .. " round trips")
  end)

  it("with both b and t set, b still bounds each wait in a task (silent peer: b, not t, fires)", function()
    -- §3 row b≥0,t≥0: the limit of a wait is min(b, t-elapsed). Outside a
    -- task this gives nil,"timeout" after b; inside one it must be the same.
    local c = tpair()
    local server = track(H.server())
    c:settimeout(0.2)
    c:settimeout(3, "t")
    server:settimeout(0.2)
    server:settimeout(3, "t")
    local t0 = now()
    assert.are.same({ n = 3, nil, "timeout", "" }, pack(c:receive(10)))
    about(0.2, now() - t0, 0.15, "receive outside a task")
    local r = {}
    co.spawn(function()
      local t1 = now()
      r.recv = pack(c:receive(10))
      r.recvtook = now() - t1
      t1 = now()
      r.acc = pack(server:accept())
      r.acctook = now() - t1
    end)
    runall(10)
    assert.are.same({ n = 3, nil, "timeout", "" }, r.recv)
    about(0.2, r.recvtook, 0.15, "receive (b=0.2, t=3) in a task")
    assert.are.same({ n = 2, nil, "timeout" }, r.acc)
    about(0.2, r.acctook, 0.15, "accept (b=0.2, t=3) in a task")
  end)

  it("a total timeout on receive('*l') keeps the partial line for the next call (§13.4)", function()
    local c, p = tpair()
    local res = {}
    co.spawn(function()
      c:settimeout(-1)
      c:settimeout(0.2, "t")
      res[1] = pack(c:receive("*l"))
      c:settimeout(10, "t")
      assert(c:send("k"))
      res[2] = pack(c:receive("*l", res[1][3]))
    end)
    co.spawn(function()
      assert(p:send("rest"))
      assert.are.equal("k", p:receive(1))         -- the first receive timed out
      assert(p:send("abc\n"))
    end)
    runall(5)
    assert.are.same({ n = 3, nil, "timeout", "rest" }, res[1])
    assert.are.same({ n = 3, "restabc", nil, nil }, res[2])
  end)

  it("an error in one task does not stop the others (onerror set)", function()
    local errs = {}
    co.onerror = function(_, err) errs[#errs + 1] = err end
    local c, p = tpair()
    local got = {}
    co.spawn(function()
      for i = 1, 3 do
        got[i] = c:receive()
      end
    end)
    co.spawn(function()
      assert(p:send("one\n"))
      error("task failed", 0)
    end)
    co.spawn(function()
      assert(p:send("two\n"))
    end)
    co.spawn(function()
      socket.sleep(0.05)                          -- later steps go on as well
      error({ "second failure" })
    end)
    co.spawn(function()
      socket.sleep(0.1)
      assert(p:send("three\n"))
    end)
    runall(5)
    assert.are.equal(2, #errs)
    assert.are.equal("task failed", errs[1])
    assert.are.same({ "second failure" }, errs[2])
    assert.are.same({ "one", "two", "three" }, got)
  end)

  it("a task blocked in receive gets nil,'closed' at once when another task closes its socket", function()
    local c, p = tpair()
    local c2 = tpair()
    local res, res2, took
    co.spawn(function()
      local t0 = now()
      res = pack(c:receive())
      took = now() - t0
    end)
    co.spawn(function()
      res2 = pack(c2:receive("*l", "pre"))
    end)
    co.spawn(function()
      c:close()
      c2:close()
    end)
    runall(3)
    assert.are.same({ n = 3, nil, "closed", "" }, res)
    assert.are.same({ n = 3, nil, "closed", "pre" }, res2)
    assert.is_true(took < 0.5, ("woke after %.3f s"):format(took))
    assert.are.equal(-1, c:getfd())
    assert.are.same({ n = 3, nil, "closed", "" }, pack(c:receive()))
    assert.are.same({ n = 3, nil, "closed", "" }, pack(p:receive("*a")))  -- the peer sees EOF
  end)

  it("a task blocked in accept gets nil,'closed' when another task closes the server", function()
    local server = track(H.server())
    server:settimeout(10)
    local res
    co.spawn(function() res = pack(server:accept()) end)
    co.spawn(function() server:close() end)
    runall(3)
    assert.are.same({ n = 2, nil, "closed" }, res)
  end)

  it("accept with a server timeout gives nil,'timeout' in a task, on time, while others run", function()
    local server = track(H.server())
    server:settimeout(0.25)
    local res, took, rounds = timedwhilechatting(function() return server:accept() end)
    assert.are.same({ n = 2, nil, "timeout" }, res)
    about(0.25, took, 0.2, "accept")
    assert.is_true(rounds > 20, "the other tasks made " .. rounds .. " round trips")
  end)

  it("select yields in a task and keeps the §6 shapes (2 values when ready, 3 on timeout)", function()
    local c, p = tpair()
    local x, y = tpair()
    local ROUNDS = 20
    local rounds = 0
    local res, seen, tres, tseen, took, wres
    co.spawn(function()
      -- Nothing is ready: select must yield while the other tasks go on.
      res = pack(socket.select({ c, "ignored" }, nil, 5))
      seen = rounds
      local t0 = now()
      tres = pack(socket.select({ c2 = true, p }, nil, 0.2))
      took = now() - t0
      tseen = rounds
      wres = pack(socket.select(nil, { c }, 1))
    end)
    -- Round trips between two tasks; then c becomes readable.
    co.spawn(function()
      for i = 1, ROUNDS do
        assert(x:send(i .. "\n"))
        assert.are.equal(tostring(i), x:receive())
        rounds = i
      end
      assert(p:send("x"))
    end)
    co.spawn(function()
      for _ = 1, ROUNDS do assert(y:send(y:receive() .. "\n")) end
    end)
    runall(10)
    assert.are.equal(2, res.n)
    assert.are.same({ c, [c] = 1 }, res[1])
    assert.are.same({}, res[2])
    assert.are.equal(ROUNDS, seen)
    assert.are.same({ {}, {}, "timeout", n = 3 }, tres)
    about(0.2, took, 0.15, "select(…, 0.2)")
    assert.are.equal(ROUNDS, tseen)
    assert.are.equal(2, wres.n)
    assert.are.same({}, wres[1])
    assert.are.same({ c, [c] = 1 }, wres[2])
    assert.are.equal("x", c:receive(1))
  end)

  it("select in a task waits on several sockets and returns the one that became ready", function()
    local a1, b1 = tpair()
    local a2, b2 = tpair()
    local res, log = nil, {}
    co.spawn(function()
      res = pack(socket.select({ a1, a2 }, nil, 5))
      log[#log + 1] = "select returned"
    end)
    co.spawn(function()
      log[#log + 1] = "second task"
      assert(b2:send("y"))
    end)
    runall(5)
    assert.are.same({ "second task", "select returned" }, log)
    assert.are.equal(2, res.n)
    assert.are.same({ a2, [a2] = 1 }, res[1])
    assert.are.same({}, res[2])
    b1:close()
  end)

  describe("receive yields through Lua-level and C-level wrappers", function()
    -- The wrapper call runs first and finds nothing to read; the second task
    -- then sends. If the call did not yield, the order would be reversed
    -- (or it would fail with "attempt to yield across a C-call boundary").
    local function through(call, send, blocking)
      local c, p = tpair()
      c:settimeout(blocking and 0.2 or 5)   -- a blocking call would end here, not hang
      local log, res = {}, nil
      if type(send) ~= "function" then
        local data = send or "hello\n"
        send = function() assert(p:send(data)) end
      end
      co.spawn(function()
        log[#log + 1] = "call"
        res = pack(call(c))
        log[#log + 1] = "returned"
      end)
      co.spawn(function()
        log[#log + 1] = "sender"
        send(p)
      end)
      runall(10)
      if blocking then
        assert.are.same({ "call", "returned", "sender" }, log)
      else
        assert.are.same({ "call", "sender", "returned" }, log)
      end
      return res, c, p
    end

    -- PUC Lua 5.1 cannot yield across pcall, xpcall, a for iterator or a
    -- metamethod (LuaJIT can): there the wait blocks, as outside a task,
    -- until its own timeout, and the other task runs afterwards.
    local PUC51 = _VERSION == "Lua 5.1" and not rawget(_G, "jit")
    local function blocks(call)
      return (through(call, nil, true))
    end

    it("pcall", function()
      if PUC51 then
        assert.are.same({ n = 4, true, nil, "timeout", "" }, blocks(function(c) return pcall(c.receive, c) end))
        return
      end
      local res = through(function(c) return pcall(c.receive, c) end)
      assert.are.same({ n = 4, true, "hello", nil, nil }, res)
    end)

    it("xpcall with a handler, and a method call inside a Lua closure", function()
      local function call(c)
        return xpcall(function() return c:receive("*l") end, debug.traceback)
      end
      if PUC51 then
        assert.are.same({ n = 4, true, nil, "timeout", "" }, blocks(call))
        return
      end
      local res = through(call)
      assert.are.same({ n = 4, true, "hello", nil, nil }, res)
    end)

    it("socket.protect (and a try that fails after a yield)", function()
      local f = socket.protect(function(c)
        local line = socket.try(c:receive())
        c:settimeout(0.05)
        local more = socket.try(c:receive())  -- nothing more: timeout
        return line, more
      end)
      local res = through(f)
      assert.are.same({ n = 2, nil, "timeout" }, res)
      local g = socket.protect(function(c) return socket.try(c:receive()) end)
      res = through(g)
      assert.are.same({ n = 3, "hello", nil, nil }, res)    -- try returns all its arguments
    end)

    it("an LTN12-style source (socket.source 'by-length')", function()
      local res = through(function(c)
        local src = socket.source("by-length", c, 5)
        return src(), src()
      end, "hello")
      assert.are.same({ n = 2, "hello", nil }, res)
    end)

    it("an LTN12-style source (socket.source 'until-closed') in a plain Lua loop", function()
      local res = through(function(c)
        local src = socket.source("until-closed", c)
        local parts = {}
        for _ = 1, 100 do
          local chunk, err = src()
          if not chunk then
            assert.is_nil(err)
            break
          end
          parts[#parts + 1] = chunk
        end
        return table.concat(parts)
      end, function(p)
        assert(p:send("abc"))
        p:close()
      end)
      assert.are.same({ n = 1, "abc" }, res)
    end)

    it("an LTN12-style sink (socket.sink 'keep-open') sending 4 MB to a peer that reads later", function()
      local big = payload(4, 4 * 1024 * 1024)
      local got
      local res = through(function(c)
        local sink = socket.sink("keep-open", c)
        local r1 = pack(sink(big))
        local r2 = pack(sink(nil))
        return r1.n, r1[1], r2.n, r2[1]
      end, function(p)
        local parts, n = {}, 0
        for _ = 1, 10000 do
          if n >= #big then break end
          local data = assert(p:receivesome(1048576))
          parts[#parts + 1] = data
          n = n + #data
        end
        got = table.concat(parts)
      end)
      assert.are.same({ n = 4, 3, #big, 1, 1 }, res)
      same_bytes(big, got, "through the sink")
    end)

    it("a __call metamethod and a generic-for iterator", function()
      local reader = setmetatable({}, { __call = function(_, c) return c:receive() end })
      local res = through(reader)
      assert.are.same({ n = 3, "hello", nil, nil }, res)
      local function iterate(c)
        local lines = {}
        for line in function() return (c:receive()) end do
          lines[#lines + 1] = line
          if #lines == 2 then break end
        end
        return table.concat(lines, "|")
      end
      if PUC51 then
        assert.are.same({ n = 1, "" }, blocks(iterate))
        return
      end
      res = through(iterate, "one\ntwo\n")
      assert.are.same({ n = 1, "one|two" }, res)
    end)
  end)

  it("by-length source delivers exactly the bytes in chunks, yielding between them", function()
    local c, p = tpair()
    local data = payload(7, 10000)
    local got
    co.spawn(function()
      local parts = {}
      local src = socket.source("by-length", c, #data)
      for _ = 1, 100 do
        local chunk, err = src()
        assert.is_nil(err)
        if not chunk then break end
        parts[#parts + 1] = chunk
      end
      got = table.concat(parts)
    end)
    co.spawn(function()
      for i = 1, #data, 1000 do
        assert(p:send(data, i, i + 999))
        socket.sleep(0.001)
      end
    end)
    runall(5)
    same_bytes(data, got, "by-length")
  end)

  it("sends 8 MB to a slow-reading peer task byte-exact; getstats counts each byte once", function()
    local c, p = tpair()
    local SIZE = 8 * 1024 * 1024
    local big = payload(8, SIZE)
    local sres, chunks, got = nil, 0, nil
    local readerbefore
    co.spawn(function()
      sres = pack(c:send(big))
      readerbefore = chunks
    end)
    co.spawn(function()
      local parts, n = {}, 0
      for _ = 1, 100000 do
        if n >= SIZE then break end
        local data = assert(p:receivesome(65536))
        parts[#parts + 1] = data
        n = n + #data
        chunks = chunks + 1
        if chunks % 8 == 0 then socket.sleep(0.005) end -- slow
      end
      got = table.concat(parts)
    end)
    runall(60)
    assert.are.same({ n = 3, SIZE, nil, nil }, sres)
    assert.is_true(readerbefore > 10, "the reader ran " .. readerbefore .. " times during the send")
    same_bytes(big, got, "8 MB")
    local received, sent = c:getstats()
    assert.are.equal(0, received)
    assert.are.equal(SIZE, sent)
    received, sent = p:getstats()
    assert.are.equal(SIZE, received)
    assert.are.equal(0, sent)
  end)

  it("a send that times out in a task reports its last index; sending the rest completes", function()
    local c, p = tpair()
    local SIZE = 20 * 1024 * 1024
    local big = payload(20, SIZE)
    local x, y = tpair()
    local first, second, got, took
    co.spawn(function()
      c:settimeout(0.2)
      local t0 = now()
      first = pack(c:send(big))
      took = now() - t0
      assert(x:send("go\n"))
      c:settimeout(30)
      second = pack(c:send(big, first[3] + 1))
    end)
    co.spawn(function()
      -- Wait (without reading) until the sender timed out.
      assert.are.equal("go", y:receive())
      local parts, n = {}, 0
      for _ = 1, 100000 do
        if n >= SIZE then break end
        local data = assert(p:receivesome(1048576))
        parts[#parts + 1] = data
        n = n + #data
      end
      got = table.concat(parts)
    end)
    runall(60)
    assert.are.equal(3, first.n)
    assert.is_nil(first[1])
    assert.are.equal("timeout", first[2])
    local last = first[3]
    assert.are.equal("integer", math.type(last))
    assert.is_true(last > 0 and last < SIZE, "last index " .. tostring(last))
    about(0.2, took, 0.2, "send with settimeout(0.2)")
    assert.are.same({ n = 3, SIZE, nil, nil }, second)
    same_bytes(big, got, "20 MB in two sends")
    local _, sent = c:getstats()
    assert.are.equal(SIZE, sent)
  end)

  describe("connect", function()
    it("socket.connect in a task gives a tcp{client} with timeouts -1,-1", function()
      local server, port = H.server()
      track(server)
      server:settimeout(10)
      local c, a, line, timeouts
      co.spawn(function()
        a = assert(server:accept())
        track(a)
        assert(a:send("hi\n"))
      end)
      co.spawn(function()
        c = track(assert(socket.connect("127.0.0.1", port)))
        timeouts = { c:gettimeout() }
        c:settimeout(10)
        line = c:receive()
      end)
      runall(5)
      assert.are.equal("tcp{client}", c.class)
      assert.are.same({ -1.0, -1.0 }, timeouts)
      assert.are.equal("hi", line)
      local _, cport = c:getsockname()
      local _, aport = a:getpeername()
      assert.are.equal(cport, aport)
    end)

    it("socket.connect to 'localhost', connect4 and the table form in tasks", function()
      local server, port = H.server()
      track(server)
      local res = {}
      server:settimeout(10)
      co.spawn(function()
        for _ = 1, 3 do
          local a = track(assert(server:accept()))
          a:settimeout(10)
          local line = a:receive()
          assert(a:send(line .. " ok\n"))
        end
      end)
      local forms = {
        function() return socket.connect("localhost", port) end,
        function() return socket.connect4("127.0.0.1", port) end,
        function() return socket.connect { host = "127.0.0.1", port = port, timeout = 5 } end,
      }
      for i, f in ipairs(forms) do
        co.spawn(function()
          local c = track(assert(f()))
          res[i .. "t"] = { c:gettimeout() }
          c:settimeout(10)
          assert(c:send("form" .. i .. "\n"))
          res[i] = c:receive()
        end)
      end
      runall(10)
      for i = 1, 3 do
        assert.are.equal("form" .. i .. " ok", res[i])
        assert.are.same({ -1.0, -1.0 }, res[i .. "t"])
      end
    end)

    it("to a port where nothing listens gives nil,'connection refused' in a task", function()
      local port = deadport()
      local res = {}
      co.spawn(function() res[1] = pack(socket.connect("127.0.0.1", port)) end)
      co.spawn(function()
        local c = track(socket.tcp())
        res[2] = pack(c:connect("127.0.0.1", port))
        res[3] = c.class
      end)
      co.spawn(function() res[4] = pack(socket.connect { host = "127.0.0.1", port = port }) end)
      runall(5)
      assert.are.same({ n = 2, nil, "connection refused" }, res[1])
      assert.are.same({ n = 2, nil, "connection refused" }, res[2])
      assert.are.equal("tcp{client}", res[3])
      assert.are.same({ n = 2, nil, "connection refused" }, res[4])
    end)

    it("the settimeout(0) pattern (§4.2) is unchanged in a task", function()
      local server = track(H.server())
      local _, port = server:getsockname()
      local r = {}
      co.spawn(function()
        local c = track(socket.tcp())
        c:settimeout(0)
        r.first = pack(c:connect("127.0.0.1", port))
        r.sel = pack(socket.select(nil, { c }, 2))
        r.second = pack(c:connect("127.0.0.1", port))
        r.third = pack(c:connect("127.0.0.1", port))
        r.c = c
        -- A pending attempt to a dead port: "connection refused" on retry.
        local dead = deadport()
        local d = track(socket.tcp())
        d:settimeout(0)
        r.dfirst = pack(d:connect("127.0.0.1", dead))
        r.dsel = pack(socket.select(nil, { d }, 2))
        r.dsecond = pack(d:connect("127.0.0.1", dead))
      end)
      runall(5)
      assert.are.same({ n = 2, nil, "timeout" }, r.first)
      assert.are.equal(2, r.sel.n)
      assert.are.same({ r.c, [r.c] = 1 }, r.sel[2])
      assert.are.same({ n = 1, 1 }, r.second)
      assert.are.same({ n = 2, nil, "already connected" }, r.third)
      assert.are.same({ n = 2, nil, "timeout" }, r.dfirst)
      assert.are.equal(2, r.dsel.n)
      assert.are.same({ n = 2, nil, "connection refused" }, r.dsecond)
    end)

    it("a connect timeout in a task (a full backlog) fires on time while others run", function()
      local server = track(socket.tcp())
      assert(server:bind("127.0.0.1", 0))
      assert(server:listen(0))
      local _, port = server:getsockname()
      -- Fill the accept queue (never accepted).
      local filler = track(socket.tcp())
      filler:settimeout(2)
      assert(filler:connect("127.0.0.1", port))
      local c = track(socket.tcp())
      c:settimeout(0.3)
      local res, took, rounds = timedwhilechatting(function() return c:connect("127.0.0.1", port) end)
      assert.are.same({ n = 2, nil, "timeout" }, res)
      about(0.3, took, 0.2, "connect with settimeout(0.3)")
      assert.is_true(rounds > 20, "the other tasks made " .. rounds .. " round trips")
    end)
  end)

  it("UDP sendto/receivefrom and connected send/receive between tasks", function()
    local u = track(socket.udp())
    assert(u:setsockname("127.0.0.1", 0))
    local _, uport = u:getsockname()
    local v = track(socket.udp())
    assert(v:setsockname("127.0.0.1", 0))
    local _, vport = v:getsockname()
    u:settimeout(10)
    v:settimeout(10)
    local log, r = {}, {}
    co.spawn(function()
      log[#log + 1] = "receivefrom"
      r.from = pack(u:receivefrom())
      log[#log + 1] = "got"
      r.sent = pack(u:sendto("pong", "127.0.0.1", vport))
      u:settimeout(0.2)
      local t0 = now()
      r.timeout = pack(u:receive())
      r.took = now() - t0
    end)
    co.spawn(function()
      log[#log + 1] = "sender"
      r.sendto = pack(v:sendto("ping", "127.0.0.1", uport))
      r.reply = pack(v:receivefrom())
      -- Connected sockets too.
      assert(v:setpeername("127.0.0.1", uport))
      r.connsend = pack(v:send(""))
    end)
    runall(5)
    assert.are.same({ "receivefrom", "sender", "got" }, log)
    assert.are.same({ n = 3, "ping", "127.0.0.1", vport }, r.from)
    assert.are.same({ n = 1, 4 }, r.sent)
    assert.are.same({ n = 1, 4 }, r.sendto)
    assert.are.same({ n = 3, "pong", "127.0.0.1", uport }, r.reply)
    assert.are.same({ n = 1, 0 }, r.connsend)
    -- The empty datagram arrived before the timeout test: receive got it.
    assert.are.same({ n = 1, "" }, r.timeout)

    -- A real timeout, with nothing on the way.
    local w = track(socket.udp())
    assert(w:setsockname("127.0.0.1", 0))
    w:settimeout(0.2)
    local res, took, rounds = timedwhilechatting(function() return w:receivefrom() end)
    assert.are.same({ n = 2, nil, "timeout" }, res)
    about(0.2, took, 0.15, "receivefrom with settimeout(0.2)")
    assert.is_true(rounds > 20)
  end)

  it("unix stream sockets between tasks (lines and 2 MB) #linux #unixsock", function()
    local path = tmppath()
    local srv = track(unix.stream())
    assert(srv:bind(path))
    assert(srv:listen())
    local big = payload(5, 2 * 1024 * 1024)
    local r = {}
    srv:settimeout(10)
    co.spawn(function()
      local a = track(assert(srv:accept()))
      a:settimeout(10)
      r.class = a.class
      local line = a:receive()
      assert(a:send(line .. "!\n"))
      local data = a:receive(#big)
      assert.are.equal(#big, (a:send(data)))
    end)
    co.spawn(function()
      local c = track(unix.stream())
      c:settimeout(10)
      r.connect = pack(c:connect(path))
      assert(c:send("hello\n"))
      r.line = c:receive()
      assert.are.equal(#big, (c:send(big)))
      r.big = c:receive(#big)
      c:settimeout(0.1)
      r.timeout = pack(c:receive(1))
    end)
    runall(20)
    os.remove(path)
    assert.are.equal("unixstream{client}", r.class)
    assert.are.same({ n = 1, 1 }, r.connect)
    assert.are.equal("hello!", r.line)
    same_bytes(big, r.big, "unix 2 MB")
    assert.are.same({ n = 3, nil, "timeout", "" }, r.timeout)
  end)

  it("unix datagram sockets between tasks #linux #unixsock", function()
    local path = tmppath()
    local d = track(unix.dgram())
    assert(d:bind(path))
    d:settimeout(10)
    local log, r = {}, {}
    co.spawn(function()
      log[#log + 1] = "receive"
      r.got = pack(d:receivefrom())
      log[#log + 1] = "got"
    end)
    co.spawn(function()
      log[#log + 1] = "sender"
      local s = track(unix.dgram())
      r.sent = pack(s:sendto("datagram", path))
    end)
    runall(5)
    os.remove(path)
    assert.are.same({ "receive", "sender", "got" }, log)
    assert.are.same({ n = 1, 8 }, r.sent)
    assert.are.same({ n = 2, "datagram", "" }, r.got)
  end)

  it("dns.resolve('localhost'):wait() in a task yields while another task runs", function()
    local dns = socket.dns
    local yielded, results = 0, {}
    for attempt = 1, 10 do
      local log = {}
      co.spawn(function()
        local a = dns.resolve("localhost")
        local before = a:getstatus()
        log[#log + 1] = "wait"
        local status = a:wait(10)
        log[#log + 1] = "done"
        results[attempt] = { before = before, status = status, ip = a:getip() }
        a:close()
      end)
      co.spawn(function() log[#log + 1] = "other" end)
      runall(10)
      local r = results[attempt]
      assert.are.equal("success", r.status)
      assert.are.equal("127.0.0.1", r.ip)
      if r.before == "waiting" then
        yielded = yielded + 1
        assert.are.same({ "wait", "other", "done" }, log, "attempt " .. attempt)
      end
    end
    assert.is_true(yielded > 0, "the lookup of localhost was always finished before wait()")

    -- Many lookups waiting at once, while a chatter goes on.
    local left = 20
    local chat = chatter(function() return left == 0 end)
    local ips = {}
    for i = 1, 20 do
      co.spawn(function()
        local a = dns.resolve("localhost", "inet")
        assert.are.equal("success", (a:wait(10)))
        ips[i] = a:getip()
        a:close()
        left = left - 1
      end)
    end
    runall(20)
    for i = 1, 20 do assert.are.equal("127.0.0.1", ips[i]) end
    assert.is_true(chat.done)
  end)

  it("dns wait(0) in a task polls without yielding; a later wait() gives the result", function()
    local log, r = {}, {}
    co.spawn(function()
      local a = socket.dns.resolve("localhost", "inet")
      r.poll = pack(a:wait(0))
      log[#log + 1] = "polled"
      r.status = a:wait(10)
      r.ip = a:getip()
      r.again = pack(a:wait(0))
      a:close()
    end)
    co.spawn(function() log[#log + 1] = "other" end)
    runall(10)
    assert.are.equal("polled", log[1])                 -- wait(0) did not yield
    assert.are.equal(1, r.poll.n)
    assert.is_truthy(r.poll[1] == "waiting" or r.poll[1] == "success", tostring(r.poll[1]))
    assert.are.equal("success", r.status)
    assert.are.equal("127.0.0.1", r.ip)
    assert.are.same({ n = 1, "success" }, r.again)
  end)

  -- foreachaccept ignores server timeouts, so one that did not yield would
  -- never return: these run in a bounded child process.
  describe("foreachaccept (§12.1) in a task", function()
    it("runs each handler in its own task; a handler returning false ends it with true", function()
      local out, ok = bounded([[
        local server = assert(socket.bind("127.0.0.1", 0))
        local _, port = server:getsockname()
        local handlers, r = {}, {}
        co.spawn(function()
          local res = table.pack(server:foreachaccept(function(c)
            handlers[#handlers + 1] = co.running()
            local b, t = c:gettimeout()
            c:settimeout(10)
            local line = c:receive()
            say("handler", line, math.type(b), b, t)
            if line == "stop" then
              c:close()
              return false
            end
            -- The first client's handler blocks until the second is served.
            if line == "first" then say("handler first got", (c:receive())) end
            assert(c:send("served " .. line .. "\n"))
            c:close()
          end))
          r.fa = res
          r.fd = server:getfd()
        end)
        local outer
        co.spawn(function()
          outer = co.running()
          local c1 = assert(socket.connect("127.0.0.1", port))
          c1:settimeout(10)
          assert(c1:send("first\n"))
          local c2 = assert(socket.connect("127.0.0.1", port))
          c2:settimeout(10)
          assert(c2:send("second\n"))
          say("client 2", (c2:receive()))
          assert(c1:send("go\n"))
          say("client 1", (c1:receive()))
          local c3 = assert(socket.connect("127.0.0.1", port))
          c3:settimeout(10)
          assert(c3:send("stop\n"))
          r.c3 = table.pack(c3:receive())
          c1:close(); c2:close(); c3:close()
        end)
        say("run", co.run(20))
        say("foreachaccept", r.fa.n, r.fa[1], "server fd", r.fd)
        say("client 3", r.c3.n, r.c3[1], r.c3[2], "[" .. tostring(r.c3[3]) .. "]")
        local distinct = #handlers == 3 and handlers[1] ~= handlers[2] and handlers[2] ~= handlers[3]
          and handlers[1] ~= handlers[3] and outer ~= handlers[1] and type(handlers[1]) == "thread"
        say("handlers", #handlers, distinct)
      ]])
      assert.is_true(ok, out)
      assert.are.equal(floats(table.concat({
        "handler first float -1.0 -1.0",
        "handler second float -1.0 -1.0",
        "client 2 served second",
        "handler first got go",
        "client 1 served first",
        "handler stop float -1.0 -1.0",
        "run true",
        "foreachaccept 1 true server fd -1",
        "client 3 3 nil closed []",
        "handlers 3 true",
      }, "\n") .. "\n"), out)
    end)

    it("returns nil,'closed' when another task closes the server; server timeouts are skipped", function()
      local out, ok = bounded([[
        local server = assert(socket.bind("127.0.0.1", 0))
        local _, port = server:getsockname()
        server:settimeout(0.05)
        local served = 0
        co.spawn(function()
          local res = table.pack(server:foreachaccept(function(c)
            served = served + 1
            assert(c:send("hello\n"))
            c:close()
          end))
          say("foreachaccept", res.n, res[1], res[2])
        end)
        co.spawn(function()
          socket.sleep(0.2)                 -- outlive a few server timeouts
          local c = assert(socket.connect("127.0.0.1", port))
          c:settimeout(10)
          say("client", (c:receive()))
          c:close()
          server:close()
        end)
        say("run", co.run(10), "served", served)
      ]])
      assert.is_true(ok, out)
      assert.are.equal("client hello\nforeachaccept 2 nil closed\nrun true served 1\n", out)
    end)

    it("outside a task calls the handler inline, and false returns true", function()
      local server, port = H.server()
      track(server)
      local c = track(assert(socket.connect("127.0.0.1", port)))
      assert(c:send("x\n"))
      local inside
      local res = pack(server:foreachaccept(function(a)
        inside = co.running()
        assert.are.equal("x", a:receive())
        a:close()
        return false
      end))
      assert.are.same({ n = 1, true }, res)
      assert.is_nil(inside)
      assert.are_not.equal(-1, server:getfd())       -- not closed by the loop
    end)
  end)

  it("calls without any timeout wait in tasks as long as needed (a bounded child process)", function()
    local out, ok = bounded([[
      local server = assert(socket.bind("127.0.0.1", 0))
      local _, port = server:getsockname()
      local big = string.rep("0123456789abcdef", 65536)       -- 1 MB
      local r, a = {}, nil
      co.spawn(function()
        a = assert(server:accept())
        r.timeouts = table.pack(a:gettimeout())
        local data = a:receive(#big)
        r.echo = data == big
        assert(a:send(data))
        r.line = a:receive()
        assert(a:send("ok\n"))
        r.last = table.pack(a:receive())   -- until the client task closes `a`
      end)
      co.spawn(function()
        local c = assert(socket.connect("127.0.0.1", port))
        r.sent = c:send(big)
        r.back = c:receive(#big) == big
        assert(c:send("bye\n"))
        local sel = table.pack(socket.select({ c }, nil))
        r.sel = sel.n == 2 and sel[1][1] == c and #sel[2] == 0
        r.ok = c:receive()
        a:close()
        c:close()
      end)
      co.spawn(function()
        local d = socket.dns.resolve("localhost", "inet")
        r.dns = d:wait() .. " " .. d:getip()
      end)
      say("run", co.run(20))
      say("accepted", r.timeouts.n, r.timeouts[1], r.timeouts[2])
      say("echo", r.echo, r.sent, r.back)
      say("line", r.line, "select", r.sel, "ok", r.ok)
      say("last", r.last.n, r.last[1], r.last[2], "[" .. tostring(r.last[3]) .. "]")
      say("dns", r.dns)
    ]])
    assert.is_true(ok, out)
    assert.are.equal(floats(table.concat({
      "run true",
      "accepted 2 -1.0 -1.0",
      "echo true 1048576 true",
      "line bye select true ok ok",
      "last 3 nil closed []",
      "dns success 127.0.0.1",
    }, "\n") .. "\n"), out)
  end)

  it("receivesome and receive('*a') yield in tasks too", function()
    local c, p = tpair()
    local r, log = {}, {}
    co.spawn(function()
      log[#log + 1] = "some"
      r.some = pack(c:receivesome(100))
      assert(c:send("k"))
      log[#log + 1] = "all"
      r.all = pack(c:receive("*a"))
      log[#log + 1] = "returned"
    end)
    co.spawn(function()
      log[#log + 1] = "send1"
      assert(p:send("abc"))
      assert.are.equal("k", p:receive(1))
      log[#log + 1] = "send2"
      assert(p:send("def\r\nghi"))
      p:close()
    end)
    runall(5)
    assert.are.same({ "some", "send1", "all", "send2", "returned" }, log)
    assert.are.same({ n = 1, "abc" }, r.some)
    assert.are.same({ n = 3, "def\r\nghi", nil, nil }, r.all)
  end)
end)

describe("outside a task nothing changes", function()
  it("receive, accept, select, sleep and connect block as before", function()
    local c, p = tpair()
    c:settimeout(0.2)
    local t0 = now()
    assert.are.same({ n = 3, nil, "timeout", "" }, pack(c:receive()))
    about(0.2, now() - t0, 0.15, "receive")
    assert(p:send("line\n"))
    assert.are.same({ n = 3, "line", nil, nil }, pack(c:receive()))

    local server = track(H.server())
    server:settimeout(0.1)
    t0 = now()
    assert.are.same({ n = 2, nil, "timeout" }, pack(server:accept()))
    about(0.1, now() - t0, 0.15, "accept")

    t0 = now()
    assert.are.same({ n = 3, {}, {}, "timeout" }, pack(socket.select(nil, nil, 0.1)))
    about(0.1, now() - t0, 0.15, "select")
    assert.are.same({ n = 0 }, pack(socket.sleep(0.1)))
    about(0.2, now() - t0, 0.15, "select then sleep")

    assert.are.same({ n = 2, nil, "connection refused" }, pack(socket.connect("127.0.0.1", deadport())))
    local m = track(socket.tcp())
    m:settimeout(0)
    local _, port = server:getsockname()
    assert.are.same({ n = 2, nil, "timeout" }, pack(m:connect("127.0.0.1", port)))
    assert.is_nil(co.running())
  end)

  it("a plain coroutine (not a task) blocks instead of yielding, inside or outside a task", function()
    local c = tpair()
    c:settimeout(0.1)
    local function body()
      local t0 = now()
      local r = pack(c:receive())
      return r, now() - t0
    end
    local ok, r, took = coroutine.resume(coroutine.create(body))
    assert.is_true(ok)
    assert.are.same({ n = 3, nil, "timeout", "" }, r)
    about(0.1, took, 0.15, "receive in a plain coroutine")

    local inner
    co.spawn(function()
      local th = coroutine.create(body)
      inner = pack(coroutine.resume(th))
      inner.status = coroutine.status(th)
    end)
    runall(5)
    assert.is_true(inner[1])
    assert.are.same({ n = 3, nil, "timeout", "" }, inner[2])
    assert.are.equal("dead", inner.status)
  end)
end)

describe("socket.poller()", function()
  it("set/wait/remove with real sockets #linux #epoll", function()
    local p = assert(socket.poller())
    assert.matches("^poller: 0x%x+$", tostring(p))
    assert.is_true(p:getfd() >= 0)
    local server, port = H.server()
    track(server)
    assert.are.same({ n = 1, 1 }, pack(p:set(server, "r")))
    local n, out = p:wait(0)
    assert.are.equal(0, n)
    assert.are.equal("integer", math.type(n))
    assert.are.equal("table", type(out))
    assert.is_nil(out[1])

    local c = track(assert(socket.connect("127.0.0.1", port)))
    n, out = p:wait(2)
    assert.are.equal(1, n)
    assert.are.same({ server:getfd(), 1 }, out)
    local a = track(assert(server:accept()))
    assert.are.equal(0, (p:wait(0)))

    -- Write interest: a fresh connection is writable at once.
    assert.are.equal(1, p:set(c, "w"))
    n, out = p:wait(1)
    assert.are.equal(1, n)
    assert.are.same({ c:getfd(), 2 }, out)

    -- "rw" on a: writable now; readable and writable (3) once c sends.
    assert.are.equal(1, p:set(a:getfd(), "rw"))           -- a plain fd works too
    assert.are.equal(1, p:set(c, ""))                      -- removed
    n, out = p:wait(1)
    assert.are.equal(1, n)
    assert.are.same({ a:getfd(), 2 }, out)
    assert(c:send("x"))
    n, out = p:wait(1)
    assert.are.equal(1, n)
    assert.are.same({ a:getfd(), 3 }, out)
    -- Changing interest replaces it.
    assert.are.equal(1, p:set(a, "r"))
    n, out = p:wait(1)
    assert.are.equal(1, n)
    assert.are.same({ a:getfd(), 1 }, out)

    -- Any object with getfd.
    assert.are.equal(1, p:set(a, ""))
    local obj = { getfd = function() return c:getfd() end }
    assert.are.equal(1, p:set(obj, "w"))
    n, out = p:wait(1)
    assert.are.equal(1, n)
    assert.are.same({ c:getfd(), 2 }, out)
    assert.are.equal(1, p:set(obj, ""))

    -- Nothing registered is ready: wait(t) waits t and reports nothing.
    assert.are.equal(1, p:set(server, ""))
    local t0 = now()
    n, out = p:wait(0.15)
    assert.are.equal(0, n)
    assert.is_nil(out[1])
    about(0.15, now() - t0, 0.15, "wait(0.15)")
    -- Removing what is not registered is not an error.
    assert.are.equal(1, p:set(server, ""))
    assert.are.equal(1, p:close())
  end)

  it("reports several ready fds at once and reuses the out table", function()
    local p = assert(socket.poller())
    local pairs_ = {}
    for i = 1, 3 do
      local c, s = tpair()
      pairs_[i] = { c, s }
      assert(p:set(s, "r"))
    end
    assert(pairs_[1][1]:send("a"))
    assert(pairs_[3][1]:send("c"))
    local out = { 9, 9, 9, 9, 9, 9, 9, 9, "stale" }
    local n, got = p:wait(1, out)
    assert.is_true(rawequal(out, got))
    assert.are.equal(2, n)
    local ready = {}
    for i = 1, 2 * n, 2 do ready[out[i]] = out[i + 1] end
    assert.are.same({ [pairs_[1][2]:getfd()] = 1, [pairs_[3][2]:getfd()] = 1 }, ready)
    assert.is_nil(out[2 * n + 1])
    -- Again with the same table: fewer entries this time.
    pairs_[1][2]:receive(1)
    pairs_[3][2]:receive(1)
    assert(pairs_[2][1]:send("b"))
    n, got = p:wait(1, out)
    assert.is_true(rawequal(out, got))
    assert.are.equal(1, n)
    assert.are.equal(pairs_[2][2]:getfd(), out[1])
    assert.are.equal(1, out[2])
    assert.is_nil(out[3])
    p:close()
  end)

  it("a peer's close counts as readable (hang-up reported as the interest)", function()
    local p = assert(socket.poller())
    local c, s = tpair()
    assert(p:set(s, "r"))
    c:close()
    local n, out = p:wait(1)
    assert.are.equal(1, n)
    assert.are.same({ s:getfd(), 1 }, out)
    p:close()
  end)

  it("wrong arguments raise, naming the argument", function()
    local p = assert(socket.poller())
    local server = track(H.server())
    H.raises(function() return p:set("x", "r") end, {}, "bad argument #1 to 'set'")
    H.raises(function() return p:set(server, "x") end, {}, "bad argument #2 to 'set'")
    H.raises(function() return p:set(server, "rx") end, {}, "bad argument #2 to 'set'")
    local closed = socket.tcp()
    closed:close()
    H.raises(function() return p:set(closed, "r") end, {}, "bad argument #1 to 'set'")
    H.raises(function() return p:wait("soon") end, {},
      "bad argument #1 to 'wait' (number expected, got string)")
    H.raises(function() return p:wait(1, 5) end, {},
      "bad argument #2 to 'wait' (table expected, got number)")
    H.raises(function() return p.wait(server, 0) end, {}, "poller expected")
    p:close()
  end)

  it("a closed poller raises on set and wait; close is repeatable; <close> works #linux #epoll", function()
    local server = track(H.server())
    local p = assert(socket.poller())
    assert.are.equal(1, p:close())
    assert.are.equal(-1, p:getfd())
    assert.are.equal(1, p:close())
    H.raises(function() return p:set(server, "r") end, {}, "set", "closed")
    H.raises(function() return p:wait(0) end, {}, "wait", "closed")
    assert.matches("^poller: 0x", tostring(p))
    local q
    H.closing(function(scoped)
      q = scoped
      assert.is_true(q:getfd() >= 0)
    end, assert(socket.poller()))
    assert.are.equal(-1, q:getfd())
  end)
end)
