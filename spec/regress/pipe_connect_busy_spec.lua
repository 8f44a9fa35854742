-- Regression (issue 16, Windows named pipes): pipe.connect(name, timeout)
-- on a pipe whose instances are all busy waits (WaitNamedPipe) until the
-- timeout. Its deadline was GetTickCount64() + (ULONGLONG) (timeout * 1000):
-- math.huge (or any timeout past 2^64 ms) converted out of range and gave a
-- deadline in the past, so the connect said "timeout" at once.
-- Windows only: a closed unix server leaves no name to be busy.
local H = require("helper")
if not H.WINDOWS then   -- make test-windows runs these, under Wine
  pending("Windows only: make test-windows")
  return
end
local socket = require("socket")
local pipe = require("socket.pipe")

local CHILD = [[
local pipe = require("socket.pipe")
local n, port = arg[1], tonumber(arg[2])
local srv = assert(pipe.bind(n))
srv:settimeout(10)
local c = assert(pipe.connect(n, 10))        -- the one instance, taken
local a = assert(srv:accept())
srv:close()                                  -- no instance listens: busy
local t = assert(socket.connect("127.0.0.1", port))
t:send("ready\n")
socket.sleep(1)
c:close() a:close() t:close()
]]

describe("regress: pipe.connect to a busy pipe", function()
  for _, timeout in ipairs({ math.huge, 1e300, 2 ^ 70 }) do
    it(("with timeout %g waits until the pipe goes away"):format(timeout), function()
      local n = ("netsocket-busy-%d-%d"):format(H.pid(), math.floor(socket.gettime() * 1000) % 1000000)
      local tcp = assert(socket.bind("127.0.0.1", 0))
      local _, port = tcp:getsockname()
      tcp:settimeout(60)
      local child = H.child(CHILD, n, port)
      local t = assert(tcp:accept())
      t:settimeout(30)
      assert.equal("ready", t:receive())
      local t0 = socket.gettime()
      local c, err = pipe.connect(n, timeout)
      local took = socket.gettime() - t0
      if c then c:close() end
      t:close()
      tcp:close()
      child.wait()
      assert.same({ nil, "No such file or directory" }, { c and "a client" or nil, err })
      assert.is_true(took >= 0.5, "returned after " .. took .. " s")
    end)
  end
end)
