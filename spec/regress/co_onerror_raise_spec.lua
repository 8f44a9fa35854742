-- If co.onerror raises, its error leaves co.step/co.run and the other tasks
-- of that step stay queued (doc/co.md). They used to be lost while still
-- counted as live, and a later co.run failed inside co.lua.
local co = require("socket.co")

describe("co.onerror that raises", function()
  after_each(function() co.onerror = nil end)

  it("leaves the rest of the step queued for the next one", function()
    local ran = {}
    co.onerror = function(_, e) error("handler: " .. e, 0) end
    co.spawn(function() error("boom", 0) end)
    co.spawn(function() ran[#ran + 1] = "b" end)
    co.spawn(function() ran[#ran + 1] = "c" end)
    local ok, err = pcall(co.step, 0)
    assert.is_false(ok)
    assert.equal("handler: boom", err)
    assert.same({}, ran)
    co.onerror = nil
    assert.equal(0, co.step(0))
    assert.same({ "b", "c" }, ran)
    assert.is_true(co.run(1))
  end)

  it("twice in one step: each raise leaves the step, and nothing is lost", function()
    local ran = {}
    co.onerror = function(_, e) error(e, 0) end
    co.spawn(function() error("e1", 0) end)
    co.spawn(function() ran[#ran + 1] = 1 end)
    co.spawn(function() error("e2", 0) end)
    co.spawn(function() ran[#ran + 1] = 2; coroutine.yield(); ran[#ran + 1] = 3 end)
    local errs = {}
    for _ = 1, 10 do
      local ok, res = pcall(co.run, 1)
      if ok then break end
      errs[#errs + 1] = res
    end
    assert.same({ "e1", "e2" }, errs)
    assert.same({ 1, 2, 3 }, ran)
    assert.is_true(co.run(1))
  end)
end)
