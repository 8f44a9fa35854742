-- socket._headfields, socket._headfield and receivehead(max, maxfields,
-- raw) called directly with hostile arguments: a Lua error naming the
-- argument, or a clean result; never a crash or a read out of bounds (run
-- under `make asan` too). Bounded: a fixed count of generated inputs.
local socket = require("socket")
local H = require("helper")

local function rnd(seed)
  local x = seed
  return function(n)
    x = (x * 1103515245 + 12345) % 2147483648
    return x % n
  end
end

local ALPHA = { "a", "A", "h", "o", "s", "t", "H", "-", ":", " ", "\t", "\r", "\n", "\0", "\255", "x", "\r\n" }

local function gen(r, len)
  local t = {}
  for i = 1, len do t[i] = ALPHA[r(#ALPHA) + 1] end
  return table.concat(t)
end

describe("regress: header helpers with hostile arguments", function()
  it("_headfields: a table or an argument error, for 3,000 generated strings", function()
    local r = rnd(7)
    for _ = 1, 3000 do
      local s = gen(r, r(40))
      local ok, v = pcall(socket._headfields, s)
      if ok then
        assert.are.equal("table", type(v), ("%q"):format(s))
      else
        assert.truthy(tostring(v):find("bad argument #1 to '.-' %(not HTTP field lines%)"), ("%q: %s"):format(s, tostring(v)))
      end
    end
  end)

  it("_headfield: a string or nil, for 3,000 generated lines and names", function()
    local r = rnd(11)
    for _ = 1, 3000 do
      local s, name = gen(r, r(40)), gen(r, r(6))
      local v = socket._headfield(s, name)
      assert.truthy(v == nil or type(v) == "string", ("%q %q"):format(s, name))
      if v ~= nil then assert.falsy(name:find("[^%w!#$%%&'*+%-.^_`|~]"), ("%q %q"):format(s, name)) end
    end
  end)

  it("_headfield names no field for a name that is not a token", function()
    local lines = "Host::b\r\nA:b: c\r\nX a: no\r\n: d\r\n"
    for _, name in ipairs({ "host:", "a:b", ":", "", "x a", "a\0", "a ", " a" }) do
      assert.is_nil(socket._headfield(lines, name), ("%q"):format(name))
    end
    assert.are.equal(":b", socket._headfield(lines, "host"))
    assert.are.equal("b: c", socket._headfield(lines, "a"))
  end)

  it("wrong types name the argument", function()
    for _, arg in ipairs({ false, {}, true, print }) do
      local ok, err = pcall(socket._headfields, arg)
      assert.is_false(ok)
      assert.truthy(err:find("bad argument #1", 1, true), err)
    end
    assert.is_false((pcall(socket._headfields)))
    for _, args in ipairs({ { "a: b" }, { {}, "a" }, { "a: b", {} }, { "a: b", nil }, { nil, "a" } }) do
      local ok, err = pcall(socket._headfield, args[1], args[2])
      assert.is_false(ok)
      assert.truthy(err:find("bad argument #[12]"), err)
    end
    assert.are.equal("b", socket._headfield("1: b", 1))          -- numbers are strings to the C API
    assert.is_nil(socket._headfield(123, "a"))
    assert.are.same({ ["1"] = "2" }, socket._headfields("1:2"))
  end)

  it("receivehead's limits and raw flag: errors naming the argument, or a head", function()
    local c, p = H.pair()
    p:settimeout(0.2)
    for _, args in ipairs({ { "x" }, { 0 }, { -1 }, { 1, 0 }, { nil, -5 }, { {} }, { nil, {} }, { 0 / 0 },
                            { 1.5 }, { math.huge }, { nil, math.huge } }) do
      local ok, err = pcall(p.receivehead, p, args[1], args[2], true)
      assert.is_false(ok, tostring(args[1]) .. " " .. tostring(args[2]))
      assert.truthy(err:find("bad argument #[23]"), err)
    end
    local huge = math.maxinteger or 2 ^ 53
    for _, raw in ipairs({ true, 1, "x", {}, false, nil }) do
      c:send("GET / HTTP/1.1\r\nHost: a\r\n\r\n")
      local m, t, v, f, simple = p:receivehead(huge, huge, raw)
      assert.are.same({ "GET", "/", "HTTP/1.1" }, { m, t, v })
      if raw then
        assert.are.same({ "Host: a\r\n", true }, { f, simple })
      else
        assert.are.same({ host = "a" }, f)
      end
    end
    c:send("GET / HTTP/1.1\r\nHost: a\r\n")
    assert.are.same({ nil, "request line too long" }, { p:receivehead(1, 1, true) })
    assert.are.same({ nil, "timeout" }, { p:receivehead(4096, 10, true) })   -- the bytes stay buffered
    c:close(); p:close()
  end)

  it("receivehead raw in a task, the head in pieces across waits: the counts start anew each time", function()
    local co = require("socket.co")
    local c, p = H.pair()
    local got = {}
    local heads = { "GET / HTTP/1.1\r\nHost: a\r\nX: y\r\n\r\n",
                    "GET / HTTP/1.1\r\nHost: a\r\nX: y\r\nContent-Length: 0\r\n\r\n",
                    "GET / HTTP/1.1\r\nHost: a\r\nhost: a\r\n\r\n",
                    "GET / HTTP/1.1\r\nX: y\r\nHost: a\r\n\r\n" }
    co.spawn(function()
      p:settimeout(2)
      for i = 1, #heads do got[i] = { select(4, p:receivehead(nil, nil, true)) } end
    end)
    co.spawn(function()
      for _, h in ipairs(heads) do
        for j = 1, #h, 2 do
          c:send(h:sub(j, j + 1))
          socket.sleep(0.001)
        end
      end
    end)
    assert.is_true(co.run(10))
    assert.are.same({ { "Host: a\r\nX: y\r\n", true }, { "Host: a\r\nX: y\r\nContent-Length: 0\r\n", false },
                      { "Host: a\r\nhost: a\r\n", false }, { "X: y\r\nHost: a\r\n", true } }, got)
    c:close(); p:close()
  end)
end)
