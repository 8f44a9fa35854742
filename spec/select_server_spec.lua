-- samples/select_server.lua: the select()-based line server, run as a child
-- process and driven by three clients at once, over loopback only.
local socket = require("socket")
local H = require("helper")

local root = debug.getinfo(1, "S").source:match("^@(.-)spec/[^/]*$") or ""
local SAMPLE = root .. "samples/select_server.lua"

local function q(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

local function start(idle)
  return H.sample("select_server.lua", "127.0.0.1 0 " .. idle,
    "^select_server: listening on 127%.0%.0%.1 port (%d+)$")
end
local finish = H.finish

local function client(port)
  local c = assert(socket.connect("127.0.0.1", port))
  c:settimeout(10)
  return c
end

describe("samples/select_server.lua", function()
  it("serves three clients at once; a half-sent line holds up no one", function()
    local p, port = start(20)
    local a, b, c = client(port), client(port), client(port)

    assert(a:send("first half of a's line, "))            -- no end of line yet
    assert(b:send("b speaks\n"))
    assert.are.equal("echo: b speaks", (b:receive()))
    assert(c:send("c speaks\nand again\n"))               -- two lines in one send
    assert.are.equal("echo: c speaks", (c:receive()))
    assert.are.equal("echo: and again", (c:receive()))
    assert(a:send("second half\n"))
    assert.are.equal("echo: first half of a's line, second half", (a:receive()))

    assert(b:send("/who\n"))
    assert.are.equal("clients: 3", (b:receive()))

    -- all three in one round, answered in any order
    for i, s in ipairs({ a, b, c }) do assert(s:send(("round %d\n"):format(i))) end
    for i, s in ipairs({ a, b, c }) do assert.are.equal(("echo: round %d"):format(i), (s:receive())) end

    assert(b:send("/quit\n"))
    assert.are.equal("bye", (b:receive()))
    assert.are.same({ nil, "closed", "" }, { b:receive() })
    b:close()
    assert(a:send("/who\n"))
    assert.are.equal("clients: 2", (a:receive()))

    assert(c:send("/shutdown\n"))
    assert.are.equal("bye", (c:receive()))
    assert.are.same({ nil, "closed", "" }, { a:receive() })  -- everyone is let go
    a:close()
    c:close()

    local rest, exit = finish(p)
    assert.are.same({ true, "exit", 0 }, exit)
    assert.truthy(rest:find(", 3 connected\n", 1, true), rest)
    assert.truthy(rest:find("gone (quit), 2 connected", 1, true), rest)
    assert.matches("select_server: stopped %(shutdown%), served 3 clients\n$", rest)
    assert.are.same({ nil, "connection refused" }, { socket.connect("127.0.0.1", port) })
  end)

  it("drops a client that goes away and keeps serving the others", function()
    local p, port = start(20)
    local a, b = client(port), client(port)
    assert(a:send("hello\n"))
    assert.are.equal("echo: hello", (a:receive()))
    assert(b:send("unfinished"))
    b:close()
    -- Two sockets have no order between them: wait for the server's own log
    -- line saying it saw b go, then ask.
    local seen = {}
    for _ = 1, 20 do
      local line = p:read("l")
      if not line then break end
      seen[#seen + 1] = line
      if line:find("gone (closed)", 1, true) then break end
    end
    assert.truthy(seen[#seen] and seen[#seen]:find("gone (closed)", 1, true), table.concat(seen, "\n"))
    assert(a:send("/who\n"))
    assert.are.equal("clients: 1", (a:receive()))
    assert(a:send("/shutdown\n"))
    assert.are.equal("bye", (a:receive()))
    a:close()
    local _, exit = finish(p)
    assert.are.same({ true, "exit", 0 }, exit)
  end)

  it("stops by itself after `idle` seconds without clients", function()
    local p, port = start(0.5)
    local c = client(port)
    assert(c:send("x\n"))
    assert.are.equal("echo: x", (c:receive()))
    c:close()
    local rest, exit = finish(p)
    assert.are.same({ true, "exit", 0 }, exit)
    assert.matches("select_server: stopped %(idle%), served 1 clients\n$", rest)
  end)

  it("refuses bad arguments with a usage line and status 2", function()
    local out, ok = H.sh(("%s %s 127.0.0.1 0 never"):format(H.LUA, q(SAMPLE)))
    assert.is_false(ok)
    assert.matches("^usage: ", out)
  end)
end)
