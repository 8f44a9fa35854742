-- Attacks on socket.httpd's fast path (issue 17): the raw head with the
-- C scan's 'simple' flag, req.headers made on first use, req:header read
-- from the head's lines, the handler run unprotected inside the
-- connection's co.pcall (500 through req._inhandler), and the body state
-- reset only after framed requests. Real loopback sockets; every exchange
-- is bounded by co.run's timeout and the client's total timeout.
local socket = require("socket")
local co = require("socket.co")
local httpd = require("socket.httpd")
local H = require("helper")

-- Sends each of `reqs` on its own connection (in order), reads until the
-- server closes or 3 s pass; stops the server; returns what came back.
local function exchange(srv, reqs)
  if type(reqs) == "string" then reqs = { reqs } end
  local _, port = srv:getsockname()
  local got = {}
  co.spawn(function()
    for i, r in ipairs(reqs) do
      local c = assert(socket.connect("127.0.0.1", port))
      c:settimeout(3, "t")
      c:send(r)
      local data, _, part = c:receive("*a")
      got[i] = data or part
      c:close()
    end
    srv:stop(1)
  end)
  assert.is_true(co.run(15))
  return got
end

local function count(s, pat)
  return select(2, s:gsub(pat, ""))
end

describe("regress: httpd simple-flag smuggling attacks", function()
  it("refuses framing material however it is spelt, simple-looking or not", function()
    local bodies = {}
    local srv = assert(httpd.new(function(req, res)
      bodies[#bodies + 1] = req:body() or "?"
      res:send("ok")
    end))
    local bad = {
      "GET / HTTP/1.1\r\nHost: a\r\nhost: a\r\n\r\n",                       -- Host twice, same value
      "GET / HTTP/1.1\r\nHOST: a\r\nHost: b\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: a\r\nContent-Length : 3\r\n\r\nabc",           -- ws before colon
      "GET / HTTP/1.1\r\nHost: a\r\nContent-Length\t: 3\r\n\r\nabc",
      "GET / HTTP/1.1\r\nHost: a\r\n Content-Length: 3\r\n\r\nabc",           -- obs-fold
      "GET / HTTP/1.1\r\nHost: a\r\nX: y\r\n\tContent-Length: 3\r\n\r\nabc",
      "GET / HTTP/1.1\r\nHost: a\r\nX: y\rContent-Length: 3\r\n\r\nabc",     -- lone CR
      "GET / HTTP/1.1\r\nHost: a\r\nX: y\0\r\n\r\n",                         -- NUL
      "GET / HTTP/1.1\r\nHost: a\r\ncOnTeNt-LeNgTh: 3\r\ntRaNsFeR-eNcOdInG: chunked\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\ncontent-length: 4\r\n\r\nabcd",
      "GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTRANSFER-ENCODING: chunked\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: xchunked\r\n\r\n",
      "GET / HTTP/1.1\r\nX: y\r\n\r\n",                                     -- no Host
      "GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\nConnection: close\r\n\r\n",
    }
    local got = exchange(srv, bad)
    for i, g in ipairs(got) do
      assert.truthy(g:find("^HTTP/1.1 4%d%d "), i .. ": " .. g)
      assert.are.equal(1, count(g, "HTTP/1.1 "), i .. ": " .. g)
    end
    assert.are.same({}, bodies)
  end)

  it("framing fields with odd case and whitespace frame the body the same way", function()
    local bodies = {}
    local srv = assert(httpd.new(function(req, res)
      bodies[#bodies + 1] = req:body() or "?"
      res:send("ok")
    end))
    local got = exchange(srv, {
      "POST / HTTP/1.1\r\nHost: a\r\ncontent-length:3\r\n\r\nabc"
        .. "POST / HTTP/1.1\r\nHost: a\r\nCONTENT-LENGTH: \t 2 \t\r\n\r\nde"
        .. "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:\t Chunked \r\n\r\n1\r\nf\r\n0\r\n\r\n"
        .. "POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-CONTINUE\r\nContent-Length: 1\r\n\r\ng"
        .. "GET / HTTP/1.1\r\nHost: a\r\nConnection:CLOSE\r\n\r\n",
      "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +3\r\n\r\nabc",
      "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3, 3\r\n\r\nabc",
      "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 03\r\n\r\nabc",
    })
    assert.are.equal(5, count(got[1], "HTTP/1.1 200 OK"), got[1])
    assert.are.equal(1, count(got[1], "HTTP/1.1 100 Continue"), got[1])
    for i = 2, 4 do assert.truthy(got[i]:find("^HTTP/1.1 400 "), got[i]) end
    assert.are.same({ "abc", "de", "f", "g", "" }, bodies)
  end)

  it("a bare LF ends a field line: a Content-Length after it frames the body", function()
    local bodies = {}
    local srv = assert(httpd.new(function(req, res)
      bodies[#bodies + 1] = req:body()
      res:send("ok")
    end))
    local got = exchange(srv, "POST / HTTP/1.1\r\nHost: a\nContent-Length: 3\r\n\r\nabc"
      .. "GET / HTTP/1.1\nHost: a\nConnection: close\n\n")
    assert.are.equal(2, count(got[1], "HTTP/1.1 200"), got[1])
    assert.are.same({ "abc", "" }, bodies)
  end)

  it("pipelines simple after framed and back, with bodies read, unread and partly read", function()
    local seen = {}
    local srv = assert(httpd.new(function(req, res)
      local p = req.path
      if p == "/read" then seen[#seen + 1] = req:body()
      elseif p == "/part" then seen[#seen + 1] = req:source()()
      elseif p == "/get" then seen[#seen + 1] = "get:" .. req:body()
      else seen[#seen + 1] = "unread" end
      res:send(p)
    end))
    local chunked = "Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\nT: x\r\n\r\n"
    local got = exchange(srv, "POST /read HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc"
      .. "GET /get HTTP/1.1\r\nHost: a\r\n\r\n"
      .. "POST /skip HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nGET /"   -- a body that looks like a head
      .. "GET /get HTTP/1.1\r\nHost: a\r\n\r\n"
      .. "POST /skip HTTP/1.1\r\nHost: a\r\n" .. chunked
      .. "GET /get HTTP/1.1\r\nHost: a\r\n\r\n"
      .. "POST /part HTTP/1.1\r\nHost: a\r\n" .. chunked
      .. "GET /get HTTP/1.1\r\nHost: a\r\n\r\n"
      .. "POST /read HTTP/1.1\r\nHost: a\r\n" .. chunked
      .. "GET /get HTTP/1.1\r\nHost: a\r\n\r\n"
      .. "GET /get HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n"
      .. "GET /get HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")[1]
    assert.are.equal(12, count(got, "HTTP/1.1 200 OK"), got)
    assert.are.same({ "abc", "get:", "unread", "get:", "unread", "get:", "abc", "get:", "abcde", "get:",
                      "get:", "get:" }, seen)
  end)

  it("HTTP/1.0 requests that look simple close unless they ask for keep-alive", function()
    local n = 0
    local srv = assert(httpd.new(function(_, res)
      n = n + 1
      res:send("x")
    end))
    local got = exchange(srv, {
      "GET / HTTP/1.0\r\nHost: a\r\n\r\nGET / HTTP/1.0\r\n\r\n",
      "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET / HTTP/1.0\r\n\r\nGET / HTTP/1.0\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: a\r\nConnection: Keep-Alive, CLOSE\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n",
    })
    assert.are.equal(1, count(got[1], "HTTP/1.1 200"), got[1])
    assert.truthy(got[1]:find("Connection: close"), got[1])
    assert.are.equal(2, count(got[2], "HTTP/1.1 200"), got[2])
    assert.are.equal(1, count(got[3], "HTTP/1.1 200"), got[3])
    assert.are.equal(4, n)
  end)
end)

describe("regress: httpd req.headers against req:header", function()
  it("agree on every name, hostile ones too, before and after the table exists", function()
    local names = { "host", "x-a", "x", "a", "a:b", "x-a:", "host:", ":", "", "x a", "X-A", "HOST",
                    "x-a\0", "x-", string.rep("x", 100000), "content-length", "connection", "b" }
    local rows = {}
    local srv = assert(httpd.new(function(req, res)
      local before = {}
      for i, k in ipairs(names) do before[i] = req:header(k) or false end
      before[#names + 1] = req:header(nil) or false
      before[#names + 2] = req:header(1) or false
      before[#names + 3] = req:header(true) or false
      local h = req.headers
      local after, direct = {}, {}
      for i, k in ipairs(names) do
        after[i] = req:header(k) or false
        local v = h[k]
        if type(v) == "table" then v = table.concat(v, ", ") end
        direct[i] = v or false
      end
      after[#names + 1] = req:header(nil) or false
      after[#names + 2] = req:header(1) or false
      after[#names + 3] = req:header(true) or false
      direct[#names + 1], direct[#names + 2], direct[#names + 3] = false, false, false
      rows[#rows + 1] = { before, after, direct }
      res:send("ok")
    end))
    exchange(srv, "GET / HTTP/1.1\r\nHost::b\r\nX-A: a:b: c\r\nA:b: d\r\nx-a:: e\r\nX: \r\nB:\t\r\n"
      .. "X-A:  f  \r\n\r\n"
      .. "GET / HTTP/1.1\r\nHost: h\r\nA:b:c\r\nConnection: close\r\n\r\n")
    assert.are.equal(2, #rows)
    for i, r in ipairs(rows) do
      assert.are.same(r[3], r[1], "request " .. i .. " before the table")
      assert.are.same(r[3], r[2], "request " .. i .. " after the table")
    end
  end)

  it("pairs over req.headers sees every field once, lower case", function()
    local keys
    local srv = assert(httpd.new(function(req, res)
      keys = {}
      for k, v in pairs(req.headers) do keys[#keys + 1] = k .. "=" .. (type(v) == "table" and table.concat(v, "|") or v) end
      table.sort(keys)
      res:send("ok")
    end))
    exchange(srv, "GET / HTTP/1.1\r\nHost: a\r\nX-Y: 1\r\nx-y: 2\r\nX-y: 3\r\nZ: \r\n\r\n")
    assert.are.same({ "host=a", "x-y=1|2|3", "z=" }, keys)
  end)

  it("req:header after the body was read, and from a task after the request ended", function()
    local early, late = {}, {}
    local srv
    srv = assert(httpd.new(function(req, res)
      local body = req:body()
      early[#early + 1] = { req:header("x-id"), body }
      local id = req:header("x-id")
      co.spawn(function()                          -- the same req object, later on
        socket.sleep(0.05)
        late[#late + 1] = { id, req:header("x-id") ~= nil }
      end)
      res:send("ok")
    end))
    exchange(srv, "POST / HTTP/1.1\r\nHost: a\r\nX-Id: 1\r\nContent-Length: 2\r\n\r\nab"
      .. "GET / HTTP/1.1\r\nHost: a\r\nX-Id: 2\r\n\r\n"
      .. "GET / HTTP/1.1\r\nHost: a\r\nX-Id: 3\r\nConnection: close\r\n\r\n")
    assert.are.same({ { "1", "ab" }, { "2", "" }, { "3", "" } }, early)
    assert.are.equal(3, #late)
  end)
end)

describe("regress: httpd handler errors on the unprotected path", function()
  local function fds() return H.fdcount() end

  it("answers 500 to every kind of raised value and keeps serving", function()
    local errs = {}
    local bad = setmetatable({}, { __tostring = function() error("tostring raised") end })
    local before = fds()
    local srv = assert(httpd.new(function(req, res)
      local p = req.path
      if p == "/string" then error("s") end
      if p == "/table" then error({ code = 1 }) end
      if p == "/nil" then error(nil) end
      if p == "/tostring" then error(bad) end
      if p == "/coroutine" then coroutine.wrap(function() error("in coroutine") end)() end
      if p == "/yield" then
        socket.sleep(0.01)
        co.spawn(function() end)
        co.pcall(socket.sleep, 0.01)
        error("after yields")
      end
      if p == "/corun" then co.run(1) end                      -- a nested run raises
      if p == "/rawyield" then
        for _ = 1, 3 do coroutine.yield() end                     -- a plain yield: resumed later
        return res:send("yielded")
      end
      if p == "/stream" then
        res:write("part")
        error("mid-stream")
      end
      if p == "/sent" then
        res:send("done")
        error("after send")
      end
      res:send("fine")
    end, { onerror = function(e) errs[#errs + 1] = type(e) end }))
    local paths = { "/string", "/table", "/nil", "/tostring", "/coroutine", "/yield", "/corun" }
    local reqs = {}
    for i, p in ipairs(paths) do
      reqs[i] = "GET " .. p .. " HTTP/1.1\r\nHost: a\r\n\r\nGET /ok HTTP/1.1\r\nHost: a\r\n\r\n"
    end
    reqs[#reqs + 1] = "GET /stream HTTP/1.1\r\nHost: a\r\n\r\nGET /ok HTTP/1.1\r\nHost: a\r\n\r\n"
    reqs[#reqs + 1] = "GET /sent HTTP/1.1\r\nHost: a\r\n\r\nGET /ok HTTP/1.1\r\nHost: a\r\n\r\n"
    reqs[#reqs + 1] = "GET /ok HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"
    reqs[#reqs + 1] = "GET /rawyield HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"
    local got = exchange(srv, reqs)
    assert.truthy(got[#reqs]:find("^HTTP/1.1 200 .*yielded$"), got[#reqs])
    for i = 1, #paths do
      assert.truthy(got[i]:find("^HTTP/1.1 500 [^\n]*\r\n.*Connection: close\r\n"), paths[i] .. ": " .. got[i])
      assert.are.equal(1, count(got[i], "HTTP/1.1 "), paths[i] .. ": " .. got[i])   -- the pipelined one: not answered
    end
    assert.truthy(got[#paths + 1]:find("^HTTP/1.1 200 .*4\r\npart\r\n$"), got[#paths + 1])   -- head sent: closed
    assert.truthy(got[#paths + 2]:find("^HTTP/1.1 200 [^\n]*\r\n.*\r\n\r\ndone$"), got[#paths + 2])
    assert.truthy(got[#paths + 3]:find("^HTTP/1.1 200 .*fine$"), got[#paths + 3])
    assert.are.equal(#paths + 2, #errs)
    assert.are.equal(0, srv:connections())
    assert.are.equal(before, fds())
  end)

  it("a handler whose res:send or res:write raises before anything went out gets 500", function()
    local bad = setmetatable({}, { __tostring = function() error("tostring raised") end })
    local srv = assert(httpd.new(function(req, res)
      local p = req.path
      if p == "/status" then res.status = 1000 return res:send("x") end
      if p == "/wstatus" then res.status = "x" return res:write("x") end
      if p == "/body" then return res:send(bad) end
      if p == "/wbody" then return res:write(bad) end
      if p == "/ctype" then return res:send("x", {}) end
      if p == "/wctype" then return res:write("x", {}) end
      if p == "/late" then res.status = 1000 return end     -- the server's own send("")
      res:send("fine")
    end))
    local paths = { "/status", "/wstatus", "/body", "/wbody", "/ctype", "/wctype", "/late" }
    local reqs = {}
    for i, p in ipairs(paths) do reqs[i] = "GET " .. p .. " HTTP/1.1\r\nHost: a\r\n\r\n" end
    local got = exchange(srv, reqs)
    local wrong = {}
    for i, p in ipairs(paths) do
      if not got[i]:find("^HTTP/1.1 500 [^\n]*\r\n.*Connection: close\r\n") then wrong[#wrong + 1] = p .. ": " .. got[i] end
    end
    assert.are.same({}, wrong)
    assert.are.equal(0, srv:connections())
  end)

  it("a raising handler does not hold up another connection, and its 500 carries none of its fields", function()
    local srv = assert(httpd.new(function(req, res)
      res:set("X-Secret", "1")
      if req.path == "/boom" then error("boom") end
      socket.sleep(0.1)
      res:send("slow")
    end))
    local _, port = srv:getsockname()
    local got = {}
    for i, p in ipairs({ "/slow", "/boom", "/boom", "/slow" }) do
      co.spawn(function()
        local c = assert(socket.connect("127.0.0.1", port))
        c:settimeout(3, "t")
        c:send("GET " .. p .. " HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
        got[i] = c:receive("*a")
        c:close()
      end)
    end
    co.spawn(function()
      for _ = 1, 200 do
        if got[1] and got[2] and got[3] and got[4] then break end
        socket.sleep(0.01)
      end
      srv:stop(1)
    end)
    assert.is_true(co.run(10))
    for _, i in ipairs({ 1, 4 }) do assert.truthy(got[i]:find("^HTTP/1.1 200 .*X%-Secret: 1\r\n.*slow$"), got[i]) end
    for _, i in ipairs({ 2, 3 }) do
      assert.truthy(got[i]:find("^HTTP/1.1 500 "), got[i])
      assert.falsy(got[i]:find("X-Secret", 1, true), got[i])
    end
    assert.are.equal(0, srv:connections())
  end)

  it("a head that comes a few bytes at a time is counted once: simple, or refused", function()
    local bodies = {}
    local srv = assert(httpd.new(function(req, res)
      bodies[#bodies + 1] = req:body() or "?"
      res:send("ok")
    end))
    local _, port = srv:getsockname()
    local heads = {
      "GET / HTTP/1.1\r\nHost: a\r\nX-A: 1\r\n\r\n",
      "POST / HTTP/1.1\r\nHost: a\r\nX: y\r\nContent-Length: 2\r\n\r\nab",
      "GET / HTTP/1.1\r\nX: y\r\nHost: a\r\nX: y\r\nhOST: a\r\n\r\n",
    }
    local got = {}
    co.spawn(function()
      for i, h in ipairs(heads) do
        local c = assert(socket.connect("127.0.0.1", port))
        c:settimeout(3, "t")
        for j = 1, #h, 3 do
          c:send(h:sub(j, j + 2))
          socket.sleep(0.002)
        end
        got[i] = c:receive("*l")
        c:close()
      end
      srv:stop(1)
    end)
    assert.is_true(co.run(15))
    assert.are.same({ "HTTP/1.1 200 OK", "HTTP/1.1 200 OK", "HTTP/1.1 400 Bad Request" }, got)
    assert.are.same({ "", "ab" }, bodies)
  end)
end)
