-- socket.ftp: get/put/command against the FTP server of spec/proto_helper.lua
-- (byte-exact transfers both ways, passive and active, the exact commands
-- sent, error replies, timeouts) and Debian's pyftpdlib as a peer nobody
-- here wrote.
local socket = require("socket")
local ftp = require("socket.ftp")
local ltn12 = require("ltn12")
local P = require("proto_helper")
local H = require("helper")

-- Every byte value, CR/LF pairs, lone CRs and LFs, a NUL run.
local ALLBYTES = {}
for i = 0, 255 do ALLBYTES[#ALLBYTES + 1] = string.char(i) end
ALLBYTES = table.concat(ALLBYTES) .. "\r\n\r\r\n\n\0\0\0.\r\n"

-- n KiB where every KiB differs (its index first), so a lost, doubled or
-- reordered block shows.
local function bigdata(kib)
  local t = {}
  local filler = string.rep(ALLBYTES, 5):sub(1, 1020)
  for i = 1, kib do   -- i as 4 bytes, big-endian (string.pack(">I4", i) on 5.3+)
    t[i] = string.char(math.floor(i / 16777216) % 256, math.floor(i / 65536) % 256,
      math.floor(i / 256) % 256, i % 256) .. filler
  end
  return table.concat(t)
end

local function url(port, path, auth)
  return "ftp://" .. (auth and auth .. "@" or "") .. "127.0.0.1:" .. port .. path
end

describe("socket.ftp", function()
  local saved
  before_each(function() saved = ftp.TIMEOUT end)
  after_each(function() ftp.TIMEOUT = saved end)

  it("has 3.x's constants and is stored as socket.ftp", function()
    assert.equal(60, ftp.TIMEOUT)
    assert.equal(21, ftp.PORT)
    assert.equal("ftp", ftp.USER)
    assert.equal("anonymous@anonymous.org", ftp.PASSWORD)
    assert.equal(ftp, socket.ftp)
  end)

  it("loads this tree's modules (not Debian's LuaSocket)", function()
    P.checkpaths()
  end)

  describe("get (string form)", function()
    it("downloads binary data byte for byte, logging in with the URL's user and password", function()
      local d = P.ftpd({ users = { alice = "pw" }, files = { ["/pub/bin.dat"] = ALLBYTES } })
      local r = { P.run(function() return ftp.get(url(d.port, "/pub/bin.dat;type=i", "alice:pw")) end) }
      assert.equal(1, #r)
      assert.is_true(r[1] == ALLBYTES, "the data differs")
      assert.same({ "USER alice", "PASS pw", "TYPE i", "EPSV", "RETR pub/bin.dat", "QUIT" }, d.commands)
    end)

    it("logs in as ftp.USER / ftp.PASSWORD without credentials in the URL", function()
      local d = P.ftpd({ users = { ftp = "anonymous@anonymous.org" }, files = { ["/a.txt"] = "hello\n" } })
      local r = { P.run(function() return ftp.get(url(d.port, "/a.txt")) end) }
      assert.same({ "hello\n" }, r)
      assert.same({ "USER ftp", "PASS anonymous@anonymous.org", "EPSV", "RETR a.txt", "QUIT" }, d.commands)
    end)

    it("skips PASS when USER is accepted at once (230)", function()
      local d = P.ftpd({ files = { ["/a.txt"] = "x" } })
      assert.same({ "x" }, { P.run(function() return ftp.get(url(d.port, "/a.txt;type=a")) end) })
      assert.same({ "USER ftp", "TYPE a", "EPSV", "RETR a.txt", "QUIT" }, d.commands)
    end)

    it("downloads a multi-megabyte file intact", function()
      local big = bigdata(3 * 1024)
      local d = P.ftpd({ files = { ["/big"] = big } })
      local got = P.run(function() return ftp.get(url(d.port, "/big;type=i")) end)
      assert.equal(#big, #got)
      assert.is_true(got == big, "the data differs")
    end)

    it("gives an empty string for an empty file", function()
      local d = P.ftpd({ files = { ["/empty"] = "" } })
      assert.same({ "" }, { P.run(function() return ftp.get(url(d.port, "/empty")) end) })
    end)

    it("unescapes the path", function()
      local d = P.ftpd({ files = { ["/dir with space/f#1"] = "ok" } })
      assert.same({ "ok" }, { P.run(function() return ftp.get(url(d.port, "/dir%20with%20space/f%231")) end) })
      assert.equal("RETR dir with space/f#1", d.commands[3])
    end)
  end)

  describe("put (string form)", function()
    it("uploads binary data byte for byte and returns the bytes sent", function()
      local d = P.ftpd({ users = { bob = "s3cret" }, files = {} })
      local r = { P.run(function() return ftp.put(url(d.port, "/up.bin;type=i", "bob:s3cret"), ALLBYTES) end) }
      assert.same({ #ALLBYTES }, r)
      assert.is_true(d.files["/up.bin"] == ALLBYTES, "the stored data differs")
      assert.same({ "USER bob", "PASS s3cret", "TYPE i", "EPSV", "STOR up.bin", "QUIT" }, d.commands)
    end)

    it("uploads a multi-megabyte file intact", function()
      local big = bigdata(3 * 1024)
      local d = P.ftpd({ files = {} })
      local r = P.run(function() return ftp.put(url(d.port, "/big"), big) end)
      assert.equal(#big, r)
      assert.equal(#big, #d.files["/big"])
      assert.is_true(d.files["/big"] == big, "the stored data differs")
    end)

    it("uploads an empty body", function()
      local d = P.ftpd({ files = {} })
      assert.same({ 0 }, { P.run(function() return ftp.put(url(d.port, "/e"), "") end) })
      assert.equal("", d.files["/e"])
    end)
  end)

  describe("table forms", function()
    it("get with a sink, command and argument (LIST)", function()
      local d = P.ftpd({ files = { ["/pub/a"] = "1", ["/pub/b"] = "2", ["/other"] = "3" } })
      local out = {}
      local r = { P.run(function()
        return ftp.get({ host = "127.0.0.1", port = d.port, command = "list", argument = "pub",
          sink = ltn12.sink.table(out) })
      end) }
      assert.same({ 1 }, r)
      assert.equal("a\r\nb\r\n", table.concat(out))
      assert.same({ "USER ftp", "EPSV", "LIST pub", "QUIT" }, d.commands)
    end)

    it("get with url, its fields overridden by the table's", function()
      local d = P.ftpd({ users = { u = "p" }, files = { ["/x"] = "X", ["/y"] = "Y" } })
      local out = {}
      P.run(function()
        assert.equal(1, ftp.get({ url = url(d.port, "/x;type=i", "u:wrong"), password = "p", path = "/y",
          sink = ltn12.sink.table(out), step = ltn12.pump.step }))
      end)
      assert.equal("Y", table.concat(out))
      assert.same({ "USER u", "PASS p", "TYPE i", "EPSV", "RETR y", "QUIT" }, d.commands)
    end)

    it("put with a source, argument and type", function()
      local d = P.ftpd({ files = {} })
      local r = { P.run(function()
        return ftp.put({ host = "127.0.0.1", port = d.port, argument = "/abs/name", type = "i",
          source = ltn12.source.cat(ltn12.source.string("ab"), ltn12.source.string("\r\ncd")) })
      end) }
      assert.same({ 6 }, r)
      assert.equal("ab\r\ncd", d.files["/abs/name"])
      assert.same({ "USER ftp", "TYPE i", "EPSV", "STOR /abs/name", "QUIT" }, d.commands)
    end)

    it("passes on an error of the put source", function()
      local d = P.ftpd({ files = {} })
      local r = { P.run(function()
        return ftp.put({ host = "127.0.0.1", port = d.port, path = "/f", source = function() return nil, "no disk" end })
      end) }
      assert.same({ nil, "no disk" }, r)
    end)

    it("gives the reply to the sink for a command answered at once with 2xx (3.x)", function()
      local d = P.ftpd({ files = {} })
      local out = {}
      P.run(function()
        assert.equal(1, ftp.get({ host = "127.0.0.1", port = d.port, command = "noop", sink = ltn12.sink.table(out) }))
      end)
      assert.same({ "200 ok" }, out)
    end)
  end)

  describe("data connections", function()
    it("falls back to PASV when EPSV is refused, and connects to the control peer, not the PASV address", function()
      local d = P.ftpd({ noepsv = true, pasvhost = "127.0.0.2", files = { ["/f"] = ALLBYTES } })
      local got = P.run(function() return ftp.get(url(d.port, "/f")) end)
      assert.is_true(got == ALLBYTES, "the data differs")
      assert.same({ "USER ftp", "EPSV", "PASV", "RETR f", "QUIT" }, d.commands)
    end)

    it("uses active mode (PORT) with pasv = false, both ways", function()
      local d = P.ftpd({ files = { ["/in"] = ALLBYTES }, sessions = 2 })
      local out = {}
      P.run(function()
        assert.equal(1, ftp.get({ host = "127.0.0.1", port = d.port, path = "/in", pasv = false,
          sink = ltn12.sink.table(out) }))
        assert.equal(#ALLBYTES, ftp.put({ host = "127.0.0.1", port = d.port, path = "/out", pasv = false,
          source = ltn12.source.string(ALLBYTES) }))
      end)
      assert.is_true(table.concat(out) == ALLBYTES, "downloaded data differs")
      assert.is_true(d.files["/out"] == ALLBYTES, "uploaded data differs")
      local ports = {}
      for _, cmd in ipairs(d.commands) do
        local p1, p2 = cmd:match("^PORT 127,0,0,1,(%d+),(%d+)$")
        if p1 then ports[#ports + 1] = p1 * 256 + p2 end
      end
      assert.equal(2, #ports)
      assert.is_nil(table.concat(d.commands, "\n"):find("EPSV", 1, true))
    end)

    it("works over IPv6: EPSV, and EPRT in active mode", function()
      local d = P.ftpd({ host = "::1", files = { ["/f"] = ALLBYTES }, sessions = 2 })
      local got, sent = P.run(function()
        return ftp.get("ftp://[::1]:" .. d.port .. "/f"),
          ftp.put({ host = "::1", port = d.port, path = "/g", pasv = false, source = ltn12.source.string("v6") })
      end)
      assert.is_true(got == ALLBYTES, "the data differs")
      assert.equal(2, sent)
      assert.equal("v6", d.files["/g"])
      local eprt = {}
      for _, cmd in ipairs(d.commands) do eprt[#eprt + 1] = cmd:match("^EPRT |2|::1|%d+|$") end
      assert.equal(1, #eprt)
    end)

    it("gives 'timeout' when the server never connects back in active mode", function()
      ftp.TIMEOUT = 0.3
      local port = P.answering({ USER = "230 ok", PORT = "200 ok", RETR = "150 here it comes" })
      local r = { P.run(function()
        return ftp.get({ host = "127.0.0.1", port = port, path = "/f", pasv = false, sink = ltn12.sink.null() })
      end) }
      assert.same({ nil, "timeout" }, r)
    end)

    it("refuses a PASV reply whose numbers are out of range", function()
      local port = P.answering({ USER = "230 ok", EPSV = "500 no", PASV = "227 ok (127,0,0,1,300,1)" })
      local r = { P.run(function() return ftp.get(url(port, "/f")) end) }
      assert.same({ nil, "227 ok (127,0,0,1,300,1)" }, r)
    end)
  end)

  describe("errors", function()
    for _, case in ipairs({
      { "a missing file", { files = {} }, "/nope", "550 no such file" },
      { "a wrong password", { users = { u = "p" }, files = {} }, "/f", "530 login incorrect", "u:bad" },
      { "a refused login (no user given, PASS wanted)", { users = { u = "p" }, files = {} }, "/f",
        "530 login incorrect" },
      { "a refused transfer", { files = { ["/f"] = "x" }, replies = { RETR = "425 can't open data connection" } },
        "/f", "425 can't open data connection" },
    }) do
      it("get gives nil and the server's reply for " .. case[1], function()
        local before = H.fdcount()
        local d = P.ftpd(case[2])
        local r = { P.run(function() return ftp.get(url(d.port, case[3], case[5])) end) }
        assert.same({ nil, case[4] }, r)
        assert.equal(before, H.fdcount())
      end)
    end

    it("put gives nil and the server's reply for a refused STOR", function()
      local d = P.ftpd({ files = {}, replies = { STOR = "553 not allowed" } })
      assert.same({ nil, "553 not allowed" }, { P.run(function() return ftp.put(url(d.port, "/f"), "x") end) })
      assert.is_nil(d.files["/f"])
    end)

    it("reports bad URLs as 3.x does", function()
      assert.same({ nil, "wrong scheme 'http'" }, { ftp.get("http://127.0.0.1/x") })
      assert.same({ nil, "invalid type 'x'" }, { ftp.get("ftp://127.0.0.1/x;type=x") })
      assert.same({ nil, "missing hostname" }, { ftp.get({ path = "/x", sink = ltn12.sink.null() }) })
      assert.same({ nil, "missing hostname" }, { ftp.put({ path = "/x", source = ltn12.source.empty() }) })
      assert.same({ nil, "missing command" }, { ftp.command({ host = "127.0.0.1" }) })
    end)

    it("raises for an argument that is neither a string nor a table", function()
      H.raising(function() ftp.get(42) end, "bad argument #1 to 'get' (string or table expected, got number)")
      H.raising(function() ftp.put() end, "bad argument #1 to 'put' (string or table expected, got no value)")
      H.raising(function() ftp.command(true) end, "bad argument #1 to 'command'")
    end)

    it("gives 'connection refused' when nobody listens", function()
      assert.same({ nil, "connection refused" }, { ftp.get(url(P.freeport(), "/f")) })
    end)

    it("gives 'timeout' after ftp.TIMEOUT when the server says nothing", function()
      ftp.TIMEOUT = 0.3
      local port = P.peer(function(c) c:receive("*a") end)
      local t0 = socket.gettime()
      local r = { P.run(function() return ftp.get(url(port, "/f")) end) }
      local dt = socket.gettime() - t0
      assert.same({ nil, "timeout" }, r)
      assert.is_true(dt >= 0.25 and dt < 3, "took " .. dt)
    end)

    it("gives 'closed' when the server closes in the middle of a reply", function()
      local port = P.peer(function(c) c:send("220-welcome\r\n220-still") end)
      assert.same({ nil, "closed" }, { P.run(function() return ftp.get(url(port, "/f")) end) })
    end)

    it("refuses a path holding CR or LF (no command smuggling)", function()
      local d = P.ftpd({ files = { ["/a"] = "x" } })
      local r = { P.run(function() return ftp.get(url(d.port, "/a%0d%0aDELE%20a")) end) }
      assert.same({ nil, "invalid character in command" }, r)
      for _, cmd in ipairs(d.commands) do assert.is_nil(cmd:find("DELE", 1, true)) end
    end)
  end)

  describe("command", function()
    it("runs one command and checks its reply", function()
      local d = P.ftpd({ files = { ["/pub/a"] = "1" } })
      assert.same({ 1 }, { P.run(function()
        return ftp.command({ host = "127.0.0.1", port = d.port, command = "cwd", argument = "pub", check = 250 })
      end) })
      assert.same({ "USER ftp", "CWD pub", "QUIT" }, d.commands)
    end)

    it("runs lists of commands, arguments and checks", function()
      local d = P.ftpd({ files = { ["/pub/a"] = "1" } })
      assert.same({ 1 }, { P.run(function()
        return ftp.command({ url = url(d.port, "/"), command = { "cwd", "noop", "pwd" },
          argument = { "pub" }, check = { 250, "2..", 257 } })
      end) })
      assert.same({ "USER ftp", "CWD pub", "NOOP", "PWD", "QUIT" }, d.commands)
    end)

    it("gives the server's reply when a check fails", function()
      local d = P.ftpd({ files = {} })
      assert.same({ nil, "550 no such directory" }, { P.run(function()
        return ftp.command({ host = "127.0.0.1", port = d.port, command = "cwd", argument = "nope", check = 250 })
      end) })
    end)
  end)

  describe("open (the session API)", function()
    it("greet, login, cwd, type, pasv, receive, epsv, send, quit, close", function()
      local d = P.ftpd({ users = { u = "p" }, files = { ["/pub/a"] = "AAA" } })
      P.run(function()
        local f = ftp.open("127.0.0.1", d.port)
        assert.equal(1, f:greet())
        assert.equal(1, f:login("u", "p"))
        assert.equal(1, f:cwd("pub"))
        assert.equal(1, f:type("i"))
        local host, port = f:pasv()
        assert.equal("127.0.0.1", host)
        H.isint(port, "pasv port")
        local out = {}
        assert.equal(1, f:receive({ path = "a", sink = ltn12.sink.table(out) }))
        assert.equal("AAA", table.concat(out))
        host, port = f:epsv()
        assert.equal("127.0.0.1", host)
        H.isint(port, "epsv port")
        assert.equal(2, f:send({ argument = "b", source = ltn12.source.string("BB") }))
        assert.equal(1, f:port())
        assert.equal(1, f:send({ argument = "c", source = ltn12.source.string("C") }))
        assert.equal(1, f:quit())
        assert.equal(1, f:close())
      end)
      assert.equal("BB", d.files["/pub/b"])
      assert.equal("C", d.files["/pub/c"])
    end)

    it("raises a try exception for a transfer before pasv or port", function()
      local d = P.ftpd({ files = {} })
      P.run(function()
        local f = ftp.open("127.0.0.1", d.port)
        f:greet()
        local ok, e = pcall(f.receive, f, { path = "a", sink = ltn12.sink.null() })
        assert.is_false(ok)
        assert.same({ "need port or pasv first" }, e)
        assert.equal(-1, f.tp:getfd())       -- the try closed the session
      end)
    end)
  end)

  describe("against Debian's pyftpdlib", function()
    local has = P.haspython("pyftpdlib")
    local pid, port, dir

    local function write(name, data) P.writefile(dir .. "/" .. name, data) end
    local function read(name) return P.readfile(dir .. "/" .. name) end

    setup(function()
      if not has then return end
      dir = os.tmpname()
      os.remove(dir)
      assert(H.sh("mkdir -p " .. dir .. "/sub"))
      write("bin.dat", ALLBYTES)
      write("sub/big", bigdata(2048))
      port = P.freeport()
      pid = P.spawn(P.PYTHON .. " -m pyftpdlib -i 127.0.0.1 -p " .. port .. " -w -d " .. dir
        .. " -u user -P secret", port)
    end)
    teardown(function()
      if pid then P.kill(pid) end
      if dir then H.sh("rm -rf " .. dir) end
    end)

    local function check(name, f)
      if has then it(name, f) else pending(name .. " (python3-pyftpdlib is not installed)") end
    end

    check("gets binary and multi-megabyte files byte for byte (EPSV)", function()
      assert.is_true(ftp.get(url(port, "/bin.dat;type=i", "user:secret")) == ALLBYTES, "bin.dat differs")
      local big = ftp.get(url(port, "/sub/big;type=i", "user:secret"))
      assert.is_true(big == bigdata(2048), "sub/big differs")
    end)

    check("puts binary data byte for byte, passive and active", function()
      assert.equal(#ALLBYTES, ftp.put(url(port, "/up1;type=i", "user:secret"), ALLBYTES))
      assert.is_true(read("up1") == ALLBYTES, "up1 differs")
      assert.equal(#ALLBYTES, ftp.put({ url = url(port, "/up2", "user:secret"), type = "i", pasv = false,
        source = ltn12.source.string(ALLBYTES) }))
      assert.is_true(read("up2") == ALLBYTES, "up2 differs")
    end)

    check("lists a directory with NLST", function()
      local out = {}
      assert.equal(1, ftp.get({ url = url(port, "/", "user:secret"), command = "nlst", argument = "sub",
        sink = ltn12.sink.table(out) }))
      assert.equal("big\r\n", table.concat(out))
    end)

    check("gives the server's replies for a bad password and a missing file", function()
      assert.same({ nil, "530 Authentication failed." }, { ftp.get(url(port, "/bin.dat", "user:wrong")) })
      local r = { ftp.get(url(port, "/missing", "user:secret")) }
      assert.is_nil(r[1])
      assert.truthy(r[2]:match("^550 "), r[2])
    end)
  end)
end)
