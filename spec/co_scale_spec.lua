-- Issue 5, "Scale": with the descriptor limit raised, an echo server in
-- plain blocking style holds 10,000 concurrent connections in one process
-- (one socket.co task each) and answers every request. The server and the
-- 10,000 clients are two processes (each needs 10,000 fds); the clients all
-- connect before any sends, so all 10,000 are open at once.
local H = require("helper")

local root = os.getenv("NETSOCKET_BUILD"):match("^(.*)/[^/]+$")
local N = 10000

describe("socket.co at scale", function()
  it("an echo server holds 10,000 concurrent connections and answers every request", function()
    local hard = tonumber(H.sh("ulimit -Hn"):match("%d+")) or 0
    if hard < N + 2000 then
      pending("needs a hard fd limit of at least " .. (N + 2000) .. " (have " .. hard .. ")")
      return
    end
    local limit = "ulimit -n " .. (N + 1000) .. " && "
    local server = assert(io.popen(("%s%s %q/spec/scale/co_server.lua %d 2>&1")
      :format(limit, H.LUA, root, N)))
    local port = tonumber(server:read("l"))
    assert.is_truthy(port)
    local out = H.sh(("%stimeout 150 %s %q/spec/scale/co_client.lua %d %d 2>&1")
      :format(limit, H.LUA, root, N, port))
    local s = server:read("a")
    server:close()
    local ok, connected, answered, failures = out:match("client\t(%a+)\t%a+\t(%d+)\t(%d+)\t(%d+)")
    assert.are.same({ "true", tostring(N), tostring(N), "0" }, { ok, connected, answered, failures }, out)
    local sok, served, peak = s:match("server\t(%a+)\t%a+\t(%d+)\t(%d+)")
    assert.are.same({ "true", tostring(N), tostring(N) }, { sok, served, peak }, s)
  end)
end)
