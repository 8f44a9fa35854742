-- socket.tp: the command/reply protocol that SMTP and FTP share (three-digit
-- replies, "-" continuation lines), with LuaSocket 3.x's API. What a peer may
-- send is bounded: tp.MAXLINE bytes per reply line, tp.MAXLINES lines per reply.
local socket = require("socket")
local ltn12 = require("ltn12")

local setmetatable, type, tonumber, ipairs, error, tostring = setmetatable, type, tonumber, ipairs, error, tostring
local find, match, upper = string.find, string.match, string.upper
local concat = table.concat

local tp = {}
socket.tp = tp                  -- 3.x stores the module in the socket table too

tp.TIMEOUT = 60
tp.MAXLINE = 8192
tp.MAXLINES = 1024

local methods = {}
local metat = { __index = methods }

-- One reply line, CRs dropped, at most tp.MAXLINE bytes (the socket's line
-- limit: nothing past it is buffered). A line cut by a timeout is kept and
-- finished by the next call. LuaSocket objects (a foreign `create`) ignore
-- the limit.
local function readline(self)
  local part = self.partial
  local line, err, partial = self.c:receive("*l", part, math.max(0, tp.MAXLINE - #part))
  self.partial = ""
  if line then return line end
  if err == "line too long" then return nil, "reply line too long" end
  if err == "timeout" then self.partial = partial or "" end
  return nil, err
end

-- A whole reply: its code (a string) and its lines joined by "\n".
-- A multi-line reply ends at the first line with the same code and " "
-- (or nothing) after it (RFC 959 4.2, RFC 5321 4.2.1).
local function getreply(self)
  local line, err = readline(self)
  if not line then return nil, err end
  local code, sep = match(line, "^(%d%d%d)(.?)")
  if not code then return nil, "invalid server reply" end
  if sep ~= "-" then return code, line end
  local lines = { line }
  repeat
    if #lines >= tp.MAXLINES then return nil, "reply has too many lines" end
    line, err = readline(self)
    if not line then return nil, err end
    lines[#lines + 1] = line
    local cur
    cur, sep = match(line, "^(%d%d%d)(.?)")
  until cur == code and (sep == " " or sep == "")
  return code, concat(lines, "\n")
end

-- check(ok): reads a reply; `ok` is a pattern for the code (string or
-- number), a list of them, or a function(code, reply) whose result is returned.
function methods:check(ok)
  local code, reply = getreply(self)
  if not code then return nil, reply end
  local t = type(ok)
  if t == "function" then return ok(tonumber(code), reply) end
  if t == "table" then
    for _, v in ipairs(ok) do
      if find(code, v) then return tonumber(code), reply end
    end
    return nil, reply
  end
  if t ~= "string" and t ~= "number" then
    error("bad argument #1 to 'check' (string, number, table or function expected, got "
      .. (ok == nil and "no value" or t) .. ")", 2)
  end
  if find(code, ok) then return tonumber(code), reply end
  return nil, reply
end

-- A command line can't carry CR, LF or NUL: a path or an address holding them
-- would smuggle in a second command.
function methods:command(cmd, arg)
  if type(cmd) ~= "string" then
    error("bad argument #1 to 'command' (string expected, got " .. (cmd == nil and "no value" or type(cmd)) .. ")", 2)
  end
  local line = upper(cmd)
  if arg ~= nil then line = line .. " " .. tostring(arg) end
  if find(line, "[%z\r\n]") then return nil, "invalid character in command" end
  return self.c:send(line .. "\r\n")
end

function methods:receive(pat)
  return self.c:receive(pat)
end

function methods:sink(snk, pat)
  local chunk, err = self:receive(pat)
  return snk(chunk, err)
end

function methods:send(data)
  return self.c:send(data)
end

function methods:source(src, step)
  local snk = socket.sink("keep-open", self.c)
  return ltn12.pump.all(src, snk, step or ltn12.pump.step)
end

function methods:getpeername()
  return self.c:getpeername()
end

-- 3.x answers getpeername here (a bug); this is the local address.
function methods:getsockname()
  return self.c:getsockname()
end

function methods:getfd()
  return self.c:getfd()
end

function methods:dirty()
  return self.c:dirty()
end

function methods:getcontrol()
  return self.c
end

function methods:close()
  self.c:close()
  return 1
end

-- connect(host, port [, timeout [, create]]): a tp object, or nil, err.
function tp.connect(host, port, timeout, create)
  local c, err = (create or socket.tcp)()
  if not c then return nil, err end
  c:settimeout(timeout or tp.TIMEOUT)
  local ok
  ok, err = c:connect(host, port)
  if not ok then
    c:close()
    return nil, err
  end
  return setmetatable({ c = c, partial = "" }, metat)
end

return tp
