-- Regression: the C side must never treat a foreign userdata as a tcp object.
-- tcp_gc (src/tcp.c, used for __gc and __close) takes lua_touserdata(L, 1)
-- with no type check, and class_testgroup (src/class.c) accepts any userdata
-- whose metatable merely has a truthy "tcp{any}" key. Both are reachable from
-- plain Lua (no debug library), and both end in out-of-bounds reads/writes
-- and a free() of a garbage pointer. Each case runs in a child process so a
-- crash (or an ASan report under `make asan`) cannot take busted down.
local H = require("helper")

local function run(code)
  local out, ok = H.child(code .. "\nio.write('SURVIVED\\n')\n"):wait()
  return out, ok
end

describe("regress: class identity of self", function()
  it("__gc of a tcp metatable refuses a foreign userdata (no wild free)", function()
    local out = run([[
      local mt = getmetatable(socket.tcp())
      local f = assert(io.tmpfile())
      pcall(mt.__gc, f)                       -- may raise or ignore; must not touch f
      assert(f:write("x")); assert(f:seek("set", 0)); assert(f:read("a") == "x")
      f:close()
    ]])
    assert.matches("SURVIVED", out, 1, true)
  end)

  it("__close of a tcp metatable refuses a foreign userdata", function()
    local out = run([[
      local mt = getmetatable(socket.tcp())
      local f = assert(io.tmpfile())
      pcall(mt.__close, f, nil)
      assert(f:write("x")); assert(f:seek("set", 0)); assert(f:read("a") == "x")
      f:close()
    ]])
    assert.matches("SURVIVED", out, 1, true)
  end)

  it("a foreign userdata whose metatable gained a 'tcp{any}' key is still not a tcp", function()
    local out = run([[
      local f = assert(io.tmpfile())
      getmetatable(f)["tcp{any}"] = true      -- the FILE* metatable, from plain Lua
      local ok1 = pcall(socket.tcp().getfd, f)
      local ok2 = pcall(socket.tcp().close, f)
      io.write("getfd:", tostring(ok1), " close:", tostring(ok2), "\n")
      getmetatable(f)["tcp{any}"] = nil
    ]])
    assert.matches("SURVIVED", out, 1, true)
    assert.matches("getfd:false close:false", out, 1, true)
  end)

  -- src/class.c's fast path keeps a record in each metatable under a
  -- light-userdata key, which pairs() reaches: copied whole into a foreign
  -- metatable, it must not make the foreign userdata pass (the record holds
  -- its own metatable's address).
  it("a foreign userdata whose metatable got every key of a socket metatable is still not one", function()
    local out = run([[
      local f = assert(io.tmpfile())
      local fmt = getmetatable(f)
      local copied = 0
      for _, obj in ipairs({ socket.tcp(), socket.udp() }) do
        for k, v in pairs(getmetatable(obj)) do
          if fmt[k] == nil then fmt[k] = v; copied = copied + 1 end
        end
      end
      local u = socket.udp()
      local ok1 = pcall(u.getfd, f)
      local ok2 = pcall(u.send, f, "x")
      local ok3 = pcall(u.receive, f)
      local ok4 = pcall(socket.tcp().getfd, f)
      io.write("copied:", tostring(copied > 2), " getfd:", tostring(ok1), " send:", tostring(ok2),
        " receive:", tostring(ok3), " tcp:", tostring(ok4), "\n")
    ]])
    assert.matches("SURVIVED", out, 1, true)
    assert.matches("copied:true getfd:false send:false receive:false tcp:false", out, 1, true)
  end)
  -- With the debug library (lower stakes: it can break anything), light
  -- userdata, which share one metatable, can be given one of ours; the
  -- record's key (a light userdata) is at hand through pairs. No method
  -- may take a light userdata for its object: lua_touserdata returns the
  -- bare pointer, and the method then reads and writes behind it.
  it("a light userdata given one of our metatables (debug.setmetatable) passes no check", function()
    if not debug or not debug.setmetatable then return pending("no debug library") end
    local out = run([[
      local objs = { socket.tcp(), socket.udp(), assert(socket.signal("INT")), assert(socket.poller()),
        assert(socket.bind("127.0.0.1", 0)) }
      local K
      for k in pairs(getmetatable(objs[1])) do if type(k) == "userdata" then K = k end end
      assert(K, "no light-userdata key")
      local n, passed = 0, {}
      for _, o in ipairs(objs) do
        local mt = getmetatable(o)
        debug.setmetatable(K, mt)
        for name, f in pairs(mt.__index) do
          if type(f) == "function" then
            n = n + 1
            if pcall(f, K, 1, 1) then passed[#passed + 1] = tostring(mt.__name) .. "." .. name end
          end
        end
        for _, m in ipairs({ "__gc", "__close" }) do if mt[m] then pcall(mt[m], K) end end
        debug.setmetatable(K, nil)
      end
      io.write("calls:", tostring(n > 50), " passed:[", table.concat(passed, ","), "]\n")
    ]])
    assert.matches("SURVIVED", out, 1, true)
    assert.matches("calls:true passed:[]", out, 1, true)
  end)
end)
