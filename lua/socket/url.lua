-- socket.url: URL escaping, parsing, building and resolution, with the
-- results of LuaSocket 3.x, quirks included (doc/url.md). Also stored as
-- require("socket").url, as in 3.x.
local socket = require("socket")

local url = { _VERSION = "URL 1.0.3" }

local error, pairs, tostring, type = error, pairs, tostring, type
local byte, char, find, format, gsub, match, sub =
  string.byte, string.char, string.find, string.format, string.gsub, string.match, string.sub
local tonumber = tonumber

-- Misuse raises naming the caller's argument; numbers pass as strings, as
-- string functions take them.
local function text(v, n, fname, optional)
  local t = type(v)
  if t == "string" or t == "number" or (optional and v == nil) then return v end
  error(("bad argument #%d to '%s' (string expected, got %s)"):format(n, fname,
    v == nil and "no value" or t), 3)
end

local function hexlower(c) return format("%%%02x", byte(c)) end

-- Every byte but letters, digits and "_" becomes %xx (lower-case hex).
function url.escape(s)
  return (gsub(text(s, 1, "escape"), "[^A-Za-z0-9_]", hexlower))
end

local function unhex(h) return char(tonumber(h, 16)) end

-- %xx (either case) becomes its byte; a lone "%" stays.
function url.unescape(s)
  return (gsub(text(s, 1, "unescape"), "%%(%x%x)", unhex))
end

-- Bytes a path segment keeps as they are (RFC 2396 pchar), besides [A-Za-z0-9_].
local PCHAR = {}
for c in ("-.!~*'():@&=+$,"):gmatch(".") do PCHAR[c] = true end

local function protect(seg)
  return (gsub(seg, "[^A-Za-z0-9_]", function(c)
    if PCHAR[c] then return c end
    return format("%%%02X", byte(c))
  end))
end

------------------------------------------------------------------------------
-- Dot segments. 3.x rewrites the whole string (not only the path: the
-- query and fragment too) with these steps, which give RFC 3986's results
-- on its §5.4 examples except where queries or fragments hold "/./" or
-- "/../" (doc/url.md lists them).

local HOLE = "\1"                -- marks an empty segment, so ".." can remove it

-- Applies one replacement at a time until nothing changes.
local function settle(s, pat, repl)
  local n
  repeat s, n = gsub(s, pat, repl, 1) until n == 0
  return s
end

local function without_dots(s)
  -- "//" -> "/<HOLE>/"; each pass rewrites one pair, overlapping pairs included
  s = settle(s, "//", "/" .. HOLE .. "/")
  s = settle(s, "/%./", "/")
  s = settle(s, "[^/]+/%.%./([^/]+)", "%1")
  s = gsub(s, "[^/]+/%.%./*$", "")
  s = gsub(s, "/%.%.$", "/")
  s = gsub(s, "/%.$", "/")
  s = gsub(s, "^/%.%./", "/")
  return (gsub(s, HOLE, ""))
end

-- RFC 3986 §5.2.3 merge: the base path up to its last "/", then rel.
local function merge(basepath, rel)
  if sub(rel, 1, 1) == "/" then return without_dots(rel) end
  local dir = match(basepath, "^(.*/)") or "/"
  return without_dots(dir .. rel)
end

------------------------------------------------------------------------------
-- Parsing: scheme:, //authority, then #fragment, ?query, ;params from what
-- is left, and the rest is the path. The authority is everything after "//"
-- up to the next "/" (a "?" or "#" in it stays in it, as in 3.x).

-- Sets userinfo, host, port, user, password from p.authority.
local function split_authority(p)
  local a = p.authority
  local ui, rest = match(a, "^([^@]*)@(.*)$")
  if ui then
    p.userinfo, a = ui, rest
  end
  local head, port = match(a, "^(.*):([^:%]]*)$")
  if head then
    p.port, a = port, head
  end
  if a ~= "" then p.host = match(a, "^%[(.+)%]$") or a end
  if p.userinfo then
    local user, password = match(p.userinfo, "^(.*):([^:]*)$")
    if user then
      p.user, p.password = user, password
    else
      p.user = p.userinfo
    end
  end
end

