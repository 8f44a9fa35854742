-- netsocket: LuaSec's require("ssl.https") over socket.http's https, which
-- verifies the server (LuaSec's https does not by default: doc/migration.md).
-- request(url [, body]) and request{...} as LuaSec's; TLS params go at the
-- top of the request table, as there.
local socket = require("socket")
local http = require("socket.http")
local url = require("socket.url")
local ltn12 = require("ltn12")

local https = {
  _VERSION = "1.3.2",
  _COPYRIGHT = "netsocket TLS, LuaSec-compatible",
  PORT = 443,
  TIMEOUT = 60,
}

-- TLS whatever the scheme, as LuaSec; the port defaults to https.PORT.
local function secure(u)
  local p = type(u) == "string" and url.parse(u, { port = https.PORT })
  if not p then return u end
  p.scheme = "https"
  return url.build(p)
end

local REDIRECTS = { [301] = true, [302] = true, [303] = true, [307] = true, [308] = true }

local function origin(u)
  local p = url.parse(u) or {}
  return string.lower((p.scheme or "") .. "://" .. (p.host or "") .. ":" .. tostring(p.port or https.PORT))
end

-- socket.http would follow a Location to http:// in the clear, where LuaSec's
-- https never leaves TLS: redirects are followed here, to https URLs only,
-- with socket.http's limit and its rule for credentials (dropped when the
-- origin changes). Any other redirect is the answer, as socket.http gives
-- it with redirect = false.
local function follow(t)
  local limit = t.maxredirects
  if limit == false then limit = http.MAXREDIRECTS end
  limit = limit or 5
  local sink, onresponse = t.sink, t.onresponse
  local r, code, headers, status
  for n = 0, limit do
    local location
    local req = {}
    for k, v in pairs(t) do req[k] = v end
    req.redirect = false
    req.onresponse = function(c, h, st)
      local loc = type(h) == "table" and type(h.location) == "string" and h.location:match("^%s*(.-)%s*$")
      if t.redirect ~= false and n < limit and not t.source and REDIRECTS[c] and loc and loc ~= "" then
        local target = url.absolute(t.url, loc)
        local p = url.parse(target)
        if p and p.host and string.lower(p.scheme or "") == "https" then location = target end
      end
      if not location and onresponse then return onresponse(c, h, st) end
    end
    req.sink = function(chunk, err)
      if location or not sink then return 1 end
      return sink(chunk, err)
    end
    r, code, headers, status = http.request(req)
    if not (r and location) then return r, code, headers, status end
    if t.headers and origin(location) ~= origin(t.url) then
      local kept = {}
      for name, value in pairs(t.headers) do
        local l = type(name) == "string" and string.lower(name)
        if l ~= "authorization" and l ~= "cookie" then kept[name] = value end
      end
      t.headers = kept
    end
    t.url = location
  end
  return r, code, headers, status
end

function https.request(reqt, body)
  local t, target = {}, nil
  if type(reqt) == "string" then
    target = {}
    t = { url = secure(reqt), sink = ltn12.sink.table(target), method = body and "POST" or "GET" }
    if body then
      t.source = ltn12.source.string(body)
      t.headers = { ["content-length"] = #body, ["content-type"] = "application/x-www-form-urlencoded" }
    end
  elseif type(reqt) == "table" then
    if reqt.create then return nil, "create function not permitted" end
    for k, v in pairs(reqt) do t[k] = v end
    t.url = secure(reqt.url)
  else
    error("bad argument #1 to 'request' (string or table expected, got "
      .. (reqt == nil and "no value" or type(reqt)) .. ")", 2)
  end
  t.timeout = https.TIMEOUT
  local r, code, headers, status = follow(t)
  if r and target then return table.concat(target), code, headers, status end
  return r, code, headers, status
end

-- tcp(params): a LuaSocket `create` function whose objects connect over
-- TLS (params: socket.ssl's, client mode) with SNI and the name check for
-- the host given to connect; then they are the TLS connection.
function https.tcp(params)
  local p = {}
  for k, v in pairs(params or {}) do p[k] = v end
  p.mode = "client"
  return function()
    local conn = { sock = socket.try(socket.tcp()) }
    function conn:settimeout() return self.sock:settimeout(https.TIMEOUT) end
    function conn:connect(host, port)
      socket.try(self.sock:connect(host, port))
      local tls = socket.try(require("socket.ssl").wrap(self.sock, p))
      self.sock = tls
      tls:sni(host)
      tls:settimeout(https.TIMEOUT)
      socket.try(tls:dohandshake())
      return 1
    end
    return setmetatable(conn, { __index = function(_, name)
      return function(self, ...) return self.sock[name](self.sock, ...) end
    end })
  end
end

return https
