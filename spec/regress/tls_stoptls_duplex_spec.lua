-- Regression (issue 14, attacked): stoptls and a send in two socket.co
-- tasks on one TLS conn. stoptls holds the read direction only, so it ran
-- while a send was parked: the send resumed into a shut-down conn and
-- failed with "protocol is shutdown", which also failed the stoptls. And
-- a send started while stoptls waited for the peer's close_notify failed
-- the same way and broke the stoptls. Now stoptls refuses while a send is
-- parked ("socket busy writing"), and a send after our close_notify says
-- "closed" without harming the stoptls under way.
local co = require("socket.co")
local S = require("ssl_helper")

describe("regress: stoptls against a send in another task", function()
  local C
  setup(function() C = S.certs() end)
  teardown(function() if C then C.cleanup() end end)

  local function pair()
    local cc, pp, ce, pe = S.tlspair(S.serverparams(C), S.clientparams(C))
    assert.is_nil(ce)
    assert.is_nil(pe)
    return cc, pp
  end

  it("refuses while a send is parked; the send completes", function()
    local cc, pp = pair()
    local N = 8 * 1024 * 1024
    local res = {}
    co.spawn(function() res.w = { cc:send(string.rep("z", N)) } end)
    co.spawn(function()
      co.sleep(0.1)
      res.t = { cc:stoptls(1) }
      res.got = #S.drain(pp, N)
    end)
    assert.is_true(co.run(10))
    assert.same({ nil, "socket busy writing" }, res.t)
    assert.same({ N }, res.w)
    assert.are.equal(N, res.got)
    cc:close()
    pp:close()
  end)

  it("a send while stoptls waits for close_notify says closed; the stoptls completes", function()
    local cc, pp = pair()
    local res = {}
    co.spawn(function()
      local s, e = cc:stoptls(5)
      res.t = { s ~= nil, e }
      if s then
        res.line = { s:receive("*l") }
        s:close()
      end
    end)
    co.spawn(function()
      co.sleep(0.1)
      res.w = { cc:send("late") }
      co.sleep(0.1)
      local s = pp:stoptls(5)
      if s then
        s:send("plain\n")
        s:close()
      end
    end)
    assert.is_true(co.run(10))
    assert.same({ nil, "closed", 0 }, res.w)
    assert.same({ true, nil }, res.t)
    assert.same({ "plain" }, res.line)
    pcall(cc.close, cc)
    pcall(pp.close, pp)
  end)
end)
