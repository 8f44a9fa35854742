-- Issue 7: every wrong type in every argument position of every public
-- function and method. The calls are generated from the API list in
-- wrongtypes_child.lua and made in a child process under a watchdog: a
-- crash or a hang (no progress for 2 s) is a finding, and the child is
-- restarted after the call that caused it, so one run lists them all.
local H = require("helper")

local HERE = debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or "spec/hardening"
local function q(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

local result          -- memoised: the child runs once for all the its below

-- The names a number becomes when a call takes it as a unix path.
local NUMPATHS = { "inf", "-inf", "nan", "-nan", "9223372036854775807", "-9223372036854775808" }
local function strays()
  local found = {}
  for _, name in ipairs(NUMPATHS) do
    if select(2, H.sh("test -e " .. "'" .. name .. "'")) then found[#found + 1] = name end
  end
  return found
end
local strays0         -- those present before the child ran (not ours)

local function run()
  if result then return result end
  strays0 = strays0 or strays()
  local tmp = os.tmpname()
  os.remove(tmp)
  assert(os.execute("mkdir -p " .. q(tmp)))
  local cert = tmp .. "/cert.pem"
  local out, ok = H.sh(("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
    .. "-keyout %s/key.pem -out %s -days 2 -subj /CN=localhost"):format(q(tmp), q(cert)))
  assert(ok, out)
  local prog = tmp .. "/progress"
  local r = { bad = {}, num = {}, crash = {}, hang = {}, noapi = {}, calls = 0, made = 0, skipped = 0,
    runs = 0, t0 = os.time() }
  local start = 1
  local clock0 = (H.sh("date +%s.%N"))
  for _ = 1, 40 do                       -- bounded number of restarts
    r.runs = r.runs + 1
    local f = assert(io.open(prog, "w")); f:write("0\t(start)\n"); f:close()
    -- The child runs inside the temp dir: numbers given as unix paths
    -- (bind(math.huge) binds "inf") make socket files in the cwd.
    local cmd = ("h=$(cd %s && pwd); cd %s || exit 1; %s \"$h\"/wrongtypes_child.lua %d %s %s %s %d > %s/out 2>&1 & c=$!; last=; n=0; "
      .. "while kill -0 $c 2>/dev/null; do sleep 0.1; cur=$(head -c 12 %s); "
      .. "if [ \"$cur\" = \"$last\" ]; then n=$((n+1)); "
      .. "if [ $n -ge 20 ]; then kill -9 $c; echo HANGKILL; break; fi; "
      .. "else n=0; last=$cur; fi; done; wait $c; echo \"EXIT $?\"")
      :format(q(HERE), q(tmp), H.LUA, start, q(prog), q(tmp), q(cert), r.runs, q(tmp), q(prog))
    local status = H.sh(cmd)
    local f2 = assert(io.open(tmp .. "/out")); local text = f2:read("a"); f2:close()
    local done = false
    for line in text:gmatch("[^\n]+") do
      local kind, rest = line:match("^(%u+) (.*)$")
      if kind == "BAD" then r.bad[#r.bad + 1] = rest
      elseif kind == "NUM" then r.num[#r.num + 1] = rest
      elseif kind == "NOAPI" or kind == "NOCLASS" then r.noapi[#r.noapi + 1] = line
      elseif kind == "DONE" then
        local a, b, c = rest:match("(%d+) (%d+) (%d+)")
        r.calls = tonumber(a); r.made = r.made + tonumber(b); r.skipped = r.skipped + tonumber(c)
        done = true
      end
    end
    if done and status:match("EXIT 0") then break end
    local pf = assert(io.open(prog)); local pl = pf:read("l") or "0\t(empty)"; pf:close()
    local id, desc = pl:match("^(%d+)\t(.-)%s*$")
    id = tonumber(id) or 0
    local tail = text:sub(-300):gsub("\n", " | ")
    if status:match("HANGKILL") then
      r.hang[#r.hang + 1] = ("%d %s"):format(id, desc)
    else
      r.crash[#r.crash + 1] = ("%d %s (%s) %s"):format(id, desc, status:match("EXIT %d+"), tail)
    end
    start = id + 1
  end
  r.seconds = tonumber((H.sh("date +%s.%N"))) - tonumber(clock0)
  H.sh("rm -rf " .. q(tmp))
  result = r
  return r
end

-- One line per function and argument position: "label arg#N: values :: first message".
local function list(t)
  local order, by = {}, {}
  for _, line in ipairs(t) do
    local label, pos, v, msg = line:match("^%d+ (%S+) arg#(%d+)=(%S+)%s*:?:?%s*(.*)$")
    local key = label and (label .. " arg#" .. pos) or line
    if not by[key] then by[key] = { vals = {}, msg = msg or "" }; order[#order + 1] = key end
    if v then table.insert(by[key].vals, v) end
  end
  local out = {}
  for _, k in ipairs(order) do
    out[#out + 1] = k .. " = " .. table.concat(by[k].vals, ",") .. "  :: " .. by[k].msg:sub(1, 160)
  end
  return "\n  " .. table.concat(out, "\n  ")
end

describe("hardening: wrong types in every argument position #linux #shell", function()
  it("covers the whole API (every function and method has a baseline in the API list)", function()
    local r = run()
    assert.is_true(r.calls > 5000, "only " .. r.calls .. " calls generated")
    assert.are.same({}, r.noapi, "functions or classes missing from the API list:" .. list(r.noapi))
  end)

  it("never crashes the process", function()
    local r = run()
    assert.are.equal(0, #r.crash, #r.crash .. " calls crashed:" .. list(r.crash))
  end)

  it("never hangs with every timeout at 0", function()
    local r = run()
    assert.are.equal(0, #r.hang, #r.hang .. " calls hung:" .. list(r.hang))
  end)

  it("raises only errors that name an argument (or the documented ones)", function()
    local r = run()
    assert.are.equal(0, #r.bad, #r.bad .. " calls raised without naming an argument:" .. list(r.bad))
  end)

  it("names the argument that is wrong, not another one", function()
    local r = run()
    assert.are.equal(0, #r.num, #r.num .. " calls blamed the wrong argument:" .. list(r.num))
  end)

  it("leaves no socket files in the current directory (numbers taken as paths)", function()
    run()
    local before = {}
    for _, name in ipairs(strays0) do before[name] = true end
    local new = {}
    for _, name in ipairs(strays()) do
      if not before[name] then new[#new + 1] = name end
    end
    assert.are.same({}, new)
  end)

  it("runs in a bounded time", function()
    local r = run()
    print(("\n[wrongtypes] %d calls generated, %d made, %d skipped, %d child runs, %.1f s")
      :format(r.calls, r.made, r.skipped, r.runs, r.seconds))
    assert.is_true(r.seconds < 60, ("took %.1f s"):format(r.seconds))
  end)
end)
