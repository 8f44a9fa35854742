-- socket.httpd keeps the head's field lines of every request (simple or
-- not) for req.headers made on first use: a handler that cleared
-- req.headers during a request with framing fields got the fields of an
-- earlier request (or an error on the first one). Real loopback sockets,
-- bounded by co.run's timeout and the client's total timeout.
local socket = require("socket")
local co = require("socket.co")
local httpd = require("socket.httpd")

describe("regress: httpd req.headers cleared by the handler", function()
  it("is made again from this request's fields, not an earlier one's", function()
    local seen = {}
    local srv = assert(httpd.new(function(req, res)
      req.headers = nil                       -- the handler drops the table
      seen[#seen + 1] = tostring(req.headers["x-n"])
      req:body()
      res:send("ok")
    end))
    local _, port = srv:getsockname()
    co.spawn(function()
      local c = assert(socket.connect("127.0.0.1", port))
      c:settimeout(3, "t")
      -- framed first (not simple), then simple, then framed again
      c:send("POST / HTTP/1.1\r\nHost: a\r\nX-N: 1\r\nContent-Length: 2\r\n\r\nab"
        .. "GET / HTTP/1.1\r\nHost: a\r\nX-N: 2\r\n\r\n"
        .. "POST / HTTP/1.1\r\nHost: a\r\nX-N: 3\r\nContent-Length: 1\r\nConnection: close\r\n\r\nz")
      c:receive("*a")
      c:close()
      srv:stop(1)
    end)
    assert.is_true(co.run(15))
    assert.are.same({ "1", "2", "3" }, seen)
  end)
end)
