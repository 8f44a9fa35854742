-- samples/pipe_chat.lua: the named-pipe chat sample, run as a child process
-- and driven by clients made here with socket.pipe (API.md §10.2).
local socket = require("socket")
local H = require("helper")
local pipe = require("socket.pipe")

-- The sample, found relative to this spec file.
local root = debug.getinfo(1, "S").source:match("^@(.-)spec/[^/]*$") or ""
local SAMPLE = root .. "samples/pipe_chat.lua"

local dir -- a fresh temp directory for this file (mktemp -d), removed in teardown
local seq = 0

local function tmppath(tag)
  seq = seq + 1
  return ("%s/%s%d"):format(dir, tag or "chat", seq)
end

local function exists(path)              -- (opening a socket file fails, with ENXIO)
  local f, err = io.open(path, "r")
  if f then f:close() end
  return f ~= nil or not err:find("No such file", 1, true)
end

local open, servers = {}, {}
local function track(...)
  for i = 1, select("#", ...) do
    local s = select(i, ...)
    if type(s) == "userdata" then open[#open + 1] = s end
  end
  return ...
end

-- Starts the sample server (bounded by timeout(1) as a safety net) and waits
-- for its ready line. Returns a handle with :stop() -> rest of output, ok,
-- how, code.
local function start_server(path, idle)
  local cmd = ("%s %s server %s %s 2>&1"):format(H.quote(H.LUA), H.quote(SAMPLE), H.quote(path), idle or 20)
  local p = assert(io.popen(H.WINDOWS and H.cmdline(cmd) or "timeout 60 " .. cmd, "r"))
  local srv = { path = path, p = p }
  servers[#servers + 1] = srv
  srv.first = p:read("l")
  function srv.finish()
    local out = p:read("a")
    local ok, how, code = p:close()
    srv.done = true
    return out, ok, how, code
  end
  return srv
end

local function client(path)
  local c, err = pipe.connect(path, 5)
  assert(c, "connect: " .. tostring(err))
  track(c)
  c:settimeout(10)
  return c
end

-- Two clients that are both known to the server: b says hello and a hears it
-- (so both were accepted before anything else is sent).
local function two_clients(path)
  local a, b = client(path), client(path)
  assert.equal(8, b:send("b is in\n"))
  assert.equal("b is in\n", a:receive("*L"))
  return a, b
end

describe("samples/pipe_chat.lua", function()
  setup(function()
    dir = H.mktempdir()
    assert(#dir > 0 and #dir < 60, "unexpected temp dir " .. dir)
  end)

  teardown(function()
    if dir then H.rmtree(dir) end
  end)

  after_each(function()
    for i = #open, 1, -1 do
      pcall(function() open[i]:close() end)
      open[i] = nil
    end
    -- a test that failed half-way: ask its server to stop, then reap it
    for i = #servers, 1, -1 do
      local srv = servers[i]
      if not srv.done then
        local c = pipe.connect(srv.path, 1)
        if c then
          c:send("/quit-server\n")
          c:close()
        end
        srv.finish()
      end
      servers[i] = nil
    end
  end)

  it("has a header comment that says how to run it", function()
    local f = assert(io.open(SAMPLE))
    local head = f:read(2000)
    f:close()
    assert.matches("^%-%-", head)
    assert.truthy(head:find("lua5.4 samples/pipe_chat.lua server <name> [idle]", 1, true))
    assert.truthy(head:find("lua5.4 samples/pipe_chat.lua client <name> [line ...]", 1, true))
  end)

  it("relays each line byte for byte to the other client, not back to the sender; /quit-server stops it", function()
    local path = tmppath()
    local srv = start_server(path)
    assert.equal("ready " .. path, srv.first)
    assert.is_true(H.WINDOWS or exists(path))   -- (a Windows named pipe has no file)
    local a, b = two_clients(path)

    local bytes = {}
    for i = 0, 255 do
      if i ~= 10 then bytes[#bytes + 1] = string.char(i) end
    end
    local lines = {
      "hello\n",
      "with\r\n",                                  -- CR kept
      "\r\n",
      "\n",                                        -- an empty line
      table.concat(bytes) .. "\n",                 -- every byte but LF
      string.rep("0123456789", 2000) .. "\n",      -- longer than the 8 KiB buffer
      "last\n",
    }
    local blob = table.concat(lines)
    -- in pieces that split lines, to exercise the server's partial handling
    assert.equal(3, a:send(blob, 1, 3))
    assert.equal(#blob - 5, a:send(blob, 4, #blob - 5))
    assert.equal(#blob, a:send(blob, #blob - 4))
    assert.equal(blob, b:receive(#blob))

    -- b answers; had a's lines been echoed to a, they would come first
    assert.equal(7, b:send("from b\n"))
    assert.equal("from b\n", a:receive("*L"))

    assert.equal(13, a:send("/quit-server\n"))
    local out, ok, how, code = srv.finish()
    assert.equal("exit", how)
    assert.equal(0, code)
    assert.is_true(ok, out)
    assert.is_false(exists(path), "the server left its socket file behind")
    -- the clients see the server go away; "/quit-server" was not relayed
    assert.same({ nil, "closed", "" }, { b:receive("*L") })
    assert.same({ nil, "closed", "" }, { a:receive("*L") })
  end)

  it("keeps relaying when a client leaves and another joins", function()
    local path = tmppath()
    local srv = start_server(path)
    assert.equal("ready " .. path, srv.first)
    local a, b = two_clients(path)
    b:close()
    local c = client(path)
    assert.equal(7, c:send("c here\n"))
    assert.equal("c here\n", a:receive("*L"))
    assert.equal(5, a:send("to c\n"))
    assert.equal("to c\n", c:receive("*L"))
    -- an unfinished last line is passed on when its sender leaves
    assert.equal(4, c:send("tail"))
    c:close()
    assert.equal("tail", a:receive(4))
    assert.equal(13, a:send("/quit-server\n"))
    local out, ok, _, code = srv.finish()
    assert.is_true(ok, out)
    assert.equal(0, code)
    assert.is_false(exists(path))
  end)

  it("the sample client sends its lines and prints what it receives", function()
    local path = tmppath()
    local srv = start_server(path)
    assert.equal("ready " .. path, srv.first)
    local a, s = two_clients(path)
    local cmd = ("%s %s client %s hello %s 2>&1"):format(H.quote(H.LUA), H.quote(SAMPLE), H.quote(path), H.quote("two words"))
    local p = assert(io.popen(H.cmdline(cmd), "r"))
    assert.equal("hello\n", s:receive("*L"))
    assert.equal("two words\n", s:receive("*L"))
    assert.equal(6, s:send("reply\n"))
    local out = p:read("a")
    local ok, _, code = p:close()
    assert.is_true(ok, out)
    assert.equal(0, code)
    assert.equal("reply\n", out)
    assert.equal("hello\n", a:receive("*L"))
    assert.equal("two words\n", a:receive("*L"))
    assert.equal("reply\n", a:receive("*L"))
    a:send("/quit-server\n")
    assert.is_true((srv.finish()) ~= nil)
    assert.is_false(exists(path))
  end)

  it("stops by itself after `idle` seconds without any client, and removes its file", function()
    local path = tmppath()
    local t0 = socket.gettime()
    local srv = start_server(path, 1)
    assert.equal("ready " .. path, srv.first)
    local out, ok, how, code = srv.finish()
    local el = socket.gettime() - t0
    assert.is_true(ok, out)
    assert.equal("exit", how)
    assert.equal(0, code)
    assert.is_true(el >= 0.9 and el < 15, "stopped after " .. el .. " s")
    assert.is_false(exists(path))
  end)

  it("works with an abstract '@name'", function()
    local name = ("@netsocket-chat-spec-%d-%d"):format(H.pid(), math.random(1, 1073741824))
    local srv = start_server(name)
    assert.equal("ready " .. name, srv.first)
    local a, b = two_clients(name)
    assert.equal(4, a:send("abc\n"))
    assert.equal("abc\n", b:receive("*L"))
    a:send("/quit-server\n")
    local out, ok = srv.finish()
    assert.is_true(ok, out)
  end)

  it("a second server on a live name fails with 'address already in use' and exit status 1", function()
    local path = tmppath()
    local srv = start_server(path)
    assert.equal("ready " .. path, srv.first)
    local second = start_server(path)
    local out, ok, how, code = second.finish()
    assert.is_nil(ok)
    assert.equal("exit", how)
    assert.equal(1, code)
    assert.equal("server: address already in use\n", (second.first or "") .. "\n" .. out)
    -- the first server survived the probe connection and still relays
    assert.is_true(H.WINDOWS or exists(path))   -- (a Windows named pipe has no file)
    local a, b = two_clients(path)
    assert.equal(3, a:send("x\r\n"))
    assert.equal("x\r\n", b:receive("*L"))
    a:send("/quit-server\n")
    out, ok = srv.finish()
    assert.is_true(ok, out)
    assert.is_false(exists(path))
  end)
end)
