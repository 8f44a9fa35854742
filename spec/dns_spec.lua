-- socket.dns, API.md §11 (first table only).
--
-- No DNS traffic may leave the machine: only names in /etc/hosts ("localhost"
-- maps to 127.0.0.1 only) and numeric addresses are resolved, "localhost" is
-- never looked up as inet6, no reverse lookup is ever made of an address
-- missing from /etc/hosts (::1), and failures come from local causes only (an
-- empty name, an IPv6 literal given to an IPv4-only call, an unknown service).
local socket = require("socket")
local H = require("helper")
local dns = socket.dns

local function pack(...) return select("#", ...), ... end

describe("socket.dns (§11)", function()
  it("require('socket.dns') is require('socket').dns", function()
    local d = require("socket.dns")
    assert.are.equal("table", type(d))
    assert.is_true(rawequal(d, require("socket").dns))
  end)

  describe("toip", function()
    it("toip('localhost') gives 127.0.0.1 and the hostent table", function()
      local n, ip, t = pack(dns.toip("localhost"))
      assert.are.equal(2, n)
      assert.are.equal("127.0.0.1", ip)
      assert.are.same({ name = "localhost", alias = {}, ip = { "127.0.0.1" } }, t)
    end)

    it("toip('::1') gives nil, 'host not found' (IPv4 only)", function()
      local n, ip, err = pack(dns.toip("::1"))
      assert.are.equal(2, n)
      assert.is_nil(ip)
      assert.are.equal("host not found", err)
    end)

    it("toip('127.0.0.1') reverse-resolves the dotted quad", function()
      local ip, t = dns.toip("127.0.0.1")
      assert.are.equal("127.0.0.1", ip)
      assert.are.equal("table", type(t))
      assert.are.equal("localhost", t.name)
      assert.are.equal("table", type(t.alias))
      assert.are.same({ "127.0.0.1" }, t.ip)
    end)
  end)

  describe("tohostname", function()
    it("tohostname('127.0.0.1') gives 'localhost' and a table", function()
      local n, name, t = pack(dns.tohostname("127.0.0.1"))
      assert.are.equal(2, n)
      assert.are.equal("localhost", name)
      assert.are.equal("table", type(t))
      assert.are.equal("localhost", t.name)
      assert.are.equal("table", type(t.alias))
      assert.are.same({ "127.0.0.1" }, t.ip)
    end)

    it("tohostname('localhost') gives 'localhost'", function()
      local name, t = dns.tohostname("localhost")
      assert.are.equal("localhost", name)
      assert.are.equal("localhost", t.name)
    end)

    -- §7 gives "host not found" for toip/tohostname; an IPv6 literal fails the
    -- IPv4 lookup locally, as in 3.x (gethostbyname).
    it("tohostname('::1') gives nil, 'host not found'", function()
      local name, err = dns.tohostname("::1")
      assert.is_nil(name)
      assert.are.equal("host not found", err)
    end)
  end)

  describe("gethostname", function()
    it("returns this machine's host name as a non-empty string", function()
      local name = dns.gethostname()
      assert.are.equal("string", type(name))
      assert.is_true(#name > 0)
      local f = io.open("/proc/sys/kernel/hostname")
      if f then
        local kernel = f:read("l")
        f:close()
        assert.are.equal(kernel, name)
      end
    end)
  end)

  describe("getaddrinfo", function()
    it("getaddrinfo('localhost') gives {{family='inet', addr='127.0.0.1'}}", function()
      local n, t = pack(dns.getaddrinfo("localhost"))
      assert.are.equal(1, n)
      assert.are.same({ { family = "inet", addr = "127.0.0.1" } }, t)
    end)

    it("getaddrinfo('127.0.0.1') gives one inet entry", function()
      assert.are.same({ { family = "inet", addr = "127.0.0.1" } }, dns.getaddrinfo("127.0.0.1"))
    end)

    it("getaddrinfo('::1') gives one inet6 entry", function()
      assert.are.same({ { family = "inet6", addr = "::1" } }, dns.getaddrinfo("::1"))
    end)

    it("a missing argument raises", function()
      H.raises(dns.getaddrinfo, { n = 0 }, "bad argument #1", "(string expected, got no value)")
    end)

    it("getaddrinfo('') gives nil and the EAI_NONAME string", function()
      local t, err = dns.getaddrinfo("")
      assert.is_nil(t)
      assert.are.equal("host or service not provided, or not known", err)
    end)
  end)

  describe("getnameinfo", function()
    it("(nil, 80) gives {}, 'http'", function()
      local n, names, serv = pack(dns.getnameinfo(nil, 80))
      assert.are.equal(2, n)
      assert.are.same({}, names)
      assert.are.equal("http", serv)
    end)

    it("(nil, '22') accepts a numeric string port", function()
      local names, serv = dns.getnameinfo(nil, "22")
      assert.are.same({}, names)
      assert.are.equal("ssh", serv)
    end)

    it("('127.0.0.1', 22) gives {'localhost'}, 'ssh'", function()
      local n, names, serv = pack(dns.getnameinfo("127.0.0.1", 22))
      assert.are.equal(2, n)
      assert.are.same({ "localhost" }, names)
      assert.are.equal("ssh", serv)
    end)

    it("servname is returned only when serv is given", function()
      local n, names = pack(dns.getnameinfo("127.0.0.1"))
      assert.are.equal(1, n)
      assert.are.same({ "localhost" }, names)
    end)

    it("both nil raises 'host and serv cannot be both nil'", function()
      H.raises(dns.getnameinfo, { n = 0 }, "host and serv cannot be both nil")
      H.raises(dns.getnameinfo, { nil, nil, n = 2 }, "host and serv cannot be both nil")
    end)

    it("an unknown service gives nil, 'service not supported for socket type'", function()
      local n, names, err = pack(dns.getnameinfo(nil, "no-such-service-xyz"))
      assert.are.equal(2, n)
      assert.is_nil(names)
      assert.are.equal("service not supported for socket type", err)
      names, err = dns.getnameinfo("127.0.0.1", "no-such-service-xyz")
      assert.is_nil(names)
      assert.are.equal("service not supported for socket type", err)
    end)
  end)
end)
