-- Regression: a TLS wait inside a socket.co task (handshake, receive, the
-- handshake of accept on a setssl server) yielded a sentinel of its own
-- (socket.ssl.core links its own copy of wait.c), so socket.co took it for
-- a plain coroutine.yield and resumed the task at once: correct results,
-- but a busy loop of ~20,000 wake-ups a second while the peer was silent.
-- Now every library yields the one sentinel kept in the registry.
local socket = require("socket")
local co = require("socket.co")
local H = require("helper")

local hasssl, ssl = pcall(require, "socket.ssl")

-- Runs the scheduler step by step until `done()`; returns the steps taken.
local function steps(done)
  local n = 0
  while not done() and n < 100000 do
    co.step(2)
    n = n + 1
  end
  return n
end

describe("regress: TLS waits in socket.co tasks yield on the fd #linux #shell", function()
  local certdir
  setup(function()
    if not hasssl then return end
    certdir = os.tmpname()
    os.remove(certdir)
    local out, ok = H.sh(("mkdir -p %s && cd %s && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 "
      .. "-nodes -keyout key.pem -out cert.pem -days 2 -subj /CN=localhost"):format(certdir, certdir))
    assert(ok, out)
  end)
  teardown(function() if certdir then H.sh("rm -rf " .. certdir) end end)

  it("a client handshake against a silent server wakes the scheduler a few times, not thousands", function()
    if not hasssl then return pending("socket.ssl not built") end
    local srv, port = H.server()
    local peer = assert(socket.connect("127.0.0.1", port))   -- silent: never answers the ClientHello
    local c = assert(srv:accept())
    local result
    co.spawn(function() result = table.pack(ssl.starttls(c, { verify = "none" }, 0.5)) end)
    local t0 = socket.gettime()
    local n = steps(function() return result ~= nil end)
    local dt = socket.gettime() - t0
    assert.is_true(n < 20, n .. " scheduler steps in 0.5 s")
    assert.are.same({ nil, "timeout", n = 2 }, result)
    assert.is_true(dt >= 0.45 and dt < 2, dt)
    peer:close(); srv:close()
  end)

  it("receive on a TLS conn and accept on a setssl server wait the same way", function()
    if not hasssl then return pending("socket.ssl not built") end
    local S = require("ssl_helper")
    local sparams = { mode = "server", certificate = certdir .. "/cert.pem", key = certdir .. "/key.pem" }
    local cc, pp = S.tlspair(sparams, { verify = "none" }, "127.0.0.1")
    local got
    co.spawn(function() cc:settimeout(0.5); got = table.pack(cc:receive()) end)
    local n = steps(function() return got ~= nil end)
    assert.is_true(n < 20, n .. " scheduler steps for a 0.5 s receive")
    assert.are.same({ nil, "wantread", "", n = 3 }, got)
    cc:close(); pp:close()

    local srv = assert(socket.bind("127.0.0.1", 0))
    assert(srv:setssl(sparams))
    local _, port = srv:getsockname()
    local silent = assert(socket.connect("127.0.0.1", port))
    local acc
    co.spawn(function() srv:settimeout(0.5); acc = table.pack(srv:accept()) end)
    n = steps(function() return acc ~= nil end)
    assert.is_true(n < 20, n .. " scheduler steps for a 0.5 s accept")
    assert.are.same({ nil, "timeout", n = 2 }, acc)
    silent:close(); srv:close()
  end)
end)
