rockspec_format = "3.0"
package = "netsocket"
version = "1.0.0-1"
source = {
   -- make dist packs the tree at a commit into this archive, beside the
   -- rockspec in the .src.rock, so installing needs no network
   url = "netsocket-1.0.0.tar.gz",
   dir = "netsocket-1.0.0",
}
description = {
   summary = "TCP/UDP/unix sockets for Lua 5.1-5.5 and LuaJIT, a drop-in for LuaSocket 3.x",
   detailed = [[
netsocket gives `require("socket")` with LuaSocket 3.x names, results and
error strings, on poll() instead of select() (no 1024-descriptor limit),
with monotonic timeouts and integer results. This rock is the core; TLS is
the separate netsocket-ssl rock.
]],
   license = "MIT",
}
dependencies = {
   "lua >= 5.1, < 5.6",
}
build = {
   type = "make",
   build_target = "lib",
   build_variables = {
      CFLAGS = "$(CFLAGS)",
      LUA_INCDIR = "$(LUA_INCDIR)",
      LUA = "$(LUA)",
      BUILD = "build-rock",
   },
   install_variables = {
      INST_LIBDIR = "$(LIBDIR)",
      INST_LUADIR = "$(LUADIR)",
      LUA = "$(LUA)",
      BUILD = "build-rock",
   },
   -- Windows (MSYS2/mingw-w64; MSVC on paper): no GNU make there, so
   -- tools/winbuild.lua compiles and installs (doc/windows.md).
   platforms = {
      windows = {
         type = "command",
         build_command = [[$(LUA) tools/winbuild.lua build core "$(CC)" "$(LUA_INCDIR)" "$(LUA_LIBDIR)" "$(LUALIB)"]],
         install_command = [[$(LUA) tools/winbuild.lua install core "$(LIBDIR)" "$(LUADIR)"]],
      },
   },
}
-- The suite needs the build tree in its child processes' environment too,
-- which `make test` sets up; `luarocks test` runs exactly that.
test = {
   type = "command",
   command = "make test",
}
