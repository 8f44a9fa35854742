# Windows (issue 16, doc/windows.md): cross-built with Debian's mingw-w64,
# run under Debian's wine64. `make windows` builds into build/win64/:
#   bin/lua.exe, bin/lua54.dll        Lua 5.4 (shared/lua tarball or Debian's source)
#   lib/lua/5.4/{socket,mime}/core.dll, socket/ssl/core.dll
#   share/lua/5.4/                    our Lua modules (and busted's, for the tests)
# Sources and the OpenSSL build are cached in build/win64-src/ (the
# OpenSSL libraries are built once: a second `make windows` reuses them).

WIN       = build/win64
WIN_SRC   = build/win64-src
WIN_HOST  = x86_64-w64-mingw32
WIN_CC    = $(WIN_HOST)-gcc
WIN_STRIP = $(WIN_HOST)-strip
WIN_LUAV  = 5.4
WIN_BIN   = $(WIN)/bin
WIN_CMOD  = $(WIN)/lib/lua/$(WIN_LUAV)
WIN_LMOD  = $(WIN)/share/lua/$(WIN_LUAV)
WIN_OBJ   = $(WIN)/obj
WINE     ?= /usr/lib/wine/wine64
WINE_ENV  = WINEDEBUG=-all WINEDLLOVERRIDES='mscoree,mshtml='
# Wine maps the host's / to drive Z:.
WIN_PATH  = Z:$(subst /,\,$(CURDIR))

# Windows Vista+ API (WSAPoll, InitOnceExecuteOnce, inet_pton); the C
# runtime's printf family, not msvcrt's, for C99 formats.
WIN_DEFS   = -D_WIN32_WINNT=0x0601 -DWINVER=0x0601 -D__USE_MINGW_ANSI_STDIO=1
WIN_CFLAGS = -std=c11 -O2 -g $(WIN_DEFS) $(WARN) -I$(WIN_SRC)/lua
WIN_MODLD  = -shared -L$(WIN_BIN) -llua54 -static-libgcc

.PHONY: windows windows-deps windows-lua windows-openssl windows-busted windows-mime windows-certs demo-windows windows-rock \
        windows-core windows-ssl windows-lmods test-windows clean-windows

windows: windows-deps windows-lua windows-mime windows-core windows-ssl windows-lmods

windows-deps:
	@sh scripts/windows-deps.sh $(WIN_SRC)

# ---- Lua: lua54.dll holds the core and the libraries; lua.exe links it.
WIN_LUA_LIB = lapi lcode lctype ldebug ldo ldump lfunc lgc llex lmem lobject lopcodes \
              lparser lstate lstring ltable ltm lundump lvm lzio lauxlib lbaselib \
              lcorolib ldblib liolib lmathlib loadlib loslib lstrlib ltablib lutf8lib linit
windows-lua: windows-deps $(WIN_BIN)/lua.exe

# The sources appear when windows-deps has run (make -j must not look first);
# precious: make would delete them as intermediate files of this rule.
$(WIN_SRC)/lua/%.c: | windows-deps ;
.PRECIOUS: $(WIN_SRC)/lua/%.c

$(WIN_OBJ)/lua/%.o: $(WIN_SRC)/lua/%.c
	@mkdir -p $(@D)
	$(WIN_CC) -O2 -std=gnu99 -DLUA_COMPAT_5_3 -DLUA_BUILD_AS_DLL -c $< -o $@

$(WIN_BIN)/lua54.dll: $(WIN_LUA_LIB:%=$(WIN_OBJ)/lua/%.o)
	@mkdir -p $(@D)
	$(WIN_CC) -shared -static-libgcc $^ -o $@
	$(WIN_STRIP) --strip-unneeded $@

$(WIN_BIN)/lua.exe: $(WIN_SRC)/lua/lua.c $(WIN_BIN)/lua54.dll
	$(WIN_CC) -O2 -std=gnu99 -DLUA_COMPAT_5_3 $< -o $@ -L$(WIN_BIN) -llua54 -static-libgcc
	$(WIN_STRIP) $@

# ---- OpenSSL from Debian's source package, static, built once. The
# libraries and headers are copied out so the source tree can be refreshed.
# Its directories are under C:\Program Files\OpenSSL, writable by
# administrators only: mingw's default, /usr/local, is \usr\local on the
# current drive for a Windows program, where any user may create the
# openssl.cnf (which loads modules) and the cert.pem that OpenSSL reads
# (CVE-2019-1552). (The openssldir is given relative to the prefix:
# cross-building, Configure takes a C:/ path for a relative one.) The
# cache's name changes with them.
WIN_SSL = build/win64-openssl-pf
WIN_SSL_DIRS = '--prefix=C:/Program Files/OpenSSL' --openssldir=SSL
windows-openssl: windows-deps $(WIN_SSL)/lib/libssl.a

