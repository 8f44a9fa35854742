-- Child process of wrongtypes_spec.lua (not a spec itself).
--   lua wrongtypes_child.lua <start> <progressfile> <tmpdir> <certpem>
-- Enumerates every public function and every method of every netsocket
-- class (deterministic order), and calls each with each argument position
-- replaced by a value of a wrong type (or an absurd number). Before a call
-- its id and description go to <progressfile>, so the parent can name the
-- call that crashed or hung and restart after it. One line per finding:
--   BAD <id> <desc> :: <message>       raised without naming an argument
--   NUM <id> <desc> :: <message>       names argument #N, but not the one replaced
-- and at the end: DONE <calls made> <calls skipped>
local START, PROGRESS, TMP, CERT, RUN = tonumber(arg[1]), arg[2], arg[3], arg[4], arg[5]

local socket = require("socket")
require("socket.unix")     -- loaded so that the API list can reach it
local dns = require("socket.dns")
require("socket.pipe")   -- loaded so that the API list can reach it
require("socket.co")
local hasssl, ssl = pcall(require, "socket.ssl")

io.stdout:setvbuf("line")
local prog = assert(io.open(PROGRESS, "r+"))
local function progress(id, desc)
  prog:seek("set")
  local line = ("%d\t%s"):format(id, desc)
  prog:write(line, string.rep(" ", 300 - #line), "\n")
  prog:flush()
end

----------------------------------------------------------------------------
-- The API list: baseline (valid) arguments for every function and method.
-- Each entry is a function returning the valid arguments (fresh each call).
----------------------------------------------------------------------------
local seq = 0
local function path()
  seq = seq + 1
  return TMP .. "/s" .. RUN .. "_" .. seq
end
local HERE = debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or "."
local OBJECTS = dofile(HERE .. "/objects.lua")
local closedport = OBJECTS.closedport()
local pem = assert(io.open(CERT)):read("a")

local keep = {}            -- peers and servers of the current group
local function hold(o) keep[#keep + 1] = o return o end
local function freshclient()
  local srv = hold(assert(socket.bind("127.0.0.1", 0)))
  local _, port = srv:getsockname()
  local c = assert(socket.connect("127.0.0.1", port))
  hold(assert(srv:accept()))
  c:settimeout(0)
  return c
end

local function args(...)
  local t = table.pack(...)
  return function() return table.pack(table.unpack(t, 1, t.n)) end
end

local FUNCS = {
  socket = {
    tcp = args(), tcp4 = args(), tcp6 = args(), udp = args(), udp4 = args(), udp6 = args(),
    connect = args("127.0.0.1", closedport), connect4 = args("127.0.0.1", closedport),
    connect6 = args("::1", closedport),
    bind = args("127.0.0.1", 0, 5),
    select = function() return table.pack({}, {}, 0) end,
    gettime = args(), sleep = args(0), skip = args(1, "a", "b"),
    newtry = function() return table.pack(function() end) end,
    try = args(true),
    protect = function() return table.pack(function() end) end,
    choose = function() return table.pack({ a = 1 }) end,
    sink = function() return table.pack("keep-open", freshclient()) end,
    source = function() return table.pack("by-length", freshclient(), 1) end,
    fromfd = args(9999, "tcp{client}"),
    poller = args(), _headfields = args("Host: x\r\n"), _headfield = args("Host: x\r\n", "host"),
    signal = args("INT"),
  },
  ["socket.dns"] = {
    toip = args("localhost"), tohostname = args("127.0.0.1"), gethostname = args(),
    getaddrinfo = args("localhost"), getnameinfo = args("127.0.0.1", 80),
    resolve = args("localhost", "inet"), localaddresses = args("inet"),
  },
  ["socket.unix"] = { stream = args(), dgram = args(), tcp = args(), udp = args() },
  ["socket.pipe"] = {
    bind = function() return table.pack(path(), 5) end,
    connect = function() return table.pack(TMP .. "/nonexistent", 0) end,
  },
  ["socket.co"] = {
    spawn = function() return table.pack(function() end) end,
    event = function() return table.pack(function() end) end,
    run = args(0), step = args(0), sleep = args(0), running = args(),
    pcall = function() return table.pack(function() end) end,
  },
  ["socket.ssl"] = {
    newcontext = function() return table.pack({ mode = "client", verify = "none" }) end,
    wrap = function() return table.pack(freshclient(), { mode = "client", verify = "none" }) end,
    loadcertificate = args(pem),
    connect = function() return table.pack("127.0.0.1", closedport, { verify = "none" }, 0) end,
    starttls = function() return table.pack(freshclient(), { verify = "none" }, 0) end,
    setssl = function()
      return table.pack(hold(assert(socket.bind("127.0.0.1", 0))), { mode = "client", verify = "none" })
    end,
    getcafile = args(), getcapath = args(),
    setcafile = args(nil), setcapath = args(nil),
  },
}

-- Methods: baseline arguments after self; `kind` is "stream", "dgram",
-- "unixstream", "unixdgram" or the class name.
local function M(f) return f end
local METHODS = {
  accept = args(), acceptnossl = args(), close = args(), dirty = args(), getfd = args(),
  getfamily = args(), getpeername = args(), getsockname = args(), getstats = args(),
  gettimeout = args(), getpending = args(), getstatus = args(), getpeercred = args(),
  drain = args(0), waitconnected = args(0), listen = args(5),
  foreachaccept = function() return table.pack(function() return false end) end,
  getoption = args("reuseaddr"), setoption = args("reuseaddr", true),
  receivefrom = args(10), receivesome = args(10, 0), receivehead = args(1024, 10),
  send = M(function(kind)
    if kind == "stream" or kind == "unixstream" or kind == "ssl" then return table.pack("x", 1, 1) end
    return table.pack("x")
  end),
  receive = M(function(kind)
    if kind == "signal" then return table.pack(0) end
    if kind == "stream" or kind == "unixstream" or kind == "ssl" then return table.pack("*l", "") end
    return table.pack(10)
  end),
  sendsome = args("x", 1, 1),
  sendto = M(function(kind)
    if kind == "unixdgram" then return table.pack("x", TMP .. "/nonexistent") end
    return table.pack("x", "127.0.0.1", closedport)
  end),
  bind = M(function(kind)
    if kind:match("^unix") then return table.pack(path()) end
    return table.pack("127.0.0.1", 0)
  end),
  connect = M(function(kind)
    if kind:match("^unix") then return table.pack(TMP .. "/nonexistent") end
    return table.pack("127.0.0.1", closedport)
  end),
  setpeername = M(function(kind)
    if kind:match("^unix") then return table.pack(TMP .. "/nonexistent") end
    return table.pack("127.0.0.1", closedport)
  end),
  setsockname = M(function(kind)
    if kind:match("^unix") then return table.pack(path()) end
    return table.pack("127.0.0.1", 0)
  end),
  setfd = args(-1), setstats = args(0, 0, 0), settimeout = args(0, "b"),
  shutdown = args("both"),
  setssl = function() return table.pack({ mode = "client", verify = "none" }) end,
  starttls = function() return table.pack({ verify = "none" }, 0) end,
  -- poller
  set = function() return table.pack(hold(socket.udp4()), "r") end,
  wait = args(0),
  _add = function() return table.pack(hold(socket.udp4()):getfd(), 1, 0, {}) end,
  _remove = args(0, 1, {}), _collect = args(0, {}), _take = args(0, {}),
  -- signal
  getnames = args(),
  -- dns{address}
  cancel = args(), getip = args(), getips = args(), gethostname = args(),
  get_ip = args(), get_status = args(), get_hostname = args(), wait_until_resolved = args(0),
  -- ssl{connection}
  dohandshake = args(), exportkeyingmaterial = args("EXPORTER-test", 16), getalpn = args(),
  getfinished = args(), getpeerfinished = args(), getlocalcertificate = args(1),
  getlocalchain = args(), getpeercertificate = args(1), getpeerchain = args(),
  getpeerverification = args(), getsniname = args(), info = args("cipher"),
  setdane = args("localhost"), settlsa = args(3, 1, 1, "00"), sni = args("localhost"),
  stoptls = args(0), want = args(),
  -- ssl{context}
  setverifyext = args("lsec_continue"),
  -- ssl{x509}
  digest = args("sha256"), extensions = args(), getsignaturename = args(),
  issued = function() return table.pack(ssl.loadcertificate(pem)) end,
  issuer = args(), notafter = args(), notbefore = args(), pem = args(), pubkey = args(),
  serial = args(), setencode = args("utf8"), subject = args(), validat = args(os.time()),
}

----------------------------------------------------------------------------
-- One fresh object per class (and group of calls); timeouts set to 0.
----------------------------------------------------------------------------
local function zero(o)
  if type(o) == "userdata" and o.settimeout then o:settimeout(0) end
  return o
end
local ctx = hasssl and assert(ssl.newcontext({ mode = "client", verify = "none" }))
local OBJ = OBJECTS.makers({ path = path, hold = hold, client = freshclient, closedport = closedport })
for class, make in pairs({
  ["dns{address}"] = function() return dns.resolve("localhost") end,
  ["poller"] = function() return socket.poller() end,
  ["signal"] = function() return socket.signal("INT") end,
  ["ssl{context}"] = function() return ssl.newcontext({ mode = "client", verify = "none" }) end,
  ["ssl{connection}"] = function() return assert(ssl.wrap(freshclient(), ctx)) end,
  ["ssl{x509}"] = function() return ssl.loadcertificate(pem) end,
}) do OBJ[class] = make end
local function kindof(class)
  if class:match("^tcp") then return "stream" end
  if class:match("^udp") then return "dgram" end
  if class:match("^unixstream") then return "unixstream" end
  if class:match("^unixdgram") then return "unixdgram" end
  if class == "ssl{connection}" then return "ssl" end
  return class
end

----------------------------------------------------------------------------
-- Wrong values. "other" is a live object of one of our classes (not the
-- class under test); "file" a userdata of a foreign class.
----------------------------------------------------------------------------
local tmpfile = io.tmpfile()
local otherudp = socket.udp4()
local othertcp = socket.tcp4()
local otherpoller = socket.poller()
local WRONG = {
  { "nil", function() return nil end },
  { "table", function() return {} end },
  { "function", function() return function() end end },
  { "true", function() return true end },
  { "false", function() return false end },
  { "coroutine", function() return coroutine.create(function() end) end },
  { "file", function() return tmpfile end },
  { "other", function(class) return (class or ""):match("^udp") and othertcp or otherudp end },
  { "poller", function(class) return class == "poller" and othertcp or otherpoller end },
  -- not wrong types, but absurd numbers in every position
  { "nan", function() return 0 / 0 end },
  { "inf", function() return math.huge end },
  { "-inf", function() return -math.huge end },
  { "maxint", function() return math.maxinteger end },
  { "minint", function() return math.mininteger end },
}

-- Calls that legitimately block forever (or for the given time) and are
-- therefore not made. Key: "name:position:value"; "*" matches any.
local SKIP = {
  -- sleep for ever / 2^63 s
  ["socket.sleep:1:inf"] = "sleeps for ever", ["socket.sleep:1:maxint"] = "sleeps 2^63 s",
  ["socket.co.sleep:1:inf"] = "sleeps for ever", ["socket.co.sleep:1:maxint"] = "sleeps 2^63 s",
  -- select with empty sets and no timeout waits for ever (3.x does the same)
  ["socket.select:3:nil"] = "no timeout: waits for ever", ["socket.select:3:inf"] = "waits for ever",
  ["socket.select:3:maxint"] = "waits 2^63 s",
  -- an empty poller without a timeout waits for ever
  ["poller.wait:2:nil"] = "no timeout: waits for ever", ["poller.wait:2:inf"] = "waits for ever",
  ["poller.wait:2:maxint"] = "waits 2^63 s",
  ["poller._collect:2:inf"] = "waits for ever", ["poller._collect:2:maxint"] = "waits 2^63 s",
  -- a per-call timeout that overrides the object's 0
  ["receivesome:3:inf"] = "waits for ever for a silent peer",
  ["receivesome:3:maxint"] = "waits 2^63 s for a silent peer",
  ["stoptls:2:inf"] = "waits for ever for the peer's close_notify",
  ["stoptls:2:maxint"] = "waits 2^63 s for the peer's close_notify",
  ["starttls:3:inf"] = "handshake with a silent peer, no limit",
  ["starttls:3:maxint"] = "handshake with a silent peer, 2^63 s",
  ["socket.ssl.starttls:3:inf"] = "handshake with a silent peer, no limit",
  ["socket.ssl.starttls:3:maxint"] = "handshake with a silent peer, 2^63 s",
  -- the handler is valid and no client ever comes: accepts (timeout 0) for ever
  ["tcp{server}.foreachaccept:2:function"] = "valid handler, no client: loops for ever",
  ["unixstream{server}.foreachaccept:2:function"] = "valid handler, no client: loops for ever",
  ["tcp{server}.foreachaccept:0:*"] = "baseline: valid handler, no client: loops for ever",
  ["unixstream{server}.foreachaccept:0:*"] = "baseline: valid handler, no client: loops for ever",
  ["tcp{server}.foreachaccept:3:*"] = "valid handler, no client: loops for ever",
  ["unixstream{server}.foreachaccept:3:*"] = "valid handler, no client: loops for ever",
  ["drain:2:inf"] = "", ["drain:2:maxint"] = "",
  ["waitconnected:2:inf"] = "", ["waitconnected:2:maxint"] = "",
}
-- a signal nobody sends: receive without a limit waits for ever
for _, v in ipairs({ "nil", "inf", "maxint", "-inf", "minint" }) do
  SKIP["signal.receive:2:" .. v] = "no signal comes: waits without a limit"
end
-- co.step waits for the next event or the timeout: with no task, for ever
SKIP["socket.co.step:1:inf"] = "no task: waits for ever"
SKIP["socket.co.step:1:maxint"] = "no task: waits 2^63 s"
-- a negative timeout means "no limit" (API.md §3, §6, §12.1)
for _, key in ipairs({ "socket.select:3", "poller.wait:2", "receivesome:3", "stoptls:2", "starttls:3",
  "socket.ssl.starttls:3", "drain:2", "waitconnected:2" }) do
  SKIP[key .. ":-inf"] = "negative timeout: no limit"
  SKIP[key .. ":minint"] = "negative timeout: no limit"
end

-- Reserved / internal names that are not part of the public API.
local INTERNAL = { _cosetup = true, __unload = true, _now = true, _removestale = true,
  _unlinkonclose = true, _WAIT = true, _argcheck = true, _drop = true, _pcall = true }
SKIP["drain:2:inf"], SKIP["drain:2:maxint"] = nil, nil
SKIP["waitconnected:2:inf"], SKIP["waitconnected:2:maxint"] = nil, nil

-- Errors by contract that do not name an argument.
local ALLOWED = {
  ["socket.try"] = "any",                 -- raises its own error value
  ["socket.choose"] = "unknown key",
  ["socket.sink"] = "unknown key", ["socket.source"] = "unknown key",
  ["socket.dns.getnameinfo"] = "host and serv cannot be both nil",
  -- LuaSec's text for a bad context argument (API.md §9.1, [V])
  ["socket.ssl.wrap"] = "bad argument #1 to 'create' (invalid context)",
}

local function skipkey(mod, name, class, pos, vname)
  for _, k in ipairs({
    ("%s.%s:%d:%s"):format(mod or class, name, pos, vname), ("%s.%s:%d:*"):format(mod or class, name, pos),
    ("%s:%d:%s"):format(name, pos, vname), ("%s:%d:*"):format(name, pos) }) do
    if SKIP[k] then return k end
  end
end

----------------------------------------------------------------------------
local id, made, skipped = 0, 0, 0
local JIT = rawget(_G, "jit") ~= nil
local function check(desc, pos, ok, msg, allowed)
  if ok then return end
  if allowed == "any" then return end
  if type(msg) ~= "string" then
    print(("BAD %d %s :: non-string error (%s)"):format(id, desc, type(msg)))
    return
  end
  if allowed and (allowed == "any" or msg:find(allowed, 1, true)) then return end
  local n = msg:match("bad argument #(%d+)")
  if msg:find("on bad self", 1, true) then n = "1" end
  -- LuaJIT: a method called as a function (pcall(f, obj, ...), as here) is
  -- named and counted as a method call, self not counted (compat.h,
  -- compat_argerror: LuaJIT names no tail-called C function otherwise)
  if n and JIT and not msg:find("to '?'", 1, true) and tonumber(n) + 1 == pos then n = tostring(pos) end
  if not n then
    print(("BAD %d %s :: %s"):format(id, desc, (msg:gsub("\n", " "))))
  elseif tonumber(n) ~= pos then
    print(("NUM %d %s :: %s"):format(id, desc, (msg:gsub("\n", " "))))
  end
end

local function closeall()
  for i = #keep, 1, -1 do
    pcall(function() keep[i]:close() end)
    keep[i] = nil
  end
end

-- group: a function (or method of `class`) and its baseline.
local function group(mod, name, f, base, class)
  local label = mod and (mod .. "." .. name) or (class .. "." .. name)
  -- positions: self/arg 1 .. #baseline (+1 for an extra argument)
  local b0 = base(kindof(class or ""))
  local npos = (class and 1 or 0) + b0.n + 1
  if npos > 5 then npos = 5 end
  if b0 then for i = 1, b0.n do local v = b0[i]
    if type(v) == "userdata" then pcall(function() v:close() end) end end end
  -- The call with valid arguments: a method the class's state does not
  -- have raises "bad self" already; the same error with a wrong argument
  -- elsewhere is then fine.
  local basemsg
  if id + 1 >= START and class and not skipkey(mod, name, class, 0, "*") then
    progress(id + 1, label .. " baseline")
    local obj = hold(zero(assert(OBJ[class]())))
    local b = base(kindof(class))
    for i = 1, b.n do if type(b[i]) == "userdata" then hold(b[i]) end end
    local ok, msg = pcall(f, obj, table.unpack(b, 1, b.n))
    if not ok then basemsg = tostring(msg) end
    closeall()
  end
  for pos = 1, npos do
    for _, w in ipairs(WRONG) do
      id = id + 1
      local vname = w[1]
      local desc = ("%s arg#%d=%s"):format(label, pos, vname)
      local sk = skipkey(mod, name, class, pos, vname)
      if id < START then               -- luacheck: ignore 542 (done by an earlier run)
      elseif sk then
        skipped = skipped + 1
      else
        progress(id, desc)
        local callargs
        if class then
          local obj = OBJ[class]()
          assert(obj, "cannot make " .. class)
          hold(zero(obj))
          local b = base(kindof(class))
          callargs = { n = b.n + 1, obj }
          for i = 1, b.n do callargs[i + 1] = b[i] end
        else
          callargs = base(kindof(""))
        end
        for i = 1, callargs.n do if type(callargs[i]) == "userdata" then hold(callargs[i]) end end
        callargs[pos] = w[2](class)
        if pos > callargs.n then callargs.n = pos end
        local fn = class and f or f
        local ok, msg = pcall(fn, table.unpack(callargs, 1, callargs.n))
        made = made + 1
        if ok or pos == 1 or msg ~= basemsg then check(desc, pos, ok, msg, ALLOWED[label]) end
        -- objects a call returned (sockets, servers) are closed too
        closeall()
        if made % 200 == 0 then collectgarbage() end
      end
    end
  end
end

local function sorted(t)
  local k = {}
  for n in pairs(t) do k[#k + 1] = n end
  table.sort(k)
  return k
end

for _, mod in ipairs({ "socket", "socket.dns", "socket.unix", "socket.pipe", "socket.co", "socket.ssl" }) do
  if mod ~= "socket.ssl" or hasssl then
    local t = require(mod)
    for _, name in ipairs(sorted(t)) do
      if type(t[name]) == "function" and not INTERNAL[name] then
        local base = FUNCS[mod][name]
        if not base then
          print(("NOAPI %s.%s"):format(mod, name))
          base = args()
        end
        group(mod, name, t[name], base, nil)
      end
    end
  end
end

local reg = debug.getregistry()
for _, class in ipairs(sorted(OBJ)) do
  local mt = reg[class]
  if not mt then
    if not (class:match("^ssl") and not hasssl) then print(("NOCLASS %s"):format(class)) end
  end
  for _, name in ipairs(mt and sorted(mt.__index) or {}) do
    local f = mt.__index[name]
    if type(f) == "function" then
      local base = METHODS[name]
      if not base then
        print(("NOAPI %s.%s"):format(class, name))
        base = args()
      end
      group(nil, name, f, base, class)
    end
  end
end
-- classes in the registry we do not know about
local names = {}
for k in pairs(reg) do if type(k) == "string" then names[k] = true end end
for _, k in ipairs(sorted(names)) do
  if type(k) == "string" and type(reg[k]) == "table" and reg[k].__index and
    (k:match("^tcp{") or k:match("^udp{") or k:match("^unix") or k:match("^dns{") or k:match("^ssl{")
      or k == "poller") and not OBJ[k] then
    print(("NOCLASS %s"):format(k))
  end
end
closeall()
print(("DONE %d %d %d"):format(id, made, skipped))
