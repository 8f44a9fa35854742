-- Regression: receivesome(max, timeout) points b->tm at a stack-local
-- `percall` timeout (src/buffer.c buffer_meth_receivesome) and restores it
-- only after buffer_more returns. buffer_more can raise (buffer_reserve's
-- luaL_error "not enough memory" when growing to 256 KiB), which longjmps
-- past the restore: the object keeps a dangling pointer into a dead C frame,
-- and every later receive/send on it reads (and timeout_markstart writes)
-- that dead stack memory instead of the object's own timeouts.
--
-- The child squeezes its address space with `ulimit -v` so that the 256 KiB
-- growth fails while small allocations still succeed; then it checks that
-- settimeout(0.5) still governs receive. Not run under the ASan interpreter
-- (ASan cannot start under a small RLIMIT_AS).
local H = require("helper")

local CHILD = [[
local srv = assert(socket.bind("127.0.0.1", 0))
local _, port = srv:getsockname()
local c = assert(socket.connect("127.0.0.1", port))
local p = assert(srv:accept())
local hog, small = {}, {}
for _, sz in ipairs({1 << 20, 1 << 16, 1 << 12, 1 << 8}) do
  local dst = sz >= (1 << 16) and hog or small
  for _ = 1, 100000 do
    local ok, s = pcall(string.rep, "x", sz - 40)
    if not ok then break end
    dst[#dst + 1] = s
  end
end
small = nil
collectgarbage()
local ok, err = pcall(c.receivesome, c, 1e6, 0.05)   -- per-call timeout; growth fails
hog = nil
collectgarbage()
io.write("receivesome:", tostring(ok), ":", tostring(err), "\n")
c:settimeout(0.5)
local t0 = socket.gettime()
local r, e = c:receive(1)
io.write("receive:", tostring(r), ":", tostring(e), string.format(":%.3f", socket.gettime() - t0), "\n")
c:close() p:close() srv:close()
io.write("SURVIVED\n")
]]

describe("regress: receivesome per-call timeout and errors", function()
  it("an error inside receivesome(max, t) leaves the object's own timeouts in force", function()
    if os.getenv("NETSOCKET_LUA") then
      pending("needs ulimit -v, which the ASan interpreter cannot run under")
      return
    end
    local out = H.childsh("ulimit -v 100000 && timeout 20", CHILD):wait()
    assert.matches("receivesome:false:not enough memory", out, 1, true)   -- precondition
    assert.matches("SURVIVED", out, 1, true)
    local r, e, took = out:match("receive:([^:]*):([^:]*):([%d.]+)")
    assert.equal("nil", r)
    assert.equal("timeout", e)
    took = tonumber(took)
    assert.is_true(took >= 0.4 and took < 3,
      "receive with settimeout(0.5) returned after " .. tostring(took) .. " s")
  end)
end)
