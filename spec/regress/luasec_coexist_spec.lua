-- Issue 14 §6: netsocket's TLS rock and LuaSec both install ssl.lua and
-- ssl/https.lua. In one luarocks tree, luarocks gives a module name to the
-- rock whose name sorts first (luasec), whatever the order; netsocket's
-- ssl.context, ssl.x509 and ssl.config must then hand over to LuaSec's C
-- modules so LuaSec works whole, and get the names back on `luarocks remove
-- luasec` (doc/migration.md, "Installed beside LuaSec"). LuaSec's rock is
-- stood in for by a local rockspec holding Debian's lua-sec Lua files (its
-- C library stays Debian's, on the default cpath): no network.
local H = require("helper")
local S = require("ssl_helper")

local build = assert(os.getenv("NETSOCKET_BUILD"), "NETSOCKET_BUILD is not set")
local ROOT = build:gsub("/+$", ""):gsub("/[^/]+$", "")
local q = S.q
local V = _VERSION:match("%d+%.%d+")          -- LuaJIT: 5.1, as luarocks and Debian's lua-sec have it

-- LuaSec's files on the default paths (Debian's lua-sec), not this tree's
local function find(path, file)
  for template in path:gmatch("[^;]+") do
    local name = template:gsub("%?", file)
    local f = not template:find(ROOT, 1, true) and io.open(name)
    if f then
      f:close()
      return name
    end
  end
end
local LUASEC_LUA = find(package.path, "ssl") or "/usr/share/lua/" .. V .. "/ssl.lua"
local LUASEC_HTTPS = find(package.path, "ssl/https") or "/usr/share/lua/" .. V .. "/ssl/https.lua"
local LUASEC_LIBDIR = (find(package.cpath, "ssl") or ""):match("^(.*)/[^/]*$") or "/usr/lib/x86_64-linux-gnu/lua/" .. V

-- (Debian's LuaRocks 3.8 does not know Lua 5.5, nor is there a LuaSec for it)
local describe_rocks = V ~= "5.5" and describe
  or function(name) pending(name .. ": no LuaRocks or LuaSec for Lua 5.5 here") end

describe_rocks("regress: netsocket-ssl and LuaSec in one luarocks tree #linux #shell", function()
  local dir, tree, server

  local function rocks(args)
    return H.sh("luarocks --lua-version=" .. V .. " --only-server=" .. q(server) .. " --tree " .. q(tree) .. " " .. args)
  end

  -- What require("ssl") and its submodules are, in a child that sees the
  -- tree only (and this build's socket.core, Debian's LuaSec C library).
  local function probe()
    local script = dir .. "/probe.lua"
    local f = assert(io.open(script, "w"))
    f:write([[
      local ssl = require("ssl")
      local ours = ssl == require("socket.ssl")
      local context = require("ssl.context")
      local ctx = assert(ssl.newcontext({ mode = "client", protocol = "any", verify = "none" }))
      assert(context.setcipher(ctx, "HIGH"))
      assert(require("ssl.x509").load)
      assert(require("ssl.config").protocols)
      assert(require("ssl.https").request)
      -- LuaSec's create is C (its ssl.context), netsocket's is Lua
      print((ours and "netsocket " or "luasec ") .. ssl._VERSION .. " " .. debug.getinfo(context.create).what)
    ]])
    f:close()
    local env = ("LUA_PATH=%s LUA_CPATH=%s "):format(
      q(tree .. "/share/lua/" .. V .. "/?.lua;" .. tree .. "/share/lua/" .. V .. "/?/init.lua;" .. ROOT .. "/lua/?.lua"),
      q(tree .. "/lib/lua/" .. V .. "/?.so;" .. build .. "/?.so;" .. LUASEC_LIBDIR .. "/?.so"))
    return H.sh(env .. H.LUA .. " " .. q(script))
  end

  setup(function()
    dir = os.tmpname()
    os.remove(dir)
    tree, server = dir .. "/tree", dir .. "/server"
    assert(os.execute("mkdir -p " .. q(dir .. "/luasec/ssl") .. " " .. q(server)))
  end)

  teardown(function()
    if dir then H.sh("rm -rf " .. q(dir)) end
  end)

  it("LuaSec keeps ssl and ssl.https, the other names follow it; removing LuaSec gives them back", function()
    assert(io.open(LUASEC_LUA) and io.open(LUASEC_HTTPS),
      "Debian's lua-sec (scripts/deps.sh installs it) is needed for this spec")
    local src = dir .. "/luasec"
    assert(os.execute(("cp %s %s && cp %s %s"):format(q(LUASEC_LUA), q(src .. "/ssl.lua"),
      q(LUASEC_HTTPS), q(src .. "/ssl/https.lua"))))
    local f = assert(io.open(src .. "/luasec-1.2.0-1.rockspec", "w"))
    f:write([[
package = "luasec"
version = "1.2.0-1"
source = { url = "git+file:///dev/null" }
build = { type = "builtin", modules = { ssl = "ssl.lua", ["ssl.https"] = "ssl/https.lua" } }
]])
    f:close()
    -- netsocket-ssl first, LuaSec second: LuaSec still gets the names
    local out, ok = H.sh("cd " .. q(ROOT) .. " && luarocks --lua-version=" .. V .. " --only-server=" .. q(server)
      .. " --tree " .. q(tree) .. " make --deps-mode=none netsocket-ssl-scm-1.rockspec")
    assert.is_true(ok, out)
    out, ok = probe()
    assert.is_true(ok, out)
    assert.matches("^netsocket .* Lua\n", out)
    out, ok = H.sh("cd " .. q(src) .. " && luarocks --lua-version=" .. V .. " --only-server=" .. q(server)
      .. " --tree " .. q(tree) .. " make luasec-1.2.0-1.rockspec")
    assert.is_true(ok, out)
    out, ok = probe()
    assert.is_true(ok, out)
    assert.matches("^luasec 1%.2[%.%d]* C\n", out)
    -- LuaSec removed: the names are netsocket's again
    out, ok = rocks("remove luasec")
    assert.is_true(ok, out)
    out, ok = probe()
    assert.is_true(ok, out)
    assert.matches("^netsocket .* Lua\n", out)
  end)
end)