$(WIN_SSL)/lib/libssl.a:
	@echo "windows: building OpenSSL with mingw (a few minutes, once)"
	cd $(WIN_SRC)/openssl && ./Configure mingw64 --cross-compile-prefix=$(WIN_HOST)- \
	    $(WIN_SSL_DIRS) no-shared no-tests >/dev/null && $(MAKE) -s clean >/dev/null && \
	    $(MAKE) -s build_libs >/dev/null
	@mkdir -p $(WIN_SSL)/lib $(WIN_SSL)/include
	cp $(WIN_SRC)/openssl/libssl.a $(WIN_SRC)/openssl/libcrypto.a $(WIN_SSL)/lib/
	cp -r $(WIN_SRC)/openssl/include/openssl $(WIN_SSL)/include/

# ---- busted and its dependencies, to run the suite under Wine: the C
# modules cross-built from Debian's sources (lua-system, when its source
# cannot be had, from tools/win_system.c: the three calls busted makes),
# the pure Lua modules copied from Debian's installed files.
WIN_BUSTED_LUA = busted busted.lua pl luassert say cliargs cliargs.lua mediator.lua dkjson.lua \
                 term system
windows-busted: windows-lua $(WIN_CMOD)/lfs.dll $(WIN_CMOD)/term/core.dll \
                $(WIN_CMOD)/system/core.dll $(WIN_LMOD)/busted/runner.lua $(WIN)/busted-run.lua

$(WIN_CMOD)/lfs.dll: $(WIN_BIN)/lua54.dll
	@mkdir -p $(@D)
	$(WIN_CC) -O2 -I$(WIN_SRC)/lua $(WIN_SRC)/lfs/src/lfs.c $(WIN_MODLD) -o $@

$(WIN_CMOD)/term/core.dll: $(WIN_BIN)/lua54.dll
	@mkdir -p $(@D)
	$(WIN_CC) -O2 -I$(WIN_SRC)/lua $(WIN_SRC)/term/core.c $(WIN_MODLD) -o $@

