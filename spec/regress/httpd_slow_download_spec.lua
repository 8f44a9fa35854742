-- Regression (issue 17): a response send ran under the connection's head
-- timeout as a total limit per call, so a client downloading a large body
-- for longer than headtimeout was cut off mid-body. A long send now waits
-- up to bodytimeout between bytes, with no total limit.
local socket = require("socket")
local co = require("socket.co")
local httpd = require("socket.httpd")

describe("regress: httpd slow download", function()
  it("a large body reaches a client that reads it over longer than headtimeout", function()
    local body = ("0123456789abcdef"):rep(512 * 1024)          -- 8 MiB
    local srv = assert(httpd.new(function(_, res) res:send(body) end, { headtimeout = 0.3, bodytimeout = 2 }))
    local _, port = srv:getsockname()
    local got, dt
    co.spawn(function()
      local c = assert(socket.connect("127.0.0.1", port))
      c:settimeout(5)
      local t0 = socket.gettime()
      c:send("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
      local parts = {}
      for _ = 1, 200 do
        local data, _, part = c:receive(256 * 1024)
        parts[#parts + 1] = data or part
        if not data then break end
        socket.sleep(0.03)
      end
      dt = socket.gettime() - t0
      got = table.concat(parts)
      c:close()
      srv:stop()
    end)
    assert.is_true(co.run(30))
    assert.is_true(dt > 0.3, dt)
    assert.are.equal(#body, #got - #got:match("^.-\r\n\r\n"))
  end)
end)
