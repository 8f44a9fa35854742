-- Building socket.ssl.core: warning-free under gcc and clang, exporting only
-- its luaopen; `make` without OpenSSL headers says what to install and still
-- builds the core; the netsocket-ssl rock installs offline next to the core.
local H = require("helper")
local S = require("ssl_helper")
local q = S.q

local ROOT = os.getenv("NETSOCKET_BUILD"):match("^(.*)/[^/]+$")
local V = _VERSION:match("%d+%.%d+")          -- luarocks' --lua-version (LuaJIT: 5.1)

local function tmpdir()
  local d = os.tmpname()
  os.remove(d)
  assert(select(2, H.sh("mkdir -p " .. q(d))))
  return d
end

describe("socket.ssl.core build #linux #shell", function()
  for _, cc in ipairs({ "gcc", "clang" }) do
    it("compiles with -Wall -Wextra -Werror under " .. cc .. " and exports only its luaopen", function()
      local dir = tmpdir()
      local out, ok = H.sh(("make -s -C %s ssl CC=%s BUILD=%s"):format(q(ROOT), cc, q(dir)))
      assert.is_true(ok, out)
      assert.is_nil(out:find("warning", 1, true), out)
      local syms, nok = H.sh("nm -D --defined-only " .. q(dir .. "/socket/ssl/core.so"))
      assert.is_true(nok, syms)
      local exported = {}
      for name in syms:gmatch("%x+ %u (%S+)") do exported[#exported + 1] = name end
      assert.are.same({ "luaopen_socket_ssl_core" }, exported)
      H.sh("rm -rf " .. q(dir))
    end)
  end

  it("without OpenSSL headers, make names the package to install and builds the core", function()
    local dir = tmpdir()
    -- a pkg-config that knows everything but OpenSSL
    local fake = dir .. "/pkg-config"
    local f = assert(io.open(fake, "w"))
    f:write('#!/bin/sh\nfor a in "$@"; do [ "$a" = openssl ] && exit 1; done\nexec pkg-config "$@"\n')
    f:close()
    H.sh("chmod +x " .. q(fake))
    local out, ok = H.sh(("make -C %s PKG_CONFIG=%s BUILD=%s"):format(q(ROOT), q(fake), q(dir .. "/b")))
    assert.is_true(ok, out)
    assert.truthy(out:find("install libssl-dev", 1, true), out)
    assert.truthy(io.open(dir .. "/b/socket/core.so"), "no core.so")
    assert.is_nil(io.open(dir .. "/b/socket/ssl/core.so"))
    local out2, ok2 = H.sh(("make -C %s ssl PKG_CONFIG=%s BUILD=%s"):format(q(ROOT), q(fake), q(dir .. "/b")))
    assert.is_false(ok2)
    assert.truthy(out2:find("install libssl-dev", 1, true), out2)
    H.sh("rm -rf " .. q(dir))
  end)
end)

-- (Debian's LuaRocks 3.8 does not know Lua 5.5: make install LUA=lua5.5 covers it)
local describe_rocks = V ~= "5.5" and describe
  or function(name) pending(name .. ": Debian's LuaRocks 3.8 does not know Lua 5.5") end

describe_rocks("netsocket-ssl-scm-1.rockspec #linux #shell", function()
  local tree, empty, out, ok
  setup(function()
    tree, empty = tmpdir(), tmpdir()
    local lr = "cd " .. q(ROOT) .. " && luarocks --lua-version=" .. V .. " --only-server=" .. q(empty)
      .. " make --tree " .. q(tree) .. " "
    out, ok = H.sh(lr .. "netsocket-scm-1.rockspec")
    if ok then
      local o2
      o2, ok = H.sh(lr .. "netsocket-ssl-scm-1.rockspec")
      out = out .. o2
    end
  end)
  teardown(function() H.sh("rm -rf " .. q(tree) .. " " .. q(empty)) end)

  it("passes luarocks lint", function()
    local lint, lok = H.sh("cd " .. q(ROOT) .. " && luarocks --lua-version=" .. V .. " lint netsocket-ssl-scm-1.rockspec")
    assert.is_true(lok, lint)
  end)

  it("installs offline after the core rock, and the module loads from that tree alone", function()
    assert.is_true(ok, out)
    local code = [[
      local ssl = require("socket.ssl")
      local so                                   -- (5.1 has no package.searchpath)
      for t in package.cpath:gmatch("[^;]+") do
        local h = io.open((t:gsub("%?", "socket/ssl/core")))
        if h then h:close() so = so or t:gsub("%?", "socket/ssl/core") end
      end
      assert(so:sub(1, #arg[1]) == arg[1], so)
      assert(require("socket")._FEATURES.ssl)
      print(ssl._VERSION, ssl.newcontext({}) ~= nil)
    ]]
    local script = os.tmpname()
    local f = assert(io.open(script, "w"))
    f:write(code)
    f:close()
    local lpath = tree .. "/share/lua/" .. V .. "/?.lua"
    local cpath = tree .. "/lib/lua/" .. V .. "/?.so"
    local res, rok = H.sh("cd / && env -u LUA_INIT -u LUA_INIT_5_4 LUA_PATH=" .. q(lpath) .. " LUA_CPATH="
      .. q(cpath) .. " " .. H.LUA .. " " .. q(script) .. " " .. q(tree))
    os.remove(script)
    assert.is_true(rok, res)
    assert.are.equal("1.3.2\ttrue\n", res)
  end)
end)
