-- receivehead(max, maxfields, true), socket.httpd's raw form: the field
-- lines as one string and whether the request is simple (HTTP/1.1, one
-- Host, no Connection, Content-Length, Transfer-Encoding or Expect: the
-- server then skips every field check), and socket._headfields, which makes
-- the fields table from such lines on first use. A simple head that is not
-- would let a body or a second Host past the server's checks (smuggling),
-- so names count in any case and near-misses do not count.
local socket = require("socket")
local co = require("socket.co")
local httpd = require("socket.httpd")
local H = require("helper")

local function raw(head)
  local c, p = H.pair()
  c:send(head)
  p:settimeout(0.5)
  local r = table.pack(p:receivehead(nil, nil, true))
  c:close(); p:close()
  return r
end

local function simple(fields, version)
  return raw("GET / " .. (version or "HTTP/1.1") .. "\r\n" .. fields .. "\r\n")[5]
end

describe("regress: receivehead raw", function()
  it("returns the field lines as sent, and simple for a plain HTTP/1.1 GET", function()
    local r = raw("GET /a HTTP/1.1\r\nHost: x\r\nX-A:  1 \r\n\r\nrest")
    assert.are.same({ "GET", "/a", "HTTP/1.1", "Host: x\r\nX-A:  1 \r\n", true, n = 5 }, r)
    r = raw("GET / HTTP/1.1\nHost: x\n\n")                  -- bare LF: one byte of empty line
    assert.are.same({ "GET", "/", "HTTP/1.1", "Host: x\n", true, n = 5 }, r)
    r = raw("GET / HTTP/1.0\r\n\r\n")                        -- no fields at all
    assert.are.same({ "GET", "/", "HTTP/1.0", "", false, n = 5 }, r)
  end)

  it("is not simple with no Host, two Hosts in any case, or another version", function()
    assert.is_false(simple("X: y\r\n"))
    assert.is_false(simple("Host: a\r\nHOST: b\r\n"))
    assert.is_false(simple("hOsT: a\r\nhost: a\r\n"))
    assert.is_false(simple("Host: a\r\n", "HTTP/1.0"))
    assert.is_false(simple("Host: a\r\n", "HTTP/1.2"))
    assert.is_true(simple("HOST: a\r\n"))
  end)

  it("is not simple with a framing or connection field in any case", function()
    for _, f in ipairs({ "Content-Length: 0", "CONTENT-LENGTH: 5", "transfer-Encoding: chunked",
                         "TRANSFER-ENCODING: x", "Connection: close", "connectioN: keep-alive",
                         "Expect: 100-continue", "EXPECT: x" }) do
      assert.is_false(simple("Host: a\r\n" .. f .. "\r\n"), f)
      assert.is_false(simple(f .. "\r\nHost: a\r\n"), f)
    end
  end)

  it("does not count names that only look like them", function()
    for _, f in ipairs({ "Hosts: b", "X-Host: b", "Hos: b", "Content-Lengt: 1", "Content-Length-X: 1",
                         "Transfer-Encodin: x", "Connections: close", "Expects: x", "Content_Length: 1" }) do
      assert.is_true(simple("Host: a\r\n" .. f .. "\r\n"), f)
    end
  end)

  it("refuses what the plain form refuses", function()
    assert.are.same({ nil, "obs-fold", n = 2 }, raw("GET / HTTP/1.1\r\nHost: a\r\n b\r\n\r\n"))
    assert.are.same({ nil, "whitespace before colon", n = 2 }, raw("GET / HTTP/1.1\r\nHost : a\r\n\r\n"))
    assert.are.same({ nil, "invalid character in field", n = 2 }, raw("GET / HTTP/1.1\r\nHost: a\0b\r\n\r\n"))
  end)
end)

