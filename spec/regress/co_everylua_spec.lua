-- Cosockets on every Lua (issue 15): on Lua 5.1 and LuaJIT, where a C
-- function cannot go on after a yield, a task that waits really yields
-- (compat.c re-issues the call on wake-up), so tasks interleave and a slow
-- peer holds up only its own task, as on 5.2 and later. Before, a task
-- there blocked the whole scheduler in poll().
local socket = require("socket")
local co = require("socket.co")

local pack = table.pack or function(...) return { n = select("#", ...), ... } end

local function tpair()
  local s = assert(socket.bind("127.0.0.1", 0))
  local _, port = s:getsockname()
  local c = assert(socket.connect("127.0.0.1", port))
  local p = assert(s:accept())
  s:close()
  c:settimeout(5)
  p:settimeout(5)
  return c, p
end

local function runall(limit)
  local ok, err = co.run(limit or 10)
  assert(ok == true, "co.run: " .. tostring(err))
end

describe("socket.co on " .. (rawget(_G, "jit") and "LuaJIT" or _VERSION), function()
  after_each(function() co.onerror = nil end)

  it("two tasks interleave: each yields in receive, the other one runs", function()
    local c1, p1 = tpair()
    local c2, p2 = tpair()
    local log = {}
    co.spawn(function()
      log[#log + 1] = "a waits"
      local line = assert(c1:receive())
      log[#log + 1] = "a got " .. line
      assert(p2:send("for b\n"))
    end)
    co.spawn(function()
      log[#log + 1] = "b waits"
      assert(p1:send("for a\n"))
      local line = assert(c2:receive())
      log[#log + 1] = "b got " .. line
    end)
    runall()
    assert.are.same({ "a waits", "b waits", "a got for a", "b got for b" }, log)
    c1:close() p1:close() c2:close() p2:close()
  end)

  it("a slow peer holds up only its own task", function()
    local slow, slowpeer = tpair()
    local fast, fastpeer = tpair()
    local t0, fastdone, slowdone = socket.gettime(), nil, nil
    co.spawn(function()                      -- waits for a peer that answers late
      assert.are.equal("late", slow:receive())
      slowdone = socket.gettime() - t0
    end)
    co.spawn(function()                      -- 20 round trips meanwhile
      for i = 1, 20 do
        assert(fastpeer:send(i .. "\n"))
        assert.are.equal(tostring(i), fast:receive())
      end
      fastdone = socket.gettime() - t0
    end)
    co.spawn(function()
      socket.sleep(0.5)
      assert(slowpeer:send("late\n"))
    end)
    runall()
    assert.is_true(fastdone < 0.4, "the fast task took " .. fastdone .. " s")
    assert.is_true(slowdone >= 0.45, "the slow task took " .. slowdone .. " s")
    slow:close() slowpeer:close() fast:close() fastpeer:close()
  end)

  it("a receive that waits twice keeps its progress (partial line, then the rest)", function()
    local c, p = tpair()
    local got
    co.spawn(function() got = pack(c:receive(10)) end)
    co.spawn(function()
      assert(p:send("hello"))
      socket.sleep(0.05)
      assert(p:send("world!"))
    end)
    runall()
    assert.are.same({ n = 3, "helloworld" }, got)
    c:close() p:close()
  end)

  it("socket.protect waits inside: nested, with a plain yield, co.running, a try after the wait", function()
    local c, p = tpair()
    local log, res, me, inside = {}, nil, nil, nil
    co.spawn(function()
      me = co.running()
      local f = socket.protect(function()
        inside = co.running()
        local v = coroutine.yield()
        log[#log + 1] = "yield " .. tostring(v)
        local line = socket.try(c:receive())
        local g = socket.protect(function() return socket.try(c:receive()) end)
        local second = g()
        c:settimeout(0.05)
        socket.try(c:receive())              -- nothing more: timeout, after the wait
        return "unreached", line, second
      end)
      res = pack(f())
    end)
    co.spawn(function()
      log[#log + 1] = "sender"
      assert(p:send("one\n"))
      socket.sleep(0.05)
      log[#log + 1] = "sender again"
      assert(p:send("two\n"))
    end)
    runall()
    assert.are.same({ n = 2, nil, "timeout" }, res)
    assert.are.equal(me, inside)
    assert.are.same({ "sender", "yield nil", "sender again" }, log)
    c:close() p:close()
  end)

  it("a call parked inside socket.protect holds its direction: another task is told 'socket busy reading'", function()
    local c, p = tpair()
    local first, second
    co.spawn(function()
      first = pack(socket.protect(function() return socket.try(c:receive()) end)())
    end)
    co.spawn(function()
      second = pack(c:receive())
      assert(p:send("line\n"))
    end)
    runall()
    assert.are.same({ n = 3, "line" }, first)
    assert.are.same({ n = 3, nil, "socket busy reading", "" }, second)
    c:close() p:close()
  end)

  it("a misused method in a task raises as outside one, naming the method and the caller", function()
    local c, p = tpair()
    local err
    co.spawn(function()
      local _
      _, err = pcall(function() c:receive({}) end)
    end)
    runall()
    assert.matches("co_everylua_spec.lua:%d+: bad argument #1 to 'receive' %(invalid receive pattern%)", err)
    c:close() p:close()
  end)

  it("a task whose wait was under protect and whose peer closed ends cleanly; the scheduler is empty", function()
    local c, p = tpair()
    local res
    co.spawn(function()
      res = pack(socket.protect(function() return socket.try(c:receive("*a")) end)())
    end)
    co.spawn(function()
      assert(p:send("all of it"))
      p:close()
    end)
    runall()
    assert.are.same({ n = 3, "all of it" }, res)
    assert.are.equal(0, co.step(0))
    c:close()
  end)
end)
