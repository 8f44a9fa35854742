-- Regression (issue 14, attacked): a password function that raised while
-- OpenSSL decrypted the key lost its error: newcontext answered nil,
-- "error loading private key (bad decrypt)". LuaSec lets the error through
-- (raised by newcontext and by ssl.context.loadkey); so does netsocket now,
-- raised only once OpenSSL has returned.
local ssl = require("socket.ssl")
local S = require("ssl_helper")

describe("regress: a raising password callback", function()
  local C
  setup(function() C = S.certs() end)
  teardown(function() if C then C.cleanup() end end)

  local function params(pw)
    return { mode = "server", certificate = C.server, key = C.serverenckey, password = pw }
  end

  it("newcontext raises the callback's error", function()
    local ok, err = pcall(ssl.newcontext, params(function() error("no password today", 0) end))
    assert.is_false(ok)
    assert.are.equal("no password today", err)
    local t = {}
    ok, err = pcall(ssl.newcontext, params(function() error(t) end))
    assert.is_false(ok)
    assert.are.equal(t, err)
  end)

  it("ssl.context.loadkey raises it too", function()
    local context = require("ssl.context")
    local ctx = assert(context.create("any"))
    local ok, err = pcall(context.loadkey, ctx, C.serverenckey, function() error("nope", 0) end)
    assert.is_false(ok)
    assert.are.equal("nope", err)
    assert.is_true(context.loadkey(ctx, C.serverenckey, function() return "secret" end))
  end)

  it("a good password, and a wrong one, answer as before", function()
    assert.is_not_nil(ssl.newcontext(params(function() return "secret" end)))
    assert.is_not_nil(ssl.newcontext(params("secret")))
    local ctx, err = ssl.newcontext(params(function() return "wrong" end))
    assert.is_nil(ctx)
    assert.matches("^error loading private key", err)
  end)
end)
