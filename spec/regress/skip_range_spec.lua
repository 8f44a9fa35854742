-- Regression: socket.skip (src/core.c core_skip) computes
-- `lua_gettop(L) - amount - 1` with amount = (int) luaL_checkinteger(...).
-- A negative d makes the C function return more results than it has on its
-- stack (Lua then reads below the frame, and below the stack block for a
-- large d: SEGV / ASan); a d outside int range is truncated, so
-- skip(2^32+1, "a", "b") returns "b" instead of nothing.
local socket = require("socket")
local H = require("helper")

describe("regress: socket.skip argument range", function()
  it("skip(2^32+1, 'a', 'b') returns nothing (d larger than the argument count)", function()
    assert.equal(0, select("#", socket.skip(4294967297, "a", "b")))
  end)

  it("skip(math.maxinteger, 'a') returns nothing", function()
    assert.equal(0, select("#", socket.skip(math.maxinteger, "a")))
  end)

  it("a negative d never returns more values than were passed", function()
    local out = H.child([[
      local n = select("#", socket.skip(-3, "a"))
      io.write("n=", n, "\n")
      io.write("SURVIVED\n")
    ]]):wait()
    assert.matches("SURVIVED", out, 1, true)
    local n = tonumber(out:match("n=(%d+)"))
    assert.is_true(n ~= nil and n <= 2, "skip(-3,'a') returned " .. tostring(n) .. " values: " .. out)
  end)

  it("a large negative d does not read below the Lua stack", function()
    local out = H.child([[
      pcall(socket.skip, -100000)
      io.write("SURVIVED\n")
    ]]):wait()
    assert.matches("SURVIVED", out, 1, true)
  end)
end)
