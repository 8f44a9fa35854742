-- samples/http_echo.lua: the HTTP echo server, run as a child process and
-- fetched with curl and with netsocket clients, over loopback only.
local socket = require("socket")
local H = require("helper")

local root = debug.getinfo(1, "S").source:match("^@(.-)spec/[^/]*$") or ""
local SAMPLE = root .. "samples/http_echo.lua"

local function q(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

-- Starts the sample (under timeout(1) as a safety net); returns the pipe and
-- the port from its first line.
local function start(count, idle)
  return H.sample("http_echo.lua", ("127.0.0.1 0 %d %s"):format(count, idle),
    "^http_echo: listening on http://127%.0%.0%.1:(%d+)/$")
end
local finish = H.finish

-- One raw request over a netsocket client; returns the status line, the
-- headers (lower-case names) and the body.
local function fetch(port, request)
  local c = assert(socket.connect("127.0.0.1", port))
  c:settimeout(10)
  assert(c:send(request))
  local all = assert(c:receive("*a"))
  c:close()
  local head, body = all:match("^(.-)\r\n\r\n(.*)$")
  assert(head, "no end of headers in " .. ("%q"):format(all))
  local status = head:match("^[^\r]*")
  local headers = {}
  for name, value in head:gmatch("\r\n([^:\r]+): ([^\r]*)") do headers[name:lower()] = value end
  return status, headers, body
end

local function curl(args)
  return H.sh("curl -sS --noproxy '*' --max-time 10 " .. args)
end

describe("samples/http_echo.lua", function()
  it("echoes curl's GET, POST and chunked requests as text/plain, then stops after its count #linux #shell", function()
    local p, port = start(4, 20)
    local url = ("http://127.0.0.1:%d"):format(port)

    local out, ok = curl("-i " .. url .. "/hello?x=1 -H 'X-Test: one two'")
    assert.is_true(ok, out)
    local head, body = out:match("^(.-)\r\n\r\n(.*)$")
    assert.matches("^HTTP/1%.1 200 OK\r\n", head)
    assert.truthy(head:find("Content-Type: text/plain", 1, true), head)
    assert.truthy(head:find("Content-Length: " .. #body, 1, true), head)
    assert.matches("^GET /hello%?x=1 HTTP/1%.1\nHost: 127%.0%.0%.1:" .. port .. "\n", body)
    assert.truthy(body:find("\nX-Test: one two\n", 1, true), body)
    assert.matches("\n\n$", body)                         -- headers, blank line, no body

    out, ok = curl(url .. "/form -d 'a=1&b=two words'")
    assert.is_true(ok, out)
    assert.matches("^POST /form HTTP/1%.1\n", out)
    assert.truthy(out:find("\nContent-Length: 15\n", 1, true), out)
    assert.matches("\n\na=1&b=two words$", out)

    out, ok = curl(url .. "/chunked -H 'Transfer-Encoding: chunked' --data-binary 'in chunks\n'")
    assert.is_true(ok, out)
    assert.truthy(out:find("\nTransfer-Encoding: chunked\n", 1, true), out)
    assert.matches("\n\nin chunks\n$", out)

    out, ok = curl("-I " .. url .. "/head")               -- HEAD: headers only
    assert.is_true(ok, out)
    assert.matches("^HTTP/1%.1 200 OK\r\n", out)
    assert.matches("\r\n\r\n$", out)

    local rest, exit = finish(p)
    assert.are.same({ true, "exit", 0 }, exit)
    assert.truthy(rest:find('"GET /hello?x=1 HTTP/1.1" -> 200', 1, true), rest)
    assert.truthy(rest:find('"HEAD /head HTTP/1.1" -> 200', 1, true), rest)
    assert.matches("http_echo: stopped %(count%), answered 4 requests\n$", rest)
    assert.are.same({ nil, "connection refused" }, { socket.connect("127.0.0.1", port) })
  end)

  it("answers netsocket clients: HTTP/1.0, a body by Content-Length, 100-continue, and bad requests", function()
    local p, port = start(5, 20)

    local status, headers, body = fetch(port, "GET / HTTP/1.0\r\n\r\n")
    assert.are.equal("HTTP/1.0 200 OK", status)
    assert.are.equal("close", headers.connection)
    assert.are.equal("GET / HTTP/1.0\n\n", body)

    local binary = "bytes \0\1\2\255 and\r\nlines"
    -- (concatenated: 5.1's format("%s") stops at a "\0")
    status, headers, body = fetch(port, "PUT /x HTTP/1.1\r\nHost: here\r\nContent-Length: " .. #binary
      .. "\r\n\r\n" .. binary)
    assert.are.equal("HTTP/1.1 200 OK", status)
    assert.are.equal(tostring(#body), headers["content-length"])
    assert.are.equal("PUT /x HTTP/1.1\nHost: here\nContent-Length: " .. #binary .. "\n\n" .. binary, body)

    -- Expect: 100-continue: the interim answer comes before the body is sent
    local c = assert(socket.connect("127.0.0.1", port))
    c:settimeout(10)
    assert(c:send("POST /c HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n"))
    assert.are.equal("HTTP/1.1 100 Continue", (c:receive("*l")))
    assert.are.equal("", (c:receive("*l")))
    assert(c:send("body"))
    local all = assert(c:receive("*a"))
    c:close()
    assert.matches("^HTTP/1%.1 200 OK\r\n.-\r\n\r\nPOST /c HTTP/1%.1\nExpect: 100%-continue\nContent%-Length: 4\n\nbody$", all)

    status, headers, body = fetch(port, "not http at all\r\n\r\n")
    assert.are.equal("HTTP/1.1 400 Bad Request", status)
    assert.are.equal("Bad Request\n", body)
    assert.are.equal("close", headers.connection)

    status = fetch(port, "POST / HTTP/1.1\r\nContent-Length: 99999999\r\n\r\n")
    assert.are.equal("HTTP/1.1 413 Content Too Large", status)

    local rest, exit = finish(p)
    assert.are.same({ true, "exit", 0 }, exit)
    assert.matches("-> 400\n", rest)
    assert.matches("-> 413\n", rest)
    assert.matches("http_echo: stopped %(count%), answered 5 requests\n$", rest)
  end)

  it("serves clients concurrently: a stalled client does not hold up the next", function()
    local p, port = start(2, 20)
    local stalled = assert(socket.connect("127.0.0.1", port))
    assert(stalled:send("GET /slow HTTP/1.1\r\n"))         -- and no more, for now
    local status, _, body = fetch(port, "GET /fast HTTP/1.1\r\n\r\n")
    assert.are.equal("HTTP/1.1 200 OK", status)
    assert.are.equal("GET /fast HTTP/1.1\n\n", body)
    assert(stalled:send("\r\n"))
    stalled:settimeout(10)
    assert.matches("\r\n\r\nGET /slow HTTP/1%.1\n\n$", assert(stalled:receive("*a")))
    stalled:close()
    local rest, exit = finish(p)
    assert.are.same({ true, "exit", 0 }, exit)
    assert.matches("answered 2 requests\n$", rest)
  end)

  it("stops by itself after `idle` seconds without clients", function()
    local t0 = socket.gettime()
    local p = start(0, 0.3)
    local rest, exit = finish(p)
    assert.are.same({ true, "exit", 0 }, exit)
    assert.are.equal("http_echo: stopped (idle), answered 0 requests\n", rest)
    assert.is_true(socket.gettime() - t0 < 5)
  end)

  it("refuses bad arguments with a usage line and status 2", function()
    local out, ok = H.sh(("%s %s 127.0.0.1 0 never"):format(H.LUA, q(SAMPLE)))
    assert.is_false(ok)
    assert.matches("^usage: ", out)
  end)
end)
