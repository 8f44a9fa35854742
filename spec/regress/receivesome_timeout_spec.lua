-- Regression: receivesome(max, t) once swapped the object's timeout for a
-- stack-local one and restored it afterwards; an error raised in between
-- (out of memory while growing the buffer) left the object pointing at a
-- dead stack frame. The per-call limit now lives in the object itself
-- (timeout_setcall) and every call's start (timeout_begin / timeout_enter)
-- clears it, so no later call can see it, whatever happened before.
-- (The first version of this spec forced the error with `ulimit -v`, which
-- made it depend on the library's memory layout, hence on the checkout path.)
local socket = require("socket")
local H = require("helper")

describe("regress: receivesome's per-call timeout stays in its call", function()
  it("a timed-out receivesome(max, 0.1) leaves the object's 0.5 s block timeout in force", function()
    local c, p = H.pair()
    c:settimeout(0.5)
    local t0 = socket.gettime()
    assert.are.same({ nil, "timeout" }, { c:receivesome(10, 0.1) })
    local first = socket.gettime() - t0
    assert.is_true(first >= 0.09 and first < 0.45, "receivesome took " .. first)
    t0 = socket.gettime()
    local r, e = c:receive(1)
    local took = socket.gettime() - t0
    assert.is_nil(r)
    assert.are.equal("timeout", e)
    assert.is_true(took >= 0.45 and took < 3, "receive with settimeout(0.5) returned after " .. took)
    assert.are.same({ 0.5, -1 }, { c:gettimeout() })
    c:close()
    p:close()
  end)

  it("a receivesome that raises (bad size) leaves later calls on the object's timeouts", function()
    local c, p = H.pair()
    c:settimeout(0.3)
    assert.has_error(function() c:receivesome(0, 0.05) end)
    local t0 = socket.gettime()
    assert.are.same({ nil, "timeout" }, { c:receivesome(10) })
    local took = socket.gettime() - t0
    assert.is_true(took >= 0.25 and took < 3, "receivesome(10) returned after " .. took)
    c:close()
    p:close()
  end)
end)
