-- Large results handed over whole (issue 15, 5.5): on Lua 5.5 a receive
-- whose result is the whole of a large heap buffer gives that block to Lua
-- as the string (lua_pushexternalstring, no copy) and the buffer starts
-- afresh; on other versions the bytes are copied. Either way the results
-- are exact, the socket goes on working, and the strings outlive the
-- buffer and are freed once (valgrind/ASan runs of this file).
local co = require("socket.co")
local H = require("helper")

-- Runs send() in one task and recv() in another; returns recv's results.
local function both(send, recv)
  local res
  co.spawn(send)
  co.spawn(function() res = { recv() } end)
  assert.is_true(co.run(30))
  return res
end

local function pattern(n)
  local t, i = {}, 0
  while i * 16 < n do
    t[#t + 1] = string.format("%015d\n", i)
    i = i + 1
  end
  return table.concat(t):sub(1, n)
end

describe("regress: large receive results", function()
  it("*a, receive(n) and receivesome give exact bytes and leave a working socket", function()
    local kept = {}
    for _, n in ipairs({ 65535, 65536, 300000, 4 * 1024 * 1024 + 3 }) do
      local a, b = H.pair()
      a:settimeout(10) b:settimeout(10)
      local d = pattern(n)
      local got = both(function() assert(a:send(d)); a:shutdown("send") end,
                       function() return assert(b:receive("*a")) end)[1]
      assert.is_true(got == d, "*a of " .. n)
      kept[#kept + 1] = got
      b:close() a:close()

      a, b = H.pair()
      a:settimeout(10) b:settimeout(10)
      got = both(function() assert(a:send(d .. "tail\n")) end,
                 function() return assert(b:receive(n)) end)[1]
      assert.is_true(got == d, "receive(" .. n .. ")")
      assert.equal("tail", (b:receive("*l")))
      kept[#kept + 1] = got
      local parts, total = {}, 0
      both(function() assert(a:send(d)) end, function()
        while total < n do
          local s = assert(b:receivesome(n))
          parts[#parts + 1] = s
          total = total + #s
        end
      end)
      assert.is_true(table.concat(parts) == d, "receivesome of " .. n)
      assert(a:send("after\n"))
      assert.equal("after", (b:receive("*l")))
      b:close() a:close()
    end
    collectgarbage()
    for i = #kept, 1, -1 do
      assert.is_true(#kept[i] >= 65535)
      kept[i] = nil                      -- the strings go: each block is freed once
    end
    collectgarbage()
    collectgarbage()
  end)
end)
