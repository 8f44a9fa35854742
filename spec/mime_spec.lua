-- mime and mime.core (LuaSocket 3.x API): exact results of every step
-- function, their chunk convention, the ltn12 filters built on them, and
-- agreement with Debian's lua-socket mime where that is installed.
local ltn12 = require("ltn12")
local mime = require("mime")
local core = require("mime.core")
local H = require("helper")

-- Debian's mime.core, if lua-socket is installed (only under /usr/lib, so
-- never a copy of this tree installed under /usr/local).
local function debian_core()
  for entry in package.cpath:gmatch("[^;]+") do
    if entry:sub(1, 9) == "/usr/lib/" then
      local file = package.searchpath("mime.core", entry)
      if file then
        local open = package.loadlib(file, "luaopen_mime_core")
        if open then return open() end
      end
    end
  end
end
local deb = debian_core()

-- A source that hands out `data` in pieces whose sizes cycle through `sizes`.
local function pieces(data, sizes)
  local pos, k = 1, 0
  return function()
    if pos > #data then return nil end
    k = k % #sizes + 1
    local piece = data:sub(pos, pos + sizes[k] - 1)
    pos = pos + #piece
    return piece
  end
end

-- Runs data through the filters, fed in pieces of the given sizes.
local function run(data, sizes, ...)
  local out = {}
  local src = ltn12.source.chain(pieces(data, sizes), ltn12.filter.chain(...))
  assert(ltn12.pump.all(src, (ltn12.sink.table(out))))
  return table.concat(out)
end

local function randbytes(n)
  local t = {}
  for i = 1, n do t[i] = string.char(math.random(0, 255)) end
  return table.concat(t)
end

-- Values with their Lua types, for exact comparisons (73 ~= 73.0 here).
local function typed(...)
  local t = table.pack(...)
  for i = 1, t.n do
    local v = t[i]
    t[i] = type(v) == "string" and string.format("%q", v) or tostring(v) .. ":" .. (math.type(v) or type(v))
  end
  return table.concat(t, ", ", 1, t.n)
end

