-- socket.smtp: send mail (RFC 5321) and build MIME messages (RFC 2045/2046)
-- with LuaSocket 3.x's API: smtp.send{...}, smtp.message{...}, smtp.open(...).
local socket = require("socket")
local tp = require("socket.tp")
local ltn12 = require("ltn12")
local headers = require("socket.headers")
local mime = require("mime")

local setmetatable, type, pairs, ipairs, error, tostring = setmetatable, type, pairs, ipairs, error, tostring
local find, gsub, lower, format = string.find, string.gsub, string.lower, string.format
local sort, concat = table.sort, table.concat

local smtp = {}
socket.smtp = smtp

smtp.TIMEOUT = 60
smtp.SERVER = "localhost"
smtp.PORT = 25
smtp.DOMAIN = os.getenv("SERVER_NAME") or "localhost"   -- EHLO argument
smtp.ZONE = "-0000"                                     -- "time zone unknown"

------------------------------------------------------------------------------
-- Sessions: every method raises a socket.try exception on failure, after
-- closing the session (smtp.send turns that into nil, message).

local methods = {}
local metat = { __index = methods }

-- greet([domain]): reads the banner, says EHLO; returns the EHLO reply text.
function methods:greet(domain)
  self.try(self.tp:check("2.."))
  self.try(self.tp:command("EHLO", domain or smtp.DOMAIN))
  return socket.skip(1, self.try(self.tp:check("2..")))
end

function methods:mail(from)
  self.try(self.tp:command("MAIL", "FROM:" .. from))
  return self.try(self.tp:check("2.."))
end

function methods:rcpt(to)
  self.try(self.tp:command("RCPT", "TO:" .. to))
  return self.try(self.tp:check("2.."))
end

-- data(source [, step]): DATA, the source's bytes, then the final ".".
-- The caller normalises line ends and dot-stuffs (send does, through
-- stuffing()).
function methods:data(src, step)
  self.try(self.tp:command("DATA"))
  self.try(self.tp:check("3.."))
  self.try(self.tp:source(src, step))
  self.try(self.tp:send("\r\n.\r\n"))
  return self.try(self.tp:check("2.."))
end

function methods:quit()
  self.try(self.tp:command("QUIT"))
  return self.try(self.tp:check("2.."))
end

function methods:close()
  return self.tp:close()
end

-- AUTH LOGIN (RFC 4954 with the draft LOGIN mechanism): user and password
-- each answer a 334 challenge, base64-encoded.
function methods:login(user, password)
  self.try(self.tp:command("AUTH", "LOGIN"))
  self.try(self.tp:check("3.."))
  self.try(self.tp:send(mime.b64(user) .. "\r\n"))
  self.try(self.tp:check("3.."))
  self.try(self.tp:send(mime.b64(password) .. "\r\n"))
  return self.try(self.tp:check("2.."))
end

-- AUTH PLAIN (RFC 4616): "\0user\0password" in the command itself.
function methods:plain(user, password)
  self.try(self.tp:command("AUTH", "PLAIN " .. mime.b64("\0" .. user .. "\0" .. password)))
  return self.try(self.tp:check("2.."))
end

-- auth(user, password, ehlo_reply): LOGIN if offered, else PLAIN, as 3.x;
-- nothing to do without credentials.
function methods:auth(user, password, ext)
  if not user or not password then return 1 end
  if find(ext, "AUTH[^\n]+LOGIN") then return self:login(user, password) end
  if find(ext, "AUTH[^\n]+PLAIN") then return self:plain(user, password) end
  self.try(nil, "authentication not supported")
end

-- The body filter: every line end (CR, LF, CRLF) becomes CRLF first, then
-- a "." that starts a line is doubled. Dot-stuffing alone would miss a "."
-- after a bare LF or CR, which servers that take those as line ends read as
-- the end of DATA (SMTP smuggling). Both filters carry their state from one
-- chunk to the next, so no split of CR LF or of ".": no body ends DATA early.
local function stuffing()
  return ltn12.filter.chain(mime.normalize(), mime.stuff())
end

-- send{from, rcpt, source [, step]}: one transaction; the source goes
-- through stuffing() on the way.
function methods:send(mailt)
  self:mail(mailt.from)
  if type(mailt.rcpt) == "table" then
    for _, to in ipairs(mailt.rcpt) do self:rcpt(to) end
  else
    self:rcpt(mailt.rcpt)
  end
  self:data(ltn12.source.chain(mailt.source, stuffing()), mailt.step)
end

-- open([server [, port [, create]]]): a connected session; raises a
-- socket.try exception if the connection fails.
function smtp.open(server, port, create)
  local t = socket.try(tp.connect(server or smtp.SERVER, port or smtp.PORT, smtp.TIMEOUT, create))
  local s = setmetatable({ tp = t }, metat)
  s.try = socket.newtry(function() s:close() end)
  return s
end

------------------------------------------------------------------------------
-- Messages. The message is laid out at once as a list of pieces (strings
-- and body sources) and pulled piece by piece: no coroutine, so a body source
-- that waits on a socket inside a socket.co task yields to the scheduler.

