# Soak (issue 7): a netsocket cosocket echo server under 1,000 concurrent
# clients from bench/c/loadgen for SOAK_TIME seconds; fails on any error or
# RSS growth (bench/soak.lua says how much is allowed and why).
#   make soak                 300 s (SOAK_TIME=600 make soak for longer)
#   make soak-ci              the same for 20 s
SOAK_TIME  ?= 300
SOAK_CONNS ?= 1000

.PHONY: soak soak-ci
soak: check-lua lib $(BUILD)/bench/loadgen
	@ulimit -n 20000 2>/dev/null || ulimit -n $$(ulimit -Hn) 2>/dev/null; \
	    $(LUA) bench/soak.lua $(CURDIR) $(BUILD) $(SOAK_TIME) $(SOAK_CONNS)

soak-ci:
	@$(MAKE) --no-print-directory soak SOAK_TIME=20