$(WIN_CMOD)/system/core.dll: $(WIN_BIN)/lua54.dll tools/win_system.c
	@mkdir -p $(@D)
	if [ -d $(WIN_SRC)/system/src ]; then \
	    $(WIN_CC) -O2 -I$(WIN_SRC)/lua $(WIN_SRC)/system/src/*.c $(WIN_MODLD) -o $@; \
	else \
	    $(WIN_CC) $(WIN_CFLAGS) tools/win_system.c $(WIN_MODLD) -o $@; fi

$(WIN_LMOD)/busted/runner.lua:
	@mkdir -p $(WIN_LMOD)
	cd /usr/share/lua/$(WIN_LUAV) && cp -rL $(WIN_BUSTED_LUA) $(CURDIR)/$(WIN_LMOD)/

# busted's launcher, minus the #! line (not in bin/: lua.exe looks for
# modules there first, and require("busted") would find it).
$(WIN)/busted-run.lua: /usr/bin/busted
	grep -v '^#!' $< > $@

# ---- our modules
WIN_LMODS = $(LUA_MODS:lua/%=$(WIN_LMOD)/%) $(WIN_LMOD)/socket/ssl.lua
windows-lmods: $(WIN_LMODS)
$(WIN_LMOD)/%.lua: lua/%.lua
	@mkdir -p $(@D)
	cp $< $@

WIN_MIME_OBJ = $(MIME_SRC:src/mime/%.c=$(WIN_OBJ)/mime/%.o)
windows-mime: windows-lua $(WIN_CMOD)/mime/core.dll
$(WIN_OBJ)/mime/%.o: src/mime/%.c src/mime/*.h src/class.h
	@mkdir -p $(@D)
	$(WIN_CC) $(WIN_CFLAGS) -c $< -o $@
$(WIN_CMOD)/mime/core.dll: $(WIN_MIME_OBJ) $(WIN_BIN)/lua54.dll
	@mkdir -p $(@D)
	$(WIN_CC) $(WIN_MIME_OBJ) $(WIN_MODLD) -o $@

# ---- socket.core: the engine files unchanged, src/sock.c and src/os/*.c
# (the POSIX side of the seam) replaced by their
# Winsock twin, compiled against the Windows side of the OS seam
# (src/os/win/wposix.h, force-included; stand-ins for the POSIX headers).
WIN_OS_SRC   = $(filter-out src/os/win/wssl.c,$(sort $(wildcard src/os/win/*.c)))
WIN_CORE_SRC = $(filter-out src/sock.c src/os/%.c,$(CORE_SRC))
WIN_CORE_OBJ = $(WIN_CORE_SRC:src/%.c=$(WIN_OBJ)/%.o) $(WIN_OS_SRC:src/os/win/%.c=$(WIN_OBJ)/os/%.o)
WIN_SEAM     = -Isrc/os/win/include -include src/os/win/wposix.h
WIN_SYSLIBS  = -lws2_32 -liphlpapi -Wl,-Bstatic -lwinpthread -Wl,-Bdynamic
windows-core: windows-lua $(WIN_CMOD)/socket/core.dll

$(WIN_OBJ)/%.o: src/%.c src/*.h src/os/*.h src/os/win/wposix.h
	@mkdir -p $(@D)
	$(WIN_CC) $(WIN_CFLAGS) $(WIN_SEAM) -c $< -o $@
# The twins use the C runtime's _close, _read, ...: gnu11. No -Isrc: src/io.h
# would hide the system's <io.h> (they include the engine headers by path).
$(WIN_OBJ)/os/%.o: src/os/win/%.c src/os/win/wposix.h src/*.h src/os/*.h
	@mkdir -p $(@D)
	$(WIN_CC) $(WIN_CFLAGS) -std=gnu11 -Isrc/os/win/include -c $< -o $@
# Only the luaopen functions are exported (ld would export every global).
# require("socket.unix") looks for socket/unix.dll, and socket.pipe for
# socket/winpipe.dll (Windows named pipes, src/os/win/wpipe.c): copies of
# core.dll (a link would not do: Windows would still load it as a module of
# its own).
$(WIN_CMOD)/socket/core.dll: $(WIN_CORE_OBJ) $(WIN_BIN)/lua54.dll
	@mkdir -p $(@D)
	printf 'EXPORTS\nluaopen_socket_core\nluaopen_socket_unix\nluaopen_socket_winpipe\n' > $(WIN_OBJ)/core.def
	$(WIN_CC) $(WIN_CORE_OBJ) $(WIN_OBJ)/core.def $(WIN_MODLD) $(WIN_SYSLIBS) -o $@
	cp $@ $(@D)/unix.dll
	cp $@ $(@D)/winpipe.dll

# ---- socket.ssl.core: src/ssl/ over the static mingw OpenSSL, with its
# own copies of the engine objects (as on Linux) and wssl.h as its seam.
WIN_SSL_OBJ = $(SSL_SRC:src/ssl/%.c=$(WIN_OBJ)/ssl/%.o) \
              $(patsubst %,$(WIN_OBJ)/%.o,$(filter-out sock,$(SSL_ENGINE))) \
              $(WIN_OBJ)/os/wposix.o $(WIN_OBJ)/os/wsock.o $(WIN_OBJ)/os/wssl.o
windows-ssl: windows-lua windows-openssl $(WIN_CMOD)/socket/ssl/core.dll

$(WIN_OBJ)/ssl/%.o: src/ssl/%.c src/ssl/*.h src/*.h src/os/win/wssl.h src/os/win/wposix.h $(WIN_SSL)/lib/libssl.a
	@mkdir -p $(@D)
	$(WIN_CC) $(WIN_CFLAGS) -iquote src -I$(WIN_SSL)/include -Isrc/os/win/include \
	    -include src/os/win/wssl.h -c $< -o $@
$(WIN_OBJ)/os/wssl.o: src/os/win/wssl.c src/os/win/wssl.h $(WIN_SSL)/lib/libssl.a
	@mkdir -p $(@D)
	$(WIN_CC) $(WIN_CFLAGS) -std=gnu11 -I$(WIN_SSL)/include -Isrc/os/win/include -c $< -o $@
$(WIN_CMOD)/socket/ssl/core.dll: $(WIN_SSL_OBJ) $(WIN_BIN)/lua54.dll
	@mkdir -p $(@D)
	printf 'EXPORTS\nluaopen_socket_ssl_core\n' > $(WIN_OBJ)/ssl.def
	$(WIN_CC) $(WIN_SSL_OBJ) $(WIN_OBJ)/ssl.def $(WIN_MODLD) -L$(WIN_SSL)/lib -lssl -lcrypto \
	    -lcrypt32 $(WIN_SYSLIBS) -lgdi32 -o $@

# ---- tests: busted under Wine, from the checkout (specs read files
# relative to it). WIN_SPECS picks what runs; WIN_HELPER= runs without
# spec/setup.lua (which needs socket.core); tests tagged #linux (Linux-only
# facilities) are left out.
WIN_SPECS  ?= spec
# One busted per spec file, each bounded (scripts/run-specs.sh): a file that
# hangs or crashes under Wine counts as one failure and the run goes on.
# spec/doc_spec.lua (205 tests) takes about 70 s alone under Wine, and
# went past 120 s with other builds running on this two-core machine.
WIN_SPEC_TIMEOUT ?= 240
WIN_HELPER ?= spec/setup.lua
WIN_EXCLUDE_TAGS ?= linux
WIN_DOS     = $(WIN_PATH)\$(subst /,\,$(1))
# The specs' paths use forward slashes (Windows takes them), so that the
# specs' "<root>/build" arithmetic holds: NETSOCKET_BUILD is Z:<root>/build.
WIN_FWD     = Z:$(CURDIR)
WIN_TESTENV = $(WINE_ENV) LUA_PATH='$(WIN_FWD)/lua/?.lua;$(WIN_FWD)/spec/?.lua;;' \
              LUA_CPATH='$(WIN_FWD)/$(WIN_CMOD)/?.dll;;' NETSOCKET_BUILD='$(WIN_FWD)/build' \
              NETSOCKET_LUA='$(call WIN_DOS,$(WIN_BIN)/lua.exe)'
# The TLS specs' certificates are made on the Linux side (no openssl CLI
# under Wine) by spec/ssl_helper.lua itself, fresh for each run (some expire).
WIN_CERTS = $(WIN)/certs
windows-certs: all
	@rm -rf $(WIN_CERTS) && mkdir -p $(WIN_CERTS)
	@$(TEST_ENV) $(LUA) spec/windows/mkcerts.lua $(WIN_CERTS)
# The specs' temporary files (spec/helper.lua's H.tmpname: %TEMP%\ns<n>-<n>.*),
# removed after the run: not every spec removes what os.tmpname made.
WIN_TEMP = $${WINEPREFIX:-$$HOME/.wine}/drive_c/users/$$(id -un)/Temp
# One wineserver for the whole run (-p: it stays 30 s after its last
# client), so no spec's start races one that is shutting down.
WINESERVER ?= /usr/lib/wine/wineserver64
test-windows: windows windows-busted windows-certs
	@$(WINESERVER) -p30 2>/dev/null || true
	@$(WIN_TESTENV) NETSOCKET_CERTS='$(call WIN_DOS,$(WIN_CERTS))' \
	    $(if $(filter 1,$(words $(WIN_SPECS))),SPEC_TIMEOUT=$(WIN_SPEC_TIMEOUT)) sh scripts/run-specs.sh \
	    $(WINE) $(WIN_BIN)/lua.exe $(WIN)/busted-run.lua \
	    $(if $(WIN_HELPER),--helper=$(WIN_HELPER)) --exclude-tags=$(WIN_EXCLUDE_TAGS) $(WIN_SPECS); \
	rc=$$?; $(TEST_ENV) sh scripts/windows-skips.sh $(WIN_EXCLUDE_TAGS) $(WIN_SPECS); \
	rm -rf $(WIN_TEMP)/ns[0-9]*; exit $$rc

clean-windows:
	rm -rf $(WIN) $(WIN_SSL)

# ---- the demo's echo, daytime, named-pipe and TLS steps under Wine
# (samples/demo.lua). tls_echo.lua finds its certificate already made: there
# is no openssl tool under Wine.
WIN_DEMO_TLS = $(WIN)/demo-tls
demo-windows: windows
	@rm -rf $(WIN_DEMO_TLS) && mkdir -p $(WIN_DEMO_TLS)
	@openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 30 \
	    -subj /CN=localhost -addext subjectAltName=DNS:localhost,IP:127.0.0.1 \
	    -keyout $(WIN_DEMO_TLS)/key.pem -out $(WIN_DEMO_TLS)/cert.pem 2>/dev/null
	@$(WIN_TESTENV) TLS_ECHO_DIR='$(call WIN_DOS,$(WIN_DEMO_TLS))' \
	    $(WINE) $(WIN_BIN)/lua.exe samples/demo.lua echo daytime pipe tls

# ---- the rockspecs' Windows build (tools/winbuild.lua: no GNU make there),
# run with the cross compiler into a fresh tree, then loaded under Wine.
WIN_ROCK = $(WIN)/rock
windows-rock: windows
	@rm -rf build-rock $(WIN_ROCK)
	@lua5.4 tools/winbuild.lua build core $(WIN_CC) $(WIN_SRC)/lua $(WIN_BIN) lua54 >/dev/null
	@lua5.4 tools/winbuild.lua build ssl $(WIN_CC) $(WIN_SRC)/lua $(WIN_BIN) lua54 $(WIN_SSL) >/dev/null
	@lua5.4 tools/winbuild.lua install core $(WIN_ROCK)/lib $(WIN_ROCK)/lua
	@lua5.4 tools/winbuild.lua install ssl $(WIN_ROCK)/lib $(WIN_ROCK)/lua
	@rm -rf build-rock
	@$(WINE_ENV) LUA_PATH='$(call WIN_DOS,$(WIN_ROCK))\lua\?.lua;;' \
	    LUA_CPATH='$(call WIN_DOS,$(WIN_ROCK))\lib\?.dll;;' $(WINE) $(WIN_BIN)/lua.exe spec/windows/rockcheck.lua
