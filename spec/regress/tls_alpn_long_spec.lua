-- Regression (issue 14, attacked): an ALPN list longer than the buffer's
-- first block (about 1 KB of names) was built with a length byte added to
-- the string buffer while the name sat above it on the stack: the buffer
-- grew into a freed block (heap corruption: "malloc(): invalid next->
-- prev_inuse", an abort, or a garbled list). Long lists, from params and
-- from a server's selector, now encode whole.
local S = require("ssl_helper")

describe("regress: long ALPN lists", function()
  local C
  setup(function() C = S.certs() end)
  teardown(function() if C then C.cleanup() end end)

  local function long(last, n)
    local t = {}
    for i = 1, n or 20 do t[i] = string.rep(string.char(97 + i % 26), 255) end
    t[#t + 1] = last
    return t
  end

  it("a client's long list negotiates its last name", function()
    for _ = 1, 5 do
      local cc, pp, ce, pe = S.tlspair(S.serverparams(C, { alpn = long("h2") }), S.clientparams(C, { alpn = long("h2") }))
      assert.is_nil(ce)
      assert.is_nil(pe)
      assert.are.equal(string.rep("b", 255), cc:getalpn())
      cc:close()
      pp:close()
    end
  end)

  it("a selector's long answer (75 KB) is encoded whole", function()
    assert.is_not_nil(require("socket.ssl").newcontext(S.clientparams(C, { alpn = long("h2", 300) })))
    local sel = function() return long("h2", 300) end
    local cc, pp, ce, pe = S.tlspair(S.serverparams(C, { alpn = sel }), S.clientparams(C, { alpn = { "x", "h2" } }))
    assert.is_nil(ce)
    assert.is_nil(pe)
    assert.are.equal("h2", cc:getalpn())
    assert.are.equal("h2", pp:getalpn())
    cc:close()
    pp:close()
  end)
end)
