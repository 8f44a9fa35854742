-- Issue 14 §6: a LuaSec program says require("ssl"), require("ssl.https"),
-- require("ssl.context"), require("ssl.x509"); with netsocket's TLS rock
-- these must give netsocket's TLS, module-level functions included (Prosody
-- calls ssl.context.setcipher(ctx, list) after every ssl.newcontext and
-- refuses to start without it). And with LuaSec's ssl.lua found first, the
-- submodules hand over to LuaSec, which keeps working whole.
local socket = require("socket")
local ltn12 = require("ltn12")
local H = require("helper")
local S = require("ssl_helper")
local HH = require("http_helper")

local R = HH.response

describe("regress: LuaSec's module names give netsocket's TLS", function()
  local certs
  setup(function() certs = S.certs() end)
  teardown(function() certs.cleanup() end)
  after_each(HH.cleanup)

  it("require('ssl') is socket.ssl, with LuaSec's module-level names", function()
    local ssl = require("ssl")
    assert.equal(require("socket.ssl"), ssl)
    for _, f in ipairs({ "newcontext", "wrap", "loadcertificate" }) do assert.equal("function", type(ssl[f])) end
    assert.equal("table", type(ssl.config))
    assert.matches("^%d+%.%d+", ssl._VERSION)
    assert.equal(ssl.config, require("ssl.config"))
    local x509 = require("ssl.x509")
    local cert = assert(x509.load(S.read(certs.server)))
    assert.equal(ssl.loadcertificate(S.read(certs.server)), cert)
    assert.is_truthy(tostring(cert:subject()[1] and cert:subject()[1].value or ""):find("localhost", 1, true))
    assert.is_nil(x509.load("not a certificate"))
  end)

  it("ssl.context has LuaSec's module-level functions", function()
    local context = require("ssl.context")
    for _, f in ipairs({ "create", "setcipher", "setciphersuites", "setdepth", "setverify", "setoptions",
      "setcurve", "setcurveslist", "locations", "loadcert", "loadkey", "checkkey", "setmode", "setalpn" }) do
      assert.equal("function", type(context[f]), f)
    end
  end)

  it("Prosody's pattern: ssl.newcontext then ssl.context.setcipher(ctx, list), then serve", function()
    local ssl = require("ssl")
    local context = require("ssl.context")
    local ctx = assert(ssl.newcontext({ mode = "server", protocol = "tlsv1_2", key = certs.serverkey,
      certificate = certs.server, options = { "all", "no_sslv2" }, ciphers = "HIGH:!aNULL" }))
    assert.same({ true }, { context.setcipher(ctx, "ECDHE-RSA-AES128-GCM-SHA256") })
    -- (OpenSSL empties the TLS 1.2 list of a context it refuses a list for)
    local ok, err = context.setcipher(assert(ssl.newcontext({ mode = "server" })), "NO-SUCH-CIPHER")
    assert.is_false(ok)
    assert.matches("^error setting cipher list %(", err)
    -- the cipher set afterwards is the one the handshake uses
    local c, p = S.tcppair()
    local cc = assert(ssl.wrap(c, { mode = "client", protocol = "tlsv1_2", verify = "peer", cafile = certs.ca }))
    local pp = assert(ssl.wrap(p, ctx))
    assert.same({}, { S.handshake(cc, pp) })
    assert.equal("ECDHE-RSA-AES128-GCM-SHA256", cc:info("cipher"))
    assert.equal(6, cc:send("hello\n"))
    assert.equal("hello", pp:receive())
    cc:close()
    pp:close()
  end)

  it("a context built LuaSec's way (create, setmode, locations, setverify) checks the peer and its name", function()
    local context = require("ssl.context")
    local function client()
      local ctx = assert(context.create("any"))
      assert.same({ true }, { context.setmode(ctx, "client") })
      assert.same({ true }, { context.locations(ctx, certs.ca) })
      assert.same({ true }, { context.setverify(ctx, "peer") })
      assert.same({ true }, { context.setoptions(ctx, "all", "no_compression") })
      assert.same({ true }, { context.setdepth(ctx, 5) })
      assert.same({ true }, { context.setcurveslist(ctx, "X25519:P-256") })
      assert.same({ true }, { context.setciphersuites(ctx, "TLS_AES_128_GCM_SHA256") })
      return ctx
    end
    local ctx = client()
    assert.same({ false, "cannot change the mode of a client context" }, { context.setmode(ctx, "server") })
    assert.same({ false, "invalid mode (both)" }, { context.setmode(ctx, "both") })
    assert.same({ false, "invalid verify option (maybe)" }, { context.setverify(ctx, "maybe") })
    assert.same({ false, "invalid option (no_such)" }, { context.setoptions(ctx, "no_such") })
    assert.same({ false, "unknown elliptic curve in \"nope\"" }, { context.setcurveslist(ctx, "nope") })
    -- the right name: the handshake passes
    local srv = { mode = "server", certificate = certs.server, key = certs.serverkey }
    local cc, pp, cerr, perr = S.tlspair(srv, ctx, "localhost")
    assert.same({}, { cerr, perr })
    cc:close()
    pp:close()
    -- a certificate for another name: refused, the name check came with "peer"
    local wrong = { mode = "server", certificate = certs.wronghost, key = certs.wronghostkey }
    cc, pp, cerr = S.tlspair(wrong, client(), "localhost")
    assert.is_truthy(cerr)
    cc:close()
    pp:close()
    -- a server context from create is refused its mode: made by newcontext
    assert.same({ false, "cannot change the mode of a client context" },
      { context.setmode(context.create("tlsv1_2"), "server") })
    H.raising(function() context.setcipher("not a context", "HIGH") end, "bad argument #1")
  end)

  it("loadkey (with a password function), loadcert and checkkey on a context", function()
    local context = require("ssl.context")
    local ctx = assert(require("ssl").newcontext({ mode = "server" }))
    local ok, err = context.loadkey(ctx, certs.serverenckey, function() return "wrong" end)
    assert.is_false(ok)
    assert.matches("^error loading private key", err)
    assert.same({ true }, { context.loadkey(ctx, certs.serverenckey, function() return "secret" end) })
    assert.same({ true }, { context.loadcert(ctx, certs.server) })
    assert.is_true(context.checkkey(ctx))
    -- LuaSec lets the password function's error through
    H.raising(function() context.loadkey(ctx, certs.serverenckey, function() error("boom") end) end, "boom")
    H.raising(function() context.loadkey(ctx, certs.serverkey, 42) end, "invalid callback value")
    ok, err = context.loadcert(ctx, certs.dir .. "/missing.pem")
    assert.is_false(ok)
    assert.matches("^error loading certificate", err)
  end)

  it("a closed context answers false, 'closed'", function()
    local context = require("ssl.context")
    local ctx = assert(require("ssl").newcontext({ mode = "client" }))
    getmetatable(ctx).__close(ctx)
    assert.same({ false, "closed" }, { context.setcipher(ctx, "HIGH") })
    assert.same({ false, "closed" }, { context.setverify(ctx, "peer") })
  end)

  it("ssl.https.request against a local TLS server, verified", function()
    local https = require("ssl.https")
    assert.equal(443, https.PORT)
    local srv = HH.server(function(req) return R("200 OK", {}, "secret " .. req.method .. " " .. req.target) end,
      { ssl = S.serverparams(certs) })
    local t = {}
    local r, code = HH.run(function()
      return https.request({ url = srv.url("/t", "localhost"), cafile = certs.ca, sink = ltn12.sink.table(t) })
    end)
    assert.same({ 1, 200 }, { r, code })
    assert.equal("secret GET /t", table.concat(t))
    -- the string form, with the CA as the default; POST with a body
    local ssl = require("ssl")
    local saved = ssl.getcafile()
    ssl.setcafile(certs.ca)
    local body
    body, code = HH.run(function() return https.request(srv.url("/s", "localhost"), "a=1") end)
    assert.same({ "secret POST /s", 200 }, { body, code })
    -- an http:// url still goes over TLS, as in LuaSec
    body, code = HH.run(function() return https.request(("http://localhost:%d/h"):format(srv.port)) end)
    assert.same({ "secret GET /h", 200 }, { body, code })
    ssl.setcafile(saved)
    -- not verified: refused (LuaSec's https does not verify by default; this does)
    r, code = HH.run(function() return https.request(srv.url("/n", "localhost")) end)
    assert.is_nil(r)
    assert.matches("certificate verify failed", code)
    assert.same({ nil, "create function not permitted" }, { https.request({ url = "https://x/", create = socket.tcp }) })
  end)

  it("ssl.https.tcp makes a create function for socket.http", function()
    local https = require("ssl.https")
    local http = require("socket.http")
    local srv = HH.server(function() return R("200 OK", {}, "via tcp") end, { ssl = S.serverparams(certs) })
    local body, code = HH.run(function()
      local t = {}
      local _, c = http.request({ url = ("http://localhost:%d/"):format(srv.port), sink = ltn12.sink.table(t),
        create = https.tcp({ cafile = certs.ca }) })
      return table.concat(t), c
    end)
    assert.same({ "via tcp", 200 }, { body, code })
  end)
end)

describe("regress: with LuaSec's ssl.lua first on the path, the LuaSec names are LuaSec's #linux #linuxonly", function()
  -- LuaSec's files on the default paths (Debian's lua-sec), not this tree's
  local root = os.getenv("NETSOCKET_BUILD"):match("^(.*)/[^/]+$")
  local function find(path, file)
    for template in path:gmatch("[^;]+") do
      local name = template:gsub("%?", file)
      local f = not template:find(root, 1, true) and io.open(name)
      if f then
        f:close()
        return name
      end
    end
  end
  local luasec, lib = find(package.path, "ssl"), find(package.cpath, "ssl")

  it("ssl.context, ssl.x509 and ssl.config hand over to LuaSec's C modules", function()
    if _VERSION == "Lua 5.5" and not (luasec and lib) then
      return pending("no LuaSec for Lua 5.5 here (Debian's lua-sec stops at 5.4)")
    end
    assert(luasec and lib, "Debian's lua-sec (scripts/deps.sh installs it) is needed for this spec")
    -- a tree like a luarocks one holding both rocks: LuaSec's ssl.lua and
    -- ssl/https.lua, netsocket's other ssl/*.lua
    local dir = os.tmpname()
    os.remove(dir)
    assert(os.execute("mkdir -p " .. S.q(dir .. "/ssl")))
    assert(os.execute("ln -s " .. S.q(luasec) .. " " .. S.q(dir .. "/ssl.lua")))
    local code = [[
      local ssl = require("ssl")
      local context = require("ssl.context")
      assert(ssl ~= require("socket.ssl"), "require('ssl') should be LuaSec here")
      local ctx = assert(ssl.newcontext({ mode = "client", protocol = "any", verify = "none" }))
      assert(context.setcipher(ctx, "HIGH"))
      assert(require("ssl.x509").load, "x509")
      assert(require("ssl.config").protocols, "config")
      print("luasec " .. ssl._VERSION .. " " .. tostring(require("ssl.compat").ours()))
    ]]
    local script = dir .. "/t.lua"
    local f = assert(io.open(script, "w"))
    f:write(code)
    f:close()
    local env = ("LUA_PATH=%s LUA_CPATH=%s "):format(
      S.q(dir .. "/?.lua;" .. root .. "/lua/?.lua;;"), S.q(os.getenv("NETSOCKET_BUILD") .. "/?.so;;"))
    local out, ok = H.sh(env .. H.LUA .. " " .. S.q(script) .. " 2>&1")
    H.sh("rm -rf " .. S.q(dir))
    assert.is_true(ok, out)
    assert.matches("^luasec %d+%.%d+[%.%d]* false", out)
  end)
end)
