-- Issue 7: objects used after they died. Every method of every class (the
-- lists come from the metatables in the registry) is called on an object
-- that was closed, emptied by setfd(-1), wrapped by TLS, stopped with
-- stoptls, finalized by an explicit __gc, or finalized by the collector
-- and then brought back by another finalizer. The calls run in a child
-- process (useafter_child.lua, in a temp dir): a crash names the call.
-- The rules: a dead object answers softly ("closed" for anything that does
-- I/O), and raises only where the same call on a live object raises too.
local socket = require("socket")
local H = require("helper")

local HERE = debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or "spec/hardening"
local function q(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

-- Methods that do I/O or report the connection: dead, they answer
-- nil/false/"failure" with "closed".
local CLOSED = {}
for name in ([[accept acceptnossl dohandshake drain exportkeyingmaterial foreachaccept
  getlocalcertificate getlocalchain getpeercertificate getpeerchain getpeercred getpeerverification
  getpending getstatus get_status info receive receivefrom receivesome send sendsome sendto setdane
  settlsa sni starttls stoptls wait wait_until_resolved waitconnected]]):gmatch("%S+") do
  CLOSED[name] = true
end

-- Raises that a live object does not give, by contract.
local RAISES = {
  -- a closed poller raises on set and wait, and so does poller:set with a
  -- closed socket (co_spec: "wrong arguments raise, naming the argument")
  ["poller set"] = "poller is closed", ["poller wait"] = "poller is closed",
  -- and so do socket.co's own methods
  ["poller _add"] = "poller is closed", ["poller _remove"] = "poller is closed",
  ["poller _collect"] = "poller is closed", ["poller _take"] = "poller is closed",
  ["(poller)"] = "bad argument #1 to 'set' (closed or invalid descriptor)",
  -- a released context is no context: LuaSec's "invalid context"
  ["ssl{context} (wrap)"] = "(invalid context)", ["ssl{context} (setssl)"] = "(invalid context)",
}

local result
local function run()
  if result then return result end
  local tmp = os.tmpname()
  os.remove(tmp)
  assert(os.execute("mkdir -p " .. q(tmp)))
  local out, ok = H.sh(("cd %s && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
    .. "-keyout key.pem -out cert.pem -days 2 -subj /CN=localhost"):format(q(tmp)))
  assert(ok, out)
  local t0 = socket.gettime()
  out = H.sh(("h=$(cd %s && pwd); cd %s || exit 1; timeout 300 %s \"$h\"/useafter_child.lua %s %s; echo \"EXIT $?\"")
    :format(q(HERE), q(tmp), H.LUA, q(tmp .. "/cert.pem"), q(tmp .. "/key.pem")))
  local r = { seconds = socket.gettime() - t0, out = out, rows = {}, live = {} }
  H.sh("rm -rf " .. q(tmp))
  for line in out:gmatch("[^\n]+") do
    local label, m, how, msg = line:match("^L (%S+) (%S+) (%a+) ?(.*)$")
    if label then r.live[label .. " " .. m] = { how = how, msg = msg } end
    local l2, scen, m2, outcome, a, b = line:match("^R (%S+) (%S+) (%S+) (%a+) ?([^|]*)|?(.*)$")
    if l2 then
      r.rows[#r.rows + 1] = { label = l2, scen = scen, m = m2, outcome = outcome, a = a, b = b }
    end
    local s, e = line:match("^FDS (%d+) (%d+)$")
    if s then r.fds = { tonumber(s), tonumber(e) } end
    if line == "END" then r.done = true end
    if line:match("^CALL ") then r.last = line end
  end
  r.exit = out:match("EXIT (%d+)")
  result = r
  return r
end

local function rowname(row)
  return ("%s %s %s -> %s %s|%s"):format(row.label, row.scen, row.m, row.outcome, row.a, row.b)
end

-- "path:line: " prefixes differ between the live and the dead call sites.
local function bare(msg)
  return (msg:gsub("^[^%s:]+:%d+: ", ""))
end

describe("hardening: use after close, setfd(-1), TLS wrap, stoptls and GC #linux #shell", function()
  it("never crashes or hangs, whatever method is called on a dead object", function()
    local r = run()
    assert.is_true(r.done and r.exit == "0",
      ("child ended (exit %s) at %s:\n%s"):format(tostring(r.exit), tostring(r.last), r.out:sub(-1500)))
    print(("\n[useafter] %d calls on dead objects, %d on live ones, %.1f s")
      :format(#r.rows, (function() local n = 0 for _ in pairs(r.live) do n = n + 1 end return n end)(), r.seconds))
  end)

  it("covers every class, and every way to die that the class has", function()
    local r = run()
    local seen = {}
    for _, row in ipairs(r.rows) do seen[row.label .. " " .. row.scen] = true end
    local want = {}
    for _, class in ipairs({ "tcp{master}", "tcp{server}", "udp{unconnected}", "udp{connected}", "unixstream{master}",
      "unixstream{server}", "unixdgram{unconnected}", "unixdgram{connected}" }) do
      for _, scen in ipairs({ "close", "setfd", "gc", "collected" }) do want[#want + 1] = class .. " " .. scen end
    end
    for _, class in ipairs({ "tcp{client}", "unixstream{client}" }) do
      for _, scen in ipairs({ "close", "setfd", "wrapped", "gc", "collected" }) do want[#want + 1] = class .. " " .. scen end
    end
    for _, class in ipairs({ "dns{address}", "dns{address}/resolving", "poller", "signal" }) do
      for _, scen in ipairs({ "close", "gc", "collected" }) do want[#want + 1] = class .. " " .. scen end
    end
    if pcall(require, "socket.ssl") then
      for _, k in ipairs({ "ssl{connection} close", "ssl{connection} stoptls", "ssl{connection} gc",
        "ssl{connection} collected", "ssl{context} gc", "ssl{context} collected", "ssl{x509} orphan",
        "ssl{x509} gc", "ssl{x509} collected" }) do
        want[#want + 1] = k
      end
    end
    local missing = {}
    for _, k in ipairs(want) do if not seen[k] then missing[#missing + 1] = k end end
    assert.are.same({}, missing)
    assert.is_true(#r.rows > 1500, #r.rows .. " calls")
  end)

  it("raises only where the same call on a live object raises the same error", function()
    local r = run()
    local bad = {}
    for _, row in ipairs(r.rows) do
      if row.outcome == "raise" then
        local key = row.label .. " " .. row.m
        local live = r.live[key]
        local allowed = RAISES[key] or RAISES[row.m]
        local same = live and live.how == "raise" and bare(live.msg) == bare(row.a)
        if not same and not (allowed and row.a:find(allowed, 1, true)) then bad[#bad + 1] = rowname(row) end
      end
    end
    assert.are.same({}, bad)
  end)

  it("answers 'closed' from every method that does I/O", function()
    local r = run()
    local bad, n = {}, 0
    for _, row in ipairs(r.rows) do
      local x509 = row.label == "ssl{x509}" and row.scen ~= "orphan" and row.m ~= "(tostring)"
      local ctx = row.label == "ssl{context}" and row.m == "setverifyext"
      if (CLOSED[row.m] or x509 or ctx) and row.outcome ~= "raise" then
        n = n + 1
        if row.outcome ~= "fail" or row.b ~= "closed" then bad[#bad + 1] = rowname(row) end
      end
    end
    assert.are.same({}, bad)
    assert.is_true(n > 250, n .. " calls checked")
  end)

  it("a dead socket has no descriptor, is never dirty, and select finds it ready for nothing", function()
    local r = run()
    local bad, n = {}, 0
    for _, row in ipairs(r.rows) do
      local want = ({ getfd = "value -1", dirty = "fail false", ["(select)"] = "value 0" })[row.m]
      -- a certificate outlives its conn: it is not dead
      if want and row.label ~= "ssl{x509}" then
        n = n + 1
        if row.outcome .. " " .. row.a ~= want then bad[#bad + 1] = rowname(row) .. " (want " .. want .. ")" end
      end
    end
    assert.are.same({}, bad)
    assert.is_true(n > 150, n .. " calls checked")
  end)

  it("a certificate outlives its closed and collected conn", function()
    local r = run()
    local bad, n = {}, 0
    for _, row in ipairs(r.rows) do
      if row.label == "ssl{x509}" and row.scen == "orphan" then
        n = n + 1
        if row.outcome ~= "value" then bad[#bad + 1] = rowname(row) end
      end
    end
    if pcall(require, "socket.ssl") then assert.are.equal(14, n) end
    assert.are.same({}, bad)
  end)

  it("leaves no descriptor behind", function()
    local r = run()
    assert.is_truthy(r.fds, r.out:sub(-500))
    assert.is_true(r.fds[2] <= r.fds[1], ("fds: %d at start, %d at the end"):format(r.fds[1], r.fds[2]))
  end)
end)

describe("hardening: released without the debug library (<close>) #linux #shell", function()
  local ssl
  local cert
  setup(function()
    local ok, m = pcall(require, "socket.ssl")
    if not ok then return end
    ssl = m
    cert = os.tmpname()
    local out, ok2 = H.sh(("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
      .. "-keyout %s.key -out %s -days 2 -subj /CN=localhost"):format(q(cert), q(cert)))
    assert(ok2, out)
  end)
  teardown(function()
    if cert then os.remove(cert); os.remove(cert .. ".key") end
  end)

  it("a certificate closed by <close> answers nil,'closed'; as an argument it is misuse", function()
    if not ssl then return pending("socket.ssl not built") end
    local pem = assert(io.open(cert)):read("a")
    local kept
    H.closing(function(c) kept = c end, assert(ssl.loadcertificate(pem)))
    local live = assert(ssl.loadcertificate(pem))
    for _, m in ipairs({ "digest", "pem", "subject", "issuer", "serial", "notbefore", "notafter", "pubkey",
      "extensions", "getsignaturename", "validat", "setencode", "issued" }) do
      local args = ({ validat = { os.time() }, setencode = { "utf8" }, issued = { live } })[m] or {}
      assert.are.same({ nil, "closed" }, { kept[m](kept, table.unpack(args)) }, m)
    end
    H.raising(function() return live:issued(kept) end, "bad argument #1", "certificate is closed")
    assert.is_true(kept == kept)
    assert.is_false(kept == live)
    assert.is_true(live:issued(live))
  end)

  it("contexts closed by <close>: their conns still handshake; new conns and servers refuse them", function()
    if not ssl then return pending("socket.ssl not built") end
    local S = require("ssl_helper")
    local c, p = S.tcppair("127.0.0.1")
    local cc, pp
    local cctx = assert(ssl.newcontext({ mode = "client", verify = "none" }))
    H.closing(function(sctx)
      cc, pp = assert(ssl.wrap(c, cctx)), assert(ssl.wrap(p, sctx))
    end, assert(ssl.newcontext({ mode = "server", certificate = cert, key = cert .. ".key" })), cctx)
    assert.are.same({ nil, nil }, { S.handshake(cc, pp) })
    assert.are.equal(6, (cc:send("hello\n")))
    assert.are.equal("hello", (pp:receive()))
    cc:close()
    pp:close()
    assert.are.same({ nil, "closed" }, { cctx:setverifyext("crl_check") })
    local c2, p2 = S.tcppair("127.0.0.1")
    H.raising(function() return ssl.wrap(c2, cctx) end, "invalid context")
    local srv = assert(socket.bind("127.0.0.1", 0))
    H.raising(function() return srv:setssl(cctx) end, "bad argument #2 to 'setssl' (invalid context)")
    c2:close(); p2:close(); srv:close()
  end)
end)

describe("hardening: a poller that still holds dead sockets", function()
  it("a socket collected while registered leaves no stale event; its fd number is registered afresh", function()
    local p = socket.poller()
    local srv, port = H.server()
    do
      local c = assert(socket.connect("127.0.0.1", port))
      assert.are.equal(1, p:set(c, "rw"))
      local n = p:wait(1)
      assert.are.equal(1, n)              -- writable: the registration works
    end
    collectgarbage("collect")
    collectgarbage("collect")                -- the client's __gc closed its fd
    local n0 = p:wait(0)
    assert.are.equal(0, n0)
    -- a new socket most likely gets the same fd number: it is not registered
    local u = socket.udp4()
    assert(u:setsockname("127.0.0.1", 0))
    local n1 = p:wait(0)
    assert.are.equal(0, n1)
    assert.are.equal(1, p:set(u, "w"))
    local n2, out = p:wait(1)
    assert.are.equal(1, n2)
    assert.are.equal(u:getfd(), out[1])
    u:close(); srv:close(); p:close()
  end)
end)
