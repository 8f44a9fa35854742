-- netsocket: which TLS library the LuaSec module names belong to. The
-- submodules ssl.context, ssl.x509 and ssl.config follow whatever
-- require("ssl") gives: netsocket's when its lua/ssl.lua is the one found,
-- LuaSec's when LuaSec's ssl.lua comes first (installed in the same
-- luarocks tree, luarocks gives LuaSec the name: doc/migration.md). Then
-- they hand over to LuaSec's own C modules, so LuaSec keeps working whole.
local compat = {}

local MARK = "-- netsocket: "

-- The file require(name) would load from package.path, or nil (Lua 5.1
-- has no package.searchpath).
local function searchpath(name, path)
  name = name:gsub("%.", "/")
  for template in path:gmatch("[^;]+") do
    local file = template:gsub("%?", name)
    local f = io.open(file, "r")
    if f then
      f:close()
      return file
    end
  end
  return nil
end

-- true when require("ssl") gives (or would give) netsocket's TLS.
function compat.ours()
  local loaded = package.loaded.ssl
  if type(loaded) == "table" then return loaded == package.loaded["socket.ssl"] end
  local file = searchpath("ssl", package.path)
  if not file then return true end        -- no ssl.lua at all: nothing else to follow
  local f = io.open(file, "r")
  local first = f and f:read("*l")
  if f then f:close() end
  return first ~= nil and first:sub(1, #MARK) == MARK
end

-- LuaSec's C submodule `name` ("ssl.context") from its ssl library.
function compat.luasec(name)
  local lib = searchpath("ssl", package.cpath)
  if not lib then error("module '" .. name .. "': require('ssl') is LuaSec's, but its C library is not found", 3) end
  local open, err = package.loadlib(lib, "luaopen_" .. name:gsub("%.", "_"))
  if not open then error("module '" .. name .. "': " .. tostring(err), 3) end
  return open(name)
end

return compat
