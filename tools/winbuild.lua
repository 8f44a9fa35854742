-- Builds and installs netsocket on Windows without GNU make: the rockspecs'
-- Windows sections run it (doc/windows.md, "Installing with LuaRocks").
-- The same files and flags as mk/windows.mk: the engine compiled against
-- the OS seam (src/os/win/wposix.h force-included, stand-ins for the POSIX
-- headers), src/sock.c replaced by its Winsock twin.
--
--   lua tools/winbuild.lua build   core|ssl CC LUA_INCDIR LUA_LIBDIR LUALIB [OPENSSL_DIR]
--   lua tools/winbuild.lua install core|ssl LIBDIR LUADIR
--
-- CC is gcc-like (MSYS2/mingw-w64: -include) or cl (MSVC: /FI; on paper:
-- resolve.c needs pthreads). Run from the source tree; the objects and
-- DLLs go to build-rock/. `make windows-rock` runs it with the cross
-- compiler on Linux and loads the result under Wine.
local windows = package.config:sub(1, 1) == "\\"
local OUT = "build-rock"

local function q(s) return '"' .. s .. '"' end

local function run(cmd)
  print(cmd)
  local ok = os.execute(windows and '"' .. cmd .. '"' or cmd)
  if ok ~= true and ok ~= 0 then error("failed: " .. cmd, 0) end
end

local function mkdir(d)
  if windows then
    os.execute('if not exist "' .. d:gsub("/", "\\") .. '" mkdir "' .. d:gsub("/", "\\") .. '"')
  else
    run("mkdir -p " .. q(d))
  end
end

