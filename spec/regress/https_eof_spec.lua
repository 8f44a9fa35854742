-- Regression: socket.http over https, reading a body delimited by the end
-- of the connection, returned 1, 200 with half the body when the server's
-- TCP stream was cut without close_notify (a truncation anyone on the path
-- can make). The cut now reads as "unexpected eof while reading", so the
-- request fails; a server that ends with close_notify still gives the
-- whole body.
local S = require("ssl_helper")
local http = require("socket.http")
local ltn12 = require("ltn12")

-- An HTTPS server child: one request, a 200 without Content-Length (the
-- body ends with the connection), then close_notify (arg[3] == "notify")
-- or an exit without it.
local SERVER = S.ONECLIENT .. [[
repeat local line = assert(conn:receive("*l")) until line == ""
assert(conn:send("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n"
  .. string.rep("b", 5000)))
if arg[3] == "notify" then conn:close() end
os.exit(0)                       -- no lua_close: no __gc, so no close_notify
]]

describe("regress: https body delimited by the connection's end", function()
  local C
  setup(function() C = S.certs() end)
  teardown(function() if C then C.cleanup() end end)

  local function get(how)
    local h = S.spawnlua(SERVER, C.server, C.serverkey, how)
    local port = assert(tonumber(h.line()))
    local body = {}
    local r = { http.request({ url = "https://127.0.0.1:" .. port .. "/", cafile = C.ca,
      sink = ltn12.sink.table(body) }) }
    h.rest()
    return r, table.concat(body)
  end

  it("fails when the stream is cut without close_notify", function()
    local r = get("cut")
    assert.are.same({ nil, "unexpected eof while reading" }, r)
  end)

  it("returns the whole body after a close_notify", function()
    local r, body = get("notify")
    assert.are.equal(1, r[1])
    assert.are.equal(200, r[2])
    assert.are.equal(string.rep("b", 5000), body)
  end)
end)
