-- Driver of the options target (fuzz/options.c): decodes one input into
-- sockets of every class and calls of their option, timeout, address and
-- pattern methods (and the module's constructors, connect/bind helpers and
-- dns functions) with arguments of every type: strings, numbers (NaN, inf,
-- huge, negative zero), booleans, tables. Every call must either raise a
-- Lua error that names its argument (API.md house rule: misuse raises) or
-- return results, where a nil first result comes with an error string.
-- Crashes, leaks and undefined behaviour are the sanitizers' to report.
-- fuzz/guard.c keeps every address on loopback.
local socket = require("socket")
local unix = require("socket.unix")
local bytes = require("input")
local reader, show, showlist = bytes.reader, bytes.show, bytes.showlist

local fuzz = fuzz          -- luacheck: globals fuzz (set by fuzz/fuzzlua.c)
local fmt, pack, unpack = string.format, table.pack, table.unpack

local MAXOPS = 32

local OPTIONS = {
  "keepalive", "linger", "reuseaddr", "reuseport", "tcp-nodelay", "tcp-keepidle", "tcp-keepcnt",
  "tcp-keepintvl", "tcp-defer-accept", "tcp-fastopen", "tcp-fastopen-connect", "ipv6-v6only",
  "recv-buffer-size", "send-buffer-size", "error", "bindtodevice", "dontroute", "broadcast",
  "ip-multicast-if", "ip-multicast-ttl", "ip-multicast-loop", "ip-add-membership",
  "ip-drop-membership", "ipv6-unicast-hops", "ipv6-multicast-hops", "ipv6-multicast-loop",
  "ipv6-add-membership", "ipv6-drop-membership", "passcred", "nosuch",
}

local STRINGS = {
  "127.0.0.1", "::1", "*", "localhost", "0", "", "0x10", "1e3", "inet", "inet6", "unspec", "b", "t",
  "r", "receive", "send", "both", "*l", "*a", "l", "65535", "65536", "-1", "80", "http", "echo",
  "::ffff:127.0.0.1", "0.0.0.0", "::", "127.1", "10.1.2.3", "[::1]", "lo", "fe80::1%lo", "::1%1",
  "255.255.255.255", "224.0.0.1", "ff02::1", "2001:db8::1", "\0abstract", "/tmp/x", " 1 ",
  "1.5", "nan", "inf", "0x7fffffff", "4294967297", "9223372036854775808",
}

local SPECIAL = {
  math.huge, -math.huge, 0 / 0, 2 ^ 53, 2 ^ 63, -2 ^ 63, math.maxinteger, math.mininteger, 1e308,
  -0.0, 0.5, 65536, 65535, -1, 2 ^ 31, -2 ^ 31 - 1, 4294967296, 1e-300, 0.0001, 2 ^ 24 + 1,
}

