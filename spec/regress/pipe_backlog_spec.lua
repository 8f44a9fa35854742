-- Regression (issue 16, Windows named pipes): bind's backlog was not used.
-- Every client that connected was bridged (two threads and their buffers)
-- and queued until accept took it, so clients that connect and never get
-- accepted cost without limit (200: 188 threads, about 220 MB). Now the
-- listening thread waits for accept once `backlog` clients are queued, as
-- a full listen queue does: one more client can open the waiting
-- instance, later ones find the pipe busy until accept makes room.
-- Windows only: on Linux the kernel's listen queue does this.
local H = require("helper")
if not H.WINDOWS then   -- make test-windows runs these, under Wine
  pending("Windows only: make test-windows")
  return
end
local socket = require("socket")
local pipe = require("socket.pipe")

describe("regress: a named pipe's backlog", function()
  it("bounds the clients queued before accept; accept makes room", function()
    local n = ("netsocket-backlog-%d-%d"):format(H.pid(), math.floor(socket.gettime() * 1000) % 1000000)
    local srv = assert(pipe.bind(n, 2))
    srv:settimeout(5)
    local clients, errs = {}, {}
    for i = 1, 8 do
      local c, err = pipe.connect(n, 0.3)
      if c then clients[#clients + 1] = c else errs[#errs + 1] = err end
      if i == 1 then socket.sleep(0.1) end     -- the listener queues the first
    end
    assert.is_true(#clients >= 2 and #clients <= 3, #clients .. " clients connected")
    for _, err in ipairs(errs) do assert.equal("timeout", err) end
    -- each connected client is accepted in turn and talks
    for i, c in ipairs(clients) do
      local a = assert(srv:accept())
      a:settimeout(5)
      c:settimeout(5)
      assert(c:send("hello " .. i .. "\n"))
      assert.matches("^hello %d$", a:receive())
      a:close()
      c:close()
    end
    -- with room again, a new client gets in
    local c = assert(pipe.connect(n, 5))
    local a = assert(srv:accept())
    a:close()
    c:close()
    srv:close()
  end)

  it("takes any number for the backlog", function()
    for _, bl in ipairs({ 0, -5, 0 / 0, 1e300, 1.5 }) do
      local n = ("netsocket-backlog-%d-%d"):format(H.pid(), math.floor(socket.gettime() * 1000) % 1000000)
      local srv = assert(pipe.bind(n, bl))
      srv:settimeout(5)
      local c = assert(pipe.connect(n, 5))
      local a = assert(srv:accept())
      a:close()
      c:close()
      srv:close()
    end
  end)
end)
