-- Sub-millisecond timeouts keep their precision: socket.select(nil, nil,
-- 0.0001) took 1.2 ms, its timeout rounded up to whole ms for poll(); so
-- did the poller (epoll_wait) under socket.co. Now ppoll and epoll_pwait2
-- (epoll_wait, ms rounded up, on kernels without it). Bounds are loose
-- (a loaded machine): a median well under 1 ms, and never early.
local socket = require("socket")
local co = require("socket.co")
local H = require("helper")

local now = socket._now                    -- the monotonic clock of every deadline

-- Times f() 50 times: the median and the shortest run.
local function sample(f)
  local t = {}
  for i = 1, 50 do
    local t0 = now()
    f()
    t[i] = now() - t0
  end
  table.sort(t)
  return t[25], t[1]
end

local function check(what, timeout, median, shortest)
  assert.is_true(shortest >= timeout, ("%s ended early: %.6f s"):format(what, shortest))
  assert.is_true(median < 0.0008, ("%s: median %.6f s"):format(what, median))
end

describe("sub-millisecond timeouts #linux #subms", function()
  it("socket.select(nil, nil, 0.0001) waits about 0.1 ms, never less", function()
    check("select", 0.0001, sample(function() socket.select(nil, nil, 0.0001) end))
  end)

  it("socket.select on an idle socket with 0.0001 s", function()
    local c, p = H.pair()
    local res
    local median, shortest = sample(function() res = { socket.select({ c }, nil, 0.0001) } end)
    c:close() p:close()
    assert.same({ {}, {}, "timeout" }, res)
    check("select({c})", 0.0001, median, shortest)
  end)

  it("a socket's own wait: receive and accept with settimeout(0.0001)", function()
    local c, p = H.pair()
    c:settimeout(0.0001)
    local res
    local median, shortest = sample(function() res = { c:receive("*l") } end)
    assert.same({ nil, "timeout", "" }, res)
    check("receive", 0.0001, median, shortest)
    local u = assert(socket.udp())
    assert(u:setsockname("127.0.0.1", 0))
    u:settimeout(0.0001)
    median, shortest = sample(function() res = { u:receive() } end)
    assert.same({ nil, "timeout" }, res)
    check("udp receive", 0.0001, median, shortest)
    local srv = assert(socket.bind("127.0.0.1", 0))
    srv:settimeout(0.0001)
    median, shortest = sample(function() res = { srv:accept() } end)
    assert.same({ nil, "timeout" }, res)
    check("accept", 0.0001, median, shortest)
    c:close() p:close() u:close() srv:close()
  end)

  it("poller:wait(0.0001)", function()
    local p = assert(socket.poller())
    local median, shortest = sample(function() p:wait(0.0001) end)
    p:close()
    check("poller:wait", 0.0001, median, shortest)
  end)

  it("in a socket.co task: co.sleep(0.0001) and select(nil, nil, 0.0001)", function()
    local r = {}
    co.spawn(function()
      r.sleep = { sample(function() co.sleep(0.0001) end) }
      r.select = { sample(function() socket.select(nil, nil, 0.0001) end) }
    end)
    assert.is_true(co.run(10))
    check("co.sleep in a task", 0.0001, r.sleep[1], r.sleep[2])
    check("select in a task", 0.0001, r.select[1], r.select[2])
  end)

  it("a timeout of 1.5 ms is not cut to 1 ms", function()
    local median, shortest = sample(function() socket.select(nil, nil, 0.0015) end)
    assert.is_true(shortest >= 0.0015, ("ended early: %.6f s"):format(shortest))
    assert.is_true(median < 0.0025, ("median %.6f s"):format(median))
  end)
end)
