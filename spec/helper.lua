-- Shared test helpers: loopback pairs, child-process peers, fd counting.
-- Loaded by specs with `local H = require("helper")` (spec/ is on LUA_PATH).
local socket = require("socket")
local H = {}

H.LUA = os.getenv("NETSOCKET_LUA") or "lua5.4"

-- Windows (make test-windows, under Wine): no POSIX shell, no /proc, no
-- timeout(1). Specs that need those are tagged #linux (with a second tag
-- saying why: see spec/README.md); the helpers below work on both.
H.WINDOWS = package.config:sub(1, 1) == "\\"

-- A word of a command line, quoted for the system's shell.
function H.quote(s)
  s = tostring(s)
  if H.WINDOWS then return '"' .. s:gsub('"', '\\"') .. '"' end
  return "'" .. s:gsub("'", "'\\''") .. "'"
end

-- A command line for io.popen: cmd.exe strips the outer quotes of /c's
-- command, so a line that starts with a quoted word is quoted once more.
local function cmdline(line)
  if H.WINDOWS then return '"' .. line .. '"' end
  return line
end
H.cmdline = cmdline

-- A fresh temporary file name (os.tmpname on Windows names a file in the
-- root of the current drive).
local tmpseq = 0
function H.tmpname()
  if not H.WINDOWS then return os.tmpname() end
  tmpseq = tmpseq + 1
  local dir = os.getenv("TEMP") or os.getenv("TMP") or "."
  local name = ("%s\\ns%d-%d.tmp"):format(dir, H.pid(), tmpseq)
  local f = io.open(name, "w")            -- made, as tmpname's file is
  if f then f:close() end
  return name
end

-- A fresh temporary directory, and its removal with everything in it.
function H.mktempdir()
  if not H.WINDOWS then
    local p = assert(io.popen("mktemp -d"))
    local d = p:read("l")
    p:close()
    return assert(d, "mktemp -d failed")
  end
  local d = H.tmpname():gsub("%.tmp$", ".d")
  local p = assert(io.popen(cmdline("mkdir " .. H.quote(d) .. " 2>&1")))
  p:read("a")
  p:close()
  return d
end

function H.rmtree(dir)
  if not dir or dir == "" or dir == "/" then return end
  local cmd = H.WINDOWS and ("rmdir /s /q " .. H.quote(dir)) or ("rm -rf " .. H.quote(dir))
  local p = io.popen(cmdline(cmd .. " 2>&1"))
  if p then p:read("a"); p:close() end
end

-- A listening server on 127.0.0.1 with an OS-chosen port.
function H.server(host)
  local s = assert(socket.bind(host or "127.0.0.1", 0))
  local _, port = s:getsockname()
  return s, port
end

-- A connected client/peer pair over loopback, both blocking, plus the server.
function H.pair(host)
  local srv, port = H.server(host)
  local c = assert(socket.connect(host or "127.0.0.1", port))
  local p = assert(srv:accept())
  srv:close()
  return c, p
end

-- Runs a Lua snippet in a child process that uses the freshly built module.
-- `code` sees `socket` and `arg` ({...} strings). Returns a handle whose
-- :wait() returns the child's stdout and exit status.
function H.child(code, ...)
  local args = {}
  for i, a in ipairs({...}) do args[i] = string.format("%q", tostring(a)) end
  local script = H.tmpname()
  local f = assert(io.open(script, "w"))
  f:write("local socket = require('socket')\nlocal arg = {", table.concat(args, ","), "}\n", code)
  f:close()
  local p = assert(io.popen(cmdline(H.quote(H.LUA) .. " " .. H.quote(script) .. " 2>&1"), "r"))
  return {
    wait = function()
      local out = p:read("a")
      local ok, how, code = p:close()
      os.remove(script)
      return out, ok, how, code
    end,
  }
end

-- Whole contents of a file (binary), or nil if it cannot be opened.
-- A connected pair of unix stream sockets (the socket file is gone again).
function H.unixpair()
  local unix = require("socket.unix")
  local path = os.tmpname()
  os.remove(path)
  local srv = assert(unix.stream())
  assert(srv:bind(path))
  assert(srv:listen())
  local a = assert(unix.stream())
  assert(a:connect(path))
  local b = assert(srv:accept())
  srv:close()
  os.remove(path)
  return a, b
