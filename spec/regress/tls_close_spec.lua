-- Regression: close() on a TLS connection whose peer had stopped reading
-- waited for room to send close_notify, with poll() and the object's
-- timeouts: with none set it never returned, and inside a socket.co task
-- it blocked the whole process (every task) the same way. close_notify is
-- now one attempt that never waits. Each case runs in a child under
-- timeout(1), so the old behaviour fails the test instead of hanging it.
local H = require("helper")
local S = require("ssl_helper")

-- The child: a TLS pair whose client has filled the socket buffers (the
-- server never reads), then close() with no timeout, outside or inside a
-- task; prints how long close took.
local CHILD = [[
local S = require("ssl_helper")
local co = require("socket.co")
local C = { server = arg[1], serverkey = arg[2], ca = arg[3] }
local cc, pp = S.tlspair(S.serverparams(C), S.clientparams(C))
cc:settimeout(0)
local chunk = string.rep("x", 65536)
local full = false
for _ = 1, 4000 do
  local ok, err = cc:send(chunk)
  if not ok then full = err == "wantwrite" break end
end
print("full", full)
cc:settimeout(nil)
local t0, dt = socket.gettime(), nil
if arg[4] == "task" then
  local ticks = 0
  co.spawn(function() cc:close(); dt = socket.gettime() - t0 end)
  co.spawn(function() for _ = 1, 3 do ticks = ticks + 1; socket.sleep(0.01) end end)
  co.run()
  print("ticks", ticks)
else
  cc:close()
  dt = socket.gettime() - t0
end
print("closed", string.format("%.3f", dt), tostring(cc))
pp:close()
]]

describe("regress: TLS close() never waits for a peer that stopped reading", function()
  local C
  setup(function() C = S.certs() end)
  teardown(function() if C then C.cleanup() end end)

  local function run(where)
    local h = H.childsh("timeout 10", CHILD, C.server, C.serverkey, C.ca, where)
    local out = h.wait()
    assert.truthy(out:find("full\ttrue", 1, true), out)
    local dt = tonumber(out:match("closed\t([%d.]+)"))
    assert(dt, "close() did not return: " .. out)
    assert.is_true(dt < 1, out)
    assert.truthy(out:find("(closed)", 1, true), out)
    return out
  end

  it("outside a task, with no timeout set", function()
    run("plain")
  end)

  it("inside a socket.co task: returns at once and the other tasks run", function()
    local out = run("task")
    assert.truthy(out:find("ticks\t3", 1, true), out)
  end)
end)
