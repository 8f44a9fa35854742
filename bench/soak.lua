-- `make soak` / `make soak-ci` (mk/soak.mk): a netsocket cosocket echo
-- server (bench/concurrent.lua co: one socket.co task per client) under
-- CONNS concurrent clients from bench/c/loadgen for SECONDS, each client
-- doing 64-byte request/reply in a loop. Reports requests served, errors
-- and the server's RSS over the run; exits 1 when there was an error or
-- the RSS grew (see RSS_TOLERANCE), 2 when the run itself failed.
--
-- usage: lua5.4 bench/soak.lua ROOT BUILD [SECONDS [CONNS]]
local ROOT, BUILD = arg[1], arg[2]
assert(ROOT and BUILD, "usage: soak.lua ROOT BUILD [SECONDS [CONNS]]")
local SECONDS = tonumber(arg[3]) or 300
local CONNS = tonumber(arg[4]) or 1000
local LUA = os.getenv("LUA") or "lua5.4"

-- The RSS is sampled every EVERY seconds. The first sample is taken once
-- every client has connected and been answered; the Lua heap still grows
-- then, until the collector's cycle settles (it lets the heap reach twice
-- the live data before finishing a cycle, and malloc keeps freed pages), so
-- the baseline is the highest RSS of the first quarter of the run (at least
-- 3 samples), and the run passes if the highest RSS of the last quarter is
-- within RSS_TOLERANCE of it: 10 % plus 1 MiB. A leak of even one 64-byte
-- string per request (~100 bytes with the allocator's overhead) at the
-- ~30,000 requests/s of the development machine is 3 MB/s, far beyond it;
-- the allowance covers the collector's swing and noise.
local EVERY = math.max(1, math.min(5, math.floor(SECONDS / 20)))
local RSS_TOLERANCE = { ratio = 0.10, kb = 1024 }

local function q(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end
local env = ("LUA_PATH=%s LUA_CPATH=%s"):format(q(ROOT .. "/lua/?.lua;;"), q(ROOT .. "/" .. BUILD .. "/?.so;;"))
local cmd = ("env %s %s -n %d -t %d -r %d -m soak -- %s %s co soak %d 2>&1"):format(env,
  q(ROOT .. "/" .. BUILD .. "/bench/loadgen"), CONNS, SECONDS, EVERY, LUA,
  q(ROOT .. "/bench/concurrent.lua"), SECONDS + 300)

io.write(("soak: %d clients, %d s, 64-byte request/reply, against bench/concurrent.lua co\n"):format(CONNS, SECONDS))
io.flush()
local samples, info, result, failed, other = {}, nil, nil, nil, {}
local h = assert(io.popen(cmd, "r"))
for line in h:lines() do
  local t, kb = line:match("^RSS ([%d.]+) (%d+)$")
  if t then
    samples[#samples + 1] = { t = tonumber(t), kb = tonumber(kb) }
    if #samples % 6 == 1 then io.write(("  %5.0f s  RSS %d kB\n"):format(t, kb)); io.flush() end
  elseif line:match("^INFO ") then info = line
  elseif line:match("^RESULT ") then result = line
  elseif line:match("^FAILED ") then failed = line
  else other[#other + 1] = line
  end
end
h:close()

local function field(k) return info and tonumber(info:match(k .. "=([%d.]+)")) end
local function peak(from, to)
  local m = 0
  for i = from, to do m = math.max(m, samples[i].kb) end
  return m
end
local function low()
  local m = math.huge
  for _, s in ipairs(samples) do m = math.min(m, s.kb) end
  return m == math.huge and 0 or m
end

if not info then
  io.write("soak: the load generator failed\n", table.concat(other, "\n"), "\n")
  os.exit(2)
end
local served, errors = field("replies"), field("errors")
local n = #samples
local quarter = math.max(3, math.floor(n / 4))
local base = n >= 2 * quarter and peak(1, quarter) or 0
local last = n >= 2 * quarter and peak(n - quarter + 1, n) or 0
local limit = base * (1 + RSS_TOLERANCE.ratio) + RSS_TOLERANCE.kb
io.write(("requests served: %d (%.0f/s over %.1f s), errors: %d, connections open at the end: %d\n")
  :format(served, field("rate"), field("secs"), errors, field("open_at_end")))
io.write(("server RSS: %d kB at the start, %d kB at the end (min %d, max %d over %d samples)\n")
  :format(field("rss_start_kb"), field("rss_end_kb"),
    low(), peak(1, n), n))
io.write(("RSS peak: first quarter %d kB, last quarter %d kB, allowed %.0f kB (+%d %% + %d kB)\n")
  :format(base, last, limit, RSS_TOLERANCE.ratio * 100, RSS_TOLERANCE.kb))
local ok = true
if failed or errors ~= 0 or not result then
  io.write("FAIL: ", failed or "errors", "\n")
  for _, l in ipairs(other) do io.write("  ", l, "\n") end
  ok = false
end
if base == 0 then
  io.write("FAIL: too few RSS samples to judge (run longer)\n")
  ok = false
elseif last > limit then
  io.write(("FAIL: the server's RSS grew from %d to %d kB\n"):format(base, last))
  ok = false
end
io.write(ok and "soak: PASS\n" or "soak: FAIL\n")
os.exit(ok and 0 or 1)
