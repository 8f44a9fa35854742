-- Child process of spec/co_scale_spec.lua: a blocking-style echo server,
-- one socket.co task per client; prints its port, then its counts.
local socket = require("socket")
local co = require("socket.co")
local N = tonumber(arg[1])
local server = assert(socket.bind("127.0.0.1", 0, 4096))
print((select(2, server:getsockname())))
io.stdout:flush()
local served, open, peak = 0, 0, 0
co.spawn(function()
  server:foreachaccept(function(c)
    open = open + 1
    if open > peak then peak = open end
    while true do
      local line = c:receive("*l")
      if not line then break end
      c:send(line .. "\n")
      served = served + 1
    end
    open = open - 1
    c:close()
    if served >= N and open == 0 then server:close() end
  end)
end)
local ok, err = co.run(120)
print("server", ok, err, served, peak)
