#!/bin/sh
# Instructions per unit of the single-connection workloads (doc/performance.md),
# from callgrind: stable on a shared machine, where bench/run.lua's times are
# not. Each workload runs twice at two sizes under callgrind (only the Lua
# process; its peer runs natively), and the difference in instructions is
# divided by the difference in units, so start-up cancels out. Contenders:
# netsocket (this tree's BUILD) and the baseline, Debian's LuaSocket, or with
# BENCH_BEFORE=DIR another netsocket checkout built in DIR/BUILD.
#   LUA=lua5.4 BUILD=build bench/cgworkloads.sh [workload ...]
# (BENCH_BIN: the C peers, default BUILD/bench; each run is bounded at 600 s)
# Needs valgrind and `make bench`'s C programs in BUILD/bench.
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
LUA=${LUA:-lua5.4}
BUILD=${BUILD:-build}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
[ $# -gt 0 ] || set -- pingpong udp lines bulk accept select100 all

# workload -> script, then the two scales (units grow with BENCH_SCALE)
scales() {
    case $1 in
        pingpong|udp|accept) echo "0.01 0.03" ;;
        lines) echo "0.01 0.03" ;;
        bulk) echo "0.005 0.015" ;;
        select100) echo "0.003 0.009" ;;
        all) echo "0.25 0.5" ;;
        *) echo "unknown workload $1" >&2; exit 2 ;;
    esac
}
script() { case $1 in select*) echo "select.lua ${1#select}" ;; *) echo "$1.lua" ;; esac; }

NS_PATH="$ROOT/lua/?.lua;;"; NS_CPATH="$ROOT/$BUILD/?.so;;"
if [ -n "${BENCH_BEFORE:-}" ]; then
    BASE=before; B_PATH="$BENCH_BEFORE/lua/?.lua;;"; B_CPATH="$BENCH_BEFORE/$BUILD/?.so;;"
else
    BASE=LuaSocket; B_PATH=";;"; B_CPATH=";;"
fi

# instructions and units of one run: "I N"
one() {
    # shellcheck disable=SC2086
    env LUA_PATH="$1" LUA_CPATH="$2" BENCH_BIN="${BENCH_BIN:-$ROOT/$BUILD/bench}" BENCH_SCALE="$3" \
        timeout 600 valgrind --tool=callgrind --callgrind-out-file="$TMP/cg" $LUA "$ROOT/bench/"$4 \
        > "$TMP/out" 2>/dev/null || { echo "failed"; return; }
    i=$(callgrind_annotate "$TMP/cg" 2>/dev/null | awk '/PROGRAM TOTALS/ { gsub(",", "", $1); print $1; exit }')
    n=$(awk '/^RESULT/ { print $3 }' "$TMP/out")
    echo "$i $n"
}

per_unit() {   # path cpath workload -> instructions per unit
    w=$3
    set -- "$1" "$2" "$3" $(scales "$3")
    a=$(one "$1" "$2" "$4" "$(script "$3")"); b=$(one "$1" "$2" "$5" "$(script "$3")")
    case "$a $b" in *failed*) echo "-"; return ;; esac
    # shellcheck disable=SC2086
    set -- $a $b
    awk -v i1="$1" -v n1="$2" -v i2="$3" -v n2="$4" -v u="$(unit "$w")" \
        'BEGIN { printf "%.0f", (i2 - i1) / (n2 - n1) * u }'
}
# bulk and all count bytes: per MiB
unit() { case $1 in bulk|all) echo 1048576 ;; *) echo 1 ;; esac; }

echo "instructions per unit (round trip, line, connection, select call; MiB for bulk and all), $LUA ($($LUA -v 2>&1 | head -n 1)); baseline: $BASE"
printf '| %-10s | %12s | %12s | %10s |\n' "workload" "netsocket" "$BASE" "$BASE / netsocket"
printf '| %-10s | %12s | %12s | %10s |\n' "---" "---:" "---:" "---:"
for w; do
    ns=$(per_unit "$NS_PATH" "$NS_CPATH" "$w"); base=$(per_unit "$B_PATH" "$B_CPATH" "$w")
    r=$(awk -v a="$base" -v b="$ns" 'BEGIN { if (a + 0 > 0 && b + 0 > 0) printf "%.2f", a / b; else print "-" }')
    printf '| %-10s | %12s | %12s | %10s |\n' "$w" "$ns" "$base" "$r"
done
