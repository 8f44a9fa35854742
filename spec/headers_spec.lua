-- socket.headers (doc/url.md): the canonic table of 3.x, checked entry by
-- entry and, where Debian's lua-socket is installed, against its 3.1.0 copy.
local socket = require("socket")
local headers = require("socket.headers")

local DEBIAN = "/usr/share/lua/5.4/socket/headers.lua"
local debian = loadfile(DEBIAN, "t", setmetatable({
  require = function(name) return name == "socket" and {} or require(name) end,
}, { __index = _G }))

describe("socket.headers", function()
  it("is stored as require('socket').headers and has only canonic", function()
    assert.equal(headers, socket.headers)
    assert.equal(headers, package.loaded["socket.headers"])
    local keys = {}
    for k in pairs(headers) do keys[#keys + 1] = k end
    assert.same({ "canonic" }, keys)
  end)

  it("maps lower-case names to their canonical spelling", function()
    local c = headers.canonic
    assert.equal("Content-Type", c["content-type"])
    assert.equal("Content-ID", c["content-id"])
    assert.equal("Content-MD5", c["content-md5"])
    assert.equal("ETag", c["etag"])
    assert.equal("TE", c["te"])
    assert.equal("WWW-Authenticate", c["www-authenticate"])
    assert.equal("MIME-Version", c["mime-version"])
    assert.equal("DSN-Gateway", c["dsn-gateway"])
    assert.equal("SMTP-Remote-Recipient", c["smtp-remote-recipient"])
    assert.equal("Received-From-MTA", c["received-from-mta"])
    assert.equal("X-Mailer", c["x-mailer"])
    assert.equal("Referer", c["referer"])
  end)

  it("has 91 names, each the key's spelling, and nothing else", function()
    local n = 0
    for k, v in pairs(headers.canonic) do
      n = n + 1
      assert.equal(k, v:lower())
      assert.is_nil(k:find("[^a-z0-9-]"))
    end
    assert.equal(91, n)
  end)

  it("knows no other names: callers keep those as they are", function()
    assert.is_nil(headers.canonic["x-custom"])
    assert.is_nil(headers.canonic["Content-Type"])
    assert.is_nil(headers.canonic["set-cookie"])
  end)

  if debian then
    it("is the same table as Debian's 3.1.0 socket.headers", function()
      assert.same(debian().canonic, headers.canonic)
    end)
  else
    pending("Debian's " .. DEBIAN .. " is not installed: agreement with 3.1.0 not checked")
  end
end)
