-- TLS against peers nobody here wrote: `openssl s_server` as the server of
-- netsocket clients, `openssl s_client` as the client of a netsocket
-- server (ALPN, SNI, client certificates), and Debian's LuaSec wrapping a
-- netsocket TCP socket through getfd/setfd (API.md §9.5 "Interop").
-- Every child runs under `timeout`, on loopback, and is stopped by PID.
local socket = require("socket")
local S = require("ssl_helper")
local ssl = require("socket.ssl")
local q = S.q

local C
setup(function() C = S.certs() end)
teardown(function() if C then C.cleanup() end end)

-- openssl s_server in -rev mode (each line comes back reversed), one
-- connection, port from the OS. Returns the handle and the port.
local function s_server(opts)
  local h = S.spawn("timeout 30 openssl s_server -accept 127.0.0.1:0 -naccept 1 -rev "
    .. opts .. " </dev/null")
  for _ = 1, 20 do
    local l = h.line()
    if not l then break end
    local port = l:match("^ACCEPT .*:(%d+)$")
    if port then return h, tonumber(port) end
  end
  h.kill()
  error("s_server did not start:\n" .. h.rest())
end

local function cert(name) return "-cert " .. q(C[name]) .. " -key " .. q(C[name .. "key"]) end

describe("openssl s_server as the server #linux #shell", function()
  it("a default netsocket client verifies it, sends SNI and exchanges data", function()
    local h, port = s_server(cert("server"))
    local t = assert(ssl.connect("localhost", port, { cafile = C.ca }, 10))
    t:settimeout(10)
    assert.is_true(t:getpeerverification())
    assert(t:send("hello\n"))
    assert.are.equal("olleh", t:receive())
    assert.are.equal("TLSv1.3", t:info("protocol"))
    t:close()
    h.kill()
    h.rest()
  end)

  it("ALPN: s_server picks by its own order from the client's list", function()
    local h, port = s_server(cert("server") .. " -alpn h2,http/1.1")
    local t = assert(ssl.connect("localhost", port, { cafile = C.ca, alpn = { "http/1.1", "h2" } }, 10))
    assert.are.equal("h2", t:getalpn())
    t:close()
    h.kill()
    h.rest()
  end)

  it("SNI picks the server's certificate: sent from the connect host", function()
    -- default certificate: wrong.example; for SNI "localhost": the right one
    local h, port = s_server(cert("wronghost") .. " -servername localhost -cert2 " .. q(C.server)
      .. " -key2 " .. q(C.serverkey))
    local t = assert(ssl.connect("localhost", port, { cafile = C.ca }, 10))
    assert.are.equal("localhost", t:getpeercertificate():subject()[1].value)
    t:close()
    h.kill()
    h.rest()
  end)

  it("a hostname mismatch against s_server fails", function()
    local h, port = s_server(cert("wronghost"))
    local c = assert(socket.connect("localhost", port))
    local t = assert(ssl.wrap(c, { cafile = C.ca }))
    t:settimeout(10)
    assert.are.same({ false, "certificate verify failed" }, { t:dohandshake() })
    assert.are.same({ false, "hostname mismatch" }, { t:getpeerverification() })
    t:close()
    h.kill()
    h.rest()
  end)

  it("client certificates: required by s_server, given by netsocket", function()
    local h, port = s_server(cert("server") .. " -Verify 1 -CAfile " .. q(C.ca) .. " -verify_return_error")
    local t = assert(ssl.connect("localhost", port,
      { cafile = C.ca, certificate = C.client, key = C.clientkey }, 10))
    t:settimeout(10)
    assert(t:send("cert\n"))
    assert.are.equal("trec", t:receive())
    t:close()
    local out = h.rest()
    assert.truthy(out:find("CN = client", 1, true) or out:find("CN=client", 1, true), out)
  end)

  it("a protocol version s_server does not speak is refused", function()
    local h, port = s_server(cert("server") .. " -tls1_2")
    local ok, err = ssl.connect("localhost", port, { cafile = C.ca, protocol = "tlsv1_3" }, 10)
    assert.is_nil(ok)
    local known = { ["tlsv1 alert protocol version"] = true, ["unsupported protocol"] = true }
    assert.truthy(known[err], err)
    h.kill()
    h.rest()
  end)
end)

