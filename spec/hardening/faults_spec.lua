-- Issue 7 (faults and hostile peers), loopback only, each bounded in time:
-- resets mid-transfer, half-closes, a byte-at-a-time sender against total
-- timeouts, writes to a vanished peer (no SIGPIPE), stop/continue and
-- caught signals during every kind of wait, and descriptor exhaustion.
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

-- A throwaway self-signed certificate for the TLS peers.
local function tlscert()
  local dir = os.tmpname(); os.remove(dir); assert(os.execute("mkdir " .. q(dir)))
  local out, ok = H.sh(("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
    .. "-days 2 -subj /CN=localhost -keyout %s/key.pem -out %s/cert.pem"):format(q(dir), q(dir)))
  assert(ok, out)
  return dir .. "/cert.pem", dir .. "/key.pem", function() H.sh("rm -rf " .. q(dir)) end
end

-- Lua for child scripts: tlspair(srv, cert, key) connects to the listener
-- srv (in the same process), wraps both ends and completes the handshake.
local TLSPAIR = [[
local function tlspair(srv, cert, key)
  local ssl = require("socket.ssl")
  local _, port = srv:getsockname()
  local a = assert(socket.connect("127.0.0.1", port)); local b = assert(srv:accept())
  local tc = assert(ssl.wrap(a, {mode = "client", verify = "none"}))
  local ts = assert(ssl.wrap(b, {mode = "server", certificate = cert, key = key}))
  tc:settimeout(0); ts:settimeout(0)
  local cdone, sdone
  for _ = 1, 200 do
    cdone = cdone or tc:dohandshake()
    sdone = sdone or ts:dohandshake()
    if cdone and sdone then break end
    socket.select({tc, ts}, nil, 0.05)
  end
  assert(cdone and sdone, "TLS pair: no handshake")
  tc:settimeout(-1); ts:settimeout(-1)
  return tc, ts
end
]]

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

  it("a half-close: the other side reads everything, then nil,'closed'; the reverse direction still works #linux #unixsock", function()
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

  it("a peer that sends one byte at a time: the total timeout fires on time, the block timeout is a call deadline #linux #shell", function()
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

  -- Children run with SIGPIPE at its default disposition (`env` resets it in
  -- case this process ignores it, as ignored signals pass through exec), so
  -- a SIGPIPE kills them. The first spec shows that this check can fail.
  local function nopipe(code, ...)
    return H.childsh("env --default-signal=PIPE", code, ...):wait()
  end
  local function killedbypipe(ok, how, status)
    return not ok and ((how == "exit" and status == 128 + 13) or (how == "signal" and status == 13))
  end

  it("the SIGPIPE check can fail: a child that writes to a pipe nobody reads is killed #linux #signals", function()
    local out, ok, how, status = nopipe([[
local f = assert(io.popen("true", "w"))
socket.sleep(0.2)                          -- `true` has exited: no reader left
for _ = 1, 100 do f:write(string.rep("x", 65536)); f:flush() end
print("SURVIVED")
]])
    assert.is_true(killedbypipe(ok, how, status), ("%s %s %s: %s"):format(tostring(ok), tostring(how), tostring(status), out))
    assert.is_falsy(out:match("SURVIVED"), out)
  end)

  it("writes to a peer that has gone away never raise SIGPIPE (tcp, unix stream and dgram, udp, TLS) #linux #shell", function()
    local cert, key, cleanup = tlscert()
    local out, ok, how, status = nopipe(TLSPAIR .. [[
local unix = require("socket.unix")
local ssl = require("socket.ssl")
local cert, key, lua = arg[1], arg[2], arg[3]
local sigign
for l in io.lines("/proc/self/status") do sigign = sigign or l:match("^SigIgn:%s*(%x+)") end
print("SIGIGN " .. sigign)
-- one line per case, as it ends: a SIGPIPE shows which case it came from
local function record(name, v) print("R " .. name .. "=" .. tostring(v)) end
-- Sends until an error (at most 50 times): every answer must be a count or
-- nil and a string. Records the last answer.
local function hammer(name, c, data, send)
  c:settimeout(1)
  local n, err
  for _ = 1, 50 do
    n, err = (send or c.send)(c, data or string.rep("x", 65536))
    if not n then break end
  end
  if not n and type(err) ~= "string" then err = "NOSTRING " .. tostring(err) end
  record(name, n or err)
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
-- unix stream, peer closed
local dir = os.tmpname(); os.remove(dir); os.execute("mkdir " .. dir)
local us = unix.stream(); assert(us:bind(dir .. "/s")); assert(us:listen(1))
local uc = unix.stream(); assert(uc:connect(dir .. "/s")); local up = assert(us:accept()); up:close()
hammer("unix", uc)
-- unix dgram, connected peer closed and its path gone
local ud = unix.dgram(); assert(ud:bind(dir .. "/d"))
local udc = unix.dgram(); assert(udc:connect(dir .. "/d")); ud:close(); os.remove(dir .. "/d")
hammer("unixdgram", udc, "ping")
-- udp to a port nobody listens on: unconnected (sendto) and connected (the
-- ICMP error comes back as "connection refused" on a later call)
local gone = socket.udp4(); assert(gone:setsockname("127.0.0.1", 0))
local _, uport = gone:getsockname(); gone:close()
local uto = socket.udp4()
hammer("udpto", uto, "ping", function(u, d) return u:sendto(d, "127.0.0.1", uport) end)
local ucn = socket.udp4(); assert(ucn:setpeername("127.0.0.1", uport))
hammer("udpconn", ucn, "ping", function(u, d) socket.sleep(0.01); return u:send(d) end)
-- TLS, handshake never completed: the raw peer closed first
local c3 = assert(socket.connect("127.0.0.1", port)); local p3 = assert(s:accept())
local conn = assert(ssl.wrap(c3, {mode = "client", verify = "none"}))
p3:close()
socket.sleep(0.05)
conn:settimeout(1)
local r, e = conn:dohandshake()
record("tlshs", tostring(r) .. "/" .. tostring(e))
hammer("tlshssend", conn)
-- TLS after the handshake: the peer closes (close_notify), or resets
local tc, ts = tlspair(s, cert, key)
ts:close()
hammer("tlsclose", tc)
tc, ts = tlspair(s, cert, key)
assert(ts:setoption("linger", {on = true, timeout = 0})); ts:close()
hammer("tlsreset", tc)
-- TLS after the handshake: the peer's process exits (no close_notify)
local gfile = os.tmpname()
local g = assert(io.open(gfile, "w"))
g:write([=[
local socket = require("socket"); local ssl = require("socket.ssl")
local s = assert(socket.bind("127.0.0.1", 0)); local _, port = s:getsockname()
io.stdout:write(port, "\n"); io.stdout:flush()
s:settimeout(10); local c = assert(s:accept())
local t = assert(ssl.wrap(c, {mode = "server", certificate = arg[1], key = arg[2]}))
t:settimeout(10); assert(t:dohandshake())
io.stdout:write("HANDSHAKEN\n"); io.stdout:flush()
os.exit(0)
]=])
g:close()
local gp = assert(io.popen(("timeout 20 %s %s %s %s"):format(lua, gfile, cert, key), "r"))
local gport = tonumber(gp:read("l"))
local tx = assert(ssl.wrap(assert(socket.connect("127.0.0.1", gport)), {mode = "client", verify = "none"}))
tx:settimeout(10)
record("tlsexiths", (tx:dohandshake()))
record("peer", gp:read("l"))
gp:read("a"); gp:close()                   -- the peer has exited
os.remove(gfile)
hammer("tlsexit", tx)
os.remove(dir .. "/s"); os.remove(dir)
print("SURVIVED")
]], cert, key, H.LUA)
    cleanup()
    local o2 = out:gsub("\n", " ")
    assert.is_false(killedbypipe(ok, how, status), "killed by SIGPIPE: " .. o2)
    assert.is_true(ok, ("child died (%s %s): %s"):format(how, status, o2))
    -- SIGPIPE was not ignored in the child, even with every module loaded
    local ign = tonumber(out:match("SIGIGN (%x+)"), 16)
    assert.is_truthy(ign, o2)
    assert.are.equal(0, math.floor(ign / 4096) % 2, "SIGPIPE is ignored: " .. o2)
    local got = {}
    assert.is_truthy(out:match("SURVIVED"), o2)
    for k, v in out:gmatch("R (%w+)=([^\n]*)") do got[k] = v end
    assert.are.same({
      tcp = "closed", tcpshut = "closed", unix = "closed",
      unixdgram = "connection refused",
      udpto = "4", udpconn = "connection refused",
      tlshs = "false/unexpected eof while reading", tlshssend = "closed",   -- a FIN, no TLS: LuaSec's text
      tlsclose = "closed", tlsreset = "closed",
      tlsexiths = "true", peer = "HANDSHAKEN", tlsexit = "closed",
    }, got, o2)
  end)
end)

describe("hardening: signals during waits", function()
  -- A SIGSTOP/SIGCONT pair only interrupts waits that Linux does not restart
  -- on its own (epoll_wait yes, poll no). A caught signal interrupts every
  -- one of them, so this tiny module, compiled here, catches SIGALRM (no
  -- SA_RESTART) from an interval timer and counts the signals.
  local SIGTICK = [[
#define _DEFAULT_SOURCE
#include <signal.h>
#include <string.h>
#include <sys/time.h>
#include "lua.h"
#include "lauxlib.h"
static volatile sig_atomic_t sigtick_n;
static void sigtick_on(int s) { (void) s; sigtick_n++; }
static int sigtick_start(lua_State *L) {
  double iv = luaL_checknumber(L, 1);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = sigtick_on;
  sigemptyset(&sa.sa_mask);
  struct itimerval it;
  memset(&it, 0, sizeof it);
  it.it_interval.tv_usec = (suseconds_t) (iv * 1e6);
  it.it_value = it.it_interval;
  lua_pushboolean(L, sigaction(SIGALRM, &sa, NULL) == 0 && setitimer(ITIMER_REAL, &it, NULL) == 0);
  return 1;
}
static int sigtick_stop(lua_State *L) {
  struct itimerval it;
  memset(&it, 0, sizeof it);
  lua_pushboolean(L, setitimer(ITIMER_REAL, &it, NULL) == 0);
  return 1;
}
static int sigtick_count(lua_State *L) { lua_pushinteger(L, sigtick_n); return 1; }
int luaopen_sigtick(lua_State *L);
int luaopen_sigtick(lua_State *L) {
  static const luaL_Reg f[] = {{"start", sigtick_start}, {"stop", sigtick_stop},
                               {"count", sigtick_count}, {NULL, NULL}};
#if LUA_VERSION_NUM == 501
  luaL_register(L, "sigtick", f);
#else
  luaL_newlib(L, f);
#endif
  return 1;
}
]]
  local function sigtick(dir)
    local src = dir .. "/sigtick.c"
    local f = assert(io.open(src, "w")); f:write(SIGTICK); f:close()
    -- the headers of the interpreter under test (mk/versions.mk)
    local root = assert(os.getenv("NETSOCKET_BUILD")):gsub("/+$", ""):gsub("/[^/]+$", "")
    local name = rawget(_G, "jit") and "luajit" or ("lua" .. _VERSION:match("%d+%.%d+"))
    local cflags, made = H.sh(("env -u MAKEFLAGS -u MAKELEVEL make -s --no-print-directory -C %s lua-cflags LUA=%s")
      :format(q(root), name))
    assert(made, cflags)
    cflags = cflags:gsub("\n", " ")
    local out, ok = H.sh(("%s -shared -fPIC %s -o %s %s"):format(os.getenv("CC") or "cc", cflags,
      q(dir .. "/sigtick.so"), q(src)))
    assert(ok, out)
    return dir .. "/sigtick.so"
  end

  -- The child waits in each kind of wait with a timeout of arg[1] s while
  -- signals arrive (arg[2]: "-" when the shell stops and continues it, else
  -- the sigtick module, which it starts once everything is set up). Each
  -- wait prints name|pcall ok|result|error|seconds|signals caught during it.
  local CHILD = [[
local T, tickpath, cert, key = tonumber(arg[1]), arg[2], arg[3], arg[4]
local ssl = require("socket.ssl")
local co = require("socket.co")
local dns = require("socket.dns")
local dir = os.tmpname(); os.remove(dir); os.execute("mkdir " .. dir)
local srv = assert(socket.bind("127.0.0.1", 0)); local _, port = srv:getsockname()
local c = assert(socket.connect("127.0.0.1", port)); local p = assert(srv:accept())
local u = socket.udp4(); assert(u:setsockname("127.0.0.1", 0))
local us = unix.stream(); assert(us:bind(dir .. "/s")); assert(us:listen(1))
local uc = unix.stream(); assert(uc:connect(dir .. "/s")); local up = assert(us:accept())
local poller = socket.poller(); poller:set(c, "r")
-- TLS: a listener that accepts one raw client and never reads; a second
-- client stays in its backlog, unanswered
local quiet = assert(socket.bind("127.0.0.1", 0)); local _, qport = quiet:getsockname()
local raw = assert(socket.connect("127.0.0.1", qport))
local hs_server = assert(ssl.wrap(assert(quiet:accept()), {mode = "server", certificate = cert, key = key}))
local hs_client = assert(ssl.wrap(assert(socket.connect("127.0.0.1", qport)), {mode = "client", verify = "none"}))
-- an established TLS pair whose server side never writes
local tls_c, tls_s = tlspair(srv, cert, key)
-- a sender whose peer does not read, with small buffers
local sa = assert(socket.connect("127.0.0.1", port)); local sb = assert(srv:accept())
assert(sa:setoption("send-buffer-size", 8192)); assert(sb:setoption("recv-buffer-size", 8192))
local big = string.rep("x", 8 * 1024 * 1024)
-- a listener with a full backlog (nothing accepts): a new connect stays pending
local full = socket.tcp4(); assert(full:bind("127.0.0.1", 0)); assert(full:listen(0))
local _, fport = full:getsockname()
local filler = assert(socket.connect("127.0.0.1", fport))
local cw = socket.tcp4()

local tick = { count = function() return 0 end, stop = function() end }
if tickpath ~= "-" then tick = assert(package.loadlib(tickpath, "luaopen_sigtick"))() end
-- Resolves "localhost" and "127.0.0.1" in turn for T s, each lookup waited
-- on with wait(5): every one must answer 127.0.0.1. The lookups are too fast
-- to time out, so this shows the waits finish correctly under signals.
-- Returns "success", the address, and lookups/lookups hit by a signal.
local function lookups()
  local n, hit, t0 = 0, 0, socket.gettime()
  repeat
    local a = dns.resolve(n % 2 == 0 and "localhost" or "127.0.0.1", "inet")
    local s0 = tick.count()
    local st, err = a:wait(5)
    if tick.count() > s0 then hit = hit + 1 end
    local ip = a:getip()
    a:close()
    n = n + 1
    if st ~= "success" or ip ~= "127.0.0.1" then return st, tostring(err) .. "/" .. tostring(ip) end
  until socket.gettime() - t0 >= T
  return "success", "127.0.0.1", n .. "/" .. hit
end
local waits = {
  {"tcp receive", function() c:settimeout(T); return c:receive(10) end},
  {"tcp receive *l", function() c:settimeout(T, "t"); local r, e = c:receive("*l"); c:settimeout(-1, "t"); return r, e end},
  {"tcp receivesome", function() c:settimeout(-1); return c:receivesome(10, T) end},
  {"tcp accept", function() srv:settimeout(T); return srv:accept() end},
  {"tcp send", function() sa:settimeout(T); local n, e = sa:send(big); return n, e end},
  {"tcp connect", function() cw:settimeout(T); return cw:connect("127.0.0.1", fport) end},
  {"udp receive", function() u:settimeout(T); return u:receive() end},
  {"udp receivefrom", function() u:settimeout(T); return u:receivefrom() end},
  {"unix receive", function() uc:settimeout(T); return uc:receive(10) end},
  {"unix accept", function() us:settimeout(T); return us:accept() end},
  {"tls client handshake", function() hs_client:settimeout(T); return hs_client:dohandshake() end},
  {"tls server handshake", function() hs_server:settimeout(T); return hs_server:dohandshake() end},
  {"tls receive", function() tls_c:settimeout(T); return tls_c:receive(10) end},
  {"dns wait", lookups},
  {"select", function()
    local r, w, e = socket.select({c, u, srv}, nil, T)
    if #r == 0 then return nil, e end
    return "ready", e
  end},
  {"poller wait", function()
    local n, e = poller:wait(T)
    if n == 0 then return nil, "timeout" end
    return n, e
  end},
  {"sleep", function() socket.sleep(T); return nil, "timeout" end},
  {"co task receive", function()
    local r, e
    co.spawn(function() c:settimeout(T); r, e = c:receive(10) end)
    co.run(5)
    return r, e
  end},
  {"co dns wait", function()
    local r, e, x
    co.spawn(function() r, e, x = lookups() end)
    co.run(5)
    return r, e, x
  end},
  {"co sleep", function() co.spawn(function() socket.sleep(T) end); co.run(5); return nil, "timeout" end},
}
if tickpath ~= "-" then assert(tick.start(0.002)) end
print("READY")
for _, w in ipairs(waits) do
  local s0 = tick.count()
  local t0 = socket.gettime()
  local ok, r, e, x = pcall(w[2])
  local dt = socket.gettime() - t0
  print(("WAIT %s|%s|%s|%s|%.3f|%d|%s"):format(w[1], tostring(ok), tostring(r), tostring(e), dt,
    tick.count() - s0, tostring(x)))
end
tick.stop()
os.remove(dir .. "/s"); os.remove(dir)
print("END")
]]

  -- What each wait must give; a timeout otherwise.
  local EXPECT = {
    ["tls client handshake"] = { "false", "wantread" },
    ["tls server handshake"] = { "false", "wantread" },
    ["tls receive"] = { "nil", "wantread" },
    ["dns wait"] = { "success", "127.0.0.1" },
    ["co dns wait"] = { "success", "127.0.0.1" },
  }
  local T, NWAITS = 0.5, 20

  -- Runs CHILD through the shell command wrap(cmd) (which must echo "EXIT
  -- <status>"); checks every wait. minsigs: signals each wait must have caught.
  local function run(wrap, tickpath, minsigs)
    local cert, key, cleanup = tlscert()
    local child = script(TLSPAIR .. CHILD)
    local cmd = wrap(("%s %s %s %s %s %s > %s.out 2>&1")
      :format(H.LUA, q(child), T, q(tickpath), q(cert), q(key), q(child)))
      .. "; cat " .. q(child .. ".out")
    local out = H.sh(cmd)
    os.remove(child); os.remove(child .. ".out"); cleanup()
    assert.is_truthy(out:match("EXIT 0"), out)
    assert.is_truthy(out:match("END"), out)
    local bad, n = {}, 0
    for name, ok, r, e, dt, sigs, x in out:gmatch("WAIT ([^|]+)|([^|]+)|([^|]+)|([^|]+)|([%d.]+)|(%d+)|([^\n]*)") do
      n = n + 1
      dt, sigs = tonumber(dt), tonumber(sigs)
      local want = EXPECT[name] or { "nil", "timeout" }
      if ok ~= "true" or r ~= want[1] or e ~= want[2] or dt < T - 0.02 or dt > T + 0.8 or sigs < minsigs then
        bad[#bad + 1] = ("%s: ok=%s r=%s err=%s after %.3f s, %d signals (%s)"):format(name, ok, r, e, dt, sigs, x)
      end
      if name:match("dns") then
        -- every lookup answered; under the timer, signals landed inside some waits
        local looked, hit = x:match("^(%d+)/(%d+)$")
        if not looked or tonumber(looked) < 1 or (minsigs > 0 and tonumber(hit) < 1) then
          bad[#bad + 1] = name .. ": lookups/hit by a signal " .. x
        end
      end
    end
    assert.are.equal(NWAITS, n, out)
    assert.are.same({}, bad, "\n  " .. table.concat(bad, "\n  "))
  end

  -- The shell stops and continues the child every ~35 ms (epoll_wait fails
  -- with EINTR after that even without a handler). EINTR must not surface
  -- and each timeout must end on time. The loop ends after 600 rounds (over
  -- 20 s), and then so does the child.
  it("stop/continue: EINTR never surfaces and never shortens or lengthens a timeout (" .. NWAITS .. " kinds of wait) #linux #signals", function()
    run(function(cmd)
      return ("%s & c=$!; i=0; "
        .. "while kill -0 $c 2>/dev/null && [ $i -lt 600 ]; do "
        .. "kill -STOP $c 2>/dev/null; sleep 0.005; kill -CONT $c 2>/dev/null; sleep 0.03; i=$((i+1)); done; "
        .. "kill -CONT $c 2>/dev/null; kill -KILL $c 2>/dev/null; wait $c; echo \"EXIT $?\""):format(cmd)
    end, "-", 0)
  end)

  -- A SIGALRM handler runs every 2 ms: every poll, epoll_wait and nanosleep
  -- fails with EINTR many times per wait.
  it("a caught SIGALRM every 2 ms: EINTR never surfaces and never shortens or lengthens a timeout ("
      .. NWAITS .. " kinds of wait) #linux #signals", function()
    local dir = os.tmpname(); os.remove(dir); assert(os.execute("mkdir " .. q(dir)))
    local ok, err = pcall(run, function(cmd) return "timeout 40 " .. cmd .. "; echo \"EXIT $?\"" end, sigtick(dir), 10)
    H.sh("rm -rf " .. q(dir))
    if not ok then error(err, 0) end
  end)
end)

describe("hardening: descriptor exhaustion (ulimit -n 64)", function()
  it("creation, connect, accept and dns.resolve fail softly, nothing crashes, and service resumes #linux #limits", function()
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
