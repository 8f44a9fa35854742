-- Issue 14 §5: socket.http put a CR, LF or other control byte (or a space
-- that splits the request line) from the method, the url's path or query,
-- the host or a proxy onto the wire, and read "HTTP/1.1 2000 OK" as 200.
-- Every refused request must raise before anything is connected: a
-- listening socket on loopback checks that nobody connected to it.
local socket = require("socket")
local ltn12 = require("ltn12")
local http = require("socket.http")
local H = require("helper")
local HH = require("http_helper")

local R = HH.response
local request = http.request

-- A listener nobody should reach: refused(f, frag) runs f, which must raise
-- with frag, and then checks that no connection came in.
local function listener()
  local l = assert(socket.bind("127.0.0.1", 0))
  local _, port = l:getsockname()
  return l, port
end

local function refused(l, f, ...)
  local err = H.raising(f, ...)
  l:settimeout(0)
  local c = l:accept()
  if c then c:close() end
  assert.is_nil(c, "a connection was made for a refused request (" .. err .. ")")
  return err
end

describe("regress: socket.http refuses hostile bytes in the request line, Host and CONNECT", function()
  local l, port, saved
  before_each(function()
    l, port = listener()
    saved = { PROXY = http.PROXY, USERAGENT = http.USERAGENT, TIMEOUT = http.TIMEOUT }
    http.TIMEOUT = 1          -- bounds a request that (wrongly) got through to the listener
  end)
  after_each(function()
    l:close()
    http.PROXY, http.USERAGENT, http.TIMEOUT = saved.PROXY, saved.USERAGENT, saved.TIMEOUT
    HH.cleanup()
  end)

  local base = function(path) return "http://127.0.0.1:" .. port .. path end

  it("in the method", function()
    for m, why in pairs({ ["GET /x HTTP/1.1\r\nX-Injected: 1\r\n\r\nGET"] = "method contains CR or LF",
      ["GET\n"] = "method contains CR or LF", ["GE\0T"] = "method contains a control character",
      ["G\tET"] = "method contains a control character", ["GET /admin"] = "method contains a space",
      ["GE(T"] = "invalid method 'GE(T'" }) do
      refused(l, function() request({ url = base("/"), method = m }) end, "bad argument #1 to 'request' (" .. why)
    end
    refused(l, function() request({ url = base("/"), method = 7 }) end, "field 'method' must be a string")
  end)

  it("in the url's path, params or query", function()
    local cases = {
      { "/a\r\nX-Injected: 1", "url path or query contains CR or LF" },
      { "/a?q=1\nX-Injected: 1", "url path or query contains CR or LF" },
      { "/a HTTP/1.0\r\n", "url path or query contains CR or LF" },
      { "/a b", "url path or query contains a space" },
      { "/a?q=a b", "url path or query contains a space" },
      { "/a;p\0", "url path or query contains a control character" },
      { "/a?\127", "url path or query contains a control character" },
      { "/\27[31m", "url path or query contains a control character" },
    }
    for _, c in ipairs(cases) do
      refused(l, function() request(base(c[1])) end, c[2])
      refused(l, function() request({ url = base(c[1]) }) end, c[2])
    end
    refused(l, function() request({ host = "127.0.0.1", port = port, path = "/x\r\nA: b" }) end,
      "url path or query contains CR or LF")
    refused(l, function() request({ host = "127.0.0.1", port = port, query = "a b" }) end,
      "url path or query contains a space")
    refused(l, function() request({ url = base("/"), uri = "/x HTTP/1.1\r\nA: b\r\n\r\nGET /y" }) end,
      "url path or query contains CR or LF")
  end)

  it("in the host and the port", function()
    refused(l, function() request({ host = "127.0.0.1\r\nX-Injected: 1", port = port }) end,
      "host contains CR or LF")
    refused(l, function() request({ host = "127.0.0.1 x", port = port }) end, "host contains a space")
    refused(l, function() request({ host = "127.0.0.1\0", port = port }) end, "host contains a control character")
    refused(l, function() request({ host = "127.0.0.1/x", port = port }) end, "host is not a host name or address")
    refused(l, function() request({ host = "127.0.0.1", port = port .. "\r\nX: 1" }) end, "invalid port")
    refused(l, function() request({ host = "127.0.0.1", port = "80 80" }) end, "invalid port")
    refused(l, function() request({ host = "127.0.0.1", port = 70000 }) end, "invalid port '70000'")
    refused(l, function() request("http://127.0.0.1:" .. port .. "x/") end, "invalid port")
  end)

  it("in a header value: CR, LF and other control bytes, but HTAB passes", function()
    refused(l, function() request({ url = base("/"), headers = { ["x-a"] = "1\0" } }) end,
      "header 'x-a' contains a control character")
    refused(l, function() request({ url = base("/"), headers = { ["x-a"] = "1\r\nX-B: 2" } }) end,
      "header 'x-a' contains CR or LF")
    http.USERAGENT = "ua\r\nX-Injected: 1"
    refused(l, function() request(base("/")) end, "header 'user-agent' contains CR or LF")
    refused(l, function() request("https://127.0.0.1:" .. port .. "/") end, "header 'user-agent' contains CR or LF")
    http.USERAGENT = saved.USERAGENT
    local srv = HH.server(function() return R("200 OK", {}, "ok") end)
    local body, code = HH.run(function()
      return request({ url = srv.url("/"), headers = { ["x-a"] = "a\tb" }, sink = ltn12.sink.null() })
    end)
    assert.same({ 1, 200 }, { body, code })
    assert.equal("a\tb", srv.requests[1].headers["x-a"])
  end)

  it("through a proxy: the absolute url, the CONNECT authority and the proxy url itself", function()
    http.PROXY = "http://127.0.0.1:" .. port
    refused(l, function() request({ host = "example.test\r\nX-Injected: 1", path = "/" }) end,
      "host contains CR or LF")
    refused(l, function() request("http://example.test/a b") end, "url path or query contains a space")
    refused(l, function() request({ url = "https://x", host = "example.test\r\nX: 1" }) end, "host contains CR or LF")
    refused(l, function() request({ url = "https://x", host = "a b" }) end, "host contains a space")
    http.PROXY = nil
    refused(l, function() request({ url = base("/"), proxy = "http://127.0.0.1\r\nX: 1:" .. port }) end,
      "proxy host contains CR or LF")
    refused(l, function() request({ url = base("/"), proxy = "http://127.0.0.1:" .. port .. "\0" }) end,
      "invalid proxy port")
  end)

  it("what reaches the wire for a clean request through a proxy is one request line and its headers", function()
    local proxy = HH.server(function(req) return R("200 OK", {}, req.target) end)
    local body, code = HH.run(function()
      return request({ url = "http://example.test:8080/a/b;p?q=1%0D%0A", proxy = "http://127.0.0.1:" .. proxy.port,
        sink = ltn12.sink.null() })
    end)
    assert.same({ 1, 200 }, { body, code })
    local req = proxy.requests[1]
    assert.equal("GET http://example.test:8080/a/b;p?q=1%0D%0A HTTP/1.1", req.line)
    assert.equal("example.test:8080", req.headers.host)
    assert.is_nil(req.headers["x-injected"])
  end)

  it("does not follow a Location whose bytes would break the request line, and follows one with blanks around it", function()
    local srv
    srv = HH.server(function(req)
      if req.target == "/ctl" then return R("302 Found", { "Location: /x\2y" }, "") end
      if req.target == "/space" then return R("302 Found", { "Location: /a b" }, "") end
      -- url.absolute drops "\1" (3.x's marker): checked before it, or /x?ab is followed
      if req.target == "/one" then return R("302 Found", { "Location: /x?a\1b" }, "") end
      if req.target == "/host" then return R("302 Found", { "Location: http://127.0.0.1\0:" .. srv.port .. "/" }, "") end
      if req.target == "/blank" then return R("302 Found", { "Location:   /ok \t" }, "") end
      return R("200 OK", {}, "at " .. req.target)
    end)
    for path, want in pairs({ ["/ctl"] = "/x\2y", ["/space"] = "/a b", ["/one"] = "/x?a\1b" }) do
      local _, code, hdrs = HH.run(function() return request({ url = srv.url(path), sink = ltn12.sink.null() }) end)
      assert.equal(302, code)
      assert.equal(want, hdrs.location)
    end
    local _, code = HH.run(function() return request({ url = srv.url("/host"), sink = ltn12.sink.null() }) end)
    assert.equal(302, code)
    local body
    body, code = HH.run(function() return request(srv.url("/blank")) end)
    assert.same({ "at /ok", 200 }, { body, code })
    for _, req in ipairs(srv.requests) do
      assert.is_truthy(req.method, "a request line that did not parse: " .. req.line)
    end
  end)
end)

describe("regress: socket.http reads only HTTP/<d>.<d> <3 digits> as a status line", function()
  after_each(HH.cleanup)

  local function status(line)
    local srv = HH.server(function() return line .. "\r\nContent-Length: 2\r\n\r\nok" end)
    return HH.run(function() return request(srv.url("/")) end)
  end

  it("refuses a longer code, a missing space, a longer version or a short code", function()
    for _, line in ipairs({ "HTTP/1.1 2000 OK", "HTTP/1.1 200OK", "HTTP/1.1 20 OK", "HTTP/11.1 200 OK",
      "HTTP/1.10 200 OK", "HTTP/1. 200 OK", "HTTP/1.1  200 OK", "HTTP/1.1 2x0 OK", "HTTP/1.1 -20 OK" }) do
      assert.same({ nil, "invalid status line" }, { status(line) }, line)
    end
  end)

  it("takes an exact status line, with a reason or without one", function()
    for _, line in ipairs({ "HTTP/1.1 200 OK", "HTTP/1.0 200", "HTTP/1.1 200 ", "HTTP/2.0 200 Fine  then" }) do
      local body, code = status(line)
      assert.same({ "ok", 200 }, { body, code }, line)
    end
  end)

  it("a proxy's answer to CONNECT must be an exact 2xx status line", function()
    local proxy = HH.server(function() return "HTTP/1.1 2000 Connection established\r\n\r\n" end)
    local r, err = HH.run(function()
      return request({ url = "https://localhost:1/", proxy = "http://127.0.0.1:" .. proxy.port })
    end)
    assert.is_nil(r)
    assert.equal("proxy refused the tunnel: HTTP/1.1 2000 Connection established", err)
  end)
end)

describe("regress: socket.http's low-level API and field types", function()
  it("h:sendrequestline refuses a method or uri that would add a line, before sending", function()
    local l = assert(socket.bind("127.0.0.1", 0))
    local _, port = l:getsockname()
    local h = http.open("127.0.0.1", port)
    local c = assert(l:accept())
    H.raising(function() h:sendrequestline("GET", "/x\r\nX-Injected: 1") end,
      "bad argument #2 to 'sendrequestline' (uri contains CR or LF)")
    H.raising(function() h:sendrequestline("GET /x HTTP/1.1\r\n\r\nGET", "/") end,
      "bad argument #1 to 'sendrequestline' (method contains CR or LF)")
    H.raising(function() h:sendrequestline("GET", 5) end, "uri string expected, got number")
    c:settimeout(0.05)
    local got, err, partial = c:receive("*a")
    assert.same({ "", "timeout" }, { partial or got, err })
    assert.is_truthy(h:sendrequestline(nil, "/ok"))
    assert.equal("GET /ok HTTP/1.1", c:receive("*l"))
    h:close()
    c:close()
    l:close()
  end)

  it("a spelling put in socket.headers.canonic is used only when it spells the same name", function()
    local canonic = require("socket.headers").canonic
    local saved = canonic["user-agent"]
    canonic["user-agent"] = "User-Agent: x\r\nX-Injected: 1\r\nX"
    canonic["x-odd"] = "X-ODD"
    local srv = HH.server(function() return R("200 OK", {}, "ok") end)
    local ok, body = pcall(HH.run, function()
      return request({ url = srv.url("/"), headers = { ["x-odd"] = "v" } })
    end)
    canonic["user-agent"], canonic["x-odd"] = saved, nil
    HH.cleanup()
    assert.is_true(ok, body)
    local lines = srv.requests[1].lines
    assert.is_nil(srv.requests[1].headers["x-injected"])
    assert.is_truthy(table.concat(lines, "\n"):find("\nX%-ODD: v"), table.concat(lines, "\n"))
    assert.is_truthy(table.concat(lines, "\n"):find("\nuser%-agent: "), table.concat(lines, "\n"))
  end)

  it("a proxy that is not a string raises naming the field", function()
    H.raising(function() request({ url = "http://127.0.0.1:1/", proxy = {} }) end,
      "bad argument #1 to 'request' (field 'proxy' must be a string)")
  end)
end)
