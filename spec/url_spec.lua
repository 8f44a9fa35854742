-- socket.url (doc/url.md): LuaSocket 3.x's results, quirks included. The
-- shared cases run against our module and, where Debian's lua-socket is
-- installed, against its 3.1.0 url.lua too (loaded with a stand-in socket
-- table, so that it cannot replace ours), to prove the two agree.
local socket = require("socket")
local url = require("socket.url")
local H = require("helper")

local DEBIAN = "/usr/share/lua/5.4/socket/url.lua"
local debian = loadfile(DEBIAN, "t", setmetatable({
  require = function(name) return name == "socket" and {} or require(name) end,
}, { __index = _G }))
local IMPLS = { { name = "netsocket socket.url", U = url } }
if debian then IMPLS[2] = { name = "Debian's socket.url (3.1.0)", U = debian() } end

local pack = table.pack

-- RFC 3986 §5.4: base "http://a/b/c/d;p?q". `rfc` is the RFC's answer; `x3`,
-- where given, is what 3.x answers instead (it keeps RFC 2396's ";params"
-- and removes dot segments from queries and fragments too).
local RFC_BASE = "http://a/b/c/d;p?q"
local RFC_NORMAL = {
  { "g:h", "g:h" }, { "g", "http://a/b/c/g" }, { "./g", "http://a/b/c/g" }, { "g/", "http://a/b/c/g/" },
  { "/g", "http://a/g" }, { "//g", "http://g" }, { "?y", "http://a/b/c/d;p?y" },
  { "g?y", "http://a/b/c/g?y" }, { "#s", "http://a/b/c/d;p?q#s" }, { "g#s", "http://a/b/c/g#s" },
  { "g?y#s", "http://a/b/c/g?y#s" }, { ";x", "http://a/b/c/;x", x3 = "http://a/b/c/d;x" },
  { "g;x", "http://a/b/c/g;x" }, { "g;x?y#s", "http://a/b/c/g;x?y#s" }, { "", "http://a/b/c/d;p?q" },
  { ".", "http://a/b/c/" }, { "./", "http://a/b/c/" }, { "..", "http://a/b/" }, { "../", "http://a/b/" },
  { "../g", "http://a/b/g" }, { "../..", "http://a/" }, { "../../", "http://a/" }, { "../../g", "http://a/g" },
}
local RFC_ABNORMAL = {
  { "../../../g", "http://a/g" }, { "../../../../g", "http://a/g" }, { "/./g", "http://a/g" },
  { "/../g", "http://a/g" }, { "g.", "http://a/b/c/g." }, { ".g", "http://a/b/c/.g" },
  { "g..", "http://a/b/c/g.." }, { "..g", "http://a/b/c/..g" }, { "./../g", "http://a/b/g" },
  { "./g/.", "http://a/b/c/g/" }, { "g/./h", "http://a/b/c/g/h" }, { "g/../h", "http://a/b/c/h" },
  { "g;x=1/./y", "http://a/b/c/g;x=1/y" }, { "g;x=1/../y", "http://a/b/c/y" },
  { "g?y/./x", "http://a/b/c/g?y/./x", x3 = "http://a/b/c/g?y/x" },
  { "g?y/../x", "http://a/b/c/g?y/../x", x3 = "http://a/b/c/x" },
  { "g#s/./x", "http://a/b/c/g#s/./x", x3 = "http://a/b/c/g#s/x" },
  { "g#s/../x", "http://a/b/c/g#s/../x", x3 = "http://a/b/c/x" },
  { "http:g", "http:g" },                     -- the RFC's strict parser; 3.x agrees
}

