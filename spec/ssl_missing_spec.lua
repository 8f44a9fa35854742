-- Issue 8: require("socket.ssl") without the TLS C module says how to get it.
local H = require("helper")

local build = os.getenv("NETSOCKET_BUILD")
local root = build:match("^(.*)/[^/]+$")

describe("socket.ssl without socket.ssl.core #linux #shell", function()
  it("fails with a message that names the package to install and the command to run", function()
    local dir = os.tmpname()
    os.remove(dir)
    assert(os.execute("mkdir -p " .. dir .. "/socket && cp " .. build .. "/socket/core.so " .. dir .. "/socket/"))
    local out = H.sh(("cd %s && LUA_PATH=%q LUA_CPATH=%q %s -e %q 2>&1"):format(dir,
      root .. "/lua/?.lua", dir .. "/?.so", H.LUA,
      'local ok, e = pcall(require, "socket.ssl") print(ok, e)'))
    os.execute("rm -rf " .. dir)
    assert.is_truthy(out:find("false", 1, true), out)
    assert.is_truthy(out:find("libssl-dev", 1, true), out)
    assert.is_truthy(out:find("luarocks make netsocket-ssl-scm-1.rockspec", 1, true), out)
  end)
end)

describe("socket._FEATURES.ssl #linux #shell", function()
  -- A fresh process: nothing has required socket.ssl yet.
  local function features(cpath)
    local out, ok = H.sh(("LUA_PATH=%q LUA_CPATH=%q %s -e %q 2>&1"):format(root .. "/lua/?.lua", cpath, H.LUA,
      'local s = require("socket") print(s._FEATURES.ssl, package.loaded["socket.ssl.core"] ~= nil)'))
    assert.is_true(ok, out)
    return out
  end

  it("is true when socket.ssl.core can be found, before anything loads it", function()
    if not pcall(require, "socket.ssl") then return pending("socket.ssl is not built here") end
    assert.equal("true\tfalse\n", features(build .. "/?.so"))
  end)

  it("is false when socket.ssl.core cannot be found", function()
    local dir = os.tmpname()
    os.remove(dir)
    assert(os.execute("mkdir -p " .. dir .. "/socket && cp " .. build .. "/socket/core.so " .. dir .. "/socket/"))
    local out = features(dir .. "/?.so")
    os.execute("rm -rf " .. dir)
    assert.equal("false\tfalse\n", out)
  end)
end)
