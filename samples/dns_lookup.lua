-- Non-blocking DNS lookups: every name given on the command line is
-- resolved at once, on the resolver's worker threads (socket.dns.resolve),
-- and this script reports each answer as it arrives, with socket.select
-- waiting on the lookups as it would on sockets.
--
--   lua5.4 samples/dns_lookup.lua [-4|-6] [-t seconds] name ...
--
-- -4, -6  IPv4 or IPv6 addresses only (default: both)
-- -t      give up on lookups still unanswered after that many seconds
--         (default 10); they are cancelled and reported as such
--
-- Output: one "NAME: waiting" line per name, then, as each lookup finishes,
--   [0.002 s] NAME: 127.0.0.1 (inet), ::1 (inet6)
--   [0.000 s] NAME: failed (host or service not provided, or not known)
-- and "still waiting for ..." once a second while some are unanswered, and
-- at the end "dns_lookup: N resolved, N failed". The exit status is 0 when
-- every name resolved, 1 otherwise (2 for bad arguments).
-- Names are given as they are: numeric addresses resolve without any DNS
-- traffic, other names use the system resolver (/etc/hosts, DNS, ...).
--   lua5.4 samples/dns_lookup.lua -4 localhost 127.0.0.1 ::1
local socket = require("socket")
local dns = socket.dns

local function usage()
  io.stderr:write("usage: lua5.4 samples/dns_lookup.lua [-4|-6] [-t seconds] name ...\n")
  os.exit(2)
end

local family, limit, names = "unspec", 10, {}
local i = 1
while i <= #arg do
  local a = arg[i]
  if a == "-4" then family = "inet"
  elseif a == "-6" then family = "inet6"
  elseif a == "-t" then
    i = i + 1
    limit = tonumber(arg[i])
    if not limit or limit < 0 then usage() end
  else
    names[#names + 1] = a
  end
  i = i + 1
end
if #names == 0 then usage() end

local function label(name)
  return name:match("^[%w%.:%-_]+$") and name or ("%q"):format(name)
end

local t0 = socket.gettime()
local pending = {}                                  -- lookups not yet reported
for _, name in ipairs(names) do
  local a = dns.resolve(name, family)               -- returns at once
  pending[#pending + 1] = a
  print(label(name) .. ": " .. a:getstatus())
end
io.stdout:flush()

local resolved, failed = 0, 0

local function report(a)
  local status, err = a:getstatus()
  local name = label(a:gethostname())
  local stamp = ("[%.3f s] "):format(socket.gettime() - t0)
  if status == "success" then
    local list = {}
    for _, e in ipairs(a:getips()) do list[#list + 1] = e.addr .. " (" .. e.family .. ")" end
    print(stamp .. name .. ": " .. table.concat(list, ", "))
    resolved = resolved + 1
  else
    print(stamp .. name .. ": failed (" .. tostring(err) .. ")")
    failed = failed + 1
  end
  io.stdout:flush()
  a:close()
end

local deadline = t0 + limit
local nextnote = t0 + 1
while #pending > 0 do
  local now = socket.gettime()
  if now >= deadline then
    for _, a in ipairs(pending) do a:cancel() end   -- reported below as "cancelled"
  end
  local ready = socket.select(pending, nil, math.max(0, math.min(deadline, nextnote) - now))
  local still = {}
  for _, a in ipairs(pending) do
    if ready[a] or a:getstatus() ~= "waiting" then report(a) else still[#still + 1] = a end
  end
  pending = still
  if #pending > 0 and socket.gettime() >= nextnote then
    local list = {}
    for _, a in ipairs(pending) do list[#list + 1] = label(a:gethostname()) end
    print(("[%.3f s] still waiting for %s"):format(socket.gettime() - t0, table.concat(list, ", ")))
    io.stdout:flush()
    nextnote = nextnote + 1
  end
end

print(("dns_lookup: %d resolved, %d failed"):format(resolved, failed))
os.exit(failed == 0 and 0 or 1)
