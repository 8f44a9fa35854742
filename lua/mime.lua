-- mime: LuaSocket 3.x's MIME filters (RFC 2045) for ltn12 chains. The work
-- is done by the step functions of mime.core (C); each filter here cycles
-- one of them, carrying its context from chunk to chunk (doc/mime.md).
local ltn12 = require("ltn12")
local mime = require("mime.core")

local cycle = ltn12.filter.cycle
local error, tostring, type = error, tostring, type

-- The filter factories by name; scripts may add their own (3.x API).
local encodet, decodet, wrapt = {}, {}, {}
mime.encodet, mime.decodet, mime.wrapt = encodet, decodet, wrapt

encodet["base64"] = function()
  return cycle(mime.b64, "")
end

-- "binary" mode quotes line breaks too (=0D=0A), so any bytes survive.
encodet["quoted-printable"] = function(mode)
  return cycle(mime.qp, "", mode == "binary" and "=0D=0A" or "\r\n")
end

decodet["base64"] = function()
  return cycle(mime.unb64, "")
end

decodet["quoted-printable"] = function()
  return cycle(mime.unqp, "")
end

wrapt["text"] = function(length)
  length = length or 76
  return cycle(mime.wrp, length, length)
end
wrapt["base64"] = wrapt["text"]
wrapt["default"] = wrapt["text"]

wrapt["quoted-printable"] = function()
  return cycle(mime.qpwrp, 76, 76)
end

-- f(name, ...) picks factory `name` of t; without a name (first argument
-- not a string) it picks "default" and passes the arguments on.
local function chooser(t)
  return function(name, opt1, opt2)
    if type(name) ~= "string" then
      name, opt1, opt2 = "default", name, opt1
    end
    local factory = t[name]
    if not factory then error("unknown key (" .. tostring(name) .. ")", 3) end
    return factory(opt1, opt2)
  end
end

mime.encode = chooser(encodet)
mime.decode = chooser(decodet)
mime.wrap = chooser(wrapt)

-- Every CR, LF, CRLF or LFCR becomes `marker` (CRLF by default).
function mime.normalize(marker)
  return cycle(mime.eol, 0, marker)
end

-- SMTP dot-stuffing: a '.' that starts a line is doubled.
function mime.stuff()
  return cycle(mime.dot, 2)
end

return mime
