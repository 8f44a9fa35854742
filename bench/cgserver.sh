#!/bin/sh
# Instructions per request of a concurrent echo server (doc/performance.md):
# runs the server under callgrind twice, with 2 s and 6 s of load from
# bench/c/loadgen (200 connections), and divides the difference in
# instructions by the difference in replies, so start-up, accept and
# warm-up cancel out. Needs valgrind and a built tree (make all
# build/bench/loadgen).
#   bench/cgserver.sh [MODE [CONNS]]     MODE: co (default), select, copas
set -eu
MODE=${1:-co}
CONNS=${2:-200}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
export LUA_PATH="$ROOT/lua/?.lua;;" LUA_CPATH="$ROOT/build/?.so;;"

# The load generator SIGTERMs what it started: this wrapper ignores it and
# lets the server end by its own lifetime, so that callgrind writes its file.
cat > "$TMP/wrap.sh" <<'EOF'
#!/bin/sh
trap '' TERM
out=$1; shift
valgrind --tool=callgrind --callgrind-out-file="$out" "$@" 2>/dev/null &
wait $! || true
wait $! || true
EOF
chmod +x "$TMP/wrap.sh"

total() { callgrind_annotate "$1" 2>/dev/null | awk '/PROGRAM TOTALS/ { gsub(",", "", $1); print $1; exit }'; }

for t in 2 6; do
    "$ROOT/build/bench/loadgen" -n "$CONNS" -t "$t" -- "$TMP/wrap.sh" "$TMP/cg.$t" \
        lua5.4 "$ROOT/bench/concurrent.lua" "$MODE" cg $((t + 8)) > "$TMP/out.$t" 2>&1 || true
    sed -n 's/.* replies=\([0-9]*\) .*/\1/p' "$TMP/out.$t" > "$TMP/replies.$t"
done
sleep 10                                  # both servers reach their lifetime and exit
r2=$(cat "$TMP/replies.2"); r6=$(cat "$TMP/replies.6")
i2=$(total "$TMP/cg.2"); i6=$(total "$TMP/cg.6")
echo "RESULT cgserver $MODE conns=$CONNS replies=$r2,$r6 instructions=$i2,$i6" \
     "per_request=$(( (i6 - i2) / (r6 - r2) ))"
