# One source, every Lua (issue 15): LUA=lua5.1, lua5.2, lua5.3, lua5.4 (the
# default), lua5.5 or luajit picks the interpreter, its headers and a build
# directory of its own, so that builds for different versions live side by
# side: build/ for 5.4 (as always), build-<LUA>/ for the others (beside
# it, so that the specs find the checkout as their build's parent).
#   make LUA=lua5.1          build for 5.1 into build-lua5.1/
#   make test LUA=luajit     the whole suite on LuaJIT
#   make test-all            the suite on every version, then one summary
#   make env LUA=lua5.3      two `export` lines that point that interpreter
#                            at this build tree (README: "Try a build")
# The Makefile includes this file first (before its rules use BUILD).
# Lua 5.5 is not in Debian 12: scripts/lua55.sh builds it (and busted's C
# modules for it) into build-deps/lua5.5, which `make clean` keeps.

LUA_NAME := $(notdir $(LUA))
LUA_ALL   = lua5.1 lua5.2 lua5.3 lua5.4 lua5.5 luajit

# LUA_VERSION names the module ABI (lib/lua/5.1 ...; LuaJIT is 5.1's);
# LUA_PC is the pkg-config package with the headers.
ifeq ($(LUA_NAME),luajit)
LUA_VERSION := 5.1
LUA_PC      := luajit
else ifneq ($(filter lua5.%,$(LUA_NAME)),)
LUA_VERSION := $(patsubst lua%,%,$(LUA_NAME))
LUA_PC      := $(LUA_NAME)
else
LUA_VERSION := $(or $(shell $(LUA) -e 'print((_VERSION:gsub("Lua ", "")))' 2>/dev/null),5.4)
LUA_PC      := lua$(LUA_VERSION)
endif

BUILD ?= $(if $(filter lua5.4,$(LUA_NAME)),build,build-$(LUA_NAME))

# Off 5.4, the suite (one busted, as on 5.4) is bounded by SUITE_TIMEOUT
# seconds (scripts/run-specs.sh): a hang there fails the run, naming the
# test that hung, instead of blocking `make test-all` (and CI) for good.
# (The suite takes about as long as on 5.4; the bound leaves room for a
# loaded machine.)
ifneq ($(LUA_NAME),lua5.4)
SUITE_TIMEOUT ?= 1200
export SUITE_TIMEOUT
endif

# Lua 5.5: the interpreter, headers and C modules scripts/lua55.sh made
# (from ../shared/lua/lua-5.5.0.tar.gz, or from the lua5.5 on PATH). Its
# bin/ goes first on PATH for every recipe, so `lua5.5` names it there.
LUA55_DIR := $(CURDIR)/build-deps/lua5.5
ifeq ($(LUA_NAME),lua5.5)
export PATH := $(LUA55_DIR)/bin:$(PATH)
LUA_TOOLCHAIN := $(LUA55_DIR)/ready
# busted and its pure-Lua dependencies come from Debian's 5.4 directories;
# its C modules were built for 5.5.
LUA_PATH_EXTRA  := $(LUA55_DIR)/share/?.lua;$(LUA55_DIR)/share/?/init.lua;/usr/share/lua/5.4/?.lua;/usr/share/lua/5.4/?/init.lua
LUA_CPATH_EXTRA := $(LUA55_DIR)/lib/?.so
endif

# The headers: luarocks passes LUA_INCDIR; else 5.5's own, else pkg-config.
ifdef LUA_INCDIR
LUA_CFLAGS := -I$(LUA_INCDIR)
else ifeq ($(LUA_NAME),lua5.5)
LUA_CFLAGS := $(if $(wildcard $(LUA_TOOLCHAIN)),-I$(LUA55_DIR)/include)
else
LUA_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(LUA_PC) 2>/dev/null)
endif
LUA_CFLAGS_NOW = $(if $(filter lua5.5,$(LUA_NAME)),-I$(LUA55_DIR)/include,$(shell $(PKG_CONFIG) --cflags $(LUA_PC)))

# Objects depend on the interpreter they were built for: a build directory
# that serves several (BUILD=build-rock, which the rockspec passes for every
# `luarocks --lua-version`) is rebuilt when LUA changes.
LUA_STAMP := $(BUILD)/lua-abi
$(LUA_STAMP): FORCE
	@mkdir -p $(@D); echo '$(LUA_NAME) $(LUA_INCDIR)' | cmp -s - $@ || echo '$(LUA_NAME) $(LUA_INCDIR)' > $@
FORCE:

# (this file comes first: `make` alone still means `make all`)
.DEFAULT_GOAL := all

$(LUA55_DIR)/ready:
	@sh scripts/deps.sh lua5.5

.PHONY: env test-all lua-cflags distclean clean-versions FORCE

# Prints the two lines; `eval "$(make -s env LUA=...)"` applies them.
env:
	@echo "export LUA_PATH='$(CURDIR)/lua/?.lua;;'"
	@echo "export LUA_CPATH='$(CURDIR)/$(BUILD)/?.so;;'"

# Every version in turn (TEST_ALL="lua5.1 luajit" for some), each with
# its own build; the whole output of each goes to build/test-all-<LUA>.log
# (its last lines are shown), then one line per version and the sum, as CI
# reads it. Fails when any version fails.
TEST_ALL ?= $(LUA_ALL)
test-all:
	@mkdir -p build; \
	for v in $(TEST_ALL); do \
	    echo "=== make test LUA=$$v (log: build/test-all-$$v.log)"; \
	    $(MAKE) --no-print-directory test LUA=$$v > build/test-all-$$v.log 2>&1; \
	    tail -n 30 build/test-all-$$v.log; \
	    grep -q '^specs: ' build/test-all-$$v.log || \
	        echo "specs: 0 passed, 1 failed, 0 skipped (no summary: the build or busted failed)" >> build/test-all-$$v.log; \
	done; \
	echo "=== test-all"; p=0; f=0; s=0; \
	for v in $(TEST_ALL); do \
	    set -- $$(grep '^specs: ' build/test-all-$$v.log | tail -n 1 | sed 's/(.*//' | tr -c '0-9\n' ' '); \
	    printf '%-8s %6s ok %6s failing %6s skipped\n' "$$v" "$$1" "$$2" "$$3"; \
	    p=$$((p + $$1)); f=$$((f + $$2)); s=$$((s + $$3)); \
	done; \
	echo "specs: $$p passed, $$f failed, $$s skipped"; \
	[ $$f -eq 0 ]

clean: clean-versions
clean-versions:
	rm -rf $(LUA_ALL:%=build-%)

# The compile flags for LUA's headers, for specs and tools that build C
# against the interpreter under test (make -s lua-cflags LUA=...).
lua-cflags: check-lua
	@echo "$(LUA_CFLAGS)"

distclean: clean
	rm -rf build-deps
