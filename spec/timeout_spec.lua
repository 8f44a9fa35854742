-- Timeouts: settimeout/gettimeout and the block/total rule.
-- Contract: API.md §3, §13 rows 14 and 19.
-- Timing assertions are loose bounds (noisy 2-core machines): an elapsed time
-- must lie in [0.9*expected, expected+0.5], byte counts within ±1.
local socket = require("socket")
local H = require("helper")

local track, closeall = H.tracker()
after_each(closeall)

local raises = H.raising

local function pair()
  return track(H.pair())
end

local function within(elapsed, expected, what)
  assert.is_true(elapsed >= 0.9 * expected and elapsed <= expected + 0.5,
    string.format("%s: took %.3f s, expected about %.2f s", what or "call", elapsed, expected))
end

local function gettimeout_is(s, b, t)
  local gb, gt = s:gettimeout()
  H.isfloat(gb, "block timeout type")
  H.isfloat(gt, "total timeout type")
  assert.equal(b, gb, "block timeout")
  assert.equal(t, gt, "total timeout")
end

-- A child peer that connects and sends one byte every 0.3 s (at 0.3, 0.6, ...
-- after its connect), up to 12 bytes, stopping when the connection breaks.
local TRICKLE = [[
local c = assert(socket.connect("127.0.0.1", tonumber(arg[1])))
local t0 = socket.gettime()
for i = 1, 12 do
  local d = t0 + 0.3 * i - socket.gettime()
  if d > 0 then socket.sleep(d) end
  if not c:send("x") then break end
end
c:close()
]]

-- Accepts the trickle child and runs receive(10) with the given timeouts.
-- Returns elapsed, and receive's results.
local function trickle_receive(b, t)
  local srv, port = H.server()
  track(srv)
  srv:settimeout(10)
  local h = H.child(TRICKLE, port)
  local p, err = srv:accept()
  if not p then
    local out = h:wait()
    error("child did not connect: " .. tostring(err) .. "\n" .. tostring(out))
  end
  track(p)
  if b then p:settimeout(b, "b") end
  if t then p:settimeout(t, "t") end
  local t0 = socket.gettime()
  local d, e, part = p:receive(10)
  local elapsed = socket.gettime() - t0
  p:close()
  h:wait()
  return elapsed, d, e, part
end

describe("settimeout/gettimeout (§3)", function()
  it("new objects have -1,-1 as floats", function()
    gettimeout_is(track(socket.tcp()), -1.0, -1.0)
    gettimeout_is(track(socket.tcp4()), -1.0, -1.0)
    local c, p = pair()
    gettimeout_is(c, -1.0, -1.0)
    gettimeout_is(p, -1.0, -1.0)
  end)

  it("settimeout returns integer 1; the default mode sets the block timeout", function()
    local s = track(socket.tcp4())
    local r = s:settimeout(2)
    assert.equal(1, r)
    assert.equal("integer", math.type(r))
    gettimeout_is(s, 2.0, -1.0)
  end)

  it("modes: 'b' sets the block timeout, 't' and 'r' the total timeout (first character counts)", function()
    local s = track(socket.tcp4())
    assert.equal(1, s:settimeout(1.5, "b"))
    gettimeout_is(s, 1.5, -1.0)
    assert.equal(1, s:settimeout(3, "t"))
    gettimeout_is(s, 1.5, 3.0)
    assert.equal(1, s:settimeout(4, "r"))
    gettimeout_is(s, 1.5, 4.0)
    assert.equal(1, s:settimeout(0.25, "block"))
    assert.equal(1, s:settimeout(5, "total"))
    gettimeout_is(s, 0.25, 5.0)
  end)

  it("an invalid mode raises 'bad argument #2 to 'settimeout' (invalid timeout mode)'", function()
    local s = track(socket.tcp4())
    raises(function() return s:settimeout(1, "x") end,
      "bad argument #2 to 'settimeout'", "(invalid timeout mode)")
    raises(function() return s:settimeout(1, "") end,
      "bad argument #2 to 'settimeout'", "(invalid timeout mode)")
    gettimeout_is(s, -1.0, -1.0)
  end)

  it("a negative value is stored as given: settimeout(-5) -> -5.0", function()
    local s = track(socket.tcp4())
    assert.equal(1, s:settimeout(-5))
    gettimeout_is(s, -5.0, -1.0)
    assert.equal(1, s:settimeout(-2, "t"))
    gettimeout_is(s, -5.0, -2.0)
  end)

  it("nil or absent means -1", function()
    local s = track(socket.tcp4())
    s:settimeout(2); s:settimeout(3, "t")
    assert.equal(1, s:settimeout(nil))
    gettimeout_is(s, -1.0, 3.0)
    s:settimeout(2)
    assert.equal(1, s:settimeout())
    gettimeout_is(s, -1.0, 3.0)
    assert.equal(1, s:settimeout(nil, "t"))
    gettimeout_is(s, -1.0, -1.0)
  end)

  it("a numeric string is a number; a non-number raises", function()
    local s = track(socket.tcp4())
    assert.equal(1, s:settimeout("0.5"))
    gettimeout_is(s, 0.5, -1.0)
    raises(function() return s:settimeout("abc") end, "bad argument #1 to 'settimeout'")
    raises(function() return s:settimeout({}) end, "bad argument #1 to 'settimeout'")
    raises(function() return s:settimeout(true) end, "bad argument #1 to 'settimeout'")
  end)

  it("accepted clients start at -1,-1 whatever the server's timeouts (§13 row 19)", function()
    local srv, port = H.server()
    track(srv)
    srv:settimeout(3)
    srv:settimeout(7, "t")
    local c = track(assert(socket.connect("127.0.0.1", port)))
    local p = track(assert(srv:accept()))
    gettimeout_is(p, -1.0, -1.0)
    gettimeout_is(c, -1.0, -1.0)
    gettimeout_is(srv, 3.0, 7.0)
  end)

  it("a connect turning a master into a client keeps the master's timeouts", function()
    -- close/connect never reset timeouts; only new objects start at -1,-1
    local srv, port = H.server()
    track(srv)
    local m = track(socket.tcp4())
    m:settimeout(4)
    assert.equal(1, m:connect("127.0.0.1", port))
    gettimeout_is(m, 4.0, -1.0)
    track(assert(srv:accept()))
  end)
end)

