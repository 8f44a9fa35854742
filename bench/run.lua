-- `make bench` driver: runs every workload against netsocket (build tree),
-- LuaSocket (Debian's, from the system paths) and the C program,
-- interleaved (netsocket, LuaSocket, C, netsocket, ...) for several
-- repetitions; prints per workload the medians and the medians of the
-- ratios measured pair by pair (same repetition), writes
-- bench/results/latest.md (+ .dat) and, with gnuplot, latest.png.
--
-- usage: lua5.4 bench/run.lua ROOT BUILD QUICK(0|1) [workload ...]
local ROOT, BUILD = arg[1], arg[2]
assert(ROOT and BUILD, "usage: run.lua ROOT BUILD QUICK(0|1) [workload ...]")
local QUICK = arg[3] == "1" or arg[3] == "quick"
local only = {}
for i = 4, #arg do only[arg[i]] = true end
local REPS = tonumber(os.getenv("BENCH_REPS") or "") or (QUICK and 3 or 5)
local SCALE = os.getenv("BENCH_SCALE") or (QUICK and "0.25" or "1")
local BIN = ROOT .. "/" .. BUILD .. "/bench"
local LUA = os.getenv("LUA") or "lua5.4"
local RESULTS = ROOT .. "/bench/results"

local function sh(cmd)
  local h = io.popen(cmd .. " 2>&1")
  local out = h:read("*a")
  h:close()
  return out
end
local function have(cmd) return sh("command -v " .. cmd) ~= "" end

local NS_ENV = string.format("LUA_PATH='%s/lua/?.lua;;' LUA_CPATH='%s/%s/?.so;;'", ROOT, ROOT, BUILD)
local LS_ENV = "LUA_PATH=';;' LUA_CPATH=';;'"
-- BENCH_BEFORE=DIR: the baseline is another netsocket checkout (DIR, built
-- in DIR/$BENCH_BEFORE_BUILD, default the same BUILD name) in place of
-- LuaSocket, so that a change is measured before/after in one run.
local BEFORE = os.getenv("BENCH_BEFORE")
local BASE = BEFORE and "before" or "LuaSocket"
if BEFORE then
  LS_ENV = string.format("LUA_PATH='%s/lua/?.lua;;' LUA_CPATH='%s/%s/?.so;;'", BEFORE, BEFORE,
    os.getenv("BENCH_BEFORE_BUILD") or BUILD)
end
local COMMON = string.format("BENCH_BIN='%s' BENCH_SCALE='%s'", BIN, SCALE)
local PIN = (have("taskset") and tonumber(sh("nproc")) or 1) > 1 and "taskset -c 1 " or ""
local TIMEOUT = have("timeout") and "timeout 300 " or ""

-- Which socket.core each environment loads: netsocket must come from build/.
-- (a search of its own: package.searchpath is 5.2+)
local SEARCH = [[local function search(n, p) n = n:gsub('%.', '/') for pat in p:gmatch('[^;]+') do ]]
  .. [[local f = pat:gsub('%?', n) local h = io.open(f) if h then h:close() return f end end end ]]
local probe = [[ -e "]] .. SEARCH .. [[print(search('socket.core', package.cpath))"]]
local nscore = sh(NS_ENV .. " " .. LUA .. probe):gsub("%s+$", "")
local lscore = sh(LS_ENV .. " " .. LUA .. probe):gsub("%s+$", "")
assert(nscore == ROOT .. "/" .. BUILD .. "/socket/core.so", "netsocket env loads " .. nscore)
local HAVE_LS = lscore ~= "nil" and lscore ~= nscore and not lscore:find(ROOT, 1, true)
io.write("netsocket: ", nscore, "\n", BASE, ": ", HAVE_LS and lscore or "not installed (bench/setup.sh)", "\n")

-- The TLS baseline is LuaSec over LuaSocket (LS_ENV); the cosocket baseline
-- is copas over LuaSocket. Debian ships copas for Lua 5.1/5.2 only; copas
-- 1.x is plain Lua, so its directory is appended to LS_ENV's path.
local HAVE_LUASEC = HAVE_LS and not BEFORE and sh(LS_ENV .. " " .. LUA .. [[ -e "print(require('ssl')._VERSION)"]])
  :match("^%d[%d.]*") or nil
local function copas_env()
  local found = sh(LS_ENV .. " " .. LUA .. [[ -e "]] .. SEARCH .. [[print(search('copas', package.path))"]])
  if found:match("^/") then return LS_ENV end
  for _, v in ipairs({"5.4", "5.3", "5.2", "5.1"}) do
    for _, d in ipairs({"/usr/local/share/lua/", "/usr/share/lua/"}) do
      local f = io.open(d .. v .. "/copas.lua")
      if f then
        f:close()
        return string.format("LUA_PATH=';;%s%s/?.lua' LUA_CPATH=';;'", d, v)
      end
    end
  end
end
local COPAS_ENV = HAVE_LS and not BEFORE and copas_env() or nil
io.write("LuaSec: ", HAVE_LUASEC or "not installed", "   copas: ", COPAS_ENV or "not installed", "\n")

-- concurrent: bench/c/loadgen starts the server (pinned to CPU 1) and
-- drives it from CPU 0 for CONC_T measured seconds.
local CONC_T = QUICK and 1 or 3
local function loadgen(n, name)
  local p0, p1 = PIN ~= "" and "taskset -c 0 " or "", PIN
  return string.format("%s%s/loadgen -n %d -t %d -m %s -- %s", p0, BIN, n, CONC_T, name, p1)
end

-- name, script args, C program, unit, divisor for display, target vs C,
-- pinned; kind = "tls" or "concurrent" (the driver builds their commands;
-- WORKLOADS="tls" or "concurrent" picks the group); ls = the server mode
-- of the baseline for "concurrent"; mark = the row's footnote.
local WORKLOADS = {
  {"bulk", "bulk.lua", "bulk", "MiB/s", 2^20, 0.90},
  {"lines", "lines.lua", "lines", "lines/s", 1, 0.45},
  {"pingpong", "pingpong.lua", "pingpong", "round trips/s", 1, 0.85, true},
  {"accept", "accept.lua", "accept", "conn/s", 1, 0.85},
  {"select100", "select.lua 100", "select 100", "selects/s", 1, 0.70},
  {"select1000", "select.lua 1000", "select 1000", "selects/s", 1, 0.70},
  {"select4000", "select.lua 4000", "select 4000", "selects/s", 1, 0.70},
  {"select10000", "select.lua 10000", "select 10000", "selects/s", 1, 0.70},
  {"all", "all.lua", "all", "MiB/s", 2^20, 0.90},
  {"udp", "udp.lua", "udp", "round trips/s", 1, 0.85, true},
  {"tls_bulk", "tls_bulk.lua", "tls_bulk", "MiB/s", 2^20, 0.90, kind = "tls", mark = " ³"},
  {"tls_handshake", "tls_handshake.lua", "tls_handshake", "handshakes/s", 1, 0.90, kind = "tls", mark = " ³"},
  {"co200", "co", 200, "requests/s", 1, 0.80, kind = "concurrent", ls = "copas", mark = " ⁴"},
  {"selectloop200", "select", 200, "requests/s", 1, nil, kind = "concurrent", ls = "select", mark = " ⁵"},
  {"co10000", "co", 10000, "requests/s", 1, 0.80, kind = "concurrent", ls = "copas", mark = " ⁴"},
  {"selectloop10000", "select", 10000, "requests/s", 1, nil, kind = "concurrent", ls = "select", mark = " ⁵"},
}

local function selected(w)
  return next(only) == nil or only[w[1]] or (w.kind and only[w.kind])
end

-- The TLS workloads share one ECDSA P-256 certificate made now.
local B = dofile(ROOT .. "/bench/common.lua")
local CERTS
for _, w in ipairs(WORKLOADS) do
  if w.kind == "tls" and selected(w) and not CERTS then CERTS = B.certs() end
end
if CERTS then COMMON = COMMON .. " BENCH_CERTS='" .. CERTS .. "'" end

-- The three commands of a workload: netsocket, baseline (or nil), C.
local function commands(w)
  local name, script, cprog = w[1], w[2], w[3]
  local pin = w[7] and PIN or ""
  if w.kind == "concurrent" then
    local srv = ROOT .. "/bench/concurrent.lua "
    local lsenv = w.ls == "copas" and COPAS_ENV or (HAVE_LS and LS_ENV)
    local lsmode = w.ls
    if BEFORE then lsenv, lsmode = LS_ENV, script end
    return COMMON .. " " .. NS_ENV .. " " .. loadgen(cprog, name) .. LUA .. " " .. srv .. script .. " " .. name,
      lsenv and (COMMON .. " " .. lsenv .. " " .. loadgen(cprog, name) .. LUA .. " " .. srv .. lsmode .. " " .. name),
      COMMON .. " " .. loadgen(cprog, name) .. BIN .. "/epoll_server"
  end
  local nsenv, lsenv = NS_ENV, HAVE_LS and LS_ENV
  if w.kind == "tls" then
    nsenv = nsenv .. " BENCH_TLS=socket.ssl"
    lsenv = BEFORE and lsenv .. " BENCH_TLS=socket.ssl" or HAVE_LUASEC and lsenv .. " BENCH_TLS=ssl"
  end
  return COMMON .. " " .. nsenv .. " " .. pin .. LUA .. " " .. ROOT .. "/bench/" .. script,
    lsenv and (COMMON .. " " .. lsenv .. " " .. pin .. LUA .. " " .. ROOT .. "/bench/" .. script),
    COMMON .. " " .. pin .. BIN .. "/" .. cprog
end

-- One run: rate (units/s), or nil and why.
local function run(cmd)
  local out = sh(TIMEOUT .. "env " .. cmd)
  local units, secs = out:match("RESULT %S+ (%d+) ([%d.]+)")
  if units then return tonumber(units) / tonumber(secs) end
  local why = out:match("UNSUPPORTED %S+ ([^\n]*)")
  if why then return nil, "raises: " .. why:gsub("^.-: ", "") end
  why = out:match("FAILED %S+ ([^\n]*)")            -- bench/c/loadgen's verdict
  return nil, "failed: " .. (why or out:gsub("\n", " ")):sub(1, 200)
end

local function median(t)
  if #t == 0 then return nil end
  local s = {}
  for i, v in ipairs(t) do s[i] = v end
  table.sort(s)
  local m = math.floor(#s / 2)
  return #s % 2 == 1 and s[m + 1] or (s[m] + s[m + 1]) / 2
end

-- REPS interleaved rounds of one workload; returns its table row.
local function measure(w)
  local name, _, _, unit, div, target, pinned = (table.unpack or unpack)(w, 1, 7)
  local ns, ls, c = commands(w)
  local impls = {{"ns", ns}}
  if ls then impls[#impls + 1] = {"ls", ls} end
  impls[#impls + 1] = {"c", c}
  local rate = {ns = {}, ls = {}, c = {}}
  local ratio = {ns_ls = {}, ns_c = {}, ls_c = {}}
  local note = {}
  for rep = 1, REPS do
    local got = {}
    for _, im in ipairs(impls) do
      local r, why = run(im[2])
      got[im[1]] = r
      if r then table.insert(rate[im[1]], r) else note[im[1]] = why end
    end
    if got.ns and got.ls then table.insert(ratio.ns_ls, got.ns / got.ls) end
    if got.ns and got.c then table.insert(ratio.ns_c, got.ns / got.c) end
    if got.ls and got.c then table.insert(ratio.ls_c, got.ls / got.c) end
    io.write(string.format("  %-12s rep %d: netsocket %s  %s %s  C %s\n", name, rep,
      got.ns and string.format("%.4g", got.ns / div) or "-", BASE,
      got.ls and string.format("%.4g", got.ls / div) or "-",
      got.c and string.format("%.4g", got.c / div) or "-"))
    io.flush()
  end
  return {name = name, unit = unit, div = div, target = target, pinned = pinned, mark = w.mark,
    ns = median(rate.ns), ls = median(rate.ls), c = median(rate.c),
    ns_ls = median(ratio.ns_ls), ns_c = median(ratio.ns_c), ls_c = median(ratio.ls_c),
    note = note, n = #rate.ns}
end

local rows = {}
local t_start = os.time()
for _, w in ipairs(WORKLOADS) do
  if selected(w) then rows[#rows + 1] = measure(w) end
end

local function fmt(v, div)
  if not v then return "—" end
  v = v / (div or 1)
  if v >= 100 then return string.format("%.0f", v) end
  return string.format("%.3g", v)
end
local function r2(v) return v and string.format("%.2f", v) or "—" end

local lines = {}
local function out(s) lines[#lines + 1] = s end
local function row_line(r)
  local ns = r.ns and fmt(r.ns, r.div) or (r.note.ns or "—")
  local ls = r.ls and fmt(r.ls, r.div) or (r.note.ls or "—")
  local c = r.c and fmt(r.c, r.div) or (r.note.c or "—")
  local met = not r.target and "—" or r.ns_c and (r.ns_c >= r.target and "yes" or "no") or "?"
  -- Never slower than LuaSocket: ratios within 3 % of 1 are this machine's noise.
  local notslower = not r.ns_ls and "—" or r.ns_ls >= 1 and "yes"
    or r.ns_ls >= 0.97 and "≈ (noise)" or "**no**"
  return string.format("| %s%s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |",
    r.name, r.mark or r.pinned and " ¹" or "", r.unit, ns, ls, c,
    r2(r.ns_ls), r2(r.ns_c), r2(r.ls_c), r2(r.target), met, notslower)
end
out(("| workload | unit | netsocket | B | C | netsocket / B | netsocket / C"
  .. " | B / C | target vs C | met | ≥ B |"):gsub("B", BASE))
out("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |")
local marks = {}
for _, r in ipairs(rows) do
  out(row_line(r))
  marks[r.mark or r.pinned and " ¹" or ""] = true
end
local uname = sh("uname -srm"):gsub("%s+$", "")
local cpu = (sh("grep -m1 'model name' /proc/cpuinfo"):match(":%s*(.-)%s*$") or "?")
local header = {
  string.format("Run %s, %s mode: %d repetitions, BENCH_SCALE=%s, %d s in all.",
    os.date("!%Y-%m-%d %H:%M UTC"), QUICK and "quick" or "full", REPS, SCALE, os.time() - t_start),
  string.format("Machine: %s, %s, %s CPUs.", uname, cpu, sh("nproc"):gsub("%s+$", "")),
  "Rates are medians over the repetitions; ratios are medians of the ratios of each",
  "repetition's interleaved runs (netsocket, " .. BASE .. ", C), higher is better for netsocket.",
}
if BEFORE then
  header[#header + 1] = "before: the netsocket checkout " .. BEFORE .. " (" ..
    sh("git -C '" .. BEFORE .. "' log -1 --format='%h %s' 2>/dev/null"):gsub("%s+$", "") .. ")."
end
header[#header + 1] = "Interpreter: " .. LUA .. " (" .. sh(LUA .. " -v"):gsub("%s+$", "") .. ")."
local notes = {
  [" ¹"] = "¹ pinned with its peer to one CPU (taskset -c 1).",
  [" ³"] = "³ TLS 1.3, TLS_AES_128_GCM_SHA256, X25519, ECDSA P-256: netsocket's socket.ssl;"
    .. " the LuaSocket column is LuaSec " .. (HAVE_LUASEC or "") .. " over LuaSocket; C is OpenSSL.",
  [" ⁴"] = "⁴ echo server, one cosocket (socket.co task) per connection; the LuaSocket column is copas"
    .. " over LuaSocket; C is an epoll server. bench/c/loadgen (CPU 0) drives N connections of"
    .. " 64-byte request/reply for " .. CONC_T .. " s against the server (CPU 1).",
  [" ⁵"] = "⁵ echo server, one socket.select loop over every connection, same load as ⁴.",
}
if BEFORE then
  notes[" ³"] = "³ TLS 1.3, TLS_AES_128_GCM_SHA256, X25519, ECDSA P-256: socket.ssl in both columns; C is OpenSSL."
  notes[" ⁴"] = "⁴ echo server, one socket.co task per connection, in both columns; C is an epoll server."
    .. " bench/c/loadgen (CPU 0) drives N connections of 64-byte request/reply for " .. CONC_T .. " s (server on CPU 1)."
end
for _, k in ipairs({" ¹", " ³", " ⁴", " ⁵"}) do
  if marks[k] then header[#header + 1] = notes[k] end
end
header[#header + 1] = ""
local text = table.concat(header, "\n") .. "\n" .. table.concat(lines, "\n") .. "\n"
io.write("\n", text)
os.execute("mkdir -p '" .. RESULTS .. "'")
local f = assert(io.open(RESULTS .. "/latest.md", "w"))
f:write("# Latest `make bench` run\n\n", text)
f:close()

-- Plot: throughput relative to the C program (C = 1), per workload.
local dat = assert(io.open(RESULTS .. "/latest.dat", "w"))
dat:write("# workload netsocket/C LuaSocket/C C\n")
for _, r in ipairs(rows) do
  dat:write(string.format("%s %s %s 1\n", r.name, r.ns_c and string.format("%.4f", r.ns_c) or "NaN",
    r.ls_c and string.format("%.4f", r.ls_c) or "NaN"))
end
dat:close()
if have("gnuplot") then
  local gp = assert(io.open(RESULTS .. "/plot.gp", "w"))
  gp:write(string.format([[
set terminal pngcairo size 1100,500 noenhanced font ",10"
set output '%s/latest.png'
set title 'Throughput relative to plain C (C = 1), higher is better'
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set boxwidth 0.9
set yrange [0:*]
set grid ytics
set xtics rotate by -30
set key top right
plot '%s/latest.dat' using 2:xtic(1) title 'netsocket', \
     '' using 3 title 'LuaSocket 3', '' using 4 title 'C (POSIX sockets)'
]], RESULTS, RESULTS))
  gp:close()
  local o = sh("gnuplot '" .. RESULTS .. "/plot.gp'")
  if o:find("terminal") then
    io.write("gnuplot: ", o)
    -- pngcairo may be missing (gnuplot-nox has it; older builds only png)
    sh("sed -i 's/pngcairo/png/' '" .. RESULTS .. "/plot.gp' && gnuplot '" .. RESULTS .. "/plot.gp'")
  end
  os.remove(RESULTS .. "/plot.gp")
  io.write("plot: ", RESULTS, "/latest.png\n")
else
  io.write("gnuplot not installed: no plot (bench/setup.sh installs it)\n")
end
io.write("table: ", RESULTS, "/latest.md\n")
B.rmcerts(CERTS)
