-- The Windows harness itself (make test-windows): busted runs under Wine on
-- the mingw-built Lua, with busted's C modules built the same way.
if package.config:sub(1, 1) ~= "\\" then   -- make test-windows runs these, under Wine
  pending("Windows only: make test-windows")
  return
end
describe("windows harness", function()
  it("runs on the Windows Lua", function()
    assert.equal("\\", package.config:sub(1, 1))
    assert.equal("Lua 5.4", _VERSION)
  end)

  it("loads the cross-built C modules busted needs", function()
    local lfs = require("lfs")
    assert.equal("directory", lfs.attributes(".", "mode"))
    local system = require("system")
    local t0 = system.monotime()
    system.sleep(0.01)
    assert.is_true(system.monotime() > t0)
  end)
end)

describe("mime.core on Windows", function()
  it("loads from the build and encodes", function()
    local mime = require("mime")
    assert.equal("aGVsbG8=", (mime.b64("hello")))
    assert.equal("a=3Db", (mime.qp("a=b")))
  end)
end)
