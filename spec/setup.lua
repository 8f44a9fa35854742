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

-- SPEC_PROGRESS=file (scripts/run-specs.sh, under SUITE_TIMEOUT): the test
-- that starts is written there, so that a suite stopped by the timeout can
-- say where it hung.
local progress = os.getenv("SPEC_PROGRESS")
if progress and progress ~= "" then
  require("busted").subscribe({ "test", "start" }, function(element)
    local f = io.open(progress, "w")
    if f then
      local t = element.trace or {}
      f:write(tostring(t.short_src), ":", tostring(t.currentline), ": ", tostring(element.name), "\n")
      f:close()
    end
    return nil, true
  end)
end
