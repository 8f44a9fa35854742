-- Regression: methods that API.md promises on every TCP object are absent
-- from the method table in src/tcp.c:
--   §12.1  server:foreachaccept(handler)
--   §9.5   setssl / starttls / acceptnossl "exist on every TCP object and
--          load socket.ssl on first use. Without OpenSSL they return
--          nil,'ssl not available'".
local socket = require("socket")
local H = require("helper")

describe("regress: §12.1 server:foreachaccept", function()
  it("exists on a server", function()
    local srv = H.server()
    local kind = type(srv.foreachaccept)
    srv:close()
    assert.equal("function", kind)
  end)

  it("calls the handler per client and returns true when it returns false", function()
    local srv, port = H.server()
    srv:settimeout(2)
    local c = assert(socket.connect("127.0.0.1", port))
    local seen = 0
    local ok, r, e = pcall(function()
      return srv:foreachaccept(function(client)
        seen = seen + 1
        client:close()
        return false
      end)
    end)
    c:close()
    srv:close()
    assert.is_true(ok, "foreachaccept raised: " .. tostring(r))
    assert.equal(1, seen)
    assert.is_true(r)
    assert.is_nil(e)
  end)

  it("returns nil,'closed' when accept fails with 'closed'", function()
    local srv = H.server()
    srv:close()
    local ok, r, e = pcall(function() return srv:foreachaccept(function() return true end) end)
    assert.is_true(ok, "foreachaccept raised: " .. tostring(r))
    assert.is_nil(r)
    assert.equal("closed", e)
  end)
end)

describe("regress: §9.5 TLS entry points exist on every TCP object", function()
  for _, name in ipairs({"setssl", "starttls", "acceptnossl"}) do
    it(name .. " exists on tcp objects", function()
      local c, p = H.pair()
      local srv = H.server()
      local kinds = {type(c[name]), type(srv[name])}
      c:close() p:close() srv:close()
      assert.same({"function", "function"}, kinds)
    end)
  end

  it("without OpenSSL, setssl gives nil,'ssl not available'", function()
    if socket._FEATURES.ssl then pending("built with TLS") return end
    local srv = H.server()
    local ok, r, e = pcall(function() return srv:setssl({mode = "server"}) end)
    srv:close()
    assert.is_true(ok, "setssl raised: " .. tostring(r))
    assert.is_nil(r)
    assert.equal("ssl not available", e)
  end)
end)
