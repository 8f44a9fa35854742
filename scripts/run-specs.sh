#!/bin/sh
# Runs busted ("$@") and ends with one plain summary line, "N passed, N failed",
# which CI reads; the exit status is busted's.
# With SPEC_TIMEOUT=seconds (mk/versions.mk sets it where cosockets cannot
# yield yet, so a task waiting on another can block for good), each spec
# file under the last argument runs in a busted of its own bounded by that
# time: a file that hangs counts as one failure and the suite goes on.

# busted's last line reads "N successes / N failures / N errors / N pending : T seconds"
counts() {
    line=$(grep -E '^[0-9]+ success' "$1" | tail -n 1)
    [ -n "$line" ] && echo "$line" | tr -c '0-9\n' ' '
}

if [ -n "${SPEC_TIMEOUT:-}" ]; then
    cmd=""
    dir=""
    for a; do
        [ -n "$dir" ] && cmd="$cmd '$(printf %s "$dir" | sed "s/'/'\\\\''/g")'"
        dir=$a
    done
    out=$(mktemp)
    p=0; f=0; s=0
    for file in $(find "$dir" -name '*_spec.lua' | sort); do
        echo "--- $file"
        eval "timeout -k 10 $SPEC_TIMEOUT $cmd '$file'" > "$out" 2>&1
        rc=$?
        cat "$out"
        c=$(counts "$out")
        if [ -z "$c" ]; then
            why="exit $rc"; [ $rc = 124 ] && why="timed out after $SPEC_TIMEOUT s"
            echo "specs: $file: no summary ($why): counted as one failure"
            f=$((f + 1))
            continue
        fi
        # shellcheck disable=SC2086
        set -- $c
        p=$((p + $1)); f=$((f + $2 + $3)); s=$((s + $4))
    done
    rm -f "$out"
    echo "specs: $p passed, $f failed, $s skipped"
    [ "$f" -eq 0 ]
    exit
fi

out=$(mktemp)
"$@" 2>&1 | tee "$out"
c=$(counts "$out")
rm -f "$out"
if [ -z "$c" ]; then echo "busted printed no summary"; exit 1; fi
# shellcheck disable=SC2086
set -- $c
echo "specs: $1 passed, $(( $2 + $3 )) failed, $4 skipped"
[ "$(( $2 + $3 ))" -eq 0 ] || exit 1
exit 0
