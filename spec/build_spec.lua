-- The build: warning-free under gcc and clang, and the module exports
-- nothing but luaopen_* (issue: "The foundation").
local H = require("helper")

local root = os.getenv("NETSOCKET_BUILD"):match("^(.*)/[^/]+$")

local function sh(cmd)
  local p = io.popen(cmd .. " 2>&1")
  local out = p:read("a")
  local ok = p:close()
  return ok, out
end

describe("build #linux #shell", function()
  for _, cc in ipairs({ "gcc", "clang" }) do
    it("compiles with -Wall -Wextra -Werror under " .. cc .. " and exports only luaopen_*", function()
      local dir = os.tmpname()
      os.remove(dir)
      local ok, out = sh(("make -s -C %q lib CC=%s BUILD=%q LUA=%s"):format(root, cc, dir, H.LUA))
      assert.is_true(ok, out)
      assert.is_nil(out:find("warning", 1, true), out)
      local nok, syms = sh(("nm -D --defined-only %q/socket/core.so"):format(dir))
      assert.is_true(nok, syms)
      local exported = {}
      for name in syms:gmatch("%x+ %u (%S+)") do exported[#exported + 1] = name end
      table.sort(exported)
      -- socket.unix lives in the same library (build/socket/unix.so links to it)
      assert.are.same({ "luaopen_socket_core", "luaopen_socket_unix" }, exported)
      sh(("rm -rf %q"):format(dir))
    end)
  end

  it("the module's compile flags include the strict warning set", function()
    local ok, out = sh(("make -s -n -B -C %q lib BUILD=/nonexistent LUA=%s"):format(root, H.LUA))
    assert.is_true(ok, out)
    for _, flag in ipairs({ "-Wall", "-Wextra", "-Werror", "-std=c11", "-fvisibility=hidden" }) do
      assert.is_truthy(out:find(flag, 1, true), flag)
    end
  end)
end)

describe("samples #linux #shell", function()
  it("make demo's tour runs every sample step over loopback, stops them all, and exits 0", function()
    local t0 = require("socket").gettime()
    -- without spec/compat.lua: the samples run on every Lua as they are, and
    -- its popen stand-in (5.1, LuaJIT) would give the tour's `echo $$` the
    -- PID of a wrapping shell, not of the sample it stops with SIGTERM
    local ok, out = sh(("cd %q && env -u LUA_INIT timeout 120 %s samples/demo.lua"):format(root, H.LUA))
    local took = require("socket").gettime() - t0
    assert.is_true(ok, out)
    assert.is_true(took < 60, ("the tour took %.1f s"):format(took))
    local hasssl = pcall(require, "socket.ssl")
    for _, key in ipairs({
      -- 1. echo
      'client sent "hello, netsocket", received "hello, netsocket"', "server: closed",
      -- 2. daytime over TCP and UDP
      "daytime client over TCP: ", "daytime client over UDP: ", "daytime: answered 2 requests",
      -- 3. named pipe
      'this script heard "hello from a client process"',
      'the client process printed "hello back from the demo"',
      -- 4. TLS (or why it was skipped)
      hasssl and 'client: sent "hello over TLS", got "hello over TLS"' or "skipped: socket.ssl is not built",
      hasssl and "server: client connected, TLSv1.3" or "4. TLS",
      -- 5. HTTP echo, fetched with curl and with samples/get.lua (socket.http)
      "$ curl http://127.0.0.1:", "| GET /hello HTTP/1.1", "| X-Demo: yes", "| name=netsocket",
      "$ lua5.4 samples/get.lua http://127.0.0.1:", "| GET /get HTTP/1.1", "| User-Agent: LuaSocket 3.1.0",
      "http_echo: stopped (count), answered 3 requests",
      -- 6. cosockets
      "3 of us connected at once", 'client sent "quit-server", received "bye"',
      "co_echo_server: stopped (quit-server), served 4 clients",
      "all replies matched",
    }) do
      assert.is_truthy(out:find(key, 1, true), key .. "\n" .. out)
    end
    assert.is_nil(out:find("FAILED", 1, true), out)
    -- every step explains itself: "N. title" then "(what it shows)"
    for n = 1, 6 do
      assert.is_truthy(out:find("\n" .. n .. "%. [^\n]+\n   %(.-%)\n"), "step " .. n .. "\n" .. out)
    end
  end)

  it("echo_client talks to echo_server and stops it with quit", function()
    local server = io.popen(("%s %q/samples/echo_server.lua 127.0.0.1 0 10"):format(H.LUA, root))
    local port = server:read("l"):match("port (%d+)")
    assert.is_truthy(port)
    local ok, out = sh(("%s %q/samples/echo_client.lua 127.0.0.1 %s one 'two words' quit")
      :format(H.LUA, root, port))
    assert.is_true(ok, out)
    assert.are.equal(table.concat({
      'client: sent "one", got "one"',
      'client: sent "two words", got "two words"',
      'client: sent "quit", got "bye"', "" }, "\n"), out)
    local log = server:read("a")
    assert.is_true(server:close())
    assert.is_truthy(log:find("server: closed", 1, true), log)
  end)

  it("echo_client without arguments prints its usage and fails", function()
    local ok, out = sh(("%s %q/samples/echo_client.lua"):format(H.LUA, root))
    assert.is_falsy(ok)
    assert.is_truthy(out:find("usage:", 1, true))
  end)
end)

describe("make env #linux #shell", function()
  -- `clean`: without the calling make's MAKEFLAGS/BUILD (make asan sets
  -- BUILD=build-asan, which is the running build but no interpreter's own)
  local function env(lua, clean)
    local ok, out = sh(((clean and "env -u MAKEFLAGS -u MAKELEVEL -u BUILD " or "")
      .. "make -s --no-print-directory -C %q env LUA=%s"):format(root, lua))
    assert.is_true(ok, out)
    local path, cpath = out:match("^export LUA_PATH='([^']*)'\nexport LUA_CPATH='([^']*)'\n$")
    assert.is_not_nil(path, out)
    return path, cpath
  end

  it("prints two export lines that load this build tree (the one the suite runs) and nothing else of ours", function()
    local path, cpath = env(H.LUA)
    assert.are.equal(root .. "/lua/?.lua;;", path)
    assert.are.equal(os.getenv("NETSOCKET_BUILD") .. "/?.so;;", cpath)
    local ok, out = sh(("cd / && env -u LUA_INIT LUA_PATH=%q LUA_CPATH=%q %s -e %q"):format(path, cpath, H.LUA,
      "require('socket'); require('mime'); require('socket.url'); "
      .. "print(require('socket')._IMPL, package.loaded['mime.core'] ~= nil)"))
    assert.is_true(ok, out)
    assert.is_truthy(out:match("^netsocket [^\n]*\ttrue\n$"), out)
  end)

  it("gives each interpreter a build directory of its own, 5.4's being build/", function()
    local seen = {}
    for _, lua in ipairs({ "lua5.1", "lua5.2", "lua5.3", "lua5.4", "luajit" }) do
      local _, cpath = env(lua, true)
      assert.is_nil(seen[cpath], cpath)
      seen[cpath] = lua
      assert.are.equal(root .. (lua == "lua5.4" and "/build" or "/build-" .. lua) .. "/?.so;;", cpath)
    end
  end)
end)
