# netsocket — build, test, demo.  `make help` lists the targets.

LUA        ?= lua5.4
LUA_VERSION = 5.4
CC         ?= cc
PKG_CONFIG ?= pkg-config
BUILD      ?= build

# luarocks passes LUA_INCDIR; otherwise ask pkg-config.
ifdef LUA_INCDIR
LUA_CFLAGS := -I$(LUA_INCDIR)
else
LUA_CFLAGS := $(shell $(PKG_CONFIG) --cflags lua$(LUA_VERSION) 2>/dev/null)
endif

WARN     = -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes
OPT     ?= -O2 -g
CFLAGS_ALL = -std=c11 $(OPT) -fPIC -fvisibility=hidden -D_GNU_SOURCE $(WARN) \
             $(LUA_CFLAGS) $(CFLAGS) $(EXTRA_CFLAGS)
LDFLAGS_ALL = -shared $(LDFLAGS) $(EXTRA_LDFLAGS) -pthread

# Every C file in src/ is part of socket.core (TLS lives in src/ssl/).
CORE_SRC = $(sort $(wildcard src/*.c))
CORE_OBJ = $(CORE_SRC:src/%.c=$(BUILD)/obj/%.o)
CORE_SO  = $(BUILD)/socket/core.so

LUA_MODS = lua/socket.lua lua/socket/dns.lua lua/socket/pipe.lua

# The suite runs against this tree only: our paths first, then the defaults
# (busted's own modules live there).
TEST_ENV = LUA_PATH='$(CURDIR)/lua/?.lua;$(CURDIR)/spec/?.lua;;' \
           LUA_CPATH='$(CURDIR)/$(BUILD)/?.so;;' NETSOCKET_BUILD='$(CURDIR)/$(BUILD)'
BUSTED   = busted --lua=$(LUA) --helper=spec/setup.lua

.PHONY: all lib deps test asan demo bench install clean help check-lua

all: check-lua lib

lib: $(CORE_SO)

# Installs missing Debian packages (lua, busted, luarocks, ...) via apt-get.
deps:
	@sh scripts/deps.sh

check-lua:
	@test -n "$(LUA_CFLAGS)" || sh scripts/deps.sh
	$(eval LUA_CFLAGS := $(shell $(PKG_CONFIG) --cflags lua$(LUA_VERSION)))

$(BUILD)/obj/%.o: src/%.c src/*.h
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_ALL) -c $< -o $@

# socket.unix lives in core.so too (one library: shared classes and select
# fast path); require("socket.unix") finds it through this link.
$(CORE_SO): $(CORE_OBJ)
	@mkdir -p $(@D)
	$(CC) $(CORE_OBJ) $(LDFLAGS_ALL) -o $@
	ln -sf core.so $(@D)/unix.so

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
	    $$($(PKG_CONFIG) --libs lua$(LUA_VERSION))

asan-run:
	@$(TEST_ENV) NETSOCKET_LUA=$(CURDIR)/build-asan/lua \
	    ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	    sh scripts/run-specs.sh busted --lua=$(CURDIR)/build-asan/lua --helper=spec/setup.lua spec

demo: deps all
	@$(TEST_ENV) $(LUA) samples/demo.lua

# luarocks (build.type = "make") calls `make lib` then `make install`.
INST_LIBDIR ?= /usr/local/lib/lua/$(LUA_VERSION)
INST_LUADIR ?= /usr/local/share/lua/$(LUA_VERSION)
install: lib
	install -d $(INST_LIBDIR)/socket $(INST_LUADIR)
	install -m 755 $(CORE_SO) $(INST_LIBDIR)/socket/core.so
	ln -sf core.so $(INST_LIBDIR)/socket/unix.so
	install -d $(INST_LUADIR)/socket
	install -m 644 lua/socket.lua $(INST_LUADIR)/socket.lua
	install -m 644 lua/socket/dns.lua $(INST_LUADIR)/socket/dns.lua
	install -m 644 lua/socket/pipe.lua $(INST_LUADIR)/socket/pipe.lua

clean:
	rm -rf build build-asan build-rock

help:
	@echo "make          build $(CORE_SO)"
	@echo "make demo     build, then run an echo server and client over loopback"
	@echo "make test     build, then run the whole suite (installs Debian deps if missing)"
	@echo "make asan     the suite under AddressSanitizer + UBSan"
	@echo "make install  install into INST_LIBDIR / INST_LUADIR"