describe("openssl s_client as the client #linux #shell", function()
  -- Starts s_client against port; `input` goes to its stdin (it waits for
  -- the server to close: -ign_eof).
  local function s_client(port, opts, input)
    local file = os.tmpname()
    local f = assert(io.open(file, "w"))
    f:write(input or "")
    f:close()
    local h = S.spawn("timeout 30 openssl s_client -connect 127.0.0.1:" .. port
      .. " -ign_eof " .. opts .. " <" .. q(file))
    local rest = h.rest
    function h.rest()
      local out = rest()
      os.remove(file)
      return out
    end
    return h
  end

  local function server(params)
    local srv = assert(socket.bind("127.0.0.1", 0))
    local _, port = srv:getsockname()
    srv:settimeout(10)
    if params then assert(srv:setssl(params)) end
    return srv, port
  end

  it("talks to a setssl server and verifies it against the CA", function()
    local srv, port = server(S.serverparams(C))
    local h = s_client(port, "-CAfile " .. q(C.ca) .. " -verify_return_error -servername localhost",
      "ping\n")
    local t = assert(srv:accept())
    t:settimeout(10)
    assert.are.equal("ping", t:receive())
    assert.are.equal("localhost", t:getsniname())
    assert(t:send("PONG\n"))
    t:close()
    local out = h.rest()
    assert.truthy(out:find("PONG", 1, true), out)
    assert.truthy(out:find("Verify return code: 0 (ok)", 1, true), out)
    srv:close()
  end)

  it("ALPN: the server's list picks from s_client's", function()
    local srv, port = server(S.serverparams(C, { alpn = { "h2", "http/1.1" } }))
    local h = s_client(port, "-CAfile " .. q(C.ca) .. " -alpn http/1.1,h2", "")
    local t = assert(srv:accept())
    assert.are.equal("h2", t:getalpn())
    t:close()
    local out = h.rest()
    assert.truthy(out:find("ALPN protocol: h2", 1, true), out)
    srv:close()
  end)

  it("SNI: a map on the conn serves the certificate for the requested name", function()
    local srv, port = server()
    local other = assert(ssl.newcontext({ mode = "server", certificate = C.wronghost, key = C.wronghostkey }))
    local h = s_client(port, "-CAfile " .. q(C.ca) .. " -servername wrong.example -verify_return_error", "")
    local raw = assert(srv:accept())
    local t = assert(ssl.wrap(raw, S.serverparams(C)))
    t:sni({ ["wrong.example"] = other })
    t:settimeout(10)
    assert.is_true(t:dohandshake())
    assert.are.equal("wrong.example", t:getsniname())
    t:close()
    local out = h.rest()
    assert.truthy(out:find("CN = wrong.example", 1, true), out)
    srv:close()
  end)

  it("client certificates: the server requires and verifies s_client's", function()
    local srv, port = server(S.serverparams(C, { verify = { "peer", "fail_if_no_peer_cert" }, cafile = C.ca }))
    local h = s_client(port, "-CAfile " .. q(C.ca) .. " -cert " .. q(C.client) .. " -key " .. q(C.clientkey),
      "who\n")
    local t = assert(srv:accept())
    t:settimeout(10)
    assert.are.equal("who", t:receive())
    assert.are.equal("client", t:getpeercertificate():subject()[1].value)
    assert.is_true(t:getpeerverification())
    t:send("you\n")
    t:close()
    assert.truthy(h.rest():find("you", 1, true))
    srv:close()
  end)

  it("without a client certificate the handshake fails and accept says why", function()
    local srv, port = server(S.serverparams(C, { verify = { "peer", "fail_if_no_peer_cert" }, cafile = C.ca }))
    local h = s_client(port, "-CAfile " .. q(C.ca), "")
    local t, err = srv:accept()
    assert.is_nil(t)
    assert.truthy(err:find("certificate", 1, true), err)
    h.rest()
    srv:close()
  end)
end)

describe("real LuaSec #linux #linuxonly", function()
  local function luasec()
    local ok, m = pcall(require, "ssl")
    if ok and type(m) == "table" and m.wrap and not tostring(m._VERSION):find("netsocket") then return m end
    return nil
  end

  it("wraps a netsocket TCP socket via getfd/setfd and handshakes with a netsocket server", function()
    local luassl = luasec()
    assert.is_table(luassl, "Debian's lua-sec is not installed (scripts/deps.sh installs it)")
    -- the netsocket server runs in a child; LuaSec is the client here
    local h = S.spawnlua([[
      local srv = assert(socket.bind("127.0.0.1", 0))
      assert(srv:setssl({ certificate = arg[1], key = arg[2] }))
      srv:settimeout(20)
      print("port " .. select(2, srv:getsockname()))
      local c = assert(srv:accept())
      c:settimeout(20)
      local line = assert(c:receive())
      c:send(line:upper() .. "\n")
      print("server got " .. line)
      c:close()
    ]], C.server, C.serverkey)
    local port = tonumber(h.expect("port (%d+)"))
    local tcp = assert(socket.connect("127.0.0.1", port))
    local fd = tcp:getfd()
    local conn = assert(luassl.wrap(tcp, { mode = "client", protocol = "any", verify = "peer", cafile = C.ca }))
    assert.are.equal(-1, tcp:getfd())        -- LuaSec called setfd(-1)
    assert.are.equal(fd, conn:getfd())
    conn:settimeout(10)
    assert.is_true(conn:dohandshake())
    assert.is_true(conn:getpeerverification())
    assert(conn:send("from luasec\n"))
    assert.are.equal("FROM LUASEC", conn:receive())
    conn:close()
    tcp:close()                               -- harmless: fd -1
    assert.are.equal("server got from luasec", h.line())
    h.rest()
  end)

  it("LuaSec and socket.ssl load side by side without sharing classes", function()
    local luassl = luasec()
    assert.is_table(luassl)
    local ctx = assert(ssl.newcontext({}))
    assert.is_nil(debug.getregistry()["SSL:Context"] == getmetatable(ctx) or nil)
  end)
end)
