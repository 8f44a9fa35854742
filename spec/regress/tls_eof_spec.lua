-- Regression: a TLS stream cut by a TCP FIN without close_notify read as a
-- clean end ("closed", and receive("*a") succeeded with what had come), so
-- a truncated stream looked complete. It is now an error with LuaSec's
-- (OpenSSL 3's) text, "unexpected eof while reading", with the partial
-- result; "closed" stays for a real close_notify.
local socket = require("socket")
local S = require("ssl_helper")
local ssl = require("socket.ssl")

-- A TLS server child: one client, sends `arg[3]` bytes, then ends with
-- close_notify (arg[4] == "notify") or by exiting without it (the kernel
-- closes the fd: a bare FIN).
local SERVER = S.ONECLIENT .. [[
assert(conn:send(string.rep("a", tonumber(arg[3]))))
if arg[4] == "notify" then conn:close() end
os.exit(0)                       -- no lua_close: no __gc, so no close_notify
]]

describe("regress: TLS EOF without close_notify", function()
  local C
  setup(function() C = S.certs() end)
  teardown(function() if C then C.cleanup() end end)

  local function client(n, how)
    local h = S.spawnlua(SERVER, C.server, C.serverkey, n, how)
    local port = assert(tonumber(h.line()))
    local c = assert(socket.connect("127.0.0.1", port))
    local cc = assert(ssl.wrap(c, S.clientparams(C)))
    cc:settimeout(10)
    assert(cc:dohandshake())
    return cc, h
  end

  it("receive('*a') fails with LuaSec's text and the partial data", function()
    local cc, h = client(1000, "cut")
    assert.are.same({ nil, "unexpected eof while reading", string.rep("a", 1000) },
      { cc:receive("*a") })
    -- and keeps saying so
    assert.are.same({ nil, "unexpected eof while reading", "" }, { cc:receive(1) })
    cc:close()
    h.rest()
  end)

  it("receive(n) and receive('*l') give the same error and partial", function()
    local cc, h = client(1000, "cut")
    assert.are.same({ nil, "unexpected eof while reading", string.rep("a", 1000) },
      { cc:receive(2000) })
    cc:close()
    h.rest()
    cc, h = client(10, "cut")
    assert.are.same({ nil, "unexpected eof while reading", string.rep("a", 10) },
      { cc:receive("*l") })
    cc:close()
    h.rest()
  end)

  it("a real close_notify still ends '*a' cleanly and reads as 'closed'", function()
    local cc, h = client(1000, "notify")
    assert.are.equal(string.rep("a", 1000), cc:receive("*a"))
    assert.are.same({ nil, "closed", "" }, { cc:receive(1) })
    cc:close()
    h.rest()
  end)
end)
