-- Issue 14 §5, attacked: socket.http sent a request body past its
-- Content-Length (the server reads those bytes as a second request: a
-- caller's body smuggled a request), sent a raw body under a caller's
-- Transfer-Encoding, and took the 21st interim (1xx) response as the final
-- one, returning success with code 100 and no body.
local socket = require("socket")
local ltn12 = require("ltn12")
local http = require("socket.http")
local H = require("helper")
local HH = require("http_helper")

local R = HH.response
local request = http.request

-- A server that records every byte a connection sends until it closes.
local function recorder()
  local got = {}
  local srv = HH.server(function(_, c)
    local all, _, partial = c:receive("*a")
    got[#got + 1] = all or partial
  end, { raw = true })
  return srv, got
end

describe("regress: socket.http sends exactly the body its framing announces", function()
  after_each(HH.cleanup)

  it("refuses a body longer than its Content-Length, and nothing past the length is sent", function()
    local srv, got = recorder()
    local smuggled = "ab\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n"
    local r, err = HH.run(function()
      return request({ url = srv.url("/"), method = "POST", headers = { ["content-length"] = 2 },
        source = ltn12.source.string(smuggled) })
    end)
    assert.same({ nil, "body longer than content-length" }, { r, err })
    HH.run(function() for _ = 1, 100 do if got[1] then break end socket.sleep(0.01) end end)
    assert.is_truthy(got[1], "the server saw nothing")
    assert.is_nil(got[1]:find("smuggled", 1, true), got[1])
    assert.is_truthy(got[1]:find("\r\n\r\n$"), got[1])
  end)

  it("refuses a body shorter than its Content-Length", function()
    local srv = HH.server(function() return R("200 OK", {}, "ok") end, { raw = true })
    local r, err = HH.run(function()
      return request({ url = srv.url("/"), method = "POST", headers = { ["content-length"] = 10 },
        source = ltn12.source.string("abc") })
    end)
    assert.same({ nil, "body shorter than content-length" }, { r, err })
  end)

  it("sends a body of exactly its Content-Length, in any number of chunks", function()
    local srv = HH.server(function(req) return R("200 OK", {}, req.body) end)
    local out = {}
    local r, code = HH.run(function()
      return request({ url = srv.url("/"), method = "PUT", headers = { ["content-length"] = "6" },
        source = ltn12.source.table({ "ab", "", "cd", "ef" }), sink = ltn12.sink.table(out) })
    end)
    assert.same({ 1, 200, "abcdef" }, { r, code, table.concat(out) })
  end)

  it("raises, before connecting, for two framings, a Transfer-Encoding not ending in chunked, or a bad length", function()
    local l = assert(socket.bind("127.0.0.1", 0))
    local _, port = l:getsockname()
    local u = "http://127.0.0.1:" .. port .. "/"
    local body = function() return ltn12.source.string("0\r\n\r\nGET /smuggled HTTP/1.1\r\n\r\n") end
    H.raising(function()
      request({ url = u, method = "POST", source = body(),
        headers = { ["content-length"] = 27, ["transfer-encoding"] = "chunked" } })
    end, "headers 'content-length' and 'transfer-encoding' both given")
    H.raising(function()
      request({ url = u, method = "POST", source = body(), headers = { ["transfer-encoding"] = "gzip" } })
    end, "header 'transfer-encoding' must end with 'chunked'")
    for _, bad in ipairs({ "-1", "1.5", "5, 5", " 5", 2.5 }) do
      H.raising(function()
        request({ url = u, method = "POST", source = body(), headers = { ["content-length"] = bad } })
      end, "header 'content-length' must be a decimal number")
    end
    l:settimeout(0)
    local c = l:accept()
    l:close()
    assert.is_nil(c, "a refused request connected")
  end)

  it("a caller's 'gzip, chunked' goes out chunked", function()
    local srv, got = recorder()
    HH.run(function()
      return request({ url = srv.url("/"), method = "POST", headers = { ["transfer-encoding"] = "gzip, chunked" },
        source = ltn12.source.string("xyz"), timeout = 0.2 })
    end)
    HH.run(function() for _ = 1, 100 do if got[1] then break end socket.sleep(0.01) end end)
    assert.is_truthy(got[1] and got[1]:find("\r\nTransfer%-Encoding: gzip, chunked\r\n.*\r\n\r\n3\r\nxyz\r\n0\r\n\r\n$"),
      got[1])
  end)
end)

describe("regress: socket.http bounds interim responses", function()
  after_each(HH.cleanup)

  local function serve(n)
    return HH.server(function()
      return string.rep("HTTP/1.1 100 Continue\r\n\r\n", n) .. R("200 OK", {}, "final")
    end)
  end

  it("fails after http.MAXINTERIM 1xx responses instead of returning one as the answer", function()
    local srv = serve(http.MAXINTERIM + 1)
    assert.same({ nil, "too many interim responses" }, { HH.run(function() return request(srv.url("/")) end) })
  end)

  it("reads past up to http.MAXINTERIM of them", function()
    local srv = serve(http.MAXINTERIM)
    local body, code = HH.run(function() return request(srv.url("/")) end)
    assert.same({ "final", 200 }, { body, code })
  end)
end)
