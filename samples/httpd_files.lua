-- Serves the files of a directory over socket.httpd: GET and HEAD, a
-- Content-Type from the file name, index.html for a directory, chunked
-- streaming for large files. A path that would leave the directory (a ".."
-- segment, even percent-encoded), a NUL or a backslash gets 404, as does
-- anything that is not a readable regular file. SIGTERM (or Ctrl+C) stops
-- it cleanly, as samples/httpd_hello.lua.
--   lua samples/httpd_files.lua [DIR] [PORT]
local socket = require("socket")
local httpd = require("socket.httpd")
local co = require("socket.co")

local root = (arg[1] or "."):gsub("/+$", "")
local port = tonumber(arg[2]) or 8080

local TYPES = {
  html = "text/html; charset=utf-8", htm = "text/html; charset=utf-8", txt = "text/plain; charset=utf-8",
  css = "text/css", js = "text/javascript", json = "application/json", xml = "application/xml",
  png = "image/png", jpg = "image/jpeg", jpeg = "image/jpeg", gif = "image/gif", svg = "image/svg+xml",
  ico = "image/x-icon", webp = "image/webp", pdf = "application/pdf", wasm = "application/wasm",
  lua = "text/plain; charset=utf-8", md = "text/markdown; charset=utf-8",
}

-- The file a request path names under root, or nil.
local function resolve(path)
  path = path:gsub("%%(%x%x)", function(h) return string.char(tonumber(h, 16)) end)
  if path:sub(1, 1) ~= "/" or path:find("[%z\\]") then return nil end
  for seg in path:gmatch("[^/]+") do
    if seg == ".." or seg == "." then return nil end
  end
  if path:sub(-1) == "/" then path = path .. "index.html" end
  return root .. path
end

local server = assert(httpd.new(function(req, res)
  if req.method ~= "GET" and req.method ~= "HEAD" then
    res.status = 405
    res:set("Allow", "GET, HEAD")
    return res:send("")
  end
  local file = resolve(req.path)
  local f = file and io.open(file, "rb")
  local first = f and f:read(65536)              -- nil for a directory, "" ... for a file
  if not first then
    if f then f:close() end
    res.status = 404
    return res:send("not found\n", "text/plain")
  end
  local ctype = TYPES[(file:match("%.(%w+)$") or ""):lower()] or "application/octet-stream"
  if #first < 65536 then                          -- the whole file: one send with Content-Length
    f:close()
    return res:send(first, ctype)
  end
  res:write(first, ctype)                         -- large: streamed, chunked
  while true do
    local more = f:read(65536)
    if not more or not res:write(more) then break end
  end
  f:close()
end, {
  port = port,
  onerror = function(err) io.stderr:write("httpd_files: ", tostring(err), "\n") end,
}))
local _, bound = server:getsockname()
print(("listening on http://127.0.0.1:%d/ serving %s"):format(bound, root))
io.stdout:flush()
local stop = assert(socket.signal("TERM", "INT"))
co.spawn(function()
  local name = stop:receive()
  server:stop(5)
  io.stdout:write("httpd_files: SIG", name, ", stopping\n")
  io.stdout:flush()
  -- watched until the connections are done: another TERM or INT in the
  -- grace period (timeout(1) and group kills send TERM twice) changes nothing
  while server:connections() > 0 do stop:receive(0.05) end
  stop:close()
end)
assert(co.run())
print("httpd_files: stopped")
os.exit(0)
