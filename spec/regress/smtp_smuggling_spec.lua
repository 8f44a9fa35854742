-- Issue 14 §5: socket.smtp dot-stuffed only a "." after CRLF, so a body
-- with "\n.\r\n" (a bare LF, then a lone dot) went out as it was: a server
-- that takes a bare LF as a line end reads it as the end of DATA and the
-- rest of the body as new commands (SMTP smuggling). The sink of
-- spec/proto_helper.lua reads lines up to LF, as such a server does, and
-- keeps every byte it received.
local smtp = require("socket.smtp")
local ltn12 = require("ltn12")
local P = require("proto_helper")
local H = require("helper")

-- What a smuggler puts after the fake end of DATA.
local SMUGGLED = "MAIL FROM:<evil@attacker.test>\r\nRCPT TO:<victim@example.test>\r\nDATA\r\n"
  .. "From: ceo@example.test\r\n\r\nsmuggled\r\n.\r\n"

-- A source giving the chunks as they are.
local function chunks(list)
  local i = 0
  return function()
    i = i + 1
    return list[i]
  end
end

-- Sends source as a body to a fresh sink; returns the sink.
local function send(src)
  local d = P.smtpd()
  local r = { P.run(function()
    return smtp.send({ from = "<a@example.test>", rcpt = "<b@example.test>", server = "127.0.0.1",
      port = d.port, source = src })
  end) }
  assert.same({ 1 }, r)
  return d
end

-- The DATA bytes on the wire are CRLF lines only, and the only line that
-- is a lone "." is the last one.
local function wellformed(d)
  local log = d.log[1]
  local s = assert(log:find("DATA\r\n", 1, true), "no DATA") + 6
  local e = assert(log:find("QUIT\r\n", 1, true), "no QUIT") - 1
  local data = log:sub(s, e)
  assert.equal("\r\n.\r\n", data:sub(-5))
  assert.is_nil(data:find("[^\r]\n"), "a bare LF went out")
  assert.is_nil(data:find("\r[^\n]"), "a bare CR went out")
  assert.is_nil(data:sub(1, -6):find("\r\n%.\r\n"), "a lone dot line went out before the end")
  assert.is_nil(data:find("^%.\r\n"), "a lone dot line went out first")
  return data
end

