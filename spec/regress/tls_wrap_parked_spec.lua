-- Regression (issue 14, attacked): ssl.wrap / ssl.starttls from one
-- socket.co task while another is parked in a receive or a send on the
-- same TCP socket took the descriptor from under it: the parked reader's
-- partial line went into the TLS handshake as if it were TLS bytes, and
-- the parked tasks woke (whenever the descriptor next had an event) to
-- "closed". Now the TLS side is refused with "socket busy reading" /
-- "socket busy writing", and the socket and its parked tasks go on.
local co = require("socket.co")
local ssl = require("socket.ssl")
local H = require("helper")
local S = require("ssl_helper")

describe("regress: wrapping a TCP socket another task is parked on", function()
  local function attack(reader, writer)
    local c, p = H.pair()
    c:settimeout(3)
    p:settimeout(3)
    local N = 16 * 1024 * 1024
    local res = {}
    if reader then co.spawn(function() res.r = { c:receive("*l") } end) end
    if writer then co.spawn(function() res.w = { c:send(string.rep("z", N)) } end) end
    co.spawn(function()
      co.sleep(0.1)
      res.wrap = { ssl.wrap(c, { mode = "client", verify = "none" }) }
      res.starttls = { ssl.starttls(c, { mode = "client", verify = "none" }) }
      p:send("par")
      co.sleep(0.05)
      p:send("tial\n")
      res.got = writer and #S.drain(p, N)
    end)
    assert.is_true(co.run(10))
    c:close()
    p:close()
    return res
  end

  it("refuses while a receive is parked; the receive goes on", function()
    local res = attack(true, false)
    assert.same({ nil, "socket busy reading" }, res.wrap)
    assert.same({ nil, "socket busy reading" }, res.starttls)
    assert.same({ "partial" }, res.r)
  end)

  it("refuses while a send is parked; the send goes on", function()
    local res = attack(false, true)
    assert.same({ nil, "socket busy writing" }, res.wrap)
    assert.same({ nil, "socket busy writing" }, res.starttls)
    assert.same({ 16 * 1024 * 1024 }, res.w)
    assert.are.equal(16 * 1024 * 1024, res.got)
  end)
end)
