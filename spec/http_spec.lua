-- socket.http (doc/http.md): LuaSocket 3.x's client against a scripted
-- server written with netsocket (spec/http_helper.lua) and against
-- python3 -m http.server. https is in https_spec.lua.
local socket = require("socket")
local ltn12 = require("ltn12")
local http = require("socket.http")
local H = require("helper")
local HH = require("http_helper")

local R = HH.response
local request = http.request

local function ok200(body) return function() return R("200 OK", { "Content-Type: text/plain" }, body) end end

describe("socket.http", function()
  local saved
  before_each(function()
    saved = { TIMEOUT = http.TIMEOUT, PROXY = http.PROXY, MAXHEADERLINE = http.MAXHEADERLINE,
      MAXHEADERS = http.MAXHEADERS, MAXREDIRECTS = http.MAXREDIRECTS, USERAGENT = http.USERAGENT }
  end)
  after_each(function()
    for _, k in ipairs({ "TIMEOUT", "PROXY", "MAXHEADERLINE", "MAXHEADERS", "MAXREDIRECTS", "USERAGENT" }) do
      http[k] = saved[k]
    end
    HH.cleanup()
  end)

  describe("module", function()
    it("loads this tree's ltn12, mime, socket.url and socket.headers", function()
      HH.checkpaths()
    end)

    it("has 3.x's constants, tables and functions", function()
      assert.equal(60, http.TIMEOUT)
      assert.equal(socket._VERSION, http.USERAGENT)
      assert.equal("LuaSocket 3.1.0", http.USERAGENT)
      assert.is_nil(http.PROXY)
      assert.equal(8192, http.MAXHEADERLINE)
      assert.equal(100, http.MAXHEADERS)
      assert.equal(100, http.MAXREDIRECTS)
      assert.equal(http, socket.http)
      assert.equal(80, http.schemes.http.port)
      assert.equal(443, http.schemes.https.port)
      for _, f in ipairs({ "request", "open", "genericform" }) do assert.equal("function", type(http[f])) end
      assert.equal("function", type(socket.sourcet["http-chunked"]))
      assert.equal("function", type(socket.sinkt["http-chunked"]))
    end)

    it("genericform turns a url and a body into a POST", function()
      local t = http.genericform("http://localhost/x", "a=1")
      assert.equal("http://localhost/x", t.url)
      assert.equal("POST", t.method)
      assert.same({ ["content-length"] = 3, ["content-type"] = "application/x-www-form-urlencoded" }, t.headers)
      assert.equal("a=1", t.source())
      assert.is_nil(t.source())
      t.sink("x")
      t.sink("y")
      assert.same({ "x", "y" }, t.target)
      local g = http.genericform("http://localhost/")
      assert.is_nil(g.method)
      assert.is_nil(g.source)
    end)

    it("raises on misuse, naming the argument", function()
      H.raising(function() request(42) end, "bad argument #1 to 'request' (string or table expected, got number)")
      H.raising(function() request() end, "bad argument #1 to 'request' (string or table expected, got no value)")
      H.raising(function() request("http://127.0.0.1:1/", {}) end,
        "bad argument #2 to 'request' (string expected, got table)")
      H.raising(function() request({ url = 5 }) end, "bad argument #1 to 'request' (field 'url' must be a string)")
      H.raising(function() request({ url = "http://127.0.0.1:1/", headers = "x" }) end,
        "bad argument #1 to 'request' (field 'headers' must be a table)")
    end)
  end)

  describe("request(url [, body])", function()
    it("GETs: body, code, headers, status, and the exact request", function()
      local srv = HH.server(function() return R("200 OK", { "X-Thing: A  b", "Set-Cookie: a=1", "set-cookie: b=2" }, "hello") end)
      local body, code, headers, status = HH.run(function() return request(srv.url("/p/a?q=1&r=2")) end)
      assert.equal("hello", body)
      assert.equal(200, code)
      assert.equal("HTTP/1.1 200 OK", status)
      assert.same({ ["x-thing"] = "A  b", ["set-cookie"] = "a=1, b=2", ["content-length"] = "5" }, headers)
      local req = srv.requests[1]
      assert.equal("GET /p/a?q=1&r=2 HTTP/1.1", req.line)
      assert.same({ "Host: 127.0.0.1:" .. srv.port, "Connection: close, TE", "TE: trailers",
        "User-Agent: LuaSocket 3.1.0" }, req.lines)
    end)

    it("POSTs the body as application/x-www-form-urlencoded", function()
      local srv = HH.server(function(req) return R("201 Created", {}, "got " .. req.body) end)
      local body, code = HH.run(function() return request(srv.url("/form"), "a=1&b=%20") end)
      assert.equal("got a=1&b=%20", body)
      assert.equal(201, code)
      local req = srv.requests[1]
      assert.equal("POST /form HTTP/1.1", req.line)
      assert.equal("application/x-www-form-urlencoded", req.headers["content-type"])
      assert.equal("9", req.headers["content-length"])
      assert.equal("a=1&b=%20", req.body)
    end)

    it("uses http.USERAGENT", function()
      http.USERAGENT = "spec-agent/1"
      local srv = HH.server(ok200("x"))
      HH.run(function() return request(srv.url()) end)
      assert.equal("spec-agent/1", srv.requests[1].headers["user-agent"])
      assert.equal("GET / HTTP/1.1", srv.requests[1].line)
    end)

    it("sends basic auth from user:password@ in the url (password unescaped)", function()
      local srv = HH.server(function(req)
        if req.headers.authorization ~= "Basic dXNlcjpwQHNz" then return R("401 Unauthorized", {}, "no") end
        return R("200 OK", {}, "welcome")
      end)
      local body, code = HH.run(function() return request("http://user:p%40ss@127.0.0.1:" .. srv.port .. "/") end)
      assert.equal("welcome", body)
      assert.equal(200, code)
      body, code = HH.run(function() return request(srv.url()) end)
      assert.equal("no", body)
      assert.equal(401, code)
      assert.is_nil(srv.requests[2].headers.authorization)
    end)

    it("returns nil, 'connection refused' when nothing listens", function()
      local port = HH.freeport()
      local r, err = request("http://127.0.0.1:" .. port .. "/")
      assert.is_nil(r)
      assert.equal("connection refused", err)
    end)

    it("returns nil, err for a url it cannot use", function()
      assert.same({ nil, "unsupported scheme 'ftp'" }, { request("ftp://127.0.0.1/x") })
      assert.same({ nil, "invalid host 'nil'" }, { request("http:///x") })
    end)
  end)

  describe("request{...}", function()
    it("returns 1, code, headers, status and pumps the body into sink", function()
      local srv = HH.server(ok200(string.rep("abc", 1000)))
      local t = {}
      local r, code, headers, status = HH.run(function()
        return request({ url = srv.url("/t"), sink = ltn12.sink.table(t) })
      end)
      assert.equal(1, r)
      assert.equal(200, code)
      assert.equal("3000", headers["content-length"])
      assert.equal("HTTP/1.1 200 OK", status)
      assert.equal(string.rep("abc", 1000), table.concat(t))
    end)

    it("takes the url in parts, a method, headers (case-insensitive, overriding) and a source with a length", function()
      local srv = HH.server(function(req) return R("200 OK", {}, req.method .. " " .. req.body) end)
      local t = {}
      local r, code = HH.run(function()
        return request({ host = "127.0.0.1", port = srv.port, path = "/up", query = "v=2", method = "PUT",
          headers = { ["Content-Length"] = 4, ["USER-AGENT"] = "mine", ["X-Extra"] = "yes" },
          source = ltn12.source.string("data"), sink = ltn12.sink.table(t) })
      end)
      assert.same({ 1, 200 }, { r, code })
      assert.equal("PUT data", table.concat(t))
      local req = srv.requests[1]
      assert.equal("PUT /up?v=2 HTTP/1.1", req.line)
      assert.same({ "Host: 127.0.0.1:" .. srv.port, "Connection: close, TE", "Content-Length: 4", "TE: trailers",
        "User-Agent: mine", "x-extra: yes" }, req.lines)          -- 3.x: names it has no canonic form for go lower-case
    end)

    it("sends a source without a length chunked (and skips empty chunks)", function()
      local srv = HH.server(function(req) return R("200 OK", {}, req.body) end)
      local t = {}
      HH.run(function()
        return request({ url = srv.url("/c"), method = "POST", sink = ltn12.sink.table(t),
          source = ltn12.source.table({ "one", "", string.rep("x", 300), "end" }) })
      end)
      local req = srv.requests[1]
      assert.equal("chunked", req.headers["transfer-encoding"])
      assert.is_nil(req.headers["content-length"])
      assert.same({ 3, 300, 3, 0 }, req.chunks)
      assert.equal("one" .. string.rep("x", 300) .. "end", req.body)
      assert.equal(req.body, table.concat(t))
    end)

    it("raises when a header would inject CR/LF or is not a string or number", function()
      H.raising(function() request({ url = "http://127.0.0.1:1/", headers = { ["x-a"] = "1\r\nEvil: 1" } }) end,
        "bad argument #1 to 'request' (header 'x-a' contains CR or LF)")
      H.raising(function() request({ url = "http://127.0.0.1:1/", headers = { ["x a"] = "1" } }) end,
        "bad argument #1 to 'request' (invalid header name 'x a')")
      H.raising(function() request({ url = "http://127.0.0.1:1/", headers = { ["x-a"] = {} } }) end,
        "bad argument #1 to 'request' (header 'x-a' must be a string or a number)")
    end)

    it("HEAD reads no body, and neither do 204 and 304", function()
      local srv = HH.server(function(req)
        if req.target == "/204" then return "HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\n" end
        if req.target == "/304" then return "HTTP/1.1 304 Not Modified\r\n\r\n" end
        return "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n"   -- no body: a HEAD reply
      end)
      local t = {}
      local r, code, headers = HH.run(function()
        return request({ url = srv.url("/h"), method = "HEAD", sink = ltn12.sink.table(t) })
      end)
      assert.same({ 1, 200, "1000" }, { r, code, headers["content-length"] })
      assert.same({}, t)
      assert.equal("HEAD /h HTTP/1.1", srv.requests[1].line)
      for _, c in ipairs({ 204, 304 }) do
        local body, code2 = HH.run(function() return request(srv.url("/" .. c)) end)
        assert.same({ "", c }, { body, code2 })
      end
    end)

    it("skips 100 Continue and other interim responses", function()
      local srv = HH.server(function()
        return "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n"
          .. R("200 OK", {}, "final")
      end)
      local body, code, headers = HH.run(function() return request(srv.url()) end)
      assert.same({ "final", 200 }, { body, code })
      assert.is_nil(headers.link)
    end)

    it("reads a body that ends when the server closes", function()
      local srv = HH.server(function() return "HTTP/1.0 200 OK\r\nX: y\r\n\r\n" .. string.rep("z", 5000) end)
      local body, code, headers, status = HH.run(function() return request(srv.url()) end)
      assert.equal(string.rep("z", 5000), body)
      assert.same({ 200, "HTTP/1.0 200 OK" }, { code, status })
      assert.same({ x = "y" }, headers)
    end)

    it("takes a reply without a status line as HTTP/0.9: all body, code 200", function()
      local srv = HH.server(function() return "hello, old world" end)
      local body, code, headers = HH.run(function() return request(srv.url()) end)
      assert.same({ "hello, old world", 200 }, { body, code })
      assert.is_nil(headers)
    end)

    it("unfolds folded header lines", function()
      local srv = HH.server(function() return "HTTP/1.1 200 OK\r\nX-Long: a\r\n  b\r\n\tc\r\nContent-Length: 0\r\n\r\n" end)
      local _, _, headers = HH.run(function() return request(srv.url()) end)
      assert.equal("a  b\tc", headers["x-long"])
    end)

    it("calls onresponse(code, headers, status) before the body", function()
      local srv = HH.server(ok200("body"))
      local seen, t = {}, {}
      HH.run(function()
        return request({ url = srv.url(), sink = function(chunk)
          if chunk then t[#t + 1] = #seen .. chunk end
          return 1
        end, onresponse = function(code, headers, status)
          seen[#seen + 1] = { code, headers["content-length"], status }
        end })
      end)
      assert.same({ { 200, "4", "HTTP/1.1 200 OK" } }, seen)
      assert.same({ "1body" }, t)
    end)

    it("returns the sink's error", function()
      local srv = HH.server(ok200("body"))
      local r, err = HH.run(function()
        return request({ url = srv.url(), sink = function() return nil, "disk full" end })
      end)
      assert.same({ nil, "disk full" }, { r, err })
    end)
  end)

  describe("chunked replies", function()
    it("decodes chunks with extensions and puts the trailers into headers", function()
      local srv = HH.server(function()
        return "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
          .. "5;name=value\r\nhello\r\n1 ; x\r\n,\r\n6\r\n world\r\n0\r\nX-Checksum: 42\r\nX-More: yes\r\n\r\n"
      end)
      local body, code, headers = HH.run(function() return request(srv.url()) end)
      assert.same({ "hello, world", 200 }, { body, code })
      assert.same({ ["transfer-encoding"] = "chunked", ["x-checksum"] = "42", ["x-more"] = "yes" }, headers)
    end)

    it("passes large chunks on in pieces and keeps every byte", function()
      local data = require("ssl_helper").data(300000, 7)
      local srv = HH.server(function(_, c)
        c:send("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
        c:send(HH.chunked({ data:sub(1, 200000), data:sub(200001) }))
      end)
      local sizes = {}
      local r = HH.run(function()
        return request({ url = srv.url(), sink = function(chunk)
          if chunk then sizes[#sizes + 1] = chunk end
          return 1
        end })
      end)
      assert.equal(1, r)
      assert.equal(data, table.concat(sizes))
      for _, s in ipairs(sizes) do assert.is_true(#s <= 8192) end
    end)

    it("refuses a bad chunk size or a missing chunk end", function()
      local replies = {
        ["/zz"] = "zz\r\nhello\r\n0\r\n\r\n",
        ["/huge"] = "1000000000000000\r\n",
        ["/end"] = "5\r\nhelloX\r\n0\r\n\r\n",
        ["/neg"] = "-5\r\nhello\r\n",
      }
      local srv = HH.server(function(req)
        return "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" .. replies[req.target]
      end)
      for path, want in pairs({ ["/zz"] = "invalid chunk size", ["/huge"] = "invalid chunk size",
        ["/end"] = "invalid chunk end", ["/neg"] = "invalid chunk size" }) do
        assert.same({ nil, want }, { HH.run(function() return request(srv.url(path)) end) }, path)
      end
    end)

    it("the http-chunked sink and source work on any socket", function()
      local c, p = H.pair()
      local snk = socket.sink("http-chunked", c)
      assert.equal(10, snk("hello"))                 -- "5\r\nhello\r\n": send's last index
      assert.equal(1, snk(""))
      assert.equal(5, snk(nil))
      assert.equal("5\r\nhello\r\n0\r\n\r\n", p:receive(15))
      local hdrs = {}
      c:send("5\r\nhello\r\n0\r\nX-T: 1\r\n\r\n")
      local src = socket.source("http-chunked", p, hdrs)
      assert.equal("hello", src())
      assert.is_nil(src())
      assert.same({ ["x-t"] = "1" }, hdrs)
      assert.equal("function", type(getmetatable(src).__call))
      assert.equal(p:getfd(), src.getfd())
      c:close()
      p:close()
    end)
  end)

  describe("redirects", function()
    local function redirector(code)
      return function(req, _, srv)
        local n = tonumber(req.target:match("^/r/(%d+)$"))
        if n and n > 0 then return R(code, { "Location: /r/" .. (n - 1) }, "moved") end
        if n == 0 then return R("200 OK", {}, "arrived " .. #srv.requests) end
        return R(code, { "Location: " .. srv.url("/r/0") }, "")
      end
    end

    for _, code in ipairs({ "301 Moved Permanently", "302 Found", "303 See Other", "307 Temporary Redirect",
      "308 Permanent Redirect" }) do
      it("follows " .. code .. " for GET, relative locations too", function()
        local srv = HH.server(redirector(code))
        local body, c, headers = HH.run(function() return request(srv.url("/r/2")) end)
        assert.same({ "arrived 3", 200 }, { body, c })
        assert.equal("/r/0", headers.location)               -- the hint that a redirect happened
        assert.same({ "GET /r/2 HTTP/1.1", "GET /r/1 HTTP/1.1", "GET /r/0 HTTP/1.1" },
          { srv.requests[1].line, srv.requests[2].line, srv.requests[3].line })
      end)
    end

    it("keeps the method (HEAD) across a redirect", function()
      local srv = HH.server(redirector("302 Found"))
      local r, code = HH.run(function() return request({ url = srv.url("/r/1"), method = "HEAD" }) end)
      assert.same({ 1, 200 }, { r, code })
      assert.equal("HEAD /r/0 HTTP/1.1", srv.requests[2].line)
    end)

    it("does not follow with redirect = false, for POST, or to an unknown scheme", function()
      local srv = HH.server(function(req)
        if req.target == "/ftp" then return R("302 Found", { "Location: ftp://127.0.0.1/x" }, "f") end
        return R("302 Found", { "Location: /elsewhere" }, "stay")
      end)
      local r, code, headers = HH.run(function() return request({ url = srv.url("/a"), redirect = false }) end)
      assert.same({ 1, 302, "/elsewhere" }, { r, code, headers.location })
      local body
      body, code = HH.run(function() return request(srv.url("/a"), "x=1") end)
      assert.same({ "stay", 302 }, { body, code })
      body, code = HH.run(function() return request(srv.url("/ftp")) end)
      assert.same({ "f", 302 }, { body, code })
      assert.equal(3, #srv.requests)
    end)

    it("stops after maxredirects (default 5) and returns the last redirect", function()
      local srv = HH.server(function(req, _, srv)
        return R("302 Found", { "Location: /loop" .. (#srv.requests) }, "again " .. req.target)
      end)
      local body, code, headers = HH.run(function() return request(srv.url("/loop")) end)
      assert.same({ "again /loop5", 302, "/loop6" }, { body, code, headers.location })
      assert.equal(6, #srv.requests)
      local r
      r, code = HH.run(function() return request({ url = srv.url("/loop"), maxredirects = 2 }) end)
      assert.same({ 1, 302 }, { r, code })
      assert.equal(6 + 3, #srv.requests)
      http.MAXREDIRECTS = 8                          -- maxredirects = false: this cap
      r, code = HH.run(function() return request({ url = srv.url("/loop"), maxredirects = false }) end)
      assert.same({ 1, 302 }, { r, code })
      assert.equal(9 + 9, #srv.requests)
    end)

    it("drops Authorization and Cookie given in headers when the redirect leaves the origin", function()
      local other = HH.server(ok200("other"))
      local srv = HH.server(function(req)
        if req.target == "/same" then return R("302 Found", { "Location: /final" }, "") end
        if req.target == "/final" then return R("200 OK", {}, "same") end
        return R("302 Found", { "Location: " .. other.url("/x", "localhost") }, "")
      end)
      local hdrs = { Authorization = "Bearer secret", Cookie = "a=1", ["X-Keep"] = "k" }
      local body = HH.run(function() return request({ url = srv.url("/same"), headers = hdrs, sink = ltn12.sink.null() }) end)
      assert.equal(1, body)
      assert.equal("Bearer secret", srv.requests[2].headers.authorization)
      assert.equal("a=1", srv.requests[2].headers.cookie)
      local t = {}
      HH.run(function() return request({ url = srv.url("/away"), headers = hdrs, sink = ltn12.sink.table(t) }) end)
      assert.equal("other", table.concat(t))
      local req = other.requests[1]
      assert.is_nil(req.headers.authorization)
      assert.is_nil(req.headers.cookie)
      assert.equal("k", req.headers["x-keep"])
      assert.equal("localhost:" .. other.port, req.headers.host)
    end)
  end)

  describe("proxies", function()
    -- a proxy that answers itself and records what it was asked
    it("sends the absolute url to the proxy given in the request, with Proxy-Authorization", function()
      local proxy = HH.server(function(req) return R("200 OK", {}, "via proxy " .. req.target) end)
      local t = {}
      local r, code = HH.run(function()
        return request({ url = "http://user:pw@localhost:8080/a/b?c=1", sink = ltn12.sink.table(t),
          proxy = "http://puser:p%20w@127.0.0.1:" .. proxy.port })
      end)
      assert.same({ 1, 200 }, { r, code })
      assert.equal("via proxy http://localhost:8080/a/b?c=1", table.concat(t))
      local req = proxy.requests[1]
      assert.equal("GET http://localhost:8080/a/b?c=1 HTTP/1.1", req.line)
      assert.equal("localhost:8080", req.headers.host)
      assert.equal("Basic dXNlcjpwdw==", req.headers.authorization)
      assert.equal("Basic cHVzZXI6cCB3", req.headers["proxy-authorization"])
    end)

    it("uses http.PROXY, and leaves a default port out of the url and Host", function()
      local proxy = HH.server(function(req) return R("200 OK", {}, req.target) end)
      http.PROXY = "http://127.0.0.1:" .. proxy.port
      local body, code = HH.run(function() return request("http://localhost/x") end)
      assert.same({ "http://localhost/x", 200 }, { body, code })
      assert.equal("localhost", proxy.requests[1].headers.host)
      assert.is_nil(proxy.requests[1].headers["proxy-authorization"])
    end)
  end)

  describe("bounds on what the server sends", function()
    local function serve(reply) return HH.server(function() return reply end) end

    it("a header line longer than http.MAXHEADERLINE", function()
      http.MAXHEADERLINE = 100
      local srv = serve("HTTP/1.1 200 OK\r\nX: " .. string.rep("a", 98) .. "\r\n\r\n")
      assert.same({ nil, "header line too long" }, { HH.run(function() return request(srv.url()) end) })
      local fits = serve("HTTP/1.1 200 OK\r\nX: " .. string.rep("a", 97) .. "\r\nContent-Length: 0\r\n\r\n")
      local _, code, headers = HH.run(function() return request(fits.url()) end)
      assert.same({ 200, string.rep("a", 97) }, { code, headers.x })
    end)

    it("a status line longer than http.MAXHEADERLINE", function()
      local srv = serve("HTTP/1.1 200 " .. string.rep("O", 9000) .. "\r\n\r\n")
      assert.same({ nil, "status line too long" }, { HH.run(function() return request(srv.url()) end) })
    end)

    it("an endless header line is refused without reading it all", function()
      local srv = HH.server(function(_, c)
        c:send("HTTP/1.1 200 OK\r\nX: ")
        local block = string.rep("a", 65536)
        for _ = 1, 160 do                              -- 10 MiB if nobody stops reading
          if not c:send(block) then break end
        end
      end)
      assert.same({ nil, "header line too long" }, { HH.run(function() return request(srv.url()) end) })
    end)

    it("more than http.MAXHEADERS header lines", function()
      local lines = {}
      for i = 1, 101 do lines[i] = "X-" .. i .. ": v" end
      local srv = serve("HTTP/1.1 200 OK\r\n" .. table.concat(lines, "\r\n") .. "\r\n\r\n")
      assert.same({ nil, "too many header lines" }, { HH.run(function() return request(srv.url()) end) })
      lines[101] = nil
      local fits = serve("HTTP/1.1 200 OK\r\n" .. table.concat(lines, "\r\n") .. "\r\n\r\n")
      local _, code, headers = HH.run(function() return request(fits.url()) end)
      assert.same({ 200, "v" }, { code, headers["x-100"] })
    end)

    it("a chunk-size line longer than http.MAXHEADERLINE", function()
      local srv = serve("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;" .. string.rep("e", 9000) .. "\r\n")
      assert.same({ nil, "chunk size line too long" }, { HH.run(function() return request(srv.url()) end) })
    end)

    it("malformed headers, a bad status line, a bad Content-Length", function()
      local cases = {
        { "HTTP/1.1 200 OK\r\nno colon here\r\n\r\n", "malformed response headers" },
        { "HTTP/1.1 abc\r\n\r\n", "invalid status line" },
        { "HTTP/1.1 200 OK\r\nContent-Length: 12abc\r\n\r\nhello", "invalid content-length" },
        { "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\nhello", "invalid content-length" },
      }
      for _, case in ipairs(cases) do
        local srv = serve(case[1])
        assert.same({ nil, case[2] }, { HH.run(function() return request(srv.url()) end) })
      end
    end)

    it("a body shorter than its Content-Length gives nil, 'closed'", function()
      local srv = serve("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhello")
      assert.same({ nil, "closed" }, { HH.run(function() return request(srv.url()) end) })
    end)

    it("a server that closes before answering gives nil, 'closed'", function()
      local srv = serve("")
      assert.same({ nil, "closed" }, { HH.run(function() return request(srv.url()) end) })
    end)

    it("a slow server runs into http.TIMEOUT", function()
      http.TIMEOUT = 0.3
      local srv = HH.server(function(_, c)
        c:send("HTTP/1.1 200 OK\r\n")
        socket.sleep(1.5)
      end)
      local t0 = socket.gettime()
      assert.same({ nil, "timeout" }, { HH.run(function() return request(srv.url()) end) })
      local took = socket.gettime() - t0
      assert.is_true(took >= 0.25 and took < 1.4, "took " .. took)
    end)
  end)

  describe("against python3 -m http.server #linux #shell", function()
    local py, dir, rmdir
    local data = require("ssl_helper").data(300000, 3)
    setup(function()
      dir, rmdir = HH.tempdir({ ["file.bin"] = data, ["sub/index.html"] = "<p>index</p>\n", ["a b.txt"] = "spaced\n" })
      py = HH.python(dir)
    end)
    teardown(function()
      if py then py.stop() end
      if rmdir then rmdir() end
    end)

    it("GETs a binary file byte for byte, with its Content-Length", function()
      local body, code, headers, status = request(py.url("/file.bin"))
      assert.equal(200, code)
      assert.equal("HTTP/1.0 200 OK", status)
      assert.equal("300000", headers["content-length"])
      assert.equal(#data, #body)
      assert.is_true(body == data)
    end)

    it("HEAD gives the headers only", function()
      local t = {}
      local r, code, headers = request({ url = py.url("/file.bin"), method = "HEAD", sink = ltn12.sink.table(t) })
      assert.same({ 1, 200, "300000" }, { r, code, headers["content-length"] })
      assert.same({}, t)
    end)

    it("follows its 301 from /sub to /sub/", function()
      local body, code, headers = request(py.url("/sub"))
      assert.same({ "<p>index</p>\n", 200, "/sub/" }, { body, code, headers.location })
    end)

    it("a missing file is a 404 with a body, and an escaped path works", function()
      local body, code = request(py.url("/nothing-here"))
      assert.equal(404, code)
      assert.is_truthy(body:find("404", 1, true))
      body, code = request(py.url("/a%20b.txt"))
      assert.same({ "spaced\n", 200 }, { body, code })
    end)

    it("POST is refused with 501", function()
      local _, code = request(py.url("/file.bin"), "x=1")
      assert.equal(501, code)
    end)
  end)

  describe("without socket.ssl #linux #shell", function()
    it("still serves http://, and https:// gives nil, 'https not available: ...'", function()
      local build = os.getenv("NETSOCKET_BUILD")
      local root = build:match("^(.*)/[^/]+$")
      local dir = os.tmpname()
      os.remove(dir)
      assert(os.execute("mkdir -p " .. dir .. "/socket && cp " .. build .. "/socket/core.so " .. dir .. "/socket/"))
      local out = H.sh(("cd %s && LUA_PATH=%q LUA_CPATH=%q %s -e %q 2>&1"):format(dir, root .. "/lua/?.lua",
        dir .. "/?.so", H.LUA, [[
          local socket, co = require("socket"), require("socket.co")
          local http = require("socket.http")
          print(http.request("https://127.0.0.1:1/"))
          local s = socket.bind("127.0.0.1", 0)
          local _, port = s:getsockname()
          co.spawn(function()
            local c = s:accept()
            repeat local l = c:receive("*l") until l == "" or not l
            c:send("HTTP/1.0 200 OK\r\n\r\nplain")
            c:close()
            s:close()
          end)
          co.spawn(function()
            local body, code, _, status = http.request("http://127.0.0.1:" .. port .. "/")
            print(body, code, status)
          end)
          print(co.run(5))]]))
      os.execute("rm -rf " .. dir)
      assert.equal("nil\thttps not available: socket.ssl needs its C module socket.ssl.core, which was not "
        .. "built or not installed: install OpenSSL's headers (Debian: apt-get install libssl-dev) and run "
        .. "`make`, or `luarocks make netsocket-ssl-scm-1.rockspec`.\n"
        .. "plain\t200\tHTTP/1.0 200 OK\ntrue\n", out)
    end)
  end)
end)
