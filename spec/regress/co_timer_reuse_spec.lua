-- socket.co keeps one timer entry per task while its deadlines only move
-- later (a socket timeout renewed at every wait), and pushes it back when it
-- comes due early. Pinned here: a deadline that moves earlier, or later,
-- still fires at its own time, never at the stale one.
local socket = require("socket")
local co = require("socket.co")
local H = require("helper")

local now = socket.gettime

-- In a task: a wait with timeout `first`, woken by data after ~0.02 s, then
-- a wait with timeout `second` on which nothing comes. Returns the second
-- wait's results and how long it took.
local function retimed(first, second)
  local c, p = H.pair()
  local res, took
  co.spawn(function()
    c:settimeout(first)
    assert(c:receive("*l"))
    c:settimeout(second)
    local t0 = now()
    res = { c:receive("*l") }
    took = now() - t0
  end)
  co.spawn(function() co.sleep(0.02); p:send("x\n") end)
  assert.is_true(co.run(5))
  c:close() p:close()
  return res, took
end

describe("socket.co timers reused across waits", function()
  it("a shorter timeout after a long one fires on time", function()
    local res, took = retimed(10, 0.1)    -- the 10 s entry must not delay the 0.1 s one
    assert.same({ nil, "timeout", "" }, res)
    assert.is_true(took >= 0.09 and took < 1, "took " .. took)
  end)

  it("a longer timeout after a short one does not fire at the short one's time", function()
    local res, took = retimed(0.2, 0.6)   -- the old entry comes due at ~0.2: must wait on
    assert.same({ nil, "timeout", "" }, res)
    assert.is_true(took >= 0.55 and took < 2, "took " .. took)
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
