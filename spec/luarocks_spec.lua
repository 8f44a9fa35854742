-- `luarocks make` installs a working module, offline (DESIGN.md: the core
-- rockspec builds with no OpenSSL and no network).
local H = require("helper")

local build = assert(os.getenv("NETSOCKET_BUILD"), "NETSOCKET_BUILD is not set")
local ROOT = build:gsub("/+$", ""):gsub("/[^/]+$", "")
local ROCKSPEC = "netsocket-scm-1.rockspec"
-- The running interpreter's module ABI (LuaJIT's is 5.1's): the rock is
-- built and loaded for it. Debian's LuaRocks 3.8 does not know Lua 5.5,
-- where `make install` is the way (tested below).
local V = _VERSION:match("%d+%.%d+")
local ROCKS = V ~= "5.5"

local function q(s) return "'" .. s:gsub("'", "'\\''") .. "'" end

local function mktempdir()
  local name = os.tmpname()
  os.remove(name)
  local _, ok = H.sh("mkdir -p " .. q(name))
  assert(ok, "cannot create " .. name)
  return name
end

-- Loads socket from lib/ and lua/ of an installed tree alone (LUA_INIT
-- unset) and talks over loopback; returns socket._IMPL and the reply.
local function check_tree(tree, libdir, luadir)
  local code = [[
    local tree = arg[1]
    local function where(name, path)   -- package.searchpath, which 5.1 lacks
      for t in path:gmatch("[^;]+") do
        local file = t:gsub("%?", (name:gsub("%.", "/")))
        local f = io.open(file)
        if f then f:close() return file end
      end
    end
    local socket = require("socket")
    local so, lua = where("socket.core", package.cpath), where("socket", package.path)
    assert(so and so:sub(1, #tree) == tree, "socket.core from " .. tostring(so))
    assert(lua and lua:sub(1, #tree) == tree, "socket.lua from " .. tostring(lua))
    assert(package.loaded["socket.core"] == socket)
    print(socket._IMPL)
    local srv = assert(socket.bind("127.0.0.1", 0))
    local _, port = srv:getsockname()
    local c = assert(socket.connect("127.0.0.1", port))
    srv:settimeout(5)
    local p = assert(srv:accept())
    assert(c:send("ping\n") == 5)
    p:settimeout(5)
    local line = assert(p:receive())
    assert(p:send(line:upper() .. "\n"))
    c:settimeout(5)
    local reply = assert(c:receive())
    print(reply)
    c:close(); p:close(); srv:close()
  ]]
  local script = os.tmpname()
  local f = assert(io.open(script, "w"))
  f:write(code)
  f:close()
  local lpath = luadir .. "/?.lua;" .. luadir .. "/?/init.lua"
  local cpath = libdir .. "/?.so"
  local out, ok = H.sh("cd / && env -u LUA_INIT -u LUA_INIT_" .. V:gsub("%.", "_") .. " LUA_PATH=" .. q(lpath)
    .. " LUA_CPATH=" .. q(cpath) .. " " .. H.LUA .. " " .. q(script) .. " " .. q(tree))
  os.remove(script)
  assert.is_true(ok, out)
  local impl, reply = out:match("^([^\n]*)\n([^\n]*)\n$")
  assert.is_not_nil(impl, out)
  assert.is_truthy(impl:match("^netsocket "), impl)
  assert.are.equal("PING", reply)
end

local describe_rocks = ROCKS and describe
  or function(name) pending(name .. ": Debian's LuaRocks 3.8 does not know Lua 5.5 (make install below)") end

describe_rocks("luarocks make #linux #shell", function()
  local tree, empty_server, make_out, make_ok

  setup(function()
    tree = mktempdir()
    -- An empty local "server": luarocks may look nowhere else, so anything
    -- that needs the network fails instead of fetching.
    empty_server = mktempdir()
    make_out, make_ok = H.sh("cd " .. q(ROOT) .. " && luarocks --lua-version=" .. V .. " --only-server="
      .. q(empty_server) .. " make --tree " .. q(tree) .. " " .. ROCKSPEC)
  end)

  teardown(function()
    if tree then H.sh("rm -rf " .. q(tree)) end
    if empty_server then H.sh("rm -rf " .. q(empty_server)) end
  end)

  it("the rockspec is at the repository root and passes luarocks lint #linux #shell", function()
    local f = io.open(ROOT .. "/" .. ROCKSPEC)
    assert.is_not_nil(f, ROOT .. "/" .. ROCKSPEC .. " is missing")
    f:close()
    local out, ok = H.sh("cd " .. q(ROOT) .. " && luarocks --lua-version=" .. V .. " lint " .. ROCKSPEC)
    assert.is_true(ok, out)
  end)

  it("succeeds offline into a private tree #linux #shell", function()
    assert.is_true(make_ok, make_out)
    local f = io.open(tree .. "/lib/lua/" .. V .. "/socket/core.so")
    assert.is_not_nil(f, "no socket/core.so in the tree:\n" .. make_out)
    f:close()
    f = io.open(tree .. "/share/lua/" .. V .. "/socket.lua")
    assert.is_not_nil(f, "no socket.lua in the tree:\n" .. make_out)
    f:close()
  end)

  it("installs a module that loads from that tree alone and talks over loopback #linux #shell", function()
    assert.is_true(make_ok, make_out)
    check_tree(tree, tree .. "/lib/lua/" .. V, tree .. "/share/lua/" .. V)
  end)
end)

-- Every version, 5.5 too (which Debian's LuaRocks does not know): the
-- Makefile's own install into a private tree, for the running interpreter.
describe("make install LUA=" .. H.LUA, function()
  it("installs the core, mime and the Lua modules, which load from that tree alone #linux #shell", function()
    local tree = mktempdir()
    local out, ok = H.sh(("make --no-print-directory -C %s install LUA=%s INST_LIBDIR=%s INST_LUADIR=%s")
      :format(q(ROOT), q(H.LUA), q(tree .. "/lib"), q(tree .. "/share")))
    assert.is_true(ok, out)
    check_tree(tree, tree .. "/lib", tree .. "/share")
    H.sh("rm -rf " .. q(tree))
  end)
end)
