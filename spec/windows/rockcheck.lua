-- make windows-rock: the tree tools/winbuild.lua installed loads and works
-- (socket, socket.ssl, mime, a named pipe), alone on the search paths.
local socket = require("socket")
local ssl = require("socket.ssl")
local pipe = require("socket.pipe")
require("mime.core")
require("ssl.https")
assert(package.searchpath("socket.core", package.cpath):find("rock", 1, true))
local name = "netsocket-rock-check-" .. math.random(1, 1e9)
local srv = assert(pipe.bind(name))
local c = assert(pipe.connect(name, 5))
local a = assert(srv:accept())
c:send("ok\n")
a:settimeout(5)
assert(a:receive() == "ok")
a:close(); c:close(); srv:close()
print("windows-rock: the tree tools/winbuild.lua built loads under Wine: "
  .. socket._IMPL .. ", " .. (ssl.newcontext and "socket.ssl" or "?"))
