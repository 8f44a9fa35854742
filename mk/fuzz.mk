# libFuzzer targets (fuzz/, issue 7): the receive-pattern engine against a
# Lua model, the option/argument parsers, the TLS server record path.
#   make fuzz          each target FUZZ_TIME seconds (default 60), leak
#                      detection on; new inputs go to build-fuzz/corpus/
#   make fuzz-ci       each target FUZZ_CI_TIME seconds (default 20) from the
#                      committed seeds (fuzz/corpus/), in a throwaway corpus
#   make fuzz-build    just the binaries (build-fuzz/fuzz-<target>)
#   make fuzz-run T=receive [FUZZ_TIME=..]   one target
# The netsocket sources are compiled into each fuzzer binary (not loaded as
# core.so): libFuzzer's coverage then spans engine and harness, LeakSanitizer
# sees one image (no dlclose'd frames), and the receive target can give a
# real tcp{client} an in-memory io backend through stream.h without any
# hook in src/.

FUZZ_BUILD   ?= build-fuzz
FUZZ_CC      ?= clang
FUZZ_TIME    ?= 60
FUZZ_CI_TIME ?= 20
FUZZ_TARGETS  = receive options tls
FUZZ_SAN      = -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
FUZZ_CFLAGS   = -std=c11 -O1 -g -D_GNU_SOURCE $(WARN) $(FUZZ_SAN) -fsanitize=fuzzer-no-link \
                $(LUA_CFLAGS) $(SSL_CFLAGS) -Isrc -Isrc/ssl -DNETSOCKET_FUZZ -DFUZZ_WITH_SSL \
                -DFUZZ_ROOT='"$(CURDIR)"' -DFUZZ_CERTDIR='"$(CURDIR)/$(FUZZ_BUILD)/tls"'
FUZZ_WRAP     = getaddrinfo getnameinfo gethostbyname gethostbyaddr bind connect listen sendto setsockopt
FUZZ_LDFLAGS  = $(FUZZ_SAN) -fsanitize=fuzzer $(FUZZ_WRAP:%=-Wl,--wrap=%) \
                $$($(PKG_CONFIG) --libs lua$(LUA_VERSION)) $(SSL_LIBS) -lm -pthread
FUZZ_LIB_OBJ  = $(CORE_SRC:src/%.c=$(FUZZ_BUILD)/o/%.o) $(SSL_SRC:src/ssl/%.c=$(FUZZ_BUILD)/o/ssl/%.o) \
                $(FUZZ_BUILD)/o/fuzz/fuzzlua.o $(FUZZ_BUILD)/o/fuzz/guard.o
FUZZ_BINS     = $(FUZZ_TARGETS:%=$(FUZZ_BUILD)/fuzz-%)
# Leaks, hangs and the memory ceiling are failures; the final stats give the
# execution count that make prints (and doc/reliability.md quotes).
FUZZ_OPTS     = -detect_leaks=1 -timeout=10 -rss_limit_mb=2048 -max_len=8192 -print_final_stats=1
FUZZ_ENV      = ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:allocator_may_return_null=1 \
                UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

.PHONY: fuzz fuzz-ci fuzz-build fuzz-deps fuzz-run fuzz-one
.SECONDARY: $(FUZZ_LIB_OBJ) $(FUZZ_TARGETS:%=$(FUZZ_BUILD)/o/fuzz/%.o)

fuzz-deps:
	@sh fuzz/deps.sh

# (a sub-make, so that the objects see the LUA_CFLAGS check-lua found)
fuzz-build: fuzz-deps check-lua
	@$(MAKE) -s --no-print-directory $(FUZZ_BINS) $(FUZZ_BUILD)/tls/key.pem

$(FUZZ_BUILD)/o/%.o: src/%.c src/*.h
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -c $< -o $@

$(FUZZ_BUILD)/o/ssl/%.o: src/ssl/%.c src/ssl/*.h src/*.h
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -c $< -o $@

$(FUZZ_BUILD)/o/fuzz/%.o: fuzz/%.c fuzz/*.h src/*.h
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -c $< -o $@

$(FUZZ_BUILD)/fuzz-%: $(FUZZ_BUILD)/o/fuzz/%.o $(FUZZ_LIB_OBJ)
	$(FUZZ_CC) $^ $(FUZZ_LDFLAGS) -o $@

# The TLS target's server certificate (EC P-256, self-signed, never trusted).
$(FUZZ_BUILD)/tls/key.pem:
	@mkdir -p $(@D)
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 3650 \
	    -subj /CN=localhost -keyout $@ -out $(@D)/cert.pem 2>/dev/null

# One target: T, FUZZ_TIME seconds, working corpus DIR (default
# build-fuzz/corpus/T) then the committed seeds; prints the execution count.
fuzz-run: fuzz-build
	@$(MAKE) --no-print-directory fuzz-one T=$(T) FUZZ_TIME=$(FUZZ_TIME) $(if $(DIR),DIR=$(DIR))

fuzz-one:
	@t=$(T); dir=$(if $(DIR),$(DIR),$(FUZZ_BUILD)/corpus/$(T)); mkdir -p $$dir $(FUZZ_BUILD)/artifacts; \
	log=$(FUZZ_BUILD)/fuzz-$$t.log; \
	echo "fuzz $$t: $(FUZZ_TIME) s"; \
	if $(FUZZ_ENV) $(FUZZ_BUILD)/fuzz-$$t $(FUZZ_OPTS) -max_total_time=$(FUZZ_TIME) \
	        -artifact_prefix=$(FUZZ_BUILD)/artifacts/$$t- $$dir fuzz/corpus/$$t >$$log 2>&1; then \
	    runs=$$(sed -n 's/^stat::number_of_executed_units: *//p' $$log); \
	    cov=$$(grep -o 'cov: [0-9]*' $$log | tail -1); \
	    echo "fuzz $$t: $$runs inputs in $(FUZZ_TIME) s, $$cov, no crash, no leak, no disagreement"; \
	else \
	    tail -60 $$log; echo "fuzz $$t: FAILED (log $$log, input in $(FUZZ_BUILD)/artifacts/)"; exit 1; \
	fi

fuzz: fuzz-build
	@for t in $(FUZZ_TARGETS); do \
	    $(MAKE) --no-print-directory fuzz-one T=$$t FUZZ_TIME=$(FUZZ_TIME) || exit 1; \
	done

fuzz-ci: fuzz-build
	@tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	for t in $(FUZZ_TARGETS); do \
	    mkdir -p $$tmp/$$t; \
	    $(MAKE) --no-print-directory fuzz-one T=$$t DIR=$$tmp/$$t FUZZ_TIME=$(FUZZ_CI_TIME) || exit 1; \
	done
