-- Attack on issue 14 §1 (one object, two tasks), write direction: sendsome
-- never waits, so it did not check the write direction: its bytes landed
-- in the middle of a send another task had parked half-way (the peer got
-- "XYZ" 3.9 MB into an 8 MB send). It is refused now, as a second send is:
-- nil, "socket busy writing", i - 1. (send(data) with no range raising
-- instead of answering busy is co_busy_send_spec's.)
local co = require("socket.co")
local H = require("helper")
local pack = table.pack or function(...) return {n = select("#", ...), ...} end

local function data(n, tag)
  local t = {}
  for i = 1, math.floor(n / 8) do t[i] = string.format("%s%07d", tag, i % 10000000) end
  return table.concat(t)
end

-- a's first task parks in a large send; a second task calls `second(a)`
-- while it waits; the peer must get exactly the first send's bytes.
local function interloper(a, b, second)
  a:settimeout(10)
  local d = data(8 * 1024 * 1024, "s")
  local first, res, got
  co.spawn(function() first = pack(a:send(d)); a:shutdown("send") end)
  co.spawn(function()
    co.sleep(0.02)
    res = pack(second(a))
    b:settimeout(10)
    got = b:receive("*a")
  end)
  local ok, err = co.run(30)
  assert.is_true(ok, tostring(err))
  assert.equal(#d, first[1])
  assert.is_true(got == d, "the receiver got other bytes than were sent")
  return res
end

describe("regress: a second writer on one socket", function()
  it("sendsome is refused too; no byte is interleaved (TCP)", function()
    local a, b = H.pair()
    local r = interloper(a, b, function(s) return s:sendsome("XYZ") end)
    assert.same({nil, "socket busy writing", 0}, {r[1], r[2], r[3]})
    a:close() b:close()
  end)

  it("sendsome is refused too (unix stream) #linux #unixsock", function()
    local a, b = H.unixpair()
    local r = interloper(a, b, function(s) return s:sendsome("XYZ", 2) end)
    assert.same({nil, "socket busy writing", 1}, {r[1], r[2], r[3]})
    a:close() b:close()
  end)
end)