describe("the timeout rule on receive (§3 verified table)", function()
  it("b=0.5 alone is a deadline for the whole call: 0.5 s, 1 byte", function()
    local el, d, e, part = trickle_receive(0.5, nil)
    assert.is_nil(d)
    assert.equal("timeout", e)
    within(el, 0.5, "b=0.5")
    assert.is_true(#part >= 0 and #part <= 2, "bytes: " .. #part)
  end)

  it("t=1: 1.0 s, 3 bytes", function()
    local el, d, e, part = trickle_receive(nil, 1)
    assert.is_nil(d)
    assert.equal("timeout", e)
    within(el, 1.0, "t=1")
    assert.is_true(#part >= 2 and #part <= 4, "bytes: " .. #part)
  end)

  it("b=0.5,t=2: b bounds each wait and t the call: 2.0 s, 6 bytes", function()
    local el, d, e, part = trickle_receive(0.5, 2)
    assert.is_nil(d)
    assert.equal("timeout", e)
    within(el, 2.0, "b=0.5,t=2")
    assert.is_true(#part >= 5 and #part <= 7, "bytes: " .. #part)
  end)

  it("b=0.2,t=5: the first wait times out: 0.2 s, 0 bytes", function()
    local el, d, e, part = trickle_receive(0.2, 5)
    assert.is_nil(d)
    assert.equal("timeout", e)
    within(el, 0.2, "b=0.2,t=5")
    assert.is_true(#part <= 1, "bytes: " .. #part)
  end)

  it("a negative timeout means no limit: receive waits for the peer", function()
    local srv, port = H.server()
    track(srv)
    srv:settimeout(10)
    local h = H.child([[
      local c = assert(socket.connect("127.0.0.1", tonumber(arg[1])))
      socket.sleep(0.4)
      c:send("ok")
      c:close()
    ]], port)
    local p = track(assert(srv:accept()))
    p:settimeout(-5)
    local t0 = socket.gettime()
    local d, e = p:receive(2)
    local el = socket.gettime() - t0
    h:wait()
    assert.equal("ok", d, tostring(e))
    assert.is_true(el >= 0.2, "returned after " .. el .. " s")
  end)
end)

describe("timeouts on other calls (§3)", function()
  it("accept with settimeout(0.1) and no client gives nil,'timeout' after about 0.1 s", function()
    local srv = track(H.server())
    assert.equal(1, srv:settimeout(0.1))
    local t0 = socket.gettime()
    local r, e = srv:accept()
    local el = socket.gettime() - t0
    assert.is_nil(r)
    assert.equal("timeout", e)
    within(el, 0.1, "accept")
  end)

  it("a total timeout alone bounds accept", function()
    local srv = track(H.server())
    srv:settimeout(0.3, "t")
    local t0 = socket.gettime()
    local r, e = srv:accept()
    local el = socket.gettime() - t0
    assert.is_nil(r)
    assert.equal("timeout", e)
    within(el, 0.3, "accept t=0.3")
  end)

  it("with b and t both set, b bounds each wait: accept gives 'timeout' after b", function()
    local srv = track(H.server())
    srv:settimeout(0.2)
    srv:settimeout(5, "t")
    local t0 = socket.gettime()
    local r, e = srv:accept()
    local el = socket.gettime() - t0
    assert.is_nil(r)
    assert.equal("timeout", e)
    within(el, 0.2, "accept b=0.2,t=5")
  end)

  it("with b and t both set, b bounds a receive with no data", function()
    local c = pair()
    c:settimeout(0.2)
    c:settimeout(5, "t")
    local t0 = socket.gettime()
    local d, e, part = c:receive(1)
    local el = socket.gettime() - t0
    assert.is_nil(d); assert.equal("timeout", e); assert.equal("", part)
    within(el, 0.2, "receive b=0.2,t=5")
  end)

  it("with b and t both set, t bounds the whole call when it is shorter", function()
    local c = pair()
    c:settimeout(5)
    c:settimeout(0.3, "t")
    local t0 = socket.gettime()
    local d, e = c:receive(1)
    local el = socket.gettime() - t0
    assert.is_nil(d); assert.equal("timeout", e)
    within(el, 0.3, "receive b=5,t=0.3")
  end)

  it("b==0 means one attempt: receive and accept return 'timeout' at once", function()
    local c = pair()
    c:settimeout(0)
    local t0 = socket.gettime()
    local d, e, part = c:receive(1)
    assert.is_nil(d); assert.equal("timeout", e); assert.equal("", part)
    d, e, part = c:receive()
    assert.is_nil(d); assert.equal("timeout", e); assert.equal("", part)
    local srv = track(H.server())
    srv:settimeout(0)
    local r, e2 = srv:accept()
    assert.is_nil(r); assert.equal("timeout", e2)
    assert.is_true(socket.gettime() - t0 < 0.2)
  end)

  it("b==0 with a total timeout still never waits", function()
    local c = pair()
    c:settimeout(0)
    c:settimeout(5, "t")
    local t0 = socket.gettime()
    local d, e = c:receive(1)
    assert.is_nil(d); assert.equal("timeout", e)
    assert.is_true(socket.gettime() - t0 < 0.5)
  end)

  it("b==0 returns the bytes that were available as the partial", function()
    local c, p = pair()
    p:send("ab")
    -- make sure the bytes have arrived before the one-attempt call
    c:settimeout(2)
    assert.equal("", c:receive(0))
    c:settimeout(0)
    local d, e, part = c:receive(5)
    assert.is_nil(d); assert.equal("timeout", e); assert.equal("ab", part)
  end)

  it("a block timeout bounds connect while the attempt is pending", function()
    -- backlog 0 with one queued connection: the kernel drops further SYNs
    local srv = track(socket.tcp4())
    assert.equal(1, srv:bind("127.0.0.1", 0))
    assert.equal(1, srv:listen(0))
    local _, port = srv:getsockname()
    track(assert(socket.connect("127.0.0.1", port)))
    local c = track(socket.tcp4())
    c:settimeout(0.3)
    local t0 = socket.gettime()
    local r, e = c:connect("127.0.0.1", port)
    local el = socket.gettime() - t0
    assert.is_nil(r)
    assert.equal("timeout", e)
    within(el, 0.3, "connect")
  end)

  it("with b and t both set, b bounds a pending connect", function()
    local srv = track(socket.tcp4())
    assert.equal(1, srv:bind("127.0.0.1", 0))
    assert.equal(1, srv:listen(0))
    local _, port = srv:getsockname()
    track(assert(socket.connect("127.0.0.1", port)))
    local c = track(socket.tcp4())
    c:settimeout(0.3)
    c:settimeout(5, "t")
    local t0 = socket.gettime()
    local r, e = c:connect("127.0.0.1", port)
    local el = socket.gettime() - t0
    assert.is_nil(r)
    assert.equal("timeout", e)
    within(el, 0.3, "connect b=0.3,t=5")
  end)

  it("a block timeout bounds a receive with no data", function()
    local c = pair()
    c:settimeout(0.3)
    local t0 = socket.gettime()
    local d, e, part = c:receive("*a")
    assert.is_nil(d); assert.equal("timeout", e); assert.equal("", part)
    within(socket.gettime() - t0, 0.3, "receive")
  end)
end)

describe("socket.gettime (§2)", function()
  it("returns wall-clock epoch seconds as a float", function()
    local t = socket.gettime()
    H.isfloat(t)
    assert.is_true(math.abs(t - os.time()) < 2)
  end)
end)
