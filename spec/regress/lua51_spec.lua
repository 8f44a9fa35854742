-- The Lua files must load under Lua 5.1 and LuaJIT (DESIGN.md): socket.ftp
-- used the 5.3 integer division `//` (a syntax error there, so
-- require("socket.ftp") failed), and ltn12's sink.chain of two filters
-- called table.unpack, which 5.1 does not have.
local function found(cmd)
  local f = io.popen("command -v " .. cmd .. " 2>/dev/null")
  local out = f:read("*a")
  f:close()
  return out ~= ""
end

local function run(cmd)
  local f = io.popen(cmd .. " 2>&1")
  local out = f:read("*a")
  local ok = f:close()
  return ok, out
end

local root = assert(os.getenv("NETSOCKET_BUILD"), "run through `make test`"):match("^(.*)/[^/]+$")

local function luafiles()
  local files = {}
  local f = io.popen("find '" .. root .. "/lua' -name '*.lua' | sort")
  for line in f:lines() do files[#files + 1] = line end
  f:close()
  return files
end

describe("regress: the Lua modules under Lua 5.1 and LuaJIT", function()
  for _, tool in ipairs({ { "luac5.1", "luac5.1 -p '%s'" }, { "luajit", "luajit -bl '%s' >/dev/null" } }) do
    local it_ = found(tool[1]) and it or pending
    it_("every file in lua/ parses with " .. tool[1], function()
      local files = luafiles()
      assert.is_true(#files > 10)
      for _, file in ipairs(files) do
        local ok, out = run(tool[2]:format(file))
        assert.is_true(ok, out)
      end
    end)
  end

  local it_ = found("lua5.1") and it or pending
  it_("ltn12 chains filters into a sink and a source under lua5.1", function()
    local script = [[
      package.path = ROOT .. "/lua/?.lua"
      local ltn12 = require("ltn12")
      local up = function(c) return c and c:upper() end
      local rev = function(c) return c and c:reverse() end
      local out = {}
      local snk = ltn12.sink.chain(up, rev, (ltn12.sink.table(out)))
      assert(ltn12.pump.all(ltn12.source.chain(ltn12.source.string("abc"), up, rev), snk))
      io.write(table.concat(out))
    ]]
    local ok, out = run("lua5.1 -e " .. ("ROOT=%q "):format(root):gsub("'", "'\\''"):gsub("^", "'") .. "' -e '"
      .. script:gsub("'", "'\\''") .. "'")
    assert.is_true(ok, out)
    assert.equal("ABC", out)
  end)
end)
