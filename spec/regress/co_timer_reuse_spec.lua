-- socket.co keeps one timer entry per task while its deadlines only move
-- later (a socket timeout renewed at every wait), and pushes it back when it
-- comes due early. Pinned here: a deadline that moves earlier, or later,
-- still fires at its own time, never at the stale one.
local socket = require("socket")
local co = require("socket.co")
local H = require("helper")

local now = socket.gettime

describe("socket.co timers reused across waits", function()
  it("a shorter timeout after a long one fires on time", function()
    local c, p = H.pair()
    local res, t1
    co.spawn(function()
      c:settimeout(10)
      assert(c:receive("*l"))              -- a 10 s deadline, woken by data
      c:settimeout(0.1)
      local t0 = now()
      res = { c:receive("*l") }            -- nothing comes: times out at 0.1
      t1 = now() - t0
    end)
    co.spawn(function() co.sleep(0.02); p:send("x\n") end)
    assert.is_true(co.run(5))
    c:close() p:close()
    assert.same({ nil, "timeout", "" }, res)
    assert.is_true(t1 >= 0.09 and t1 < 1, "took " .. t1)
  end)

  it("a longer timeout after a short one does not fire at the short one's time", function()
    local c, p = H.pair()
    local res, t1
    co.spawn(function()
      c:settimeout(0.2)
      assert(c:receive("*l"))              -- a 0.2 s deadline, woken by data at ~0.02
      c:settimeout(0.6)
      local t0 = now()
      res = { c:receive("*l") }            -- the old entry comes due at ~0.2: must wait on
      t1 = now() - t0
    end)
    co.spawn(function() co.sleep(0.02); p:send("x\n") end)
    assert.is_true(co.run(5))
    c:close() p:close()
    assert.same({ nil, "timeout", "" }, res)
    assert.is_true(t1 >= 0.55 and t1 < 2, "took " .. t1)
  end)

  it("thousands of renewed waits keep every deadline (echo with a timeout)", function()
    local c, p = H.pair()
    local n, late = 0, nil
    co.spawn(function()
      c:settimeout(5)
      for _ = 1, 3000 do
        local l = c:receive("*l")
        if not l then break end
        n = n + 1
        c:send(l .. "\n")
      end
      c:settimeout(0.05)
      local t0 = now()
      late = { c:receive("*l") }
      late.t = now() - t0
    end)
    co.spawn(function()
      p:settimeout(5)
      for i = 1, 3000 do
        p:send(i .. "\n")
        assert(p:receive("*l") == tostring(i))
      end
    end)
    assert.is_true(co.run(30))
    c:close() p:close()
    assert.equal(3000, n)
    assert.same({ nil, "timeout", "" }, { late[1], late[2], late[3] })
    assert.is_true(late.t >= 0.04 and late.t < 1, "took " .. late.t)
  end)
end)
