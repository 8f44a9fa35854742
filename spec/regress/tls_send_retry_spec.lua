-- Regression (issue 14, attacked): a TLS send that would block leaves a
-- record OpenSSL has encrypted but not written, and OpenSSL writes it on
-- the next SSL_write whatever data that one is given. A send of other
-- data after nil, "wantwrite", last delivered up to 16 KB of the old
-- bytes in place of the new ones and reported success; and stoptls could
-- never get its close_notify past the record (it ran into its timeout).
-- Now such a send, and stoptls, are refused with a clear message; the
-- retry LuaSec documents (the same data, from last + 1) goes on intact.
local S = require("ssl_helper")

local RETRY = "a TLS send that would block must be retried with the same data"

describe("regress: a TLS send after one that would block", function()
  local C
  setup(function() C = S.certs() end)
  teardown(function() if C then C.cleanup() end end)

  -- A pair whose client has a send blocked half way: returns cc, pp, A, last.
  local function blocked()
    local cc, pp, ce, pe = S.tlspair(S.serverparams(C), S.clientparams(C))
    assert.is_nil(ce)
    assert.is_nil(pe)
    local A = S.data(8 * 1024 * 1024, 7)
    cc:settimeout(0)
    local n, err, last = cc:send(A)
    assert.is_nil(n)
    assert.are.equal("wantwrite", err)
    cc:settimeout(5)
    pp:settimeout(5)
    return cc, pp, A, last
  end

  it("other data is refused, not mixed with the blocked bytes", function()
    local cc, pp, A, last = blocked()
    assert.are.equal(A:sub(1, last), S.drain(pp, last))
    assert.same({ nil, RETRY, 0 }, { cc:send(string.rep("B", 100000)) })
    -- the retry of the same data completes it, byte for byte
    local co = require("socket.co")
    local sent, rest
    co.spawn(function() sent = cc:send(A, last + 1) end)
    co.spawn(function() rest = S.drain(pp, #A - last) end)
    assert.is_true(co.run(10))
    assert.are.equal(#A, sent)
    assert.are.equal(A:sub(last + 1), rest)
    cc:close()
    pp:close()
  end)

  it("stoptls says so at once instead of running into its timeout", function()
    local cc, pp = blocked()
    local t0 = os.time()
    assert.same({ nil, RETRY }, { cc:stoptls(3) })
    assert.is_true(os.time() - t0 <= 1)
    cc:close()
    pp:close()
  end)
end)
