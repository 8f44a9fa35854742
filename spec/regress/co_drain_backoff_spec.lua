-- Attack on issue 14 §3 (never spin): drain has no readiness event to wait
-- for, so it naps, doubling the nap from 1 ms up to 50 ms. In a socket.co
-- task each nap is a yield, and the restarted call began again at 1 ms: a
-- drain whose peer had stopped reading woke its task every millisecond
-- (about 1,000 scheduler steps per second, 0.049 s of CPU for drain(2)
-- against 0.001 s outside a task). The call keeps its nap across restarts.
local co = require("socket.co")
local H = require("helper")

describe("regress: drain in a task backs off as outside", function()
  it("a 1 s drain against a peer that does not read takes few scheduler steps #linux #outq", function()
    local a, b = H.pair()
    a:settimeout(0)
    local s = string.rep("x", 65536)
    for _ = 1, 400 do
      if not a:send(s) then break end
    end
    local res
    co.spawn(function() res = table.pack(a:drain(1)) end)
    local steps = 0
    for _ = 1, 5000 do
      if res then break end
      co.step(2)
      steps = steps + 1
    end
    assert.same({nil, "timeout"}, {res[1], res[2]})
    assert.is_true(steps < 100, ("drain took %d scheduler steps"):format(steps))
    a:close() b:close()
  end)
end)
