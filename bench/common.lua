-- Shared by the workload scripts. Each script runs against whatever
-- require("socket") finds (LUA_CPATH/LUA_PATH pick netsocket or LuaSocket),
-- starts its peer (bench/c/peer.c, built by `make bench`) as a child
-- process, and prints one line: "RESULT <workload> <units> <seconds>".
local B = {}

B.dir = arg and arg[0] and arg[0]:match("^(.*/)") or "./"
B.bin = os.getenv("BENCH_BIN") or (B.dir .. "../build/bench")
B.scale = tonumber(os.getenv("BENCH_SCALE") or "") or 1

-- A size fixed by the script, shrunk in quick mode.
function B.n(base)
  return math.max(1, math.floor(base * B.scale))
end

-- Starts the peer; returns a handle for B.wait.
function B.peer(mode, port, a, b)
  local cmd = string.format("exec '%s/peer' %s %d %d %d", B.bin, mode, port, a, b or 1)
  return assert(io.popen(cmd, "r"))
end

function B.wait(h)
  local ok, how, code = h:close()
  if not ok then error("peer failed: " .. tostring(how) .. " " .. tostring(code)) end
end

-- A listening TCP socket on 127.0.0.1 and its port.
function B.listen(socket)
  local srv = assert(socket.bind("127.0.0.1", 0))
  local _, port = srv:getsockname()
  return srv, tonumber(port)
end

function B.result(name, units, secs)
  io.write(string.format("RESULT %s %.0f %.6f\n", name, units, secs))
end

-- Which socket.core was loaded (for the driver's sanity check).
function B.which()
  return package.searchpath("socket.core", package.cpath) or "?"
end

return B
