-- LUA_INIT for the suite (`make test` sets it, for busted and every child
-- interpreter the specs start): the few library functions that the specs
-- and their child scripts use and that Lua 5.1, 5.2 or LuaJIT lack or spell
-- otherwise. On 5.3 and later it changes nothing. lua/ must not rely on
-- them: spec/versions_spec.lua loads every module without this file.
-- luacheck: ignore 113 121 122 (5.1's names; filling in the library is the point)
if not table.pack then
  table.pack = function(...) return { n = select("#", ...), ... } end
end
table.unpack = table.unpack or unpack

-- read/lines formats without the '*' (5.3 on): "a", "l", "L", "n".
local probe = io.tmpfile()
if probe and not pcall(probe.read, probe, "a") then
  local unpack = table.unpack
  local function star(...)
    local t, n = { ... }, select("#", ...)
    for i = 1, n do
      if type(t[i]) == "string" and t[i]:sub(1, 1) ~= "*" then t[i] = "*" .. t[i] end
    end
    return unpack(t, 1, n)
  end
  local file = getmetatable(probe).__index
  local read, lines = file.read, file.lines
  file.read = function(f, ...) return read(f, star(...)) end
  file.lines = function(f, ...) return lines(f, star(...)) end
  local ioread, iolines = io.read, io.lines
  io.read = function(...) return ioread(star(...)) end
  io.lines = function(name, ...) return iolines(name, star(...)) end
end
if probe then probe:close() end

if not package.searchpath then
  package.searchpath = function(name, path)
    local file = name:gsub("%.", "/")
    local tried = {}
    for template in path:gmatch("[^;]+") do
      local candidate = template:gsub("%?", file)
      local f = io.open(candidate, "r")
      if f then
        f:close()
        return candidate
      end
      tried[#tried + 1] = "\n\tno file '" .. candidate .. "'"
    end
    return nil, table.concat(tried)
  end
end

-- A popen'ed process's exit status from close() (5.2 on: true|nil, "exit"
-- or "signal", code). 5.1 and LuaJIT answer only true; here a read-mode
-- pipe is a stand-in whose close() reads the status the shell recorded.
local probe_pipe = io.popen("exit 3")
local _, how = probe_pipe:close()
if how == nil then
  local popen = io.popen
  io.popen = function(cmd, mode)
    if mode ~= nil and mode ~= "r" then return popen(cmd, mode) end
    local statusfile = os.tmpname()
    local p, err = popen("(" .. cmd .. "\n); echo $? > " .. statusfile, mode)
    if not p then
      os.remove(statusfile)
      return nil, err
    end
    local proxy = {}
    function proxy.close()
      p:close()
      local f = io.open(statusfile)
      local code = f and tonumber(f:read("*l")) or 255
      if f then f:close() end
      os.remove(statusfile)
      if code > 128 then return nil, "signal", code - 128 end
      return code == 0 or nil, "exit", code
    end
    return setmetatable(proxy, { __index = function(_, k)
      local m = p[k]
      if type(m) ~= "function" then return m end
      return function(self, ...)
        if self == proxy then self = p end
        return m(self, ...)
      end
    end })
  end
end

-- Integers where the language has no integer subtype (5.1, 5.2, LuaJIT): an
-- integral float is what an integer result is there (doc/migration.md).
if not math.type then
  math.type = function(x)
    if type(x) ~= "number" then return nil end
    return (x == math.floor(x) and x - x == 0) and "integer" or "float"
  end
  math.tointeger = function(x)
    return math.type(x) == "integer" and x or nil
  end
  -- the largest integers a double holds exactly
  math.maxinteger = 2 ^ 53
  math.mininteger = -2 ^ 53
end

-- load(string [, name [, mode [, env]]]) and loadfile(path, mode, env), as
-- from 5.2 on (5.1's load takes only a function, and neither takes an env).
if setfenv and not pcall(load, "return 1") then
  local load51, loadfile51, loadstring = load, loadfile, loadstring
  load = function(chunk, name, _, env)
    local f, err
    if type(chunk) == "string" then f, err = loadstring(chunk, name) else f, err = load51(chunk, name) end
    if f and env ~= nil then setfenv(f, env) end
    return f, err
  end
  loadfile = function(path, _, env)
    local f, err = loadfile51(path)
    if f and env ~= nil then setfenv(f, env) end
    return f, err
  end
end
