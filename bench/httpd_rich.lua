-- The handler of the bench's "rich" row: reads the method, the path and one
-- request header and sets one response header (nginx's /rich does the same).
--   lua bench/httpd_rich.lua PORT
local httpd = require("socket.httpd")
local co = require("socket.co")

assert(httpd.new(function(req, res)
  local ua = req.headers["user-agent"]
  res:set("X-Handler", req.method == "GET" and ua and req.path or "other")
  res:send("Hello, world!", "text/plain")
end, { port = tonumber(arg[1]) or 8080 }))
co.run()
