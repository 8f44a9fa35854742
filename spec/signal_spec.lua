-- socket.signal: signals as selectable objects (doc/socket.md, "Signals").
-- Signals sent to this very process are USR1/USR2 only, and only while an
-- object watches them (their default action would end the run).
local socket = require("socket")
local co = require("socket.co")
local H = require("helper")

local function kill(name, pid)
  assert(H.sh("kill -" .. name .. " " .. (pid or H.pid())))
end

describe("socket.signal", function()
  it("checks its arguments", function()
    H.raises(socket.signal, {}, "bad argument #1 to '", "(string expected, got no value)")
    H.raises(socket.signal, { "FOO" }, "bad argument #1 to '", "(unknown signal 'FOO')")
    H.raises(socket.signal, { "KILL" }, "bad argument #1 to '", "(unknown signal 'KILL')")
    H.raises(socket.signal, { "INT", {} }, "bad argument #2 to '", "(string expected, got table)")
    H.raises(socket.signal, { "INT", "term" }, "bad argument #2 to '", "(unknown signal 'term')")
    H.raises(socket.signal, { "INT", "TERM\0x" }, "bad argument #2 to '", "(unknown signal (embedded zero))")
    local s = assert(socket.signal("SIGTERM", "INT", "TERM"))
    assert.same({ "INT", "TERM" }, s:getnames())
    H.raises(function() return s:receive("soon") end, {}, "bad argument #1 to 'receive' (number expected, got string)")
    H.raises(s.receive, { {} }, "signal expected")
    assert.are.equal("signal", s.class)
    assert.truthy(tostring(s):find("^signal: 0x%x+$"))
    s:close()
  end)

  it("answers timeout while nothing arrives, and select sees nothing", function()
    local s = assert(socket.signal("INT"))
    assert.same({ nil, "timeout" }, { s:receive(0) })
    local t0 = socket.gettime()
    assert.same({ nil, "timeout" }, { s:receive(0.1) })
    assert.is_true(socket.gettime() - t0 >= 0.09)
    assert.same({ nil, "timeout" }, { s:receive(0 / 0) })   -- NaN counts as 0
    local r, _, err = socket.select({ s }, nil, 0.01)
    assert.same({}, r)
    assert.are.equal("timeout", err)
    assert.is_false(s:dirty())
    s:close()
  end)

  it("close: twice is fine, then receive says closed and getfd -1; a task waiting wakes with closed", function()
    local s = assert(socket.signal("INT"))
    local got
    co.spawn(function() got = { s:receive(5) } end)
    co.spawn(function() socket.sleep(0.05) assert.are.equal(1, s:close()) end)
    local t0 = socket.gettime()
    assert.is_true(co.run(5))
    assert.same({ nil, "closed" }, got)
    assert.is_true(socket.gettime() - t0 < 2)
    assert.are.equal(1, s:close())
    assert.same({ nil, "closed" }, { s:receive(0) })
    assert.are.equal(-1, s:getfd())
  end)

  it("more than 64 at once: nil, 'too many signal objects'; closed ones make room", function()
    collectgarbage()                              -- objects an earlier failure left open
    local t = {}
    for i = 1, 64 do t[i] = assert(socket.signal("INT")) end
    assert.same({ nil, "too many signal objects" }, { socket.signal("INT") })
    t[1]:close()
    t[1] = assert(socket.signal("INT"))
    for i = 1, 64 do t[i]:close() end
  end)

  it("out of descriptors: the system's message, not 'too many signal objects' #linux", function()
    local out = H.childsh("ulimit -n 24; timeout 20", [[
local keep = {}
for _ = 1, 64 do local f = io.open("/dev/null") if not f then break end keep[#keep + 1] = f end
local s, err = socket.signal("USR1")
io.write(tostring(s), " ", tostring(err), "\n")
]]).wait()
    assert.matches("^nil .*[Tt]oo many open files", out)
  end)

  describe("with signals sent to this process #linux", function()
    it("select sees the object readable and receive names the signal", function()
      local s = assert(socket.signal("USR1", "USR2"))
      kill("USR2")
      local r = socket.select({ s }, nil, 2)
      assert.are.equal(s, r[1])
      assert.are.equal("USR2", s:receive(0))
      assert.same({ nil, "timeout" }, { s:receive(0) })
      kill("USR1")
      assert.are.equal("USR1", s:receive(2))        -- blocking, outside a task
      s:close()
    end)

    it("works in a socket.poller", function()
      local s = assert(socket.signal("USR1"))
      local p = assert(socket.poller())
      assert(p:set(s, "r"))
      assert.are.equal(0, (p:wait(0)))
      kill("USR1")
      local n, out = p:wait(2)
      assert.are.equal(1, n)
      assert.are.equal(s:getfd(), out[1])
      assert.are.equal("USR1", s:receive(0))
      p:close()
      s:close()
    end)

    it("in socket.co: a task blocks in receive while the others run", function()
      local s = assert(socket.signal("USR1"))
      local got, ticks = nil, 0
      co.spawn(function() got = s:receive(5) end)
      co.spawn(function()
        for _ = 1, 5 do socket.sleep(0.01) ticks = ticks + 1 end
        kill("USR1")
      end)
      assert.is_true(co.run(5))
      assert.are.equal("USR1", got)
      assert.are.equal(5, ticks)
      s:close()
    end)

    it("two tasks on one object: each arrival goes to one of them", function()
      local s = assert(socket.signal("USR1"))
      local got = {}
      for i = 1, 2 do co.spawn(function() got[i] = { s:receive(3) } end) end
      co.spawn(function()
        socket.sleep(0.05)
        kill("USR1")
        socket.sleep(0.05)
        kill("USR1")
      end)
      assert.is_true(co.run(5))
      assert.same({ { "USR1" }, { "USR1" } }, got)
      assert.same({ nil, "timeout" }, { s:receive(0) })
      s:close()
    end)

    it("two objects watching one signal both get each arrival; closing one leaves the other", function()
      local a, b = assert(socket.signal("USR1")), assert(socket.signal("USR1", "USR2"))
      kill("USR1")
      assert.are.equal("USR1", a:receive(2))
      assert.are.equal("USR1", b:receive(2))
      a:close()
      kill("USR1")                                  -- b still watches: no default action
      assert.are.equal("USR1", b:receive(2))
      b:close()
    end)

    it("a burst of arrivals: at most one receive each, and the object goes on working", function()
      local s = assert(socket.signal("USR1"))
      assert(H.sh(("for i in $(seq 200); do kill -USR1 %d; done"):format(H.pid())))
      local n = 0
      while s:receive(0) do n = n + 1 assert(n <= 200) end
      assert.is_true(n >= 1 and n <= 200, n)
      kill("USR1")
      assert.are.equal("USR1", s:receive(2))
      s:close()
    end)

    it("gc and close release the descriptors", function()
      collectgarbage()
      local before = H.fdcount()
      for _ = 1, 20 do socket.signal("USR1") end
      collectgarbage()
      collectgarbage()
      assert.are.equal(before, H.fdcount())
      for _ = 1, 20 do assert(socket.signal("USR1")):close() end
      assert.are.equal(before, H.fdcount())
    end)
  end)

  describe("restores what was there before #linux", function()
    -- The child watches USR1, stops (close or gc), then sends itself USR1.
    local CHILD = [[
local s = assert(socket.signal("USR1"))
if arg[1] == "gc" then s = nil collectgarbage() collectgarbage() else s:close() end
local f = io.open("/proc/self/stat") local pid = f:read("l"):match("^%d+") f:close()
os.execute("kill -USR1 " .. pid)
socket.sleep(0.2)
print("alive")
]]
    it("the default action, after close and after gc", function()
      for _, how in ipairs({ "close", "gc" }) do
        local out, _, _, status = H.childsh("exec 2>/dev/null; timeout 20", CHILD, how).wait()   -- (no shell report)
        assert.are.equal("", out)
        -- ended by SIGUSR1: the shell's 128 + 10, or (Lua 5.1's popen) the signal itself
        assert.is_true(status == 128 + 10 or status == 10, tostring(status))
      end
    end)

    it("an ignored signal stays ignored", function()
      local out, ok = H.childsh("trap '' USR1; timeout 20", CHILD, "close").wait()
      assert.are.equal("alive\n", out)
      assert.is_true(ok)
    end)

    it("the signal mask: a signal blocked before is unblocked while watched, blocked again after", function()
      if not H.sh("command -v python3") then return pending("needs python3") end
      local code = [[
local function blocked()
  local f = io.open("/proc/self/status") local t = f:read("a") f:close()
  local hex = t:match("SigBlk:%s*(%x+)")
  return math.floor(tonumber(hex:sub(-4), 16) / 2048) % 2 == 1   -- SIGUSR2 is bit 11
end
local a = blocked()
local s = assert(socket.signal("USR2"))
local b = blocked()
s:close()
print(a, b, blocked())
]]
      local script = os.tmpname()
      local f = assert(io.open(script, "w"))
      f:write("local socket = require('socket')\n", code)
      f:close()
      local py = "import os, signal, sys; signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGUSR2]); "
        .. "os.execvp(sys.argv[1], sys.argv[1:])"
      local out = H.sh(("timeout 20 python3 -c %s %s %s"):format(H.quote(py), H.quote(H.LUA), H.quote(script)))
      os.remove(script)
      assert.are.equal("true\tfalse\ttrue\n", out)
    end)
  end)
end)
