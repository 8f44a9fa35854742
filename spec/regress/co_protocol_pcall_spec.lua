-- http.request, smtp.send and ftp.get run their session under a pcall (a
-- source or sink that raises closes the connection). On PUC Lua 5.1 a wait
-- under the built-in pcall cannot yield: in a task, each of them blocked
-- the scheduler, so a peer task in the same process never ran and the
-- request hung (doc/http.md's first example never finished on 5.1). They
-- now use socket._pcall (co.pcall in a task). The client timeouts are 2 s
-- here, so a call that blocks fails with "timeout" instead of hanging.
local socket = require("socket")
local http = require("socket.http")
local smtp = require("socket.smtp")
local ftp = require("socket.ftp")
local P = require("proto_helper")

describe("protocol calls in a task wait by yielding (every Lua, PUC 5.1 included)", function()
  local saved
  before_each(function() saved = { http.TIMEOUT, smtp.TIMEOUT, ftp.TIMEOUT } end)
  after_each(function() http.TIMEOUT, smtp.TIMEOUT, ftp.TIMEOUT = saved[1], saved[2], saved[3] end)

  it("http.request talks to a server task of the same scheduler", function()
    http.TIMEOUT = 2
    local port = P.peer(function(c)
      for _ = 1, 20 do
        local l = c:receive("*l")
        if l == "" or not l then break end
      end
      c:send("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello")
    end)
    local body, code = P.run(function()
      return http.request("http://127.0.0.1:" .. port .. "/")
    end, 10)
    assert.same({ "hello", 200 }, { body, code })
  end)

  it("smtp.send talks to a server task of the same scheduler", function()
    smtp.TIMEOUT = 2
    local d = P.smtpd()
    local r = { P.run(function()
      return smtp.send({ from = "<a@example.test>", rcpt = "<b@example.test>",
        server = "127.0.0.1", port = d.port, source = smtp.message({ body = "hi" }) })
    end, 10) }
    assert.same({ 1 }, r)
  end)

  it("ftp.get talks to a server task of the same scheduler", function()
    ftp.TIMEOUT = 2
    local d = P.ftpd({ files = { ["/a.txt"] = "hello\n" } })
    local r = { P.run(function()
      return ftp.get("ftp://127.0.0.1:" .. d.port .. "/a.txt")
    end, 10) }
    assert.same({ "hello\n" }, r)
  end)

  -- co.pcall itself, on PUC 5.1: it took no C function (5.1's coroutine.create
  -- refuses one), it raised "attempt to yield across metamethod/C-call
  -- boundary" under a plain pcall, and an error raised after a wait in Lua
  -- code that C called (socket.protect) left the task instead of coming
  -- back from co.pcall (and from the right one, when nested).
  local co = require("socket.co")
  local function pair()
    local srv = assert(socket.bind("127.0.0.1", 0))
    local _, port = srv:getsockname()
    local a = assert(socket.connect("127.0.0.1", port))
    local b = assert(srv:accept())
    srv:close()
    a:settimeout(5)
    b:settimeout(5)
    return a, b
  end
  local function intask(fn, early)
    local a, b = pair()
    local res
    if early then b:send("line\n") end
    co.spawn(function() res = { fn(a) } end)
    if not early then co.spawn(function() co.sleep(0.05); b:send("line\n") end) end
    local ok, err = co.run(10)
    a:close()
    b:close()
    assert.is_true(ok, err)
    return res
  end
  local function raiser(a)
    return socket.protect(function() error("after " .. a:receive("*l"), 0) end)
  end

  it("co.pcall takes a C function", function()
    assert.same({ true, "line" }, intask(function(a) return co.pcall(a.receive, a, "*l") end))
  end)

  it("co.pcall under a plain pcall in a task: the wait blocks, no yield error", function()
    assert.same({ true, true, "line" }, intask(function(a)
      return pcall(co.pcall, function() return a:receive("*l") end)
    end, true))
  end)

  it("an error raised after a wait, in Lua code C called, comes back from co.pcall", function()
    assert.same({ false, "after line", "still here" }, intask(function(a)
      local ok, err = co.pcall(raiser(a))
      return ok, err, "still here"
    end))
  end)

  it("and from the innermost co.pcall when they nest", function()
    assert.same({ true, false, "after line" }, intask(function(a)
      return co.pcall(function() return co.pcall(raiser(a)) end)
    end))
  end)

  it("socket._pcall is pcall outside a task", function()
    assert.same({ false, "boom" }, { socket._pcall(function() error("boom", 0) end) })
    assert.same({ true, 1, 2 }, { socket._pcall(function(a, b) return a, b end, 1, 2) })
  end)
end)
