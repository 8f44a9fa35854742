-- Driver of the TLS target (fuzz/tls.c). The first byte chooses the mode:
-- even: "raw", the whole input is the client's byte stream (a real
-- ClientHello starts with 0x16), followed by EOF when byte % 4 == 2;
-- odd: "client", a real OpenSSL client completes the handshake and the rest
-- of the input is decoded into client actions and server calls. The server
-- must never crash or leak, every result must have the documented shape,
-- a well-behaved client's handshake must succeed, and what the server's
-- receives consume (getstats) must be the client's plaintext, in order,
-- returned as each pattern says (raw bytes spliced in never decrypt to data).
local socket = require("socket")
local ssl = require("socket.ssl")
require("socket.unix")      -- registers socket.fromfd(fd, "unixstream{...}")

local fuzz = fuzz          -- luacheck: globals fuzz (set by fuzz/fuzzlua.c)
local reader = require("input").reader
local fmt, pack = string.format, table.pack

local MAXOPS = 48
local PATTERNS = { "*l", "*a", "*L", 1, 5, 100, 0, 20000 }

local ctx
local function context()
  if ctx == nil then
    ctx = assert(ssl.newcontext({
      mode = "server", key = fuzz.certdir() .. "/key.pem", certificate = fuzz.certdir() .. "/cert.pem",
      verify = "none", alpn = { "h2", "http/1.1" },
    }))
  end
  return ctx
end

local function server()
  local s = assert(socket.fromfd(fuzz.pair(), "unixstream{client}"))
  local conn = assert(ssl.wrap(s, context()))
  conn:settimeout(0)
  return conn
end

-- A result list must be values, or nil and an error string (then a partial
-- result, for receive).
local function check(what, r)
  if r[1] == nil and (type(r[2]) ~= "string" or r[2] == "") then
    fuzz.fail(fmt("%s returned nil, %s", what, tostring(r[2])))
  end
  if what:find("^receive%(") and r[1] == nil and type(r[3]) ~= "string" then
    fuzz.fail(fmt("%s returned no partial result", what))
  end
end

local function handshake(conn)
  for _ = 1, 4 do
    local r = pack(conn:dohandshake())
    check("dohandshake", r)
    if r[1] or (r[2] ~= "wantread" and r[2] ~= "wantwrite") then return r[1] end
    fuzz.drain()
  end
  return false
end

local function serverreads(conn)
  for _, p in ipairs({ "*l", 10, "*a" }) do check("receive(" .. p .. ")", pack(conn:receive(p))) end
  check("receivesome", pack(conn:receivesome(100)))
end

local function raw(input)
  local conn = server()
  assert(fuzz.raw(input))
  if input:byte(1) % 4 == 2 then fuzz.eof() end
  if handshake(conn) then serverreads(conn) end
  conn:close()
end

local function client(input)
  local conn = server()
  local cdone, sdone = false, false
  for _ = 1, 20 do
    if not cdone then
      local st = fuzz.client()
      if st == "failed" then break end
      cdone = st == "done"
    end
    if not sdone then
      local r = pack(conn:dohandshake())
      check("dohandshake", r)
      if not r[1] and r[2] ~= "wantread" and r[2] ~= "wantwrite" then break end
      sdone = r[1] == true
    end
    if cdone and sdone then break end
  end
  if not (cdone and sdone) then fuzz.fail("a real client's handshake did not complete") end
  local rd = reader(input)
  rd.byte()                         -- the mode
  local byte, ops = rd.byte, 0
  local function bytes() return rd.bytes(rd.byte()) end
  local sent, pos = "", 1        -- the client's plaintext; where the server has read to
  -- A receive's result against the plaintext it consumed (getstats).
  local function verify(what, r, before, prefix, line)
    check(what, r)
    local now = conn:getstats()
    local slice = sent:sub(pos, pos + now - before - 1)
    if #slice ~= now - before then fuzz.fail(fmt("%s consumed %d bytes the client never sent", what, now - before)) end
    pos = pos + #slice
    local data = r[1] or r[3]
    if data == nil then data = "" elseif prefix then data = data:sub(#prefix + 1) end
    local want = slice
    if line then want = (r[1] and slice:sub(1, -2) or slice):gsub("\r", "") end
    if data ~= want then fuzz.fail(fmt("%s returned %q for the plaintext %q", what, data, slice)) end
  end
  while rd.more() and ops < MAXOPS do
    ops = ops + 1
    local op = byte() % 10
    if op == 0 or op == 1 then
      local data = bytes()
      if fuzz.send(data) then sent = sent .. data end
    elseif op == 2 then fuzz.raw(bytes())
    elseif op == 3 then fuzz.closenotify()
    elseif op == 4 then fuzz.keyupdate()
    elseif op == 5 then fuzz.eof()
    elseif op == 6 or op == 7 then
      local b = byte()
      local p = PATTERNS[b % #PATTERNS + 1]
      local prefix = b >= 128 and "pre" or nil
      local before = conn:getstats()
      verify("receive(" .. p .. ")", pack(conn:receive(p, prefix)), before, prefix, p == "*l")
    elseif op == 8 then
      local before = conn:getstats()
      verify("receivesome", pack(conn:receivesome(byte() + 1)), before)
    else
      check("send", pack(conn:send(bytes())))
    end
    fuzz.drain()
    if conn:dirty() ~= true and conn:dirty() ~= false then fuzz.fail("dirty() is not a boolean") end
  end
  serverreads(conn)
  conn:close()
end

return function(input)
  if #input == 0 then return end
  if input:byte(1) % 2 == 0 then raw(input) else client(input) end
end
