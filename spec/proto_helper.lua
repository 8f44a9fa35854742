-- Peers for the protocol specs (tp, smtp, ftp): a tiny SMTP sink and a tiny
-- FTP server written with netsocket, run as socket.co tasks next to the
-- client under test (P.run), plus Debian's aiosmtpd and pyftpdlib started as
-- child processes (P.python) where they are installed.
local socket = require("socket")
local co = require("socket.co")
local H = require("helper")

local P = {}

local live = {}                 -- every socket a peer opened: closed by P.run
local busy = 0                  -- peer tasks still running

-- Spawns a peer task, counted in `busy` while it runs.
local function peertask(fn)
  busy = busy + 1
  co.spawn(function()
    local ok, err = co.pcall(fn)          -- yields on PUC 5.1 too
    busy = busy - 1
    if not ok then error(err, 0) end
  end)
end

local function own(s)
  live[#live + 1] = s
  return s
end

local function listener(host)
  local s, port = H.server(host or "127.0.0.1")
  s:settimeout(10)
  return own(s), port
end

-- Runs fn() as a task while the peers serve, then closes every peer socket
-- and lets their tasks finish. Returns fn's results; re-raises its error.
local function closeall()
  for i = #live, 1, -1 do
    live[i]:close()
    live[i] = nil
  end
end

function P.run(fn, timeout)
  local res
  co.spawn(function()
    res = table.pack(co.pcall(fn))
    for _ = 1, 300 do           -- let the peers finish on their own first
      if busy == 0 then break end
      socket.sleep(0.01)
    end
    closeall()
  end)
  local ok, err = co.run(timeout or 30)
  if not ok then
    closeall()                  -- wakes every peer task: they end
    co.run(5)
    error("scheduler: " .. tostring(err), 2)
  end
  assert(res, "the client task did not finish")
  if not res[1] then error(res[2], 0) end
  return table.unpack(res, 2, res.n)
end

-- Serves n (default 1) connections one after another: session(client)
-- runs with each (timeouts 5 s), which is closed afterwards.
local function serve(srv, n, session)
  peertask(function()
    for _ = 1, n or 1 do
      local c = srv:accept()
      if not c then break end
      own(c):settimeout(5)
      session(c)
      c:close()
    end
    srv:close()
  end)
end

-- A one-connection peer: script(client) runs in a task with the accepted
-- connection, which is closed afterwards.
function P.peer(script)
  local srv, port = listener()
  serve(srv, 1, script)
  return port
end

-- A control-connection peer that greets with "220 hi", then answers each
-- command line whose verb is a key of `answers` with that reply line.
function P.answering(answers)
  return P.peer(function(c)
    c:send("220 hi\r\n")
    for _ = 1, 20 do
      local l = c:receive("*l")
      if not l then break end
      local a = answers[l:match("^%a+") or ""]
      if a then c:send(a .. "\r\n") end
    end
  end)
end

-- Reads one command line; keeps the raw bytes in log.
local function readcmd(c, log)
  local line, err = c:receive("*L")
  if not line then return nil, err end
  log[#log + 1] = line
  return (line:gsub("\r?\n$", ""))
end

------------------------------------------------------------------------------
-- SMTP sink (RFC 5321 subset). opts:
--   ext      EHLO extension lines (default {"8BITMIME"})
--   auth     { plain = "<base64>" } and/or { login = {"<b64 user>", "<b64 pw>"} }:
--            the answers accepted (anything else: 535)
--   replies  { BANNER=, EHLO=, MAIL=, RCPT=, DATA=, ["."]=, QUIT= }: a reply
--            line to give instead of the usual one
--   sessions how many connections to serve (default 1)
-- The returned table fills in as clients talk:
--   port, log (every byte received, per session: log[i] is a string),
--   mails ({ from=, rcpt={...}, data=<bytes as sent, dot-stuffed> }), auth (answers)
function P.smtpd(opts)
  opts = opts or {}
  local srv, port = listener()
  local d = { port = port, log = {}, mails = {}, auth = {} }
  local replies = opts.replies or {}
  local function reply(c, key, default)
    local line = replies[key] or default
    c:send(line .. "\r\n")
    return line:match("^[23]") ~= nil
  end
  local function session(c)
    local log = {}
    local mail
    if reply(c, "BANNER", "220 sink.test ESMTP ready") then
      for _ = 1, 100 do
        local line = readcmd(c, log)
        if not line then break end
        local verb, arg = line:match("^(%a+) ?(.*)$")
        verb = (verb or ""):upper()
        if verb == "EHLO" then
          local ext = opts.ext or { "8BITMIME" }
          if replies.EHLO then
            reply(c, "EHLO")
          else
            local out = { "250-sink.test greets " .. arg }
            for i, e in ipairs(ext) do out[#out + 1] = (i == #ext and "250 " or "250-") .. e end
            if #ext == 0 then out[1] = out[1]:gsub("^250%-", "250 ") end
            c:send(table.concat(out, "\r\n") .. "\r\n")
          end
        elseif verb == "AUTH" then
          local a = opts.auth or {}
          local mech, rest = arg:match("^(%S+) ?(.*)$")
          local ok = false
          if mech == "PLAIN" then
            d.auth[#d.auth + 1] = rest
            ok = a.plain ~= nil and rest == a.plain
          elseif mech == "LOGIN" then
            c:send("334 VXNlcm5hbWU6\r\n")
            local u = readcmd(c, log)
            c:send("334 UGFzc3dvcmQ6\r\n")
            local p = readcmd(c, log)
            d.auth[#d.auth + 1] = u
            d.auth[#d.auth + 1] = p
            ok = a.login ~= nil and u == a.login[1] and p == a.login[2]
          end
          c:send(ok and "235 2.7.0 authenticated\r\n" or "535 5.7.8 bad credentials\r\n")
        elseif verb == "MAIL" then
          if reply(c, "MAIL", "250 2.1.0 ok") then
            mail = { from = arg:match("^FROM:(.*)$"), rcpt = {} }
          end
        elseif verb == "RCPT" then
          if reply(c, "RCPT", "250 2.1.5 ok") and mail then
            mail.rcpt[#mail.rcpt + 1] = arg:match("^TO:(.*)$")
          end
        elseif verb == "DATA" then
          if reply(c, "DATA", "354 end with <CRLF>.<CRLF>") then
            local data = {}
            for _ = 1, 1e6 do
              local l = c:receive("*L")
              if not l then break end
              log[#log + 1] = l
              if l == ".\r\n" then break end
              data[#data + 1] = l
            end
            mail = mail or { rcpt = {} }
            mail.data = table.concat(data)
            d.mails[#d.mails + 1] = mail
            mail = nil
            reply(c, ".", "250 2.0.0 queued")
          end
        elseif verb == "QUIT" then
          reply(c, "QUIT", "221 2.0.0 bye")
          break
        else
          c:send("502 5.5.2 command not recognized\r\n")
        end
      end
    end
    d.log[#d.log + 1] = table.concat(log)
  end
  serve(srv, opts.sessions, session)
  return d
end

------------------------------------------------------------------------------
-- FTP server (RFC 959 subset, one session at a time, a virtual file system).
-- opts:
--   files    { ["/path"] = "contents" } (STOR writes into it)
--   users    { name = "password" } (nil: any user, no password asked)
--   noepsv   answer EPSV with 502 (the client must fall back to PASV)
--   pasvhost the address written in PASV replies (default 127.0.0.1)
--   replies  { RETR=, STOR=, ... }: a reply line instead of the usual one
--   sessions how many connections to serve (default 1)
--   host     the address to listen on (default 127.0.0.1; "::1" for IPv6)
-- The returned table: port, files, commands (every command line received).
function P.ftpd(opts)
  opts = opts or {}
  local srv, port = listener(opts.host)
  local d = { port = port, files = opts.files or {}, commands = {} }
  local replies = opts.replies or {}

  local function isdir(path)
    if path == "/" then return true end
    for name in pairs(d.files) do
      if name:sub(1, #path + 1) == path .. "/" then return true end
    end
    return false
  end

  local function session(c)
    local log = {}
    local cwd, user, authed = "/", nil, opts.users == nil
    local pasv, active                  -- listening socket, or {host, port}
    local function abs(p)
      if not p or p == "" then return cwd end
      if p:sub(1, 1) ~= "/" then p = (cwd == "/" and "/" or cwd .. "/") .. p end
      return p
    end
    local function dataconn()
      if pasv then
        local s = pasv:accept()
        pasv:close()
        pasv = nil
        return s and own(s)
      elseif active then
        local s = socket.connect(active[1], active[2])
        active = nil
        return s and own(s)
      end
    end
    local function say(key, line)
      c:send((replies[key] or line) .. "\r\n")
      return replies[key] == nil
    end
    c:send("220 ftp.test ready\r\n")
    for _ = 1, 1000 do
      local line = readcmd(c, log)
      if not line then break end
      d.commands[#d.commands + 1] = line
      local verb, arg = line:match("^(%a+) ?(.*)$")
      verb = (verb or ""):upper()
      if verb == "USER" then
        user = arg
        if opts.users then
          authed = false
          c:send("331 password please\r\n")
        else
          c:send("230 logged in\r\n")
        end
      elseif verb == "PASS" then
        if opts.users and opts.users[user] == arg then
          authed = true
          c:send("230 logged in\r\n")
        else
          c:send("530 login incorrect\r\n")
        end
      elseif verb == "QUIT" then
        c:send("221 bye\r\n")
        break
      elseif not authed then
        c:send("530 please login with USER and PASS\r\n")
      elseif verb == "TYPE" then
        c:send(arg:upper():match("^[AI]$") and "200 type set to " .. arg .. "\r\n" or "504 bad type\r\n")
      elseif verb == "PWD" then
        c:send('257 "' .. cwd .. '"\r\n')
      elseif verb == "CWD" then
        local p = abs(arg)
        if isdir(p) then
          cwd = p
          c:send("250 directory changed\r\n")
        else
          c:send("550 no such directory\r\n")
        end
      elseif verb == "PASV" or verb == "EPSV" then
        if verb == "EPSV" and opts.noepsv then
          c:send("502 EPSV not implemented\r\n")
        else
          if pasv then pasv:close() end
          local p
          pasv, p = listener(opts.host)
          if verb == "EPSV" then
            c:send("229 entering extended passive mode (|||" .. p .. "|)\r\n")
          else
            local h = (opts.pasvhost or "127.0.0.1"):gsub("%.", ",")
            c:send(("227 entering passive mode (%s,%d,%d)\r\n"):format(h, math.floor(p / 256), p % 256))
          end
        end
      elseif verb == "PORT" then
        local a, b, cc, dd, p1, p2 = arg:match("^(%d+),(%d+),(%d+),(%d+),(%d+),(%d+)$")
        if a then
          active = { table.concat({ a, b, cc, dd }, "."), tonumber(p1) * 256 + tonumber(p2) }
          c:send("200 PORT ok\r\n")
        else
          c:send("501 bad PORT\r\n")
        end
      elseif verb == "EPRT" then
        local host, p = arg:match("^|[12]|([^|]+)|(%d+)|$")
        if host then
          active = { host, tonumber(p) }
          c:send("200 EPRT ok\r\n")
        else
          c:send("501 bad EPRT\r\n")
        end
      elseif verb == "RETR" or verb == "LIST" or verb == "NLST" then
        local out
        if verb == "RETR" then
          out = d.files[abs(arg)]
        else
          local dir, names = abs(arg), {}
          for name in pairs(d.files) do
            local rest = name:sub(#dir + 2)
            if name:sub(1, #dir) == dir and (dir == "/" or name:sub(#dir + 1, #dir + 1) == "/") then
              if dir == "/" then rest = name:sub(2) end
              names[#names + 1] = rest
            end
          end
          table.sort(names)
          out = #names > 0 and table.concat(names, "\r\n") .. "\r\n" or (isdir(dir) and "" or nil)
        end
        if not out then
          c:send("550 no such file\r\n")
        elseif say(verb, "150 opening data connection") then
          local s = dataconn()
          if s then
            s:settimeout(10)
            s:send(out)
            s:close()
            c:send("226 transfer complete\r\n")
          else
            c:send("425 no data connection\r\n")
          end
        end
      elseif verb == "STOR" then
        if say("STOR", "150 ok to send data") then
          local s = dataconn()
          if s then
            s:settimeout(10)
            local body, err, partial = s:receive("*a")
            s:close()
            d.files[abs(arg)] = body or (err == "closed" and partial) or nil
            c:send(d.files[abs(arg)] and "226 stored\r\n" or "451 transfer failed\r\n")
          else
            c:send("425 no data connection\r\n")
          end
        end
      elseif verb == "NOOP" then
        c:send("200 ok\r\n")
      else
        c:send("502 command not implemented\r\n")
      end
    end
    if pasv then pasv:close() end
    d.log = table.concat(log)
  end

  serve(srv, opts.sessions, session)
  return d
end

-- The modules the protocol specs load must be this tree's (Lua modules on
-- package.path, mime.core on package.cpath), not Debian's LuaSocket, which
-- sits on the default paths too. Asserts it.
function P.checkpaths()
  local root = assert(os.getenv("NETSOCKET_BUILD"), "run through make test"):match("^(.*)/[^/]+$")
  local where = { ["mime.core"] = package.searchpath("mime.core", package.cpath) }
  for _, m in ipairs({ "ltn12", "mime", "socket.url", "socket.headers", "socket.tp", "socket.smtp",
    "socket.ftp" }) do
    where[m] = package.searchpath(m, package.path)
  end
  for m, path in pairs(where) do
    assert(path:sub(1, #root) == root, m .. " would load from " .. path .. ", not from " .. root)
  end
end

------------------------------------------------------------------------------
-- Debian's Python servers, as peers nobody here wrote.

P.PYTHON = "/usr/bin/python3"

P.readfile = H.readfile

-- Writes data to a file (binary).
function P.writefile(name, data)
  local f = assert(io.open(name, "wb"))
  f:write(data)
  f:close()
end

-- Whether `import <module>` works in Debian's python3.
function P.haspython(module)
  local _, ok = H.sh(P.PYTHON .. " -c 'import " .. module .. "'")
  return ok
end

P.freeport = H.freeport

-- Starts `cmd` in the background; returns its pid. Waits (bounded) until
-- 127.0.0.1:port accepts connections.
function P.spawn(cmd, port)
  local out = H.sh(cmd .. " >/dev/null 2>&1 & echo $!")
  local pid = assert(tonumber(out:match("(%d+)")), "no pid from: " .. out)
  for _ = 1, 100 do
    local c = socket.tcp()
    c:settimeout(1)
    local ok = c:connect("127.0.0.1", port)
    c:close()
    if ok then return pid end
    socket.sleep(0.05)
  end
  P.kill(pid)
  error("server did not start: " .. cmd)
end

function P.kill(pid)
  os.execute("kill " .. math.tointeger(pid) .. " 2>/dev/null")
end

return P
