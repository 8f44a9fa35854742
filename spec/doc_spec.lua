-- Checks doc/socket.md, doc/tcp.md and doc/dns.md against the code, both ways,
-- and runs every ```lua example in them.
--
-- Documentation convention (what this spec parses):
--
--  * Every function, method, constant and table has its own Markdown heading
--    (any level, outside code fences) whose text is its signature:
--      doc/socket.md  "### socket.NAME(args)" or "### socket.NAME{fields}" for a
--                     function, "### socket.NAME" for a constant or table
--      doc/dns.md     "### socket.dns.NAME(args)", and "### address:NAME(args)"
--                     for a method of the dns{address} class
--      doc/tcp.md     "### PREFIX:NAME(args)", where PREFIX says which classes
--                     the method works on: sock (all three), master
--                     (tcp{master}), client (tcp{client}), server (tcp{server})
--    Aliases share one heading: "### sock:connect(a, p) · sock:setpeername(a, p)".
--    A heading that looks like a signature but does not fit its page's form
--    is reported, so typos cannot hide an entry.
--  * Forward: every documented name exists (socket table, socket.dns, or the
--    __index table of each class metatable, debug.getregistry()["tcp{...}"]
--    and ["dns{address}"]);
--    names written with "(" or "{" are functions, the others are not. For
--    TCP methods the class prefix is checked by calling the method on a closed
--    object of every class: the documented classes must not raise
--    "tcp{...} expected", the others must.
--  * Backward: every key of the socket table and of socket.dns, except keys
--    that start with "_", and every key of each class __index table, except
--    `class`, has a heading on its page (dns{address} methods on doc/dns.md). (Constants starting with "_" are
--    checked forward only.)
--  * The "Methods per class" table in doc/tcp.md must agree with the headings.
--  * Every ```lua block is loaded and run with pcall. Line numbers in errors
--    are those of the .md file. Each example must finish within a few seconds
--    and must close every TCP socket it opens, without help from the garbage
--    collector (the process's TCP socket descriptors are compared, Linux /proc).
local socket = require("socket")
local H = require("helper")

local ROOT = (debug.getinfo(1, "S").source:match("^@(.*)spec/doc_spec%.lua$") or "")
local function path(rel) return ROOT .. rel end

local function readlines(rel)
  local f = assert(io.open(path(rel), "r"), "cannot open " .. rel)
  local lines = {}
  for l in f:lines() do lines[#lines + 1] = l end
  f:close()
  return lines
end

-- Headings outside code fences, and the ```lua blocks, of one page.
local function parse(rel)
  local lines = readlines(rel)
  local headings, blocks = {}, {}
  local fence, block = false, nil
  for n, l in ipairs(lines) do
    if fence then
      if l:match("^```%s*$") then
        fence = false
        if block then
          blocks[#blocks + 1] = block
          block = nil
        end
      elseif block then
        block.code[#block.code + 1] = l
      end
    elseif l:match("^```") then
      fence = true
      if l:match("^```lua%s*$") then block = { line = n, code = {} } end
    elseif l:match("^#+%s") then
      headings[#headings + 1] = { line = n, text = (l:gsub("`", "")) }
    end
  end
  assert(not fence, rel .. ": unterminated code fence")
  return headings, blocks
end

-- Every "chain(" / "chain{" / bare "socket.NAME" in a heading.
-- Returns a list of {chain=, call=bool, line=}.
local function signatures(headings)
  local out = {}
  for _, h in ipairs(headings) do
    local t = h.text:gsub("^#+%s*", "")
    for chain, open in t:gmatch("([%a_][%w_]*[%.:][%w_%.:]*)%s*([%(%{]?)") do
      -- prose may yield chains too ("Recipe:"); each page's filter below
      -- keeps signatures and reports calls that fit no known form
      out[#out + 1] = { chain = chain:gsub("[%.:]$", ""), call = open ~= "", line = h.line }
    end
  end
  return out
end

local PAGES = { "doc/socket.md", "doc/tcp.md", "doc/dns.md" }
local parsed = {}
for _, rel in ipairs(PAGES) do
  local headings, blocks = parse(rel)
  parsed[rel] = { headings = headings, blocks = blocks, sigs = signatures(headings) }
end

-- TCP sockets this process holds open, as a set of "socket:[inode]" fd links.
-- Only sockets listed in /proc/net/tcp{,6} count, so the resolver's own
-- descriptors (nscd, DNS over UDP) and the pipe of the `ls` below never do.
local function tcp_sockets()
  local tcp = {}
  for _, f in ipairs({ "/proc/net/tcp", "/proc/net/tcp6" }) do
    local h = io.open(f, "r")
    if h then
      for l in h:lines() do
        local inode = l:match("^%s*%d+:" .. string.rep("%s+%S+", 8) .. "%s+(%d+)")
        if inode and inode ~= "0" then tcp[inode] = true end
      end
      h:close()
    end
  end
  local out = H.sh("ls -l /proc/" .. H.pid() .. "/fd")
  local set = {}
  for fd, inode in out:gmatch("(%d+) %-> socket:%[(%d+)%]") do
    if tcp[inode] then set["fd " .. fd .. " socket:[" .. inode .. "]"] = true end
  end
  return set
end

local CLASSES = { master = "tcp{master}", client = "tcp{client}", server = "tcp{server}" }
local PREFIXES = { sock = { "master", "client", "server" }, master = { "master" },
                   client = { "client" }, server = { "server" } }

-- socket.md: socket.NAME -> { call = bool, line = n }
local socket_doc, socket_bad = {}, {}
for _, s in ipairs(parsed["doc/socket.md"].sigs) do
  local name = s.chain:match("^socket%.([%a_][%w_]*)$")
  if name then
    local e = socket_doc[name] or { line = s.line }
    e.call = e.call or s.call
    socket_doc[name] = e
  elseif s.call or s.chain:match("^socket%.") then
    socket_bad[#socket_bad + 1] = s.chain .. " (line " .. s.line .. ")"
  end
end

-- dns.md: socket.dns.NAME -> line; address:NAME (dns{address} methods) -> line
local dns_doc, addr_doc, dns_bad = {}, {}, {}
for _, s in ipairs(parsed["doc/dns.md"].sigs) do
  local name = s.chain:match("^socket%.dns%.([%a_][%w_]*)$")
  local method = s.chain:match("^address:([%a_][%w_]*)$")
  if name and s.call then
    dns_doc[name] = s.line
  elseif method and s.call then
    addr_doc[method] = s.line
  elseif s.chain == "socket.dns" and not s.call then
    -- the page title
  elseif s.call or s.chain:match("^socket%.") then
    dns_bad[#dns_bad + 1] = s.chain .. (s.call and "(" or "") .. " (line " .. s.line .. ")"
  end
end

-- tcp.md: method -> { classes = {master=true,...}, line = n }
local tcp_doc, tcp_bad = {}, {}
for _, s in ipairs(parsed["doc/tcp.md"].sigs) do
  local prefix, name = s.chain:match("^(%a+):([%a_][%w_]*)$")
  if prefix and PREFIXES[prefix] and s.call then
    local e = tcp_doc[name] or { classes = {}, line = s.line }
    for _, c in ipairs(PREFIXES[prefix]) do e.classes[c] = true end
    tcp_doc[name] = e
  elseif s.call then
    tcp_bad[#tcp_bad + 1] = s.chain .. " (line " .. s.line .. ")"
  end
end

local function sorted(t)
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = k end
  table.sort(keys)
  return keys
end

local function index_of(cls)
  local mt = debug.getregistry()[CLASSES[cls]]
  assert(type(mt) == "table", "no metatable " .. CLASSES[cls] .. " in the registry")
  assert(type(mt.__index) == "table", CLASSES[cls] .. " has no __index table")
  return mt.__index
end

-- A closed object of each class; none of them owns a descriptor.
local function closed(cls)
  if cls == "master" then
    local m = socket.tcp()
    m:close()
    return m
  elseif cls == "client" then
    local c = socket.tcp()
    c:connect("127.0.0.1", 70000)       -- "invalid port": a client with no socket
    c:close()
    return c
  else
    local s = assert(socket.bind("127.0.0.1", 0))
    s:close()
    return s
  end
end

describe("doc/socket.md", function()
  it("has only well-formed signature headings", function()
    assert.same({}, socket_bad)
  end)

  it("documents only names that exist in the socket table, with the right kind", function()
    local wrong = {}
    for _, name in ipairs(sorted(socket_doc)) do
      local e, v = socket_doc[name], rawget(socket, name)
      if v == nil then
        wrong[#wrong + 1] = "socket." .. name .. " does not exist (line " .. e.line .. ")"
      elseif e.call and type(v) ~= "function" then
        wrong[#wrong + 1] = "socket." .. name .. " is documented as a function but is a " .. type(v)
      elseif not e.call and type(v) == "function" then
        wrong[#wrong + 1] = "socket." .. name .. " is a function but is documented without arguments"
      end
    end
    assert.same({}, wrong)
  end)

  it("documents every public name of the socket table", function()
    local missing = {}
    for _, k in ipairs(sorted(socket)) do
      if type(k) == "string" and k:sub(1, 1) ~= "_" and not socket_doc[k] then
        missing[#missing + 1] = "socket." .. k
      end
    end
    assert.same({}, missing)
  end)
end)

describe("doc/dns.md", function()
  it("has only well-formed signature headings", function()
    assert.same({}, dns_bad)
  end)

  it("documents only functions that exist in socket.dns", function()
    local wrong = {}
    for _, name in ipairs(sorted(dns_doc)) do
      if type(rawget(socket.dns, name)) ~= "function" then
        wrong[#wrong + 1] = "socket.dns." .. name .. " (line " .. dns_doc[name] .. ")"
      end
    end
    assert.same({}, wrong)
  end)

  it("documents every public function of socket.dns", function()
    local missing = {}
    for _, k in ipairs(sorted(socket.dns)) do
      if type(k) == "string" and k:sub(1, 1) ~= "_" and not dns_doc[k] then
        missing[#missing + 1] = "socket.dns." .. k
      end
    end
    assert.same({}, missing)
  end)

  local function addr_index()
    local mt = debug.getregistry()["dns{address}"]
    assert(type(mt) == "table" and type(mt.__index) == "table", "no dns{address} metatable")
    return mt.__index
  end

  it("documents only methods that exist in dns{address}", function()
    local wrong = {}
    for _, name in ipairs(sorted(addr_doc)) do
      if type(rawget(addr_index(), name)) ~= "function" then
        wrong[#wrong + 1] = "address:" .. name .. " (line " .. addr_doc[name] .. ")"
      end
    end
    assert.same({}, wrong)
  end)

  it("documents every method of dns{address}", function()
    local missing = {}
    for _, k in ipairs(sorted(addr_index())) do
      if k ~= "class" and not addr_doc[k] then missing[#missing + 1] = "address:" .. k end
    end
    assert.same({}, missing)
  end)
end)

describe("doc/tcp.md", function()
  it("has only well-formed signature headings", function()
    assert.same({}, tcp_bad)
  end)

  it("documents only methods that exist in the __index of each documented class", function()
    local wrong = {}
    for _, name in ipairs(sorted(tcp_doc)) do
      for cls in pairs(tcp_doc[name].classes) do
        if type(rawget(index_of(cls), name)) ~= "function" then
          wrong[#wrong + 1] = CLASSES[cls] .. ":" .. name .. " (line " .. tcp_doc[name].line .. ")"
        end
      end
    end
    assert.same({}, wrong)
  end)

  it("documents every method of tcp{master}, tcp{client} and tcp{server}", function()
    local missing = {}
    for cls in pairs(CLASSES) do
      for _, k in ipairs(sorted(index_of(cls))) do
        if k ~= "class" and not tcp_doc[k] then
          missing[#missing + 1] = CLASSES[cls] .. ":" .. tostring(k)
        end
      end
    end
    table.sort(missing)
    assert.same({}, missing)
  end)

  it("gives each method the classes that accept it (checked on closed objects)", function()
    local wrong = {}
    for _, name in ipairs(sorted(tcp_doc)) do
      local doc = tcp_doc[name].classes
      for cls, clsname in pairs(CLASSES) do
        local f = rawget(index_of(cls), name)
        if type(f) == "function" then           -- a missing method is reported above
          local obj = closed(cls)
          local ok, err = pcall(f, obj)
          local badself = not ok and type(err) == "string" and err:find("(tcp{%a+} expected)") ~= nil
          if doc[cls] and badself then
            wrong[#wrong + 1] = name .. " is documented for " .. clsname .. " but raises: " .. err
          elseif not doc[cls] and not badself then
            wrong[#wrong + 1] = name .. " is not documented for " .. clsname .. " but accepts it"
          end
          obj:close()
        end
      end
    end
    table.sort(wrong)
    assert.same({}, wrong)
  end)

  it("has a 'Methods per class' table that agrees with the headings", function()
    local lines = readlines("doc/tcp.md")
    local start
    for n, l in ipairs(lines) do
      if l:match("^#+%s+Methods per class") then start = n break end
    end
    assert.truthy(start, "no 'Methods per class' section")
    local header, fromtable = nil, {}
    for n = start + 1, #lines do
      local l = lines[n]
      if l:match("^|") then
        local cells = {}
        for cell in l:gmatch("|([^|]*)") do cells[#cells + 1] = cell end
        cells[#cells] = nil                      -- after the closing "|"
        if not header then
          header = {}
          for i = 2, #cells do header[i] = cells[i]:match("(%a+)") end
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
    local wrong = {}
    for _, name in ipairs(sorted(tcp_doc)) do
      local a, b = tcp_doc[name].classes, fromtable[name] or {}
      for cls in pairs(CLASSES) do
        if (a[cls] or false) ~= (b[cls] or false) then
          wrong[#wrong + 1] = name .. ": " .. CLASSES[cls]
        end
      end
    end
    for name in pairs(fromtable) do
      if not tcp_doc[name] then wrong[#wrong + 1] = name .. ": in the table, no heading" end
    end
    table.sort(wrong)
    assert.same({}, wrong)
  end)
end)

describe("examples in the docs", function()
  for _, rel in ipairs(PAGES) do
    local blocks = parsed[rel].blocks

    it(rel .. " has at least one ```lua example", function()
      assert.is_true(#blocks >= 1)
    end)

    for _, b in ipairs(blocks) do
      it("runs " .. rel .. ":" .. b.line, function()
        -- pad so that error positions are the lines of the .md file
        local code = string.rep("\n", b.line) .. table.concat(b.code, "\n")
        local out = {}
        local env = setmetatable({
          print = function(...)
            local t = table.pack(...)
            for i = 1, t.n do t[i] = tostring(t[i]) end
            out[#out + 1] = table.concat(t, "\t")
          end,
        }, { __index = _G })
        local fn, lerr = load(code, "@" .. rel, "t", env)
        assert(fn, lerr)
        collectgarbage()
        local before = tcp_sockets()
        local t0 = socket.gettime()
        local ok, err = pcall(fn)
        local elapsed = socket.gettime() - t0
        assert(ok, tostring(err))
        assert.is_true(elapsed < 5, rel .. ":" .. b.line .. " took " .. elapsed .. " s")
        -- no collectgarbage() here: the example itself must close its sockets
        local leaked = {}
        for k in pairs(tcp_sockets()) do
          if not before[k] then leaked[#leaked + 1] = k end
        end
        table.sort(leaked)
        assert.same({}, leaked, rel .. ":" .. b.line .. " leaves TCP sockets open")
      end)
    end
  end
end)