end

function H.readfile(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("a")
  f:close()
  return s
end

-- A loopback TCP port that was free a moment ago (bound, then released).
function H.freeport()
  local s = assert(socket.bind("127.0.0.1", 0))
  local _, port = s:getsockname()
  s:close()
  return port
end

-- Number of open descriptors of this process (Linux).
function H.fdcount()
  if H.WINDOWS then return nil end       -- no /proc: callers compare nil with nil
  -- Pipes are left out: `ls` may or may not see the end of this very popen.
  local p = io.popen("ls -l /proc/" .. H.pid() .. "/fd | grep -c -e '-> [^p]'")
  local n = tonumber(p:read("a"))
  p:close()
  return n
end

local winpid
function H.pid()
  if H.WINDOWS then   -- no getpid from Lua: a number unlikely to repeat
    winpid = winpid or math.floor(socket.gettime() * 1000) % 1000000 + math.random(0, 999) * 1000000
    return winpid
  end
  local f = assert(io.open("/proc/self/stat"))
  local s = f:read("l")
  f:close()
  -- /proc/self inside io.open is this process (no child in between).
  return tonumber(s:match("^(%d+)"))
end

-- Added for select/socket/luarocks specs ------------------------------------

-- Like H.child, but the child runs as `sh -c "<prefix> <lua> script"`, so the
-- prefix can change the child's limits first (e.g. "ulimit -Sn 4096 &&").
-- `code` sees `socket` and `arg` as in H.child. Returns the same handle.
function H.childsh(prefix, code, ...)
  if H.WINDOWS then   -- a timeout(1) bound is dropped: the specs bound their children too
    prefix = prefix:gsub("^timeout %d+%s*", "")
    assert(prefix == "", "H.childsh: a shell prefix needs a POSIX shell (tag the test #linux)")
    return H.child(code, ...)
  end
  local args = {}
  for i, a in ipairs({...}) do args[i] = string.format("%q", tostring(a)) end
  local script = os.tmpname()
  local f = assert(io.open(script, "w"))
  f:write("local socket = require('socket')\nlocal arg = {", table.concat(args, ","), "}\n", code)
  f:close()
  local p = assert(io.popen("(" .. prefix .. " " .. H.LUA .. " " .. script .. ") 2>&1", "r"))
  return {
    wait = function()
      local out = p:read("a")
      local ok, how, status = p:close()
      os.remove(script)
      return out, ok, how, status
    end,
  }
end

-- Starts samples/<name> with `args` (a shell string) under timeout(1), so a
-- server that never stops fails its test instead of hanging it. Its first
-- line must match `pattern`, whose capture is the port. Returns the pipe
-- and the port.
local ROOT = debug.getinfo(1, "S").source:match("^@(.-)spec/[^/]*$") or ""
function H.sample(name, args, pattern)
  local path = H.quote(ROOT .. "samples/" .. name)
  local line = ("%s %s %s 2>&1"):format(H.quote(H.LUA), path, args)
  local p = assert(io.popen(H.WINDOWS and cmdline(line) or "timeout 60 " .. line))
  local first = p:read("l")
  local port = tonumber(first and first:match(pattern))
  assert(port, "unexpected first line: " .. tostring(first))
  return p, port
end

-- The rest of a child's output, and how it ended: { ok, how, status }.
function H.finish(p)
  local rest = p:read("a")
  local ok, how, status = p:close()
  return rest, { ok, how, status }
end

-- Runs a shell command; returns its stdout+stderr and whether it exited 0.
function H.sh(cmd)
  -- cmd.exe: no timeout(1) (Windows' timeout is a sleep), no ( ) around
  -- a command that starts with a quoted word, and "" quotes, not ''
  if H.WINDOWS then
    cmd = cmd:gsub("^timeout %d+ ", ""):gsub("'([^']*)'", '"%1"')
    cmd = cmdline(cmd .. " 2>&1")
  else cmd = "(" .. cmd .. ") 2>&1" end
  local p = assert(io.popen(cmd, "r"))
  local out = p:read("a")
  local ok = p:close()
  return out, ok == true
end

-- Calls f(...) under pcall; asserts that it raised a string error containing
-- every one of the given plain texts. Returns the message.
function H.raises(f, args, ...)
  local ok, msg = pcall(f, table.unpack(args, 1, args.n or #args))
  assert(not ok, "expected an error, but the call succeeded")
  assert(type(msg) == "string", "expected a string error, got " .. type(msg))
  for _, text in ipairs({...}) do
    assert(string.find(msg, text, 1, true),
      "error message " .. string.format("%q", msg) .. " lacks " .. string.format("%q", text))
  end
  return msg
end

-- Shared by the specs ---------------------------------------------------------
-- (this module runs outside busted's environment: luassert, explicitly)
local luassert = require("luassert")

-- track(...) remembers every userdata it is given (and returns them all);
-- closeall() closes what was tracked. Use: after_each(closeall).
function H.tracker()
  local open = {}
  local function track(...)
    for i = 1, select("#", ...) do
      local s = select(i, ...)
      if type(s) == "userdata" then open[#open + 1] = s end
    end
    return ...
  end
  local function closeall()
    for i = #open, 1, -1 do
      pcall(function() open[i]:close() end)
      open[i] = nil
    end
  end
  return track, closeall
end

-- raising(f, ...): f() must raise an error containing every fragment.
function H.raising(f, ...)
  local ok, err = pcall(f)
  luassert.is_false(ok, "expected an error, got success")
  err = tostring(err)
  for _, frag in ipairs({ ... }) do
    luassert.is_truthy(string.find(err, frag, 1, true),
      string.format("error %q does not contain %q", err, frag))
  end
  return err
end

-- Where the language has no integer subtype (5.1, 5.2, LuaJIT), an integral
-- float is what an integer result is (doc/migration.md).
function H.isint(v, what)
  local msg = (what or "value") .. " should be an integer, got " .. tostring(v)
  if math.type then
    luassert.equal("integer", math.type(v), msg)
  else
    luassert.is_true(type(v) == "number" and v == math.floor(v) and v - v == 0, msg)
  end
end

-- A float where the language has an integer subtype (5.3 on); before it
-- every number is a float, and an integral value is no less one.
local INTSUB = tonumber(_VERSION:match("%d+%.%d+")) >= 5.3
function H.isfloat(v, what)
  local msg = (what or "value") .. " should be a float, got " .. tostring(v)
  if INTSUB then
    luassert.equal("float", math.type(v), msg)
  else
    luassert.equal("number", type(v), msg)
  end
end

-- H.closing(fn, a, b, ...): fn(a, b, ...) with each argument held by a
-- to-be-closed variable (`local x <close> = a`) where the language has them
-- (5.4 on); elsewhere their __close metamethods run after fn, last first, as
-- at the end of such a block. Returns what fn returns.
local tbc = {}
local hasclose = tonumber(_VERSION:match("%d+%.%d+")) >= 5.4
function H.closing(fn, ...)
  local n = select("#", ...)
  if hasclose then
    if not tbc[n] then
      local names, lines = {}, { "local fn = ..." }
      for i = 1, n do
        names[i] = "v" .. i
        lines[#lines + 1] = ("local v%d <close> = select(%d, ...)"):format(i, i + 1)
      end
      -- (a return in the scope of to-be-closed variables is no tail call)
      lines[#lines + 1] = "return fn(" .. table.concat(names, ", ") .. ")"
      tbc[n] = assert(load(table.concat(lines, "\n"), "=H.closing"))
    end
    return tbc[n](fn, ...)
  end
  local values = { ... }
  local res = table.pack(pcall(fn, ...))
  for i = n, 1, -1 do
    local v = values[i]
    if v ~= nil then getmetatable(v).__close(v, not res[1] and res[2] or nil) end
  end
  if not res[1] then error(res[2], 0) end
  return table.unpack(res, 2, res.n)
end

return H
