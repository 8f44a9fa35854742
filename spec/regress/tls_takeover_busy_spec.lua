-- Attacks on issue 14 §1 with TLS taking over or handing back a socket.
-- 1. ssl.wrap moved the fd of a TCP socket a task was parked reading on
--    without waking it: with no timeout the task stayed parked for good
--    (co.run(2) timed out), holding a socket that no longer had an fd. It
--    wakes now, as after close(), and gets nil, "closed".
-- 2. stoptls while another task's send was parked half-way sent
--    close_notify into the middle of that record: both failed with
--    "protocol is shutdown" and the peer got a truncated stream. stoptls is
--    refused now with nil, "socket busy writing"; the send completes.
local socket = require("socket")
local co = require("socket.co")
local H = require("helper")
local pack = table.pack or function(...) return {n = select("#", ...), ...} end

describe("regress: TLS takeover while another task is parked", function()
  local hasssl = pcall(require, "socket.ssl")

  it("ssl.wrap wakes a task parked reading on the TCP socket, with 'closed'", function()
    if not hasssl then return pending("socket.ssl not built") end
    local ssl = require("socket.ssl")
    local S = require("ssl_helper")
    local certs = S.certs()
    local a, b = H.pair()
    local res, took, conn
    co.spawn(function()
      local t0 = socket.gettime()
      res = pack(a:receive("*l"))
      took = socket.gettime() - t0
    end)
    co.spawn(function()
      co.sleep(0.05)
      conn = assert(ssl.wrap(a, S.clientparams(certs)))
    end)
    local ok, err = co.run(3)
    certs.cleanup()
    assert.is_true(ok, tostring(err))
    assert.same({nil, "closed", ""}, {res[1], res[2], res[3]})
    assert.is_true(took < 1, ("the parked reader woke after %.2f s"):format(took))
    conn:close() b:close()
  end)

  it("stoptls is refused while another task's send is parked; the send completes", function()
    if not hasssl then return pending("socket.ssl not built") end
    local S = require("ssl_helper")
    local certs = S.certs()
    local a, b = S.tlspair(S.serverparams(certs), S.clientparams(certs))
    certs.cleanup()
    a:settimeout(10)
    b:settimeout(10)
    local n = 8 * 1024 * 1024
    local d = string.rep("0123456789abcdef", n / 16)
    local sent, stop, got
    co.spawn(function() sent = pack(a:send(d)) end)
    co.spawn(function() co.sleep(0.05); stop = pack(a:stoptls(3)) end)
    co.spawn(function() co.sleep(0.2); got = b:receive(n) end)
    local ok, err = co.run(20)
    assert.is_true(ok, tostring(err))
    assert.same({nil, "socket busy writing"}, {stop[1], stop[2]})
    assert.same({n, nil, nil}, {sent[1], sent[2], sent[3]})
    assert.is_true(got == d, "the peer got other bytes than were sent")
    a:close() b:close()
  end)
end)
