-- Issue 14 §5, attacked: a sink, source, step or onresponse callback that
-- raised inside socket.http.request (or a source/sink of smtp.send, ftp.get,
-- ftp.put) left the connection open until the garbage collector found it
-- (one fd per failed request). The error still goes through, and the
-- connection is closed first.
local socket = require("socket")
local ltn12 = require("ltn12")
local http = require("socket.http")
local co = require("socket.co")   -- co.pcall: in a task, a plain pcall's waits block on PUC 5.1 (doc/co.md)
local HH = require("http_helper")

describe("regress: socket.http closes the connection when a callback raises", function()
  after_each(HH.cleanup)

  local cases = {
    sink = function(r) r.sink = function() error("sink raised") end end,
    source = function(r)
      r.method, r.source = "POST", function() error("source raised") end
    end,
    step = function(r) r.step = function() error("step raised") end end,
    onresponse = function(r) r.onresponse = function() error("onresponse raised") end end,
    ["sink table chunk"] = function(r)
      r.method, r.source = "POST", function() return {} end     -- not a string: raises in the chunked sink
    end,
  }
  for name, setup in pairs(cases) do
    it("in " .. name, function()
      -- reads the head only: a body that never comes is not its business
      local srv = HH.server(function(_, c)
        for _ = 1, 50 do
          local l = c:receive("*l")
          if not l or l == "" then break end
        end
        return HH.response("200 OK", {}, "body")
      end, { raw = true })
      local made
      local reqt = {
        url = srv.url("/"),
        create = function()
          made = socket.tcp()
          return made
        end,
      }
      setup(reqt)
      local ok, err = HH.run(function() return co.pcall(http.request, reqt) end)
      assert.is_false(ok)
      assert.is_truthy(tostring(err):find(name:match("^%a+"), 1, true) or name == "sink table chunk", err)
      assert.is_truthy(made, "no socket was made")
      assert.equal(-1, made:getfd(), "the connection was left open: " .. tostring(made))
    end)
  end

  it("and a try-error still comes back as nil, err with the connection closed", function()
    local srv = HH.server(function() return "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort" end)
    local made
    local r, err = HH.run(function()
      return http.request({ url = srv.url("/"), sink = ltn12.sink.null(),
        create = function() made = socket.tcp() return made end })
    end)
    assert.same({ nil, "closed" }, { r, err })
    assert.equal(-1, made:getfd())
  end)
end)

describe("regress: socket.smtp and socket.ftp close the session when a callback raises", function()
  local P = require("proto_helper")
  local smtp = require("socket.smtp")
  local ftp = require("socket.ftp")

  local function maker(list)
    return function()
      local s = socket.tcp()
      list[#list + 1] = s
      return s
    end
  end

  local function allclosed(list)
    assert.is_true(#list > 0, "no socket was made")
    for _, s in ipairs(list) do assert.equal(-1, s:getfd(), "left open: " .. tostring(s)) end
  end

  it("smtp.send with a source that raises", function()
    local d = P.smtpd()
    local made = {}
    local ok, err = P.run(function()
      return co.pcall(smtp.send, { from = "<a@b>", rcpt = "<c@d>", server = "127.0.0.1", port = d.port,
        create = maker(made), source = function() error("source raised") end })
    end)
    assert.is_false(ok)
    assert.is_truthy(tostring(err):find("source raised", 1, true), err)
    allclosed(made)
  end)

  it("ftp.get and ftp.put with a sink or source that raises", function()
    local d = P.ftpd({ files = { ["/f"] = "contents" }, sessions = 2 })
    local made = {}
    local ok1, err1, ok2, err2 = P.run(function()
      local a, b = co.pcall(ftp.get, { host = "127.0.0.1", port = d.port, path = "/f", create = maker(made),
        sink = function(chunk) if chunk then error("sink raised") end return 1 end })
      local c, e = co.pcall(ftp.put, { host = "127.0.0.1", port = d.port, path = "/g", create = maker(made),
        source = function() error("source raised") end })
      return a, b, c, e
    end)
    assert.is_false(ok1)
    assert.is_truthy(tostring(err1):find("sink raised", 1, true), err1)
    assert.is_false(ok2)
    assert.is_truthy(tostring(err2):find("source raised", 1, true), err2)
    allclosed(made)
  end)
end)
