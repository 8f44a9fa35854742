-- Issue 7: slow-loris clients against accept + handshake on a TLS server.
-- A child process (slowloris_child.lua) connects loris clients first (one
-- silent, one that stops after half a ClientHello, one that sends it a byte
-- per second), then real clients one after the other. Three servers:
--   1. a blocking accept() loop on a setssl server: the handshake runs
--      inside accept(), so each loris costs the server's timeout, once;
--   2. foreachaccept on a setssl server in a socket.co task: each client's
--      handshake runs in that client's own task, so real clients do not
--      wait for the loris at all;
--   3. the pattern that keeps serving others: foreachaccept on a plain
--      server in a socket.co task, each client handshaking with starttls
--      in its own task under its own deadline. Real clients do not wait for
--      the loris at all.
-- In every case each loris is closed by the server, and nothing waits
-- longer than a timeout that was set.
local socket = require("socket")
local H = require("helper")

local HERE = debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or "spec/hardening"
local function q(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

local hasssl, ssl = pcall(require, "socket.ssl")
local co = require("socket.co")

local dir, SPARAMS
setup(function()
  if not hasssl or H.WINDOWS then return end   -- (the tests are #linux #shell)
  dir = os.tmpname()
  os.remove(dir)
  assert(os.execute("mkdir -p " .. q(dir)))
  local out, ok = H.sh(("cd %s && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
    .. "-keyout key.pem -out cert.pem -days 2 -subj /CN=localhost"):format(q(dir)))
  assert(ok, out)
  SPARAMS = { mode = "server", certificate = dir .. "/cert.pem", key = dir .. "/key.pem" }
end)
teardown(function()
  if dir then H.sh("rm -rf " .. q(dir)) end
end)

-- Starts the child against `port`; returns a function that waits for it
-- and returns its parsed report.
local function attack(port, rounds, nreal, stay)
  local h = io.popen(("h=$(cd %s && pwd); cd %s && timeout 60 %s \"$h\"/slowloris_child.lua %d %d %d %s 2>&1")
    :format(q(HERE), q(dir), H.LUA, port, rounds, nreal, stay), "r")
  local first = h:read("l")
  if first ~= "STARTED" then error("the child did not start: " .. tostring(first) .. (h:read("a") or "")) end
  return function()
    local out = h:read("a")
    h:close()
    local r = { out = out, real = {}, loris = {} }
    for i, how, dt in out:gmatch("REAL (%d+) (%S+) ([%d.]+)") do
      r.real[tonumber(i)] = { how = how, dt = tonumber(dt) }
    end
    for kind, what in out:gmatch("LORIS (%a+) (%S+)") do
      r.loris[#r.loris + 1] = kind .. "=" .. what
    end
    r.finished = out:match("END true") ~= nil
    return r
  end
end

local function checkreal(r, nreal, bound)
  assert.is_true(r.finished, "child did not finish:\n" .. r.out)
  local worst = 0
  for i = 1, nreal do
    local x = r.real[i]
    assert.is_truthy(x, "real client " .. i .. " never reported:\n" .. r.out)
    assert.are.equal("ok", x.how, r.out)
    worst = math.max(worst, x.dt)
  end
  assert.is_true(worst < bound, ("a real client waited %.2f s (bound %.2f s):\n%s"):format(worst, bound, r.out))
  return worst
end

local function checkloris(r, n)
  table.sort(r.loris)
  local want = {}
  for _, kind in ipairs({ "drip", "half", "silent" }) do
    for _ = 1, n do want[#want + 1] = kind .. "=closed" end
  end
  assert.are.same(want, r.loris)
end

-- A TLS server (setssl unless `plain`) with the given timeout, and its port.
local function server(plain, timeout)
  local srv = assert(socket.bind("127.0.0.1", 0, 64))
  local _, port = srv:getsockname()
  if not plain then assert(srv:setssl(SPARAMS)) end
  if timeout then srv:settimeout(timeout) end
  return srv, port
end

-- One request: "ping" -> "PING".
local function answer(conn)
  conn:settimeout(5)
  local line = conn:receive()
  conn:send((line or ""):upper() .. "\n")
  conn:close()
end

describe("hardening: slow-loris clients against a TLS server #linux #shell", function()
  it("a blocking accept() loop on a setssl server: each loris costs the server's timeout once, then real clients are served", function()
    if not hasssl then return pending("socket.ssl not built") end
    local srv, port = server(false, 0.5)
    local done = attack(port, 1, 3, 4)
    local served, failed = 0, 0
    local deadline = socket.gettime() + 20
    while served < 3 and socket.gettime() < deadline do
      local conn = srv:accept()
      if conn then
        answer(conn)
        served = served + 1
      else
        failed = failed + 1
      end
    end
    srv:close()
    local r = done()
    -- three loris ahead of them, 0.5 s each, then a handshake
    local worst = checkreal(r, 3, 3 * 0.5 + 2)
    assert.is_true(failed >= 3, failed .. " failed accepts")
    checkloris(r, 1)
    print(("\n[slowloris] blocking accept, 3 loris, timeout 0.5 s: 3 real clients served, worst %.2f s"):format(worst))
  end)

  it("foreachaccept on a setssl server in a socket.co task: each client handshakes in its own task, real clients never wait for 15 loris", function()
    if not hasssl then return pending("socket.ssl not built") end
    local timeout = 3                                     -- the server's: accept and each handshake
    local srv, port = server(false, timeout)
    local done = attack(port, 5, 5, 6)
    local served, t0 = 0, socket.gettime()
    co.spawn(function()
      srv:foreachaccept(function(conn)                    -- conn: handshake already done
        answer(conn)
        served = served + 1
      end)
    end)
    co.spawn(function()                                   -- stops the server once all are served
      while served < 5 and socket.gettime() - t0 < 15 do socket.sleep(0.05) end
      socket.sleep(timeout + 0.5)                         -- the loris' handshakes time out meanwhile
      srv:close()
    end)
    assert.is_true(co.run(25))
    local r = done()
    -- serialised handshakes would cost 3 s per loris ahead of a real client
    local worst = checkreal(r, 5, 1.5)
    assert.are.equal(5, served)
    checkloris(r, 5)
    print(("\n[slowloris] foreachaccept+setssl in a task, 15 loris, timeout %g s: worst %.2f s"):format(timeout, worst))
  end)

  it("a plain server handing each client to its own task for starttls serves real clients while 15 loris wait", function()
    if not hasssl then return pending("socket.ssl not built") end
    local srv, port = server(true)
    local ctx = assert(ssl.newcontext(SPARAMS))
    local done = attack(port, 5, 5, 6)
    local served, lorisclosed, t0 = 0, 0, socket.gettime()
    local handshake = 3                                   -- each client's own deadline
    co.spawn(function()
      srv:foreachaccept(function(c)                       -- one task per client
        local conn = ssl.starttls(c, ctx, handshake)
        if not conn then                                  -- starttls closed it
          lorisclosed = lorisclosed + 1
          return
        end
        answer(conn)
        served = served + 1
      end)
    end)
    co.spawn(function()                                   -- stops the server when all are done
      while (served < 5 or lorisclosed < 15) and socket.gettime() - t0 < 15 do socket.sleep(0.05) end
      srv:close()
    end)
    assert.is_true(co.run(20))
    local r = done()
    -- far below one loris's handshake deadline: nobody waited for a loris
    local worst = checkreal(r, 5, 1.5)
    assert.is_true(worst < handshake)
    assert.are.equal(5, served)
    assert.are.equal(15, lorisclosed)
    checkloris(r, 5)
    print(("\n[slowloris] starttls per task, 15 loris: 5 real clients, worst %.2f s"):format(worst))
  end)
end)
