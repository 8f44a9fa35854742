-- Checks the reference pages in doc/ against the code, both ways, runs every
-- ```lua example of the reference pages, the guides and README.md, and checks
-- that links between them lead somewhere.
--
-- Documentation convention (what this spec parses):
--
--  * Every function, method, constant and table has its own Markdown heading
--    (any level, outside code fences) whose text is its signature:
--      doc/socket.md  "### socket.NAME(args)" or "### socket.NAME{fields}" for a
--                     function, "### socket.NAME" for a constant or table
--      doc/dns.md     "### socket.dns.NAME(args)", and "### address:NAME(args)"
--                     for a method of the dns{address} class
--      doc/unix.md    "### unix.NAME(args)" (require("socket.unix")) and
--                     "### pipe.NAME(args)" (require("socket.pipe"))
--      doc/ssl.md     "### ssl.NAME(args)" and "### ssl.NAME" (require("socket.ssl"))
--    and methods are written "### PREFIX:NAME(args)", where PREFIX says which
--    classes of a class group the method works on (see GROUPS below):
--      doc/tcp.md     sock (all three), master, client, server  -> tcp{...}
--      doc/udp.md     udp (both), unconnected, connected        -> udp{...}
--      doc/unix.md    stream (all three), master, client, server -> unixstream{...}
--                     dgram (both), unconnected, connected       -> unixdgram{...}
--      doc/dns.md     address                                    -> dns{address}
--      doc/ssl.md     conn -> ssl{connection}, ctx -> ssl{context}, cert -> ssl{x509}
--    (doc/ssl.md is checked where socket.ssl is built; it is pending elsewhere)
--    Aliases share one heading: "### sock:connect(a, p) · sock:setpeername(a, p)".
--    A heading that looks like a signature but does not fit its page's forms
--    is reported, so typos cannot hide an entry.
--  * Forward: every documented name exists (the socket table, socket.dns,
--    require("socket.unix"), require("socket.pipe"), or the __index table of
--    each class metatable in debug.getregistry()); names written with "(" or
--    "{" are functions, the others are not. The class prefix of a method is
--    checked by calling the method on a closed object of every class of its
--    group: the documented classes must not raise "GROUP{...} expected", the
--    others must.
--  * Backward: every key of those tables that does not start with "_", and
--    every key of each class __index table except `class`, has a heading on
--    its page. (Constants starting with "_" are checked forward only.)
--  * The "... methods per class" tables (tcp.md, udp.md, unix.md) must agree
--    with the headings.
--  * Every doc/*.md page is either checked here or listed as pending below.
--  * Every relative link [text](page.md#anchor) in the checked pages names a
--    file that exists, and an anchor that one of its headings produces.
--  * Every ```lua block of the checked pages is loaded and run with pcall.
--    Line numbers in errors are those of the .md file. Each example must
--    finish within a few seconds and must close every TCP, UDP and unix
--    socket it opens, without help from the garbage collector (the process's
--    socket descriptors are compared, Linux /proc). A `print(...)` whose line
--    ends in "--> values" must print those values (see annotations()).
--    A block right after the line "<!-- needs socket.ssl -->" (an HTML
--    comment: invisible on the rendered page) is pending where socket.ssl is
--    not built, and a block with a `<close>` variable is pending before
--    Lua 5.4 (the pages show 5.4 code; the library itself runs on 5.1 up).
local socket = require("socket")
local HASCLOSE = (load or _G.loadstring)("local x <close> = nil") ~= nil
local FLOATDOT = tostring(2.0) == "2.0"                    -- 5.3 on
local unix = require("socket.unix")
local pipe = require("socket.pipe")
local co = require("socket.co")
local H = require("helper")
local ltn12 = require("ltn12")
-- The protocol modules store themselves in `socket` (3.x): load them all, so
-- that the socket table is the same whatever ran before in this process.
for _, m in ipairs({ "socket.url", "socket.headers", "socket.http", "socket.tp", "socket.smtp", "socket.ftp" }) do
  require(m)
end
local hasssl, ssl = pcall(require, "socket.ssl")

