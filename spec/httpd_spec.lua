-- socket.httpd (issue 17) with real clients: curl, wrk, ab, Python's
-- http.client, and hostile ones over raw sockets.
local socket = require("socket")
local H = require("helper")
local T = require("httpd_helper")

local function have(cmd) return (H.sh("command -v " .. cmd)) ~= "" end

-- #shell: the test server child is run by sh and stopped by kill, the
-- clients are curl, wrk, ab and python3, and /conns counts fds in /proc.
describe("socket.httpd with real clients #linux #shell", function()
  local srv
  setup(function() srv = T.start("{ headtimeout = 1, keepalive = 2, maxbodybytes = 4 * 1024 * 1024 }") end)
  teardown(function() srv.stop() end)

  it("curl: keep-alive (two requests, one connection) and HEAD", function()
    local out, ok = H.sh(("curl -s -w '|%%{http_code} %%{num_connects}\\n' %s/ %s/"):format(srv.url, srv.url))
    assert.is_true(ok, out)
    assert.are.equal("Hello, world!|200 1\nHello, world!|200 0\n", out)
    out = H.sh("curl -s -I " .. srv.url .. "/")
    assert.truthy(out:find("^HTTP/1.1 200 OK\r\n"), out)
    assert.truthy(out:find("Content%-Length: 13\r\n"), out)
    assert.falsy(out:find("Hello"), out)
  end)

  it("curl: chunked upload, and Expect: 100-continue", function()
    local file = os.tmpname()
    local f = assert(io.open(file, "wb"))
    local data = require("ssl_helper").data(300000, 7)
    f:write(data)
    f:close()
    local out = H.sh(("curl -s -H 'Transfer-Encoding: chunked' --data-binary @%s %s/echo"):format(file, srv.url))
    assert.is_true(out == data, #out .. " bytes back")
    out = H.sh(("curl -s -H 'Transfer-Encoding: chunked' --data-binary @%s %s/stream"):format(file, srv.url))
    assert.is_true(out == data, #out .. " bytes back")
    out = H.sh(("curl -sv -H 'Expect: 100-continue' --data-binary @%s %s/echo -o %s.out"):format(file, srv.url, file))
    assert.truthy(out:find("HTTP/1.1 100 Continue"), out)
    assert.are.equal(data, H.readfile(file .. ".out"))
    os.remove(file); os.remove(file .. ".out")
  end)

  it("wrk and ab: every response 200, none failed", function()
    if not have("wrk") or not have("ab") then return pending("wrk or ab not installed (scripts/deps.sh)") end
    local out = H.sh("wrk -t1 -c20 -d1 " .. srv.url .. "/")
    local n = tonumber(out:match("(%d+) requests in"))
    assert.is_true(n and n > 100, out)
    assert.falsy(out:find("Non%-2xx"), out)
    assert.falsy(out:find("Socket errors"), out)
    out = H.sh("ab -k -n 500 -c 10 " .. srv.url .. "/")
    assert.truthy(out:find("Complete requests:%s+500"), out)
    assert.truthy(out:find("Failed requests:%s+0"), out)
    assert.truthy(out:find("Keep%-Alive requests:%s+500"), out)
  end)

  it("Python's http.client: GET, POST, HEAD and HTTP/1.0 on one connection", function()
    local py = os.tmpname()
    local f = assert(io.open(py, "w"))
    f:write(([[
import http.client
c = http.client.HTTPConnection("127.0.0.1", %d, timeout=5)
c.request("GET", "/"); r = c.getresponse(); print(r.status, r.read().decode())
c.request("POST", "/echo", body=b"x" * 100000); r = c.getresponse(); print(r.status, len(r.read()), r.getheader("X-Method"))
c.request("HEAD", "/"); r = c.getresponse(); print(r.status, r.getheader("Content-Length"), repr(r.read()))
c.request("POST", "/stream", body=iter([b"ab", b"cd"]), encode_chunked=True); r = c.getresponse(); print(r.status, r.read().decode())
c.close()
c = http.client.HTTPConnection("127.0.0.1", %d, timeout=5)
c._http_vsn, c._http_vsn_str = 10, "HTTP/1.0"
c.request("GET", "/"); r = c.getresponse(); print(r.status, r.version, r.read().decode(), r.will_close)
]]):format(srv.port, srv.port))
    f:close()
    local out, ok = H.sh("python3 " .. py)
    os.remove(py)
    assert.is_true(ok, out)
    assert.are.equal("200 Hello, world!\n200 100000 POST\n200 13 b''\n200 abcd\n200 11 Hello, world! True\n", out)
  end)

  it("answers pipelined requests in order", function()
    local req = "GET / HTTP/1.1\r\nHost: x\r\n\r\n"
    local out = T.raw(srv.port, req .. "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc" .. req
      .. "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert.are.same({ 200, 200, 200, 200 }, T.statuses(out))
    assert.truthy(out:find("Hello, world!.*abc.*Hello, world!.*Hello, world!$"), out)
  end)

  describe("hostile clients get 400/414/431 and a closed connection", function()
    local H11 = "POST /echo HTTP/1.1\r\nHost: x\r\n"
    local cases = {
      { "CL.TE", H11 .. "Content-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nX", 400 },
      { "TE.CL", H11 .. "Transfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n8\r\nSMUGGLED\r\n0\r\n\r\n", 400 },
      { "TE.TE (xchunked)", H11 .. "Transfer-Encoding: xchunked\r\n\r\n0\r\n\r\n", 400 },
      { "TE.TE (chunked twice)", H11 .. "Transfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n\r\n0\r\n\r\n", 400 },
      { "TE.TE (space before colon)", H11 .. "Transfer-Encoding : chunked\r\n\r\n0\r\n\r\n", 400 },
      { "TE.TE (obs-fold)", H11 .. "Transfer-Encoding:\r\n chunked\r\n\r\n0\r\n\r\n", 400 },
      { "differing Content-Lengths", H11 .. "Content-Length: 3\r\nContent-Length: 4\r\n\r\nabcd", 400 },
      { "Content-Length with a sign", H11 .. "Content-Length: +3\r\n\r\nabc", 400 },
      { "overflowing Content-Length", H11 .. "Content-Length: 99999999999999999999\r\n\r\n", 400 },
      { "invalid chunk size", H11 .. "Transfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n", 400 },
      { "overflowing chunk size", H11 .. "Transfer-Encoding: chunked\r\n\r\n10000000000000001\r\nabc\r\n0\r\n\r\n", 400 },
      { "NUL in a field", "GET / HTTP/1.1\r\nHost: x\0y\r\n\r\n", 400 },
      { "CR in a field", "GET / HTTP/1.1\r\nHost: x\ry\r\n\r\n", 400 },
      { "no Host", "GET / HTTP/1.1\r\n\r\n", 400 },
      { "two Hosts", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400 },
      { "HTTP/2.0", "GET / HTTP/2.0\r\nHost: x\r\n\r\n", 505 },
      { "oversize target", "GET /" .. ("a"):rep(20000) .. " HTTP/1.1\r\nHost: x\r\n\r\n", 414 },
      { "header bomb (count)", "GET / HTTP/1.1\r\nHost: x\r\n" .. ("A: b\r\n"):rep(200) .. "\r\n", 431 },
      { "header bomb (size)", "GET / HTTP/1.1\r\nHost: x\r\nA: " .. ("b"):rep(20000) .. "\r\n\r\n", 431 },
      { "pipelined garbage", "GET / HTTP/1.1\r\nHost: x\r\n\r\nGARBAGE\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n", 400 },
      { "body too large", H11 .. "Content-Length: 99999999\r\n\r\n", 413 },
    }
    for _, case in ipairs(cases) do
      it(case[1], function()
        local out, closed = T.raw(srv.port, case[2])
        local st = T.statuses(out)
        assert.are.equal(case[3], st[#st], out)
        assert.is_true(closed, "connection left open")
        assert.falsy(out:find("SMUGGLED"), out)
      end)
    end
  end)

  it("a slow-loris head is cut off at headtimeout while others are served", function()
    local c = assert(socket.connect("127.0.0.1", srv.port))
    c:send("GET / HTTP/1.1\r\nHo")
    local t0 = socket.gettime()
    for _ = 1, 3 do                                -- trickles, and others are served meanwhile
      socket.sleep(0.2)
      c:send("s")
      local out = H.sh("curl -s -m 2 " .. srv.url .. "/")
      assert.are.equal("Hello, world!", out)
    end
    c:settimeout(3)
    local data, _, part = c:receive("*a")
    c:close()
    assert.are.equal("", data or part)
    local dt = socket.gettime() - t0
    assert.is_true(dt < 2.5, dt)
  end)

  it("leaks no connection and no descriptor after all of that", function()
    local out = H.sh("curl -s " .. srv.url .. "/conns")
    local n, fds = out:match("^(%d+) (%d+)$")
    assert.are.equal("0", n, out)
    -- stdin/out/err, the listener, epoll, this connection, the ls pipe
    assert.is_true(tonumber(fds) <= 10, out)
  end)
end)

describe("samples/httpd_hello.lua #linux #shell", function()
  it("prints its URL first, says hello with keep-alive, and ends on SIGTERM", function()
    local S = require("ssl_helper")
    local root = debug.getinfo(1, "S").source:match("^@(.-)spec/[^/]*$") or ""
    local h = S.spawn("timeout 60 " .. H.LUA .. " " .. S.q(root .. "samples/httpd_hello.lua") .. " 0")
    local port = tonumber((h.line() or ""):match("^listening on http://127%.0%.0%.1:(%d+)/$"))
    assert.truthy(port)
    local out = H.sh(("curl -s -i http://127.0.0.1:%d/ http://127.0.0.1:%d/"):format(port, port))
    local _, n = out:gsub("HTTP/1%.1 200 OK\r\n", "")
    assert.are.equal(2, n, out)
    assert.truthy(out:find("Content%-Length: 13\r\n.-\r\n\r\nHello, world!"), out)
    h.kill()
    assert.are.equal("httpd_hello: SIGTERM, stopping\nhttpd_hello: stopped\n", h.rest())
  end)

  -- The sample under timeout(1) in the background of a shell that reports
  -- its exit status: {pid (timeout's, which passes SIGTERM on), line, rest}.
  local function spawnsample(name, args)
    local S = require("ssl_helper")
    local root = debug.getinfo(1, "S").source:match("^@(.-)spec/[^/]*$") or ""
    local cmd = "timeout 60 " .. H.LUA .. " " .. S.q(root .. "samples/" .. name) .. " " .. args .. " 2>&1"
    local p = assert(io.popen("exec sh -c " .. S.q(cmd .. ' & echo $!; wait $!; echo "exit status $?"'), "r"))
    local h = { pid = tonumber(p:read("l")) }
    function h.line() return p:read("l") end
    function h.rest() local out = p:read("a") p:close() return out end
    function h.term() assert(H.sh("kill -TERM " .. h.pid)) end
    return h
  end

  -- Reads a response head (through the empty line) from c.
  local function head(c)
    local lines = {}
    for _ = 1, 50 do
      local l, err = c:receive("*l")
      if not l then error("head: " .. err) end
      if l == "" then return table.concat(lines, "\n") end
      lines[#lines + 1] = l
    end
  end

  it("stops cleanly on SIGTERM: the request in flight completes, new connections are refused, exit 0 #linux", function()
    local h = spawnsample("httpd_hello.lua", "0")
    local port = tonumber((h.line() or ""):match("^listening on http://127%.0%.0%.1:(%d+)/$"))
    assert.truthy(port)
    local c = assert(socket.connect("127.0.0.1", port))
    c:settimeout(10)
    -- in flight: answered, but its body (10 bytes) is half sent
    assert(c:send("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nhello"))
    assert.truthy(head(c):find("^HTTP/1%.1 200 OK"))
    assert.are.equal("Hello, world!", c:receive(13))
    h.term()
    assert.are.equal("httpd_hello: SIGTERM, stopping", h.line())
    local n, err = socket.connect("127.0.0.1", port)
    if n then n:close() end
    assert.are.equal("connection refused", err)
    assert(c:send("world"))                        -- the request ends; then the connection,
    local t0 = socket.gettime()                    -- at once (not at the 5 s grace deadline)
    assert.same({ nil, "closed", "" }, { c:receive("*a") })
    assert.is_true(socket.gettime() - t0 < 3)
    c:close()
    assert.are.equal("httpd_hello: stopped\nexit status 0\n", h.rest())
  end)

  -- timeout(1), systemd and container runtimes may send SIGTERM twice (to the
  -- process, then to its group): a second one during the grace period must
  -- not end the process with the default action.
  it("a second SIGTERM while the request in flight finishes changes nothing: exit 0 #linux", function()
    local h = spawnsample("httpd_hello.lua", "0")
    local port = tonumber((h.line() or ""):match("^listening on http://127%.0%.0%.1:(%d+)/$"))
    assert.truthy(port)
    local c = assert(socket.connect("127.0.0.1", port))
    c:settimeout(10)
    assert(c:send("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nhello"))
    assert.truthy(head(c):find("^HTTP/1%.1 200 OK"))
    assert.are.equal("Hello, world!", c:receive(13))
    h.term()
    assert.are.equal("httpd_hello: SIGTERM, stopping", h.line())
    h.term()
    socket.sleep(0.2)
    assert(c:send("world"))
    assert.same({ nil, "closed", "" }, { c:receive("*a") })
    c:close()
    assert.are.equal("httpd_hello: stopped\nexit status 0\n", h.rest())
  end)

  it("httpd_files.lua: a download in flight at SIGTERM completes, exit 0 #linux", function()
    local dir = H.mktempdir()
    local parts = {}
    for i = 1, 40000 do parts[i] = ("%07d\n"):format(i) end
    local data = table.concat(parts)                  -- 320,000 bytes: streamed, chunked
    local f = assert(io.open(dir .. "/big.txt", "wb"))
    f:write(data)
    f:close()
    local h = spawnsample("httpd_files.lua", H.quote(dir) .. " 0")
    local port = tonumber((h.line() or ""):match("^listening on http://127%.0%.0%.1:(%d+)/"))
    assert.truthy(port)
    local c = assert(socket.tcp())
    c:setoption("recv-buffer-size", 4096)
    c:settimeout(10)
    assert(c:connect("127.0.0.1", port))
    assert(c:send("GET /big.txt HTTP/1.1\r\nHost: x\r\n\r\n"))
    local hd = head(c)
    assert.truthy(hd:find("Transfer%-Encoding: chunked"), hd)
    h.term()
    assert.are.equal("httpd_files: SIGTERM, stopping", h.line())
    local n, err = socket.connect("127.0.0.1", port)
    if n then n:close() end
    assert.are.equal("connection refused", err)
    local got = {}
    for _ = 1, 1000 do
      local size = tonumber(assert(c:receive("*l")), 16)
      if size == 0 then break end
      got[#got + 1] = assert(c:receive(size))
      assert.are.equal("", c:receive("*l"))
    end
    assert.are.equal("", c:receive("*l"))           -- the end of the chunked body
    assert.are.equal(#data, #table.concat(got))
    assert.is_true(table.concat(got) == data)
    assert.same({ nil, "closed", "" }, { c:receive("*a") })
    c:close()
    assert.are.equal("httpd_files: stopped\nexit status 0\n", h.rest())
    H.rmtree(dir)
  end)

  it("two processes share one port with reuseport", function()
    local S = require("ssl_helper")
    local root = debug.getinfo(1, "S").source:match("^@(.-)spec/[^/]*$") or ""
    local port = H.freeport()
    local cmd = "timeout 60 " .. H.LUA .. " " .. S.q(root .. "samples/httpd_hello.lua") .. " " .. port .. " reuseport"
    local a = S.spawn(cmd)
    local b = S.spawn(cmd)
    local want = "listening on http://127.0.0.1:" .. port .. "/"
    assert.are.equal(want, a.line())
    assert.are.equal(want, b.line())
    for _ = 1, 4 do
      assert.are.equal("Hello, world!", (H.sh("curl -s http://127.0.0.1:" .. port .. "/")))
    end
    a.kill(); b.kill()
    local stopped = "httpd_hello: SIGTERM, stopping\nhttpd_hello: stopped\n"
    assert.are.equal(stopped .. stopped, a.rest() .. b.rest())
  end)
end)
