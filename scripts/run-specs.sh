#!/bin/sh
# Runs busted ("$@") and ends with one plain summary line, "N passed, N failed",
# which CI reads; the exit status is busted's.
out=$(mktemp)
"$@" 2>&1 | tee "$out"
status=$?
# busted's last line reads "N successes / N failures / N errors / N pending : T seconds"
line=$(grep -E '^[0-9]+ success' "$out" | tail -n 1)
rm -f "$out"
if [ -z "$line" ]; then echo "busted printed no summary"; exit 1; fi
set -- $(echo "$line" | tr -c '0-9\n' ' ')
echo "specs: $1 passed, $(( $2 + $3 )) failed, $4 skipped"
[ "$(( $2 + $3 ))" -eq 0 ] || exit 1
exit 0
