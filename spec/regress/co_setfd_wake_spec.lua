-- Attack on issue 14 §1: setfd from another task while a task is parked on
-- the object. setfd swaps the descriptor without closing it (3.x, LuaSec's
-- way of taking a socket over), but the task parked on the old descriptor
-- was not told: with no timeout it stayed parked for good (co.run(1) timed
-- out), on an object that no longer had that descriptor. It wakes now, as
-- at close, and finds the object's new state.
local socket = require("socket")
local co = require("socket.co")
local H = require("helper")
local pack = table.pack or function(...) return {n = select("#", ...), ...} end

describe("regress: setfd wakes a task parked on the old descriptor", function()
  it("TCP", function()
    local a, b = H.pair()
    local fd = a:getfd()
    local res
    co.spawn(function() res = pack(a:receive("*l")) end)
    co.spawn(function() co.sleep(0.05); a:setfd(-1) end)
    local ok, err = co.run(1)
    assert.is_true(ok, tostring(err))
    assert.same({nil, "closed", ""}, {res[1], res[2], res[3]})
    a:setfd(fd)
    a:close() b:close()
  end)

  it("UDP", function()
    local u = assert(socket.udp())
    assert(u:setsockname("127.0.0.1", 0))
    local fd = u:getfd()
    local res
    co.spawn(function() res = pack(u:receive()) end)
    co.spawn(function() co.sleep(0.05); u:setfd(-1) end)
    local ok, err = co.run(1)
    assert.is_true(ok, tostring(err))
    assert.same({nil, "closed"}, {res[1], res[2]})
    u:setfd(fd)
    u:close()
  end)
end)