describe("regress: socket.smtp normalises line ends before dot-stuffing (no SMTP smuggling)", function()
  local attacks = {
    ["bare LF before the dot"] = "hello\n.\r\n",
    ["bare LF on both sides"] = "hello\n.\n",
    ["bare CR on both sides"] = "hello\r.\r",
    ["CRLF then a bare LF"] = "hello\r\n.\n",
    ["bare LF then CR"] = "hello\n.\r",
    ["bare CR then CRLF"] = "hello\r.\r\n",
    ["LF CR pair"] = "hello\n\r.\r\n",
    ["at the very start, bare LF"] = ".\n",
  }
  for name, fake in pairs(attacks) do
    it(name .. ": one mail, whole, the dot doubled", function()
      local d = send(ltn12.source.string(fake .. SMUGGLED))
      assert.equal(1, #d.mails, "the server saw a second transaction")
      wellformed(d)
      assert.is_truthy(d.mails[1].data:find("\r\n..\r\nMAIL FROM:<evil@attacker.test>", 1, true)
        or d.mails[1].data:find("^..\r\nMAIL FROM:<evil@attacker.test>"))
    end)
  end

  it("whatever the chunk boundaries: CR | LF, LF | dot, dot | CR LF, one byte at a time", function()
    local splits = {
      { "hello\r", "\n.\r\n" .. SMUGGLED },
      { "hello\n", ".\r\n" .. SMUGGLED },
      { "hello\n.", "\r\n" .. SMUGGLED },
      { "hello\r", ".", "\r", "\n" .. SMUGGLED },
      { "hello", "\n", "", ".", "\n" .. SMUGGLED },
    }
    local bytes = {}
    local all = "x\r\n.\r\ny\n.\nz\r.\r" .. SMUGGLED
    for i = 1, #all do bytes[i] = all:sub(i, i) end
    splits[#splits + 1] = bytes
    for _, list in ipairs(splits) do
      local d = send(chunks(list))
      assert.equal(1, #d.mails, "the server saw a second transaction: " .. table.concat(list, "|"):gsub("[\r\n]",
        { ["\r"] = "\\r", ["\n"] = "\\n" }))
      wellformed(d)
    end
  end)

  describe("against Debian's aiosmtpd", function()
    local has = P.haspython("aiosmtpd")
    local pid, port, out
    setup(function()
      if not has then return end
      out = os.tmpname()
      -- each transaction in a file of its own: out.1, out.2, ...
      P.writefile(out .. ".py", [[
import sys, time
from aiosmtpd.controller import Controller
port, out = int(sys.argv[1]), sys.argv[2]
n = 0
class Handler:
    async def handle_DATA(self, server, session, envelope):
        global n
        n += 1
        with open(out + "." + str(n), "wb") as f:
            f.write(envelope.original_content)
        return "250 OK stored"
c = Controller(Handler(), hostname="127.0.0.1", port=port)
c.start()
time.sleep(60)
c.stop()
]])
      port = P.freeport()
      pid = P.spawn(P.PYTHON .. " " .. out .. ".py " .. port .. " " .. out, port)
    end)
    teardown(function()
      if pid then P.kill(pid) end
      if out then
        for _, ext in ipairs({ "", ".py", ".1", ".2", ".3" }) do os.remove(out .. ext) end
      end
    end)

    local check = has and it or function(name) pending(name .. " (python3-aiosmtpd is not installed)") end
    check("stores one message holding the whole body, line ends made CRLF", function()
      local r = { smtp.send({ from = "<a@t>", rcpt = "<b@t>", server = "127.0.0.1", port = port,
        source = chunks({ "hello\n", ".", "\r\n" .. SMUGGLED .. "bye\rend" }) }) }
      assert.same({ 1 }, r)
      assert.equal("hello\r\n.\r\n" .. SMUGGLED .. "bye\r\nend\r\n", P.readfile(out .. ".1"))
      assert.is_nil(io.open(out .. ".2"), "a second message was stored")
    end)
  end)

  it("a clean CRLF body goes out as 3.x sends it", function()
    local d = send(ltn12.source.string(".a\r\nb\r\n.\r\n..c\r\nd"))
    assert.equal("..a\r\nb\r\n..\r\n...c\r\nd\r\n", d.mails[1].data)
    wellformed(d)
  end)

  it("smtp.message: a header value whose line break does not fold raises; a folded one passes", function()
    for _, v in ipairs({ "hi\r\nBcc: x@y", "hi\nBcc: x@y", "hi\rBcc: x@y", "hi\r\n", "hi\r\n \r\n x", "hi\r\r x",
      "hi\n\r x", "\r\n\r\nbody" }) do
      H.raising(function() smtp.message({ headers = { subject = v }, body = "b" }) end,
        "bad argument #1 to 'message' (header 'subject' has a line break that does not fold)")
    end
    H.raising(function() smtp.message({ headers = { ["x-a\r\nbcc"] = "v" }, body = "b" }) end,
      "invalid header name")
    local d = send(smtp.message({ headers = { subject = "long\r\n\tfolded", date = "x", ["x-mailer"] = "y" },
      body = "b" }))
    assert.is_truthy(d.mails[1].data:find("Subject: long\r\n\tfolded\r\n", 1, true))
  end)

  it("a spelling put in socket.headers.canonic is used only when it spells the same name", function()
    local canonic = require("socket.headers").canonic
    local saved = canonic.subject
    canonic["subject"] = "Subject: x\r\nBcc: victim@example.test\r\nX"
    canonic["x-odd"] = "X-ODD"
    local ok, src = pcall(smtp.message, { headers = { subject = "s", ["x-odd"] = "v" }, body = "b" })
    canonic["subject"], canonic["x-odd"] = saved, nil
    assert.is_true(ok, src)
    local out = {}
    for _ = 1, 100 do
      local c = src()
      if not c then break end
      out[#out + 1] = c
    end
    out = table.concat(out)
    assert.is_nil(out:find("Bcc", 1, true), out)
    assert.is_truthy(out:find("\r\nsubject: s\r\n", 1, true), out)
    assert.is_truthy(out:find("\r\nX-ODD: v\r\n", 1, true), out)
  end)

  it("addresses with CR, LF or NUL are refused before MAIL is sent", function()
    for _, from in ipairs({ "<a@x>\r\nRCPT TO:<v@x>", "<a@x>\0", "<a@x>\n" }) do
      local d = P.smtpd()
      local r = { P.run(function()
        return smtp.send({ from = from, rcpt = "<b@x>", server = "127.0.0.1", port = d.port,
          source = ltn12.source.string("x") })
      end) }
      assert.same({ nil, "invalid character in command" }, r)
      assert.is_nil((d.log[1] or ""):find("MAIL", 1, true))
    end
  end)
end)