describe("regress: socket._headfields", function()
  it("makes the table receivehead makes, repeats as lists", function()
    local r = raw("GET / HTTP/1.1\r\nHost: x\r\nX-A:  1 \r\nx-a: 2\r\nX-A:\t3\r\nEmpty:\r\n\r\n")
    assert.are.same({ host = "x", ["x-a"] = { "1", "2", "3" }, empty = "" }, socket._headfields(r[4]))
    assert.are.same({}, socket._headfields(""))
    assert.are.same({ a = "b" }, socket._headfields("A: b"))         -- a last line without LF
    assert.are.same({ a = "b" }, socket._headfields("A: b\r\n\r\n"))  -- a final empty line
  end)

  it("raises on a line without a token name and a colon (values were checked by the scan)", function()
    for _, s in ipairs({ "A b: c\r\n", "A : c\r\n", ": c\r\n", "no colon\r\n", " a: b\r\n",
                         "a: b\r\nx\r\n", "a: b\r\n\r\nc: d\r\n", "a: b\r\n\r\r\n", "a\0: b\r\n",
                         "\r:\n", string.rep("x", 100000), string.rep("a: b\n", 1000) .. ":" }) do
      local ok, err = pcall(socket._headfields, s)
      assert.is_false(ok, ("%q"):format(s))
      assert.truthy(err:find("bad argument #1 to '.-' %(not HTTP field lines%)"), err)
    end
    local ok, err = pcall(socket._headfields, {})
    assert.is_false(ok)
    assert.truthy(err:find("bad argument #1"), err)
  end)
end)

