-- Child process of useafter_spec.lua (not a spec itself).
--   lua useafter_child.lua <certpem> <keypem>      (run inside a temp dir)
-- For every class in the registry and every way an object can be "dead"
-- (closed, setfd(-1), wrapped by TLS, __gc run explicitly, __gc run by the
-- collector and then resurrected by another finalizer, ...), calls every
-- method of the class's metatable on a fresh dead object, and once on a
-- fresh live object for comparison. Before each call a CALL line names it
-- (so the parent can name a call that crashed). One line per call:
--   R <class> <scenario> <method> <outcome> <first value>|<second value>
--   L <class> <method> <raise|ok> <message>          (the live call)
-- outcome: raise | fail (nil/false/"failure" first) | value | none (no values)
-- and at the end: FDS <at start> <at end>, then END.
local CERT, KEY = arg[1], arg[2]
local socket = require("socket")
local dns = require("socket.dns")
local S = require("ssl_helper")
local hasssl, ssl = pcall(require, "socket.ssl")
io.stdout:setvbuf("line")

local fds = require("helper").fdcount

-- Peers, servers and conns that keep the current object's state alive;
-- closed after each call.
local keep = {}
local function hold(o) keep[#keep + 1] = o return o end
local function release()
  for i = #keep, 1, -1 do
    pcall(keep[i].close, keep[i])
    keep[i] = nil
  end
end

local seq = 0
local function path()
  seq = seq + 1
  return "s" .. seq              -- relative: the child runs in its temp dir
end
local HERE = debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or "."
local OBJECTS = dofile(HERE .. "/objects.lua")
local closedport = OBJECTS.closedport()

local CPARAMS = { mode = "client", verify = "none" }
local SPARAMS = { mode = "server", certificate = CERT, key = KEY }

local function tcpclient()
  local c, p = S.tcppair("127.0.0.1")
  hold(p)
  return c
end

-- A TLS client conn whose handshake is complete (its context referenced by
-- the conn alone); its peer is held, and is also `tlspeer` until the next.
local tlspeer
local function tlsclient()
  local c, p = S.tcppair("127.0.0.1")
  local cc = assert(ssl.wrap(c, { mode = "client", verify = "none" }))
  local pp = hold(assert(ssl.wrap(p, SPARAMS)))
  local cerr, perr = S.handshake(cc, pp)
  assert(not cerr and not perr, tostring(cerr or perr))
  tlspeer = pp
  return cc
end

-- Makers: a fresh live object of each class.
local MAKE = OBJECTS.makers({ path = path, hold = hold, client = tcpclient, closedport = closedport })
for class, make in pairs({
  ["dns{address}"] = function()
    local a = dns.resolve("localhost"); assert(a:wait(5) == "success"); return a
  end,
  ["poller"] = function()
    local p = socket.poller(); assert(p:set(hold(socket.udp4()), "r")); return p
  end,
  ["signal"] = function() return assert(socket.signal("INT")) end,
}) do MAKE[class] = make end
if hasssl then
  MAKE["ssl{connection}"] = tlsclient
  MAKE["ssl{context}"] = function() return assert(ssl.newcontext(SPARAMS)) end
  -- a peer certificate: its X509 comes from the conn's SSL
  MAKE["ssl{x509}"] = function() return assert(hold(tlsclient()):getpeercertificate()) end
end
-- A resolve still in progress when the object dies (the worker thread
-- finishes afterwards). Same class, other maker.
local VARIANT = {
  ["dns{address}/resolving"] = { class = "dns{address}", make = function() return dns.resolve("localhost") end },
}

-- Valid arguments after self for each method (timeouts 0: nothing waits).
local function kind(class)
  return class:match("^(%a+)")
end
local ARGS = {
  bind = function(k) if k:match("^unix") then return path() end return "127.0.0.1", 0 end,
  connect = function(k) if k:match("^unix") then return "nonexistent" end return "127.0.0.1", closedport end,
  drain = function() return 0 end,
  foreachaccept = function() return function() return false end end,
  getlocalcertificate = function() return 1 end,
  getoption = function(k) if k == "unixdgram" then return "reuseaddr" end return "linger" end,
  getpeercertificate = function() return 1 end,
  info = function() return "cipher" end,
  listen = function() return 5 end,
  exportkeyingmaterial = function() return "EXPORTER-test", 16 end,
  receive = function(k) if k == "tcp" or k == "unixstream" or k == "ssl" then return 1 end return 10 end,
  receivefrom = function() return 10 end,
  receivesome = function() return 10, 0 end,
  send = function() return "x" end,
  sendsome = function() return "x" end,
  sendto = function(k) if k == "unixdgram" then return "x", "nonexistent" end return "x", "127.0.0.1", closedport end,
  set = function() return hold(socket.udp4()), "r" end,
  setdane = function() return "localhost" end,
  setencode = function() return "utf8" end,
  setfd = function() return -1 end,
  setoption = function(k) if k == "unixdgram" then return "reuseaddr", true end return "linger", { on = false, timeout = 0 } end,
  setstats = function() return 0, 0, 0 end,
  setssl = function() return CPARAMS end,
  settimeout = function() return 0 end,
  settlsa = function() return 3, 1, 1, "00" end,
  setverifyext = function() return "lsec_continue", "crl_check" end,
  shutdown = function() return "both" end,
  sni = function() return "localhost" end,
  starttls = function() return CPARAMS, 0 end,
  stoptls = function() return 0 end,
  validat = function() return os.time() end,
  wait = function() return 0 end,
  waitconnected = function() return 0 end,
  wait_until_resolved = function() return 0 end,
  digest = function() return "sha256" end,
  issued = function() return assert(ssl.loadcertificate(assert(io.open(CERT)):read("a"))) end,
}
ARGS.setpeername, ARGS.setsockname = ARGS.connect, ARGS.bind

-- Ways to kill an object. Each returns the dead object (maybe another
-- reference) and a cleanup that releases whatever it still holds.
local function explicitgc(o)
  debug.getmetatable(o).__gc(o)
  return o, function() pcall(o.close, o) end
end
-- The collector runs o's finalizer, then a finalizer of an older object
-- brings o back: __gc has run and the object is still reachable.
local function resurrect(make)
  local back = {}
  local holder
  local newproxy = rawget(_G, "newproxy")
  if newproxy then             -- 5.1, LuaJIT: no __gc on tables; a userdata holds o
    local slot = {}
    holder = newproxy(true)
    getmetatable(holder).__gc = function() back.o = slot.o end
    slot.o = make()            -- created after holder: finalized first (reverse order)
  else
    holder = setmetatable({}, { __gc = function(h) back.o = h.o end })
    holder.o = make()          -- marked for finalization after holder: finalized first
  end
  holder = nil                 -- luacheck: ignore 311 (drops the only reference)
  collectgarbage("collect")
  collectgarbage("collect")
  local o = assert(back.o, "the finalizer did not run")
  return o, function() pcall(o.close, o) end
end
local SCEN = {
  close = function(o)
    o:close()
    return o, function() end
  end,
  setfd = function(o)
    local fd = o:getfd()
    o:setfd(-1)
    return o, function() o:close(); o:setfd(fd); o:close() end
  end,
  wrapped = function(o)
    local conn = assert(ssl.wrap(o, CPARAMS))
    return o, function() conn:close(); o:close() end
  end,
  stoptls = function(o)
    tlspeer:stoptls(0)         -- the peer's close_notify goes first: ours completes at once
    local plain = assert(o:stoptls(1))
    return o, function() o:close(); plain:close() end
  end,
  gc = explicitgc,
  collected = "resurrect",     -- handled by run() (needs the maker)
  orphan = function(o)         -- an x509 whose conn is closed and collected
    for i = #keep, 1, -1 do pcall(keep[i].close, keep[i]); keep[i] = nil end
    collectgarbage("collect")
    collectgarbage("collect")
    return o, function() end
  end,
}
local SCENARIOS = {
  ["tcp{master}"] = { "close", "setfd", "gc", "collected" },
  ["tcp{client}"] = { "close", "setfd", "wrapped", "gc", "collected" },
  ["tcp{server}"] = { "close", "setfd", "gc", "collected" },
  ["udp{unconnected}"] = { "close", "setfd", "gc", "collected" },
  ["udp{connected}"] = { "close", "setfd", "gc", "collected" },
  ["unixstream{master}"] = { "close", "setfd", "gc", "collected" },
  ["unixstream{server}"] = { "close", "setfd", "gc", "collected" },
  ["unixstream{client}"] = { "close", "setfd", "wrapped", "gc", "collected" },
  ["unixdgram{unconnected}"] = { "close", "setfd", "gc", "collected" },
  ["unixdgram{connected}"] = { "close", "setfd", "gc", "collected" },
  ["dns{address}"] = { "close", "gc", "collected" },
  ["dns{address}/resolving"] = { "close", "gc", "collected" },
  ["poller"] = { "close", "gc", "collected" },
  ["signal"] = { "close", "gc", "collected" },
  ["ssl{connection}"] = { "close", "stoptls", "gc", "collected" },
  ["ssl{context}"] = { "gc", "collected" },
  ["ssl{x509}"] = { "orphan", "gc", "collected" },
}

local function show(v)
  if type(v) == "string" then return (v:gsub(": 0x%x+", ""):gsub("[%c|]", "."):sub(1, 160)) end
  if type(v) == "userdata" or type(v) == "table" then
    return (tostring(v):gsub(": 0x%x+", ""):gsub("[%c|]", "."))
  end
  return tostring(v)
end
local function outcome(ok, ...)
  local n = select("#", ...)
  local a, b = ...
  if not ok then return "raise", show(a), "" end
  if n == 0 then return "none", "", "" end
  if a == nil or a == false or a == "failure" then return "fail", show(a), show(b) end
  return "value", show(a), show(b)
end

-- A shared poller the dead objects are offered to (a set still holding them).
local watcher = socket.poller()

-- Calls: every method, then tostring, select, poller:set and a final close.
local function calls(class)
  local mt = debug.getregistry()[class]
  local list = {}
  for name, f in pairs(mt.__index) do
    if type(f) == "function" then list[#list + 1] = name end
  end
  table.sort(list)
  if mt.__index.getfd then
    list[#list + 1] = "(select)"
    list[#list + 1] = "(poller)"
  end
  if class == "ssl{context}" then          -- a dead context given to a new conn or server
    list[#list + 1] = "(wrap)"
    list[#list + 1] = "(setssl)"
  end
  list[#list + 1] = "(tostring)"
  return list, mt
end
local function invoke(o, mt, name, k)
  if name == "(tostring)" then return pcall(tostring, o) end
  if name == "(select)" then
    return pcall(function()
      local r, w = socket.select({ o }, { o }, 0)
      return #r + #w
    end)
  end
  if name == "(poller)" then
    return pcall(function()
      local ok, err = watcher:set(o, "rw")
      local n = watcher:wait(0)
      watcher:set(o, "")
      return ok, err, n
    end)
  end
  if name == "(wrap)" then
    return pcall(function()
      local c, p = S.tcppair("127.0.0.1")
      hold(c); hold(p)
      local conn, err = ssl.wrap(c, o)
      if conn then hold(conn); conn:settimeout(0); return conn:dohandshake() end
      return conn, err
    end)
  end
  if name == "(setssl)" then
    return pcall(function()
      local srv = hold(assert(socket.bind("127.0.0.1", 0)))
      local ok, err = srv:setssl(o)
      if not ok then return ok, err end
      local _, port = srv:getsockname()
      hold(assert(socket.connect("127.0.0.1", port)))
      srv:settimeout(0.1)
      return srv:accept()
    end)
  end
  local f = mt.__index[name]
  local a = table.pack((ARGS[name] or function() end)(k))
  return pcall(f, o, table.unpack(a, 1, a.n))
end

local start = fds()
local names = {}
for name in pairs(MAKE) do names[#names + 1] = name end
for name in pairs(VARIANT) do names[#names + 1] = name end
table.sort(names)
for _, label in ipairs(names) do
  local class = VARIANT[label] and VARIANT[label].class or label
  local make = VARIANT[label] and VARIANT[label].make or MAKE[label]
  local k = kind(class)
  local list, mt = calls(class)
  for _, m in ipairs(list) do
    if m ~= "foreachaccept" or not class:match("server") then   -- a live server's loops for ever
      print(("CALL live %s %s"):format(label, m))
      local o = make()
      if o.settimeout then o:settimeout(0) end
      local fd = o.getfd and o:getfd()
      local ok, msg = invoke(o, mt, m, k)
      if m == "setfd" then o:setfd(fd) end      -- setfd(-1) lets go of the fd without closing it
      print(("L %s %s %s %s"):format(label, m, ok and "ok" or "raise", ok and "" or show(msg)))
      pcall(o.close, o)
      release()
    end
  end
  for _, scen in ipairs(SCENARIOS[label]) do
    for _, m in ipairs(list) do
      print(("CALL %s %s %s"):format(label, scen, m))
      local o, cleanup
      if scen == "collected" then
        o, cleanup = resurrect(make)
      else
        local live = make()
        if live.settimeout then live:settimeout(0) end
        o, cleanup = SCEN[scen](live)
      end
      if o.settimeout then pcall(o.settimeout, o, 0) end
      local out, a, b = outcome(invoke(o, mt, m, k))
      print(("R %s %s %s %s %s|%s"):format(label, scen, m, out, a, b))
      cleanup()
      release()
    end
  end
  collectgarbage("collect")
end
watcher:close()
collectgarbage("collect")
collectgarbage("collect")
print(("FDS %d %d"):format(start, fds()))
print("END")
