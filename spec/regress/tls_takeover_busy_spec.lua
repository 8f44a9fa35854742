-- Attacks on issue 14 §1 with TLS taking over or handing back a socket.
-- 1. ssl.wrap moved the fd of a TCP socket a task was parked reading on
--    without waking it: with no timeout the task stayed parked for good
--    (co.run(2) timed out), holding a socket that no longer had an fd. The
--    wrap is refused now, nil, "socket busy reading" (the socket is in use,
--    as for any second reader); the reader keeps its socket and its bytes.
-- 2. stoptls while another task's send was parked half-way sent
--    close_notify into the middle of that record: both failed with
--    "protocol is shutdown" and the peer got a truncated stream. stoptls is
--    refused now with nil, "socket busy writing"; the send completes.
local co = require("socket.co")
local H = require("helper")
local pack = table.pack or function(...) return {n = select("#", ...), ...} end

describe("regress: TLS takeover while another task is parked", function()
  local hasssl = pcall(require, "socket.ssl")

  it("ssl.wrap is refused while a task is parked reading on the TCP socket", function()
    if not hasssl then return pending("socket.ssl not built") end
    local ssl = require("socket.ssl")
    local S = require("ssl_helper")
    local certs = S.certs()
    local a, b = H.pair()
    a:settimeout(5)
    local res, wrapped
    co.spawn(function() res = pack(a:receive("*l")) end)
    co.spawn(function()
      co.sleep(0.05)
      wrapped = pack(ssl.wrap(a, S.clientparams(certs)))
      assert(b:send("still plain\n"))
    end)
    local ok, err = co.run(3)
    certs.cleanup()
    assert.is_true(ok, tostring(err))
    assert.same({nil, "socket busy reading"}, {wrapped[1], wrapped[2]})
    assert.equal("still plain", res[1])
    a:close() b:close()
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