local function lowered(h)
  local t = {}
  for k, v in pairs(h or t) do t[lower(k)] = v end
  return t
end

-- The header block, names canonicalised, in a fixed (sorted) order. A name
-- must be a token, and a line break in a value must fold (be followed by a
-- blank): anything else would add a header of the caller's data.
local function headerblock(h)
  local names = {}
  for k in pairs(h) do
    if type(k) ~= "string" or not find(k, "^[%w!#$%%&'*+%-.^_`|~]+$") then
      error("bad argument #1 to 'message' (invalid header name '" .. tostring(k) .. "')", 0)
    end
    names[#names + 1] = k
  end
  sort(names)
  local out = {}
  for i, k in ipairs(names) do
    local v = tostring(h[k])
    local lines = gsub(gsub(v, "\r\n", "\n"), "\r", "\n")    -- at least as many breaks as on the wire
    if find(lines, "\n[^ \t]") or find(lines, "\n[ \t]*\n") or find(lines, "\n[ \t]*$") then
      error("bad argument #1 to 'message' (header '" .. k .. "' has a line break that does not fold)", 0)
    end
    -- canonic is the caller's to change: only a spelling of the checked name
    local spelled = headers.canonic[lower(k)]
    if type(spelled) ~= "string" or lower(spelled) ~= lower(k) then spelled = k end
    out[i] = spelled .. ": " .. v .. "\r\n"
  end
  out[#out + 1] = "\r\n"
  return concat(out)
end

local seqno = 0
local function newboundary()
  seqno = seqno + 1
  return format("%s%05d==%05d", os.date("%d%m%Y%H%M%S"), math.random(0, 99999), seqno)
end

local layout

local function multipart(mesgt, out)
  local bd = newboundary()
  local h = lowered(mesgt.headers)
  h["content-type"] = (h["content-type"] or "multipart/mixed") .. '; boundary="' .. bd .. '"'
  out[#out + 1] = headerblock(h)
  local body = mesgt.body
  if body.preamble then out[#out + 1] = body.preamble .. "\r\n" end
  for _, part in ipairs(body) do
    out[#out + 1] = "\r\n--" .. bd .. "\r\n"
    layout(part, out)
  end
  out[#out + 1] = "\r\n--" .. bd .. "--\r\n\r\n"
  if body.epilogue then out[#out + 1] = body.epilogue .. "\r\n" end
end

-- One entity: headers, then a string body, a source body or parts.
function layout(mesgt, out)
  if type(mesgt) ~= "table" then
    error("bad argument #1 to 'message' (table expected for a message part, got " .. type(mesgt) .. ")", 0)
  end
  local body = mesgt.body
  if type(body) == "table" then return multipart(mesgt, out) end
  local h = lowered(mesgt.headers)
  h["content-type"] = h["content-type"] or 'text/plain; charset="iso-8859-1"'
  out[#out + 1] = headerblock(h)
  if type(body) == "function" then
    out[#out + 1] = body
  elseif body ~= nil then
    out[#out + 1] = tostring(body)
  end
end

-- message{headers, body [, zone]}: an LTN12 source of the whole message.
-- Adds Date, X-Mailer (unless given) and MIME-Version: 1.0 (always).
function smtp.message(mesgt)
  if type(mesgt) ~= "table" then
    error("bad argument #1 to 'message' (table expected, got "
      .. (mesgt == nil and "no value" or type(mesgt)) .. ")", 2)
  end
  local h = lowered(mesgt.headers)
  h["date"] = h["date"] or os.date("!%a, %d %b %Y %H:%M:%S ") .. (mesgt.zone or smtp.ZONE)
  h["x-mailer"] = h["x-mailer"] or socket._VERSION
  h["mime-version"] = "1.0"
  mesgt.headers = h
  local pieces = {}
  local ok, err = pcall(layout, mesgt, pieces)
  if not ok then error(err, 2) end
  local i, failed = 1, nil
  return function()
    if failed then return nil, failed end
    while true do
      local p = pieces[i]
      if p == nil then return nil end
      if type(p) == "string" then
        i = i + 1
        return p
      end
      local chunk, e = p()
      if chunk then return chunk end
      if e then
        failed = e
        return nil, e
      end
      i = i + 1                 -- this body source is done
    end
  end
end

------------------------------------------------------------------------------

-- send{from, rcpt, source, server, port, domain, user, password, step, create}
-- returns 1, or nil and the error (the server's reply for a refusal).
smtp.send = socket.protect(function(mailt)
  if type(mailt) ~= "table" then
    error("bad argument #1 to 'send' (table expected, got " .. (mailt == nil and "no value" or type(mailt)) .. ")", 3)
  end
  local s = smtp.open(mailt.server, mailt.port, mailt.create)
  -- a source or step that raises closes the session too
  local ok, err = socket._pcall(function()
    local ext = s:greet(mailt.domain)
    s:auth(mailt.user, mailt.password, ext)
    s:send(mailt)
    s:quit()
  end)
  if not ok then
    s:close()
    error(err, 0)
  end
  return s:close()
end)

return smtp
