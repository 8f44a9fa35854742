-- Attacks on socket.co's inline one-fd wait (a record's fd is false once
-- it waits no more) and wait.c's restart marker: several tasks on one
-- socket, a socket closed under a parked task, an fd reused after a wait
-- timed out or was closed, select sets mixed with one-fd waits, thousands
-- of short waits with deadlines, and nested runs. Every loop is bounded in
-- count, and co.run in time.
local socket = require("socket")
local co = require("socket.co")
local H = require("helper")

describe("regress: co inline waits", function()
  it("a reader and a writer parked on one socket both wake when a third task closes it", function()
    local c, p = H.pair()
    p:settimeout(5)
    local got = {}
    co.spawn(function()
      got.r = { p:receive() }
    end)
    co.spawn(function()
      local big = string.rep("x", 1048576)
      local sent = 0
      for _ = 1, 64 do                                   -- until the buffers are full and it parks
        local n, err, last = p:send(big)
        sent = sent + (n or last or 0)
        if not n then got.w = err break end
      end
    end)
    co.spawn(function()
      local ok, err = p:receive()                        -- a second reader on the same socket
      got.second = { ok, err }
    end)
    co.spawn(function()
      socket.sleep(0.05)
      p:close()
    end)
    local t0 = socket.gettime()
    assert.is_true(co.run(5))
    assert.is_true(socket.gettime() - t0 < 2)
    assert.are.equal("closed", got.r[2])
    assert.are.equal("closed", got.w)
    assert.is_nil(got.second[1])
    c:close()
  end)

  it("an fd reused after a timed-out wait and after a close wakes only its new waiter", function()
    local log, reused = {}, 0
    co.spawn(function()
      for round = 1, 20 do
        local c1, p1 = H.pair()
        p1:settimeout(0.01)
        log[#log + 1] = select(2, p1:receive())         -- timeout: its record waits no more
        local fd = p1:getfd()
        p1:close()
        local c2, p2 = H.pair()                          -- one of them likely gets p1's descriptor
        local r, w = p2, c2                              -- the one that did waits, the other sends
        if c2:getfd() == fd then r, w = c2, p2 end
        if r:getfd() == fd then reused = reused + 1 end
        local woke = 0
        local waiter = co.spawn(function()
          r:settimeout(2)
          local l = r:receive()
          woke = woke + 1
          log[#log + 1] = l
        end)
        local closer
        if round % 2 == 0 then                           -- and one parked when its socket closes
          local c3, p3 = H.pair()
          closer = co.spawn(function()
            p3:settimeout(2)
            log[#log + 1] = select(2, p3:receive())
          end)
          socket.sleep(0.005)
          p3:close()
          socket.sleep(0.005)
          local c4, p4 = H.pair()
          c4:send("four\n")
          p4:settimeout(1)
          log[#log + 1] = p4:receive()
          c3:close(); c4:close(); p4:close()
        end
        socket.sleep(0.01)
        assert.are.equal(0, woke)
        w:send("line " .. round .. "\n")
        for _ = 1, 100 do
          if woke > 0 then break end
          socket.sleep(0.005)
        end
        assert.are.equal(1, woke)
        c1:close(); c2:close(); p2:close()
        assert.are.equal("thread", type(waiter))
        assert.is_true(closer == nil or type(closer) == "thread")
      end
    end)
    assert.is_true(co.run(20))
    local n = 0
    for _, v in ipairs(log) do if v:find("^line ") then n = n + 1 end end
    assert.are.equal(20, n)
    local timeouts, closed, four = 0, 0, 0
    for _, v in ipairs(log) do
      if v == "timeout" then timeouts = timeouts + 1 elseif v == "closed" then closed = closed + 1
      elseif v == "four" then four = four + 1 end
    end
    assert.are.same({ 20, 10, 10 }, { timeouts, closed, four })
    assert.is_true(reused > 0)                           -- (else the attack did not happen)
  end)

  it("select sets and one-fd waits in turn in one task", function()
    local a, pa = H.pair()
    local b, pb = H.pair()
    local seen = {}
    co.spawn(function()
      for i = 1, 30 do
        local r = socket.select({ pa, pb }, nil, 0.002)
        seen[#seen + 1] = #r
        pa:settimeout(0.002)
        seen[#seen + 1] = select(2, pa:receive()) or "data"
        if i == 20 then b:send("b\n") end
      end
      local l = pb:receive()
      seen[#seen + 1] = l
    end)
    assert.is_true(co.run(10))
    assert.are.equal(0, seen[1])
    assert.are.equal("timeout", seen[2])
    assert.are.equal(1, seen[41])                        -- the select after b's line sees it
    assert.are.equal("b", seen[#seen])
    a:close(); pa:close(); b:close(); pb:close()
  end)

  it("thousands of short waits with deadlines, across 50 tasks", function()
    local pairs_, done = {}, 0
    for i = 1, 50 do pairs_[i] = { H.pair() } end
    local t0 = socket.gettime()
    for i = 1, 50 do
      local p = pairs_[i][2]
      co.spawn(function()
        p:settimeout(0.0005)
        for _ = 1, 60 do
          local _, err = p:receive(1)
          assert(err == "timeout", err)
        end
        done = done + 1
      end)
    end
    assert.is_true(co.run(30))
    assert.are.equal(50, done)
    assert.is_true(socket.gettime() - t0 < 25)
    for i = 1, 50 do pairs_[i][1]:close(); pairs_[i][2]:close() end
  end)

  it("co.run and co.step from a task raise and leave the scheduler usable", function()
    local errs = {}
    co.spawn(function()
      errs[1] = select(2, pcall(co.run))
      errs[2] = select(2, pcall(co.step, 0))
      errs[3] = select(2, pcall(co.run, 1))
    end)
    assert.is_true(co.run(5))
    for i = 1, 3 do assert.truthy(tostring(errs[i]):find("scheduler is already running", 1, true), errs[i]) end
    local ran = false
    co.spawn(function() socket.sleep(0.001) ran = true end)
    assert.is_true(co.run(5))
    assert.is_true(ran)
  end)

  it("deadlines that move earlier and later between waits still fire on time", function()
    local c, p = H.pair()
    local worst, n = 0, 0
    co.spawn(function()
      for i = 1, 150 do
        p:settimeout(i % 3 == 0 and 30 or 5)             -- a long wait that data ends early
        co.spawn(function() c:send("x") end)
        assert(p:receive(1) == "x")
        p:settimeout(0.005)                              -- then a short one that must time out
        local t0 = socket.gettime()
        local _, err = p:receive(1)
        assert(err == "timeout", err)
        local dt = socket.gettime() - t0
        if dt > worst then worst = dt end
        n = n + 1
      end
    end)
    assert.is_true(co.run(30))
    assert.are.equal(150, n)
    assert.is_true(worst < 1, worst)
    c:close(); p:close()
  end)
end)
