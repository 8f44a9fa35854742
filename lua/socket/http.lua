-- socket.http: LuaSocket 3.x's HTTP/1.1 client (doc/http.md), with https
-- through socket.ssl (verified by default) and bounds on what the peer sends.
local socket = require("socket")
local url = require("socket.url")
local ltn12 = require("ltn12")
local headers = require("socket.headers")

local error, ipairs, pairs, pcall, require, setmetatable, tonumber, tostring, type =
  error, ipairs, pairs, pcall, require, setmetatable, tonumber, tostring, type
local concat, sort = table.concat, table.sort
local find, format, lower, match, sub = string.find, string.format, string.lower, string.match, string.sub
local min = math.min

local http = {}
socket.http = http                          -- as 3.x does

http.TIMEOUT = 60                           -- seconds, for every connect, send and receive
http.USERAGENT = socket._VERSION
http.MAXHEADERLINE = 8192                   -- status, header, trailer and chunk-size lines
http.MAXHEADERS = 100                       -- lines per header block (folded lines count)
http.MAXREDIRECTS = 100                     -- the cap when maxredirects = false
http.MAXINTERIM = 20                        -- 1xx responses before the final one

local READSIZE = 8192                       -- chunked bodies are passed on in pieces of this size

-- Misuse raises naming the argument (error level 0: the message is complete).
local function misuse(n, fname, msg)
  error(format("bad argument #%d to '%s' (%s)", n, fname, msg), 0)
end

-- What would let a value break out of its place on the wire: CR or LF,
-- another control byte (NUL to US, DEL; HTAB too unless tabok), or a space
-- where it would split the request line (unless spaceok). nil when clean.
local function badbytes(s, spaceok, tabok)
  if find(s, "[\r\n]") then return "contains CR or LF" end
  if find(s, tabok and "[%z\1-\8\11-\31\127]" or "[%z\1-\31\127]") then
    return "contains a control character"
  end
  if not spaceok and find(s, " ", 1, true) then return "contains a space" end
  return nil
end

-- A port as the wire shows it ("8080"), or nil when it is not one.
local function portstring(port)
  local s = port
  if type(port) == "number" and port >= 0 and port <= 65535 and port == math.floor(port) then
    s = format("%d", port)
  end
  if type(s) ~= "string" or not match(s, "^%d%d?%d?%d?%d?$") or tonumber(s) > 65535 then return nil end
  return s
end

local TOKEN = "^[%w!#$%%&'*+%-.^_`|~]+$"       -- RFC 9110 token: methods, header names

-- Why a host cannot go into a request line, Host or CONNECT, or nil.
local function badhost(host)
  local why = badbytes(host)
  if why then return why end
  if find(host, "[/?#@%[%]\\]") then return "is not a host name or address" end
  return nil
end

-- A header field as sent: misuse raises naming it.
local function checkfield(name, value)
  if type(name) ~= "string" or not match(name, TOKEN) then
    misuse(1, "request", "invalid header name '" .. tostring(name) .. "'")
  end
  if type(value) ~= "string" and type(value) ~= "number" then
    misuse(1, "request", "header '" .. name .. "' must be a string or a number")
  end
  value = tostring(value)
  local why = badbytes(value, true, true)
  if why then misuse(1, "request", "header '" .. name .. "' " .. why) end
  return value
end

-- Why method, host, port and request target can't go on the wire as they
-- are, or nil. Called for what the caller gives (raise) and for redirects
-- (not followed: the server's Location is not the caller's misuse).
local function badtarget(method, host, port, target)
  if type(method) ~= "string" then return "field 'method' must be a string" end
  local why = badbytes(method)
  if why then return "method " .. why end
  if not match(method, TOKEN) then return "invalid method '" .. method .. "'" end
  why = badhost(tostring(host))
  if why then return "host " .. why end
  if not portstring(port) then return "invalid port '" .. tostring(port) .. "'" end
  why = target and badbytes(target)
  if why then return "url path or query " .. why end
  return nil
end

-- One line, CRs dropped, "\n" consumed, at most MAXHEADERLINE bytes: the
-- third argument of receive bounds the line in C (netsocket's extension;
-- a LuaSocket object from `create` ignores it and reads any length).
local function readline(sock, what, prefix)
  local line, err = sock:receive("*l", prefix, http.MAXHEADERLINE)
  if err == "line too long" then return nil, what .. " too long" end
  return line, err
end

