-- socket.smtp: send{} against the SMTP sink of spec/proto_helper.lua (exact
-- bytes received), message{} parsed back, error replies, timeouts, and
-- Debian's aiosmtpd as a peer nobody here wrote.
local socket = require("socket")
local smtp = require("socket.smtp")
local ltn12 = require("ltn12")
local P = require("proto_helper")
local H = require("helper")

-- s starts with prefix (a failure shows both).
local function startswith(prefix, s)
  assert.equal(prefix, s:sub(1, #prefix))
end

local function pull(src)
  local out = {}
  for _ = 1, 1e5 do
    local chunk, err = src()
    if err then return nil, err end
    if not chunk then return table.concat(out) end
    out[#out + 1] = chunk
  end
  error("source did not end")
end

-- A fixed message, so the bytes on the wire are known exactly.
local function fixed(body, headers)
  local h = { date = "Thu, 01 Jan 2026 00:00:00 -0000", ["x-mailer"] = "spec" }
  for k, v in pairs(headers or {}) do h[k] = v end
  return smtp.message({ headers = h, body = body })
end

local FIXEDHEAD = 'Content-Type: text/plain; charset="iso-8859-1"\r\n'
  .. "Date: Thu, 01 Jan 2026 00:00:00 -0000\r\n"
  .. "MIME-Version: 1.0\r\n"

describe("socket.smtp", function()
  local saved
  before_each(function() saved = smtp.TIMEOUT end)
  after_each(function() smtp.TIMEOUT = saved end)

  it("has 3.x's constants and is stored as socket.smtp", function()
    assert.equal(60, smtp.TIMEOUT)
    assert.equal("localhost", smtp.SERVER)
    assert.equal(25, smtp.PORT)
    assert.equal(os.getenv("SERVER_NAME") or "localhost", smtp.DOMAIN)
    assert.equal("-0000", smtp.ZONE)
    assert.equal(smtp, socket.smtp)
  end)

  it("loads this tree's modules (not Debian's LuaSocket)", function()
    P.checkpaths()
  end)

  describe("send", function()
    it("sends exactly the transaction 3.x sends, dot-stuffed, and returns 1", function()
      local d = P.smtpd()
      local r = { P.run(function()
        return smtp.send({
          from = "<alice@example.test>",
          rcpt = { "<bob@example.test>", "<carol@example.test>" },
          server = "127.0.0.1", port = d.port, domain = "client.test",
          source = fixed(".leading dot\r\nmiddle\r\n.\r\n..two\r\nlast"),
        })
      end) }
      assert.same({ 1 }, r)
      assert.equal("EHLO client.test\r\n"
        .. "MAIL FROM:<alice@example.test>\r\n"
        .. "RCPT TO:<bob@example.test>\r\n"
        .. "RCPT TO:<carol@example.test>\r\n"
        .. "DATA\r\n"
        .. FIXEDHEAD
        .. "X-Mailer: spec\r\n"
        .. "\r\n"
        .. "..leading dot\r\nmiddle\r\n..\r\n...two\r\nlast\r\n"
        .. ".\r\n"
        .. "QUIT\r\n", d.log[1])
      assert.equal(1, #d.mails)
      assert.equal("<alice@example.test>", d.mails[1].from)
      assert.same({ "<bob@example.test>", "<carol@example.test>" }, d.mails[1].rcpt)
    end)

    it("takes one recipient as a string and any LTN12 source, chunked", function()
      local d = P.smtpd()
      local src = ltn12.source.string(string.rep("x", 5000) .. "\r\n.y")
      P.run(function()
        assert.equal(1, smtp.send({ from = "<a@t>", rcpt = "<b@t>", server = "127.0.0.1",
          port = d.port, source = src, step = ltn12.pump.step }))
      end)
      assert.same({ "<b@t>" }, d.mails[1].rcpt)
      assert.equal(string.rep("x", 5000) .. "\r\n..y\r\n", d.mails[1].data)
      assert.truthy(d.log[1]:find("^EHLO " .. smtp.DOMAIN:gsub("%p", "%%%0") .. "\r\n"))
    end)

    it("uses AUTH LOGIN when offered (before PLAIN), as 3.x", function()
      local d = P.smtpd({ ext = { "AUTH PLAIN LOGIN", "8BITMIME" },
        auth = { login = { "dXNlcg==", "c2VjcmV0" } } })
      local r = P.run(function()
        return smtp.send({ from = "<a@t>", rcpt = "<b@t>", server = "127.0.0.1", port = d.port,
          user = "user", password = "secret", source = ltn12.source.string("hi") })
      end)
      assert.equal(1, r)
      assert.same({ "dXNlcg==", "c2VjcmV0" }, d.auth)
      startswith("EHLO localhost\r\nAUTH LOGIN\r\ndXNlcg==\r\nc2VjcmV0\r\nMAIL FROM:<a@t>\r\n",
        (d.log[1]:gsub("^EHLO [^\r]*", "EHLO localhost")))
    end)

    it("uses AUTH PLAIN when only PLAIN is offered", function()
      local d = P.smtpd({ ext = { "AUTH PLAIN" }, auth = { plain = "AHVzZXIAc2VjcmV0" } })
      local r = P.run(function()
        return smtp.send({ from = "<a@t>", rcpt = "<b@t>", server = "127.0.0.1", port = d.port,
          domain = "c.test", user = "user", password = "secret", source = ltn12.source.string("hi") })
      end)
      assert.equal(1, r)
      assert.same({ "AHVzZXIAc2VjcmV0" }, d.auth)
      startswith("EHLO c.test\r\nAUTH PLAIN AHVzZXIAc2VjcmV0\r\nMAIL FROM:<a@t>\r\n", d.log[1])
    end)

    it("does not authenticate without both user and password", function()
      local d = P.smtpd({ ext = { "AUTH PLAIN LOGIN" } })
      P.run(function()
        assert.equal(1, smtp.send({ from = "<a@t>", rcpt = "<b@t>", server = "127.0.0.1",
          port = d.port, domain = "c.test", user = "user", source = ltn12.source.string("") }))
      end)
      assert.same({}, d.auth)
      startswith("EHLO c.test\r\nMAIL FROM:<a@t>\r\n", d.log[1])
    end)

    it("gives the server's reply for refused credentials", function()
      local d = P.smtpd({ ext = { "AUTH PLAIN" }, auth = { plain = "other" } })
      local r = { P.run(function()
        return smtp.send({ from = "<a@t>", rcpt = "<b@t>", server = "127.0.0.1", port = d.port,
          user = "user", password = "secret", source = ltn12.source.string("hi") })
      end) }
      assert.same({ nil, "535 5.7.8 bad credentials" }, r)
      assert.equal(0, #d.mails)
    end)

    it("gives 'authentication not supported' when the server offers no known mechanism", function()
      local d = P.smtpd({ ext = { "AUTH CRAM-MD5" } })
      local r = { P.run(function()
        return smtp.send({ from = "<a@t>", rcpt = "<b@t>", server = "127.0.0.1", port = d.port,
          user = "user", password = "secret", source = ltn12.source.string("hi") })
      end) }
      assert.same({ nil, "authentication not supported" }, r)
    end)

    for _, case in ipairs({
      { "a refused recipient", { RCPT = "550 5.1.1 no such user" }, "550 5.1.1 no such user" },
      { "a refused sender", { MAIL = "553 5.7.1 sender rejected" }, "553 5.7.1 sender rejected" },
      { "a refused banner", { BANNER = "554 5.3.2 go away" }, "554 5.3.2 go away" },
      { "a refused DATA", { DATA = "451 4.3.0 try later" }, "451 4.3.0 try later" },
      { "a refused message", { ["."] = "552 5.3.4 too big" }, "552 5.3.4 too big" },
      { "a multi-line refusal", { EHLO = "550-first\r\n550 second" }, "550-first\n550 second" },
    }) do
      it("gives nil and the server's reply for " .. case[1] .. ", and closes the session", function()
        local before = H.fdcount()
        local d = P.smtpd({ replies = case[2] })
        local r = { P.run(function()
          return smtp.send({ from = "<a@t>", rcpt = "<b@t>", server = "127.0.0.1", port = d.port,
            source = ltn12.source.string("body") })
        end) }
        assert.same({ nil, case[3] }, r)
        assert.is_nil((d.log[1] or ""):find("QUIT", 1, true))
        assert.equal(before, H.fdcount())
      end)
    end

    it("gives 'connection refused' when nobody listens", function()
      local port = P.freeport()
      assert.same({ nil, "connection refused" }, { smtp.send({ from = "<a@t>", rcpt = "<b@t>",
        server = "127.0.0.1", port = port, source = ltn12.source.string("") }) })
    end)

    it("gives 'timeout' after smtp.TIMEOUT when the server says nothing", function()
      smtp.TIMEOUT = 0.3
      local port = P.peer(function(c) c:receive("*a") end)
      local t0 = socket.gettime()
      local r = { P.run(function()
        return smtp.send({ from = "<a@t>", rcpt = "<b@t>", server = "127.0.0.1", port = port,
          source = ltn12.source.string("") })
      end) }
      local dt = socket.gettime() - t0
      assert.same({ nil, "timeout" }, r)
      assert.is_true(dt >= 0.25 and dt < 3, "took " .. dt)
    end)

    it("gives 'closed' when the server closes in the middle of a reply", function()
      local port = P.peer(function(c)
        c:send("220 hi\r\n")
        c:receive("*l")
        c:send("250-sink.test\r\n250-PIPE")
      end)
      local r = { P.run(function()
        return smtp.send({ from = "<a@t>", rcpt = "<b@t>", server = "127.0.0.1", port = port,
          source = ltn12.source.string("") })
      end) }
      assert.same({ nil, "closed" }, r)
    end)

    it("passes on an error of the message source", function()
      local d = P.smtpd()
      local n = 0
      local src = function()
        n = n + 1
        if n == 1 then return "part" end
        return nil, "disk on fire"
      end
      local r = { P.run(function()
        return smtp.send({ from = "<a@t>", rcpt = "<b@t>", server = "127.0.0.1", port = d.port, source = src })
      end) }
      assert.same({ nil, "disk on fire" }, r)
    end)

    it("refuses an address holding CR or LF (no command smuggling)", function()
      local d = P.smtpd()
      local r = { P.run(function()
        return smtp.send({ from = "<a@t>\r\nRCPT TO:<evil@t>", rcpt = "<b@t>", server = "127.0.0.1",
          port = d.port, source = ltn12.source.string("") })
      end) }
      assert.same({ nil, "invalid character in command" }, r)
      assert.is_nil(d.log[1]:find("evil", 1, true))
    end)

    it("raises for a non-table argument", function()
      H.raising(function() smtp.send("mail") end, "bad argument #1 to 'send' (table expected, got string)")
    end)
  end)

  describe("open (the session API)", function()
    it("greet returns the EHLO reply; mail, rcpt, data, quit return code and reply", function()
      local d = P.smtpd({ ext = { "SIZE 1000", "HELP" } })
      P.run(function()
        local s = smtp.open("127.0.0.1", d.port)
        assert.equal("250-sink.test greets x.test\n250-SIZE 1000\n250 HELP", s:greet("x.test"))
        assert.same({ 250, "250 2.1.0 ok" }, { s:mail("<a@t>") })
        assert.same({ 250, "250 2.1.5 ok" }, { s:rcpt("<b@t>") })
        assert.same({ 250, "250 2.0.0 queued" }, { s:data(ltn12.source.string("raw\r\n")) })
        assert.same({ 221, "221 2.0.0 bye" }, { s:quit() })
        assert.equal(1, s:close())
      end)
      assert.equal("raw\r\n\r\n", d.mails[1].data)
    end)

    it("raises a socket.try exception when the connection fails (3.x)", function()
      local port = P.freeport()
      local ok, e = pcall(smtp.open, "127.0.0.1", port)
      assert.is_false(ok)
      assert.same({ "connection refused" }, e)
      assert.equal(false, getmetatable(e))
      assert.same({ nil, "connection refused" }, { socket.protect(smtp.open)("127.0.0.1", port) })
    end)
  end)

  describe("message", function()
    it("adds Date, X-Mailer and MIME-Version: 1.0, and a text/plain Content-Type", function()
      local msg = assert(pull(smtp.message({ headers = { subject = "hi" }, body = "body" })))
      local head, body = msg:match("^(.-\r\n)\r\n(.*)$")
      assert.equal("body", body)
      local date = head:match("Date: ([^\r]*)\r\n")
      assert.truthy(date:match("^%a%a%a, %d%d %a%a%a %d%d%d%d %d%d:%d%d:%d%d %-0000$"), date)
      assert.equal('Content-Type: text/plain; charset="iso-8859-1"\r\nDate: ' .. date
        .. "\r\nMIME-Version: 1.0\r\nSubject: hi\r\nX-Mailer: " .. socket._VERSION .. "\r\n", head)
    end)

    it("uses zone and keeps given headers, canonicalising their names; MIME-Version is forced", function()
      local msg = pull(smtp.message({ zone = "+0200", headers = { ["MIME-VERSION"] = "9",
        ["content-transfer-encoding"] = "8bit", ["X-Mailer"] = "me", ["x-odd-name"] = "v",
        ["content-type"] = "text/html" }, body = "" }))
      local head = msg:match("^(.-\r\n)\r\n")
      assert.truthy(head:match("Date: [^\r]* %+0200\r\n"))
      head = head:gsub("Date: [^\r]*\r\n", "")
      assert.equal("Content-Transfer-Encoding: 8bit\r\nContent-Type: text/html\r\nMIME-Version: 1.0\r\n"
        .. "X-Mailer: me\r\nx-odd-name: v\r\n", head)
    end)

    it("streams a source body chunk by chunk", function()
      local src = fixed(ltn12.source.cat(ltn12.source.string("one "), ltn12.source.string("two")))
      assert.equal(FIXEDHEAD .. "X-Mailer: spec\r\n\r\none two", pull(src))
    end)

    it("passes on a body source's error and keeps answering it", function()
      local src = fixed(function() return nil, "broken" end)
      assert.equal(FIXEDHEAD .. "X-Mailer: spec\r\n\r\n", src())
      assert.same({ nil, "broken" }, { src() })
      assert.same({ nil, "broken" }, { src() })
    end)

    it("builds nested multipart bodies with preamble, epilogue and distinct boundaries", function()
      local msg = pull(smtp.message({
        headers = { subject = "parts", date = "D", ["x-mailer"] = "spec" },
        body = {
          preamble = "This is a MIME message.",
          { body = "plain part" },
          { headers = { ["content-type"] = "multipart/alternative" }, body = {
            { headers = { ["content-type"] = "text/html" }, body = "<p>html</p>" },
            { body = ltn12.source.string("alt text") },
          } },
          { headers = { ["content-type"] = "application/octet-stream",
            ["content-transfer-encoding"] = "base64" }, body = "AAEC" },
          epilogue = "That was all.",
        },
      }))
      local ctype, rest = msg:match('^Content%-Type: multipart/mixed; boundary="([^"]+)"\r\n(.*)$')
      assert.truthy(ctype, "no multipart content type")
      startswith("Date: D\r\nMIME-Version: 1.0\r\nSubject: parts\r\nX-Mailer: spec\r\n\r\n"
        .. "This is a MIME message.\r\n", rest)
      local bd = ctype:gsub("%p", "%%%0")
      -- split on the delimiters: preamble, 3 parts, then the close and epilogue
      local parts = {}
      local last = 1
      for a, b in rest:gmatch("()\r\n%-%-" .. bd .. "\r\n()") do
        parts[#parts + 1] = rest:sub(last, a - 1)
        last = b
      end
      local final, epi = rest:match("()\r\n%-%-" .. bd .. "%-%-\r\n\r\n(.*)$")
      parts[#parts + 1] = rest:sub(last, final - 1)
      assert.equal(4, #parts)
      assert.equal("That was all.\r\n", epi)
      assert.equal('Content-Type: text/plain; charset="iso-8859-1"\r\n\r\nplain part', parts[2])
      assert.equal("Content-Transfer-Encoding: base64\r\nContent-Type: application/octet-stream\r\n\r\nAAEC",
        parts[4])
      local inner, irest = parts[3]:match('^Content%-Type: multipart/alternative; boundary="([^"]+)"\r\n\r\n(.*)$')
      assert.truthy(inner)
      assert.are_not.equal(ctype, inner)
      local ibd = inner:gsub("%p", "%%%0")
      assert.equal("\r\n--" .. inner .. "\r\nContent-Type: text/html\r\n\r\n<p>html</p>"
        .. "\r\n--" .. inner .. '\r\nContent-Type: text/plain; charset="iso-8859-1"\r\n\r\nalt text'
        .. "\r\n--" .. inner .. "--\r\n\r\n", irest)
      assert.truthy(irest:match("%-%-" .. ibd .. "%-%-"))
    end)

    it("makes a different boundary for every multipart entity", function()
      local seen = {}
      for _ = 1, 20 do
        local msg = pull(smtp.message({ body = { { body = "x" } } }))
        local bd = msg:match('boundary="([^"]+)"')
        assert.is_nil(seen[bd])
        seen[bd] = true
      end
    end)

    it("raises for a non-table message or part", function()
      H.raising(function() smtp.message() end, "bad argument #1 to 'message' (table expected, got no value)")
      H.raising(function() smtp.message({ body = { "not a table" } }) end,
        "bad argument #1 to 'message' (table expected for a message part, got string)")
    end)
  end)

  describe("against Debian's aiosmtpd", function()
    local has = P.haspython("aiosmtpd")
    local pid, port, out
    local script = [[
import sys, time
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
port, out = int(sys.argv[1]), sys.argv[2]
class Handler:
    async def handle_DATA(self, server, session, envelope):
        with open(out + ".env", "w") as f:
            f.write(envelope.mail_from + "\n" + ",".join(envelope.rcpt_tos) + "\n")
        with open(out + ".data", "wb") as f:
            f.write(envelope.original_content)
        return "250 OK stored"
def auth(server, session, envelope, mechanism, data):
    ok = data.login == b"user" and data.password == b"secret"
    return AuthResult(success=ok, handled=False)
c = Controller(Handler(), hostname="127.0.0.1", port=port, authenticator=auth,
               auth_require_tls=False)
c.start()
time.sleep(60)
c.stop()
]]
    setup(function()
      if not has then return end
      out = os.tmpname()
      P.writefile(out .. ".py", script)
      port = P.freeport()
      pid = P.spawn(P.PYTHON .. " " .. out .. ".py " .. port .. " " .. out, port)
    end)
    teardown(function()
      if pid then P.kill(pid) end
      if out then
        for _, ext in ipairs({ "", ".py", ".env", ".data" }) do os.remove(out .. ext) end
      end
    end)

    local function check(name, f)
      if has then it(name, f) else pending(name .. " (python3-aiosmtpd is not installed)") end
    end

    check("receives a multipart message byte for byte, unstuffed, with AUTH LOGIN", function()
      local body = ".dot first\r\nline\r\n.\r\n..\r\nend\r\n"
      local mesgt = { headers = { subject = "interop", date = "D", ["x-mailer"] = "spec", to = "<b@t>" },
        body = { preamble = "pre", { body = body }, { headers = { ["content-type"] = "text/x-bin" },
          body = "\0\1\2 binary" } } }
      local expected = pull(smtp.message(mesgt))    -- sent as built: boundaries differ per build
      local r = { smtp.send({ from = "<a@t>", rcpt = { "<b@t>", "<c@t>" }, server = "127.0.0.1",
        port = port, user = "user", password = "secret", source = ltn12.source.string(expected) }) }
      assert.same({ 1 }, r)
      assert.equal("a@t\nb@t,c@t\n", P.readfile(out .. ".env"))
      assert.equal(expected .. "\r\n", P.readfile(out .. ".data"))
    end)

    check("refuses bad credentials with the server's reply", function()
      local r = { smtp.send({ from = "<a@t>", rcpt = "<b@t>", server = "127.0.0.1", port = port,
        user = "user", password = "wrong", source = ltn12.source.string("x") }) }
      assert.is_nil(r[1])
      assert.equal("535 5.7.8 Authentication credentials invalid", r[2])
    end)
  end)
end)
