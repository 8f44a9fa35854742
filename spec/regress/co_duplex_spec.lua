-- One socket, two tasks (issue 14 §1). The state of a call that yielded
-- (its start, deadline and progress) was kept once per object, so a call on
-- the same object from another task reset it: a large send restarted from
-- byte 1 after the other task called receive (the peer got more bytes than
-- were sent, and send reported success), and a receive with a 0.5 s timeout
-- ran for as long as the other task kept sending. Each direction now keeps
-- its own call; a second call in a direction another task holds is refused
-- with "socket busy reading" / "socket busy writing".
local socket = require("socket")
local co = require("socket.co")
local H = require("helper")
local pack = table.pack or function(...) return {n = select("#", ...), ...} end

-- n bytes that never repeat with a short period: a resend or a skip shows.
local function data(n, tag)
  local t = {}
  for i = 1, math.floor(n / 8) do t[i] = string.format("%s%07d", tag, i % 10000000) end
  return table.concat(t)
end

-- Both ends with a reader task and a writer task, all four at once: each
-- writer sends its whole string in one call, each reader takes exactly that
-- many bytes; then nothing more may be there.
local function duplex(a, b, n)
  local da, db = data(n, "a"), data(n, "b")
  local got, sent = {}, {}
  for _, s in ipairs({a, b}) do s:settimeout(30) end
  local function writer(s, d, k)
    co.spawn(function() sent[k] = pack(s:send(d)) end)
  end
  local function reader(s, k)
    co.spawn(function() got[k] = pack(s:receive(n)) end)
  end
  writer(a, da, "a"); reader(a, "a"); writer(b, db, "b"); reader(b, "b")
  local ok, err = co.run(60)
  assert.is_true(ok, tostring(err))
  assert.same({n, nil, nil}, {sent.a[1], sent.a[2], sent.a[3]})
  assert.same({n, nil, nil}, {sent.b[1], sent.b[2], sent.b[3]})
  assert.is_nil(got.a[2])
  assert.is_nil(got.b[2])
  assert.is_true(got.a[1] == db, "a received other bytes than b sent")
  assert.is_true(got.b[1] == da, "b received other bytes than a sent")
  for _, s in ipairs({a, b}) do
    s:settimeout(0.2)
    local extra, e = s:receive(1)
    assert.is_nil(extra, "more bytes arrived than were sent")
    assert.is_truthy(e == "timeout" or e == "wantread", e)
  end
end

-- A receive that gets nothing, with its own short timeout, while another
-- task keeps the same object busy sending: it ends on time.
local function timedreceive(recv, send, want)
  local t0, took, res = socket.gettime(), nil, nil
  local stop = false
  co.spawn(function()
    res = pack(recv())
    took = socket.gettime() - t0
    stop = true
  end)
  co.spawn(function()
    for _ = 1, 400 do
      if stop then break end
      send()
      co.sleep(0.005)
    end
  end)
  local ok, err = co.run(10)
  assert.is_true(ok, tostring(err))
  assert.is_nil(res[1])
  assert.equal(want or "timeout", res[2])
  assert.is_true(took >= 0.49 and took < 1.5, ("receive with a 0.5 s timeout took %.3f s"):format(took))
end

describe("regress: one socket, a reader task and a writer task", function()
  it("TCP: 20 MB each way at once through one socket, byte-exact", function()
    local a, b = H.pair()
    duplex(a, b, 20 * 1024 * 1024)
    a:close() b:close()
  end)

  it("unix stream: 8 MB each way at once, byte-exact #linux #unixsock", function()
    local a, b = H.unixpair()
    duplex(a, b, 8 * 1024 * 1024)
    a:close() b:close()
  end)

  it("TLS: 12 MB each way at once through one connection, byte-exact", function()
    local hasssl = pcall(require, "socket.ssl")
    if not hasssl then return pending("socket.ssl not built") end
    local S = require("ssl_helper")
    local certs = S.certs()
    local a, b, aerr, berr = S.tlspair(S.serverparams(certs), S.clientparams(certs))
    certs.cleanup()
    assert.is_nil(aerr)
    assert.is_nil(berr)
    duplex(a, b, 12 * 1024 * 1024)
    a:close() b:close()
  end)

  it("TLS: a receive's timeout holds while another task sends on the connection", function()
    local hasssl = pcall(require, "socket.ssl")
    if not hasssl then return pending("socket.ssl not built") end
    local S = require("ssl_helper")
    local certs = S.certs()
    local a, b = S.tlspair(S.serverparams(certs), S.clientparams(certs))
    certs.cleanup()
    a:settimeout(0.5)
    timedreceive(function() return a:receive("*l") end, function() assert(a:send("x")) end, "wantread")
    a:close() b:close()
  end)

  it("TCP: a receive's timeout holds while another task sends on the socket", function()
    local a, b = H.pair()
    a:settimeout(0.5)
    timedreceive(function() return a:receive("*l") end, function() assert(a:send("x")) end)
    a:close() b:close()
  end)

  it("UDP: a receive's timeout holds while another task sends on the socket", function()
    local u = assert(socket.udp())
    assert(u:setsockname("127.0.0.1", 0))
    local sink = assert(socket.udp())
    assert(sink:setsockname("127.0.0.1", 0))
    local ip, port = sink:getsockname()
    u:settimeout(0.5)
    timedreceive(function() return u:receivefrom() end, function() assert(u:sendto("x", ip, port)) end)
    u:close() sink:close()
  end)

  it("unix datagram: a receive's timeout holds while another task sends on the socket #linux #unixsock", function()
    local unix = require("socket.unix")
    local dir = os.tmpname()
    os.remove(dir)
    assert(os.execute("mkdir " .. dir))
    local d = assert(unix.dgram())
    assert(d:bind(dir .. "/d"))
    local sink = assert(unix.dgram())
    assert(sink:bind(dir .. "/sink"))
    d:settimeout(0.5)
    sink:settimeout(1)
    timedreceive(function() return d:receive() end, function()
      assert(d:sendto("x", dir .. "/sink"))
      assert(sink:receive())
    end)
    d:close() sink:close()
    os.execute("rm -r " .. dir)
  end)
end)

