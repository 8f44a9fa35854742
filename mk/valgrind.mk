# make valgrind (issue 7): the busted suite under valgrind memcheck, against
# the normal build (-O2 -g, no sanitizers: ASan and memcheck do not mix).
#   make valgrind                       the whole suite (spec/), then the two
#                                       hardening children (below)
#   make valgrind VALGRIND_SPECS=spec/tcp_spec.lua   a subset, same checks
#   make valgrind VALGRIND_STRICT=1     also fail when a spec fails
# Fails on any memcheck error and on any block definitely lost. Only the
# interpreter running busted is traced (--trace-children=no): the child
# processes specs start (timed peers, openssl, socat) would be slowed past
# their bounds. The two children that make the most hostile calls, though,
# are run directly under memcheck afterwards: the use-after child (every
# method of every class on dead objects) and the wrong-types child (every
# wrong argument of every function). Under memcheck the suite runs about
# 20 times slower, so a few timing-bound specs can fail (the co scheduler's
# step counts, _SETSIZE with valgrind's reserved descriptors): their
# verdict belongs to `make test`; VALGRIND_STRICT=1 makes them count here.
# Logs: $(BUILD)/valgrind-{suite,useafter,wrongtypes}.log. Suppressions: tools/valgrind.supp.
VALGRIND        ?= valgrind
VALGRIND_SPECS  ?= spec
VALGRIND_STRICT ?=
VALGRIND_LOG     = $(CURDIR)/$(BUILD)/valgrind
VALGRIND_FLAGS   = --tool=memcheck --leak-check=full --errors-for-leak-kinds=definite \
                   --show-leak-kinds=definite --error-exitcode=99 --trace-children=no \
                   --num-callers=30 --suppressions=$(CURDIR)/tools/valgrind.supp
VALGRIND_RUN     = $(TEST_ENV) $(VALGRIND) $(VALGRIND_FLAGS)

# One line per log: its error count and what was definitely lost.
define valgrind_summary
echo "valgrind $(1): $$(grep -h 'ERROR SUMMARY' $(VALGRIND_LOG)-$(1).log | sed 's/^==[0-9]*== //; s/ (suppressed.*//'),\
 $$( (grep -h 'definitely lost:' $(VALGRIND_LOG)-$(1).log || echo 'definitely lost: 0 bytes (all heap blocks freed)') | sed 's/^==[0-9]*== *//')"
endef

.PHONY: valgrind valgrind-suite valgrind-children
valgrind: valgrind-suite valgrind-children

valgrind-suite: deps all
	@command -v $(VALGRIND) >/dev/null || { echo "make valgrind: valgrind not found (apt-get install valgrind)" >&2; exit 1; }
	@start=$$(date +%s); \
	$(VALGRIND_RUN) --log-file=$(VALGRIND_LOG)-suite.log $(LUA) $$(command -v busted) --ignore-lua \
	    --lua=$(LUA) --helper=spec/setup.lua $(VALGRIND_SPECS); \
	status=$$?; \
	$(call valgrind_summary,suite); \
	echo "valgrind: the suite took $$(( $$(date +%s) - start )) s"; \
	if [ $$status -eq 99 ]; then echo "valgrind: memcheck found errors: $(VALGRIND_LOG)-suite.log" >&2; exit 1; fi; \
	if [ $$status -ne 0 ]; then \
	    echo "valgrind: some specs failed under memcheck (timing, or valgrind's own descriptors; make test judges them)" >&2; \
	    if [ -n "$(VALGRIND_STRICT)" ]; then exit 1; fi; \
	fi

valgrind-children: all
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$$tmp/key.pem" \
	    -out "$$tmp/cert.pem" -days 2 -subj /CN=localhost >/dev/null 2>&1 && \
	printf '0\t(start)\n' > "$$tmp/progress" && \
	start=$$(date +%s) && \
	( cd "$$tmp" && $(VALGRIND_RUN) --log-file=$(VALGRIND_LOG)-useafter.log $(LUA) \
	    $(CURDIR)/spec/hardening/useafter_child.lua "$$tmp/cert.pem" "$$tmp/key.pem" > "$$tmp/useafter.out" 2>&1 ); \
	s1=$$?; \
	( cd "$$tmp" && $(VALGRIND_RUN) --log-file=$(VALGRIND_LOG)-wrongtypes.log $(LUA) \
	    $(CURDIR)/spec/hardening/wrongtypes_child.lua 1 "$$tmp/progress" "$$tmp" "$$tmp/cert.pem" 1 \
	    > "$$tmp/wrongtypes.out" 2>&1 ); \
	s2=$$?; \
	$(call valgrind_summary,useafter); \
	$(call valgrind_summary,wrongtypes); \
	echo "valgrind: the children took $$(( $$(date +%s) - start )) s"; \
	grep -q '^END' "$$tmp/useafter.out" || { echo "valgrind: the use-after child did not finish (status $$s1):" >&2; tail -5 "$$tmp/useafter.out" >&2; exit 1; }; \
	grep -q '^DONE' "$$tmp/wrongtypes.out" || { echo "valgrind: the wrong-types child did not finish (status $$s2):" >&2; tail -5 "$$tmp/wrongtypes.out" >&2; exit 1; }; \
	if [ $$s1 -ne 0 ] || [ $$s2 -ne 0 ]; then echo "valgrind: memcheck found errors in a child (see the logs)" >&2; exit 1; fi
