-- Regression: a Lua error raised inside an OpenSSL callback (an SNI map's
-- __index, an ALPN selector or the list it returns, PSK, DH) unwound
-- through OpenSSL's frames: the method raised instead of failing, OpenSSL's
-- state for that handshake leaked, and a setssl server's accepted socket
-- stayed open. Every callback now runs its Lua part under lua_pcall: the
-- handshake fails cleanly with the error's text, and the accepted socket
-- is closed at once.
local socket = require("socket")
local co = require("socket.co")
local H = require("helper")
local S = require("ssl_helper")
local ssl = require("socket.ssl")

-- A table whose __index raises; with `hole`, an array with a hole at 2,
-- so that even a reader that goes by its length meets the __index.
local function raising(msg, hole)
  -- a hole inside the raw length: { "h2", nil, "x" } may have the border 1
  -- (LuaJIT's and 5.5's is); with a hash part, and the length taken before
  -- the hole is made, every Lua here gives 3
  local t = {}
  if hole then
    t = { n = 3, "h2", "y", "x" }
    assert(#t == 3)
    t[2] = nil
    assert(#t == 3, "this Lua puts the border of the list at " .. #t)
  end
  return setmetatable(t, { __index = function() error(msg, 0) end })
end

describe("regress: errors in TLS callbacks fail the handshake cleanly", function()
  local C
  setup(function() C = S.certs() end)
  teardown(function() if C then C.cleanup() end end)

  -- Both handshakes under pcall: the old code raised out of dohandshake.
  local function handshake(sparams, cparams, prep)
    local c, p = S.tcppair()
    local cc = assert(ssl.wrap(c, cparams))
    local pp = assert(ssl.wrap(p, sparams))
    if prep then prep(cc, pp) end
    local ok, cerr, perr = pcall(S.handshake, cc, pp)
    cc:close()
    pp:close()
    assert(ok, "a callback error escaped: " .. tostring(cerr))
    return cerr, perr
  end

  local TLS12PSK = { protocol = "tlsv1_2", ciphers = "PSK-AES128-GCM-SHA256" }
  local function with(base, extra)
    local t = {}
    for k, v in pairs(base) do t[k] = v end
    for k, v in pairs(extra) do t[k] = v end
    return t
  end

  it("an SNI map whose __index raises", function()
    local cerr, perr = handshake(S.serverparams(C), S.clientparams(C), function(_, pp)
      assert.is_true(pp:sni(raising("sni boom")))
    end)
    assert.are.equal("sni boom", perr)
    assert.truthy(cerr)
  end)

  it("an ALPN selector that raises, or returns a list whose __index raises", function()
    local cerr, perr = handshake(S.serverparams(C, { alpn = function() error("alpn boom", 0) end }),
      S.clientparams(C, { alpn = { "h2" } }))
    assert.are.equal("alpn boom", perr)
    assert.truthy(cerr)
    cerr, perr = handshake(S.serverparams(C, { alpn = function() return raising("list boom", true) end }),
      S.clientparams(C, { alpn = { "h2" } }))
    assert.are.equal("list boom", perr)
    assert.truthy(cerr)
  end)

  it("PSK callbacks that raise, on either side", function()
    local good = {
      server = with(TLS12PSK, { mode = "server", psk = function() return "0123456789abcdef" end }),
      client = with(TLS12PSK, { mode = "client", verify = "none",
        psk = function() return "id", "0123456789abcdef" end }),
    }
    local cerr, perr = handshake(good.server,
      with(good.client, { psk = function() error("client psk boom", 0) end }))
    assert.are.equal("client psk boom", cerr)
    assert.truthy(perr)
    cerr, perr = handshake(with(good.server, { psk = function() error("server psk boom", 0) end }),
      good.client)
    assert.are.equal("server psk boom", perr)
    assert.truthy(cerr)
  end)

  it("a dhparam callback that raises", function()
    local dhe = "DHE-RSA-AES128-GCM-SHA256"
    local cerr, perr = handshake(
      S.serverparams(C, { protocol = "tlsv1_2", ciphers = dhe, dhparam = function() error("dh boom", 0) end }),
      S.clientparams(C, { ciphers = dhe }))
    assert.are.equal("dh boom", perr)
    assert.truthy(cerr)
  end)

  it("an error value that is not a string, and a callback that yields", function()
    local _, perr = handshake(S.serverparams(C, { alpn = function() error({}) end }),
      S.clientparams(C, { alpn = { "h2" } }))
    assert.are.equal("error in a TLS callback (not a string)", perr)
    local got
    co.spawn(function()
      got = { handshake(S.serverparams(C, { alpn = function() coroutine.yield() return { "h2" } end }),
        S.clientparams(C, { alpn = { "h2" } })) }
    end)
    co.run()
    assert.truthy(tostring(got[2]):find("yield", 1, true), tostring(got[2]))
  end)

  it("a callback that closes or drives its own conn is refused (it freed the SSL under OpenSSL)", function()
    for _, use in ipairs({ "close", "receive", "send", "dohandshake", "stoptls" }) do
      local pp
      local _, perr = handshake(S.serverparams(C, { alpn = function()
        pp:settimeout(0)
        pp[use](pp, use == "send" and "x" or nil)
        return { "h2" }
      end }), S.clientparams(C, { alpn = { "h2" } }), function(_, p) pp = p end)
      assert.truthy(tostring(perr):find("a TLS connection cannot be used inside its own callback", 1, true),
        use .. ": " .. tostring(perr))
    end
  end)

  it("a setssl server closes the client at once and leaks no descriptor", function()
    local srv = assert(socket.bind("127.0.0.1", 0))
    local _, port = srv:getsockname()
    assert(srv:setssl(S.serverparams(C, { alpn = function() error("accept boom", 0) end })))
    srv:settimeout(5)
    local before = H.fdcount()
    for _ = 1, 10 do
      local acc, res
      co.spawn(function() acc = table.pack(co.pcall(srv.accept, srv)) end)   -- (a plain pcall's waits block on PUC 5.1)
      co.spawn(function()
        local cc = assert(ssl.wrap(assert(socket.connect("127.0.0.1", port)),
          S.clientparams(C, { alpn = { "h2" } })))
        cc:settimeout(5)
        res = table.pack(cc:dohandshake())
        cc:close()
      end)
      co.run()
      assert.are.same({ true, nil, "accept boom", n = 3 }, acc)
      assert.is_false(res[1])
    end
    assert.are.equal(before, H.fdcount())
    srv:close()
  end)
end)
