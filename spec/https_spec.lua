-- socket.http over TLS (doc/http.md, "https"): against openssl s_server -WWW
-- and a TLS server written with netsocket, with the test CA of
-- spec/ssl_helper.lua; verification failures, redirects between http and
-- https both ways, and a CONNECT tunnel through a proxy.
local socket = require("socket")
local co = require("socket.co")
local ltn12 = require("ltn12")
local http = require("socket.http")
local H = require("helper")
local S = require("ssl_helper")
local HH = require("http_helper")
local hasssl = pcall(require, "socket.ssl")

local R = HH.response
local request = http.request

-- Copies from one socket to the other until either side ends (bounded).
local function pipe(from, to)
  for _ = 1, 100000 do
    local data = from:receivesome(65536)
    if not data or not to:send(data) then break end
  end
  from:close()
  to:close()
end

describe("socket.http over https #linux #shell", function()
  if not hasssl then
    it("needs socket.ssl", function() pending("socket.ssl is not built here") end)
    return
  end

  local certs, dir, rmdir
  local www = {}                                  -- s_server -WWW per certificate
  local saved
  setup(function()
    certs = S.certs()
    dir, rmdir = HH.tempdir({ ["file.txt"] = "secret file\n", ["big.bin"] = S.data(200000, 5) })
    www.good = HH.opensslwww(dir, certs.server, certs.serverkey)
    www.wronghost = HH.opensslwww(dir, certs.wronghost, certs.wronghostkey)
    www.selfsigned = HH.opensslwww(dir, certs.selfsigned, certs.selfsignedkey)
  end)
  teardown(function()
    for _, s in pairs(www) do s.stop() end
    if rmdir then rmdir() end
    if certs then certs.cleanup() end
  end)
  before_each(function() saved = { TIMEOUT = http.TIMEOUT, PROXY = http.PROXY } end)
  after_each(function()
    http.TIMEOUT, http.PROXY = saved.TIMEOUT, saved.PROXY
    HH.cleanup()
  end)

  describe("against openssl s_server -WWW", function()
    it("GETs a file, verifying the server against the CA in tls = {cafile = ...}", function()
      local t = {}
      local r, code, headers, status = request({ url = www.good.url("/file.txt", "localhost"),
        sink = ltn12.sink.table(t), tls = { cafile = certs.ca } })
      assert.same({ 1, 200, "HTTP/1.0 200 ok" }, { r, code, status })
      assert.equal("text/plain", headers["content-type"])
      assert.equal("secret file\n", table.concat(t))
    end)

    it("takes LuaSec's field names at the top of the request, and an IP address host", function()
      local t = {}
      local r, code = request({ url = www.good.url("/big.bin"), sink = ltn12.sink.table(t), cafile = certs.ca })
      assert.same({ 1, 200 }, { r, code })
      assert.is_true(table.concat(t) == S.data(200000, 5))
    end)

    it("verifies against the system CA store by default: the test CA is not in it", function()
      local body, err = request(www.good.url("/file.txt", "localhost"))
      assert.is_nil(body)
      assert.equal("certificate verify failed (unable to get local issuer certificate)", err)
    end)

    it("refuses a certificate for another host name", function()
      local r, err = request({ url = www.wronghost.url("/file.txt", "localhost"), tls = { cafile = certs.ca } })
      assert.same({ nil, "certificate verify failed (hostname mismatch)" }, { r, err })
    end)

    it("refuses a certificate nobody vouches for", function()
      local r, err = request({ url = www.selfsigned.url("/file.txt", "localhost"), tls = { cafile = certs.ca } })
      assert.same({ nil, "certificate verify failed (self-signed certificate)" }, { r, err })
    end)

    it("takes verify = 'none' as the explicit opt-out", function()
      local t = {}
      local r, code = request({ url = www.selfsigned.url("/file.txt", "localhost"), sink = ltn12.sink.table(t),
        tls = { verify = "none" } })
      assert.same({ 1, 200, "secret file\n" }, { r, code, table.concat(t) })
    end)

    it("takes a context made by ssl.newcontext as tls", function()
      local ssl = require("socket.ssl")
      local ctx = assert(ssl.newcontext({ cafile = certs.ca }))
      local t = {}
      local r, code = request({ url = www.good.url("/file.txt", "localhost"), sink = ltn12.sink.table(t), tls = ctx })
      assert.same({ 1, 200, "secret file\n" }, { r, code, table.concat(t) })
    end)

    it("raises for a tls field that is neither a table nor a context", function()
      H.raising(function() request({ url = www.good.url(), tls = "yes" }) end,
        "bad argument #1 to 'request' (field 'tls' must be a table or an SSL context)")
    end)
  end)

  describe("against a netsocket TLS server", function()
    local function tlsserver(handler)
      return HH.server(handler, { ssl = S.serverparams(certs) })
    end

    it("POSTs a chunked body and reads a chunked reply with trailers", function()
      local srv = tlsserver(function(req)
        return "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
          .. HH.chunked({ "got ", req.body }, { "X-Sum: " .. #req.body })
      end)
      local t = {}
      local r, code, headers = HH.run(function()
        return request({ url = srv.url("/up", "localhost"), method = "POST", tls = { cafile = certs.ca },
          source = ltn12.source.table({ "abc", "def" }), sink = ltn12.sink.table(t) })
      end)
      assert.same({ 1, 200, "got abcdef", "6" }, { r, code, table.concat(t), headers["x-sum"] })
      assert.same({ 3, 3, 0 }, srv.requests[1].chunks)
      assert.equal("localhost:" .. srv.port, srv.requests[1].headers.host)
    end)

    it("follows a redirect from http to https", function()
      local secure = tlsserver(function(req) return R("200 OK", {}, "secure " .. req.target) end)
      local plain = HH.server(function() return R("302 Found", { "Location: " .. secure.url("/s", "localhost") }, "") end)
      local body, code, headers = HH.run(function()
        return request({ url = plain.url("/p"), tls = { cafile = certs.ca }, sink = ltn12.sink.null() })
      end)
      assert.same({ 1, 200, secure.url("/s", "localhost") }, { body, code, headers.location })
      assert.equal(1, #secure.requests)
      local t = {}
      HH.run(function()
        return request({ url = plain.url("/p"), cafile = certs.ca, sink = ltn12.sink.table(t) })
      end)
      assert.equal("secure /s", table.concat(t))
    end)

    it("follows a redirect from https to http", function()
      local plain = HH.server(function(req) return R("200 OK", {}, "plain " .. req.target) end)
      local secure = tlsserver(function() return R("301 Moved", { "Location: " .. plain.url("/down") }, "") end)
      local t = {}
      local r, code = HH.run(function()
        return request({ url = secure.url("/x", "localhost"), tls = { cafile = certs.ca }, sink = ltn12.sink.table(t) })
      end)
      assert.same({ 1, 200, "plain /down" }, { r, code, table.concat(t) })
    end)

    it("a redirect to an https server that does not verify fails with the reason", function()
      local bad = tlsserver(function() return R("200 OK", {}, "never") end)
      local plain = HH.server(function() return R("302 Found", { "Location: " .. bad.url("/", "localhost") }, "") end)
      assert.same({ nil, "certificate verify failed (unable to get local issuer certificate)" },
        { HH.run(function() return request(plain.url()) end) })
    end)

    it("tunnels through a proxy with CONNECT; the proxy never sees the request", function()
      local origin = tlsserver(function(req) return R("200 OK", {}, "tunnelled " .. req.target) end)
      local proxy = HH.server(function(_, c)
        local o = assert(socket.connect("127.0.0.1", origin.port))
        c:send("HTTP/1.1 200 Connection established\r\nX-Proxy: yes\r\n\r\n")
        co.spawn(pipe, o, c)
        pipe(c, o)
      end)
      local t = {}
      local r, code = HH.run(function()
        return request({ url = "https://localhost:" .. origin.port .. "/deep?x=1", sink = ltn12.sink.table(t),
          proxy = "http://pu:pp@127.0.0.1:" .. proxy.port, tls = { cafile = certs.ca } })
      end)
      assert.same({ 1, 200, "tunnelled /deep?x=1" }, { r, code, table.concat(t) })
      local creq = proxy.requests[1]
      assert.equal("CONNECT localhost:" .. origin.port .. " HTTP/1.1", creq.line)
      assert.equal("localhost:" .. origin.port, creq.headers.host)
      assert.equal("Basic cHU6cHA=", creq.headers["proxy-authorization"])
      local oreq = origin.requests[1]
      assert.equal("GET /deep?x=1 HTTP/1.1", oreq.line)
      assert.is_nil(oreq.headers["proxy-authorization"])
    end)

    it("a proxy that refuses the tunnel gives nil and its status line", function()
      local proxy = HH.server(function() return R("403 Forbidden", {}, "no") end)
      http.PROXY = "http://127.0.0.1:" .. proxy.port
      assert.same({ nil, "proxy refused the tunnel: HTTP/1.1 403 Forbidden" },
        { HH.run(function() return request({ url = "https://localhost:1/", tls = { cafile = certs.ca } }) end) })
    end)

    it("a server that never answers the handshake runs into http.TIMEOUT", function()
      http.TIMEOUT = 0.3
      local mute = HH.server(function() socket.sleep(1.5) end, { raw = true })
      local t0 = socket.gettime()
      assert.same({ nil, "timeout" }, { HH.run(function() return request(mute.url("/", "localhost")) end) })
      local took = socket.gettime() - t0
      assert.is_true(took >= 0.25 and took < 1.4, "took " .. took)
    end)
  end)
end)
