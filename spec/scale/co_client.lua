-- Child process of spec/co_scale_spec.lua: N concurrent clients (tasks)
-- that all connect first, then each sends one line and checks its echo.
local socket = require("socket")
local co = require("socket.co")
local N, port = tonumber(arg[1]), tonumber(arg[2])
local connected, answered, failures = 0, 0, 0
for i = 1, N do
  co.spawn(function()
    local c = socket.connect("127.0.0.1", port)
    if not c then
      failures = failures + 1
      return
    end
    c:settimeout(60)
    connected = connected + 1
    while connected < N and failures == 0 do socket.sleep(0.05) end   -- hold all N open at once
    c:send("req " .. i .. "\n")
    local r = c:receive("*l")
    if r == "req " .. i then answered = answered + 1 else failures = failures + 1 end
    c:close()
  end)
end
local t0 = socket.gettime()
local ok, err = co.run(120)
print("client", ok, err, connected, answered, failures, ("%.2f"):format(socket.gettime() - t0))
