-- receivehead (issue 17): a whole HTTP request head in one call, strictly,
-- on TCP, unix and TLS objects, yielding in socket.co tasks like receive.
local socket = require("socket")
local co = require("socket.co")
local H = require("helper")

local function head(raw, ...)
  local c, p = H.pair()
  c:send(raw)
  p:settimeout(0.5)
  local r = table.pack(p:receivehead(...))
  local rest = table.pack(p:receive(0))
  c:close(); p:close()
  return r, rest
end

describe("regress: receivehead", function()
  it("returns method, target, version and lower-cased fields; repeats become a list", function()
    local r = head("GET /a?b=1 HTTP/1.1\r\nHost: x\r\nX-A:  1 \r\nx-a: 2\r\nX-A:\t3\r\nEmpty:\r\n\r\n")
    assert.are.equal("GET", r[1])
    assert.are.equal("/a?b=1", r[2])
    assert.are.equal("HTTP/1.1", r[3])
    assert.are.same({ host = "x", ["x-a"] = { "1", "2", "3" }, empty = "" }, r[4])
  end)

  it("accepts bare LF line ends and skips empty lines before the request line", function()
    local r = head("\r\n\nPOST * HTTP/1.0\nContent-Length: 5\n\n")
    assert.are.same({ "POST", "*", "HTTP/1.0", { ["content-length"] = "5" }, n = 4 }, r)
  end)

  it("consumes exactly the head: the body and a pipelined request stay", function()
    local c, p = H.pair()
    c:send("PUT / HTTP/1.1\r\nContent-Length: 3\r\n\r\nabcGET /2 HTTP/1.1\r\n\r\n")
    p:settimeout(1)
    assert.are.equal("PUT", (p:receivehead()))
    assert.are.equal("abc", p:receive(3))
    local m, t = p:receivehead()
    assert.are.same({ "GET", "/2" }, { m, t })
    c:close(); p:close()
  end)

  local bad = {
    { "GET / HTTP/1.1\r\nHost : x\r\n\r\n", "whitespace before colon" },
    { "GET / HTTP/1.1\r\nHost\t: x\r\n\r\n", "whitespace before colon" },
    { "GET / HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n", "obs-fold" },
    { "GET / HTTP/1.1\r\n\tX: y\r\n\r\n", "obs-fold" },
    { "GET / HTTP/1.1\r\nHost: x\0y\r\n\r\n", "invalid character in field" },
    { "GET / HTTP/1.1\r\nHost: x\ry\r\n\r\n", "invalid character in field" },
    { "GET / HTTP/1.1\r\nHost: x\r\r\n\r\n", "invalid character in field" },
    { "GET / HTTP/1.1\r\n: x\r\n\r\n", "bad field name" },
    { "GET / HTTP/1.1\r\nNoColon\r\n\r\n", "bad field name" },
    { "GET / HTTP/1.1\r\nA(b): x\r\n\r\n", "bad field name" },
    { "GET  / HTTP/1.1\r\n\r\n", "bad request line" },
    { "GET / HTTP/1.1 \r\n\r\n", "bad request line" },
    { "GET /\r\n\r\n", "bad request line" },
    { "GET / HTTP/11\r\n\r\n", "bad request line" },
    { "G\0T / HTTP/1.1\r\n\r\n", "bad request line" },
    { "GET /a\1b HTTP/1.1\r\n\r\n", "bad request line" },
    { "GET / HTTP/1.1\rX: y\r\n\r\n", "bad request line" },
  }
  for _, case in ipairs(bad) do
    it(("refuses %q with %q"):format(case[1], case[2]), function()
      local r = head(case[1])
      assert.are.same({ nil, case[2], n = 2 }, r)
    end)
  end

  it("tells an oversize request line, an oversize head and too many fields apart", function()
    assert.are.same({ nil, "request line too long", n = 2 }, head("GET /" .. ("a"):rep(100) .. " HTTP/1.1\r\n", 50))
    assert.are.same({ nil, "head too large", n = 2 }, head("GET / HTTP/1.1\r\nA: " .. ("b"):rep(100) .. "\r\n\r\n", 60))
    assert.are.same({ nil, "too many fields", n = 2 }, head("GET / HTTP/1.1\r\nA: b\r\nC: d\r\n\r\n", 100, 1))
    -- exactly at the limits is fine
    local raw = "GET / HTTP/1.1\r\nA: b\r\n\r\n"
    assert.are.equal("GET", head(raw, #raw, 1)[1])
    assert.are.same({ nil, "head too large", n = 2 }, head(raw, #raw - 1))
  end)

  it("a timeout loses nothing: the call completes when the rest arrives", function()
    local c, p = H.pair()
    c:send("GET / HTTP/1.1\r\nHo")
    p:settimeout(0.05)
    assert.are.same({ nil, "timeout", n = 2 }, table.pack(p:receivehead()))
    c:send("st: y\r\n\r\n")
    local m, _, _, f = p:receivehead()
    assert.are.equal("GET", m)
    assert.are.same({ host = "y" }, f)
    c:send("GET / HTTP/1.1\r\n")
    c:close()
    assert.are.same({ nil, "closed", n = 2 }, table.pack(p:receivehead()))
    p:close()
    assert.are.same({ nil, "closed", n = 2 }, table.pack(p:receivehead()))
  end)

  it("checks its arguments", function()
    local c, p = H.pair()
    assert.has_error(function() p:receivehead(0) end)
    assert.has_error(function() p:receivehead(10, -1) end)
    assert.has_error(function() p:receivehead("x") end)
    c:close(); p:close()
  end)

  it("yields in a socket.co task while the head arrives byte by byte", function()
    local c, p = H.pair()
    local raw = "GET /x HTTP/1.1\r\nHost: h\r\nAccept: */*\r\n\r\n"
    local got
    co.spawn(function() got = table.pack(p:receivehead()) end)
    co.spawn(function()
      for i = 1, #raw do c:send(raw:sub(i, i)); socket.sleep(0.001) end
    end)
    assert.is_true(co.run(5))
    assert.are.same({ "GET", "/x", "HTTP/1.1", { host = "h", accept = "*/*" }, n = 4 }, got)
    c:close(); p:close()
  end)

  it("works on unix stream sockets #linux #unixsock", function()
    local unix = require("socket.unix")
    local path = os.tmpname()
    os.remove(path)
    local srv = assert(unix.stream())
    assert(srv:bind(path)); assert(srv:listen())
    local c = assert(unix.stream()); assert(c:connect(path))
    local p = assert(srv:accept())
    c:send("OPTIONS * HTTP/1.1\r\nHost: u\r\n\r\n")
    p:settimeout(1)
    assert.are.same({ "OPTIONS", "*", "HTTP/1.1", { host = "u" }, n = 4 }, table.pack(p:receivehead()))
    c:close(); p:close(); srv:close(); os.remove(path)
  end)

  it("works on TLS conns (the same buffer engine)", function()
    local ok, ssl = pcall(require, "socket.ssl")
    if not ok then return pending("socket.ssl not built") end
    local S = require("ssl_helper")
    local sparams, cleanup = require("httpd_helper").selfsigned()
    sparams.mode = "server"
    local cc, pp = S.tlspair(sparams, { verify = "none" }, "127.0.0.1")
    cc:send("GET /tls HTTP/1.1\r\nHost: t\r\n\r\n")
    pp:settimeout(2)
    assert.are.same({ "GET", "/tls", "HTTP/1.1", { host = "t" }, n = 4 }, table.pack(pp:receivehead()))
    cc:close(); pp:close(); cleanup()
    assert(ssl)
  end)
end)
