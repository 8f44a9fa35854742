-- samples/tls_echo.lua: a TLS echo server and client that make a throwaway
-- certificate on first run (openssl CLI), run as child processes.
local H = require("helper")
local S = require("ssl_helper")

local ROOT = os.getenv("NETSOCKET_BUILD"):match("^(.*)/[^/]+$")
local SAMPLE = ROOT .. "/samples/tls_echo.lua"

describe("samples/tls_echo.lua #linux #shell", function()
  local dir
  setup(function()
    dir = os.tmpname()
    os.remove(dir)
  end)
  teardown(function() H.sh("rm -rf " .. S.q(dir)) end)

  local function env() return "env TLS_ECHO_DIR=" .. S.q(dir) .. " " end

  local function start()
    local h = S.spawn(env() .. "timeout 60 " .. H.LUA .. " " .. S.q(SAMPLE) .. " server 127.0.0.1 0 20")
    local port
    for _ = 1, 5 do
      local l = h.line()
      port = l and l:match("port (%d+)")
      if port then break end
    end
    assert.truthy(port, "the server printed no port")
    return h, port
  end

  it("makes its certificate, then echoes lines over TLS until quit", function()
    local h, port = start()
    local f = io.open(dir .. "/cert.pem")
    assert.is_not_nil(f, "no throwaway certificate")
    f:close()
    local out, ok = H.sh(env() .. H.LUA .. " " .. S.q(SAMPLE) .. " client localhost " .. port
      .. " one 'two words' quit")
    assert.is_true(ok, out)
    assert.are.equal(table.concat({
      'client: sent "one", got "one"',
      'client: sent "two words", got "two words"',
      'client: sent "quit", got "bye"', "" }, "\n"), out)
    local log = h.rest()
    assert.truthy(log:find("server: client connected, TLSv1.3", 1, true), log)
    assert.truthy(log:find("server: closed", 1, true), log)
  end)

  it("reuses the certificate on the next run; a client that trusts nothing else verifies it", function()
    local before = S.read(dir .. "/cert.pem")
    local h, port = start()
    assert.are.equal(before, S.read(dir .. "/cert.pem"))
    local out, ok = H.sh(env() .. H.LUA .. " " .. S.q(SAMPLE) .. " client 127.0.0.1 " .. port .. " quit")
    assert.is_true(ok, out)
    assert.are.equal('client: sent "quit", got "bye"\n', out)
    h.rest()
  end)

  it("a client of another certificate fails verification", function()
    local h, port = start()
    local other = os.tmpname()
    os.remove(other)
    local out, ok = H.sh("TLS_ECHO_DIR=" .. S.q(other) .. " " .. H.LUA .. " " .. S.q(SAMPLE)
      .. " client localhost " .. port .. " hi")
    H.sh("rm -rf " .. S.q(other))
    assert.is_false(ok)
    assert.truthy(out:find("certificate verify failed", 1, true), out)
    assert.is_true((H.sh(env() .. H.LUA .. " " .. S.q(SAMPLE) .. " client localhost " .. port .. " quit")) ~= nil)
    assert.truthy(h.rest():find("handshake failed", 1, true))
  end)

  it("without arguments prints its usage and fails", function()
    local out, ok = H.sh(H.LUA .. " " .. S.q(SAMPLE))
    assert.is_false(ok)
    assert.truthy(out:find("usage:", 1, true), out)
  end)
end)
