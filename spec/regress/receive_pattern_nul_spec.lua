-- Regression (found by fuzz/receive): the one-letter patterns "l", "a" and
-- "L" were recognised with C string tests, so "l\0", "a\0x" or "L\0" (Lua
-- strings with an embedded zero) were taken for them instead of raising
-- "invalid receive pattern" (API.md §4.3: anything else raises).
local H = require("helper")

describe("regress: receive patterns with an embedded zero byte", function()
  local c, p
  before_each(function()
    c, p = H.pair()
    c:settimeout(0)
  end)
  after_each(function()
    c:close()
    p:close()
  end)

  for _, pat in ipairs({ "l\0", "a\0", "L\0", "l\0l", "a\0x" }) do
    it(("raises for %q and consumes nothing"):format(pat), function()
      assert(p:send("line\n"))
      H.raises(function() return c:receive(pat) end, {}, "bad argument #1 to 'receive' (invalid receive pattern)")
      c:settimeout(1)
      assert.are.same({ "line", nil, nil, n = 3 }, table.pack(c:receive("l")))
    end)
  end

  it("still takes \"l\", \"L\" and \"a\" and the \"*l\\0\" family (first two bytes count)", function()
    assert(p:send("one\r\ntwo\nthree\n"))
    c:settimeout(1)
    assert.are.same({ "one", nil, nil, n = 3 }, table.pack(c:receive("l")))
    assert.are.same({ "two\n", nil, nil, n = 3 }, table.pack(c:receive("L")))
    assert.are.same({ "three", nil, nil, n = 3 }, table.pack(c:receive("*l\0junk")))
    p:close()
    assert.are.same({ nil, "closed", "", n = 3 }, table.pack(c:receive("a")))
  end)
end)
