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
  local out = h:read("a")
  h:close()
  return out
end
local function have(cmd) return sh("command -v " .. cmd) ~= "" end

local NS_ENV = string.format("LUA_PATH='%s/lua/?.lua;;' LUA_CPATH='%s/%s/?.so;;'", ROOT, ROOT, BUILD)
local LS_ENV = "LUA_PATH=';;' LUA_CPATH=';;'"
local COMMON = string.format("BENCH_BIN='%s' BENCH_SCALE='%s'", BIN, SCALE)
local PIN = (have("taskset") and tonumber(sh("nproc")) or 1) > 1 and "taskset -c 1 " or ""
local TIMEOUT = have("timeout") and "timeout 300 " or ""

-- Which socket.core each environment loads: netsocket must come from build/.
local probe = [[ -e "print(package.searchpath('socket.core', package.cpath))"]]
local nscore = sh(NS_ENV .. " " .. LUA .. probe):gsub("%s+$", "")
local lscore = sh(LS_ENV .. " " .. LUA .. probe):gsub("%s+$", "")
assert(nscore == ROOT .. "/" .. BUILD .. "/socket/core.so", "netsocket env loads " .. nscore)
local HAVE_LS = lscore ~= "nil" and lscore ~= nscore and not lscore:find(ROOT, 1, true)
io.write("netsocket: ", nscore, "\nLuaSocket: ", HAVE_LS and lscore or "not installed (bench/setup.sh)", "\n")

-- name, script args, C program, unit, divisor for display, target vs C, pinned
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
}

-- One run: rate (units/s), or nil and why.
local function run(cmd)
  local out = sh(TIMEOUT .. "env " .. cmd)
  local units, secs = out:match("RESULT %S+ (%d+) ([%d.]+)")
  if units then return tonumber(units) / tonumber(secs) end
  local why = out:match("UNSUPPORTED %S+ ([^\n]*)")
  if why then return nil, "raises: " .. why:gsub("^.-: ", "") end
  return nil, "failed: " .. out:gsub("\n", " "):sub(1, 200)
end

local function median(t)
  if #t == 0 then return nil end
  local s = {}
  for i, v in ipairs(t) do s[i] = v end
  table.sort(s)
  local m = #s // 2
  return #s % 2 == 1 and s[m + 1] or (s[m] + s[m + 1]) / 2
end

local rows = {}
local t_start = os.time()
for _, w in ipairs(WORKLOADS) do
  local name, script, cprog, unit, div, target, pinned = table.unpack(w)
  if next(only) == nil or only[name] then
    local pin = pinned and PIN or ""
    local impls = {
      {"ns", COMMON .. " " .. NS_ENV .. " " .. pin .. LUA .. " " .. ROOT .. "/bench/" .. script},
      HAVE_LS and {"ls", COMMON .. " " .. LS_ENV .. " " .. pin .. LUA .. " " .. ROOT .. "/bench/" .. script} or nil,
      {"c", COMMON .. " " .. pin .. BIN .. "/" .. cprog},
    }
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
      io.write(string.format("  %-12s rep %d: netsocket %s  LuaSocket %s  C %s\n", name, rep,
        got.ns and string.format("%.4g", got.ns / div) or "-",
        got.ls and string.format("%.4g", got.ls / div) or "-",
        got.c and string.format("%.4g", got.c / div) or "-"))
      io.flush()
    end
    local row = {name = name, unit = unit, div = div, target = target, pinned = pinned,
      ns = median(rate.ns), ls = median(rate.ls), c = median(rate.c),
      ns_ls = median(ratio.ns_ls), ns_c = median(ratio.ns_c), ls_c = median(ratio.ls_c),
      note = note, n = #rate.ns}
    rows[#rows + 1] = row
  end
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
out("| workload | unit | netsocket | LuaSocket | C | netsocket / LuaSocket | netsocket / C"
  .. " | LuaSocket / C | target vs C | met | ≥ LuaSocket |")
out("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |")
for _, r in ipairs(rows) do
  local ns = r.ns and fmt(r.ns, r.div) or (r.note.ns or "—")
  local ls = r.ls and fmt(r.ls, r.div) or (r.note.ls or "—")
  local c = r.c and fmt(r.c, r.div) or (r.note.c or "—")
  local met = r.ns_c and (r.ns_c >= r.target and "yes" or "no") or "?"
  -- Never slower than LuaSocket: ratios within 3 % of 1 are this machine's noise.
  local notslower = not r.ns_ls and "—" or r.ns_ls >= 1 and "yes"
    or r.ns_ls >= 0.97 and "≈ (noise)" or "**no**"
  out(string.format("| %s%s | %s | %s | %s | %s | %s | %s | %s | %.2f | %s | %s |",
    r.name, r.pinned and " ¹" or "", r.unit, ns, ls, c,
    r2(r.ns_ls), r2(r.ns_c), r2(r.ls_c), r.target, met, notslower))
end
local uname = sh("uname -srm"):gsub("%s+$", "")
local cpu = (sh("grep -m1 'model name' /proc/cpuinfo"):match(":%s*(.-)%s*$") or "?")
local header = {
  string.format("Run %s, %s mode: %d repetitions, BENCH_SCALE=%s, %d s in all.",
    os.date("!%Y-%m-%d %H:%M UTC"), QUICK and "quick" or "full", REPS, SCALE, os.time() - t_start),
  string.format("Machine: %s, %s, %s CPUs.", uname, cpu, sh("nproc"):gsub("%s+$", "")),
  "Rates are medians over the repetitions; ratios are medians of the ratios of each",
  "repetition's interleaved runs (netsocket, LuaSocket, C), higher is better for netsocket.",
  "¹ pinned with its peer to one CPU (taskset -c 1).",
  "",
}
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
