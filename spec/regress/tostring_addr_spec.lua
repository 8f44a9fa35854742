-- tostring of every object prints its address as "0x..." on every system:
-- lua_pushfstring's %p follows the C library, and mingw's prints no 0x
-- (issue 16; class_pushaddr in src/class.c).
local socket = require("socket")

describe("tostring of objects", function()
  it("prints class: 0x<hex> for sockets and pollers", function()
    local t = socket.tcp()
    assert.matches("^tcp{master}: 0x%x+$", tostring(t))
    t:close()
    local u = socket.udp()
    assert.matches("^udp{unconnected}: 0x%x+$", tostring(u))
    u:close()
    local p = socket.poller()
    assert.matches("^poller: 0x%x+$", tostring(p))
    p:close()
  end)

  it("prints SSL contexts and connections the same way", function()
    local ok, ssl = pcall(require, "socket.ssl")
    if not ok then return end
    local ctx = assert(ssl.newcontext({ mode = "client", verify = "none" }))
    assert.matches("^SSL context: 0x%x+$", tostring(ctx))
    local srv = assert(socket.bind("127.0.0.1", 0))
    local _, port = srv:getsockname()
    local c = assert(socket.connect("127.0.0.1", port))
    local conn = assert(ssl.wrap(c, ctx))
    assert.matches("^SSL connection: 0x%x+$", tostring(conn))
    conn:close()
    assert.matches("^SSL connection: 0x%x+ %(closed%)$", tostring(conn))
    srv:close()
  end)
end)
