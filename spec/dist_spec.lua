-- make dist: the versioned rockspecs' source rocks install offline into a
-- fresh tree with `luarocks install`, and socket, socket.ssl and LuaSec's
-- name ssl load from that tree alone (issue 15, Release).
local H = require("helper")

local build = assert(os.getenv("NETSOCKET_BUILD"), "NETSOCKET_BUILD is not set")
local ROOT = build:gsub("/+$", ""):gsub("/[^/]+$", "")
local V = _VERSION:match("%d+%.%d+")

local function q(s) return "'" .. s:gsub("'", "'\\''") .. "'" end
local function tempdir()
  local name = os.tmpname()
  os.remove(name)
  assert(select(2, H.sh("mkdir -p " .. q(name))))
  return name
end

local describe_rocks = V ~= "5.5" and describe
  or function(name) pending(name .. ": Debian's LuaRocks 3.8 does not know Lua 5.5") end

describe_rocks("make dist #linux #shell", function()
  local dist, tree, empty
  setup(function()
    dist, tree, empty = tempdir(), tempdir(), tempdir()
  end)
  teardown(function()
    for _, d in ipairs({dist, tree, empty}) do if d then H.sh("rm -rf " .. q(d)) end end
  end)

  it("makes two source rocks that luarocks installs offline, and they load from that tree #linux #shell", function()
    local _, git = H.sh("cd " .. q(ROOT) .. " && git rev-parse --git-dir")
    if not git then return pending("not a git checkout: make dist packs HEAD") end
    local out, ok = H.sh("make --no-print-directory -C " .. q(ROOT) .. " dist DIST=" .. q(dist))
    assert.is_true(ok, out)
    for _, rock in ipairs({"netsocket-1.0.0-1.src.rock", "netsocket-ssl-1.0.0-1.src.rock"}) do
      out, ok = H.sh(("cd / && luarocks --lua-version=%s --only-server=%s --tree %s install %s")
        :format(V, q(empty), q(tree), q(dist .. "/" .. rock)))
      assert.is_true(ok, out)
    end
    local script = os.tmpname()
    local f = assert(io.open(script, "w"))
    f:write([[
      local tree = arg[1]
      local socket = require("socket")
      local ssl = require("socket.ssl")
      local luasec = require("ssl")
      assert(luasec == ssl, "require('ssl') is not socket.ssl")
      for _, name in ipairs({"socket.core", "socket.ssl.core"}) do
        local found
        for t in package.cpath:gmatch("[^;]+") do
          local file = t:gsub("%?", (name:gsub("%.", "/")))
          local h = io.open(file)
          if h then h:close() found = file break end
        end
        assert(found and found:sub(1, #tree) == tree, name .. " from " .. tostring(found))
      end
      local ctx = assert(ssl.newcontext({ mode = "client", verify = "none" }))
      print(socket._IMPL, type(ctx))
    ]])
    f:close()
    local lpath = tree .. "/share/lua/" .. V .. "/?.lua;" .. tree .. "/share/lua/" .. V .. "/?/init.lua"
    local cpath = tree .. "/lib/lua/" .. V .. "/?.so"
    out, ok = H.sh("cd / && env -u LUA_INIT -u LUA_INIT_" .. V:gsub("%.", "_") .. " LUA_PATH=" .. q(lpath)
      .. " LUA_CPATH=" .. q(cpath) .. " " .. H.LUA .. " " .. q(script) .. " " .. q(tree))
    os.remove(script)
    assert.is_true(ok, out)
    assert.is_truthy(out:match("^netsocket [^\n]*\t"), out)
  end)
end)
