-- Regression: stoptls() against a peer that keeps sending and never sends
-- close_notify kept every byte while it waited (700 MB in the report), and
-- a flood that never let the socket run dry was never timed out either.
-- It now holds at most 1 MiB and answers nil, "too much data before
-- close_notify"; the bytes it kept stay readable, and a later stoptls()
-- goes on where it stopped.
local socket = require("socket")
local co = require("socket.co")
local S = require("ssl_helper")

describe("regress: stoptls against a peer that never sends close_notify", function()
  local C
  setup(function() C = S.certs() end)
  teardown(function() if C then C.cleanup() end end)

  local function pair()
    local cc, pp, cerr, perr = S.tlspair(S.serverparams(C), S.clientparams(C))
    assert.is_nil(cerr)
    assert.is_nil(perr)
    return cc, pp
  end

  it("stops at a bound with a clear error, keeps what it read, and can go on", function()
    local cc, pp = pair()
    local chunk = S.data(65536, 7)
    local sent, result, kept, after = 0, nil, nil, nil
    co.spawn(function()                 -- the flood: up to 64 MiB, never close_notify
      pp:settimeout(10)
      for _ = 1, 1024 do
        if result or not pp:send(chunk) then break end
        sent = sent + #chunk
      end
    end)
    co.spawn(function()
      result = table.pack(cc:stoptls(5))
      kept = cc:receive(1048576)        -- what stoptls held, at once
      after = table.pack(cc:stoptls(0)) -- still no close_notify: goes on, then waits
      cc:close()
    end)
    local t0 = socket.gettime()
    co.run()
    assert.are.same({ nil, "too much data before close_notify", n = 2 }, result)
    assert.is_true(socket.gettime() - t0 < 5)
    assert.is_true(sent < 64 * 1048576, sent)
    assert.are.equal(1048576, #kept)
    assert.are.equal(string.rep(chunk, 16), kept)
    assert.is_nil(after[1])
    pp:close()
  end)

  it("honours its timeout against a peer that trickles", function()
    local cc, pp = pair()
    local result, dt
    co.spawn(function()
      for _ = 1, 200 do
        if result or not pp:send("tick\n") then break end
        socket.sleep(0.02)
      end
    end)
    co.spawn(function()
      local t0 = socket.gettime()
      result = table.pack(cc:stoptls(0.5))
      dt = socket.gettime() - t0
    end)
    co.run()
    assert.are.same({ nil, "timeout", n = 2 }, result)
    assert.is_true(dt >= 0.45 and dt < 3, dt)
    local line = cc:receive()              -- the ticks it read are kept
    assert.are.equal("tick", line)
    cc:close()
    pp:close()
  end)
end)