local ROOT = (debug.getinfo(1, "S").source:match("^@(.*)spec/doc_spec%.lua$") or "")
local function path(rel) return ROOT .. rel end

-- Reference pages: signatures checked both ways, examples run.
local REFERENCE = { "doc/socket.md", "doc/tcp.md", "doc/udp.md", "doc/unix.md", "doc/dns.md", "doc/co.md",
                    "doc/ltn12.md", "doc/url.md", "doc/mime.md", "doc/http.md", "doc/tp.md",
                    "doc/smtp.md", "doc/ftp.md" }
-- Guides: examples run, links checked.
local GUIDES = { "README.md", "doc/getting-started.md", "doc/migration.md", "doc/performance.md",
                 "doc/reliability.md", "doc/windows.md", "doc/httpd.md" }
-- Pages of work in progress, not checked yet. When one lands, move it to
-- REFERENCE and give it its signature forms (TABLES, GROUPS) here.
local PENDING = {
}

if hasssl then
  REFERENCE[#REFERENCE + 1] = "doc/ssl.md"
else
  PENDING["doc/ssl.md"] = "socket.ssl is not built here (no OpenSSL headers)"
end

local function readlines(rel)
  local f = assert(io.open(path(rel), "r"), "cannot open " .. rel)
  local lines = {}
  for l in f:lines() do lines[#lines + 1] = l end
  f:close()
  return lines
end

-- Headings outside code fences, the ```lua blocks and the links of one page.
local function parse(rel)
  local lines = readlines(rel)
  local headings, blocks, links = {}, {}, {}
  local fence, block = false, nil
  local needs                                    -- the "<!-- needs X -->" just before a fence
  for n, l in ipairs(lines) do
    if fence then
      if l:match("^```%s*$") then
        fence, needs = false, nil
        if block then
          blocks[#blocks + 1] = block
          block = nil
        end
      elseif block then
        block.code[#block.code + 1] = l
      end
    elseif l:match("^```") then
      fence = true
      if l:match("^```lua%s*$") then block = { line = n, code = {}, needs = needs } end
    else
      if l:match("%S") then needs = l:match("^<!%-%- needs (%S+) %-%->%s*$") end
      if l:match("^#+%s") then
        headings[#headings + 1] = { line = n, text = (l:gsub("`", "")) }
      end
      for target in l:gmatch("%]%(([^)%s]+)%)") do
        links[#links + 1] = { line = n, target = target }
      end
    end
  end
  assert(not fence, rel .. ": unterminated code fence")
  return headings, blocks, links
end

-- Every "chain(" / "chain{" / bare "a.b" in a heading.
-- Returns a list of {chain=, call=bool, line=}.
local function signatures(headings)
  local out = {}
  for _, h in ipairs(headings) do
    local t = h.text:gsub("^#+%s*", "")
    for chain, open in t:gmatch("([%a_][%w_]*[%.:][%w_%.:]*)%s*([%(%{]?)") do
      -- prose may yield chains too ("Recipe:"); each page's forms below
      -- keep signatures and report calls that fit no known form
      out[#out + 1] = { chain = chain:gsub("[%.:]$", ""), call = open ~= "", line = h.line }
    end
  end
  return out
end

local parsed = {}
for _, list in ipairs({ REFERENCE, GUIDES }) do
  for _, rel in ipairs(list) do
    local headings, blocks, links = parse(rel)
    parsed[rel] = { headings = headings, blocks = blocks, links = links, sigs = signatures(headings) }
  end
end

local function sorted(t)
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = k end
  table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
  return keys
end

------------------------------------------------------------------------------
-- Sockets this process holds open, as a set of "fd N socket:[inode] (kind)".
-- Only sockets listed in /proc/net/{tcp,tcp6,udp,udp6,unix} count; the pipe
-- of the `ls` below is no socket.

local NET = { tcp = "TCP", tcp6 = "TCP", udp = "UDP", udp6 = "UDP", unix = "unix" }
local INET_INODE = "^%s*%d+:" .. string.rep("%s+%S+", 8) .. "%s+(%d+)"
local UNIX_INODE = "^%S+" .. string.rep("%s+%S+", 5) .. "%s+(%d+)"

local function sockets()
  local kind = {}
  for f, k in pairs(NET) do
    local h = io.open("/proc/net/" .. f, "r")
    if h then
      for l in h:lines() do
        local inode = l:match(f == "unix" and UNIX_INODE or INET_INODE)
        if inode and inode ~= "0" then kind[inode] = k end
      end
      h:close()
    end
  end
  local out = H.sh("ls -l /proc/" .. H.pid() .. "/fd")
  local set = {}
  for fd, inode in out:gmatch("(%d+) %-> socket:%[(%d+)%]") do
    if kind[inode] then set["fd " .. fd .. " socket:[" .. inode .. "] (" .. kind[inode] .. ")"] = true end
  end
  return set
end

------------------------------------------------------------------------------
-- Closed objects of every class: none of them owns a descriptor or a file.

-- A fresh descriptor adopted as `cls` by socket.fromfd, then closed.
local function adopted(make, cls)
  local m = assert(make())
  local fd = m:getfd()
  m:setfd(-1)
  m:close()
  local o = assert(socket.fromfd(fd, cls))
  o:close()
  return o
end

local CLOSED = {
  ["tcp{master}"] = function()
    local m = socket.tcp()
    m:close()
    return m
  end,
  ["tcp{client}"] = function()
    local c = socket.tcp()
    c:connect("127.0.0.1", 70000)       -- "invalid port": a client with no socket
    c:close()
    return c
  end,
  ["tcp{server}"] = function()
    local s = assert(socket.bind("127.0.0.1", 0))
    s:close()
    return s
  end,
  ["udp{unconnected}"] = function()
    local u = assert(socket.udp4())
    u:close()
    return u
  end,
  ["udp{connected}"] = function()
    local u = assert(socket.udp4())
    assert(u:setpeername("127.0.0.1", 9))   -- records the peer, sends nothing
    u:close()
    return u
  end,
  ["unixstream{master}"] = function()
    local m = assert(unix.stream())
    m:close()
    return m
  end,
  ["unixstream{client}"] = function() return adopted(unix.stream, "unixstream{client}") end,
  ["unixstream{server}"] = function() return adopted(unix.stream, "unixstream{server}") end,
  ["unixdgram{unconnected}"] = function()
    local d = assert(unix.dgram())
    d:close()
    return d
  end,
  ["unixdgram{connected}"] = function()
    local p = os.tmpname()
    os.remove(p)
    local peer = assert(unix.dgram())
    assert(peer:bind(p))
    local d = assert(unix.dgram())
    assert(d:connect(p))
    peer:close()
    d:close()
    os.remove(p)
    return d
  end,
  ["signal"] = function()
    local s = assert(socket.signal("INT"))
    s:close()
    return s
  end,
  ["dns{address}"] = function()
    local a = socket.dns.resolve("127.0.0.1")
    a:close()
    return a
  end,
  ["ssl{connection}"] = function()
    local c = ssl.wrap(socket.tcp(), { verify = "none" })   -- takes fd -1
    c:close()
    return c
  end,
  ["ssl{context}"] = function() return assert(ssl.newcontext({ verify = "none" })) end,
  ["ssl{x509}"] = function()
    local made = os.getenv("NETSOCKET_CERTS")       -- make test-windows: no openssl tool
    if made and made ~= "" then return assert(ssl.loadcertificate(assert(H.readfile(made .. "/server.pem")))) end
    local pem = H.sh("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
      .. "-keyout /dev/null -subj /CN=doc -days 1 2>/dev/null")
    return assert(ssl.loadcertificate(pem))
  end,
}

------------------------------------------------------------------------------
-- Signature forms, page by page.

-- Function tables: "### PREFIX.NAME(args)" headings. With `constants`, bare
-- "### PREFIX.NAME" headings document non-functions.
local TABLES = {
  { page = "doc/socket.md", prefix = "socket", t = socket, constants = true },
  { page = "doc/dns.md", prefix = "socket.dns", t = socket.dns },
  { page = "doc/unix.md", prefix = "unix", t = unix },
  { page = "doc/unix.md", prefix = "pipe", t = pipe },
  { page = "doc/co.md", prefix = "co", t = co },
  { page = "doc/ltn12.md", prefix = "ltn12", t = ltn12, constants = true },
  { page = "doc/ltn12.md", prefix = "ltn12.source", t = ltn12.source },
  { page = "doc/ltn12.md", prefix = "ltn12.sink", t = ltn12.sink },
  { page = "doc/ltn12.md", prefix = "ltn12.filter", t = ltn12.filter },
  { page = "doc/ltn12.md", prefix = "ltn12.pump", t = ltn12.pump },
  { page = "doc/url.md", prefix = "url", t = require("socket.url"), constants = true },
  { page = "doc/url.md", prefix = "headers", t = require("socket.headers"), constants = true },
  { page = "doc/mime.md", prefix = "mime", t = require("mime"), constants = true },
  { page = "doc/http.md", prefix = "http", t = require("socket.http"), constants = true },
  { page = "doc/tp.md", prefix = "tp", t = require("socket.tp"), constants = true },
  { page = "doc/smtp.md", prefix = "smtp", t = require("socket.smtp"), constants = true },
  { page = "doc/ftp.md", prefix = "ftp", t = require("socket.ftp"), constants = true },
}
if hasssl then TABLES[#TABLES + 1] = { page = "doc/ssl.md", prefix = "ssl", t = ssl, constants = true } end

-- Class groups: "### PREFIX:NAME(args)" headings. `classes` maps a short
-- name (a column of the per-class table) to the registry name.
local GROUPS = {
  { page = "doc/tcp.md", base = "tcp", tablehead = "Methods per class",
    classes = { master = "tcp{master}", client = "tcp{client}", server = "tcp{server}" },
    prefixes = { sock = { "master", "client", "server" }, master = { "master" },
                 client = { "client" }, server = { "server" } } },
  { page = "doc/udp.md", base = "udp", tablehead = "Methods per class",
    classes = { unconnected = "udp{unconnected}", connected = "udp{connected}" },
    prefixes = { udp = { "unconnected", "connected" }, unconnected = { "unconnected" },
                 connected = { "connected" } } },
  { page = "doc/unix.md", base = "unixstream", tablehead = "Stream methods per class",
    classes = { master = "unixstream{master}", client = "unixstream{client}",
                server = "unixstream{server}" },
    prefixes = { stream = { "master", "client", "server" }, master = { "master" },
                 client = { "client" }, server = { "server" } } },
  { page = "doc/unix.md", base = "unixdgram", tablehead = "Datagram methods per class",
    classes = { unconnected = "unixdgram{unconnected}", connected = "unixdgram{connected}" },
    prefixes = { dgram = { "unconnected", "connected" }, unconnected = { "unconnected" },
                 connected = { "connected" } } },
  { page = "doc/dns.md", base = "dns",
    classes = { address = "dns{address}" },
    prefixes = { address = { "address" } } },
  { page = "doc/socket.md", base = "signal",
    classes = { sig = "signal" },
    prefixes = { sig = { "sig" } } },
}
if hasssl then
  for _, g in ipairs({
    { page = "doc/ssl.md", base = "ssl", classes = { conn = "ssl{connection}" }, prefixes = { conn = { "conn" } } },
    { page = "doc/ssl.md", base = "ssl", classes = { ctx = "ssl{context}" }, prefixes = { ctx = { "ctx" } } },
    { page = "doc/ssl.md", base = "ssl", classes = { cert = "ssl{x509}" }, prefixes = { cert = { "cert" } } },
  }) do GROUPS[#GROUPS + 1] = g end
end

-- Chains that may appear in headings without being signatures (page titles).
local TITLES = {
  ["doc/dns.md"] = { ["socket.dns"] = true },
  ["doc/unix.md"] = { ["socket.unix"] = true, ["socket.pipe"] = true },
  ["doc/ssl.md"] = { ["socket.ssl"] = true },
  ["doc/co.md"] = { ["socket.co"] = true },
  ["doc/url.md"] = { ["socket.url"] = true, ["socket.headers"] = true },
  ["doc/http.md"] = { ["socket.http"] = true },
  ["doc/tp.md"] = { ["socket.tp"] = true },
  ["doc/smtp.md"] = { ["socket.smtp"] = true },
  ["doc/ftp.md"] = { ["socket.ftp"] = true },
}
-- Documented settings that are nil until a script sets them.
local UNSET = { ["http.PROXY"] = true }
-- Headings that document, on a module's page, what the module adds to
-- another page's table (socket.http registers "http-chunked" sources).
local ELSEWHERE = {
  ["doc/http.md"] = { ["socket.source"] = true, ["socket.sink"] = true },
}

local function escape(s) return (s:gsub("%p", "%%%0")) end

for _, t in ipairs(TABLES) do t.doc = {} end
for _, g in ipairs(GROUPS) do g.doc = {} end
local bad = {}                                   -- page -> list of bad headings

for _, rel in ipairs(REFERENCE) do
  bad[rel] = {}
  local prefixes = {}                            -- method prefix -> group
  for _, g in ipairs(GROUPS) do
    if g.page == rel then
      for p in pairs(g.prefixes) do
        assert(not prefixes[p], rel .. ": prefix " .. p .. " used by two groups")
        prefixes[p] = g
      end
    end
  end
  for _, s in ipairs(parsed[rel].sigs) do
    local done = false
    for _, t in ipairs(TABLES) do
      local name = t.page == rel and s.chain:match("^" .. escape(t.prefix) .. "%.([%a_][%w_]*)$")
      if name and (s.call or t.constants) then
        local e = t.doc[name] or { line = s.line }
        e.call = e.call or s.call
        t.doc[name] = e
        done = true
        break
      end
    end
    local prefix, method = s.chain:match("^(%a+):([%a_][%w_]*)$")
    if not done and prefix and prefixes[prefix] and s.call then
      local g = prefixes[prefix]
      local e = g.doc[method] or { classes = {}, line = s.line }
      for _, c in ipairs(g.prefixes[prefix]) do e.classes[c] = true end
      g.doc[method] = e
      done = true
    end
    if not done and ELSEWHERE[rel] and ELSEWHERE[rel][s.chain] then done = true end
    if not done and not (TITLES[rel] and TITLES[rel][s.chain] and not s.call) then
      local suspicious = s.call or s.chain:match("^socket%.")
      for _, t in ipairs(TABLES) do
        if t.page == rel and s.chain:match("^" .. escape(t.prefix) .. "%.") then suspicious = true end
      end
      if suspicious then
        bad[rel][#bad[rel] + 1] = s.chain .. (s.call and "(" or "") .. " (line " .. s.line .. ")"
      end
    end
  end
end

local function index_of(regname)
  local mt = debug.getregistry()[regname]
  assert(type(mt) == "table", "no metatable " .. regname .. " in the registry")
  assert(type(mt.__index) == "table", regname .. " has no __index table")
  return mt.__index
end

------------------------------------------------------------------------------

describe("reference pages", function()
  for _, rel in ipairs(REFERENCE) do
    it(rel .. " has only well-formed signature headings", function()
      assert.same({}, bad[rel])
    end)
  end
end)

for _, t in ipairs(TABLES) do
  describe(t.page .. ": " .. t.prefix, function()
    it("documents only names that exist in " .. t.prefix .. ", with the right kind", function()
      local wrong = {}
      for _, name in ipairs(sorted(t.doc)) do
        local e, v = t.doc[name], rawget(t.t, name)
        local full = t.prefix .. "." .. name
        if v == nil and not UNSET[full] then
          wrong[#wrong + 1] = full .. " does not exist (line " .. e.line .. ")"
        elseif e.call and type(v) ~= "function" then
          wrong[#wrong + 1] = full .. " is documented as a function but is a " .. type(v)
        elseif not e.call and type(v) == "function" then
          wrong[#wrong + 1] = full .. " is a function but is documented without arguments"
        end
      end
      assert.same({}, wrong)
    end)

    it("documents every public name of " .. t.prefix, function()
      local missing = {}
      for _, k in ipairs(sorted(t.t)) do
        if type(k) == "string" and k:sub(1, 1) ~= "_" and not t.doc[k] then
          missing[#missing + 1] = t.prefix .. "." .. k
        end
      end
      assert.same({}, missing)
    end)
  end)
end

describe("doc/unix.md: socket.unix #linux #unixsock", function()
  it("is not stored as socket.unix, and calling the table makes a stream (as the page says)", function()
    assert.is_nil(rawget(socket, "unix"))
    local s = unix()
    assert.equal("unixstream{master}", s.class)
    s:close()
  end)
end)

for _, g in ipairs(GROUPS) do
  local names = sorted(g.classes)
  describe(g.page .. ": " .. g.base .. "{" .. table.concat(names, "|") .. "}", function()
    it("documents only methods that exist in the __index of each documented class", function()
      local wrong = {}
      for _, name in ipairs(sorted(g.doc)) do
        for cls in pairs(g.doc[name].classes) do
          if type(rawget(index_of(g.classes[cls]), name)) ~= "function" then
            wrong[#wrong + 1] = g.classes[cls] .. ":" .. name .. " (line " .. g.doc[name].line .. ")"
          end
        end
      end
      table.sort(wrong)
      assert.same({}, wrong)
    end)

    it("documents every method of every class", function()
      local missing = {}
      for _, cls in ipairs(names) do
        for _, k in ipairs(sorted(index_of(g.classes[cls]))) do
          if k ~= "class" and not g.doc[k] then
            missing[#missing + 1] = g.classes[cls] .. ":" .. tostring(k)
          end
        end
      end
      table.sort(missing)
      assert.same({}, missing)
    end)

    it("gives each method the classes that accept it (checked on closed objects)"
        .. (g.page == "doc/unix.md" and " #linux #unixsock" or ""), function()
      local badself = "(" .. g.base .. "{%a+} expected)"
      local wrong = {}
      for _, name in ipairs(sorted(g.doc)) do
        local doc = g.doc[name].classes
        for _, cls in ipairs(names) do
          local regname = g.classes[cls]
          local f = rawget(index_of(regname), name)
          if type(f) == "function" then           -- a missing method is reported above
            local obj = CLOSED[regname]()
            local ok, err = pcall(f, obj)
            local refused = not ok and type(err) == "string" and err:find(badself) ~= nil
            if doc[cls] and refused then
              wrong[#wrong + 1] = name .. " is documented for " .. regname .. " but raises: " .. err
            elseif not doc[cls] and not refused then
              wrong[#wrong + 1] = name .. " is not documented for " .. regname .. " but accepts it"
            end
            if obj.close then obj:close() end     -- certificates have no close
          end
        end
      end
      table.sort(wrong)
      assert.same({}, wrong)
    end)

    if g.tablehead then
      it("has a '" .. g.tablehead .. "' table that agrees with the headings", function()
        local lines = readlines(g.page)
        local start
        for n, l in ipairs(lines) do
          if l:match("^#+%s+" .. escape(g.tablehead) .. "%s*$") then start = n break end
        end
        assert.truthy(start, "no '" .. g.tablehead .. "' section")
        local header, fromtable, wrong = nil, {}, {}
        for n = start + 1, #lines do
          local l = lines[n]
          if l:match("^|") then
            local cells = {}
            for cell in l:gmatch("|([^|]*)") do cells[#cells + 1] = cell end
            cells[#cells] = nil                    -- after the closing "|"
            if not header then
              header = {}
              for i = 2, #cells do
                header[i] = cells[i]:match("(%a+)")
                if not g.classes[header[i]] then
                  wrong[#wrong + 1] = "column '" .. tostring(header[i]) .. "' is no class of " .. g.base
                end
              end
            elseif not l:match("^|[%s:%-|]+$") then  -- skip the |---| row
              for name in cells[1]:gmatch("`([%w_]+)`") do
                local set = fromtable[name] or {}
                for i = 2, #cells do
                  if cells[i]:find("✔", 1, true) then set[header[i]] = true end
                end
                fromtable[name] = set
              end
            end
          elseif header then
            break
          end
        end
        assert.truthy(header, "no table after '" .. g.tablehead .. "'")
        for _, name in ipairs(sorted(g.doc)) do
          local a, b = g.doc[name].classes, fromtable[name] or {}
          for _, cls in ipairs(names) do
            if (a[cls] or false) ~= (b[cls] or false) then
              wrong[#wrong + 1] = name .. ": " .. g.classes[cls]
            end
          end
        end
        for name in pairs(fromtable) do
          if not g.doc[name] then wrong[#wrong + 1] = name .. ": in the table, no heading" end
        end
        table.sort(wrong)
        assert.same({}, wrong)
      end)
    end
  end)
end

------------------------------------------------------------------------------

describe("the set of pages", function()
  it("checks every doc/*.md page, or lists it as pending #linux #shell", function()
    local known = {}
    for _, list in ipairs({ REFERENCE, GUIDES }) do
      for _, rel in ipairs(list) do known[rel] = true end
    end
    local out, ok = H.sh("ls " .. string.format("%q", path("doc")))
    assert.is_true(ok, out)
    local unknown = {}
    for name in out:gmatch("[^\n]+") do
      local rel = "doc/" .. name
      if name:match("%.md$") and not known[rel] and not PENDING[rel] then
        unknown[#unknown + 1] = rel
      end
    end
    assert.same({}, unknown)
  end)

  -- GitHub's anchors: lower case, punctuation dropped (but "-" and "_"),
  -- spaces turned into "-", repeats numbered.
  local function anchors(rel)
    local set, seen = {}, {}
    for _, h in ipairs(parse(rel)) do
      local slug = h.text:gsub("^#+%s*", ""):lower():gsub("[^%w%s%-_]", ""):gsub("%s", "-")
      local n = seen[slug]
      set[n and (slug .. "-" .. n) or slug] = true
      seen[slug] = (n or 0) + 1
    end
    return set
  end

  for _, list in ipairs({ REFERENCE, GUIDES }) do
    for _, rel in ipairs(list) do
      it(rel .. " links only to files and anchors that exist", function()
        local dir = rel:match("^(.*/)") or ""
        local wrong = {}
        for _, link in ipairs(parsed[rel].links) do
          local target = link.target
          if not target:match("^%a[%w+.-]*:") then     -- not http:, mailto:, ...
            local file, anchor = target:match("^([^#]*)#?(.*)$")
            local relfile = file == "" and rel or (dir .. file):gsub("[^/]+/%.%./", "")
            local f = io.open(path(relfile), "r")
            -- (a directory: Windows' fopen refuses one; busted's lfs is there)
            local isdir = not f and require("lfs").attributes((path(relfile):gsub("/$", "")), "mode") == "directory"
            if not f and not isdir then
              wrong[#wrong + 1] = target .. " (line " .. link.line .. "): no file " .. relfile
            elseif f then
              f:close()
              if anchor ~= "" and relfile:match("%.md$") and not anchors(relfile)[anchor] then
                wrong[#wrong + 1] = target .. " (line " .. link.line .. "): no such heading"
              end
            end
          end
        end
        assert.same({}, wrong)
      end)
    end
  end
end)

-- A print whose line ends in "--> a   b   c" must print those values: the
-- annotation's fields are separated by two or more spaces, "<...>" matches
-- any value, and a "(...)" field that is not the value itself starts a
-- remark that ends the comparison. Values printed past the last field must
-- be empty strings. Only the first print from each line is checked, and a
-- line of the block that has an annotation must have printed.
-- Returns a list of mismatches.
local function annotations(rel, block, printed)
  local lines = readlines(rel)
  local wrong = {}
  for n = block.line + 1, block.line + #block.code do
    if not printed[n] and lines[n]:match("%-%->") then
      wrong[#wrong + 1] = ("%s:%d is annotated but printed nothing"):format(rel, n)
    end
  end
  for line, values in pairs(printed) do
    local note = lines[line] and lines[line]:match("%-%->%s*(.-)%s*$")
    if note then
      local fields = {}
      for f in (note .. "  "):gmatch("(.-)%s%s+") do fields[#fields + 1] = f end
      local i, remark = 1, false
      while i <= #fields do
        local f, v = fields[i], values[i]
        -- the pages show 5.4's output: where an integral float prints
        -- without ".0" (5.1, 5.2, LuaJIT), "2.0" is printed as "2"
        if not FLOATDOT and v and f:match("^%-?%d+%.0$") and v == f:sub(1, -3) then f = v end
        if f ~= v and f:match("^%(.*%)$") then remark = true break end
        if f ~= v and not (f:match("^<.*>$") and v ~= nil) then break end
        i = i + 1
      end
      local ok = remark or i > #fields
      if ok and not remark then
        for j = #fields + 1, #values do ok = ok and values[j] == "" end
      end
      if not ok then
        wrong[#wrong + 1] = ("%s:%d printed %q, annotated %q"):format(rel, line,
          table.concat(values, "   "), note)
      end
    end
  end
  table.sort(wrong)
  return wrong
end

-- What an example needs that Windows (Wine) lacks, as the tags that make
-- test-windows leave it out (doc/windows.md, "Tests").
local function wintags(code)
  local function has(s) return code:find(s, 1, true) ~= nil end
  if has("socket.unix") or has("socket.pipe") then return " #linux #unixsock" end
  if has("openssl req") then return " #linux #shell" end
  if has("getpending") or has(":drain(") then return " #linux #outq" end
  if has("tcp-fastopen") or has("reuseport") or has("tcp-keep") or has("tcp-defer") then
    return " #linux #linuxonly"
  end
  if has('"connection refused"') and has("udp") then return " #linux #icmp" end
  return ""
end

describe("examples in the docs", function()
  for _, list in ipairs({ REFERENCE, GUIDES }) do
    for _, rel in ipairs(list) do
      local blocks = parsed[rel].blocks

      it(rel .. " has at least one ```lua example", function()
        assert.is_true(#blocks >= 1)
      end)

      for _, b in ipairs(blocks) do
        local text = table.concat(b.code, "\n")
        if b.needs and not (b.needs == "socket.ssl" and hasssl) then
          pending("runs " .. rel .. ":" .. b.line .. " (needs " .. b.needs .. ", not built here)")
        elseif not HASCLOSE and (text:find("<close>", 1, true) or text:find("<const>", 1, true)) then
          pending("runs " .. rel .. ":" .. b.line .. " (a <close> variable: Lua 5.4 and later)")
        else
          it("runs " .. rel .. ":" .. b.line .. wintags(table.concat(b.code, "\n")), function()
            -- pad so that error positions are the lines of the .md file
            local code = string.rep("\n", b.line) .. table.concat(b.code, "\n")
            local printed = {}                     -- .md line -> values of its first print
            local env = setmetatable({
              print = function(...)
                local t = table.pack(...)
                for i = 1, t.n do t[i] = tostring(t[i]) end
                t.n = nil
                local line = debug.getinfo(2, "l").currentline
                if not printed[line] then printed[line] = t end
              end,
            }, { __index = _G })
            local fn, lerr = load(code, "@" .. rel, "t", env)
            assert(fn, lerr)
            collectgarbage()
            local before = sockets()
            local t0 = socket.gettime()
            local ok, err = pcall(fn)
            local elapsed = socket.gettime() - t0
            assert(ok, tostring(err))
            assert.is_true(elapsed < 5, rel .. ":" .. b.line .. " took " .. elapsed .. " s")
            -- no collectgarbage() here: the example itself must close its sockets
            local leaked = {}
            for k in pairs(sockets()) do
              if not before[k] then leaked[#leaked + 1] = k end
            end
            table.sort(leaked)
            assert.same({}, leaked, rel .. ":" .. b.line .. " leaves sockets open")
            assert.same({}, annotations(rel, b, printed))
          end)
        end
      end
    end
  end
end)
