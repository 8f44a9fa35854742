-- Regression (issue 16, Windows): a socket closed while registered in a
-- socket.poller leaves the set (as with epoll, API.md), and the wait goes on
-- for the others. Where a poll() array stands in for epoll (Windows), the
-- closed entry came back POLLNVAL at once; it was dropped and the wait
-- returned 0 events, before its timeout and before the others were ready
-- (here: the closed socket's peer, readable with its end a moment later).
local socket = require("socket")

describe("regress: poller with a member closed while registered", function()
  it("waits on for the others: the closed socket's peer is reported readable", function()
    for round = 1, 5 do
      local srv = assert(socket.bind("127.0.0.1", 0))
      local _, port = srv:getsockname()
      local c = assert(socket.connect("127.0.0.1", port))
      local a = assert(srv:accept())
      srv:close()
      local p = assert(socket.poller())
      assert(p:set(c, "r"))
      assert(p:set(a, "r"))
      local afd = a:getfd()
      c:close()                                -- a sees the end: readable
      local t0 = socket.gettime()
      local n, out = p:wait(5)
      assert.same({ 1, afd, 1 }, { n, out[1], out[2] }, "round " .. round)
      assert.is_true(socket.gettime() - t0 < 4, "round " .. round)
      a:close()
      p:close()
    end
  end)

  it("with no other member ready, waits out its timeout and returns 0", function()
    local srv = assert(socket.bind("127.0.0.1", 0))
    local _, port = srv:getsockname()
    local c = assert(socket.connect("127.0.0.1", port))
    local a = assert(srv:accept())
    local u = assert(socket.udp4())
    assert(u:setsockname("127.0.0.1", 0))
    local p = assert(socket.poller())
    assert(p:set(c, "r"))
    assert(p:set(u, "r"))
    c:close()
    local t0 = socket.gettime()
    local n = p:wait(0.3)
    local took = socket.gettime() - t0
    assert.equal(0, n)
    assert.is_true(took >= 0.25, "returned after " .. took .. " s")
    a:close()
    u:close()
    srv:close()
    p:close()
  end)
end)