-- An independent base64 encoder (RFC 4648 §4), for random data.
local ALPHA = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
local function ref_b64(s)
  local out = {}
  for i = 1, #s, 3 do
    local a, b, c = s:byte(i, i + 2)
    local v = a * 65536 + (b or 0) * 256 + (c or 0)
    local q = {}
    for k = 4, 1, -1 do
      q[k] = ALPHA:sub(v % 64 + 1, v % 64 + 1)
      v = math.floor(v / 64)
    end
    if not c then q[4] = "=" end
    if not b then q[3] = "=" end
    out[#out + 1] = table.concat(q)
  end
  return table.concat(out)
end

-- An independent statement of eol's rule: a CR or LF is a line end; a
-- second, different one right after it belongs to the same line end.
local function ref_eol(s, marker)
  local out, i = {}, 1
  while i <= #s do
    local c, d = s:sub(i, i), s:sub(i + 1, i + 1)
    if c == "\r" or c == "\n" then
      out[#out + 1] = marker
      if (d == "\r" or d == "\n") then
        if d == c then out[#out + 1] = marker end
        i = i + 1
      end
    else
      out[#out + 1] = c
    end
    i = i + 1
  end
  return table.concat(out)
end

describe("mime module", function()
  it("loads mime.core from this tree and extends that same table #linux #linuxonly", function()
    local file = package.searchpath("mime.core", package.cpath)
    assert.equal(os.getenv("NETSOCKET_BUILD") .. "/mime/core.so", file)
    assert.equal(core, mime)
    assert.equal("MIME 1.0.3", mime._VERSION)
    for _, name in ipairs({"b64", "unb64", "qp", "unqp", "wrp", "qpwrp", "eol", "dot",
                           "encode", "decode", "wrap", "normalize", "stuff"}) do
      assert.equal("function", type(mime[name]), name)
    end
    for _, t in ipairs({"encodet", "decodet", "wrapt"}) do assert.equal("table", type(mime[t])) end
  end)
end)

describe("mime.b64 / mime.unb64", function()
  local vectors = {  -- RFC 4648 §10
    {"f", "Zg=="}, {"fo", "Zm8="}, {"foo", "Zm9v"}, {"foob", "Zm9vYg=="},
    {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"},
  }

  it("encodes and decodes the RFC 4648 test vectors", function()
    for _, v in ipairs(vectors) do
      assert.equal(typed(v[2], nil), typed(mime.b64(v[1])))
      assert.equal(typed(v[1], nil), typed(mime.unb64(v[2])))
    end
  end)

  it("answers nil, nil for an empty end and for a nil first argument", function()
    assert.equal(typed(nil, nil), typed(mime.b64("")))
    assert.equal(typed(nil, nil), typed(mime.unb64("")))
    assert.equal(typed(nil, nil), typed(mime.b64(nil)))
    assert.equal(typed(nil, nil), typed(mime.unb64(nil, "Zg==")))
  end)

  it("encodes the largest multiple of 3 bytes of C .. D and carries the rest", function()
    assert.equal(typed("Zm9v", "b"), typed(mime.b64("fo", "ob")))
    assert.equal(typed("", "f"), typed(mime.b64("", "f")))
    assert.equal(typed("", "fo"), typed(mime.b64("f", "o")))
    assert.equal(typed("Zm9vYmFy", ""), typed(mime.b64("foobar", "")))
    assert.equal(typed("Zm9vYmFy", "x"), typed(mime.b64("f", "oobarx")))
    assert.equal(typed("", ""), typed(mime.b64("", "")))
  end)

  it("decodes whole atoms of C .. D, skips non-alphabet bytes and carries valid ones", function()
    assert.equal(typed("foo", "Y"), typed(mime.unb64("Zm", "9vY")))
    assert.equal(typed("foo", "QQQ"), typed(mime.unb64("Zm9v", "Q Q\r\nQ")))
    assert.equal(typed("foobar", nil), typed(mime.unb64("Zm9v\r\nYm\tFy")))
    assert.equal(typed("f", ""), typed(mime.unb64("Zg=", "=")))
    assert.equal(typed("foo", nil), typed(mime.unb64("Zm9vYg")))      -- the end drops a partial atom
    assert.equal(typed(nil, nil), typed(mime.unb64("!!!!****")))
  end)

  it("encodes every byte value", function()
    local all = {}
    for i = 0, 255 do all[#all + 1] = string.char(i) end
    all = table.concat(all)
    local enc = mime.b64(all)
    assert.equal(ref_b64(all), enc)
    assert.equal("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0+P0BBQkNE",
      enc:sub(1, 92))
    assert.equal("8PHy8/T19vf4+fr7/P3+/w==", enc:sub(-24))
    assert.equal(all, mime.unb64(enc))
  end)

  it("matches an independent encoder on random data of every length up to 300", function()
    math.randomseed(4648)
    for n = 1, 300 do
      local s = randbytes(n)
      local enc = mime.b64(s)
      assert.equal(ref_b64(s), enc)
      assert.equal(s, mime.unb64(enc))
    end
  end)

  it("round-trips 1 MiB in one call each way", function()
    math.randomseed(1)
    local s = randbytes(1024 * 1024 + 1)
    local enc = mime.b64(s)
    assert.equal(4 * math.floor((#s + 2) / 3), #enc)
    assert.equal(ref_b64(s:sub(1, 3000)), enc:sub(1, 4000))
    assert.equal(ref_b64(s:sub(-2)), enc:sub(-4))          -- 2^20 + 1 bytes: 2 left
    assert.equal(s, mime.unb64(enc))
  end)

  it("decodes garbage without crashing: at most 3 bytes per 4 alphabet bytes", function()
    math.randomseed(7)
    for _ = 1, 300 do
      local g = randbytes(math.random(0, 200))
      local out, rest = mime.unb64(g, "")
      local valid = select(2, g:gsub("[A-Za-z0-9+/=]", ""))
      assert.equal(valid % 4, #rest)
      assert.is_true(#out <= math.floor(valid / 4) * 3)
      local flushed = mime.unb64(g)
      if out == "" then assert.is_nil(flushed) else assert.equal(out, flushed) end
    end
  end)
end)

describe("mime.qp / mime.unqp", function()
  it("keeps plain text and quotes '=', controls, DEL and 8-bit bytes as =XX", function()
    assert.equal(typed("hello world", nil), typed(mime.qp("hello world")))
    assert.equal(typed("a=3Db", nil), typed(mime.qp("a=b")))
    assert.equal(typed("caf=E9 =00=7F=FF", nil), typed(mime.qp("caf\233 \0\127\255")))
    assert.equal(typed("!~<>", nil), typed(mime.qp("!~<>")))
  end)

  it("turns CRLF into the marker, and quotes a lone CR or LF", function()
    assert.equal("a\r\nb", mime.qp("a\r\nb"))
    assert.equal("a=0D=0Ab", mime.qp("a\r\nb", nil, "=0D=0A"))
    assert.equal("a<EOL>b", mime.qp("a\r\nb", nil, "<EOL>"))
    assert.equal("a=0Ab", mime.qp("a\nb"))
    assert.equal("a=0Db", mime.qp("a\rb"))
  end)

  it("quotes a space or tab only before a line end", function()
    assert.equal("a b\tcd", mime.qp("a b\tcd"))
    assert.equal("a=20\r\nb", mime.qp("a \r\nb"))
    assert.equal("a=09\r\nb", mime.qp("a\t\r\nb"))
    assert.equal("a =20\r\n", mime.qp("a  \r\n"))
    -- at the end of the stream: quoted, then a soft line break
    assert.equal("a=20=\r\n", mime.qp("a "))
    assert.equal("a=09=\r\n", mime.qp("a\t"))
    assert.equal("a=0D=\r\n", mime.qp("a\r"))
    -- a blank among the last two bytes is still undecided there (3.x)
    assert.equal("a=20b=\r\n", mime.qp("a b"))
  end)

  it("carries the bytes it cannot decide on yet to the next call", function()
    assert.equal(typed("a", " "), typed(mime.qp("a", " ")))
    assert.equal(typed("a", " \r"), typed(mime.qp("a ", "\r")))
    assert.equal(typed("a=20\r\nb", ""), typed(mime.qp("a \r", "\nb")))
    assert.equal(typed("=20\r\n", ""), typed(mime.qp(" ", "\r\n")))
    assert.equal(typed("x", " y"), typed(mime.qp("x", " y")))
    assert.equal(typed("x yz", ""), typed(mime.qp("x", " yz")))
    assert.equal(typed("", "\r"), typed(mime.qp("", "\r")))
    assert.equal(typed(nil, nil), typed(mime.qp("")))
    assert.equal(typed(nil, nil), typed(mime.qp(nil, "x")))
  end)

  it("decodes =XX in either case, soft breaks and CRLF", function()
    assert.equal(typed("a=b", nil), typed(mime.unqp("a=3Db")))
    assert.equal(typed("caf\233\233", nil), typed(mime.unqp("caf=E9=e9")))
    assert.equal(typed("abcdef", nil), typed(mime.unqp("abc=\r\ndef")))
    assert.equal(typed("a\r\nb", nil), typed(mime.unqp("a\r\nb")))
    assert.equal(typed("a b\tc", nil), typed(mime.unqp("a b\tc")))
  end)

  it("keeps a malformed escape and drops bytes qp never sends, as 3.x does", function()
    assert.equal("=ZZ=4G", mime.unqp("=ZZ=4G"))
    assert.equal("ab", mime.unqp("a\nb"))              -- lone LF
    assert.equal("ab", mime.unqp("a\rXb"))             -- CR and the byte after it
    assert.equal("ab", mime.unqp("a\1\127\200b"))
    assert.equal(typed("a", nil), typed(mime.unqp("a=4")))   -- the end drops a partial escape
  end)

  it("carries an unfinished escape or CR to the next call", function()
    assert.equal(typed("a", "=4"), typed(mime.unqp("a", "=4")))
    assert.equal(typed("aAb", ""), typed(mime.unqp("a=4", "1b")))
    assert.equal(typed("x", "\r"), typed(mime.unqp("x\r", "")))
    assert.equal(typed("x\r\n", ""), typed(mime.unqp("x\r", "\n")))
    assert.equal(typed(nil, nil), typed(mime.unqp(nil)))
  end)

  it("returns a decoded string that starts with a NUL byte (3.x returned nil)", function()
    assert.equal(typed("\0x", nil), typed(mime.unqp("=00x")))
  end)

  it("round-trips every byte value in binary mode", function()
    local all = {}
    for i = 0, 255 do all[#all + 1] = string.char(i) end
    all = table.concat(all)
    local enc = mime.qp(all, nil, "=0D=0A")
    assert.equal(all, mime.unqp(enc))
    assert.is_nil(enc:find("[^\t\32-\126]"))            -- only blanks and printable ASCII
    assert.is_nil(enc:find("[\r\n]"))
  end)
end)

describe("mime.wrp / mime.qpwrp", function()
  it("breaks lines at `length` bytes and returns the room left, as a float", function()
    local out, left = mime.wrp(76, ("x"):rep(200))
    assert.equal(("x"):rep(76) .. "\r\n" .. ("x"):rep(76) .. "\r\n" .. ("x"):rep(48), out)
    assert.equal(typed(28.0), typed(left))
    assert.equal(typed("abc\r\ndef", 0.0), typed(mime.wrp(3, "abcdef", 3)))
    assert.equal(typed("ab\r\ncd", 2.0), typed(mime.wrp(2, "abcd", 4)))
  end)

  it("turns LF into CRLF, starting a new line, and drops CR", function()
    assert.equal(typed("ab\r\ncdefg\r\nh", 4.0), typed(mime.wrp(5, "ab\ncdefgh", 5)))
    assert.equal(typed("ab\r\ncd", 3.0), typed(mime.wrp(5, "a\rb\r\ncd", 5)))
  end)

  it("ends an unfinished last line at the end of input", function()
    assert.equal(typed("\r\n", 76.0), typed(mime.wrp(10, nil)))
    assert.equal(typed(nil, 76.0), typed(mime.wrp(76, nil)))
    assert.equal(typed(nil, 20.0), typed(mime.wrp(20, nil, 20)))
    assert.equal(typed("=\r\n", 76.0), typed(mime.qpwrp(10, nil)))
    assert.equal(typed(nil, 76.0), typed(mime.qpwrp(76, nil)))
  end)

  it("makes every line exactly `length` bytes but the last, for any length", function()
    math.randomseed(76)
    for length = 1, 100 do
      local n = math.random(0, 400)
      local out, left = mime.wrp(length, ("y"):rep(n), length)
      local count = 0
      for line in (out .. "\r\n"):gmatch("(.-)\r\n") do
        count = count + 1
        local last = count == math.max(1, math.floor((n + length - 1) / length))
        assert.equal(last and n - (count - 1) * length or length, #line)
      end
      assert.equal(math.max(1, math.floor((n + length - 1) / length)), count)
      assert.equal(n == 0 and length or length - (n - (count - 1) * length), left)
    end
  end)

  it("puts qp soft breaks within 76 columns, never inside an =XX", function()
    assert.equal(typed(("a"):rep(75) .. "=\r\n" .. ("a"):rep(25), 51.0), typed(mime.qpwrp(76, ("a"):rep(100))))
    assert.equal(typed("ab=\r\n=3Dc=\r\nd", 4.0), typed(mime.qpwrp(5, "ab=3Dcd", 5)))
    assert.equal(typed("a\r\nb", 75.0), typed(mime.qpwrp(3, "a\r\nb", 76)))
    math.randomseed(2045)
    for _ = 1, 50 do
      local enc = mime.qp(randbytes(math.random(0, 600)), nil, "=0D=0A")
      local wrapped = mime.qpwrp(76, enc) .. (mime.qpwrp(0, nil) or "")
      for line in wrapped:gmatch("(.-)\r\n") do
        assert.is_true(#line <= 76)
        -- without its soft break, no line ends inside an escape
        assert.is_nil(line:gsub("=$", ""):find("=%x?$"), line)
      end
      assert.equal(mime.unqp(enc), mime.unqp(wrapped))
    end
  end)
end)

describe("mime.eol", function()
  it("normalises every mix of CR, LF, CRLF and LFCR", function()
    local cases = {
      {"a\rb", "a|b"}, {"a\nb", "a|b"}, {"a\r\nb", "a|b"}, {"a\n\rb", "a|b"},
      {"a\r\rb", "a||b"}, {"a\n\nb", "a||b"}, {"a\r\n\r\nb", "a||b"}, {"a\n\r\n\rb", "a||b"},
      {"\r\r\n", "|||"}, {"\n\r\r", "||"}, {"\r\n\n", "||"}, {"abc", "abc"}, {"", ""},
    }
    for _, c in ipairs(cases) do
      assert.equal(typed(c[2]), typed((mime.eol(0, c[1], "|"))), string.format("%q", c[1]))
    end
    assert.equal(typed("a\r\nb\r\n", 10.0), typed(mime.eol(0, "a\nb\n")))
  end)

  it("returns the context that joins a CRLF split across calls", function()
    assert.equal(typed("a|", 13.0), typed(mime.eol(0, "a\r", "|")))
    assert.equal(typed("b", 0.0), typed(mime.eol(13, "\nb", "|")))
    assert.equal(typed("|", 0.0), typed(mime.eol(13, "\r", "|")))
    assert.equal(typed("", 10.0), typed(mime.eol(10, "", "|")))
    assert.equal(typed(nil, 0.0), typed(mime.eol(13, nil)))
  end)

  it("matches the rule for every string of a, CR, LF up to 7 bytes, in every split", function()
    local alphabet = {"a", "\r", "\n"}
    local normalize = function(s, cut)
      local a, ctx = mime.eol(0, s:sub(1, cut), "|")
      local b = mime.eol(ctx, s:sub(cut + 1), "|")
      return a .. b
    end
    local checked = 0
    local function walk(s)
      local want = ref_eol(s, "|")
      for cut = 0, #s do
        assert.equal(want, normalize(s, cut), string.format("%q at %d", s, cut))
        checked = checked + 1
      end
      if #s < 7 then
        for _, c in ipairs(alphabet) do walk(s .. c) end
      end
    end
    walk("")
    assert.equal(24604, checked)
  end)
end)

describe("mime.dot", function()
  it("doubles a '.' at the start of the text and after CRLF only", function()
    assert.equal(typed("..a", 0.0), typed(mime.dot(2, ".a")))
    assert.equal(typed(".a", 0.0), typed(mime.dot(0, ".a")))
    assert.equal(typed("a\r\n..b\r\n..\r\n", 2.0), typed(mime.dot(2, "a\r\n.b\r\n.\r\n")))
    assert.equal(typed("a\n.b\r.c", 0.0), typed(mime.dot(2, "a\n.b\r.c")))
    assert.equal(typed("a.b..c", 0.0), typed(mime.dot(2, "a.b..c")))
  end)

  it("returns the state that carries a CRLF split across calls", function()
    assert.equal(typed("a\r", 1.0), typed(mime.dot(2, "a\r")))
    assert.equal(typed("\n", 2.0), typed(mime.dot(1, "\n")))
    assert.equal(typed("..", 0.0), typed(mime.dot(2, ".")))
    assert.equal(typed("", 2.0), typed(mime.dot(2, "")))
    assert.equal(typed(nil, 2.0), typed(mime.dot(0, nil)))
  end)

  it("stuffs the same through mime.stuff() whatever the chunk boundaries", function()
    local text = ".x\r\n.y\r\n..z\r\n.\r\nw.\r\n."
    local want = "..x\r\n..y\r\n...z\r\n..\r\nw.\r\n.."
    for size = 1, #text do
      assert.equal(want, run(text, {size}, mime.stuff()))
    end
    assert.equal(want, run(text, {1, 2, 3, 5}, mime.stuff()))
  end)
end)

describe("mime filters (ltn12)", function()
  local sizes = {{1}, {2}, {3}, {4}, {5}, {7}, {64}, {76}, {77}, {1000}, {1, 2, 3, 57, 4, 301}}

  it("round-trips random binary data through base64 encode, wrap and decode in many chunk sizes", function()
    math.randomseed(2045)
    for _, n in ipairs({0, 1, 2, 3, 57, 1000, 5000}) do
      local data = randbytes(n)
      local want = ref_b64(data):gsub(("."):rep(76), "%0\r\n"):gsub("([^\n])$", "%1\r\n")
      for _, sz in ipairs(sizes) do
        local wrapped = run(data, sz, mime.encode("base64"), mime.wrap("base64"))
        assert.equal(want, wrapped)
        assert.equal(data, run(wrapped, sz, mime.decode("base64")))
      end
    end
  end)

  it("round-trips random binary data through quoted-printable (binary mode) in many chunk sizes", function()
    math.randomseed(2046)
    for _, n in ipairs({0, 1, 2, 3, 100, 3000}) do
      local data = randbytes(n)
      local whole = run(data, {n + 1}, mime.encode("quoted-printable", "binary"), mime.wrap("quoted-printable"))
      for line in whole:gmatch("(.-)\r\n") do assert.is_true(#line <= 76) end
      for _, sz in ipairs(sizes) do
        assert.equal(whole, run(data, sz, mime.encode("quoted-printable", "binary"), mime.wrap("quoted-printable")))
        assert.equal(data, run(whole, sz, mime.decode("quoted-printable")))
      end
    end
  end)

  it("encodes text: normalize, quoted-printable, wrap; decoding gives the CRLF text back", function()
    local text = "Caf\233 au lait \nline two ends in blanks \t\r\n" .. ("long "):rep(30) .. "\rlast= "
    local crlf = ref_eol(text, "\r\n")
    local enc = run(text, {7}, mime.normalize(), mime.encode("quoted-printable"), mime.wrap("quoted-printable"))
    local head = "Caf=E9 au lait=20\r\nline two ends in blanks =09\r\n"
    assert.equal(head, enc:sub(1, #head))
    for line in enc:gmatch("(.-)\r\n") do assert.is_true(#line <= 76) end
    for _, sz in ipairs(sizes) do
      assert.equal(enc, run(text, sz, mime.normalize(), mime.encode("quoted-printable"), mime.wrap("quoted-printable")))
      assert.equal(crlf, run(enc, sz, mime.decode("quoted-printable")))
    end
  end)

  it("wraps text at a given length and normalises to a given marker", function()
    assert.equal("abcd\r\nefgh\r\nij\r\n", run("abcdefghij", {3}, mime.wrap("text", 4)))
    assert.equal("abcd\r\nefgh\r\nij\r\n", run("abcdefghij", {3}, mime.wrap(4)))
    assert.equal("a\nb\nc\n\nd", run("a\r\nb\rc\n\nd", {1}, mime.normalize("\n")))
  end)

  it("picks filters by name and raises on an unknown one", function()
    mime.encodet["upper"] = function() return function(chunk) return chunk and chunk:upper() end end
    assert.equal("ABC", run("abc", {1}, mime.encode("upper")))
    mime.encodet["upper"] = nil
    H.raises(mime.encode, {"nope"}, "unknown key (nope)")
    H.raises(mime.decode, {"text"}, "unknown key (text)")
    H.raises(mime.encode, {}, "unknown key (default)")
  end)
end)

describe("mime step functions on long input", function()
  -- One call over everything, against the same step fed in chunks.
  local function stepped(f, data, size, extra)
    local out, ctx = {}, ""
    for i = 1, #data, size do
      local a
      a, ctx = f(ctx, data:sub(i, i + size - 1), extra)
      out[#out + 1] = a
    end
    out[#out + 1] = f(ctx, nil, extra)
    return table.concat(out)
  end

  it("give the same result in chunks across their internal block sizes", function()
    math.randomseed(1024)
    local marks = {"\r\n", " ", "\t", "=", "=3D", "=\r\n", "a", "Zm9v"}
    local parts = {}
    for i = 1, 4000 do
      parts[i] = math.random() < 0.5 and marks[math.random(#marks)] or string.char(math.random(0, 255))
    end
    local data = table.concat(parts)
    for _, name in ipairs({"b64", "unb64", "qp", "unqp"}) do
      local whole = mime[name](data) or ""
      for _, size in ipairs({1023, 1024, 1025, 3071, 3072, 4097}) do
        assert.equal(whole, stepped(mime[name], data, size), name .. " in chunks of " .. size)
      end
    end
  end)

  it("take linear time on a megabyte of line breaks", function()
    local crs, lfs = ("a\r"):rep(500000), ("a\n"):rep(500000)
    local t0 = os.clock()
    assert.equal(1500000, #mime.eol(0, crs))
    assert.equal(1500000, #mime.eol(0, lfs))
    assert.equal(1000000, #mime.dot(0, crs))
    assert.equal(500000, #mime.wrp(2 ^ 40, crs, 2 ^ 40))
    assert.equal(1500000, #mime.qpwrp(2 ^ 40, lfs, 2 ^ 40))
    assert.equal(2000003, #mime.qp(crs))          -- "a=0D" each, the last "=0D=\r\n"
    assert.is_true(os.clock() - t0 < 5)       -- about 0.05 s here; quadratic would take minutes
  end)
end)

describe("mime bad input", function()
  it("raises naming the argument on wrong types", function()
    H.raises(mime.b64, {{}}, "bad argument #1", "string expected, got table")
    H.raises(mime.unb64, {"x", {}}, "bad argument #2", "string expected, got table")
    H.raises(mime.qp, {"a", nil, {}, n = 3}, "bad argument #3", "string expected, got table")
    H.raises(mime.unqp, {true}, "bad argument #1", "string expected, got boolean")
    H.raises(mime.wrp, {"x"}, "bad argument #1", "number expected, got string")
    H.raises(mime.wrp, {}, "bad argument #1", "number expected, got no value")
    H.raises(mime.qpwrp, {76, "a", "z"}, "bad argument #3", "number expected, got string")
    H.raises(mime.eol, {1.5, ""}, "bad argument #1", "number has no integer representation")
    H.raises(mime.eol, {0, "", {}}, "bad argument #3", "string expected, got table")
    H.raises(mime.dot, {nil, "x", n = 2}, "bad argument #1", "number expected, got nil")
  end)

  it("takes numbers where strings go, as Lua does", function()
    assert.equal("MTIz", mime.b64(123))
    assert.equal(typed("12\r\n3", 1.0), typed(mime.wrp(2, 123, 2)))
  end)

  it("survives random garbage in every function, with bounded output", function()
    math.randomseed(99)
    local marks = {"\r", "\n", "=", " ", "\t", ".", "A", "0", "f"}
    for _ = 1, 400 do
      local parts = {}
      for i = 1, math.random(0, 40) do
        parts[i] = math.random() < 0.5 and marks[math.random(#marks)] or string.char(math.random(0, 255))
      end
      local g = table.concat(parts)
      local cut = math.random(0, #g)
      local c, d = g:sub(1, cut), g:sub(cut + 1)
      local a, b = mime.unqp(c, d)
      assert.is_true(#a + #b <= #g)
      a, b = mime.unb64(c, d)
      assert.is_true(#a <= math.floor(#g / 4) * 3 and #b <= 3)
      a, b = mime.qp(c, d)
      assert.is_true(#a <= 3 * #g and #b <= 2)
      assert.is_true(#mime.wrp(math.random(-5, 80), g, math.random(-5, 80)) <= 3 * #g)
      assert.is_true(#mime.qpwrp(math.random(-5, 80), g, math.random(-5, 80)) <= 4 * #g)
      assert.is_true(#mime.eol(math.random(0, 13), g) <= 2 * #g)
      assert.is_true(#mime.dot(math.random(0, 2), g) <= 2 * #g)
    end
  end)
end)

describe("mime.core against Debian's lua-socket", function()
  it("gives the same results on random inputs and chunk splits", function()
    if not deb then
      pending("Debian's lua-socket mime.core is not installed")
      return
    end
    assert.equal(deb._VERSION, mime._VERSION)
    math.randomseed(31)
    local marks = {"\r", "\n", "\r\n", "=", "=\r\n", "=4", "1", "F", "f", " ", "\t", ".", "A", "z", "+", "/", "\0"}
    local function gen(max)
      local t = {}
      for i = 1, math.random(0, max) do
        t[i] = math.random() < 0.6 and marks[math.random(#marks)] or string.char(math.random(0, 255))
      end
      return table.concat(t)
    end
    local calls, skipped = 0, 0
    local function same(name, ...)
      calls = calls + 1
      assert.equal(typed(deb[name](...)), typed(mime[name](...)), name .. "(" .. typed(...) .. ")")
    end
    for round = 1, 1500 do
      local c, d = gen(round % 7 == 0 and 300 or 12), gen(12)
      if round % 3 == 0 then d = nil end
      same("b64", c, d)
      same("unb64", c, d)
      -- 3.x's unqp answers nil when the result starts with a NUL byte and D
      -- is nil (tested above): compare the other cases
      local ours = mime.unqp(c, d)
      if d == nil and ours and ours:byte(1) == 0 then skipped = skipped + 1 else same("unqp", c, d) end
      same("qp", c, d)
      same("qp", c, d, "=0D=0A")
      local left, length = math.random(-3, 80), math.random(-2, 80)
      same("wrp", left, c, length)
      same("wrp", left, d)
      same("qpwrp", left, c, length)
      same("qpwrp", left, d)
      same("eol", ({0, 10, 13})[math.random(3)], c, "<M>")
      same("eol", ({0, 10, 13})[math.random(3)], d)
      same("dot", math.random(0, 2), c)
      same("dot", math.random(0, 2), d)
    end
    assert.equal(1500 * 13, calls + skipped)
    assert.is_true(skipped < 50)
  end)
end)