-- Reads a header block into hdrs (lower-case names, folded lines unfolded,
-- repeated names joined with ", ").
local function receiveheaders(sock, hdrs)
  hdrs = hdrs or {}
  local count, max = 0, http.MAXHEADERS
  local line, err = readline(sock, "header line")
  if not line then return nil, err end
  while line ~= "" do
    local name, value = match(line, "^(.-):%s*(.*)")
    if not name then return nil, "malformed response headers" end
    name = lower(name)
    repeat                                    -- folded lines continue the value
      count = count + 1
      if count > max then return nil, "too many header lines" end
      line, err = readline(sock, "header line")
      if not line then return nil, err end
      local folded = find(line, "^%s") ~= nil
      if folded then value = value .. line end
    until not folded
    hdrs[name] = hdrs[name] and hdrs[name] .. ", " .. value or value
  end
  return hdrs
end

-- Sources and sinks are callable tables that select() understands.
local function selectable(sock, call)
  return setmetatable({
    getfd = function() return sock:getfd() end,
    dirty = function() return sock:dirty() end,
  }, { __call = call })
end

-- A chunked body; the trailers go into hdrs (when given).
socket.sourcet["http-chunked"] = function(sock, hdrs)
  local left, done = 0, false
  return selectable(sock, function()
    if done then return nil end
    if left == 0 then
      local line, err = readline(sock, "chunk size line")
      if not line then return nil, err end
      local hex = match(line, "^%s*(%x+)%s*$") or match(line, "^%s*(%x+)%s*;")
      if not hex or #hex > 15 then return nil, "invalid chunk size" end
      left = tonumber(hex, 16)
      if left == 0 then
        done = true
        local ok
        ok, err = receiveheaders(sock, hdrs)
        if not ok then return nil, err end
        return nil
      end
    end
    local chunk, err = sock:receive(min(left, READSIZE))
    if not chunk then return nil, err end
    left = left - #chunk
    if left == 0 then
      local crlf
      crlf, err = readline(sock, "chunk end")
      if not crlf then return nil, err end
      if crlf ~= "" then return nil, "invalid chunk end" end
    end
    return chunk
  end)
end

