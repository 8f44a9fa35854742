-- socket.httpd in this process: servers and clients as socket.co tasks
-- (graceful stop, https with ALPN, handler errors, the connection limit).
local socket = require("socket")
local co = require("socket.co")
local httpd = require("socket.httpd")

-- Sends raw on a new connection and returns all that comes back until the
-- server closes it (inside a task).
local function exchange(port, raw)
  local c = assert(socket.connect("127.0.0.1", port))
  c:settimeout(5, "t")
  c:send(raw)
  local data, _, part = c:receive("*a")
  c:close()
  return data or part
end

local GET = "GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"

describe("socket.httpd in socket.co tasks", function()
  it("stops gracefully: the request in flight finishes, idle and new connections are closed", function()
    local srv = assert(httpd.new(function(req, res)
      if req.path == "/slow" then socket.sleep(0.3) end
      res:send("done " .. req.path)
    end))
    local _, port = srv:getsockname()
    local slow, idle, after
    co.spawn(function() slow = exchange(port, GET:format("/slow")) end)
    co.spawn(function()                          -- a keep-alive connection, idle after one request
      local c = assert(socket.connect("127.0.0.1", port))
      c:settimeout(5, "t")
      c:send("GET /a HTTP/1.1\r\nHost: x\r\n\r\n")
      local data, _, part = c:receive("*a")      -- ends when stop() closes the idle connection
      idle = data or part
      c:close()
    end)
    co.spawn(function()
      socket.sleep(0.1)
      srv:stop(2)
      local c, err = socket.connect("127.0.0.1", port)
      after = c and "connected" or err
      if c then c:close() end
    end)
    assert.is_true(co.run(10))
    assert.truthy(slow:find("\r\n\r\ndone /slow$"), slow)
    assert.truthy(idle:find("\r\n\r\ndone /a$"), idle)
    assert.are.equal("connection refused", after)
    assert.are.equal(0, srv:connections())
  end)

  it("closes what is still in flight at the stop deadline", function()
    local srv = assert(httpd.new(function(_, res) socket.sleep(5) res:send("late") end))
    local _, port = srv:getsockname()
    local got, dt
    local t0 = socket.gettime()
    co.spawn(function() got = exchange(port, GET:format("/")) dt = socket.gettime() - t0 end)
    co.spawn(function() socket.sleep(0.1) srv:stop(0.2) end)
    assert.is_true(co.run(10))      -- the sleeping handler is ended at the deadline too
    assert.are.equal("", got)
    assert.is_true(dt < 2, dt)
  end)

  it("ends at the stop deadline even when handlers never return (sleeping on, or waiting on another socket)", function()
    -- in a child: without the fix the tasks live on and would hold up every later co.run here
    local out = require("helper").child([=[
local co, httpd = require("socket.co"), require("socket.httpd")
local other = assert(socket.udp())
assert(other:setsockname("127.0.0.1", 0))
local srv = assert(httpd.new(function(req, res)
  if req.path == "/sleep" then
    while true do socket.sleep(0.05) end
  end
  other:settimeout(-1)
  other:receive()                                -- nothing ever comes
  res:send("never")
end))
local _, port = srv:getsockname()
local got = {}
for i, path in ipairs({ "/sleep", "/wait" }) do
  co.spawn(function()
    local c = assert(socket.connect("127.0.0.1", port))
    c:settimeout(5, "t")
    c:send("GET " .. path .. " HTTP/1.1\r\nHost: x\r\n\r\n")
    local data, _, part = c:receive("*a")
    got[i] = data or part
    c:close()
  end)
end
co.spawn(function() socket.sleep(0.1) srv:stop(0.2) end)
local t0 = socket.gettime()
local ok, err = co.run(4)
io.write(tostring(ok or err), " ", tostring(socket.gettime() - t0 < 3), " [", got[1] or "-", "|", got[2] or "-",
  "] ", srv:connections(), "\n")
]=]):wait()
    assert.matches("^true true %[|%] 0\n", out)
  end)

  it("stop from a handler, twice: that request is answered with Connection: close, the keep-alive ends", function()
    local srv
    srv = assert(httpd.new(function(req, res)
      if req.path == "/stop" then
        assert.is_true(srv:stop(1))
        assert.is_true(srv:stop(1))               -- a second call does nothing
      end
      res:send("ok " .. req.path)
    end))
    local _, port = srv:getsockname()
    local got
    local t0 = socket.gettime()
    co.spawn(function()                           -- keep-alive: a pipelined second request is not served
      got = exchange(port, "GET /stop HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n")
    end)
    assert.is_true(co.run(10))
    assert.truthy(got:find("^HTTP/1.1 200 OK\r\n.-Connection: close\r\n.-\r\nok /stop$"), got)
    assert.is_true(socket.gettime() - t0 < 0.9)   -- not at the grace deadline
    assert.are.equal(0, srv:connections())
  end)

  it("a handler raising during the stop: 500, and the stop still completes", function()
    local errs = {}
    local srv
    srv = assert(httpd.new(function(req)
      if req.path == "/slow" then socket.sleep(0.2) error("late boom") end
    end, { onerror = function(e) errs[#errs + 1] = e end }))
    local _, port = srv:getsockname()
    local got
    co.spawn(function() got = exchange(port, GET:format("/slow")) end)
    co.spawn(function() socket.sleep(0.05) srv:stop(3) end)
    local t0 = socket.gettime()
    assert.is_true(co.run(10))
    assert.truthy(got:find("^HTTP/1.1 500 "), got)
    assert.truthy(tostring(errs[1]):find("late boom"))
    assert.is_true(socket.gettime() - t0 < 2)
    assert.are.equal(0, srv:connections())
  end)

  it("stop checks grace", function()
    local srv = assert(httpd.new(print))
    assert.has_error(function() srv:stop("soon") end,
      "bad argument #1 to 'stop' (non-negative number expected, got soon)")
    assert.has_error(function() srv:stop(-1) end,
      "bad argument #1 to 'stop' (non-negative number expected, got -1)")
    assert.has_error(function() srv:stop(0 / 0) end)
    assert.is_true(srv:stop(0))
    assert.is_true(co.run(5))
  end)

  it("answers 500 when a handler raises, and reports the error to onerror", function()
    local errs = {}
    local srv = assert(httpd.new(function() error("boom") end, { onerror = function(e) errs[#errs + 1] = e end }))
    local _, port = srv:getsockname()
    local got
    co.spawn(function() got = exchange(port, "GET / HTTP/1.1\r\nHost: x\r\n\r\n") srv:stop() end)
    assert.is_true(co.run(10))
    assert.truthy(got:find("^HTTP/1.1 500 Internal Server Error\r\n"), got)
    assert.truthy(got:find("Connection: close\r\n"), got)
    assert.truthy(tostring(errs[1]):find("boom"))
  end)

  it("refuses connections past maxconnections with 503, serving the others", function()
    local srv = assert(httpd.new(function(_, res) socket.sleep(0.2) res:send("ok") end, { maxconnections = 1 }))
    local _, port = srv:getsockname()
    local a, b
    co.spawn(function() a = exchange(port, GET:format("/")) end)
    co.spawn(function() socket.sleep(0.05) b = exchange(port, GET:format("/")) end)
    co.spawn(function() socket.sleep(0.5) srv:stop() end)
    assert.is_true(co.run(10))
    assert.truthy(a:find("^HTTP/1.1 200 OK"), a)
    assert.truthy(b:find("^HTTP/1.1 503 "), b)
  end)

  it("HTTP/1.0 keep-alive, streamed responses (chunked on 1.1, to the close on 1.0) and HEAD", function()
    local srv = assert(httpd.new(function(req, res)
      if req.path == "/stream" then
        res:set("X-Kind", "stream")
        res:write("ab")
        res:write("cd")
        return
      end
      res:send("hello")
    end))
    local _, port = srv:getsockname()
    local r10, r11, head
    co.spawn(function()
      r10 = exchange(port, "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /stream HTTP/1.0\r\n\r\n")
      r11 = exchange(port, GET:format("/stream"))
      head = exchange(port, "HEAD / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
      srv:stop()
    end)
    assert.is_true(co.run(10))
    assert.truthy(r10:find("Connection: keep%-alive\r\n\r\nhello" .. "HTTP/1.1 200 OK\r\n", 1), r10)
    assert.truthy(r10:find("X%-Kind: stream\r\n\r\nabcd$"), r10)
    assert.truthy(r11:find("Transfer%-Encoding: chunked\r\n"), r11)
    assert.truthy(r11:find("\r\n\r\n2\r\nab\r\n2\r\ncd\r\n0\r\n\r\n$"), r11)
    assert.truthy(head:find("Content%-Length: 5\r\n"), head)
    assert.truthy(head:find("\r\n\r\n$"), head)
  end)

  it("refuses CR or LF in a response field set by the handler", function()
    local srv = assert(httpd.new(function(_, res) res:set("X-A", "a\r\nSet-Cookie: evil") res:send("x") end))
    local _, port = srv:getsockname()
    local got
    co.spawn(function() got = exchange(port, GET:format("/")) srv:stop() end)
    assert.is_true(co.run(10))
    assert.truthy(got:find("^HTTP/1.1 500 "), got)
    assert.falsy(got:find("evil"), got)
  end)

  it("checks its arguments", function()
    assert.has_error(function() httpd.new("x") end, "bad argument #1 to 'new' (function expected)")
    assert.has_error(function() httpd.new(print, { keepalive = -1 }) end,
      "bad argument #2 to 'new' (keepalive must be a positive number)")
  end)

  it("https: a client that never sends its ClientHello is closed at headtimeout; the server goes on", function()
    local ok, ssl = pcall(require, "socket.ssl")
    if not ok then return pending("socket.ssl not built") end
    local params, cleanup = require("httpd_helper").selfsigned()
    local srv = assert(httpd.new(function(_, res) res:send("secure") end, { ssl = params, headtimeout = 0.3 }))
    local _, port = srv:getsockname()
    local stalled, dt, got
    co.spawn(function()
      local c = assert(socket.connect("127.0.0.1", port))
      c:settimeout(3)
      local t0 = socket.gettime()
      stalled = { c:receive("*a") }
      dt = socket.gettime() - t0
      c:close()
      socket.sleep(0.4)                                -- the listener idle past headtimeout: still serving
      local s = assert(ssl.connect("127.0.0.1", port, { verify = "none" }, 5))
      s:send(GET:format("/"))
      local data, _, part = s:receive("*a")
      got = data or part
      s:close()
      srv:stop()
    end)
    assert.is_true(co.run(10))
    cleanup()
    assert.same({ nil, "closed", "" }, stalled)
    assert.is_true(dt < 2, dt)
    assert.truthy(got:find("\r\n\r\nsecure$"), got)
  end)

  it("serves https with ALPN http/1.1", function()
    local ok, ssl = pcall(require, "socket.ssl")
    if not ok then return pending("socket.ssl not built") end
    local params, cleanup = require("httpd_helper").selfsigned()
    local srv = assert(httpd.new(function(req, res) res:send("secure " .. req.target) end,
      { ssl = params }))
    local _, port = srv:getsockname()
    local got, alpn
    co.spawn(function()
      local c = assert(ssl.connect("127.0.0.1", port, { verify = "none", alpn = "http/1.1" }, 5))
      alpn = c:getalpn()
      c:send(GET:format("/tls"))
      local data, _, part = c:receive("*a")
      got = data or part
      c:close()
      srv:stop()
    end)
    assert.is_true(co.run(10))
    cleanup()
    assert.are.equal("http/1.1", alpn)
    assert.truthy(got:find("\r\n\r\nsecure /tls$"), got)
  end)
end)
