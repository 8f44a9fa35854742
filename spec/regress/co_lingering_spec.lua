-- socket.co keeps a read interest registered after the wait that set it
-- (one epoll_ctl per wait instead of three). Pinned here: what that must
-- never cost — a busy loop over a readable socket nobody reads, or a lost
-- wake-up when the fd number is reused by a new socket.
local socket = require("socket")
local co = require("socket.co")
local H = require("helper")

describe("socket.co with a lingering read interest", function()
  it("does not spin on a readable socket that nobody waits for", function()
    local c, p = H.pair()
    c:settimeout(5)
    local got, steps = nil, 0
    co.spawn(function()
      got = c:receive(1)               -- waits: registers "r" on c
      p:send("more")                   -- c is readable again, and nobody reads it
      co.sleep(0.3)
    end)
    co.spawn(function() co.sleep(0.05); p:send("a") end)
    local t0 = socket.gettime()
    while co.step(1) > 0 and steps < 1000 do steps = steps + 1 end
    local dt = socket.gettime() - t0
    c:close() p:close()
    assert.equal("a", got)
    -- a busy loop would take hundreds of thousands of steps in 0.3 s
    assert.is_true(steps < 20, "steps: " .. steps)
    assert.is_true(dt >= 0.25, "sleep ended early: " .. dt)
  end)

  it("wakes a task waiting on a new socket that reuses a closed one's fd", function()
    local results, reused = {}, 0
    for round = 1, 5 do
      local c, p = H.pair()
      c:settimeout(5)
      local fd = c:getfd()
      local srv2, port2 = H.server()      -- before c's fd is freed: c2 may take it
      co.spawn(function()
        results[#results + 1] = c:receive("*l")   -- leaves "r" registered on fd
        c:close()                                 -- fd is free again
      end)
      assert(p:send("round " .. round .. "\n"))
      assert.is_true(co.run(5))
      p:close()
      local c2 = assert(socket.connect("127.0.0.1", port2))
      local p2 = assert(srv2:accept())
      srv2:close()
      c2:settimeout(5)
      if c2:getfd() == fd then reused = reused + 1 end
      co.spawn(function() results[#results + 1] = c2:receive("*l") end)
      co.spawn(function() co.sleep(0.05); p2:send("again\n") end)
      local ok, err = co.run(5)
      c2:close() p2:close()
      assert.is_true(ok, tostring(err))
    end
    assert.is_true(reused > 0, "the kernel never reused the fd: the test proved nothing")
    assert.equal(10, #results)
    for i = 1, 5 do
      assert.equal("round " .. i, results[2 * i - 1])
      assert.equal("again", results[2 * i])
    end
  end)
end)
