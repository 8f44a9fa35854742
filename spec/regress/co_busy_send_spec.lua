-- Regression: a second sender on an object whose write direction a parked
-- task holds must get nil, "socket busy writing", <last index> (API.md).
-- With send(data) and no range, the busy reply pushed its nil and message
-- over the range arguments before reading them, and raised "bad argument
-- #4 ... (number expected, got string)" instead. TCP and TLS alike.
local co = require("socket.co")
local H = require("helper")
local S = require("ssl_helper")

local function attack(a, close)
  a:settimeout(5)
  local res = {}
  co.spawn(function() a:send(string.rep("z", 16 * 1024 * 1024)) end)
  co.spawn(function()
    co.sleep(0.1)
    res[1] = { pcall(a.send, a, "abc") }
    res[2] = { pcall(a.send, a, "abc", 2) }
    res[3] = { pcall(a.send, a, "abc", 2, 3) }
    close()
  end)
  assert.is_true(co.run(10))
  assert.same({ true, nil, "socket busy writing", 0 }, res[1])
  assert.same({ true, nil, "socket busy writing", 1 }, res[2])
  assert.same({ true, nil, "socket busy writing", 1 }, res[3])
end

describe("regress: a second sender while one is parked", function()
  it("TCP: send(data) says busy, it does not raise", function()
    local a, b = H.pair()
    attack(a, function() a:close() end)
    b:close()
  end)

  it("TLS: send(data) says busy, it does not raise", function()
    local C = S.certs()
    local cc, pp, ce, pe = S.tlspair(S.serverparams(C), S.clientparams(C))
    assert.is_nil(ce)
    assert.is_nil(pe)
    attack(cc, function() cc:close() end)
    pp:close()
    C.cleanup()
  end)
end)