socket.sinkt["http-chunked"] = function(sock)
  return selectable(sock, function(_, chunk)
    if not chunk then return sock:send("0\r\n\r\n") end
    if chunk == "" then return 1 end            -- "" would end the body
    return sock:send(format("%X\r\n", #chunk) .. chunk .. "\r\n")
  end)
end

------------------------------------------------------------------------------
-- https: a socket-like object whose connect does TCP, an optional proxy
-- tunnel, then TLS with SNI and the name check for the request's host.

-- Keys of LuaSec's https.request (TLS params at the top of the request).
-- `password` is left out: in socket.http it is the URL's.
local TLSKEYS = { "protocol", "options", "verify", "cafile", "capath", "certificate", "key",
  "certificates", "ciphers", "ciphersuites", "depth", "curve", "curveslist", "verifyext",
  "alpn", "dane", "psk", "servername", "checkhostname" }

local function tlsparams(reqt)
  local t = reqt.tls
  if t ~= nil and type(t) ~= "table" then
    if type(t) ~= "userdata" then misuse(1, "request", "field 'tls' must be a table or an SSL context") end
    return t
  end
  local p = {}
  for _, k in ipairs(TLSKEYS) do p[k] = reqt[k] end
  for k, v in pairs(t or {}) do p[k] = v end
  p.mode = "client"
  return p
end

local function tlserr(err)
  if err == "wantread" or err == "wantwrite" then return "timeout" end
  return err
end

-- The code of a status line that is exactly HTTP/<d>.<d> <3 digits>, then
-- a space and the reason or nothing; nil for anything else.
local function statuscode(line)
  local code, rest = match(line, "^HTTP/%d%.%d (%d%d%d)(.*)$")
  if not code or (rest ~= "" and sub(rest, 1, 1) ~= " ") then return nil end
  return tonumber(code)
end

local function authority(host, port)
  if find(host, ":", 1, true) then host = "[" .. host .. "]" end
  return host .. ":" .. tostring(port)
end

local function basic(user, password)
  return "Basic " .. require("mime").b64(user .. ":" .. password)
end

-- CONNECT host:port through the proxy `sock` is connected to.
local function tunnel(sock, host, port, proxyauth, ua)
  local a = authority(host, port)
  local req = "CONNECT " .. a .. " HTTP/1.1\r\nHost: " .. a .. "\r\nUser-Agent: " .. ua .. "\r\n"
  if proxyauth then req = req .. "Proxy-Authorization: " .. proxyauth .. "\r\n" end
  local ok, err = sock:send(req .. "\r\n")
  if not ok then return nil, err end
  local status
  status, err = readline(sock, "status line")
  if not status then return nil, err end
  ok, err = receiveheaders(sock)
  if not ok then return nil, err end
  local code = statuscode(status)
  if not code or code < 200 or code > 299 then return nil, "proxy refused the tunnel: " .. status end
  return 1
end

local tlsobj = { __index = {} }
local T = tlsobj.__index

function T:settimeout(v, m) return self.sock:settimeout(v, m) end
function T:getfd() return self.sock:getfd() end
function T:dirty() return self.sock:dirty() end
function T:getstats() return self.sock:getstats() end
function T:close()
  self.sock:close()
  return 1
end
function T:send(...)
  local last, err, partial = self.sock:send(...)
  return last, tlserr(err), partial
end
function T:receive(...)
  local data, err, partial = self.sock:receive(...)
  return data, tlserr(err), partial
end

function T:connect(host, port)
  local ok, err = self.sock:connect(host, port)
  if not ok then return nil, err end
  if self.proxied then
    ok, err = tunnel(self.sock, self.host, self.port, self.proxyauth, self.ua)
    if not ok then return nil, err end
  end
  local conn
  conn, err = self.ssl.wrap(self.sock, self.params)
  if not conn then return nil, err end
  conn:sni(self.host)
  ok, err = conn:dohandshake()
  if not ok then
    if err == "certificate verify failed" then
      local _, why = conn:getpeerverification()
      if type(why) == "string" then err = err .. " (" .. why .. ")" end
    end
    conn:close()
    return nil, tlserr(err)
  end
  self.sock = conn
  return 1
end

-- The proxy of a request: host, port, Proxy-Authorization value.
local function proxyof(reqt)
  local proxy = reqt.proxy or http.PROXY
  if not proxy then return nil end
  if type(proxy) ~= "string" then misuse(1, "request", "field 'proxy' must be a string") end
  local p = url.parse(proxy)
  if not (p and p.host) then socket.try(nil, "invalid proxy '" .. tostring(proxy) .. "'") end
  local why = badhost(p.host)
  if why then misuse(1, "request", "proxy host " .. why) end
  if p.port and not portstring(p.port) then misuse(1, "request", "invalid proxy port '" .. p.port .. "'") end
  local auth = p.user and p.password and basic(url.unescape(p.user), url.unescape(p.password))
  return p.host, p.port or 3128, auth
end

local function tlscreate(reqt)
  local params = tlsparams(reqt)
  local host, port = reqt.host, reqt.port
  local phost, _, pauth = proxyof(reqt)
  local ua = checkfield("user-agent", http.USERAGENT)
  return function()
    local found, ssl = pcall(require, "socket.ssl")
    if not found then return nil, "https not available: " .. match(tostring(ssl), "^[^\n]*") end
    local sock, err = socket.tcp()
    if not sock then return nil, err end
    return setmetatable({ sock = sock, ssl = ssl, params = params, host = host, port = port,
      proxied = phost ~= nil, proxyauth = pauth, ua = ua }, tlsobj)
  end
end

local SCHEMES = {
  http = { port = 80, create = function() return socket.tcp end },
  https = { port = 443, create = tlscreate },
}
http.schemes = SCHEMES

------------------------------------------------------------------------------
-- Low level API: open a connection, then send and receive its parts. The
-- methods raise try-exceptions; call them inside socket.protect.

local metat = { __index = {} }
local M = metat.__index

-- timeout: seconds for each connect, send and receive (default http.TIMEOUT)
function http.open(host, port, create, timeout)
  local c = socket.try((create or socket.tcp)())
  local h = setmetatable({ c = c }, metat)
  h.try = socket.newtry(function() h:close() end)
  h.try(c:settimeout(timeout or http.TIMEOUT))
  h.try(c:connect(host, port))
  return h
end

-- The low-level API checks what it sends as request() does.
function M:sendrequestline(method, uri)
  method = method or "GET"
  local why = badtarget(method, "localhost", 80)
  if why then misuse(1, "sendrequestline", why) end
  why = type(uri) ~= "string" and "string expected, got " .. type(uri) or badbytes(uri)
  if why then misuse(2, "sendrequestline", "uri " .. why) end
  return self.try(self.c:send(format("%s %s HTTP/1.1\r\n", method, uri)))
end

-- Host first, then the others by name: the same request bytes every time.
function M:sendheaders(tosend)
  local names = {}
  for name, value in pairs(tosend) do
    checkfield(name, value)
    names[#names + 1] = name
  end
  sort(names, function(a, b)
    local la, lb = lower(a), lower(b)
    if (la == "host") ~= (lb == "host") then return la == "host" end
    return la < lb
  end)
  local lines, canonic = {}, headers.canonic
  for i, name in ipairs(names) do
    -- canonic is the caller's to change: only a spelling of the checked name
    local spelled = canonic[lower(name)]
    if type(spelled) ~= "string" or lower(spelled) ~= lower(name) then spelled = name end
    lines[i] = spelled .. ": " .. tostring(tosend[name]) .. "\r\n"
  end
  lines[#lines + 1] = "\r\n"
  self.try(self.c:send(concat(lines)))
  return 1
end

-- A body with a Content-Length: exactly that many bytes go out. Bytes past
-- it would be read by the server as the start of another request.
local function lengthsink(sock, length)
  return selectable(sock, function(_, chunk)
    if not chunk then
      if length ~= 0 then return nil, "body shorter than content-length" end
      return 1
    end
    if #chunk > length then return nil, "body longer than content-length" end
    length = length - #chunk
    return sock:send(chunk)
  end)
end

function M:sendbody(hdrs, source, step)
  source = source or ltn12.source.empty()
  -- without a length the body goes chunked
  local length = hdrs["content-length"]
  local sink
  if length then
    local n = tonumber(match(tostring(length), "^%d+$"))
    if not n then misuse(1, "request", "header 'content-length' must be a decimal number") end
    sink = lengthsink(self.c, n)
  else
    sink = socket.sink("http-chunked", self.c)
  end
  return self.try(ltn12.pump.all(source, sink, step or ltn12.pump.step))
end

function M:receivestatusline()
  local status = self.try(self.c:receive(5))
  -- no "HTTP/": an HTTP/0.9 reply, all body (the RFC's heuristic, as 3.x)
  if status ~= "HTTP/" then return nil, status end
  status = self.try(readline(self.c, "status line", status))
  return self.try(statuscode(status), "invalid status line"), status
end

function M:receiveheaders()
  return self.try(receiveheaders(self.c))
end

function M:receivebody(hdrs, sink, step)
  sink = sink or ltn12.sink.null()
  local te, length = hdrs["transfer-encoding"], hdrs["content-length"]
  local mode, opt = "default", nil            -- until the server closes
  if te and lower(te) ~= "identity" then
    mode, opt = "http-chunked", hdrs
  elseif length then
    mode, opt = "by-length", tonumber(match(length, "^%s*(%d+)%s*$"))
    self.try(opt, "invalid content-length")
  end
  return self.try(ltn12.pump.all(socket.source(mode, self.c, opt), sink, step or ltn12.pump.step))
end

function M:receive09body(status, sink, step)
  local source = ltn12.source.rewind(socket.source("until-closed", self.c))
  source(status)
  return self.try(ltn12.pump.all(source, sink or ltn12.sink.null(), step or ltn12.pump.step))
end

function M:close()
  return self.c:close()
end

------------------------------------------------------------------------------
-- High level API

local function isdefaultport(scheme, port)
  return tostring(port) == tostring(SCHEMES[scheme].port)
end

-- origin-form "/path?query", or the absolute form for a plain proxy
local function adjusturi(reqt, viaproxy)
  local u = { path = socket.try(reqt.path, "invalid path 'nil'"), params = reqt.params, query = reqt.query }
  if viaproxy then
    u.scheme, u.host = reqt.scheme, reqt.host
    if not isdefaultport(reqt.scheme, reqt.port) then u.port = reqt.port end
  end
  return url.build(u)
end

local function adjustheaders(reqt, proxyauth)
  local host = reqt.host
  if find(host, ":", 1, true) then host = "[" .. host .. "]" end
  if not isdefaultport(reqt.scheme, reqt.port) then host = host .. ":" .. tostring(reqt.port) end
  local out = {
    ["user-agent"] = checkfield("user-agent", http.USERAGENT),
    ["host"] = host,
    ["connection"] = "close, TE",
    ["te"] = "trailers",
  }
  if reqt.user and reqt.password then
    out["authorization"] = basic(url.unescape(reqt.user), url.unescape(reqt.password))
  end
  if proxyauth then out["proxy-authorization"] = proxyauth end
  for name, value in pairs(reqt.headers or {}) do
    checkfield(name, value)                   -- before anything is sent
    out[lower(name)] = value
  end
  return out
end

local function adjustrequest(reqt)
  if reqt.url ~= nil and type(reqt.url) ~= "string" then
    misuse(1, "request", "field 'url' must be a string")
  end
  if reqt.headers ~= nil and type(reqt.headers) ~= "table" then
    misuse(1, "request", "field 'headers' must be a table")
  end
  local nreqt = reqt.url and url.parse(reqt.url, { path = "/", scheme = "http" }) or
    { path = "/", scheme = "http" }
  for k, v in pairs(reqt) do nreqt[k] = v end
  local scheme = lower(tostring(nreqt.scheme))
  local defs = SCHEMES[scheme]
  if not defs then socket.try(nil, "unsupported scheme '" .. scheme .. "'") end
  nreqt.scheme = scheme
  if not (nreqt.port and nreqt.port ~= "") then nreqt.port = defs.port end
  if not (nreqt.method and nreqt.method ~= "") then nreqt.method = "GET" end
  if not (nreqt.host and nreqt.host ~= "") then
    socket.try(nil, "invalid host '" .. tostring(nreqt.host) .. "'")
  end
  -- the request line, Host and CONNECT are checked before anything is sent,
  -- as header values are (uri: a target given as is)
  local why = badtarget(nreqt.method, nreqt.host, nreqt.port, reqt.uri and tostring(reqt.uri))
  if why then misuse(1, "request", why) end
  nreqt.port = portstring(nreqt.port)
  -- where a redirect is resolved from (the url as given, or built from parts)
  nreqt.base = reqt.url or url.build({ scheme = scheme, host = nreqt.host, port = nreqt.port,
    path = nreqt.path, params = nreqt.params, query = nreqt.query })
  if not nreqt.create then nreqt.create = defs.create(nreqt) end
  local phost, pport, pauth = proxyof(nreqt)
  -- a plain request goes to the proxy; https tunnels through it (tlscreate)
  local plain = phost and scheme ~= "https"
  nreqt.uri = reqt.uri or adjusturi(nreqt, plain)
  why = badtarget(nreqt.method, nreqt.host, nreqt.port, nreqt.uri)
  if why then misuse(1, "request", why) end
  nreqt.headers = adjustheaders(nreqt, plain and pauth or nil)
  -- one framing, the one we send: a Content-Length, or chunked (RFC 9112 6.2)
  local te, length = nreqt.headers["transfer-encoding"], nreqt.headers["content-length"]
  if te and length then
    misuse(1, "request", "headers 'content-length' and 'transfer-encoding' both given")
  end
  if length and not match(tostring(length), "^%d+$") then
    misuse(1, "request", "header 'content-length' must be a decimal number")
  end
  if te and nreqt.source and not find(lower(tostring(te)), "chunked%s*$") then
    misuse(1, "request", "header 'transfer-encoding' must end with 'chunked'")
  end
  if nreqt.source and not nreqt.headers["content-length"] and not te then
    nreqt.headers["transfer-encoding"] = "chunked"
  end
  if phost then nreqt.host, nreqt.port = phost, pport end
  return nreqt
end

local REDIRECTS = { [301] = true, [302] = true, [303] = true, [307] = true, [308] = true }

-- The location to follow (surrounding blanks trimmed), or false.
local function shouldredirect(reqt, code, hdrs)
  local location = hdrs.location
  if not location then return false end
  location = match(location, "^%s*(.-)%s*$")
  -- checked as sent, before url.absolute (which drops "\1" bytes, as 3.x)
  if location == "" or badbytes(location) then return false end
  local scheme = url.parse(location).scheme
  if scheme and not SCHEMES[lower(scheme)] then return false end
  -- a Location that would put hostile bytes on the wire is not followed
  local p = url.parse(url.absolute(reqt.base, location)) or {}
  local defs = SCHEMES[lower(p.scheme or "")]
  if not (defs and p.host) or badtarget(reqt.method, p.host, p.port or defs.port,
    url.build({ path = p.path or "/", params = p.params, query = p.query })) then
    return false
  end
  local limit = reqt.maxredirects
  if limit == false then limit = http.MAXREDIRECTS end
  return reqt.redirect ~= false and REDIRECTS[code] ~= nil
    and (reqt.method == "GET" or reqt.method == "HEAD")
    and (reqt.nredirects or 0) < (limit or 5) and location
end

local function shouldreceivebody(reqt, code)
  if reqt.method == "HEAD" then return false end
  if code == 204 or code == 304 then return false end
  if code >= 100 and code < 200 then return false end
  return true
end

local function origin(u)
  local p = url.parse(u) or {}
  local scheme = lower(p.scheme or "http")
  return scheme .. "://" .. lower(p.host or "") .. ":" .. tostring(p.port or (SCHEMES[scheme] or {}).port)
end

local trequest

-- Follows a redirect: the same request to the new url. Credentials the
-- caller put in `headers` stay with their origin.
local function tredirect(reqt, nreqt, location)
  local newurl = url.absolute(nreqt.base, location)
  local newt = {
    url = newurl, sink = reqt.sink, step = reqt.step, method = reqt.method, proxy = reqt.proxy,
    redirect = reqt.redirect, maxredirects = reqt.maxredirects, tls = reqt.tls, timeout = reqt.timeout,
    onresponse = reqt.onresponse, nredirects = (reqt.nredirects or 0) + 1, headers = reqt.headers,
  }
  for _, k in ipairs(TLSKEYS) do newt[k] = reqt[k] end
  if lower(url.parse(newurl).scheme or "") == nreqt.scheme then newt.create = reqt.create end
  if reqt.headers and origin(newurl) ~= origin(nreqt.base) then
    newt.headers = {}
    for name, value in pairs(reqt.headers) do
      local l = type(name) == "string" and lower(name)
      if l ~= "authorization" and l ~= "cookie" then newt.headers[name] = value end
    end
  end
  local result, code, hdrs, status = trequest(newt)
  hdrs = hdrs or {}
  hdrs.location = hdrs.location or location
  return result, code, hdrs, status
end

-- One exchange on an open connection: code, headers, status line, and
-- the location to follow (if any).
local function exchange(h, reqt, nreqt)
  h:sendrequestline(nreqt.method, nreqt.uri)
  h:sendheaders(nreqt.headers)
  if nreqt.source then h:sendbody(nreqt.headers, nreqt.source, nreqt.step) end
  local code, status = h:receivestatusline()
  if not code then                            -- HTTP/0.9
    h:receive09body(status, nreqt.sink, nreqt.step)
    return 200
  end
  -- interim responses (100 Continue, 102, 103) go by; a bounded number
  local interim = 0
  while code >= 100 and code < 200 and code ~= 101 do
    interim = interim + 1
    h.try(interim <= http.MAXINTERIM, "too many interim responses")
    h:receiveheaders()
    code, status = h:receivestatusline()
    h.try(code, "invalid status line")
  end
  local hdrs = h:receiveheaders()
  local follow = not nreqt.source and shouldredirect(nreqt, code, hdrs)
  if follow then return code, hdrs, status, follow end
  if reqt.onresponse then reqt.onresponse(code, hdrs, status) end
  if shouldreceivebody(nreqt, code) then h:receivebody(hdrs, nreqt.sink, nreqt.step) end
  return code, hdrs, status
end

function trequest(reqt)
  local nreqt = adjustrequest(reqt)
  local h = http.open(nreqt.host, nreqt.port, nreqt.create, nreqt.timeout)
  -- a source, sink, step or onresponse that raises closes the connection too
  local ok, code, hdrs, status, follow = socket._pcall(exchange, h, reqt, nreqt)
  h:close()
  if not ok then error(code, 0) end
  if follow then return tredirect(reqt, nreqt, follow) end
  if not hdrs then return 1, code end
  return 1, code, hdrs, status
end

-- request(url [, body]) as a generic request: the body (if any) is POSTed.
function http.genericform(u, b)
  local t = {}
  local reqt = { url = u, sink = ltn12.sink.table(t), target = t }
  if b then
    reqt.source = ltn12.source.string(b)
    reqt.headers = {
      ["content-length"] = #b,
      ["content-type"] = "application/x-www-form-urlencoded",
    }
    reqt.method = "POST"
  end
  return reqt
end

local function srequest(u, b)
  local reqt = http.genericform(u, b)
  local _, code, hdrs, status = trequest(reqt)
  return concat(reqt.target), code, hdrs, status
end

http.request = socket.protect(function(reqt, body)
  if type(reqt) == "string" then
    if body ~= nil and type(body) ~= "string" then
      misuse(2, "request", "string expected, got " .. type(body))
    end
    return srequest(reqt, body)
  end
  if type(reqt) ~= "table" then
    misuse(1, "request", "string or table expected, got " .. (reqt == nil and "no value" or type(reqt)))
  end
  return trequest(reqt)
end)

return http
