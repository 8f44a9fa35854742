-- Fetches a URL to stdout with socket.http; http:// and https:// (verified
-- against the system CA store, or --cafile).
--   lua5.4 samples/get.lua [-q] [--cafile FILE] [--insecure] URL
-- For a large body (1 MiB or more, or of unknown size) a progress line on
-- stderr shows the bytes so far, and the total when the server sent a
-- Content-Length; -q turns it off. Exits 1 with the error on stderr when the
-- request fails or the server answers 400 or above, 2 on bad usage.
local socket = require("socket")
local http = require("socket.http")
local ltn12 = require("ltn12")

local LARGE = 1024 * 1024
local EVERY = 0.2                        -- seconds between progress updates

local function usage()
  io.stderr:write("usage: get.lua [-q] [--cafile FILE] [--insecure] URL\n")
  os.exit(2)
end

local quiet, tls, url = false, {}, nil
local i = 1
while arg[i] do
  local a = arg[i]
  if a == "-q" then
    quiet = true
  elseif a == "--insecure" then
    tls.verify = "none"
  elseif a == "--cafile" and arg[i + 1] then
    tls.cafile = arg[i + 1]
    i = i + 1
  elseif a:sub(1, 1) ~= "-" and not url then
    url = a
  else
    usage()
  end
  i = i + 1
end
if not url then usage() end

local total, got, last, shown = nil, 0, -math.huge, false

local function progress(final)
  if quiet or not (got >= LARGE or (total and total >= LARGE)) then return end
  local now = socket.gettime()
  if not final and now - last < EVERY then return end
  last = now
  if total and total > 0 then
    io.stderr:write(("\r%d / %d bytes (%d%%)"):format(got, total, math.floor(got * 100 / total)))
  else
    io.stderr:write(("\r%d bytes"):format(got))
  end
  shown = true
end

-- A filter that passes chunks on unchanged and counts them.
local function count(chunk)
  if chunk then
    got = got + #chunk
    progress(false)
  end
  return chunk
end

local function stdout(chunk)
  if chunk then
    local ok, err = io.stdout:write(chunk)
    if not ok then return nil, err end
  end
  return 1
end

local ok, code, _, status = http.request({
  url = url,
  sink = ltn12.sink.chain(count, stdout),
  tls = tls,
  onresponse = function(_, headers) total = tonumber(headers["content-length"]) end,
})
if ok then progress(true) end
if shown then io.stderr:write("\n") end
io.stdout:flush()

if not ok then
  io.stderr:write("get.lua: ", tostring(code), "\n")
  os.exit(1)
elseif code >= 400 then
  io.stderr:write("get.lua: ", status or tostring(code), "\n")
  os.exit(1)
end
