-- samples/dns_lookup.lua: non-blocking lookups of the names on its command
-- line. No DNS traffic may leave the machine: the only name resolved is
-- "localhost", and only as IPv4 (-4; it is in /etc/hosts); everything else
-- is a numeric address or a name that fails locally (the empty name).
local H = require("helper")

local root = debug.getinfo(1, "S").source:match("^@(.-)spec/[^/]*$") or ""
local SAMPLE = root .. "samples/dns_lookup.lua"

local function run(args)
  return H.sh(("timeout 60 %s '%s' %s"):format(H.LUA, SAMPLE, args))
end

local function lines(out)
  local t = {}
  for l in out:gmatch("[^\n]+") do t[#t + 1] = l end
  return t
end

describe("samples/dns_lookup.lua", function()
  it("starts every lookup at once, then reports each answer as it arrives", function()
    local out, ok = run("-4 localhost 127.0.0.1 10.1.2.3")
    assert.is_true(ok, out)
    local l = lines(out)
    -- Started in order; a numeric lookup may already be done when its
    -- first status is printed (a worker thread can win the race).
    for i, name in ipairs({ "localhost", "127.0.0.1", "10.1.2.3" }) do
      assert.truthy(l[i] == name .. ": waiting" or l[i] == name .. ": success", l[i])
    end
    local answers = {}
    for i = 4, #l - 1 do
      local name, what = l[i]:match("^%[%d+%.%d%d%d s%] (%S+): (.*)$")
      assert.truthy(name, l[i])
      answers[name] = what
    end
    assert.are.same({ localhost = "127.0.0.1 (inet)", ["127.0.0.1"] = "127.0.0.1 (inet)",
                      ["10.1.2.3"] = "10.1.2.3 (inet)" }, answers)
    assert.are.equal("dns_lookup: 3 resolved, 0 failed", l[#l])
  end)

  it("gives both families by default and one with -6", function()
    local out, ok = run("127.0.0.1 ::1")
    assert.is_true(ok, out)
    assert.truthy(out:find("] 127.0.0.1: 127.0.0.1 (inet)\n", 1, true), out)
    assert.truthy(out:find("] ::1: ::1 (inet6)\n", 1, true), out)
    out, ok = run("-6 ::1")
    assert.is_true(ok, out)
    assert.truthy(out:find("] ::1: ::1 (inet6)\n", 1, true), out)
  end)

  it("reports failures with the resolver's text and exits 1", function()
    local out, ok = run("-6 127.0.0.1 ::1 ''")
    assert.is_false(ok)
    assert.truthy(out:find("] 127.0.0.1: failed (Address family for hostname not supported)\n", 1, true), out)
    assert.truthy(out:find('] "": failed (host or service not provided, or not known)\n', 1, true), out)
    assert.truthy(out:find("] ::1: ::1 (inet6)\n", 1, true), out)
    assert.matches("dns_lookup: 1 resolved, 2 failed\n$", out)
  end)

  it("cancels the lookups still open when its time limit (-t) is up", function()
    local out, ok = run("-t 0 127.0.0.1")             -- no time at all: cancelled at once
    assert.is_false(ok)
    assert.truthy(out:find("] 127.0.0.1: failed (cancelled)\n", 1, true), out)
    assert.matches("dns_lookup: 0 resolved, 1 failed\n$", out)
  end)

  it("prints its usage and exits 2 without names or with a bad -t", function()
    for _, args in ipairs({ "", "-4", "-t soon 127.0.0.1" }) do
      local out, ok = run(args)
      assert.is_false(ok)
      assert.matches("^usage: ", out)
    end
  end)
end)
