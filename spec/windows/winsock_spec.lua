-- The Winsock layer (src/os/win) under Wine: the same results and error
-- strings as on Linux, and WSAPoll without FD_SETSIZE's 64-socket limit.
if package.config:sub(1, 1) ~= "\\" then   -- make test-windows runs these, under Wine
  pending("Windows only: make test-windows")
  return
end
local socket = require("socket")

describe("winsock layer", function()
  it("echoes over loopback", function()
    local srv = assert(socket.bind("127.0.0.1", 0))
    local _, port = srv:getsockname()
    local c = assert(socket.connect("127.0.0.1", port))
    local a = assert(srv:accept())
    c:settimeout(5)
    a:settimeout(5)
    assert.equal(6, c:send("hello\n"))
    assert.equal("hello", a:receive())
    assert.equal(6, a:send("world\n"))
    assert.equal("world", c:receive())
    c:close()
    assert.same({ nil, "closed", "" }, { a:receive() })
    a:close()
    srv:close()
  end)

  it("maps Winsock errors to the Linux strings", function()
    local srv = assert(socket.bind("127.0.0.1", 0))
    local _, port = srv:getsockname()
    assert.same({ nil, "address already in use" }, { socket.bind("127.0.0.1", port) })
    srv:close()
    assert.same({ nil, "connection refused" }, { socket.connect("127.0.0.1", port) })
    local m = socket.tcp4()
    m:settimeout(0.05)
    assert.is_true(m:bind("127.0.0.1", 0) == 1 and m:listen() == 1)
    local t0 = socket.gettime()
    assert.same({ nil, "timeout" }, { m:accept() })
    assert.is_true(socket.gettime() - t0 >= 0.04)
    m:close()
  end)

  it("gives glibc's resolver answers for an empty host and a literal of the other family", function()
    local m = socket.tcp6()
    assert.same({ nil, "Address family for hostname not supported" }, { m:bind("127.0.0.1", 0) })
    m:close()
    m = socket.tcp4()
    assert.same({ nil, "host or service not provided, or not known" }, { m:connect("", 80) })
    m:close()
    local a = socket.dns.resolve("127.0.0.1", "inet6")
    assert.same({ "failure", "Address family for hostname not supported" }, { a:wait(5) })
    a:close()
  end)

  it("keeps the POSIX meaning of reuseaddr and reads it back", function()
    local s = assert(socket.bind("127.0.0.1", 0))
    assert.is_true(s:getoption("reuseaddr"))
    local _, port = s:getsockname()
    -- Windows' SO_REUSEADDR would let this second listener in
    assert.same({ nil, "address already in use" }, { socket.bind("127.0.0.1", port) })
    s:close()
    local lazy = socket.tcp()
    assert.same({ nil, "setsockopt failed" }, { lazy:setoption("reuseaddr", true) })
  end)

  it("disconnects a UDP socket, names an unbound one, adopts it", function()
    local u = assert(socket.udp4())
    assert.same({ "0.0.0.0", 0, "inet" }, { u:getsockname() })
    assert.equal(1, u:setpeername("127.0.0.1", 9))
    assert.equal("udp{connected}", u.class)
    assert.equal(1, u:setpeername("*"))
    assert.equal("udp{unconnected}", u.class)
    assert.same({ nil, "Name or service not known" }, { u:sendto("x", "no.such.host.invalid", 9) })
    u:close()
    local t = socket.tcp4()
    assert.same({ nil, "not a udp socket" }, { socket.fromfd(t:getfd(), "udp{unconnected}") })
    t:close()
  end)

  it("reports a refused non-blocking connect to the next connect, as Linux does", function()
    local srv = assert(socket.bind("127.0.0.1", 0))
    local _, port = srv:getsockname()
    srv:close()
    local c = socket.tcp4()
    c:settimeout(0)
    assert.same({ nil, "timeout" }, { c:connect("127.0.0.1", port) })
    local _, w = socket.select(nil, { c }, 5)
    assert.equal(c, w[1])
    assert.same({ nil, "connection refused" }, { c:connect("127.0.0.1", port) })
    c:close()
  end)

  it("selects over more than 1,100 sockets", function()
    local socks = {}
    for i = 1, 1101 do
      socks[i] = assert(socket.udp4())
      assert(socks[i]:setsockname("127.0.0.1", 0))
    end
    local ip, port = socks[1101]:getsockname()
    assert(socks[1]:sendto("x", ip, port))
    local r = socket.select(socks, nil, 5)
    assert.equal(1, #r)
    assert.equal(socks[1101], r[1])
    for i = 1, #socks do socks[i]:close() end
  end)

  it("keeps polling when a registered socket was closed (WSAPoll fails the whole set)", function()
    local p = assert(socket.poller())
    local a = assert(socket.udp4())
    local b = assert(socket.udp4())
    assert(a:setsockname("127.0.0.1", 0))
    assert(b:setsockname("127.0.0.1", 0))
    assert(p:set(a:getfd(), "r"))
    assert(p:set(b, "r"))
    a:close()   -- its descriptor stays registered
    local ip, port = b:getsockname()
    local c = assert(socket.udp4())
    assert(c:sendto("x", ip, port))
    local n, out = p:wait(2)
    assert.is_number(n, tostring(out))
    local seen = {}
    for i = 1, n * 2, 2 do seen[out[i]] = out[i + 1] end
    assert.equal(1, seen[b:getfd()])
    c:close()
    b:close()
    p:close()
  end)

  it("resolves localhost without blocking (worker thread, loopback wake-up)", function()
    local q = socket.dns.resolve("localhost")
    local r = socket.select({ q }, nil, 10)
    assert.equal(q, r[1])
    assert.equal("success", q:getstatus())
    assert.is_true(#q:getips() >= 1)
    q:close()
  end)

  -- A finished lookup closes its wake-up sockets while socket.co's poller
  -- may still hold them: poll() marks such an entry POLLNVAL, WSAPoll failed
  -- the whole wait ("poller wait failed: Bad file descriptor").
  it("socket.co tasks wait on dns.resolve", function()
    local co = require("socket.co")
    for attempt = 1, 5 do
      local got
      co.spawn(function()
        local a = socket.dns.resolve("localhost")
        got = { a:wait(10), a:getip() }
        a:close()
      end)
      co.spawn(function() end)
      co.run(10)
      assert.same({ "success", "127.0.0.1" }, got, "attempt " .. attempt)
    end
  end)

  it("lists the loopback address as loopback, with its netmask (localaddresses)", function()
    local found
    for _, e in ipairs(assert(socket.dns.localaddresses("inet"))) do
      if e.addr == "127.0.0.1" then found = e end
    end
    assert.is_table(found)
    assert.is_true(found.loopback)
    assert.is_true(found.up)
    assert.equal("255.0.0.0", found.netmask)
  end)

  it("refuses IPv6 options on an IPv4 socket, as Linux does", function()
    local t = socket.tcp4()
    assert.same({ nil, "setsockopt failed" }, { t:setoption("ipv6-v6only", true) })
    t:close()
  end)
end)
