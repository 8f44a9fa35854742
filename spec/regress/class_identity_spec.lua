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
end)
