-- Issue 7 (faults and hostile peers), loopback only, each bounded in time:
-- resets mid-transfer, half-closes, a byte-at-a-time sender against total
-- timeouts, writes to a vanished peer (no SIGPIPE), stop/continue signals
-- during every kind of wait, and descriptor exhaustion.
local socket = require("socket")
local unix = require("socket.unix")
local H = require("helper")

local function q(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

-- Writes `code` (with `socket` and `unix` loaded) to a temp script.
local function script(code)
  local name = os.tmpname()
  local f = assert(io.open(name, "w"))
  f:write("local socket = require('socket')\nlocal unix = require('socket.unix')\n",
    "io.stdout:setvbuf('line')\n", code)
  f:close()
  return name
end

describe("hardening: hostile peers", function()
  it("a peer that resets mid-transfer: receive gives nil,'closed' and every byte that arrived", function()
    for _, pattern in ipairs({ 100000, "*a", "*l" }) do
      local c, p = H.pair()
      local data = string.rep("0123456789", 1000)     -- 10,000 bytes, no newline
      assert.are.equal(#data, (p:send(data)))
      socket.sleep(0.1)                                -- the bytes are in c's receive queue
      assert(p:setoption("linger", { on = true, timeout = 0 }))
      p:close()                                        -- RST
      socket.sleep(0.05)
      c:settimeout(2)
      local t0 = socket.gettime()
      local got, err, partial = c:receive(pattern)
      assert.is_true(socket.gettime() - t0 < 1.5)
      if pattern == "*a" then
        -- "*a" returns what it read when the stream ends
        assert.are.equal(#data, #(got or partial or ""), tostring(err))
      else
        assert.is_nil(got)
        assert.are.equal("closed", err)
        assert.are.equal(#data, #partial, "bytes lost before the reset")
        assert.are.equal(data, partial)
      end
      -- and afterwards, still a soft answer
      local g2, e2 = c:receive(1)
      assert.is_nil(g2)
      assert.are.equal("closed", e2)
      c:close()
    end
  end)

  it("a reset seen by send gives nil,'closed' (no error, no signal)", function()
    local c, p = H.pair()
    assert(p:setoption("linger", { on = true, timeout = 0 }))
    p:close()
    socket.sleep(0.05)
    c:settimeout(1)
    local n, err
    for _ = 1, 20 do
      n, err = c:send(string.rep("x", 65536))
      if not n then break end
    end
    assert.is_nil(n)
    assert.are.equal("closed", err)
    c:close()
  end)

  it("a half-close: the other side reads everything, then nil,'closed'; the reverse direction still works", function()
    for _, mk in ipairs({ "tcp", "unix" }) do
      local c, p
      if mk == "tcp" then
        c, p = H.pair()
      else
        local dir = os.tmpname(); os.remove(dir); assert(os.execute("mkdir " .. q(dir)))
        local s = unix.stream(); assert(s:bind(dir .. "/s")); assert(s:listen(1))
        c = unix.stream(); assert(c:connect(dir .. "/s")); p = assert(s:accept())
        s:close(); os.remove(dir .. "/s"); os.remove(dir)
      end
      local data = string.rep("line\n", 2000) .. "tail"
      assert.are.equal(#data, (p:send(data)))
      assert(p:shutdown("send"))
      c:settimeout(2)
      local parts = {}
      for _ = 1, 3000 do
        local l, err, partial = c:receive("*l")
        if not l then
          assert.are.equal("closed", err)
          parts[#parts + 1] = partial
          break
        end
        parts[#parts + 1] = l .. "\n"
      end
      assert.are.equal(data, table.concat(parts), mk)
      local l, err = c:receive(1)
      assert.is_nil(l)
      assert.are.equal("closed", err)
      -- the half-closed side can still read
      assert.are.equal(5, (c:send("reply")))
      p:settimeout(2)
      assert.are.equal("reply", (p:receive(5)))
      c:close(); p:close()
    end
  end)

  it("a peer that sends one byte at a time: the total timeout fires on time, the block timeout is a call deadline", function()
    local srv, port = H.server()
    local drip = script(([[
local c = assert(socket.connect("127.0.0.1", %d))
for i = 1, 120 do                 -- about 3 s of one byte per 25 ms
  if not c:send("x") then break end
  socket.sleep(0.025)
end
c:close()
]]):format(port))
    local h = io.popen("timeout 20 " .. H.LUA .. " " .. drip .. " 2>&1", "r")
    srv:settimeout(5)
    local c = assert(srv:accept())
    srv:close()
    for _, mode in ipairs({ "t", "b" }) do
      c:settimeout(-1)
      c:settimeout(0.5, mode)
      local t0 = socket.gettime()
      local got, err, partial = c:receive(100000)
      local dt = socket.gettime() - t0
      assert.is_nil(got)
      assert.are.equal("timeout", err)
      assert.is_true(#partial >= 5, "only " .. #partial .. " bytes in 0.5 s")
      assert.is_true(dt >= 0.45 and dt < 0.9, ("mode %s: timeout 0.5 fired after %.3f s"):format(mode, dt))
      -- "*l" too: no newline ever comes
      t0 = socket.gettime()
      got, err = c:receive("*l")
      dt = socket.gettime() - t0
      assert.is_nil(got)
      assert.are.equal("timeout", err)
      assert.is_true(dt >= 0.45 and dt < 0.9, ("*l mode %s: %.3f s"):format(mode, dt))
    end
    c:close()
    h:read("a"); h:close()
    os.remove(drip)
  end)

  it("writes to a peer that has gone away never raise SIGPIPE (tcp, unix, udp, TLS)", function()
    local out, ok = H.child([[
local unix = require("socket.unix")
local results = {}
local function hammer(name, c)
  c:settimeout(1)
  local n, err
  for _ = 1, 50 do
    n, err = c:send(string.rep("x", 65536))
    if not n then break end
  end
  results[#results + 1] = name .. "=" .. tostring(err)
end
-- tcp: peer closed normally (FIN), then RST on the first write
local s = assert(socket.bind("127.0.0.1", 0)); local _, port = s:getsockname()
local c = assert(socket.connect("127.0.0.1", port)); local p = assert(s:accept()); p:close()
socket.sleep(0.05)
hammer("tcp", c)
-- tcp after shutdown("send") on ourselves: EPIPE on the first write
local c2 = assert(socket.connect("127.0.0.1", port)); local p2 = assert(s:accept())
c2:shutdown("send")
hammer("tcpshut", c2)
-- unix stream
local dir = os.tmpname(); os.remove(dir); os.execute("mkdir " .. dir)
local us = unix.stream(); assert(us:bind(dir .. "/s")); assert(us:listen(1))
local uc = unix.stream(); assert(uc:connect(dir .. "/s")); local up = assert(us:accept()); up:close()
hammer("unix", uc)
-- TLS over a vanished peer
local ok, ssl = pcall(require, "socket.ssl")
if ok then
  local c3 = assert(socket.connect("127.0.0.1", port)); local p3 = assert(s:accept())
  local conn = assert(ssl.wrap(c3, {mode = "client", verify = "none"}))
  p3:close()
  socket.sleep(0.05)
  conn:settimeout(1)
  local r, e = conn:dohandshake()
  local n, e2 = conn:send("x")
  results[#results + 1] = "tls=" .. tostring(e) .. "/" .. tostring(e2)
end
os.remove(dir .. "/s"); os.remove(dir)
print("SURVIVED " .. table.concat(results, " "))
]]):wait()
    local o2 = out:gsub("\n", " ")
    assert.is_true(ok, "child died: " .. o2)
    assert.is_truthy(out:match("SURVIVED"), o2)
    assert.is_truthy(out:match("tcp=closed"), o2)
    assert.is_truthy(out:match("tcpshut=closed"), o2)
    assert.is_truthy(out:match("unix=closed"), o2)
  end)
end)

describe("hardening: signals during waits", function()
  -- The child waits in each kind of wait with a 1 s timeout while the shell
  -- stops and continues it every ~40 ms (SIGSTOP/SIGCONT makes epoll_wait
  -- and friends fail with EINTR). EINTR must not surface and the timeout
  -- must stay about 1 s.
  it("EINTR never surfaces and never shortens or lengthens a 1 s timeout", function()
    local child = script([[
local dir = os.tmpname(); os.remove(dir); os.execute("mkdir " .. dir)
local srv = assert(socket.bind("127.0.0.1", 0)); local _, port = srv:getsockname()
local c = assert(socket.connect("127.0.0.1", port)); local p = assert(srv:accept())
local u = socket.udp4(); assert(u:setsockname("127.0.0.1", 0))
local us = unix.stream(); assert(us:bind(dir .. "/s")); assert(us:listen(1))
local uc = unix.stream(); assert(uc:connect(dir .. "/s")); local up = assert(us:accept())
local poller = socket.poller(); poller:set(c, "r")
local co = require("socket.co")
local dns = require("socket.dns")
local waits = {
  {"tcp receive", function() c:settimeout(1); return c:receive(10) end},
  {"tcp receive *l", function() c:settimeout(1, "t"); local r, e = c:receive("*l"); c:settimeout(-1, "t"); return r, e end},
  {"tcp receivesome", function() c:settimeout(-1); return c:receivesome(10, 1) end},
  {"tcp accept", function() srv:settimeout(1); return srv:accept() end},
  {"udp receive", function() u:settimeout(1); return u:receive() end},
  {"udp receivefrom", function() u:settimeout(1); return u:receivefrom() end},
  {"unix receive", function() uc:settimeout(1); return uc:receive(10) end},
  {"unix accept", function() us:settimeout(1); return us:accept() end},
  {"select", function()
    local r, w, e = socket.select({c, u, srv}, nil, 1)
    if #r == 0 then return nil, e end
    return "ready", e
  end},
  {"poller wait", function()
    local n, e = poller:wait(1)
    if n == 0 then return nil, "timeout" end
    return n, e
  end},
  {"sleep", function() socket.sleep(1); return nil, "timeout" end},
  {"co task receive", function()
    local r, e
    co.spawn(function() c:settimeout(1); r, e = c:receive(10) end)
    co.run(5)
    return r, e
  end},
  {"co sleep", function() co.spawn(function() socket.sleep(1) end); co.run(5); return nil, "timeout" end},
}
print("READY")
for _, w in ipairs(waits) do
  local t0 = socket.gettime()
  local ok, r, e = pcall(w[2])
  local dt = socket.gettime() - t0
  print(("WAIT %s|%s|%s|%s|%.3f"):format(w[1], tostring(ok), tostring(r), tostring(e), dt))
end
os.remove(dir .. "/s"); os.remove(dir)
print("END")
]])
    local cmd = ("%s %s > %s.out 2>&1 & c=$!; i=0; "
      .. "while kill -0 $c 2>/dev/null && [ $i -lt 600 ]; do "
      .. "kill -STOP $c 2>/dev/null; sleep 0.005; kill -CONT $c 2>/dev/null; sleep 0.03; i=$((i+1)); done; "
      .. "kill -CONT $c 2>/dev/null; wait $c; echo \"EXIT $?\"; cat %s.out")
      :format(H.LUA, q(child), q(child), q(child))
    local out = H.sh(cmd)
    os.remove(child); os.remove(child .. ".out")
    assert.is_truthy(out:match("EXIT 0"), out)
    assert.is_truthy(out:match("END"), out)
    local bad, n = {}, 0
    for name, ok, r, e, dt in out:gmatch("WAIT ([^|]+)|([^|]+)|([^|]+)|([^|]+)|([%d.]+)") do
      n = n + 1
      dt = tonumber(dt)
      if ok ~= "true" or r ~= "nil" or e ~= "timeout" or dt < 0.7 or dt > 1.3 then
        bad[#bad + 1] = ("%s: ok=%s r=%s err=%s after %.3f s"):format(name, ok, r, e, dt)
      end
    end
    assert.are.equal(13, n, out)
    assert.are.same({}, bad, "\n  " .. table.concat(bad, "\n  "))
  end)
end)

describe("hardening: descriptor exhaustion (ulimit -n 64)", function()
  it("creation, connect, accept and dns.resolve fail softly, nothing crashes, and service resumes", function()
    local out, ok = H.childsh("ulimit -n 64 &&", [[
local unix = require("socket.unix")
local dns = require("socket.dns")
local dir = os.tmpname(); os.remove(dir); os.execute("mkdir " .. dir)
local srv = assert(socket.bind("127.0.0.1", 0)); local _, port = srv:getsockname()
srv:settimeout(1)
local pending = assert(socket.connect("127.0.0.1", port))   -- waits in srv's backlog
local held, errs = {}, {}
local function exhaust(name, f)
  for _ = 1, 200 do
    local ok, a, b = pcall(f)
    if not ok then errs[#errs + 1] = name .. " RAISED " .. tostring(a); return end
    if not a then
      errs[#errs + 1] = name .. "=" .. tostring(b)
      if type(b) ~= "string" then errs[#errs + 1] = name .. " NOSTRING" end
      return
    end
    held[#held + 1] = a
  end
  errs[#errs + 1] = name .. " NEVERFAILED"
end
exhaust("tcp4", function() return socket.tcp4() end)
exhaust("udp4", function() return socket.udp4() end)
exhaust("unixstream", function() return unix.stream() end)
exhaust("unixdgram", function() return unix.dgram() end)
exhaust("connect", function() return socket.connect("127.0.0.1", port) end)
exhaust("bind", function() return socket.bind("127.0.0.1", 0) end)
exhaust("resolve", function()
  local a, e = dns.resolve("localhost")
  if not a then return nil, e end
  local st, err = a:wait(2)
  if st ~= "success" then return nil, err or st end
  return a
end)
local t0 = socket.gettime()
local a, e = srv:accept()
errs[#errs + 1] = ("accept=%s/%s %.2f"):format(tostring(a and "ok"), tostring(e), socket.gettime() - t0)
-- free some and everything works again
for i = 1, 10 do held[#held]:close(); held[#held] = nil end
collectgarbage(); collectgarbage()
local again = {}
again[1] = socket.tcp4() and "tcp4" or "x"
again[2] = socket.udp4() and "udp4" or "x"
again[3] = unix.stream() and "unix" or "x"
local acc = srv:accept()
again[4] = acc and "accept" or "x"
local c = socket.connect("127.0.0.1", port)
again[5] = c and "connect" or "x"
local r = dns.resolve("localhost")
again[6] = (r and r:wait(5) == "success") and "resolve" or "x"
print("ERRS " .. table.concat(errs, ";"))
print("AGAIN " .. table.concat(again, ","))
os.remove(dir)
]]):wait()
    local o2 = out:gsub("\n", " | ")
    assert.is_true(ok, "child died: " .. o2)
    local errs = out:match("ERRS ([^\n]*)")
    assert.is_truthy(errs, o2)
    assert.is_falsy(errs:match("RAISED"), errs)
    assert.is_falsy(errs:match("NOSTRING"), errs)
    assert.is_falsy(errs:match("NEVERFAILED"), errs)
    for _, name in ipairs({ "tcp4", "udp4", "unixstream", "unixdgram", "connect", "bind", "resolve" }) do
      assert.is_truthy(errs:match(name .. "=Too many open files"), errs)
    end
    -- accept with no descriptor left: a soft error, promptly (not a busy
    -- wait until the timeout, not a crash)
    local acc, secs = errs:match("accept=(.-) ([%d.]+)$")
    assert.is_truthy(acc, errs)
    assert.is_truthy(acc:match("^nil/Too many open files"), errs)
    assert.is_true(tonumber(secs) < 0.5, errs)
    assert.are.equal("tcp4,udp4,unix,accept,connect,resolve", out:match("AGAIN ([^\n]*)"), o2)
  end)
end)
