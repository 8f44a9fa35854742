-- One source for every Lua (issue 15): the Lua modules use only syntax that
-- Lua 5.1 parses, and load on the running interpreter without the 5.3
-- spellings spec/compat.lua gives the specs.
local H = require("helper")

local root = os.getenv("NETSOCKET_BUILD"):match("^(.*)/[^/]+$")

-- The paths a shell command in the checkout lists, one per line (at least `min`).
local function listed(cmd, min)
  local out = H.sh("cd '" .. root .. "' && " .. cmd)
  local list = {}
  for path in out:gmatch("[^\n]+") do list[#list + 1] = path end
  assert.is_true(#list > min, out)
  return list
end

local function modules() return listed("ls lua/*.lua lua/socket/*.lua lua/ssl/*.lua", 5) end

-- Every Lua file that ships or that a make target runs: modules (lua/ssl too),
-- samples, the bench drivers and workloads, tools.
local function luafiles() return listed("find lua samples bench tools -name '*.lua' | sort", 30) end

describe("the Lua modules #linux #shell", function()
  it("parse with Lua 5.1 (no //, bitwise operators, goto, <close> or <const>), and so do samples/, bench/ and tools/", function()
    local _, has = H.sh("command -v luac5.1")
    if not has then return pending("luac5.1 is not installed (make deps LUA=lua5.1)") end
    local bad = {}
    for _, path in ipairs(luafiles()) do
      local out, ok = H.sh("luac5.1 -p '" .. root .. "/" .. path .. "'")
      if not ok then bad[#bad + 1] = out end
    end
    assert.are.same({}, bad)
  end)

  it("the samples run on " .. H.LUA .. " without spec/compat.lua: the demo tour passes", function()
    local env = ("cd '%s' && env -u LUA_INIT LUA_PATH='%s/lua/?.lua;;' LUA_CPATH='%s/?.so;;' timeout 120 %s samples/demo.lua")
      :format(root, root, os.getenv("NETSOCKET_BUILD"), H.LUA)
    local out, ok = H.sh(env .. " 2>&1")
    assert.is_true(ok, out)
    assert.matches("all replies matched", out, 1, true)
  end)

  it("and so do the samples (make demo runs them on every Lua)", function()
    local _, has = H.sh("command -v luac5.1")
    if not has then return pending("luac5.1 is not installed (make deps LUA=lua5.1)") end
    local bad = {}
    local out = H.sh("cd '" .. root .. "' && ls samples/*.lua")
    for path in out:gmatch("[^\n]+") do
      local msg, ok = H.sh("luac5.1 -p '" .. root .. "/" .. path .. "'")
      if not ok then bad[#bad + 1] = msg end
    end
    assert.are.same({}, bad)
  end)

  it("load on " .. H.LUA .. " without spec/compat.lua", function()
    local names = {}
    for _, path in ipairs(modules()) do
      names[#names + 1] = path:gsub("^lua/", ""):gsub("%.lua$", ""):gsub("/", ".")
    end
    local code = ("for _, name in ipairs({ %s }) do "
      .. "if name ~= 'socket.ssl' or require('socket')._FEATURES.ssl then require(name) end end "
      .. "print('loaded')"):format(("%q, "):rep(#names):format(table.unpack(names)))
    local out, ok = H.sh(("cd / && env -u LUA_INIT %s -e %q"):format(H.LUA, code))
    assert.is_true(ok, out)
    assert.are.equal("loaded\n", out)
  end)

  it("run a socket.co task on " .. H.LUA .. " without spec/compat.lua", function()
    local code = "local co = require('socket.co'); local got; "
      .. "co.spawn(function(a, b) got = a + b end, 1, 2); assert(co.run(5)); print(got)"
    local out, ok = H.sh(("cd / && env -u LUA_INIT %s -e %q"):format(H.LUA, code))
    assert.is_true(ok, out)
    assert.are.equal("3\n", out)
  end)
end)
