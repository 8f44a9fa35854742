-- A finished task must be released at once. Its timer entry used to keep
-- it (coroutine, stack, record: ~1.3 KB) in the timer heap until the
-- deadline it no longer had: forever under a timeout of math.huge.
local socket = require("socket")
local co = require("socket.co")
local H = require("helper")

local function kb()
  collectgarbage()
  collectgarbage()
  return collectgarbage("count")
end

-- n tasks, `batch` at a time, each waiting on `c` with a deadline that never
-- comes, then woken by one byte and finished.
local function round(c, p, n, batch)
  for _ = 1, n / batch do
    for _ = 1, batch do
      co.spawn(function() socket.select({ c }, nil, math.huge) end)
    end
    assert.equal(batch, co.step(0))               -- every task waits now
    assert(p:send("x"))
    for _ = 1, 20 do
      if co.step(1) == 0 then break end
    end
    assert.equal(0, co.step(0))
    assert.equal("x", c:receive(1))
  end
end

describe("socket.co releases a finished task", function()
  it("100,000 tasks that ended holding a math.huge deadline leave no memory behind", function()
    local c, p = H.pair()
    c:settimeout(5)
    round(c, p, 2000, 1000)                        -- warm-up: the tables reach their size
    local before = kb()
    round(c, p, 100000, 1000)
    local grown = kb() - before
    c:close() p:close()
    -- without the release: ~1.3 KB per task, 130 MB
    assert.is_true(grown < 512, ("memory grew by %.0f KB"):format(grown))
  end)

  it("a task that waited with settimeout(math.huge) is collectable once it ends", function()
    local c, p = H.pair()
    c:settimeout(math.huge)
    local weak = setmetatable({}, { __mode = "k" })
    for i = 1, 3 do
      local t = co.spawn(function() return c:receive("*l") end)
      weak[t] = i
      co.step(0)                                  -- waits, deadline +inf
      assert(p:send("line\n"))
      for _ = 1, 20 do
        if co.step(1) == 0 then break end
      end
    end
    c:close() p:close()
    collectgarbage()
    collectgarbage()
    assert.is_nil(next(weak), "a finished task is still referenced")
  end)
end)