-- url -> the table parse returns.
local PARSE = {
  { "http://user:pass@host:8080/p/a/t/h;par?q=1#frag", {
    scheme = "http", authority = "user:pass@host:8080", userinfo = "user:pass", user = "user",
    password = "pass", host = "host", port = "8080", path = "/p/a/t/h", params = "par", query = "q=1",
    fragment = "frag" } },
  { "http://[::1]:80/x", { scheme = "http", authority = "[::1]:80", host = "::1", port = "80", path = "/x" } },
  { "http://[fe80::1%25eth0]/", { scheme = "http", authority = "[fe80::1%25eth0]", host = "fe80::1%25eth0", path = "/" } },
  { "ftp://u@h", { scheme = "ftp", authority = "u@h", userinfo = "u", user = "u", host = "h" } },
  -- no "//": "user" is the scheme and the rest is the path
  { "user:password@host:80", { scheme = "user", path = "password@host:80" } },
  { "localhost:8080", { scheme = "localhost", path = "8080" } },
  { "3com:x", { scheme = "3com", path = "x" } },
  { "mailto:a@b.c", { scheme = "mailto", path = "a@b.c" } },
  -- the password is after the last ":", the host after the first "@"
  { "//u:p:w@h", { authority = "u:p:w@h", userinfo = "u:p:w", user = "u:p", password = "w", host = "h" } },
  { "http://a:b@c@d/", { scheme = "http", authority = "a:b@c@d", userinfo = "a:b", user = "a", password = "b",
    host = "c@d", path = "/" } },
  -- the authority runs to the next "/", "?" and "#" included
  { "http://h?x#y", { scheme = "http", authority = "h?x#y", host = "h?x#y" } },
  { "http://h:", { scheme = "http", authority = "h:", host = "h", port = "" } },
  { "http://::1/", { scheme = "http", authority = "::1", host = ":", port = "1", path = "/" } },
  { "http://[]/", { scheme = "http", authority = "[]", host = "[]", path = "/" } },
  { "file:///etc/passwd", { scheme = "file", authority = "", path = "/etc/passwd" } },
  { "//@", { authority = "@", userinfo = "", user = "" } },
  { "/a;p?q#f", { path = "/a", params = "p", query = "q", fragment = "f" } },
  { "a#b?c;d", { path = "a", fragment = "b?c;d" } },
  { "x:", { scheme = "x" } }, { "?", { query = "" } }, { "#", { fragment = "" } }, { ";", { params = "" } },
}

-- parsed table -> the string build returns.
local BUILD = {
  { {}, "" },
  { { scheme = "http", host = "h", port = 8080, path = "/x", query = "a=1", fragment = "f" }, "http://h:8080/x?a=1#f" },
  { { scheme = "http", host = "::1", port = "80", path = "/" }, "http://[::1]:80/" },
  { { scheme = "http", host = "[::1]" }, "http://[[::1]]" },        -- a host with ":" is always bracketed
  { { host = "h", user = "u", password = "p", userinfo = "ignored" }, "//u:p@h" },
  { { host = "h", userinfo = "x:y", password = "p" }, "//x:y@h" },  -- a password needs a user
  { { authority = "kept", user = "u", port = 1 }, "//kept" },      -- without a host, the authority as given
  { { host = "h", path = "p" }, "//hp" },                           -- no "/" is added
  { { path = "/a b", params = "p", scheme = "x" }, "x:/a b;p" },    -- nothing is escaped
}