-- The files of dir whose names end in ext, sorted.
local function list(dir, ext)
  local cmd = windows and ('dir /b "' .. dir:gsub("/", "\\") .. '"') or ("ls " .. q(dir))
  local p = assert(io.popen(cmd))
  local t = {}
  for name in p:lines() do
    if name:sub(-#ext) == ext then t[#t + 1] = dir .. "/" .. name end
  end
  p:close()
  table.sort(t)
  return t
end

local function copy(from, to)
  local f = assert(io.open(from, "rb"))
  local data = f:read("a")
  f:close()
  local g = assert(io.open(to, "wb"))
  g:write(data)
  g:close()
end

local function without(t, drop)
  local r = {}
  for _, v in ipairs(t) do
    if not drop[v] then r[#r + 1] = v end
  end
  return r
end

local function append(a, b)
  for _, v in ipairs(b) do a[#a + 1] = v end
  return a
end

-- The engine files socket.ssl.core carries its own copies of (Makefile's SSL_ENGINE).
local SSL_ENGINE = { "buffer", "call", "class", "inet", "options", "sockerr", "timeout", "wait" }

local function sources(what)
  if what == "core" then
    local src = without(list("src", ".c"), { ["src/sock.c"] = true })
    return append(src, without(list("src/os/win", ".c"), { ["src/os/win/wssl.c"] = true })),
      { "luaopen_socket_core", "luaopen_socket_unix", "luaopen_socket_winpipe" }
  elseif what == "mime" then
    return list("src/mime", ".c"), { "luaopen_mime_core" }
  end
  local src = list("src/ssl", ".c")
  for _, n in ipairs(SSL_ENGINE) do src[#src + 1] = "src/" .. n .. ".c" end
  return append(src, { "src/os/win/wposix.c", "src/os/win/wsock.c", "src/os/win/wssl.c" }),
    { "luaopen_socket_ssl_core" }
end

-- The seam a source file is compiled against: the engine's force-include.
local function seam(file, what)
  if file:match("^src/os/win/") or file:match("^src/mime/") then return nil end
  return what == "ssl" and "src/os/win/wssl.h" or "src/os/win/wposix.h"
end

local function build(what, cc, incdir, libdir, lualib, ssldir)
  local msvc = cc:lower():match("cl%.?e?x?e?$") ~= nil
  local dll = ({ core = "socket/core.dll", mime = "mime/core.dll", ssl = "socket/ssl/core.dll" })[what]
  local files, exports = sources(what)
  local objdir = OUT .. "/obj-" .. what
  mkdir(objdir)
  mkdir(OUT .. "/" .. dll:match("^(.*)/"))
  local objs = {}
  for _, f in ipairs(files) do
    local obj = objdir .. "/" .. f:gsub("^src/", ""):gsub("[/\\]", "_"):gsub("%.c$", msvc and ".obj" or ".o")
    objs[#objs + 1] = q(obj)
    local inc = { "-I" .. q(incdir), "-Isrc/os/win/include" }
    if ssldir then inc[#inc + 1] = "-I" .. q(ssldir .. "/include") end
    if f:match("^src/ssl/") then inc[#inc + 1] = "-Isrc" end
    local force = seam(f, what)
    if msvc then
      run(("%s /nologo /O2 /MD /std:c11 /D_WIN32_WINNT=0x0601 %s %s /c %s /Fo%s"):format(cc,
        table.concat(inc, " "):gsub("-I", "/I"), force and "/FI" .. force or "", f, q(obj)))
    else
      local std = f:match("^src/os/win/") and "-std=gnu11" or "-std=c11"
      run(("%s %s -O2 -D_WIN32_WINNT=0x0601 -DWINVER=0x0601 -D__USE_MINGW_ANSI_STDIO=1 %s %s -c %s -o %s")
        :format(cc, std, table.concat(inc, " "), force and "-include " .. force or "", f, q(obj)))
    end
  end
  local def = objdir .. "/exports.def"
  local d = assert(io.open(def, "w"))
  d:write("EXPORTS\n", table.concat(exports, "\n"), "\n")
  d:close()
  local libs = what == "mime" and {} or { "ws2_32", "iphlpapi" }
  if what == "ssl" then libs = { "ssl", "crypto", "crypt32", "ws2_32", "iphlpapi", "gdi32" } end
  if msvc then
    for i, l in ipairs(libs) do libs[i] = (l == "ssl" and "libssl" or l == "crypto" and "libcrypto" or l) .. ".lib" end
    run(("link /nologo /DLL /DEF:%s /OUT:%s %s /LIBPATH:%s %s %s"):format(q(def), q(OUT .. "/" .. dll),
      table.concat(objs, " "), q(libdir), lualib, table.concat(libs, " ")))
  else
    for i, l in ipairs(libs) do libs[i] = "-l" .. l end
    if what ~= "mime" then libs[#libs + 1] = "-Wl,-Bstatic -lwinpthread -Wl,-Bdynamic" end
    local ssllib = ssldir and "-L" .. q(ssldir .. "/lib") or ""
    local lib = lualib:gsub("^lib", ""):gsub("%.dll%.a$", ""):gsub("%.a$", ""):gsub("%.dll$", ""):gsub("%.lib$", "")
    run(("%s -shared -static-libgcc %s %s -o %s -L%s -l%s %s %s"):format(cc, table.concat(objs, " "), q(def),
      q(OUT .. "/" .. dll), q(libdir), lib, ssllib, table.concat(libs, " ")))
  end
  if what == "core" then            -- require looks for these names (mk/windows.mk)
    copy(OUT .. "/socket/core.dll", OUT .. "/socket/unix.dll")
    copy(OUT .. "/socket/core.dll", OUT .. "/socket/winpipe.dll")
  end
end

local function install(what, libdir, luadir)
  if what == "core" then
    for _, dll in ipairs({ "socket/core.dll", "socket/unix.dll", "socket/winpipe.dll", "mime/core.dll" }) do
      mkdir(libdir .. "/" .. dll:match("^(.*)/"))
      copy(OUT .. "/" .. dll, libdir .. "/" .. dll)
    end
    mkdir(luadir .. "/socket")
    for _, f in ipairs(list("lua", ".lua")) do
      local name = f:match("[^/]+$")
      if name ~= "ssl.lua" then copy(f, luadir .. "/" .. name) end
    end
    for _, f in ipairs(list("lua/socket", ".lua")) do
      local name = f:match("[^/]+$")
      if name ~= "ssl.lua" then copy(f, luadir .. "/socket/" .. name) end
    end
  else
    mkdir(libdir .. "/socket/ssl")
    copy(OUT .. "/socket/ssl/core.dll", libdir .. "/socket/ssl/core.dll")
    mkdir(luadir .. "/socket")
    mkdir(luadir .. "/ssl")
    copy("lua/socket/ssl.lua", luadir .. "/socket/ssl.lua")
    copy("lua/ssl.lua", luadir .. "/ssl.lua")
    for _, f in ipairs(list("lua/ssl", ".lua")) do copy(f, luadir .. "/ssl/" .. f:match("[^/]+$")) end
  end
end

local cmd, what = arg[1], arg[2]
if cmd == "build" and (what == "core" or what == "ssl") then
  if what == "core" then build("mime", arg[3], arg[4], arg[5], arg[6]) end
  build(what, arg[3], arg[4], arg[5], arg[6], arg[7])
elseif cmd == "install" and (what == "core" or what == "ssl") then
  install(what, arg[3], arg[4])
else
  io.stderr:write("usage: lua tools/winbuild.lua build core|ssl CC LUA_INCDIR LUA_LIBDIR LUALIB [OPENSSL_DIR]\n",
    "       lua tools/winbuild.lua install core|ssl LIBDIR LUADIR\n")
  os.exit(2)
end