describe("regress: two tasks in one direction", function()
  it("a second receiver is refused while the first waits, and the first gets its data", function()
    local a, b = H.pair()
    a:settimeout(5)
    local first, second
    co.spawn(function() first = pack(a:receive("*l")) end)
    co.spawn(function()
      co.sleep(0.02)
      second = pack(a:receive("*l"))
      assert(b:send("hello\n"))
    end)
    local ok, err = co.run(5)
    assert.is_true(ok, tostring(err))
    assert.same({nil, "socket busy reading", ""}, {second[1], second[2], second[3]})
    assert.equal("hello", first[1])
    -- once the first call is over, the direction is free again
    assert(b:send("again\n"))
    assert.equal("again", (a:receive("*l")))
    a:close() b:close()
  end)

  it("a second sender is refused while the first waits; nothing is interleaved", function()
    local a, b = H.pair()
    a:settimeout(5)
    local n = 8 * 1024 * 1024
    local d = data(n, "s")
    local first, second, got
    co.spawn(function() first = pack(a:send(d)); a:shutdown("send") end)
    co.spawn(function()
      co.sleep(0.02)
      second = pack(a:send("INTERLOPER", 1, 4))
      got = b:receive("*a")
    end)
    local ok, err = co.run(20)
    assert.is_true(ok, tostring(err))
    assert.same({nil, "socket busy writing", 0}, {second[1], second[2], second[3]})
    assert.equal(n, first[1])
    assert.is_true(got == d, "the receiver got other bytes than were sent")
    a:close() b:close()
  end)

  it("a call outside any task is refused too while a task holds the direction", function()
    local a, b = H.pair()
    a:settimeout(5)
    local res
    co.spawn(function() res = pack(a:receive("*l")) end)
    co.step(0)
    co.step(0)
    local r = pack(a:receive("*l"))
    assert.same({nil, "socket busy reading", ""}, {r[1], r[2], r[3]})
    assert(b:send("x\n"))
    assert.is_true((co.run(5)))
    assert.equal("x", res[1])
    a:close() b:close()
  end)

  it("a task closed (coroutine.close) while it waited holds nothing, and is dropped", function()
    if not coroutine.close then return pending("coroutine.close needs Lua 5.4") end
    local a, b = H.pair()
    a:settimeout(0.3)
    local t = co.spawn(function() a:receive("*l") end)
    co.step(0)
    co.step(0)
    assert.equal("suspended", coroutine.status(t))
    assert(coroutine.close(t))
    a:settimeout(0.05)
    local r = pack(a:receive("*l"))
    assert.same({nil, "timeout", ""}, {r[1], r[2], r[3]})
    assert(b:send("y\n"))
    assert.equal("y", (a:receive("*l")))
    local ok, err = co.run(3)           -- the dead task is dropped when its wait ends
    assert.is_true(ok, tostring(err))
    a:close() b:close()
  end)

  it("accept: a second accepting task is refused while the first waits", function()
    local srv = assert(socket.bind("127.0.0.1", 0))
    srv:settimeout(5)
    local first, second
    co.spawn(function() first = pack(srv:accept()) end)
    co.spawn(function()
      co.sleep(0.02)
      second = pack(srv:accept())
      local ip, port = srv:getsockname()
      local c = assert(socket.connect(ip, port))
      co.sleep(0.02)
      c:close()
    end)
    local ok, err = co.run(5)
    assert.is_true(ok, tostring(err))
    assert.same({nil, "socket busy reading"}, {second[1], second[2]})
    assert.is_truthy(first[1])
    first[1]:close()
    srv:close()
  end)
end)