local function cases(U)
  it("_VERSION is 'URL 1.0.3'", function()
    assert.equal("URL 1.0.3", U._VERSION)
  end)

  describe("escape and unescape", function()
    it("escape turns every byte but letters, digits and '_' into %xx, lower-case", function()
      assert.equal("a%20b%2fc%3fd%3d%c3%a9_%2e%2d%7e", U.escape("a b/c?d=é_.-~"))
      assert.equal("12%2e5", U.escape(12.5))
      assert.equal("", U.escape(""))
    end)

    it("unescape decodes %xx in either case and leaves other '%' alone", function()
      assert.equal("AJ\255%zz%4%", U.unescape("%41%4a%fF%zz%4%"))
      assert.equal("a+b", U.unescape("a+b"))
      assert.equal("7", U.unescape(7))
    end)

    it("unescape(escape(s)) gives back every byte", function()
      local all = {}
      for b = 0, 255 do all[#all + 1] = string.char(b) end
      local s = table.concat(all)
      local e = U.escape(s)
      assert.equal(62 + 1 + 3 * (256 - 63), #e)
      assert.equal(s, U.unescape(e))
    end)
  end)

  describe("parse", function()
    for _, c in ipairs(PARSE) do
      it(("parses %q"):format(c[1]), function()
        assert.same(c[2], U.parse(c[1]))
      end)
    end

    it("returns nil, 'invalid url' for '', nil and false", function()
      assert.same({ n = 2, nil, "invalid url" }, pack(U.parse("")))
      assert.same({ n = 2, nil, "invalid url" }, pack(U.parse(nil)))
      assert.same({ n = 2, nil, "invalid url" }, pack(U.parse(false, { scheme = "x" })))
    end)

    it("takes a number as a string", function()
      assert.same({ path = "123" }, U.parse(123))
    end)

    it("starts from a copy of the default table", function()
      local default = { scheme = "http", port = 80, path = "/" }
      assert.same({ scheme = "http", port = "81", host = "h", authority = "h:81", path = "/" },
        U.parse("//h:81", default))
      assert.same({ scheme = "http", port = 80, path = "/" }, default)
    end)

    it("splits a default authority or userinfo too, when the url has none", function()
      assert.same({ authority = "u@h:1", userinfo = "u", user = "u", host = "h", port = "1", path = "/x" },
        U.parse("/x", { authority = "u@h:1" }))
      assert.same({ scheme = "http", authority = "h", host = "h", port = 80, userinfo = "a:b", user = "a",
        password = "b", path = "/x" }, U.parse("//h/x", { userinfo = "a:b", port = 80, scheme = "http" }))
    end)
  end)

  describe("build", function()
    for i, c in ipairs(BUILD) do
      it("builds case " .. i .. ": " .. c[2], function()
        assert.equal(c[2], U.build(c[1]))
      end)
    end

    it("build(parse(s)) gives s back", function()
      for _, s in ipairs({ "http://user:pass@host:8080/p/a/t/h;par?q=1#frag", "http://[::1]:80/x",
        "ftp://u@h", "mailto:a@b.c", "file:///etc/passwd", "/a;p?q#f", "//u:p:w@h", "http://h:" }) do
        assert.equal(s, U.build(U.parse(s)))
      end
    end)
  end)

  describe("absolute", function()
    for _, c in ipairs(RFC_NORMAL) do
      it(("RFC 3986 §5.4.1 %q -> %s"):format(c[1], c.x3 and c.x3 .. " (RFC: " .. c[2] .. ")" or c[2]), function()
        assert.equal(c.x3 or c[2], U.absolute(RFC_BASE, c[1]))
      end)
    end
    for _, c in ipairs(RFC_ABNORMAL) do
      it(("RFC 3986 §5.4.2 %q -> %s"):format(c[1], c.x3 and c.x3 .. " (RFC: " .. c[2] .. ")" or c[2]), function()
        assert.equal(c.x3 or c[2], U.absolute(RFC_BASE, c[1]))
      end)
    end

    it("removes dot segments from the whole result, queries and fragments included", function()
      assert.equal("http://a/b/y", U.absolute("http://a/b/c", "d?x=/../y"))
      assert.equal("http://a/b/d#/f", U.absolute("http://a/b/c", "d#/./f"))
      assert.equal("http://x/z", U.absolute("http://a/b/c", "http://x/./y/../z"))
    end)

    it("lets '..' remove an empty segment, and keeps '...'", function()
      assert.equal("http://a/b/g/h", U.absolute("http://a/b/c", "g//../h"))
      assert.equal("http://a/b/.../g", U.absolute("http://a/b/c", ".../g"))
      assert.equal("http://a/b/", U.absolute("http://a/b/c", "g/.."))
      assert.equal("http://a/h", U.absolute("http://a/b/c", "/g/../../h"))
    end)

    it("takes a parsed base; its authority counts, its host does not", function()
      assert.equal("http://a/b/d", U.absolute({ scheme = "http", authority = "a", path = "/b/c" }, "d"))
      assert.equal("http:/b/d", U.absolute({ scheme = "http", host = "a", path = "/b/c" }, "d"))
    end)

    it("gives the other url when one of the two does not parse", function()
      assert.equal("x", U.absolute("", "x"))
      assert.equal("../x", U.absolute(nil, "../x"))
      assert.equal("http://a/b", U.absolute("http://a/b", nil))
      assert.equal("http://a/c", U.absolute("http://a/./b/../c", ""))
      assert.equal("", U.absolute("", ""))
    end)
  end)

  describe("parse_path and build_path", function()
    it("parse_path splits and unescapes the segments", function()
      assert.same({ "a", "b c", is_absolute = 1, is_directory = 1 }, U.parse_path("/a/b%20c/"))
      assert.same({ "a", "b" }, U.parse_path("a//b"))
      assert.same({ is_absolute = 1, is_directory = 1 }, U.parse_path("/"))
      assert.same({}, U.parse_path(""))
      assert.same({}, U.parse_path(nil))
      assert.same({ "42" }, U.parse_path(42))
      assert.same({ "a/b", "..", is_absolute = 1 }, U.parse_path("/a%2Fb/.."))
    end)

    it("build_path escapes each segment in upper-case hex, keeping -.!~*'():@&=+$,_", function()
      assert.equal("/a%20b/c%2Fd", U.build_path({ "a b", "c/d", is_absolute = 1 }))
      assert.equal("-.!~*'():@&=+$,_/%25%3F%23%3B%5B%5D", U.build_path({ "-.!~*'():@&=+$,_", "%?#;[]" }))
      assert.equal("x/", U.build_path({ "x", is_directory = 1 }))
      assert.equal("1/2", U.build_path({ 1, 2 }))
    end)

    it("build_path with unsafe joins the segments as they are", function()
      assert.equal("/a b/c/d/", U.build_path({ "a b", "c/d", is_absolute = 1, is_directory = 1 }, true))
    end)

    it("is_directory needs a segment, is_absolute does not", function()
      assert.equal("", U.build_path({ is_directory = 1 }))
      assert.equal("/", U.build_path({ is_absolute = 1, is_directory = 1 }))
    end)

    it("build_path(parse_path(p)) gives p back for escaped paths", function()
      for _, p in ipairs({ "/a/b%20c/", "x", "/", "", "/%25/%3F/" }) do
        assert.equal(p, U.build_path(U.parse_path(p)))
      end
    end)
  end)
end

for _, impl in ipairs(IMPLS) do
  describe(impl.name, function() cases(impl.U) end)
end
if not debian then
  pending("Debian's " .. DEBIAN .. " is not installed: agreement with 3.1.0 not checked")
end

describe("netsocket socket.url beyond the shared cases", function()
  it("is stored as require('socket').url, as in 3.x", function()
    assert.equal(url, socket.url)
    assert.equal(url, package.loaded["socket.url"])
  end)

  it("misuse raises naming the argument", function()
    local calls = {
      { url.escape, { n = 0 }, "#1 to 'escape' (string expected, got no value)" },
      { url.escape, { n = 1, {} }, "#1 to 'escape' (string expected, got table)" },
      { url.unescape, { n = 1, true }, "#1 to 'unescape' (string expected, got boolean)" },
      { url.parse, { n = 1, {} }, "#1 to 'parse' (string expected, got table)" },
      { url.parse, { n = 2, "x", "y" }, "#2 to 'parse' (table expected, got string)" },
      { url.build, { n = 0 }, "#1 to 'build' (table expected, got no value)" },
      { url.build, { n = 1, "http://x" }, "#1 to 'build' (table expected, got string)" },
      { url.absolute, { n = 2 }, "#2 to 'absolute' (string expected, got no value)" },
      { url.absolute, { n = 2, true, "x" }, "#1 to 'absolute' (string expected, got boolean)" },
      { url.absolute, { n = 2, "http://a/", {} }, "#2 to 'absolute' (string expected, got table)" },
      { url.parse_path, { n = 1, {} }, "#1 to 'parse_path' (string expected, got table)" },
      { url.build_path, { n = 0 }, "#1 to 'build_path' (table expected, got no value)" },
      { url.build_path, { n = 1, { "a", {} } }, "#1 to 'build_path' (segment 2 is a table, not a string)" },
    }
    for _, c in ipairs(calls) do H.raises(c[1], c[2], "bad argument " .. c[3]) end
  end)

  if debian then
    it("3.x also raises on the nil or table arguments above (only the message differs)", function()
      local D = IMPLS[2].U
      for _, c in ipairs({ { D.escape, {} }, { D.parse, { "x", "y" } }, { D.build, {} },
        { D.absolute, {} }, { D.parse_path, { {} } }, { D.build_path, { { "a", {} } } } }) do
        assert.is_false(pcall(c[1], table.unpack(c[2])))
      end
    end)

    it("agrees with 3.1.0 on 3000 random urls made of the characters that matter", function()
      local D = IMPLS[2].U
      local alphabet = { "a", "b", "/", "/", ".", "..", ":", "@", "[", "]", "?", "#", ";", "%", "%41", "1",
        "\1", "-", "//", "http:", "::1", " ", "~" }
      local rng = 12345
      local function rand(n)                      -- a fixed LCG: the same urls on every run
        rng = (rng * 1103515245 + 12345) % 2147483648
        return rng % n + 1
      end
      local function random(max)
        local t = {}
        for i = 1, rand(max + 1) - 1 do t[i] = alphabet[rand(#alphabet)] end
        return table.concat(t)
      end
      local wrong = {}
      for _ = 1, 3000 do
        local s, r = random(10), random(8)
        local checks = {
          { "parse", url.parse(s), D.parse(s) },
          { "parse default", url.parse(s, { port = "80", authority = r }), D.parse(s, { port = "80", authority = r }) },
          { "build", url.build(url.parse(s) or {}), D.build(D.parse(s) or {}) },
          { "absolute", url.absolute(s, r), D.absolute(s, r) },
          { "escape", url.escape(s), D.escape(s) },
          { "unescape", url.unescape(s), D.unescape(s) },
          { "build_path", url.build_path(url.parse_path(s)), D.build_path(D.parse_path(s)) },
        }
        for _, c in ipairs(checks) do
          local ok = pcall(assert.same, c[3], c[2])
          if not ok and #wrong < 5 then wrong[#wrong + 1] = ("%s(%q, %q)"):format(c[1], s, r) end
        end
      end
      assert.same({}, wrong)
    end)
  end
end)
