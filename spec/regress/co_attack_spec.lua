-- Attacks on the scheduler's bookkeeping (issue 14 §3): several tasks on
-- one object, tasks that raise while holding deadlines, closes from
-- another task, and the timer heap under churn (entries superseded,
-- tasks finishing early, the heap rebuilt while deadlines are pending).
local socket = require("socket")
local co = require("socket.co")
local H = require("helper")

local now = socket._now

local function kb()
  collectgarbage()
  collectgarbage()
  return collectgarbage("count")
end

describe("socket.co under attack", function()
  after_each(function() co.onerror = nil end)

  it("three tasks in select on one socket, closed by a fourth: each waits out its own timeout #linux #cpuclock", function()
    local c, p = H.pair()
    local res = {}
    for i = 1, 3 do
      co.spawn(function()
        local t0 = now()
        local r, w, e = socket.select({ c }, nil, 0.1 * i)
        res[i] = { #r, #w, e, now() - t0 }
      end)
    end
    co.spawn(function() co.sleep(0.02); c:close() end)
    local c0 = os.clock()
    assert.is_true(co.run(5))
    local cpu = os.clock() - c0
    p:close()
    for i = 1, 3 do
      assert.same({ 0, 0, "timeout" }, { res[i][1], res[i][2], res[i][3] })
      assert.is_true(res[i][4] >= 0.1 * i - 0.001 and res[i][4] < 0.1 * i + 1, "task " .. i .. ": " .. res[i][4])
    end
    assert.is_true(cpu < 0.15, "spun: cpu " .. cpu)
  end)

  it("a select keeps waiting on its open sockets when another of its set is closed", function()
    local c1, p1 = H.pair()
    local c2, p2 = H.pair()
    local got
    co.spawn(function()
      local r = socket.select({ c1, c2 }, nil, 5)
      got = r[1] == c2 and #r == 1
    end)
    co.spawn(function() co.sleep(0.02); c1:close(); co.sleep(0.05); p2:send("x") end)
    assert.is_true(co.run(5))
    c2:close() p1:close() p2:close()
    assert.is_true(got)
  end)

  it("tasks that raise while holding a deadline of math.huge are released too", function()
    local c, p = H.pair()
    local errors = 0
    co.onerror = function() errors = errors + 1 end
    local function round(n)
      for _ = 1, n / 500 do
        for _ = 1, 500 do
          co.spawn(function() socket.select({ c }, nil, math.huge); error("late", 0) end)
        end
        co.step(0)
        p:send("x")
        for _ = 1, 20 do if co.step(1) == 0 then break end end
        assert(c:receive(1))
      end
    end
    round(1000)
    local before = kb()
    round(20000)
    local grown = kb() - before
    c:close() p:close()
    assert.equal(21000, errors)
    assert.is_true(grown < 256, ("memory grew by %.0f KB"):format(grown))
  end)

  it("timer churn: deadlines superseded, tasks ending early, the heap rebuilt; none fires early or late", function()
    math.randomseed(14)
    local n, early, late, done = 600, 0, 0, 0
    local c, p = H.pair()
    for i = 1, n do
      local a, b = math.random() * 0.2, math.random() * 0.2
      co.spawn(function()
        if i % 4 < 2 then                           -- a long wait that ends early: entry goes stale
          socket.select({ c }, nil, 1000 + a)
        elseif i % 4 == 2 then                      -- the same, then a shorter deadline supersedes it
          socket.select({ c }, nil, 1000 + a)
          local t0 = now()
          co.sleep(b)
          local d = now() - t0
          if d < b then early = early + 1 elseif d > b + 1 then late = late + 1 end
        else
          local t0 = now()
          co.sleep(a + 0.05)
          local d = now() - t0
          if d < a + 0.05 then early = early + 1 elseif d > a + 0.05 + 1 then late = late + 1 end
          t0 = now()
          socket.select(nil, nil, b)
          d = now() - t0
          if d < b then early = early + 1 elseif d > b + 1 then late = late + 1 end
        end
        done = done + 1
      end)
    end
    co.spawn(function() co.sleep(0.03); p:send("x") end)   -- ends the long waits early
    assert.is_true(co.run(10))
    c:close() p:close()
    assert.equal(n, done)
    assert.equal(0, early)
    assert.equal(0, late)
  end)

  it("a task closing the socket a receiver and a sender wait on wakes both; a third is refused", function()
    local c, p = H.pair()
    c:settimeout(math.huge)
    local res = {}
    co.spawn(function()
      local a, b = c:receive("*l")
      res[1] = tostring(a) .. " " .. tostring(b)
    end)
    co.spawn(function()                   -- the peer never reads: this send waits
      local a, b = c:send(string.rep("x", 16 * 1024 * 1024))
      res[2] = tostring(a) .. " " .. tostring(b)
    end)
    co.spawn(function()
      local a, b = c:receive("*l")
      res[3] = tostring(a) .. " " .. tostring(b)
    end)
    local t0 = socket.gettime()
    co.spawn(function() co.sleep(0.02); c:close() end)
    assert.is_true(co.run(5))
    p:close()
    assert.equal(3, #res)
    assert.equal("nil closed", res[1])
    assert.equal("nil closed", res[2])
    assert.equal("nil socket busy reading", res[3])
    assert.is_true(socket.gettime() - t0 < 1, "the waiters were not woken")
  end)

  it("co.run from a plain coroutine inside a task raises too", function()
    local err
    co.spawn(function()
      local inner = coroutine.wrap(function() return pcall(co.run, 0.2) end)
      local ok, e = inner()
      err = not ok and e or "no error"
    end)
    local c0 = os.clock()
    assert.is_true(co.run(5))
    assert.truthy(err:find("cannot call 'run'", 1, true), err)
    assert.is_true(os.clock() - c0 < 0.15)
  end)
end)