local function value(r, depth)
  local k = r.byte() % 16
  if k == 0 then return nil
  elseif k == 1 then return true
  elseif k == 2 then return false
  elseif k == 3 then return r.byte() - 128
  elseif k == 4 then
    local b = r.bytes(4) .. "\0\0\0\0"
    return (string.unpack("<i4", b))
  elseif k == 5 then
    local b = r.bytes(8) .. ("\0"):rep(8)
    return (string.unpack("<d", b))
  elseif k == 6 then return SPECIAL[r.byte() % #SPECIAL + 1]
  elseif k == 7 then return r.bytes(r.byte() % 24)
  elseif k == 8 then return STRINGS[r.byte() % #STRINGS + 1]
  elseif k == 9 or k == 10 then
    if depth > 2 then return {} end
    local a, b = value(r, depth + 1), value(r, depth + 1)
    if k == 9 then return { on = a, timeout = b } end
    return { multiaddr = a, interface = b }
  elseif k == 11 then
    if depth > 2 then return {} end
    return { host = value(r, depth + 1), port = value(r, depth + 1), localaddress = value(r, depth + 1),
             localport = value(r, depth + 1), family = value(r, depth + 1), timeout = 0 }
  elseif k == 12 then return tostring(SPECIAL[r.byte() % #SPECIAL + 1])
  elseif k == 13 then return OPTIONS[r.byte() % #OPTIONS + 1]
  elseif k == 14 then return print
  else return ("x"):rep(r.byte() * 64) end
end

local function values(r, n)
  local t = { n = n }
  for i = 1, n do t[i] = value(r, 0) end
  return t
end

-- Methods to call, with how many fuzzed arguments; `block`: the call may
-- wait, so the object's timeout is set to 0 first (fuzzed timeouts are
-- still parsed by the settimeout calls before it).
local METHODS = {
  { "setoption", 2, name = true }, { "setoption", 2 }, { "getoption", 1, name = true },
  { "getoption", 1 }, { "settimeout", 2 }, { "settimeout", 1 }, { "gettimeout", 0 },
  { "bind", 2 }, { "setsockname", 2 }, { "connect", 2, block = true },
  { "setpeername", 2, block = true }, { "listen", 1 }, { "getsockname", 0 }, { "getpeername", 0 },
  { "shutdown", 1 }, { "getfamily", 0 }, { "dirty", 0 }, { "getstats", 0 }, { "setstats", 3 },
  { "close", 0 }, { "receive", 2, block = true }, { "send", 3, block = true },
  { "receivesome", 1, block = true }, { "sendsome", 3 }, { "accept", 0, block = true },
  { "receivefrom", 1, block = true }, { "sendto", 3, block = true }, { "getpeercred", 0 },
  { "getfd", 0 }, { "getstatus", 0 }, { "getpending", 0 },
}

-- CALLERS[name](obj, args): obj:name(args...) as a script writes it (a
-- method call, not a tail call), so that errors name the method and count
-- arguments as the script sees them.
local CALLERS = {}
for _, m in ipairs(METHODS) do
  CALLERS[m[1]] = CALLERS[m[1]] or assert(load(("local pack, unpack = table.pack, table.unpack "
    .. "return function(obj, a) local t = pack(obj:%s(unpack(a, 1, a.n))); return t end"):format(m[1])))()
end

local MAKERS = {
  function() return socket.tcp() end, function() return socket.tcp6() end,
  function() return socket.udp() end, function() return socket.udp6() end,
  function() return unix.stream() end, function() return unix.dgram() end,
  function(v) return socket.tcp(v) end, function(v) return socket.udp(v) end,
}

-- Module functions with fuzzed arguments (never socket.sleep or anything
-- that takes a descriptor number: fromfd, setfd).
local FUNCTIONS = {
  { "connect", function(...) return socket.connect(...) end, 5 },
  { "connect", function(t) if type(t) == "table" then t.timeout = 0 end return socket.connect(t) end, 1 },
  { "bind", function(...) return socket.bind(...) end, 3 },
  { "toip", function(...) return socket.dns.toip(...) end, 1 },
  { "tohostname", function(...) return socket.dns.tohostname(...) end, 1 },
  { "getaddrinfo", function(...) return socket.dns.getaddrinfo(...) end, 1 },
  { "getnameinfo", function(...) return socket.dns.getnameinfo(...) end, 2 },
  { "skip", function(...) return socket.skip(...) end, 3, free = true },   -- returns its arguments
  { "tcp", function(...) return socket.tcp(...) end, 1 },
  { "udp", function(...) return socket.udp(...) end, 1 },
  { "unix.stream", function(...) return unix.stream(...) end, 1 },
}

-- Errors that are not "bad argument #n to 'f'" but are still the contract
-- (LuaSocket's own texts).
local OTHER_ERRORS = {
  ["host and serv cannot be both nil"] = true,
}

local TRACE = os.getenv("FUZZ_TRACE")    -- set it to see every call and result

local function check(what, args, ok, r, free)
  if TRACE then
    io.stderr:write(what, "(", showlist(args), ") -> ", ok and showlist(r) or "raised " .. show(r), "\n")
  end
  if not ok then
    local msg = r
    if type(msg) ~= "string" then
      fuzz.fail(fmt("%s(%s) raised a %s", what, showlist(args), type(msg)))
    end
    msg = msg:gsub("^[^:]*:%d+: ", "")
    if not msg:find("^bad argument #%d+ to '[^']+' %(.+%)$") and
       not msg:find("^calling '[^']+' on bad self %(.+%)$") and not OTHER_ERRORS[msg] then
      fuzz.fail(fmt("%s(%s) raised an error that names no argument: %s", what, showlist(args), show(msg)))
    end
    return
  end
  if not free and r.n >= 2 and r[1] == nil and (type(r[2]) ~= "string" or r[2] == "") then
    fuzz.fail(fmt("%s(%s) returned nil, %s (an error message must be a string)", what, showlist(args),
      show(r[2])))
  end
end

-- Whether the object's fuzzed timeouts let a call wait at most 1 ms: every
-- limit is NaN (counts as 0) or within [0, 0.001], or negative (none) while
-- the other one is such a limit. Otherwise a waiting call gets settimeout(0).
local function quick(obj)
  local b, t = obj:gettimeout()
  local function short(x) return x ~= x or (x >= 0 and x <= 0.001) end
  return (short(b) and (t < 0 or short(t))) or (b < 0 and short(t))
end

-- The connected pair: a tcp{client} and the server's end, over loopback.
local function pair()
  local srv = socket.tcp()
  assert(srv:bind("127.0.0.1", 0))
  assert(srv:listen())
  local _, port = srv:getsockname()
  local c = socket.tcp()
  c:settimeout(2)
  assert(c:connect("127.0.0.1", port))
  srv:settimeout(2)
  local p = assert(srv:accept())
  srv:close()
  return c, p
end

return function(input)
  local r = reader(input)
  local objs = { socket.tcp() }
  local paired = false
  local ops = 0
  while r.more() and ops < MAXOPS do
    ops = ops + 1
    local op = r.byte() % 8
    if op == 0 then
      local make = MAKERS[r.byte() % #MAKERS + 1]
      local v = value(r, 0)
      local ok, obj = pcall(make, v)
      check("constructor", pack(v), ok, pack(obj))
      if ok and type(obj) == "userdata" then objs[#objs + 1] = obj end
    elseif op == 1 and not paired then
      paired = true
      local c, p = pair()
      objs[#objs + 1] = c
      objs[#objs + 1] = p
    elseif op == 2 then
      local f = FUNCTIONS[r.byte() % #FUNCTIONS + 1]
      local args = values(r, f[3])
      local res = pack(pcall(function() local t = pack(f[2](unpack(args, 1, args.n))); return t end))
      check(f[1], args, res[1], res[2], f.free)
      for i = 1, res[1] and res[2].n or 0 do
        if type(res[2][i]) == "userdata" and res[2][i].close then objs[#objs + 1] = res[2][i] end
      end
    else
      local obj = objs[r.byte() % #objs + 1]
      local m = METHODS[r.byte() % #METHODS + 1]
      local args = values(r, m[2])
      if m.name then args[1] = OPTIONS[r.byte() % #OPTIONS + 1] end
      if obj[m[1]] ~= nil then
        if m.block and not quick(obj) then obj:settimeout(0) end
        local res = pack(pcall(CALLERS[m[1]], obj, args))
        check(tostring(obj):match("^[^:]*") .. ":" .. m[1], args, res[1], res[2])
      end
    end
  end
  for _, obj in ipairs(objs) do obj:close() end
end