function url.parse(s, default)
  if default ~= nil and type(default) ~= "table" then
    error("bad argument #2 to 'parse' (table expected, got " .. type(default) .. ")", 2)
  end
  local p = {}
  for k, v in pairs(default or p) do p[k] = v end
  if not s or s == "" then return nil, "invalid url" end
  s = tostring(text(s, 1, "parse"))
  local scheme, rest = match(s, "^(%w[%w+%-.]*):(.*)$")
  if scheme then p.scheme, s = scheme, rest end
  local auth
  auth, rest = match(s, "^//([^/]*)(.*)$")
  if auth then p.authority, s = auth, rest end
  local pos = find(s, "#", 1, true)
  if pos then p.fragment, s = sub(s, pos + 1), sub(s, 1, pos - 1) end
  pos = find(s, "?", 1, true)
  if pos then p.query, s = sub(s, pos + 1), sub(s, 1, pos - 1) end
  pos = find(s, ";", 1, true)
  if pos then p.params, s = sub(s, pos + 1), sub(s, 1, pos - 1) end
  if s ~= "" then p.path = s end
  if p.authority then split_authority(p) end
  return p
end

-- The inverse of parse. host, port, user and password, when there is a
-- host, win over authority and userinfo; nothing is escaped.
function url.build(p)
  if type(p) ~= "table" then
    error("bad argument #1 to 'build' (table expected, got " .. (p == nil and "no value" or type(p)) .. ")", 2)
  end
  local s = p.path or ""
  if p.params then s = s .. ";" .. p.params end
  if p.query then s = s .. "?" .. p.query end
  local auth = p.authority
  if p.host then
    auth = p.host
    if find(auth, ":", 1, true) then auth = "[" .. auth .. "]" end
    if p.port then auth = auth .. ":" .. tostring(p.port) end
    local ui = p.userinfo
    if p.user then
      ui = p.user
      if p.password then ui = ui .. ":" .. p.password end
    end
    if ui then auth = ui .. "@" .. auth end
  end
  if auth then s = "//" .. auth .. s end
  if p.scheme then s = p.scheme .. ":" .. s end
  if p.fragment then s = s .. "#" .. p.fragment end
  return s
end

-- absolute(base, rel): rel resolved against base (a string or a parsed
-- table), RFC 3986 §5.2 as 3.x does it. A base or rel that does not parse
-- ("" or nil) gives the other one.
function url.absolute(base, rel)
  local b
  if type(base) == "table" then
    b, base = base, url.build(base)
  else
    text(base, 1, "absolute", true)
    b = url.parse(base)
  end
  text(rel, 2, "absolute", b ~= nil)       -- without a base, rel is the answer
  local r = url.parse(rel)
  local result
  if not b then
    result = rel
  elseif not r then
    result = base
  elseif r.scheme then
    result = rel
  else
    r.scheme = b.scheme
    if not r.authority then
      r.authority = b.authority
      if r.path then
        r.path = merge(b.path or "", r.path)
      else
        r.path = b.path
        if not r.params then
          r.params = b.params
          if not r.query then r.query = b.query end
        end
      end
    end
    result = url.build(r)
  end
  return without_dots(tostring(result))
end

-- "/a/b%20c/" -> {"a", "b c", is_absolute = 1, is_directory = 1}
function url.parse_path(path)
  path = text(path, 1, "parse_path", true) or ""
  local segs = {}
  for seg in tostring(path):gmatch("[^/]+") do segs[#segs + 1] = url.unescape(seg) end
  if sub(path, 1, 1) == "/" then segs.is_absolute = 1 end
  if sub(path, -1) == "/" then segs.is_directory = 1 end
  return segs
end

-- The inverse of parse_path; unless `unsafe`, each segment is escaped
-- (upper-case hex) except for the characters a segment may hold.
function url.build_path(segs, unsafe)
  if type(segs) ~= "table" then
    error("bad argument #1 to 'build_path' (table expected, got " ..
      (segs == nil and "no value" or type(segs)) .. ")", 2)
  end
  local n, out = #segs, {}
  for i = 1, n do
    local seg = segs[i]
    if type(seg) ~= "string" and type(seg) ~= "number" then
      error(("bad argument #1 to 'build_path' (segment %d is a %s, not a string)"):format(i, type(seg)), 2)
    end
    out[i] = unsafe and seg or protect(seg)
  end
  local s = table.concat(out, "/")
  if n > 0 and segs.is_directory then s = s .. "/" end
  if segs.is_absolute then s = "/" .. s end
  return s
end

socket.url = url
return url
