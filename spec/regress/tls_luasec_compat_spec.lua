-- Regression: three LuaSec behaviours real programs rely on.
--  * A server with conn:sni(map, true) (strict) refused a client that sends
--    no SNI at all (one connecting by IP address, curl https://127.0.0.1);
--    LuaSec keeps the default context then, and fails only a named host
--    the map does not know.
--  * The PSK client callback is called as (hint, max_identity_len,
--    max_psk_len); netsocket passed two arguments.
--  * The dhparam callback is called when a handshake needs DH parameters,
--    as (is_export, keylength); netsocket called it once, in newcontext,
--    with (false, 2048).
local socket = require("socket")
local H = require("helper")
local S = require("ssl_helper")
local ssl = require("socket.ssl")

describe("regress: LuaSec compatibility of SNI maps, PSK and dhparam", function()
  local C
  setup(function() C = S.certs() end)
  teardown(function() if C then C.cleanup() end end)

  local function strictpair(cparams, host)
    local other = assert(ssl.newcontext({ mode = "server", certificate = C.wronghost, key = C.wronghostkey }))
    local c, p = S.tcppair(host)
    local cc = assert(ssl.wrap(c, cparams))
    local pp = assert(ssl.wrap(p, S.serverparams(C)))
    assert.is_true(pp:sni({ ["wrong.example"] = other }, true))
    local cerr, perr = S.handshake(cc, pp)
    return cc, pp, cerr, perr
  end

  it("strict SNI keeps the default context for a client that names nothing", function()
    -- by IP address: no SNI goes out, the IP is checked against the default certificate
    local cc, pp, cerr, perr = strictpair(S.clientparams(C), "127.0.0.1")
    assert.is_nil(cerr)
    assert.is_nil(perr)
    assert.is_nil(pp:getsniname())
    assert.are.equal("localhost", cc:getpeercertificate():subject()[1].value)
    cc:close()
    pp:close()
    -- a named host the map knows gets its context; an unknown one is refused
    cc, pp, cerr, perr = strictpair(S.clientparams(C, { servername = "wrong.example" }))
    assert.is_nil(cerr)
    assert.is_nil(perr)
    assert.are.equal("wrong.example", pp:getsniname())
    cc:close()
    pp:close()
    cc, pp, cerr, perr = strictpair(S.clientparams(C, { servername = "unknown.example", verify = "none" }))
    assert.truthy(cerr)
    assert.truthy(perr)
    cc:close()
    pp:close()
  end)

  it("strict SNI serves curl -k https://127.0.0.1", function()
    local _, hascurl = H.sh("command -v curl")
    if not hascurl then return pending("curl not installed") end
    local other = assert(ssl.newcontext({ mode = "server", certificate = C.wronghost, key = C.wronghostkey }))
    local srv = assert(socket.bind("127.0.0.1", 0))
    local _, port = srv:getsockname()
    local h = S.spawn(("curl -sk --max-time 10 https://127.0.0.1:%d/"):format(port))
    srv:settimeout(10)
    local p = assert(srv:accept())
    srv:close()
    local pp = assert(ssl.wrap(p, S.serverparams(C)))
    pp:settimeout(10)
    pp:sni({ ["wrong.example"] = other }, true)
    local ok, err = pp:dohandshake()
    if ok then
      repeat local line = pp:receive("*l") until line == "" or line == nil
      pp:send("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello")
    end
    pp:close()
    local out = h.rest()
    assert(ok, err)
    assert.truthy(out:find("hello", 1, true), out)
  end)

  it("the PSK client callback gets (hint, max_identity_len, max_psk_len)", function()
    local seen
    local cc, pp, cerr, perr = S.tlspair(
      { mode = "server", protocol = "tlsv1_2", ciphers = "PSK-AES128-GCM-SHA256",
        psk = { hint = "the hint", callback = function() return "0123456789abcdef" end } },
      { mode = "client", protocol = "tlsv1_2", ciphers = "PSK-AES128-GCM-SHA256", verify = "none",
        psk = function(...)
          seen = table.pack(...)
          return "id", "0123456789abcdef"
        end })
    assert.is_nil(cerr)
    assert.is_nil(perr)
    assert.are.equal(3, seen.n)
    assert.are.equal("the hint", seen[1])
    assert.are.equal(255, seen[2])         -- as LuaSec: OpenSSL's 256, less one for the NUL
    assert.are.equal(512, seen[3])
    cc:close()
    pp:close()
  end)

  it("dhparam is called by the handshake that needs DH, as (false, keylength)", function()
    local pem, calls = S.read(C.dh), {}
    local ctx = assert(ssl.newcontext(S.serverparams(C, { protocol = "tlsv1_2",
      dhparam = function(...) calls[#calls + 1] = table.pack(...) return pem end })))
    assert.are.equal(0, #calls)            -- not at newcontext time
    local dhe = "DHE-RSA-AES128-GCM-SHA256"
    local cc, pp, cerr, perr = S.tlspair(ctx, S.clientparams(C, { ciphers = dhe }))
    assert.is_nil(cerr)
    assert.is_nil(perr)
    assert.are.equal(dhe, cc:info("cipher"))
    assert.are.equal(1, #calls)
    assert.are.same({ false, 1024, n = 2 }, calls[1])
    cc:close()
    pp:close()
    -- a handshake with no DH (ECDHE) does not call it
    cc, pp, cerr, perr = S.tlspair(ctx, S.clientparams(C))
    assert.is_nil(cerr)
    assert.is_nil(perr)
    assert.are.equal(1, #calls)
    cc:close()
    pp:close()
  end)
end)
