-- Regression: with verification on, the host-name check was silently
-- skipped when there was no name to check: servername = "" (also through
-- http.request), conn:sni(""), and a connection wrapped from a foreign fd
-- (getfd/setfd) with no host known. A certificate for another name was
-- then accepted. Each now fails the handshake with "no host name to check
-- the certificate against"; only servername = false or checkhostname =
-- false turns the check off. The server here presents a certificate for
-- wrong.example, signed by the CA the client trusts.
local S = require("ssl_helper")
local ssl = require("socket.ssl")
local http = require("socket.http")

local NONAME = "no host name to check the certificate against"

describe("regress: the host-name check never turns itself off", function()
  local C
  setup(function() C = S.certs() end)
  teardown(function() if C then C.cleanup() end end)

  local function wrongserver(p)
    return assert(ssl.wrap(p, { mode = "server", certificate = C.wronghost, key = C.wronghostkey }))
  end

  -- Handshakes a client conn made by `wrapclient(tcp)` against the
  -- wrong.example server; returns the client's error (nil: accepted).
  local function try(wrapclient)
    local c, p = S.tcppair()
    local cc = wrapclient(c)
    local pp = wrongserver(p)
    local cerr = S.handshake(cc, pp)
    cc:close()
    pp:close()
    return cerr
  end

  it("servername = '' fails the handshake", function()
    assert.are.equal(NONAME, try(function(c)
      return assert(ssl.wrap(c, S.clientparams(C, { servername = "" })))
    end))
  end)

  it("conn:sni('') fails the handshake", function()
    assert.are.equal(NONAME, try(function(c)
      local cc = assert(ssl.wrap(c, S.clientparams(C)))
      cc:sni("")
      return cc
    end))
  end)

  it("a foreign socket (getfd/setfd) with no host known fails the handshake", function()
    local holder
    assert.are.equal(NONAME, try(function(c)
      holder = c
      local foreign = { getfd = function() return c:getfd() end, setfd = function(_, fd) c:setfd(fd) end }
      return assert(ssl.wrap(foreign, S.clientparams(C)))
    end))
    assert.are.equal(-1, holder:getfd())
  end)

  it("a name with a NUL in it is refused, not cut short", function()
    assert.are.equal("invalid host name to check the certificate against", try(function(c)
      return assert(ssl.wrap(c, S.clientparams(C, { servername = "wrong.example\0.evil" })))
    end))
  end)

  it("the explicit opt-outs still work, and still verify the chain", function()
    assert.is_nil(try(function(c)
      return assert(ssl.wrap(c, S.clientparams(C, { servername = false })))
    end))
    assert.is_nil(try(function(c)
      return assert(ssl.wrap(c, S.clientparams(C, { checkhostname = false })))
    end))
    -- a foreign socket names its host with servername
    assert.is_nil(try(function(c)
      local foreign = { getfd = function() return c:getfd() end, setfd = function(_, fd) c:setfd(fd) end }
      return assert(ssl.wrap(foreign, S.clientparams(C, { servername = "wrong.example" })))
    end))
    assert.are.equal("certificate verify failed", try(function(c)
      return assert(ssl.wrap(c, S.clientparams(C)))          -- "localhost": a mismatch
    end))
  end)

  it("http.request with servername = '' fails", function()
    local h = S.spawnlua(S.ONECLIENT .. [[
repeat local line = conn:receive("*l") until line == "" or line == nil
conn:send("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
conn:close()
]], C.wronghost, C.wronghostkey)
    local port = assert(tonumber(h.line()))
    local r = { http.request({ url = "https://127.0.0.1:" .. port .. "/", cafile = C.ca, servername = "" }) }
    h.rest()
    assert.is_nil(r[1])
    assert.truthy(tostring(r[2]):find(NONAME, 1, true), tostring(r[2]))
  end)
end)