describe("regress: socket.httpd on simple and other heads", function()
  local function exchange(srv, req)
    local _, port = srv:getsockname()
    local got
    co.spawn(function()
      local c = assert(socket.connect("127.0.0.1", port))
      c:settimeout(5, "t")
      c:send(req)
      local data, _, part = c:receive("*a")
      got = data or part
      c:close()
      srv:stop(1)
    end)
    assert.is_true(co.run(10))
    return got
  end

  it("refuses two Hosts that differ only in case, and reads a body framed in upper case", function()
    local seen = {}
    local srv = assert(httpd.new(function(req, res)
      seen[#seen + 1] = req:body()
      res:send("ok")
    end))
    local got = exchange(srv, "GET / HTTP/1.1\r\nHost: a\r\nHOST: b\r\n\r\n")
    assert.truthy(got:find("^HTTP/1.1 400 "), got)
    srv = assert(httpd.new(function(req, res)
      seen[#seen + 1] = req:body()
      res:send("ok")
    end))
    got = exchange(srv, "POST / HTTP/1.1\r\nHost: a\r\nCONTENT-LENGTH: 3\r\n\r\nabc"
      .. "POST / HTTP/1.1\r\nHost: a\r\nTRANSFER-ENCODING: chunked\r\nConnection: close\r\n\r\n2\r\nde\r\n0\r\n\r\n")
    assert.truthy(got:find("^HTTP/1.1 200 .*HTTP/1.1 200 "), got)
    assert.are.same({ "abc", "de" }, seen)
  end)

  it("a simple request after one with a body finds no body state left over", function()
    local seen = {}
    local srv = assert(httpd.new(function(req, res)
      if req.path == "/get" then seen[#seen + 1] = req:body() end
      res:send("ok")
    end))
    local got = exchange(srv, "POST /a HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc"
      .. "GET /get HTTP/1.1\r\nHost: a\r\n\r\n"
      .. "POST /b HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\nExpect: 100-continue\r\n\r\n"
      .. "POST /c HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nxyz\r\n0\r\n\r\n"
      .. "GET /get HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
    local n = select(2, got:gsub("HTTP/1.1 200 OK", ""))
    assert.are.equal(5, n, got)
    assert.falsy(got:find("100 Continue"), got)
    assert.are.same({ "", "" }, seen)
  end)

  it("makes req.headers on first use, the same table each time, and once per request", function()
    local seen = {}
    local srv = assert(httpd.new(function(req, res)
      local h = req.headers
      seen[#seen + 1] = { h, req.headers == h, h.host, req:header("x-a"), req.method, req.path }
      res:send("ok")
    end))
    exchange(srv, "GET /1 HTTP/1.1\r\nHost: a\r\nX-A: 1\r\nx-a: 2\r\n\r\n"
      .. "GET /2 HTTP/1.1\r\nHost: b\r\nConnection: close\r\n\r\n")
    assert.are.equal(2, #seen)
    assert.are.same({ host = "a", ["x-a"] = { "1", "2" } }, seen[1][1])
    assert.are.same({ true, "a", "1, 2", "GET", "/1" }, { seen[1][2], seen[1][3], seen[1][4], seen[1][5], seen[1][6] })
    assert.are.same({ host = "b", connection = "close" }, seen[2][1])
    assert.are.same({ true, "b", nil, "GET", "/2" }, { seen[2][2], seen[2][3], seen[2][4], seen[2][5], seen[2][6] })
    assert.are_not.equal(seen[1][1], seen[2][1])
  end)

  it("a handler that raises gets 500 and onerror(err, req); the server goes on", function()
    local errs = {}
    local srv = assert(httpd.new(function(req, res)
      if req.path == "/boom" then error("boom") end
      res:send("fine")
    end, { onerror = function(e, req) errs[#errs + 1] = { e, req and req.path } end }))
    local _, port = srv:getsockname()
    local first, second
    co.spawn(function()
      local c = assert(socket.connect("127.0.0.1", port))
      c:settimeout(5, "t")
      c:send("GET /boom HTTP/1.1\r\nHost: a\r\n\r\n")
      first = c:receive("*a")
      c:close()
      c = assert(socket.connect("127.0.0.1", port))
      c:settimeout(5, "t")
      c:send("GET /ok HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
      second = c:receive("*a")
      c:close()
      srv:stop(1)
    end)
    assert.is_true(co.run(10))
    assert.truthy(first:find("^HTTP/1.1 500 .*Connection: close\r\n"), first)
    assert.truthy(second:find("^HTTP/1.1 200 .*\r\n\r\nfine$"), second)
    assert.are.equal(1, #errs)
    assert.truthy(tostring(errs[1][1]):find("boom"), errs[1][1])
    assert.are.equal("/boom", errs[1][2])
  end)
end)

describe("regress: socket._headfield and req:header without the table", function()
  it("finds one field in any case, joins repeats with ', ', and is nil when absent", function()
    local lines = "Host: x\r\nX-A:  1 \r\nx-a: 2\r\nX-AB: no\r\nX: no\r\nEmpty:\r\nx-A:\t3\n"
    assert.are.equal("x", socket._headfield(lines, "host"))
    assert.are.equal("1, 2, 3", socket._headfield(lines, "x-a"))
    assert.are.equal("", socket._headfield(lines, "empty"))
    assert.is_nil(socket._headfield(lines, "x-"))
    assert.is_nil(socket._headfield(lines, "X-A"))                 -- the name is given in lower case
    assert.is_nil(socket._headfield(lines, "ho"))
    assert.is_nil(socket._headfield("", "host"))
    assert.is_nil(socket._headfield("Host: a\r\n\r\nX: b\r\n", "x"))   -- nothing after the empty line
    assert.are.equal("b", socket._headfield("A:b", "a"))           -- a last line without LF
    assert.is_nil(socket._headfield("no colon\r\n:\r\n", "no colon"))
    assert.is_false(pcall(socket._headfield, lines))
    assert.is_false(pcall(socket._headfield, {}, "a"))
  end)

  it("req:header gives what req.headers gives, before and after the table is made", function()
    local seen = {}
    local srv = assert(httpd.new(function(req, res)
      local before = { req:header("user-agent"), req:header("x-a"), req:header("nope"), req:header(1), req:header(nil) }
      local made = rawget(req, "headers") ~= nil
      local h = req.headers
      local after = { req:header("user-agent"), req:header("x-a"), req:header("nope"), req:header(1), req:header(nil) }
      seen[#seen + 1] = { before, made, after, h["user-agent"] }
      res:send("ok")
    end))
    local _, port = srv:getsockname()
    co.spawn(function()
      local c = assert(socket.connect("127.0.0.1", port))
      c:settimeout(5, "t")
      c:send("GET / HTTP/1.1\r\nHost: a\r\nUser-Agent:  UA 1 \r\nX-A: 1\r\nx-a: 2\r\nConnection: close\r\n\r\n")
      c:receive("*a")
      c:close()
      c = assert(socket.connect("127.0.0.1", port))
      c:settimeout(5, "t")
      c:send("GET / HTTP/1.1\r\nHost: a\r\nUser-Agent: UA 2\r\n\r\n")
      c:receive("*l")
      c:close()
      srv:stop(1)
    end)
    assert.is_true(co.run(10))
    assert.are.equal(2, #seen)
    assert.are.same({ { "UA 1", "1, 2" }, true, { "UA 1", "1, 2" }, "UA 1" }, seen[1])   -- (not simple: the table came first)
    assert.are.same({ { "UA 2" }, false, { "UA 2" }, "UA 2" }, seen[2])
  end)
end)
