rockspec_format = "3.0"
package = "netsocket-ssl"
version = "scm-1"
source = {
   url = "git+file:///dev/null",
}
description = {
   summary = "TLS for netsocket: require('socket.ssl'), LuaSec-compatible, secure by default",
   detailed = [[
socket.ssl keeps LuaSec's API (newcontext, wrap, dohandshake, receive/send
with every LuaSocket pattern, X509 objects) over OpenSSL 3, and changes its
defaults: clients verify the peer against the system CA store and check the
host name, SNI is sent automatically, TLS 1.2 is the minimum. Adds
ssl.connect, STARTTLS (client:starttls, conn:stoptls) and TLS servers
(server:setssl). Also installs LuaSec's module names over it: ssl,
ssl.https, ssl.context, ssl.x509, ssl.config. Beside LuaSec in one tree,
luarocks gives ssl and ssl.https to LuaSec and the other names follow
(doc/migration.md). Needs the netsocket core rock.
]],
   license = "MIT",
}
dependencies = {
   "lua >= 5.1, < 5.6",
   "netsocket",
}
external_dependencies = {
   OPENSSL = {
      header = "openssl/ssl.h",
      library = "ssl",
   },
}
build = {
   type = "make",
   build_target = "ssl",
   build_variables = {
      CFLAGS = "$(CFLAGS)",
      LUA_INCDIR = "$(LUA_INCDIR)",
      LUA = "$(LUA)",
      OPENSSL_INCDIR = "$(OPENSSL_INCDIR)",
      OPENSSL_LIBDIR = "$(OPENSSL_LIBDIR)",
      BUILD = "build-rock-ssl",
   },
   install_target = "install-ssl",
   install_variables = {
      INST_LIBDIR = "$(LIBDIR)",
      INST_LUADIR = "$(LUADIR)",
      LUA = "$(LUA)",
      OPENSSL_INCDIR = "$(OPENSSL_INCDIR)",
      OPENSSL_LIBDIR = "$(OPENSSL_LIBDIR)",
      BUILD = "build-rock-ssl",
   },
   -- Windows (MSYS2/mingw-w64; MSVC on paper): no GNU make there, so
   -- tools/winbuild.lua compiles and installs (doc/windows.md).
   platforms = {
      windows = {
         type = "command",
         build_command = [[$(LUA) tools/winbuild.lua build ssl "$(CC)" "$(LUA_INCDIR)" "$(LUA_LIBDIR)" "$(LUALIB)" "$(OPENSSL_DIR)"]],
         install_command = [[$(LUA) tools/winbuild.lua install ssl "$(LIBDIR)" "$(LUADIR)"]],
      },
   },
}
test = {
   type = "command",
   command = "make test",
}
