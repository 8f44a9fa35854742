-- socket.pipe on Windows: real named pipes (\\.\pipe\<name>) bridged to
-- loopback stream sockets (src/os/win/wpipe.c): the same results as over
-- unix sockets, in socket.select and in socket.co tasks.
if package.config:sub(1, 1) ~= "\\" then   -- make test-windows runs these, under Wine
  pending("Windows only: make test-windows")
  return
end
local socket = require("socket")
local pipe = require("socket.pipe")

local seq = 0
local function name()
  seq = seq + 1
  return ("netsocket-spec-%d-%d"):format(math.floor(socket.gettime() * 1000) % 1000000, seq)
end

local open = {}
local function track(o) open[#open + 1] = o; return o end

local function trio()
  local n = name()
  local srv = track(assert(pipe.bind(n)))
  srv:settimeout(5)
  local c = track(assert(pipe.connect(n, 5)))
  local a = track(assert(srv:accept()))
  c:settimeout(5)
  a:settimeout(5)
  return srv, c, a, n
end

describe("socket.pipe on Windows named pipes", function()
  after_each(function()
    for i = #open, 1, -1 do open[i]:close(); open[i] = nil end
  end)

  it("binds, connects and accepts; receive patterns and send ranges", function()
    local srv, c, a = trio()
    assert.matches("^namedpipe{server}: ", tostring(srv))
    assert.equal(6, c:send("hello\nworld\r\nXYZabc", 1, 6))
    assert.equal(19, c:send("hello\nworld\r\nXYZabc", 7))
    assert.equal("hello", a:receive())
    assert.equal("world", a:receive("*l"))
    assert.equal("XYZ", a:receive(3))
    assert.equal("abc", a:receivesome(10))
    a:send(string.rep("x", 100000))
    assert.equal(100000, #c:receive(100000))
    c:close()
    assert.same({ nil, "closed", "" }, { a:receive() })
  end)

  it("receive *a ends at the peer's close, with every byte", function()
    local _, c, a = trio()
    local big = string.rep("0123456789", 50000)
    assert.equal(#big, a:send(big))
    a:close()
    assert.equal(big, c:receive("*a"))
  end)

  it("times out, keeps the partial result and reports dirty", function()
    local _, c, a = trio()
    a:settimeout(0.1)
    c:send("partial")
    local t0 = socket.gettime()
    assert.same({ nil, "timeout", "partial" }, { a:receive("*l") })
    assert.is_true(socket.gettime() - t0 >= 0.09)
    c:send(" line\nrest")
    assert.equal("line", a:receive("*l", "x"):sub(-4))
    assert.is_true(a:dirty())
  end)

  it("accept times out, and works in socket.select", function()
    local n = name()
    local srv = track(assert(pipe.bind(n)))
    srv:settimeout(0.1)
    assert.same({ nil, "timeout" }, { srv:accept() })
    local r = socket.select({ srv }, nil, 0.05)
    assert.equal(0, #r)
    local c = track(assert(pipe.connect(n, 5)))
    r = socket.select({ srv }, nil, 5)
    assert.equal(srv, r[1])
    local a = track(assert(srv:accept()))
    c:send("ping\n")
    r = socket.select({ a }, nil, 5)
    assert.equal(a, r[1])
    assert.equal("ping", a:receive())
  end)

  it("serves clients inside socket.co tasks", function()
    local co = require("socket.co")
    local n = name()
    local srv = track(assert(pipe.bind(n)))
    srv:settimeout(5)
    local got = {}
    co.spawn(function()
      for _ = 1, 3 do
        local a = assert(srv:accept())
        co.spawn(function()
          a:settimeout(5)
          local line = a:receive()
          a:send(line:upper() .. "\n")
          a:close()
        end)
      end
    end)
    for i = 1, 3 do
      co.spawn(function()
        local c = assert(pipe.connect(n, 5))
        c:settimeout(5)
        c:send("client " .. i .. "\n")
        got[i] = c:receive()
        c:close()
      end)
    end
    assert.is_true(co.run(10))
    assert.same({ "CLIENT 1", "CLIENT 2", "CLIENT 3" }, got)
  end)

  it("gives the unix errors: name in use, no such pipe, closed objects", function()
    local n = name()
    local srv = track(assert(pipe.bind(n)))
    assert.same({ nil, "address already in use" }, { pipe.bind(n) })
    assert.same({ nil, "No such file or directory" }, { pipe.connect(name(), 0.2) })
    srv:close()
    assert.same({ nil, "closed" }, { srv:accept() })
    assert.same({ nil, "No such file or directory" }, { pipe.connect(n, 0.2) })
    assert.has_error(function() pipe.bind(42) end, "bad argument #1 to 'bind' (string expected, got number)")
  end)

  it("after the peer closed: its last bytes, then 'closed' for receive and soon for send", function()
    local _, c, a = trio()
    c:send("last words\n")
    c:close()
    assert.equal("last words", a:receive())
    assert.same({ nil, "closed", "" }, { a:receive() })
    local sent, err
    for _ = 1, 50 do                      -- the first sends may still be taken
      sent, err = a:send("anyone?\n")
      if not sent then break end
      socket.sleep(0.02)
    end
    assert.same({ nil, "closed" }, { sent, err })
  end)

  it("is a real named pipe: cmd.exe's echo, redirected to it, is a client", function()
    local n = name()
    local srv = track(assert(pipe.bind(n)))
    srv:settimeout(5)
    local p = assert(io.popen('cmd /c "echo hello from cmd> \\\\.\\pipe\\' .. n .. '" 2>&1'))
    local a = track(assert(srv:accept()))
    a:settimeout(5)
    assert.matches("^hello from cmd%s*$", a:receive("*a"))   -- (cmd's echo ends in " \r\n")
    p:read("a")
    p:close()
  end)

  it("takes a full pipe path and the @ form as the same pipe", function()
    local n = name()
    local srv = track(assert(pipe.bind("@" .. n)))
    srv:settimeout(5)
    local c = track(assert(pipe.connect("\\\\.\\pipe\\" .. n, 5)))
    local a = track(assert(srv:accept()))
    a:send("x\n")
    c:settimeout(5)
    assert.equal("x", c:receive())
  end)
end)

describe("socket.unix under Wine", function()
  it("fails with Linux's text for a missing address family, when AF_UNIX is unavailable", function()
    local unix = require("socket.unix")
    local s, err = unix.stream()
    if s then s:close() return end   -- Windows 10+ has AF_UNIX
    assert.equal("Address family not supported by protocol", err)
  end)
end)
