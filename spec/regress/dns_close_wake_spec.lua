-- Closing a socket.dns.resolve object wakes the socket.co task waiting on
-- it with nil, "closed" (API.md §12.2), as closing a socket wakes its
-- waiters. The waiter used to
-- be stranded: its descriptor was closed under the poller, and nothing
-- would ever wake it.
local socket = require("socket")
local co = require("socket.co")

describe("closing a dns.resolve object", function()
  it("wakes the task waiting on it with nil, 'closed'", function()
    local yielded = 0
    for _ = 1, 20 do
      local a = socket.dns.resolve("localhost", "inet")
      local res, returned
      co.spawn(function()
        res = { n = 2, a:wait(5) }
        returned = true
      end)
      co.spawn(function()                  -- runs right after the waiter, in the same step
        if returned then return end        -- the answer was there before the wait
        yielded = yielded + 1
        local t0 = socket.gettime()       -- let the worker finish: its descriptor goes with close
        while a:getstatus() == "waiting" and socket.gettime() - t0 < 2 do end
        a:close()
      end)
      local t0 = socket.gettime()
      local ok, err = co.run(3)
      assert.is_true(ok, "the waiter was stranded: " .. tostring(err))
      assert.is_true(socket.gettime() - t0 < 1)
      if res[1] ~= "success" then assert.same({ n = 2, nil, "closed" }, res) end
      a:close()
    end
    assert.is_true(yielded > 0, "the lookup always finished before the wait: nothing was tested")
  end)

  it("wakes every task waiting on it", function()
    local yielded, woken = 0, 0
    for _ = 1, 20 do
      local a = socket.dns.resolve("localhost", "inet")
      local results = {}
      for _ = 1, 3 do
        co.spawn(function()
          local r1, r2 = a:wait(5)
          local r = tostring(r1) .. " " .. tostring(r2)
          results[#results + 1] = r
        end)
      end
      co.spawn(function()
        if #results == 3 then return end
        yielded = yielded + 1
        local t0 = socket.gettime()
        while a:getstatus() == "waiting" and socket.gettime() - t0 < 2 do end
        a:close()
      end)
      assert.is_true(co.run(3))
      assert.equal(3, #results)
      for _, r in ipairs(results) do
        if r == "nil closed" then woken = woken + 1 else assert.equal("success nil", r) end
      end
    end
    assert.is_true(yielded > 0 and woken > 0, "nothing was tested")
  end)
end)
