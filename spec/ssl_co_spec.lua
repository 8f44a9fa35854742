-- TLS servers inside socket.co tasks (issues 4 and 5): accept() on a setssl
-- server yields while the handshake waits, so other tasks keep running, and
-- foreachaccept skips a client whose handshake fails instead of stopping.
local socket = require("socket")
local hasssl = pcall(require, "socket.ssl")
local co = require("socket.co")
local S = hasssl and require("ssl_helper")

describe("TLS servers in socket.co tasks", function()
  local C
  setup(function() if hasssl then C = S.certs() end end)
  teardown(function() if C then C.cleanup() end end)

  before_each(function()
    if not hasssl then pending("socket.ssl is not built here") end
  end)

  it("accept() on a setssl server yields during the handshake: other tasks run", function()
    if not hasssl then return end
    local server = assert(socket.bind("127.0.0.1", 0))
    assert(server:setssl(S.serverparams(C)))
    server:settimeout(5)
    local _, port = server:getsockname()
    local ticks, ticks_during, got = 0, nil, nil
    local handshake_started = false
    co.spawn(function()                 -- the TLS server
      local conn, err = server:accept()
      assert(conn, err)
      got = conn:receive("*l")
      conn:close()
    end)
    co.spawn(function()                 -- a client that waits before its handshake
      local c = assert(socket.connect("localhost", port))
      socket.sleep(0.3)
      handshake_started = true
      local t = assert(c:starttls(S.clientparams(C)))
      t:send("over tls\n")
      t:close()
    end)
    co.spawn(function()                 -- a ticker: must run while accept() waits
      for _ = 1, 40 do
        if handshake_started and not ticks_during then ticks_during = ticks end
        if got then break end
        ticks = ticks + 1
        socket.sleep(0.02)
      end
    end)
    assert.is_true(co.run(10))
    server:close()
    assert.are.equal("over tls", got)
    assert.is_true(ticks_during ~= nil and ticks_during >= 5,
      "the ticker ran " .. tostring(ticks_during) .. " times while accept() waited")
  end)

  it("foreachaccept in a task skips a plaintext client and serves the next TLS one", function()
    if not hasssl then return end
    local server = assert(socket.bind("127.0.0.1", 0))
    assert(server:setssl(S.serverparams(C)))
    server:settimeout(5)
    local _, port = server:getsockname()
    local served = {}
    co.spawn(function()
      local ok, err = server:foreachaccept(function(conn)
        served[#served + 1] = conn:receive("*l")
        conn:close()
        return false                  -- stop after the first TLS client
      end)
      served.result = { ok, err }
    end)
    co.spawn(function()
      local plain = assert(socket.connect("127.0.0.1", port))
      plain:send("GET / HTTP/1.0\r\n\r\n")   -- not TLS: its handshake fails
      plain:settimeout(5)
      plain:receive("*a")
      plain:close()
      local c = assert(socket.connect("localhost", port))
      local t = assert(c:starttls(S.clientparams(C)))
      t:send("second\n")
      t:close()
    end)
    assert.is_true(co.run(10))
    assert.are.same({ "second" }, { served[1] })
    assert.are.same({ true }, served.result)
  end)
end)
