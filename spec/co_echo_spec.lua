-- samples/co_echo_server.lua: a blocking-style echo server served with
-- socket.co, run as a child process; the clients are tasks of this process.
local socket = require("socket")
local co = require("socket.co")
local H = require("helper")

-- The repository: this file's directory's parent (busted runs from there).
local root = debug.getinfo(1, "S").source:match("^@(.*)/spec/[^/]+$") or "."

local function start(idle)
  return H.sample("co_echo_server.lua", "0 " .. idle,
    "^co_echo_server: listening on 127%.0%.0%.1 port (%d+)$")
end

describe("samples/co_echo_server.lua", function()
  it("echoes for 50 concurrent clients, then stops on quit-server with status 0", function()
    local N = 50
    local p, port = start(20)
    local gatew, gater = H.pair()
    local echoed, done = 0, 0
    for i = 1, N do
      co.spawn(function()
        local c = assert(socket.connect("127.0.0.1", port))
        c:settimeout(20)
        local first = ("client %d says hello"):format(i)
        assert(c:send(first .. "\n"))
        assert.are.equal(first, (c:receive()))
        -- Nobody goes on before all 50 have had their first echo: a server
        -- that served one client at a time would never get them all here.
        echoed = echoed + 1
        if echoed == N then gatew:close() end
        local r, _, err = socket.select({ gater }, nil, 30)
        assert(r and r[1] == gater, "gate: " .. tostring(err))
        for j = 1, 20 do
          local line = ("%d/%d %s"):format(i, j, ("abcdefghij"):rep(j * i % 37))
          assert(c:send(line .. "\n"))
          assert.are.equal(line, (c:receive()))
        end
        local long = ("%04d"):format(i):rep(5000)            -- 20 KB in one line
        assert(c:send(long .. "\n"))
        assert.are.equal(long, (c:receive()))
        c:close()
        done = done + 1
      end)
    end
    local ok, err = co.run(60)
    gater:close()
    assert.is_true(ok, tostring(err))
    assert.are.equal(N, done)

    local c = assert(socket.connect("127.0.0.1", port))
    c:settimeout(10)
    assert(c:send("still there\nquit-server\n"))
    assert.are.equal("still there", (c:receive()))
    assert.are.equal("bye", (c:receive()))
    c:close()
    local rest = p:read("a")
    local closed, how, status = p:close()
    assert.are.equal(("co_echo_server: stopped (quit-server), served %d clients\n"):format(N + 1), rest)
    assert.are.same({ true, "exit", 0 }, { closed, how, status })
    -- Nothing listens any more.
    assert.are.same({ nil, "connection refused" }, { socket.connect("127.0.0.1", port) })
  end)

  it("stops by itself after `idle` seconds without clients", function()
    local t0 = socket.gettime()
    local p, port = start(0.5)
    local c = assert(socket.connect("127.0.0.1", port))
    c:settimeout(5)
    assert(c:send("one\n"))
    assert.are.equal("one", (c:receive()))
    c:close()
    local rest = p:read("a")
    local took = socket.gettime() - t0
    local closed, how, status = p:close()
    assert.are.equal("co_echo_server: stopped (idle), served 1 clients\n", rest)
    assert.are.same({ true, "exit", 0 }, { closed, how, status })
    assert.is_true(took >= 0.5 and took < 5, ("stopped after %.2f s"):format(took))
  end)

  it("drops a client silent for `idle` seconds while serving another one", function()
    local p, port = start(0.6)
    local r = {}
    co.spawn(function()
      local quiet = assert(socket.connect("127.0.0.1", port))
      quiet:settimeout(5)
      local t0 = socket.gettime()
      r.quiet = { quiet:receive() }                  -- the server drops it
      r.took = socket.gettime() - t0
      quiet:close()
    end)
    co.spawn(function()
      local busy = assert(socket.connect("127.0.0.1", port))
      busy:settimeout(5)
      r.lines = 0
      for i = 1, 10 do                               -- talks on, every 0.1 s
        assert(busy:send(i .. "\n"))
        assert.are.equal(tostring(i), (busy:receive()))
        r.lines = i
        socket.sleep(0.1)
      end
      busy:close()
    end)
    assert.is_true(co.run(20))
    assert.are.same({ nil, "closed", "" }, r.quiet)
    assert.is_true(r.took >= 0.55 and r.took < 3, ("dropped after %.2f s"):format(r.took))
    assert.are.equal(10, r.lines)
    local rest = p:read("a")
    assert.are.equal("co_echo_server: stopped (idle), served 2 clients\n", rest)
    assert.is_true((p:close()))
  end)

  it("refuses bad arguments with a usage line and status 2", function()
    local out, ok = H.sh(("%s %q/samples/co_echo_server.lua 0 never"):format(H.LUA, root))
    assert.is_false(ok)
    assert.matches("^usage: ", out)
  end)
end)
