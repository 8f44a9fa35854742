-- busted --helper: refuse to run against anything but the freshly built tree.
local build = assert(os.getenv("NETSOCKET_BUILD"), "run the suite through `make test`")
local found = package.searchpath("socket.core", package.cpath)
assert(found and found:sub(1, #build) == build,
  "socket.core would load from " .. tostring(found) .. ", not from " .. build)
local socket = require("socket")
assert(tostring(socket._IMPL):match("^netsocket "), "not netsocket: " .. tostring(socket._IMPL))

-- Windows (make test-windows): the C runtime's tmpnam names files in the
-- root of the current drive; the specs' temporary files go to %TEMP%.
if package.config:sub(1, 1) == "\\" then
  rawset(os, "tmpname", require("helper").tmpname)
end
