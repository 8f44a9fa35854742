-- Regression: unchecked lua_Number -> C integer conversions and stats
-- arithmetic (undefined behaviour in C).
--   src/buffer.c  buffer_meth_setstats: (lua_Integer) luaL_optnumber(...)
--                 buffer_consume / buffer_sendall / sendsome: received/sent += n
--                 overflow a lua_Integer that setstats set near maxinteger
--   src/tcp.c     tcp_meth_setfd: (int) luaL_checknumber(L, 2)
--   src/options.c options_setint: (int) lua_tonumber(L, 3)
--                 options_setlinger: (int) lua_tonumber(L, -1)
-- The stats overflow is signed-integer overflow (caught by `make asan`'s
-- UBSan); on a normal build the counters wrap negative. The float casts are
-- caught by clang's -fsanitize=float-cast-overflow, which GCC's
-- -fsanitize=undefined does not include: the last block builds such a module
-- into a temporary directory (with traps, so no runtime is needed) and runs
-- each call in a child against it.
local H = require("helper")

local PAIR = [[
local srv = assert(socket.bind("127.0.0.1", 0))
local _, port = srv:getsockname()
local c = assert(socket.connect("127.0.0.1", port))
local p = assert(srv:accept())
]]

describe("regress: byte counters near maxinteger", function()
  it("received never wraps negative after setstats(2^63-1024)", function()
    local out = H.child(PAIR .. [[
      assert(p:setstats(2^63 - 1024) == 1)
      assert(c:send(("x"):rep(2000)) == 2000)
      assert(#p:receive(2000) == 2000)
      local r = p:getstats()
      io.write("received=", string.format("%d", r), "\n")
      io.write("SURVIVED\n")
    ]]):wait()
    assert.matches("SURVIVED", out, 1, true)
    local r = tonumber(out:match("received=(%-?%d+)"))
    assert.is_true(r ~= nil and r > 0, "received counter wrapped: " .. out)
  end)

  it("sent never wraps negative after setstats(0, 2^63-1024)", function()
    local out = H.child(PAIR .. [[
      assert(c:setstats(0, 2^63 - 1024) == 1)
      assert(c:send(("x"):rep(2000)) == 2000)
      local _, s = c:getstats()
      io.write("sent=", string.format("%d", s), "\n")
      io.write("SURVIVED\n")
    ]]):wait()
    assert.matches("SURVIVED", out, 1, true)
    local s = tonumber(out:match("sent=(%-?%d+)"))
    assert.is_true(s ~= nil and s > 0, "sent counter wrapped: " .. out)
  end)
end)

-- Builds src/ with clang and float-cast/signed-overflow traps into a temp dir,
-- for the interpreter under test (its name, as mk/versions.mk knows it).
local LUANAME = rawget(_G, "jit") and "luajit" or ("lua" .. _VERSION:match("%d+%.%d+"))
local trapdir
local function trapbuild()
  if trapdir ~= nil then return trapdir end
  trapdir = false
  local _, has = H.sh("command -v clang")
  if not has then return false end
  local root = assert(os.getenv("NETSOCKET_BUILD")):match("^(.*)/[^/]+$")
  local srcdir = root
  if not io.open(srcdir .. "/src/core.c") then srcdir = "." end
  local dir = os.tmpname()
  os.remove(dir)
  local out, ok = H.sh("env -u MAKEFLAGS -u MAKELEVEL make --no-print-directory -C '" .. srcdir .. "' LUA=" .. LUANAME .. " BUILD='" .. dir ..
    "' CC=clang OPT='-O1 -g' EXTRA_CFLAGS='-fsanitize=float-cast-overflow,signed-integer-overflow" ..
    " -fsanitize-trap=all' lib")
  assert(ok, "trap build failed:\n" .. out)
  trapdir = dir
  return dir
end

local function trapchild(code)
  local dir = trapbuild()
  if not dir then return nil end
  local script = os.tmpname()
  local f = assert(io.open(script, "w"))
  f:write("local socket = require('socket')\n", PAIR, "\n", code, "\nio.write('SURVIVED\\n')\n")
  f:close()
  -- the inner sh reports the trap ("Illegal instruction") into the captured output
  local out = H.sh("sh -c \"LUA_CPATH='" .. dir .. "/?.so;;' timeout 20 " .. LUANAME .. " " .. script .. "\" 2>&1")
  os.remove(script)
  return out
end

describe("regress: float to int conversions (clang trap build)", function()
  teardown(function()
    if trapdir then H.sh("rm -rf '" .. trapdir .. "'") end
  end)

  it("control: the trap build loads and runs an in-range call", function()
    local out = trapchild("assert(c:setoption('recv-buffer-size', 65536) == 1); c:setfd(c:getfd())")
    if out == nil then pending("clang not available") return end
    assert.matches("SURVIVED", out, 1, true)
  end)

  local cases = {
    {"setfd(1e10)", "pcall(c.setfd, c, 1e10)"},
    {"setstats(1e300)", "pcall(c.setstats, c, 1e300)"},
    {"setstats(0/0)", "pcall(c.setstats, c, 0/0)"},
    {"setoption('recv-buffer-size', 1e12)", "pcall(c.setoption, c, 'recv-buffer-size', 1e12)"},
    {"setoption('tcp-keepidle', -1e12)", "pcall(c.setoption, c, 'tcp-keepidle', -1e12)"},
    {"setoption('linger', {on=true, timeout=1e12})", "pcall(c.setoption, c, 'linger', {on = true, timeout = 1e12})"},
  }
  for _, case in ipairs(cases) do
    it(case[1] .. " has no undefined conversion", function()
      local out = trapchild(case[2])
      if out == nil then pending("clang not available") return end
      assert.matches("SURVIVED", out, 1, true)
    end)
  end
end)
