-- Attack on issue 14 §1/§4: a task woken late. With settimeout(b) and
-- settimeout(t, "t") each wait lasts at most b. A task that yielded in a
-- wait whose data came in time but that resumed after the wait's deadline
-- (another task held the CPU) took "the wait ran out" for granted: after
-- reading that data, its next wait returned "timeout" at once, so a
-- receive or send under load failed although no wait had lasted b. A
-- wait that brought data (or let bytes out) did not run out. The same held
-- for a TLS handshake (its reads go through the BIO, not the buffer).
local co = require("socket.co")
local H = require("helper")
local pack = table.pack or function(...) return {n = select("#", ...), ...} end

local function hog(seconds)
  local t = os.clock()
  while os.clock() - t < seconds do end     -- CPU-bound: no yield
end

describe("regress: a task resumed after its wait's deadline, with data there", function()
  it("receive goes on waiting (b = 0.2, t = 5) instead of timing out", function()
    local a, b = H.pair()
    a:settimeout(0.2)
    a:settimeout(5, "t")
    local res
    co.spawn(function() res = pack(a:receive("*l")) end)
    co.spawn(function()
      b:send("x")                     -- in time for the wait above...
      hog(0.3)                        -- ...which resumes only after its 0.2 s
    end)
    co.spawn(function() co.sleep(0.1); b:send("\n") end)   -- 0.1 s into the next wait
    local ok, err = co.run(5)
    assert.is_true(ok, tostring(err))
    assert.same({"x", nil, nil}, {res[1], res[2], res[3]})
    a:close() b:close()
  end)

  it("send goes on waiting (b = 0.2, t = 10) instead of timing out", function()
    local a, b = H.pair()
    a:settimeout(0.2)
    a:settimeout(10, "t")
    b:settimeout(0)
    local n = 16 * 1024 * 1024
    local sent, got = nil, 0
    co.spawn(function() sent = pack(a:send(string.rep("z", n))) end)
    co.spawn(function()
      local d, _, part = b:receive(4 * 1024 * 1024)  -- room for the send above...
      got = got + #(d or part)
      hog(0.3)                                        -- ...which resumes only after 0.2 s
    end)
    co.spawn(function()
      co.sleep(0.05)
      for _ = 1, 2000 do
        local d, _, part = b:receive(1024 * 1024)
        got = got + #(d or part)
        if got >= n or sent then break end
        co.sleep(0.01)
      end
    end)
    local ok, err = co.run(20)
    assert.is_true(ok, tostring(err))
    assert.same({n, nil, nil}, {sent[1], sent[2], sent[3]})
    a:close() b:close()
  end)

  it("a TLS handshake goes on waiting (b = 0.2, t = 5) instead of timing out", function()
    if not pcall(require, "socket.ssl") then return pending("socket.ssl not built") end
    local ssl = require("socket.ssl")
    local S = require("ssl_helper")
    local certs = S.certs()
    local c, p = S.tcppair()
    local sp = assert(ssl.wrap(p, S.serverparams(certs)))
    local sc = assert(ssl.wrap(c, S.clientparams(certs)))
    certs.cleanup()
    for _, s in ipairs({sp, sc}) do
      s:settimeout(0.2)
      s:settimeout(5, "t")
    end
    local rs, rc
    co.spawn(function() rs = pack(sp:dohandshake()) end)   -- parks for the ClientHello
    co.spawn(function() rc = pack(sc:dohandshake()) end)   -- sends it, parks
    co.spawn(function() hog(0.3) end)                       -- the server resumes late
    local ok, err = co.run(5)
    assert.is_true(ok, tostring(err))
    assert.same({true, nil}, {rs[1], rs[2]})
    assert.same({true, nil}, {rc[1], rc[2]})
    sp:close() sc:close()
  end)
end)
