-- TCP receive patterns and send ranges.
-- Contract: API.md §4.3, §4.4, §7, §13 rows 1-7.
local socket = require("socket")
local H = require("helper")

local track, closeall = H.tracker()
after_each(closeall)

local raises = H.raising

local isint = H.isint

-- Client and peer, both blocking; the server is already closed.
local function pair()
  return track(H.pair())
end

-- Asserts the exact result list of a call: expected = {n=..., ...}.
local function results(expected, ...)
  local got = table.pack(...)
  assert.equal(expected.n, got.n, "number of results")
  for i = 1, expected.n do
    assert.equal(expected[i], got[i], "result #" .. i)
  end
  return ...
end
local function R(...) return table.pack(...) end

-- Compares two long strings without printing them whole.
local function same_bytes(expected, got, what)
  if expected == got then return end
  local n = math.min(#expected, #got)
  local at = n + 1
  for k = 1, n do
    if expected:byte(k) ~= got:byte(k) then at = k; break end
  end
  error(string.format("%s: %d bytes expected, %d got, first difference at byte %d",
    what or "data", #expected, #got, at), 2)
end

-- Deterministic test data: numbered 8-byte lines "0000001\n0000002\n...".
local BLOB_SRC = [[
local function blob(n)
  local t = {}
  for k = 1, math.floor(n / 8) + 1 do t[k] = string.format("%07d\n", k) end
  return table.concat(t):sub(1, n)
end
]]
local blob = load(BLOB_SRC .. " return blob")()

-- A child process connects to `port` and sends blob(n), then closes.
local SENDER = BLOB_SRC .. [[
local c = assert(socket.connect("127.0.0.1", tonumber(arg[1])))
local data = blob(tonumber(arg[2]))
local r, e, last = c:send(data)
io.write("sent ", tostring(r), " ", tostring(e), " ", tostring(last), "\n")
c:close()
]]

-- Starts a child sending blob(n); returns the accepted peer and the child handle.
local function from_child(code, ...)
  local srv, port = H.server()
  track(srv)
  srv:settimeout(10)
  local h = H.child(code, port, ...)
  local p, e = srv:accept()
  if not p then
    local out = h:wait()
    error("child did not connect: " .. tostring(e) .. "\n" .. tostring(out))
  end
  track(p)
  p:settimeout(10)
  return p, h
end

describe("receive line patterns (§4.3)", function()
  it("'*l' drops every CR and the LF (§13 row 1)", function()
    local c, p = pair()
    c:settimeout(2)
    assert.equal(5, p:send("a\r\nb\n"))
    assert.equal("a", c:receive("*l"))
    assert.equal("b", c:receive("*l"))
    p:send("li\rne2\n")
    assert.equal("line2", c:receive("*l"))
    p:send("\r\r\n\n")
    assert.equal("", c:receive("*l"))
    assert.equal("", c:receive("*l"))
  end)

  it("the default pattern (absent or nil) is a line", function()
    local c, p = pair()
    c:settimeout(2)
    p:send("one\r\ntwo\n")
    assert.equal("one", c:receive())
    assert.equal("two", c:receive(nil))
  end)

  it("any pattern starting with '*l' is a line", function()
    local c, p = pair()
    c:settimeout(2)
    p:send("x\n")
    assert.equal("x", c:receive("*line"))
  end)

  it("'l' is accepted as a line pattern ([N])", function()
    local c, p = pair()
    c:settimeout(2)
    p:send("a\r\nb\n")
    assert.equal("a", c:receive("l"))
    assert.equal("b", c:receive("l"))
  end)

  it("'L' and '*L' keep the LF and every CR ([N])", function()
    local c, p = pair()
    c:settimeout(2)
    p:send("a\r\nb\nli\rne\n")
    assert.equal("a\r\n", c:receive("L"))
    assert.equal("b\n", c:receive("*L"))
    results(R("li\rne\n", nil, nil), c:receive("L"))
  end)

  it("a line prefix is prepended", function()
    local c, p = pair()
    c:settimeout(2)
    p:send("abc\n")
    assert.equal("restabc", c:receive("*l", "rest"))
  end)

  it("EOF before the LF gives nil,'closed',partial, then nil,'closed',''", function()
    local c, p = pair()
    c:settimeout(2)
    p:send("no newline")
    p:close()
    results(R(nil, "closed", "no newline"), c:receive())
    results(R(nil, "closed", ""), c:receive())
  end)

  it("the partial of an unfinished line has its CRs dropped too (3.x)", function()
    -- §4.3 line mode drops every CR as the line is read; 3.x's partial is
    -- built from the same copy, so it holds no CR either.
    local c, p = pair()
    c:settimeout(2)
    p:send("ab\rc")
    p:close()
    results(R(nil, "closed", "abc"), c:receive())
  end)

  it("'L' at EOF before the LF gives nil,'closed',partial with CRs kept", function()
    local c, p = pair()
    c:settimeout(2)
    p:send("ab\rc")
    p:close()
    results(R(nil, "closed", "ab\rc"), c:receive("L"))
    results(R(nil, "closed", ""), c:receive("L"))
  end)

  it("a line timeout's partial starts with the prefix", function()
    local c, p = pair()
    c:settimeout(0.2)
    p:send("ab")
    results(R(nil, "timeout", "preab"), c:receive("*l", "pre"))
    assert.is_false(c:dirty())
  end)

  it("a timeout in line mode consumes the partial; passing it back continues (§13 row 4)", function()
    local c, p = pair()
    c:settimeout(0.2)
    p:send("rest")
    results(R(nil, "timeout", "rest"), c:receive())
    assert.is_false(c:dirty())
    p:send("abc\n")
    results(R("restabc", nil, nil), c:receive("*l", "rest"))
  end)

  it("reads lines longer than the 8 KiB buffer", function()
    local c, p = pair()
    c:settimeout(5)
    local long = string.rep("0123456789", 2000)
    p:send(long .. "\r\nshort\n")
    local got = c:receive()
    same_bytes(long, got, "long line")
    assert.equal("short", c:receive())
  end)

  it("reads many lines across buffer boundaries from a child peer", function()
    local n = 30000
    local p, h = from_child(SENDER, n * 8)
    for k = 1, n do
      local line, e = p:receive()
      if line ~= string.format("%07d", k) then
        error(string.format("line %d: got %q (%s)", k, tostring(line), tostring(e)))
      end
    end
    results(R(nil, "closed", ""), p:receive())
    local out = h:wait()
    assert.matches("sent " .. (n * 8) .. " nil", out)
  end)
end)

describe("receive '*a' (§4.3)", function()
  it("returns everything until EOF unchanged, CRs kept, then nil,'closed','' (§13 row 3)", function()
    local c, p = pair()
    c:settimeout(2)
    p:send("all data\r\nmore")
    p:close()
    results(R("all data\r\nmore", nil, nil), c:receive("*a"))
    results(R(nil, "closed", ""), c:receive("*a"))
  end)

  it("'a' and '*all' are accepted", function()
    local c, p = pair()
    c:settimeout(2)
    p:send("xyz")
    p:close()
    assert.equal("xyz", c:receive("a"))
    local c2, p2 = pair()
    c2:settimeout(2)
    p2:send("uvw")
    p2:close()
    assert.equal("uvw", c2:receive("*all"))
  end)

  it("prepends the prefix", function()
    local c, p = pair()
    c:settimeout(2)
    p:send("data")
    p:close()
    assert.equal("pre:data", c:receive("*a", "pre:"))
  end)

  it("EOF with nothing new gives nil,'closed',prefix", function()
    local c, p = pair()
    c:settimeout(2)
    p:close()
    results(R(nil, "closed", "pfx"), c:receive("*a", "pfx"))
  end)

  it("a timeout gives nil,'timeout',partial and consumes it", function()
    local c, p = pair()
    c:settimeout(0.2)
    p:send("abc")
    results(R(nil, "timeout", "preabc"), c:receive("*a", "pre"))
    assert.is_false(c:dirty())
    results(R(nil, "timeout", ""), c:receive("*a"))
  end)

  it("reads a large stream from a child peer exactly", function()
    local n = 300000
    local p, h = from_child(SENDER, n)
    local got, e = p:receive("*a")
    assert.is_string(got, tostring(e))
    same_bytes(blob(n), got, "*a data")
    results(R(nil, "closed", ""), p:receive("*a"))
    h:wait()
  end)
end)

describe("receive a byte count (§4.3)", function()
  it("reads exactly n bytes and leaves the rest buffered", function()
    local c, p = pair()
    c:settimeout(2)
    p:send("hello world")
    results(R("hello", nil, nil), c:receive(5))
    assert.is_true(c:dirty())
    assert.equal(" world", c:receive(6))
    assert.is_false(c:dirty())
  end)

  it("truncates a fractional count: 2.7 reads 2", function()
    local c, p = pair()
    c:settimeout(2)
    p:send("abcd")
    assert.equal("ab", c:receive(2.7))
    assert.equal("cd", c:receive(2))
  end)

  it("a numeric string is a count: '2' reads 2", function()
    local c, p = pair()
    c:settimeout(2)
    p:send("abcd")
    assert.equal("ab", c:receive("2"))
    assert.equal("cd", c:receive("2"))
  end)

  it("a fractional numeric string is truncated too: '2.7' reads 2", function()
    local c, p = pair()
    c:settimeout(2)
    p:send("abcd")
    assert.equal("ab", c:receive("2.7"))
  end)

  it("after a local shutdown('receive'), receive gives nil,'closed',''", function()
    local c = pair()
    c:settimeout(2)
    assert.equal(1, c:shutdown("receive"))
    results(R(nil, "closed", ""), c:receive(1))
  end)

  it("a negative count raises 'invalid receive pattern'", function()
    local c = pair()
    raises(function() return c:receive(-1) end, "bad argument #1 to 'receive'", "(invalid receive pattern)")
    raises(function() return c:receive(-0.5 - 1) end, "bad argument #1 to 'receive'", "(invalid receive pattern)")
  end)

  it("a prefix at least n long is returned whole with no I/O: receive(2,'abcd') (§13 row 5)", function()
    local c, p = pair()
    c:settimeout(0.5)
    -- with nothing pending: any read attempt would time out
    results(R("abcd", nil, nil), c:receive(2, "abcd"))
    p:send("zz")
    results(R("abcd", nil, nil), c:receive(2, "abcd"))
    -- nothing was consumed
    assert.equal("zz", c:receive(2))
  end)

  it("receive(5,'xy') with 2 bytes pending gives nil,'timeout','xy45' (§13 row 5)", function()
    local c, p = pair()
    c:settimeout(0.2)
    p:send("45")
    results(R(nil, "timeout", "xy45"), c:receive(5, "xy"))
    assert.is_false(c:dirty())
    -- passing the partial back: n - #prefix more bytes are read
    p:send("678")
    results(R("xy456", nil, nil), c:receive(5, "xy45"))
    assert.equal("78", c:receive(2))
  end)

  it("peer sends 'hello' and closes: receive(10) gives nil,'closed','hello', then nil,'closed','' (§13 row 2)", function()
    local c, p = pair()
    c:settimeout(2)
    p:send("hello")
    p:close()
    results(R(nil, "closed", "hello"), c:receive(10))
    results(R(nil, "closed", ""), c:receive(10))
  end)

  it("an early EOF includes the prefix in the partial", function()
    local c, p = pair()
    c:settimeout(2)
    p:send("cd")
    p:close()
    results(R(nil, "closed", "abcd"), c:receive(5, "ab"))
  end)

  it("reads a count larger than the buffer from a child peer exactly", function()
    local n = 200000
    local p, h = from_child(SENDER, n + 10)
    local data = blob(n + 10)
    local got = p:receive(n)
    same_bytes(data:sub(1, n), got, "receive(n)")
    results(R(nil, "closed", data:sub(n + 1)), p:receive(20))
    h:wait()
  end)

  it("mixed patterns over a large stream lose and duplicate nothing", function()
    local n = 250000
    local p, h = from_child(SENDER, n)
    local parts, total = {}, 0
    local pats = { "*L", 777, 8193, "L", 1, 20000 }
    for k = 1, 100000 do
      local d, e, part = p:receive(pats[k % #pats + 1])
      if not d then
        assert.equal("closed", e)
        parts[#parts + 1] = part
        break
      end
      parts[#parts + 1] = d
      total = total + #d
    end
    same_bytes(blob(n), table.concat(parts), "stream")
    h:wait()
  end)
end)

describe("receive(0) (§4.3, §13 row 6)", function()
  it("with no data gives nil,'timeout',''", function()
    local c = pair()
    c:settimeout(0.2)
    results(R(nil, "timeout", ""), c:receive(0))
  end)

  it("with data waiting returns '' and the data stays", function()
    local c, p = pair()
    c:settimeout(2)
    p:send("abc")
    results(R("", nil, nil), c:receive(0))
    assert.equal("abc", c:receive(3))
  end)

  it("waits until something is readable", function()
    local p, h = from_child([[
      local c = assert(socket.connect("127.0.0.1", tonumber(arg[1])))
      socket.sleep(0.3)
      c:send("x")
      c:close()
    ]])
    p:settimeout(5)
    local t0 = socket.gettime()
    results(R("", nil, nil), p:receive(0))
    local el = socket.gettime() - t0
    assert.is_true(el >= 0.15, "returned after " .. el .. " s")
    assert.equal("x", p:receive(1))
    h:wait()
  end)

  it("after EOF gives nil,'closed',''", function()
    local c, p = pair()
    c:settimeout(2)
    p:close()
    results(R(nil, "closed", ""), c:receive(0))
  end)

  it("with a non-empty prefix returns the prefix", function()
    local c = pair()
    c:settimeout(0.5)
    results(R("pre", nil, nil), c:receive(0, "pre"))
  end)
end)

describe("receive results (§4.3)", function()
  it("success returns exactly 3 values: data, nil, nil", function()
    local c, p = pair()
    c:settimeout(2)
    p:send("line\nabcdefg")
    results(R("line", nil, nil), c:receive("*l"))
    results(R("abc", nil, nil), c:receive(3))
    results(R("de", nil, nil), c:receive("2"))
    p:close()
    results(R("fg", nil, nil), c:receive("*a"))
  end)

  it("after EOF every pattern returns nil,'closed','' every time", function()
    local c, p = pair()
    c:settimeout(2)
    p:close()
    for _ = 1, 3 do
      for _, pat in ipairs({ "*l", "*a", 5, "l", "a", "L", "*L" }) do
        results(R(nil, "closed", ""), c:receive(pat))
      end
    end
    results(R(nil, "closed", "ab"), c:receive(5, "ab"))
  end)

  it("a reset peer gives 'closed' (ECONNRESET, §4.3)", function()
    local c, p = pair()
    c:settimeout(2)
    assert.equal(1, p:setoption("linger", { on = true, timeout = 0 }))
    p:close()
    results(R(nil, "closed", ""), c:receive(1))
    results(R(nil, "closed", ""), c:receive())
  end)

  it("bad patterns raise 'invalid receive pattern'", function()
    local c, p = pair()
    c:settimeout(0.5)
    p:send("data\n")
    for _, pat in ipairs({ "x", "*x", "", "*", "b", "-1" }) do
      raises(function() return c:receive(pat) end,
        "bad argument #1 to 'receive'", "(invalid receive pattern)")
    end
    -- nothing was consumed by the failed calls
    assert.equal("data", c:receive())
  end)
end)

describe("send ranges (§4.4)", function()
  it("follows the documented examples and sends exactly bytes i..j", function()
    local c, p = pair()
    p:settimeout(2)
    local cases = {
      { { "hello" }, 5, "hello" },
      { { "hello world", 3, 7 }, 7, "llo w" },
      { { "hello world", -5 }, 11, "world" },
      { { "" }, 0, "" },
      { { "hello", 4, 2 }, 3, "" },
      { { "hello", 2, 100 }, 5, "ello" },
      { { "hello", 0 }, 5, "hello" },
      { { 12345 }, 5, "12345" },
      { { "hello", 2.7 }, 5, "ello" },
      { { "hello", "2", "3" }, 3, "el" },
      { { "hello", -100, -4 }, 2, "he" },
      { { "hello", 1, -6 }, 0, "" },
      { { "hello", 6 }, 5, "" },
      { { "hello", 1, 3.9 }, 3, "hel" },
      { { "hello", "-2" }, 5, "lo" },
    }
    for k, case in ipairs(cases) do
      local got = table.pack(c:send(table.unpack(case[1])))
      assert.equal(3, got.n, "case " .. k .. ": number of results")
      assert.equal(case[2], got[1], "case " .. k)
      isint(got[1], "case " .. k)
      assert.is_nil(got[2]); assert.is_nil(got[3])
      assert.equal(1, c:send("|"))
      assert.equal(case[3] .. "|", p:receive(#case[3] + 1), "case " .. k .. ": bytes at the peer")
    end
  end)

  it("truncates fractional indices before counting negative ones from the end", function()
    -- §4.4 "converted to numbers, truncated", then "a negative k becomes
    -- size+k+1" (3.x: (long) -2.5 == -2, so i = 4; (long) -1.5 == -1, so j = 5)
    local c, p = pair()
    p:settimeout(2)
    results(R(5, nil, nil), c:send("hello", -2.5))
    assert.equal(1, c:send("|"))
    assert.equal("lo|", p:receive(3))
    results(R(5, nil, nil), c:send("hello", 1, -1.5))
    assert.equal(1, c:send("|"))
    assert.equal("hello|", p:receive(6))
  end)

  it("send(nil) and send({}) raise", function()
    local c = pair()
    raises(function() return c:send(nil) end, "bad argument #1 to 'send'")
    raises(function() return c:send({}) end, "bad argument #1 to 'send'")
  end)

  it("a large send with a small timeout: nil,'timeout',last; exactly last bytes arrive; the rest follows from last+1", function()
    local c, p = pair()
    local size = 16 * 1024 * 1024
    local big = blob(size)
    c:settimeout(0.2)
    local t0 = socket.gettime()
    local r, e, last = c:send(big)
    local el = socket.gettime() - t0
    assert.is_nil(r)
    assert.equal("timeout", e)
    isint(last, "last")
    assert.is_true(last > 0 and last < size, "last = " .. tostring(last))
    assert.is_true(el >= 0.18 and el < 1.5, "timed out after " .. el .. " s")
    -- At timeout 0 the rest cannot go: one attempt, nil,"timeout",index.
    -- (§4.4's "send(big,last+1,last+10) -> nil,'timeout',last" is not pinned
    -- byte-exact: Linux may still append a few bytes to the tail room of the
    -- last queued segment, whatever the library does.)
    c:settimeout(0)
    local t1 = socket.gettime()
    local r0, e0, l0 = c:send(big, last + 1)
    assert.is_true(socket.gettime() - t1 < 0.15, "a timeout-0 send waited")
    assert.is_nil(r0)
    assert.equal("timeout", e0)
    isint(l0, "last")
    -- (poll reports writable only above a free-space threshold; below it a
    -- send still takes what fits, so l0 may exceed last)
    assert.is_true(l0 >= last and l0 < size, "timeout-0 send went to " .. tostring(l0))
    last = l0
    -- exactly `last` bytes reach the peer
    p:settimeout(10)
    local parts = { (assert(p:receive(last))) }
    same_bytes(big:sub(1, last), parts[1], "first part")
    local _, sent = c:getstats()
    assert.equal(last, sent, "getstats counts the bytes that went")
    p:settimeout(0.2)
    results(R(nil, "timeout", ""), p:receive(1))
    -- continue from last+1 until everything is sent; verify the whole stream
    p:settimeout(10)
    c:settimeout(0.05)
    local pos = last
    local deadline = socket.gettime() + 60
    for _ = 1, 100000 do
      if pos >= size or socket.gettime() > deadline then break end
      local r2, e2, l2 = c:send(big, pos + 1)
      local newpos = r2 or l2
      assert.is_true(r2 ~= nil or e2 == "timeout", tostring(e2))
      isint(newpos, "last")
      assert.is_true(newpos >= pos and newpos <= size)
      if newpos > pos then parts[#parts + 1] = assert(p:receive(newpos - pos)) end
      pos = newpos
    end
    assert.equal(size, pos)
    same_bytes(big, table.concat(parts), "whole stream")
    p:settimeout(0.2)
    results(R(nil, "timeout", ""), p:receive(1))
  end)

  it("after the peer closed: 3 first, later nil,'closed',0 (§13 row 7)", function()
    local c, p = pair()
    p:close()
    local r = c:send("abc")
    assert.equal(3, r)
    local got
    local t0 = socket.gettime()
    for _ = 1, 1000000 do
      got = table.pack(c:send("abc"))
      if not got[1] or socket.gettime() - t0 > 5 then break end
    end
    assert.is_nil(got[1])
    assert.equal("closed", got[2])
    assert.equal(0, got[3])
    isint(got[3], "last")
    -- with a start index, the partial index is i-1
    results(R(nil, "closed", 1), c:send("abc", 2))
  end)

  it("a locally closed client gives nil,'closed',i-1", function()
    local c = pair()
    c:close()
    results(R(nil, "closed", 0), c:send("hello"))
    results(R(nil, "closed", 3), c:send("hello", 4))
    results(R(nil, "closed", 1), c:send("hello", -4, -2))
  end)

  it("never raises SIGPIPE: a child survives sending after shutdown and to a reset peer", function()
    local h = H.child([[
      local srv = assert(socket.bind("127.0.0.1", 0))
      local _, port = srv:getsockname()
      local c = assert(socket.connect("127.0.0.1", port))
      local p = assert(srv:accept())
      assert(c:shutdown("send") == 1)
      local r, e, l = c:send("x")
      io.write("shut:", tostring(r), ",", tostring(e), ",", tostring(l), "\n")
      local c2 = assert(socket.connect("127.0.0.1", port))
      local p2 = assert(srv:accept())
      p2:setoption("linger", {on = true, timeout = 0})
      p2:close()
      local err
      local t0 = socket.gettime()
      for _ = 1, 1000000 do
        local r2, e2 = c2:send("abc")
        if not r2 then err = e2 break end
        if socket.gettime() - t0 > 5 then break end
      end
      io.write("reset:", tostring(err), "\n")
      for _ = 1, 3 do c2:send("more") end
      io.write("alive\n")
      c:close(); c2:close(); p:close(); srv:close()
    ]])
    local out, ok = h:wait()
    assert.matches("shut:nil,closed,0\n", out, 1, true)
    assert.matches("reset:closed\n", out, 1, true)
    assert.matches("alive\n", out, 1, true)
    assert.is_true(ok, "child exit: " .. tostring(out))
  end)
end)
