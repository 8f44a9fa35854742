-- socket.ssl: the module, newcontext and its params (API.md §9.1, §9.2,
-- §9.4 defaults), ssl.config and X509 certificate objects (§9.3).
local socket = require("socket")
local H = require("helper")
local S = require("ssl_helper")
local ssl = require("socket.ssl")

local C
setup(function() C = S.certs() end)
teardown(function() if C then C.cleanup() end end)

describe("socket.ssl module", function()
  it("loads over socket.ssl.core, says its versions and sets _FEATURES.ssl", function()
    assert.are.equal("1.3.2", ssl._VERSION)
    assert.is_string(ssl._COPYRIGHT)
    assert.truthy(ssl._IMPL:match("^netsocket "))
    assert.is_true(socket._FEATURES.ssl)
    local so = package.searchpath("socket.ssl.core", package.cpath)
    assert.are.equal(os.getenv("NETSOCKET_BUILD"), so:sub(1, #os.getenv("NETSOCKET_BUILD")))
  end)

  it("has every function of §9.1", function()
    for _, k in ipairs({ "newcontext", "wrap", "loadcertificate", "connect", "starttls", "setssl",
                         "setcafile", "getcafile", "setcapath", "getcapath" }) do
      assert.are.equal("function", type(ssl[k]), k)
    end
    assert.are.equal("table", type(ssl.config))
    assert.are.equal("table", type(ssl.defaults))
  end)

  it("defaults are the secure ones of §9.4", function()
    local d = ssl.defaults
    assert.are.equal("any", d.protocol)
    assert.are.equal("tlsv1_2", d.minprotocol)
    assert.are.same({ "peer" }, d.verify)
    assert.is_true(d.checkhostname)
    assert.are.same({ "all", "no_compression" }, d.options)
  end)

  it("getcafile detects the system bundle; setcafile/setcapath change the client default", function()
    local f = io.open("/etc/ssl/certs/ca-certificates.crt")
    if f then f:close() end
    if H.WINDOWS then
      -- Windows' system store is its ROOT store, no file (and Wine opens the
      -- host's bundle at that path: regress/tls_windows_trust_spec.lua)
      assert.is_nil(ssl.getcafile())
    elseif f then
      assert.are.equal("/etc/ssl/certs/ca-certificates.crt", ssl.getcafile())
    end
    local file, path = ssl.getcafile(), ssl.getcapath()
    ssl.setcafile(C.ca)
    ssl.setcapath(nil)
    assert.are.equal(C.ca, ssl.getcafile())
    assert.is_nil(ssl.getcapath())
    ssl.setcafile(file)
    ssl.setcapath(path)
    assert.are.equal(file, ssl.getcafile())
  end)

  it("config lists options, protocols, algorithms, curves and capabilities", function()
    local c = ssl.config
    for _, o in ipairs({ "all", "no_sslv3", "no_tlsv1", "no_tlsv1_1", "no_compression",
                         "no_ticket", "cipher_server_preference" }) do
      assert.is_true(c.options[o], o)
    end
    for _, p in ipairs({ "tlsv1", "tlsv1_1", "tlsv1_2", "tlsv1_3" }) do
      assert.is_true(c.protocols[p], p)
    end
    assert.is_true(c.algorithms.ec)
    assert.is_true(c.curves["P-256"])
    for _, k in ipairs({ "alpn", "curves_list", "ecdh_auto", "dane", "psk" }) do
      assert.is_true(c.capabilities[k], k)
    end
  end)
end)

describe("newcontext", function()
  it("makes a context (tostring 'SSL context: 0x...')", function()
    local ctx = assert(ssl.newcontext({}))
    assert.truthy(tostring(ctx):match("^SSL context: 0x%x+$"))
    assert.truthy(assert(ssl.newcontext(S.serverparams(C))))
  end)

  it("raises for a non-table", function()
    H.raises(ssl.newcontext, { n = 1 }, "table expected")
  end)

  it("reports a bad mode, protocol, verify or option", function()
    assert.are.same({ nil, "invalid mode (bogus)" }, { ssl.newcontext({ mode = "bogus" }) })
    assert.are.same({ nil, "invalid protocol (sslv3)" }, { ssl.newcontext({ protocol = "sslv3" }) })
    assert.are.same({ nil, "invalid verify option (bogus)" }, { ssl.newcontext({ verify = "bogus" }) })
    assert.are.same({ nil, "invalid verify option (bogus)" },
      { ssl.newcontext({ verify = { "peer", "bogus" } }) })
    assert.are.same({ nil, "invalid option (bogus)" }, { ssl.newcontext({ options = { "all", "bogus" } }) })
    assert.are.same({ nil, "invalid verify option (bogus)" }, { ssl.newcontext({ verifyext = "bogus" }) })
  end)

  it("TLS 1.2 is the minimum: tlsv1/tlsv1_1 only when defaults.minprotocol is lowered", function()
    assert.are.same({ nil, "invalid protocol (tlsv1)" }, { ssl.newcontext({ protocol = "tlsv1" }) })
    assert.are.same({ nil, "invalid protocol (tlsv1_1)" }, { ssl.newcontext({ protocol = "tlsv1_1" }) })
    assert.truthy(ssl.newcontext({ protocol = "tlsv1_2" }))
    assert.truthy(ssl.newcontext({ protocol = "tlsv1_3" }))
    assert.truthy(ssl.newcontext({ protocol = "sslv23" }))
    ssl.defaults.minprotocol = "tlsv1"
    local ok, ctx = pcall(ssl.newcontext, { protocol = "tlsv1" })
    ssl.defaults.minprotocol = "tlsv1_2"
    assert.is_true(ok)
    assert.truthy(ctx)
  end)

  it("a missing key file is nil, 'error loading private key (...)'", function()
    local ctx, err = ssl.newcontext({ mode = "server", key = C.dir .. "/nope.key", certificate = C.server })
    assert.is_nil(ctx)
    assert.truthy(err:match("^error loading private key %(.+%)$"), err)
  end)

  it("an unreadable certificate is nil, 'error loading certificate (...)'", function()
    local ctx, err = ssl.newcontext({ mode = "server", key = C.serverkey, certificate = C.dir .. "/nope.pem" })
    assert.is_nil(ctx)
    assert.truthy(err:match("^error loading certificate %(.+%)$"), err)
    ctx, err = ssl.newcontext({ mode = "server", key = C.serverkey, certificate = C.serverkey })
    assert.is_nil(ctx)
    assert.truthy(err:match("^error loading certificate %(.+%)$"), err)
  end)

  it("a key that does not match the certificate is reported", function()
    assert.are.same({ nil, "private key does not match public key" },
      { ssl.newcontext({ mode = "server", key = C.clientkey, certificate = C.server }) })
  end)

  it("a bad CA location is 'error loading CA locations (...)'", function()
    local ctx, err = ssl.newcontext({ cafile = C.dir .. "/nope.pem" })
    assert.is_nil(ctx)
    assert.truthy(err:match("^error loading CA locations %(.+%)$"), err)
  end)

  it("loads an encrypted key with a password string or function, and refuses other types", function()
    assert.truthy(ssl.newcontext(S.serverparams(C, { key = C.serverenckey, password = "secret" })))
    local calls = 0
    assert.truthy(ssl.newcontext(S.serverparams(C, { key = C.serverenckey,
      password = function() calls = calls + 1 return "secret" end })))
    assert.are.equal(1, calls)
    local ctx, err = ssl.newcontext(S.serverparams(C, { key = C.serverenckey, password = "wrong" }))
    assert.is_nil(ctx)
    assert.truthy(err:match("^error loading private key"), err)
    assert.are.same({ nil, "invalid password type" },
      { ssl.newcontext(S.serverparams(C, { key = C.serverenckey, password = 42 })) })
  end)

  it("takes several certificates (RSA + ECDSA) in `certificates`", function()
    assert.truthy(ssl.newcontext({ mode = "server", certificates = {
      { certificate = C.server, key = C.serverkey },
      { certificate = C.expired, key = C.expiredkey },
    } }))
    local ctx, err = ssl.newcontext({ mode = "server", certificates = {
      { certificate = C.server, key = C.clientkey } } })
    assert.is_nil(ctx)
    assert.are.equal("private key does not match public key", err)
  end)

  it("checks ciphers, ciphersuites, curves, depth and dhparam", function()
    assert.truthy(ssl.newcontext({ ciphers = "ECDHE-RSA-AES128-GCM-SHA256", ciphersuites = "TLS_AES_128_GCM_SHA256" }))
    local ctx, err = ssl.newcontext({ ciphers = "NOPE-NOTHING" })
    assert.is_nil(ctx)
    assert.truthy(err:match("^error setting cipher list"), err)
    ctx, err = ssl.newcontext({ ciphersuites = "TLS_NOPE" })
    assert.is_nil(ctx)
    assert.truthy(err:match("^error setting cipher list"), err)
    assert.truthy(ssl.newcontext({ curve = "P-256" }))
    assert.truthy(ssl.newcontext({ curveslist = "P-256:X25519" }))
    assert.are.same({ nil, "elliptic curve 'nope' not supported" }, { ssl.newcontext({ curve = "nope" }) })
    assert.are.same({ nil, 'unknown elliptic curve in "P-256:nope"' },
      { ssl.newcontext({ curveslist = "P-256:nope" }) })
    assert.truthy(ssl.newcontext({ depth = 3 }))
    local pem = S.read(C.dh)
    assert.truthy(ssl.newcontext(S.serverparams(C, { dhparam = function() return pem end })))
    assert.are.same({ nil, "invalid DH parameter type" },
      { ssl.newcontext(S.serverparams(C, { dhparam = pem })) })
  end)

  it("checks ALPN lists like LuaSec", function()
    assert.truthy(ssl.newcontext({ alpn = "h2" }))
    assert.truthy(ssl.newcontext({ alpn = { "h2", "http/1.1" } }))
    assert.truthy(ssl.newcontext(S.serverparams(C, { alpn = { "h2" } })))
    assert.truthy(ssl.newcontext(S.serverparams(C, { alpn = function() return "h2" end })))
    assert.are.same({ nil, "invalid ALPN name (empty string)" }, { ssl.newcontext({ alpn = "" }) })
    assert.are.same({ nil, "invalid ALPN name (length > 255)" }, { ssl.newcontext({ alpn = ("x"):rep(256) }) })
    assert.are.same({ nil, "invalid ALPN list (empty)" }, { ssl.newcontext({ alpn = {} }) })
    assert.are.same({ nil, "invalid ALPN parameter" }, { ssl.newcontext({ alpn = 42 }) })
    assert.are.same({ nil, "invalid ALPN parameter" }, { ssl.newcontext(S.serverparams(C, { alpn = "h2" })) })
  end)

  it("checks PSK configurations", function()
    assert.truthy(ssl.newcontext({ psk = function() return "id", "key" end }))
    assert.truthy(ssl.newcontext({ mode = "server", psk = function() return "key" end }))
    assert.truthy(ssl.newcontext({ mode = "server", psk = { hint = "h", callback = function() end } }))
    assert.are.same({ nil, "invalid PSK configuration" }, { ssl.newcontext({ psk = "x" }) })
    assert.are.same({ nil, "invalid PSK configuration" },
      { ssl.newcontext({ mode = "server", psk = { hint = 1 } }) })
  end)

  it("takes dane, servername and checkhostname", function()
    assert.truthy(ssl.newcontext({ dane = true }))
    assert.truthy(ssl.newcontext({ dane = { "no_ee_namechecks" } }))
    assert.truthy(ssl.newcontext({ servername = "example.org" }))
    assert.truthy(ssl.newcontext({ servername = false, checkhostname = false }))
    assert.are.same({ nil, "invalid servername" }, { ssl.newcontext({ servername = 42 }) })
  end)

  it("ctx:setverifyext takes LuaSec's names", function()
    local ctx = assert(ssl.newcontext({}))
    assert.is_true(ctx:setverifyext("lsec_continue", "lsec_ignore_purpose"))
    assert.are.same({ nil, "invalid verify option (bogus)" }, { ctx:setverifyext("bogus") })
  end)

  it("collects contexts (no leak: many are made and dropped)", function()
    for _ = 1, 200 do ssl.newcontext({ verify = "none" }) end
    collectgarbage()
    collectgarbage()
  end)
end)

describe("X509 certificates", function()
  local cert, ca
  setup(function()
    cert = assert(ssl.loadcertificate(S.read(C.server)))
    ca = assert(ssl.loadcertificate(S.read(C.ca)))
  end)

  it("loadcertificate gives nil for garbage", function()
    assert.is_nil(ssl.loadcertificate("garbage"))
    assert.is_nil(ssl.loadcertificate(""))
  end)

  it("prints as 'X509 certificate: 0x...' and compares by content", function()
    assert.truthy(tostring(cert):match("^X509 certificate: 0x%x+$"))
    assert.is_true(cert == ssl.loadcertificate(S.read(C.server)))
    assert.is_false(cert == ca)
  end)

  it("digest: sha1 by default, sha256, sha512, lower-case hex; others unsupported #linux #shell", function()
    local function fp(alg)
      local out = H.sh("openssl x509 -in " .. S.q(C.server) .. " -noout -fingerprint -" .. alg)
      return out:match("=([%x:]+)"):gsub(":", ""):lower()
    end
    assert.are.equal(fp("sha1"), cert:digest())
    assert.are.equal(fp("sha1"), cert:digest("sha1"))
    assert.are.equal(fp("sha256"), cert:digest("sha256"))
    assert.are.equal(fp("sha512"), cert:digest("sha512"))
    assert.are.same({ nil, "digest algorithm not supported (md5)" }, { cert:digest("md5") })
  end)

  it("subject and issuer are arrays of {oid=, name=, value=}", function()
    assert.are.same({ { oid = "2.5.4.3", name = "commonName", value = "localhost" } }, cert:subject())
    assert.are.same({ { oid = "2.5.4.3", name = "commonName", value = "netsocket test CA" } }, cert:issuer())
    assert.is_true(cert:setencode("utf8"))
    assert.are.equal("localhost", cert:subject()[1].value)
    assert.is_true(cert:setencode("ai5"))
    assert.are.same({ nil, "invalid encoding" }, { cert:setencode("latin1") })
  end)

  it("notbefore/notafter read like 'Nov 21 16:37:48 2026 GMT'; validat checks the window", function()
    local pat = "^%u%l%l +%d+ %d%d:%d%d:%d%d %d%d%d%d GMT$"
    assert.truthy(cert:notbefore():match(pat), cert:notbefore())
    assert.truthy(cert:notafter():match(pat), cert:notafter())
    assert.is_true(cert:validat(os.time()))
    assert.is_false(cert:validat(os.time() + 60 * 86400))
    assert.is_false(cert:validat(0))
    local expired = ssl.loadcertificate(S.read(C.expired))
    assert.is_false(expired:validat(os.time()))
  end)

  it("serial is upper-case hex, pem round-trips, pubkey tells type and bits", function()
    assert.are.equal("02", cert:serial())
    local pem = cert:pem()
    assert.truthy(pem:match("^%-%-%-%-%-BEGIN CERTIFICATE%-%-%-%-%-\n"))
    assert.is_true(ssl.loadcertificate(pem) == cert)
    local kpem, ktype, bits = cert:pubkey()
    assert.truthy(kpem:match("BEGIN PUBLIC KEY"))
    assert.are.equal("RSA", ktype)
    assert.are.equal(2048, bits)
    local _, etype, ebits = ca:pubkey()
    assert.are.equal("EC", etype)
    assert.are.equal(256, ebits)
  end)

  it("extensions reports subjectAltName names and IP addresses by OID", function()
    local ext = cert:extensions()
    local san = ext["2.5.29.17"]
    assert.is_table(san)
    assert.are.equal("X509v3 Subject Alternative Name", san.name)
    assert.are.same({ "localhost" }, san.dNSName)
    assert.are.same({ "127.0.0.1", "::1" }, san.iPAddress)
    assert.are.same({}, ca:extensions())
  end)

  it("issued: true for the issuing CA, nil, reason otherwise", function()
    assert.is_true(cert:issued(ca))
    local ok, why = cert:issued(ssl.loadcertificate(S.read(C.selfsigned)))
    assert.is_nil(ok)
    assert.is_string(why)
    H.raises(cert.issued, { cert, n = 1 }, "certificate expected")
  end)

  it("getsignaturename names the algorithm", function()
    assert.are.equal("ecdsa-with-SHA256", cert:getsignaturename())   -- signed by the EC CA
  end)
end)
