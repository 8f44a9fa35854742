-- Regression: tcp_meth_listen (src/tcp.c) reads the backlog with
-- luaL_optinteger, so a float backlog raises "number has no integer
-- representation". 3.x reads it with luaL_optnumber and truncates
-- (`(int) luaL_optnumber(L, 2, 32)`), so listen(1.5) is valid 3.x code; a
-- number is not misuse (API.md §0), and §4.1 promises 1 | nil,strerror.
local socket = require("socket")

describe("regress: listen backlog as in 3.x", function()
  it("listen(1.5) is accepted (truncated) and returns integer 1", function()
    local s = socket.tcp4()
    assert.equal(1, s:bind("127.0.0.1", 0))
    local ok, r = pcall(s.listen, s, 1.5)
    s:close()
    assert.is_true(ok, "listen(1.5) raised: " .. tostring(r))
    assert.equal(1, r)
    assert.equal("integer", math.type(r))
  end)

  it("listen('7.9') (a numeric string with a fraction) is accepted", function()
    local s = socket.tcp4()
    assert.equal(1, s:bind("127.0.0.1", 0))
    local ok, r = pcall(s.listen, s, "7.9")
    s:close()
    assert.is_true(ok, "listen('7.9') raised: " .. tostring(r))
    assert.equal(1, r)
  end)
end)
