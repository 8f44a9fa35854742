-- co.run must never spin the CPU. It did in two cases: a task waiting on
-- nothing (a select whose sockets another task closed, no timeout), and a
-- task calling co.run itself. CPU time (os.clock) shows the difference:
-- a busy loop burns as much CPU as wall time.
local socket = require("socket")
local co = require("socket.co")
local H = require("helper")

-- A child process: a task left waiting on nothing stays in its scheduler.
-- It prints what co.run returned and the CPU and wall time it took.
local PARKED = [[
local co = require("socket.co")
local srv = assert(socket.bind("127.0.0.1", 0))
local _, port = srv:getsockname()
local c = assert(socket.connect("127.0.0.1", port))
local p = assert(srv:accept())
srv:close()
local function run(...)
  local c0, t0 = os.clock(), socket.gettime()
  local a, b = co.run(...)
  io.write(tostring(a), " ", tostring(b), string.format(" cpu %.3f wall %.3f\n",
    os.clock() - c0, socket.gettime() - t0))
  io.flush()
end
local returned = false
co.spawn(function() socket.select({ c }, nil); returned = true end)   -- no timeout
co.spawn(function() co.sleep(0.05); c:close() end)
run(0.5)
run()
co.spawn(function() socket.select({}, nil); returned = true end)      -- empty from the start
run()
run(math.huge)                                                          -- a time that never comes
io.write("returned ", tostring(returned), "\n")
p:close()
]]

describe("co.run never spins", function()
  it("a task whose select lost all its sockets stays parked; co.run() reports the deadlock #linux #cpuclock", function()
    local out = H.childsh("timeout 10", PARKED):wait()
    local lines = {}
    for l in out:gmatch("[^\n]+") do lines[#lines + 1] = l end
    assert.equal(5, #lines, out)
    local function check(line, res, maxwall)
      local r, cpu, wall = line:match("^(.-) cpu ([%d.]+) wall ([%d.]+)$")
      assert.equal(res, r, out)
      -- a busy loop burns as much CPU as wall time
      assert.is_true(tonumber(cpu) < 0.15, "spun: " .. line)
      assert.is_true(tonumber(wall) < maxwall, line)
      return tonumber(wall)
    end
    assert.is_true(check(lines[1], "nil timeout", 3) >= 0.45, lines[1])   -- waited its timeout out
    check(lines[2], "nil deadlock", 1)
    check(lines[3], "nil deadlock", 1)
    check(lines[4], "nil deadlock", 1)
    assert.equal("returned false", lines[5])
  end)

  it("a parked select with a timeout sleeps until it, then returns 'timeout' #linux #cpuclock", function()
    local c, p = H.pair()
    local res, took
    co.spawn(function()
      local t0 = socket.gettime()
      res = { socket.select({ c }, nil, 0.3) }
      took = socket.gettime() - t0
    end)
    co.spawn(function() co.sleep(0.02); c:close() end)
    local c0 = os.clock()
    assert.is_true(co.run(5))
    local cpu = os.clock() - c0
    p:close()
    assert.same({ {}, {}, "timeout" }, res)
    assert.is_true(took >= 0.29 and took < 2, "took " .. took)
    assert.is_true(cpu < 0.15, "spun: cpu " .. cpu)
  end)

  it("co.run or co.step called from a task raises, without spinning", function()
    for _, name in ipairs({ "run", "step" }) do
      local errs = {}
      co.spawn(function()
        local ok, err = pcall(co[name], 0.3)
        errs[#errs + 1] = ok and "no error" or err
      end)
      local c0 = os.clock()
      assert.is_true(co.run(5))
      local cpu = os.clock() - c0
      assert.equal(1, #errs)
      assert.truthy(errs[1]:find("cannot call '" .. name .. "' from a task", 1, true), errs[1])
      assert.is_true(cpu < 0.15, "spun: cpu " .. cpu)
    end
  end)

  it("co.run called from co.onerror raises out of the outer run; the other tasks stay queued", function()
    local ran = false
    co.onerror = function() co.run(0.3) end
    co.spawn(function() error("boom", 0) end)
    co.spawn(function() ran = true end)
    local ok, err = pcall(co.run, 5)
    co.onerror = nil
    assert.is_false(ok)
    assert.truthy(tostring(err):find("cannot call 'run' from a task or from co.onerror", 1, true), err)
    assert.is_false(ran)
    assert.is_true(co.run(5))
    assert.is_true(ran)
  end)
end)
