-- `luarocks make` installs a working module, offline (DESIGN.md: the core
-- rockspec builds with no OpenSSL and no network).
local H = require("helper")

local build = assert(os.getenv("NETSOCKET_BUILD"), "NETSOCKET_BUILD is not set")
local ROOT = build:gsub("/+$", ""):gsub("/[^/]+$", "")
local ROCKSPEC = "netsocket-scm-1.rockspec"

local function q(s) return "'" .. s:gsub("'", "'\\''") .. "'" end

local function mktempdir()
  local name = os.tmpname()
  os.remove(name)
  local _, ok = H.sh("mkdir -p " .. q(name))
  assert(ok, "cannot create " .. name)
  return name
end

describe("luarocks make", function()
  local tree, empty_server, make_out, make_ok

  setup(function()
    tree = mktempdir()
    -- An empty local "server": luarocks may look nowhere else, so anything
    -- that needs the network fails instead of fetching.
    empty_server = mktempdir()
    make_out, make_ok = H.sh("cd " .. q(ROOT) .. " && luarocks --lua-version=5.4 --only-server="
      .. q(empty_server) .. " make --tree " .. q(tree) .. " " .. ROCKSPEC)
  end)

  teardown(function()
    if tree then H.sh("rm -rf " .. q(tree)) end
    if empty_server then H.sh("rm -rf " .. q(empty_server)) end
  end)

  it("the rockspec is at the repository root and passes luarocks lint", function()
    local f = io.open(ROOT .. "/" .. ROCKSPEC)
    assert.is_not_nil(f, ROOT .. "/" .. ROCKSPEC .. " is missing")
    f:close()
    local out, ok = H.sh("cd " .. q(ROOT) .. " && luarocks --lua-version=5.4 lint " .. ROCKSPEC)
    assert.is_true(ok, out)
  end)

  it("succeeds offline into a private tree", function()
    assert.is_true(make_ok, make_out)
    local f = io.open(tree .. "/lib/lua/5.4/socket/core.so")
    assert.is_not_nil(f, "no socket/core.so in the tree:\n" .. make_out)
    f:close()
    f = io.open(tree .. "/share/lua/5.4/socket.lua")
    assert.is_not_nil(f, "no socket.lua in the tree:\n" .. make_out)
    f:close()
  end)

  it("installs a module that loads from that tree alone and talks over loopback", function()
    assert.is_true(make_ok, make_out)
    local code = [[
      local socket = require("socket")
      local so = package.searchpath("socket.core", package.cpath)
      local lua = package.searchpath("socket", package.path)
      local tree = arg[1]
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
    local lpath = tree .. "/share/lua/5.4/?.lua;" .. tree .. "/share/lua/5.4/?/init.lua"
    local cpath = tree .. "/lib/lua/5.4/?.so"
    local out, ok = H.sh("cd / && env -u LUA_INIT -u LUA_INIT_5_4 LUA_PATH=" .. q(lpath)
      .. " LUA_CPATH=" .. q(cpath) .. " " .. H.LUA .. " " .. q(script) .. " " .. q(tree))
    os.remove(script)
    assert.is_true(ok, out)
    local impl, reply = out:match("^([^\n]*)\n([^\n]*)\n$")
    assert.is_not_nil(impl, out)
    assert.is_truthy(impl:match("^netsocket "), impl)
    assert.are.equal("PING", reply)
  end)
end)
