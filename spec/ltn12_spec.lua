-- ltn12 (doc/ltn12.md): LuaSocket 3.x's filters, sources, sinks and pumps.
-- The shared cases run against our module and, where Debian's lua-socket is
-- installed, against its 3.1.0 ltn12.lua too, to prove the two agree.
local socket = require("socket")
local ltn12 = require("ltn12")
local H = require("helper")

local DEBIAN = "/usr/share/lua/5.4/ltn12.lua"
local debian = loadfile(DEBIAN, "t", setmetatable({}, { __index = _G }))
local IMPLS = { { name = "netsocket ltn12", L = ltn12 } }
if debian then IMPLS[2] = { name = "Debian's ltn12 (3.1.0)", L = debian() } end

local pack = table.pack

-- Calls a source until it ends (at most `max` calls); returns the chunks.
local function drain(src, max)
  local out = {}
  for _ = 1, max or 100 do
    local chunk, err = src()
    if chunk == nil then
      out.err = err
      return out
    end
    out[#out + 1] = chunk
  end
  error("source did not end")
end

local function upper(chunk) return chunk and chunk:upper() end

-- A filter that holds its input and gives it back `k` bytes per call.
local function rechunk(k)
  local buf, ended = "", false
  return function(chunk)
    if chunk == nil then ended = true else buf = buf .. chunk end
    if #buf >= k or (ended and buf ~= "") then
      local out = buf:sub(1, k)
      buf = buf:sub(k + 1)
      return out
    end
    if ended then return nil end
    return ""
  end
end

-- A filter that holds everything until its input ends, then gives it back
-- one byte per call to nil.
local function trickle()
  local buf, ended = "", false
  return function(chunk)
    if chunk == "" then return "" end           -- only the end (nil) drains it
    if chunk == nil then ended = true else buf = buf .. chunk end
    if not ended then return "" end
    if buf == "" then return nil end
    local out = buf:sub(1, 1)
    buf = buf:sub(2)
    return out
  end
end

local function tmpfile(content)
  local name = os.tmpname()
  if content then
    local f = assert(io.open(name, "wb"))
    f:write(content)
    f:close()
  end
  return name
end

local function slurp(name)
  return assert(H.readfile(name), "cannot read " .. name)
end

local function cases(L)
  describe("constants", function()
    it("BLOCKSIZE is 2048 and _VERSION is 'LTN12 1.0.3'", function()
      assert.equal(2048, L.BLOCKSIZE)
      assert.equal("LTN12 1.0.3", L._VERSION)
    end)

    it("has exactly the 3.x names in each table", function()
      local function keys(t)
        local k = {}
        for name in pairs(t) do k[#k + 1] = name end
        table.sort(k)
        return table.concat(k, " ")
      end
      assert.equal("BLOCKSIZE _VERSION filter pump sink source", keys(L))
      assert.equal("chain cycle", keys(L.filter))
      assert.equal("cat chain empty error file rewind simplify string table", keys(L.source))
      assert.equal("chain error file null simplify table", keys(L.sink))
      assert.equal("all step", keys(L.pump))
    end)
  end)

  describe("sources", function()
    it("source.empty returns nil, and is one shared function", function()
      local src = L.source.empty()
      assert.same({ n = 1 }, pack(src()))
      assert.equal(src, L.source.empty())
    end)

    it("source.error returns nil, err on every call", function()
      local src = L.source.error("boom")
      assert.same({ n = 2, nil, "boom" }, pack(src()))
      assert.same({ n = 2, nil, "boom" }, pack(src()))
    end)

    it("source.string gives BLOCKSIZE chunks, then nil", function()
      local s = string.rep("x", 5000)
      assert.same({ ("x"):rep(2048), ("x"):rep(2048), ("x"):rep(904) }, drain(L.source.string(s)))
      assert.same({}, drain(L.source.string("")))
      assert.same({}, drain(L.source.string(nil)))
      assert.same({ "12345" }, drain(L.source.string(12345)))
    end)

    it("source.string and source.file read BLOCKSIZE at each call", function()
      local old = L.BLOCKSIZE
      L.BLOCKSIZE = 3
      local ok, err = pcall(function()
        assert.same({ "abc", "def", "g" }, drain(L.source.string("abcdefg")))
        local name = tmpfile("hello!!")
        assert.same({ "hel", "lo!", "!" }, drain(L.source.file(io.open(name, "rb"))))
        os.remove(name)
      end)
      L.BLOCKSIZE = old
      assert(ok, err)
    end)

    it("source.table gives t[1], t[2], ... then nil", function()
      local src = L.source.table({ "a", "", "c" })
      assert.same({ "a", "", "c" }, drain(src))
      assert.is_nil(src())
    end)

    it("source.file reads the file and closes it at the end", function()
      local data = ("0123456789"):rep(500)
      local name = tmpfile(data)
      local f = assert(io.open(name, "rb"))
      local out = drain(L.source.file(f))
      os.remove(name)
      assert.same({ data:sub(1, 2048), data:sub(2049, 4096), data:sub(4097) }, out)
      assert.equal("closed file", io.type(f))
    end)

    it("source.file(nil, err) is an error source, as after a failed io.open", function()
      assert.same({ n = 2, nil, "oops" }, pack(L.source.file(nil, "oops")()))
      assert.same({ n = 2, nil, "unable to open file" }, pack(L.source.file(nil)()))
      local missing = os.tmpname()
      os.remove(missing)
      assert.same({ n = 2, nil, missing .. ": No such file or directory" },
        pack(L.source.file(io.open(missing, "rb"))()))
    end)

    it("source.simplify follows a fancy source's hand-over and passes errors", function()
      local second = L.source.table({ "b", "c" })
      local first = function() return "a", second end
      assert.same({ "a", "b", "c" }, drain(L.source.simplify(first)))
      assert.same({ n = 2, nil, "bad" }, pack(L.source.simplify(L.source.error("bad"))()))
    end)

    it("source.rewind gives back pushed chunks, last pushed first", function()
      local src = L.source.rewind(L.source.table({ "1", "2" }))
      assert.equal("1", src())
      assert.same({ n = 0 }, pack(src("x")))
      src("y")
      assert.equal("y", src())
      assert.equal("x", src())
      assert.equal("2", src())
      assert.is_nil(src())
    end)

    it("source.rewind returns every value of the source it wraps", function()
      local src = L.source.rewind(L.source.error("e"))
      assert.same({ n = 2, nil, "e" }, pack(src()))
    end)

    it("source.chain filters a source, draining the filter between pulls", function()
      local src = L.source.chain(L.source.table({ "abcde", "f" }), rechunk(2))
      assert.same({ "ab", "cd", "ef" }, drain(src))
    end)

    it("source.chain with several filters chains them in order", function()
      local src = L.source.chain(L.source.string("hello"), rechunk(2), upper, rechunk(4))
      assert.same({ "HELL", "O" }, drain(src))
    end)

    it("source.chain passes the source's error and raises when called after the end", function()
      assert.same({ n = 2, nil, "e" }, pack(L.source.chain(L.source.error("e"), upper)()))
      local src = L.source.chain(L.source.string("a"), upper)
      assert.same({ "A" }, drain(src))
      H.raising(src, "source is empty!")
    end)

    it("source.chain raises on a filter that returns nil before its input ends", function()
      local src = L.source.chain(L.source.string("abc"), function() return nil end)
      H.raising(src, "filter returned inappropriate nil")
    end)

    it("source.cat concatenates sources, and stops at an error", function()
      local src = L.source.cat(L.source.string("ab"), L.source.empty(), L.source.table({ "c", "d" }))
      assert.same({ "ab", "c", "d" }, drain(src))
      local bad = L.source.cat(L.source.string("x"), L.source.error("e"), L.source.string("y"))
      assert.same({ "x", err = "e" }, drain(bad))
      assert.same({}, drain(L.source.cat()))
    end)
  end)

  describe("sinks", function()
    it("sink.table appends chunks to a new or given table and returns it", function()
      local snk, t = L.sink.table()
      assert.same({ n = 1, 1 }, pack(snk("a", nil)))
      assert.same({ n = 1, 1 }, pack(snk("")))
      assert.same({ n = 1, 1 }, pack(snk(nil, "ignored")))
      assert.same({ "a", "" }, t)
      local mine = { "x" }
      local snk2, t2 = L.sink.table(mine)
      snk2("y")
      assert.equal(mine, t2)
      assert.same({ "x", "y" }, mine)
    end)

    it("sink.null accepts everything, and is one shared function", function()
      local snk = L.sink.null()
      assert.same({ n = 1, 1 }, pack(snk("x")))
      assert.same({ n = 1, 1 }, pack(snk(nil)))
      assert.equal(snk, L.sink.null())
    end)

    it("sink.error returns nil, err", function()
      assert.same({ n = 2, nil, "no" }, pack(L.sink.error("no")("x")))
    end)

    it("sink.file writes the chunks and closes the file at the end", function()
      local name = tmpfile()
      local f = assert(io.open(name, "wb"))
      local snk = L.sink.file(f)
      -- what file:write returns: the file (5.2 on, LuaJIT), true on PUC 5.1
      local probe = assert(io.tmpfile())
      local wrote = probe:write("")
      probe:close()
      local ret = rawequal(wrote, probe) and f or wrote
      assert.equal(ret, snk("ab"))
      assert.equal(ret, snk("cd"))
      assert.same({ n = 1, 1 }, pack(snk(nil)))
      assert.equal("closed file", io.type(f))
      assert.equal("abcd", slurp(name))
      os.remove(name)
      assert.same({ n = 2, nil, "unable to open file" }, pack(L.sink.file(nil)("x")))
      assert.same({ n = 2, nil, "e" }, pack(L.sink.file(nil, "e")("x")))
    end)

    it("sink.simplify follows a fancy sink's hand-over and passes errors", function()
      local t = {}
      local second = function(chunk) t[#t + 1] = "2:" .. tostring(chunk) return 1 end
      local first = function(chunk) t[#t + 1] = "1:" .. tostring(chunk) return 1, second end
      local snk = L.sink.simplify(first)
      assert.same({ n = 1, 1 }, pack(snk("a")))
      assert.same({ n = 1, 1 }, pack(snk("b")))
      snk(nil)
      assert.same({ "1:a", "2:b", "2:nil" }, t)
      assert.same({ n = 2, nil, "e" }, pack(L.sink.simplify(L.sink.error("e"))("x")))
    end)

    it("sink.chain filters each chunk and drains the filter into the sink", function()
      local snk, t = L.sink.table()
      local chained = L.sink.chain(rechunk(2), snk)
      assert.same({ n = 1, 1 }, pack(chained("abc")))
      assert.same({ "ab", "" }, t)
      assert.same({ n = 1, 1 }, pack(chained("")))      -- "" is not passed on
      assert.same({ n = 1, 1 }, pack(chained(nil)))
      assert.same({ "ab", "", "c" }, t)
    end)

    it("sink.chain with several filters, and a failing sink", function()
      local snk, t = L.sink.table()
      local chained = L.sink.chain(upper, rechunk(3), snk)
      chained("abcd")
      chained(nil)
      assert.equal("ABCD", table.concat(t))
      assert.same({ n = 2, nil, "full" }, pack(L.sink.chain(upper, L.sink.error("full"))("x")))
    end)
  end)

  describe("filters", function()
    it("filter.cycle threads a context through a low-level filter", function()
      local seen = {}
      local low = function(ctx, chunk, extra)
        seen[#seen + 1] = extra
        if chunk == nil then return "total " .. ctx, 0 end
        return chunk:rep(2), ctx + #chunk
      end
      local f = L.filter.cycle(low, 0, "x")
      assert.equal("abab", f("ab"))
      assert.equal("ccc" .. "ccc", f("ccc"))
      assert.equal("total 5", f(nil))
      assert.same({ "x", "x", "x" }, seen)
    end)

    it("filter.chain passes data through each filter, asking for more with ''", function()
      local f = L.filter.chain(rechunk(3), upper)
      assert.equal("", f("ab"))
      assert.equal("ABC", f("cd"))
      assert.equal("", f(""))
      assert.equal("D", f(nil))
      assert.is_nil(f(nil))
    end)

    it("filter.chain keeps passing the end (nil) upstream while a later filter wants more", function()
      local f = L.filter.chain(trickle(), rechunk(2))
      assert.equal("", f("abc"))
      assert.equal("ab", f(nil))
      assert.equal("c", f(nil))
      assert.is_nil(f(nil))
    end)

    it("filter.chain raises when a later filter returns nil on data", function()
      local f = L.filter.chain(upper, function() return nil end)
      H.raising(function() f("x") end, "filter returned inappropriate nil")
    end)
  end)

  describe("pumps", function()
    it("pump.step moves one chunk: 1, then nil at the end", function()
      local snk, t = L.sink.table()
      local src = L.source.table({ "a" })
      assert.same({ n = 1, 1 }, pack(L.pump.step(src, snk)))
      assert.same({ n = 2 }, pack(L.pump.step(src, snk)))
      assert.same({ "a" }, t)
    end)

    it("pump.step reports the source's error, else the sink's", function()
      assert.same({ n = 2, nil, "src" }, pack(L.pump.step(L.source.error("src"), L.sink.error("snk"))))
      assert.same({ n = 2, nil, "snk" }, pack(L.pump.step(L.source.string("x"), L.sink.error("snk"))))
      local got = {}
      L.pump.step(L.source.error("src"), function(chunk, err) got = { chunk, err } return 1 end)
      assert.same({ nil, "src" }, got)
    end)

    it("pump.all moves everything and returns 1", function()
      local snk, t = L.sink.table()
      assert.same({ n = 1, 1 }, pack(L.pump.all(L.source.string(("z"):rep(5000)), snk)))
      assert.equal(("z"):rep(5000), table.concat(t))
      assert.same({ 2048, 2048, 904 }, { #t[1], #t[2], #t[3] })
    end)

    it("pump.all returns nil, err on a source or sink error", function()
      local src = L.source.cat(L.source.string("a"), L.source.error("late"))
      assert.same({ n = 2, nil, "late" }, pack(L.pump.all(src, L.sink.null())))
      assert.same({ n = 2, nil, "w" }, pack(L.pump.all(L.source.string("a"), L.sink.error("w"))))
    end)

    it("pump.all uses the given step function", function()
      local steps = 0
      local step = function(src, snk)
        steps = steps + 1
        return L.pump.step(src, snk)
      end
      assert.equal(1, L.pump.all(L.source.table({ "a", "b" }), L.sink.null(), step))
      assert.equal(3, steps)
    end)
  end)
end

for _, impl in ipairs(IMPLS) do
  describe(impl.name, function() cases(impl.L) end)
end
if not debian then
  pending("Debian's " .. DEBIAN .. " is not installed: agreement with 3.1.0 not checked")
end

describe("netsocket ltn12 beyond 3.x", function()
  it("is require('ltn12') without touching the socket table", function()
    assert.equal(ltn12, package.loaded.ltn12)
    assert.is_nil(rawget(socket, "ltn12"))
  end)

  it("misuse raises naming the argument", function()
    local f = ltn12.sink.null()
    local calls = {
      { ltn12.filter.cycle, { n = 1 }, "#1 to 'filter.cycle' (function expected, got no value)" },
      { ltn12.filter.chain, { n = 0 }, "#1 to 'filter.chain' (function expected, got no value)" },
      { ltn12.filter.chain, { n = 2, f, 5 }, "#2 to 'filter.chain' (function expected, got number)" },
      { ltn12.source.simplify, { n = 1, {} }, "#1 to 'source.simplify' (function expected, got table)" },
      { ltn12.source.table, { n = 1 }, "#1 to 'source.table' (table expected, got no value)" },
      { ltn12.source.table, { n = 1, "x" }, "#1 to 'source.table' (table expected, got string)" },
      { ltn12.source.string, { n = 1, {} }, "#1 to 'source.string' (string expected, got table)" },
      { ltn12.source.rewind, { n = 1, 1 }, "#1 to 'source.rewind' (function expected, got number)" },
      { ltn12.source.chain, { n = 2, nil, f }, "#1 to 'source.chain' (function expected, got no value)" },
      { ltn12.source.chain, { n = 2, f, "x" }, "#2 to 'source.chain' (function expected, got string)" },
      { ltn12.source.chain, { n = 3, f, f, true }, "#3 to 'source.chain' (function expected, got boolean)" },
      { ltn12.source.cat, { n = 2, f, 3 }, "#2 to 'source.cat' (function expected, got number)" },
      { ltn12.sink.table, { n = 1, "x" }, "#1 to 'sink.table' (table expected, got string)" },
      { ltn12.sink.simplify, { n = 1 }, "#1 to 'sink.simplify' (function expected, got no value)" },
      { ltn12.sink.chain, { n = 2, nil, f }, "#1 to 'sink.chain' (function expected, got no value)" },
      { ltn12.sink.chain, { n = 2, f }, "#2 to 'sink.chain' (function expected, got no value)" },
      { ltn12.sink.chain, { n = 3, f, 7, f }, "#2 to 'sink.chain' (function expected, got number)" },
      { ltn12.pump.step, { n = 2, nil, f }, "#1 to 'pump.step' (function expected, got no value)" },
      { ltn12.pump.all, { n = 2, f }, "#2 to 'pump.all' (function expected, got no value)" },
      { ltn12.pump.all, { n = 3, f, f, 5 }, "#3 to 'pump.all' (function expected, got number)" },
    }
    for _, c in ipairs(calls) do H.raises(c[1], c[2], "bad argument " .. c[3]) end
  end)

  it("callable tables count as functions (socket.source and socket.sink are tables)", function()
    local calls = setmetatable({}, { __call = function() return nil end })
    assert.equal(1, ltn12.pump.all(calls, ltn12.sink.null()))
    local s = socket.tcp()
    assert.equal("table", type(socket.sink("keep-open", s)))
    s:close()
  end)

  if debian then
    it("where 3.x also fails on a nil source, sink or filter (only the message differs)", function()
      local D = IMPLS[2].L
      for _, c in ipairs({
        { D.filter.cycle, {} }, { D.source.simplify, {} }, { D.source.table, {} }, { D.source.rewind, {} },
        { D.source.chain, { n = 2, nil, upper } }, { D.sink.simplify, {} }, { D.sink.chain, { n = 2, upper } },
        { D.pump.all, { n = 2, D.source.empty() } },
      }) do
        assert.is_false(pcall(c[1], table.unpack(c[2], 1, c[2].n)))
      end
    end)
  end

  it("source.simplify after an error calls its source again (3.x would call the error string)", function()
    local n = 0
    local src = ltn12.source.simplify(function()
      n = n + 1
      if n == 1 then return nil, "timeout" end
      if n == 2 then return "ok" end
    end)
    assert.same({ n = 2, nil, "timeout" }, pack(src()))
    assert.equal("ok", src())
  end)

  it("source.file passes a read error on, and after the end no longer touches the closed file #linux #linuxonly", function()
    local src = ltn12.source.file(assert(io.open("/tmp", "rb")))   -- a directory: read fails
    assert.same({ n = 2, nil, "Is a directory" }, pack(src()))
    assert.same({ n = 1 }, pack(src()))
  end)

  it("sink.file closes the file once, however often the end is signalled", function()
    local name = tmpfile()
    local snk = ltn12.sink.file(assert(io.open(name, "wb")))
    assert.equal(1, snk(nil))
    assert.equal(1, snk(nil))
    os.remove(name)
  end)
end)

describe("ltn12 with socket.source and socket.sink (API.md §8)", function()
  local track, closeall = H.tracker()
  after_each(closeall)

  it("pumps a string into a close-when-done sink and back out of an until-closed source", function()
    local c, p = track(H.pair())
    c:settimeout(5)
    p:settimeout(5)
    local data = ("netsocket "):rep(1000)
    assert.equal(1, ltn12.pump.all(ltn12.source.string(data), socket.sink("close-when-done", c)))
    local snk, t = ltn12.sink.table()
    assert.equal(1, ltn12.pump.all(socket.source("until-closed", p), snk))
    assert.equal(data, table.concat(t))
  end)

  it("reads an exact length with by-length through a filter chain", function()
    local c, p = track(H.pair())
    c:settimeout(5)
    p:settimeout(5)
    assert.equal(20, c:send("hello world and more"))
    local snk, t = ltn12.sink.table()
    local src = ltn12.source.chain(socket.source("by-length", p, 11), upper)
    assert.equal(1, ltn12.pump.all(src, snk))
    assert.same({ "HELLO WORLD" }, t)
    assert.equal(" and more", p:receive(9))
  end)

  it("a filtered keep-open sink sends the filtered data and leaves the socket open", function()
    local c, p = track(H.pair())
    c:settimeout(5)
    p:settimeout(5)
    local snk = ltn12.sink.chain(rechunk(4), socket.sink("keep-open", c))
    assert.equal(1, ltn12.pump.all(ltn12.source.string("abcdefghij"), snk))
    assert.equal("abcdefghij", p:receive(10))
    assert.equal(1, c:send("!"))
    assert.equal("!", p:receive(1))
  end)

  it("a failing socket sink stops the pump with nil, 'closed'", function()
    local c, p = track(H.pair())
    c:close()
    assert.same({ n = 2, nil, "closed" }, pack(ltn12.pump.all(ltn12.source.string("x"), socket.sink("keep-open", c))))
    p:close()
  end)
end)
