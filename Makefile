# netsocket — build, test, demo.  `make help` lists the targets.

LUA        ?= lua5.4
CC         ?= cc
PKG_CONFIG ?= pkg-config

# LUA_VERSION, the headers (LUA_CFLAGS) and BUILD (build/ for 5.4,
# build-<LUA>/ for lua5.1 ... luajit) per interpreter: mk/versions.mk.
include mk/versions.mk

WARN     = -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes
OPT     ?= -O2 -g
CFLAGS_ALL = -std=c11 $(OPT) -fPIC -fvisibility=hidden -D_GNU_SOURCE $(WARN) \
             $(LUA_CFLAGS) $(CFLAGS) $(EXTRA_CFLAGS)
LDFLAGS_ALL = -shared $(LDFLAGS) $(EXTRA_LDFLAGS) -pthread

# Every C file in src/ and src/os/ (the POSIX side of the OS seam) is part
# of socket.core (TLS lives in src/ssl/; the Windows twins in src/os/win/).
CORE_SRC = $(sort $(wildcard src/*.c src/os/*.c))
CORE_OBJ = $(CORE_SRC:src/%.c=$(BUILD)/obj/%.o)
CORE_SO  = $(BUILD)/socket/core.so

# Every Lua module but socket.ssl and LuaSec's names (the TLS rock installs those).
SSL_LUA  = lua/socket/ssl.lua lua/ssl.lua $(sort $(wildcard lua/ssl/*.lua))
LUA_MODS = $(filter-out $(SSL_LUA),$(sort $(wildcard lua/*.lua lua/socket/*.lua)))

# socket.ssl.core: TLS over OpenSSL, a library of its own. It links its own
# copies of the engine objects it needs (symbols are hidden per library;
# classes and groups are shared through registry names). The ssl rockspec
# passes OPENSSL_INCDIR/OPENSSL_LIBDIR; otherwise pkg-config finds OpenSSL.
ifdef OPENSSL_INCDIR
HAVE_SSL   := yes
SSL_CFLAGS := -I$(OPENSSL_INCDIR)
SSL_LIBS   := $(if $(OPENSSL_LIBDIR),-L$(OPENSSL_LIBDIR)) -lssl -lcrypto
else
HAVE_SSL   := $(shell $(PKG_CONFIG) --exists openssl 2>/dev/null && \
                test -f "$$($(PKG_CONFIG) --variable=includedir openssl)/openssl/ssl.h" && echo yes)
SSL_CFLAGS := $(shell $(PKG_CONFIG) --cflags openssl 2>/dev/null)
SSL_LIBS   := $(shell $(PKG_CONFIG) --libs openssl 2>/dev/null)
endif
SSL_SRC    = $(sort $(wildcard src/ssl/*.c))
SSL_ENGINE = buffer call class compat httphead inet options sock sockerr timeout wait
SSL_OBJ    = $(SSL_SRC:src/ssl/%.c=$(BUILD)/obj/ssl/%.o) $(SSL_ENGINE:%=$(BUILD)/obj/%.o)
SSL_SO     = $(BUILD)/socket/ssl/core.so
SSL_NOTE   = OpenSSL headers not found: socket.ssl is not built; install libssl-dev (Debian/Ubuntu) or openssl-devel, then run make again

# The suite runs against this tree only: our paths first, then the defaults
# (busted's own modules live there). spec/compat.lua gives the specs on Lua
# 5.1/5.2/LuaJIT the few 5.3 library spellings they use.
TEST_ENV = LUA_PATH='$(CURDIR)/lua/?.lua;$(CURDIR)/spec/?.lua;;$(LUA_PATH_EXTRA)' \
           LUA_CPATH='$(CURDIR)/$(BUILD)/?.so;;$(LUA_CPATH_EXTRA)' NETSOCKET_BUILD='$(CURDIR)/$(BUILD)' \
           NETSOCKET_LUA='$(LUA)' LUA_INIT='@$(CURDIR)/spec/compat.lua'
BUSTED   = busted --lua=$(LUA) --helper=spec/setup.lua

.PHONY: all lib ssl nossl deps test asan demo bench install install-ssl clean help check-lua lint

all: check-lua lib $(if $(HAVE_SSL),ssl,nossl)

lib: $(CORE_SO)

# Installs missing Debian packages (lua, busted, luarocks, ...) via apt-get.
deps:
	@sh scripts/deps.sh $(LUA_NAME)

check-lua: $(LUA_TOOLCHAIN)
	@test -n "$(LUA_CFLAGS)" || sh scripts/deps.sh $(LUA_NAME)
	$(eval LUA_CFLAGS := $(LUA_CFLAGS_NOW))

$(BUILD)/obj/%.o: src/%.c src/*.h src/os/*.h $(LUA_STAMP)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_ALL) -c $< -o $@

# socket.unix lives in core.so too (one library: shared classes and select
# fast path); require("socket.unix") finds it through this link.
$(CORE_SO): $(CORE_OBJ)
	@mkdir -p $(@D)
	$(CC) $(CORE_OBJ) $(LDFLAGS_ALL) -o $@
	ln -sf core.so $(@D)/unix.so

ifeq ($(HAVE_SSL),yes)
ssl: $(SSL_SO)
else
ssl:
	@echo "make ssl: $(SSL_NOTE)" >&2; exit 1
endif

nossl:
	@echo "note: $(SSL_NOTE)"

$(BUILD)/obj/ssl/%.o: src/ssl/%.c src/ssl/*.h src/*.h $(LUA_STAMP)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_ALL) -Isrc $(SSL_CFLAGS) -c $< -o $@

$(SSL_SO): $(SSL_OBJ)
	@mkdir -p $(@D)
	$(CC) $(SSL_OBJ) $(LDFLAGS_ALL) $(SSL_LIBS) -o $@

test: deps all
	@$(TEST_ENV) sh scripts/run-specs.sh $(BUSTED) spec

# Same suite, module built with AddressSanitizer + UBSan, run by an
# interpreter linked with the same runtimes (tools/asan_lua.c).
ASAN_FLAGS = -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
asan: deps
	@$(MAKE) --no-print-directory BUILD=build-asan OPT='-O1 -g' \
	    EXTRA_CFLAGS='$(ASAN_FLAGS)' EXTRA_LDFLAGS='$(ASAN_FLAGS)' all build-asan/lua
	@$(MAKE) --no-print-directory BUILD=build-asan asan-run

build-asan/lua: tools/asan_lua.c
	@mkdir -p $(@D)
	$(CC) -std=c11 -O1 -g $(WARN) $(ASAN_FLAGS) $(LUA_CFLAGS) $< -o $@ \
	    $$($(PKG_CONFIG) --libs $(LUA_PC))

asan-run:
	@$(TEST_ENV) NETSOCKET_LUA=$(CURDIR)/build-asan/lua \
	    ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	    sh scripts/run-specs.sh busted --lua=$(CURDIR)/build-asan/lua --helper=spec/setup.lua spec

demo: deps all
	@$(TEST_ENV) $(LUA) samples/demo.lua

# Benchmarks (bench/, doc/performance.md): netsocket vs Debian's LuaSocket vs
# plain C, interleaved. QUICK=1 for a short run; WORKLOADS="bulk lines" for
# a subset (WORKLOADS=httpd: socket.httpd against nginx + Lua, bench/httpd.lua).
# bench/setup.sh installs the baselines and gnuplot (apt-get).
BENCH_C = peer bulk lines all pingpong accept select udp loadgen epoll_server \
          $(if $(HAVE_SSL),tls_peer tls_bulk tls_handshake)
$(BUILD)/bench/%: bench/c/%.c bench/c/*.h
	@mkdir -p $(@D)
	$(CC) -std=c11 -O2 -g $(WARN) $(if $(findstring tls_,$*),$(SSL_CFLAGS)) $< -o $@ \
	    $(if $(findstring tls_,$*),$(SSL_LIBS))

bench: check-lua lib $(BENCH_C:%=$(BUILD)/bench/%)
	@sh bench/setup.sh
	@ulimit -n 20000 2>/dev/null || ulimit -n $$(ulimit -Hn) 2>/dev/null; \
	    LUA=$(LUA) $(LUA) bench/run.lua $(CURDIR) $(BUILD) $(if $(QUICK),1,0) $(WORKLOADS); \
	if [ -z "$(WORKLOADS)" ] || echo " $(WORKLOADS) " | grep -q " httpd "; then \
	    LUA=$(LUA) $(LUA) bench/httpd.lua $(CURDIR) $(BUILD) $(if $(QUICK),1,0); fi

# Static checks: luacheck over the Lua code (settings in .luacheckrc), and
# cppcheck over src/ (justified exceptions in .cppcheck-suppressions).
CPPCHECK_FLAGS = --error-exitcode=1 --enable=warning,style,performance,portability \
    --std=c11 --library=posix --library=gnu --library=lua --library=openssl \
    --force --inline-suppr --quiet --suppressions-list=.cppcheck-suppressions -I src
lint: deps
	luacheck --no-color -q lua spec samples fuzz
	cppcheck $(CPPCHECK_FLAGS) src

# luarocks (build.type = "make") calls `make lib` then `make install`.
INST_LIBDIR ?= /usr/local/lib/lua/$(LUA_VERSION)
INST_LUADIR ?= /usr/local/share/lua/$(LUA_VERSION)
install: lib
	install -d $(INST_LIBDIR)/socket $(INST_LUADIR)
	install -m 755 $(CORE_SO) $(INST_LIBDIR)/socket/core.so
	ln -sf core.so $(INST_LIBDIR)/socket/unix.so
	install -d $(INST_LUADIR)/socket
	for m in $(LUA_MODS:lua/%=%); do install -m 644 lua/$$m $(INST_LUADIR)/$$m || exit 1; done

# The TLS rock (netsocket-ssl-scm-1.rockspec): `make ssl` then this.
# socket.ssl, and LuaSec's module names over it (ssl, ssl.https,
# ssl.context, ssl.x509, ssl.config: doc/migration.md).
install-ssl: ssl
	install -d $(INST_LIBDIR)/socket/ssl $(INST_LUADIR)/socket $(INST_LUADIR)/ssl
	install -m 755 $(SSL_SO) $(INST_LIBDIR)/socket/ssl/core.so
	for m in $(SSL_LUA:lua/%=%); do install -m 644 lua/$$m $(INST_LUADIR)/$$m || exit 1; done

clean:
	rm -rf build build-asan build-rock build-rock-ssl build-fuzz

# Each larger piece of tooling (fuzzing, soak, valgrind, the support
# modules' C core) keeps its targets in a fragment of its own.
-include $(filter-out mk/versions.mk,$(sort $(wildcard mk/*.mk)))

help:
	@echo "make          build $(CORE_SO) and, with OpenSSL headers, $(SSL_SO)"
	@echo "make ssl      build $(SSL_SO) only (needs libssl-dev)"
	@echo "make demo     build, then run an echo server and client over loopback"
	@echo "make test     build, then run the whole suite (installs Debian deps if missing)"
	@echo "make LUA=lua5.1  (lua5.2 lua5.3 lua5.4 lua5.5 luajit) build for that Lua into build-lua5.1/"
	@echo "make test-all the suite on every Lua; make env LUA=...: export lines that load that build"
	@echo "make asan     the suite under AddressSanitizer + UBSan"
	@echo "make lint     luacheck over lua/ spec/ samples/, cppcheck over src/"
	@echo "make bench    netsocket vs LuaSocket vs C (bench/; QUICK=1 for a short run)"
	@echo "make fuzz     each libFuzzer target FUZZ_TIME s (fuzz-ci: 20 s each, from the seeds)"
	@echo "make soak     cosocket echo server under 1,000 clients, SOAK_TIME s (soak-ci: 20 s)"
	@echo "make valgrind the suite under valgrind memcheck"
	@echo "make install  install the core, mime and the Lua modules into INST_LIBDIR / INST_LUADIR"
	@echo "make install-ssl  install socket.ssl and LuaSec's module names (ssl, ssl.https, ...) there too"
