-- Regression (issue 16, Windows named pipes): a client that connects, sends
-- and closes at once. The listening thread gave up an instance whose client
-- had come and gone before its ConnectNamedPipe (ERROR_NO_DATA), with the
-- bytes that client had written still in the pipe: the connection was never
-- accepted and the message was lost: about one client in a hundred of
-- these under Wine, about half of them with a plain Windows client (a file
-- opened on the pipe, written and closed: no bridge on its side).
-- A unix socket's accept gives every such client, with its bytes.
local H = require("helper")
local pipe = require("socket.pipe")

describe("regress: socket.pipe clients that send and close at once", function()
  it("each is accepted with what it sent", function()
    local n = H.tmpname()
    os.remove(n)
    local srv = assert(pipe.bind(n))
    srv:settimeout(5)
    local got, want = {}, {}
    local t0 = os.time()
    for batch = 1, 20 do                       -- 10 at a time: within the backlog (32)
      for i = 1, 10 do
        local msg = ("msg %d.%d"):format(batch, i)
        want[#want + 1] = msg
        local c = assert(pipe.connect(n, 5))
        assert(c:send(msg .. "\n"))
        c:close()
      end
      for _ = 1, 10 do
        local a, err = srv:accept()
        if not a then break end
        a:settimeout(5)
        got[#got + 1] = a:receive() or ("<" .. tostring(err) .. ">")
        a:close()
      end
      if os.time() - t0 > 60 then break end
    end
    srv:close()
    table.sort(want)
    table.sort(got)
    assert.same(want, got)
  end)

  if H.WINDOWS then
    it("Windows: a plain client (io.open on the pipe, write, close) is accepted with its line", function()
      local socket = require("socket")
      local n = "netsocket-quick-" .. H.pid()
      local srv = assert(pipe.bind(n))
      local sent, got = 0, 0
      for _ = 1, 10 do
        for _ = 1, 10 do
          for _ = 1, 100 do                  -- (all instances busy: try again)
            local f = io.open("\\\\.\\pipe\\" .. n, "wb")
            if f then
              f:write("line\n")
              f:close()
              sent = sent + 1
              break
            end
            socket.sleep(0.005)
          end
        end
        srv:settimeout(0.5)
        for _ = 1, 12 do
          local a = srv:accept()
          if not a then break end
          a:settimeout(2)
          if a:receive() == "line" then got = got + 1 end
          a:close()
        end
      end
      srv:close()
      assert.is_true(sent >= 90, "sent " .. sent)
      assert.equal(sent, got)
    end)
  end
end)
