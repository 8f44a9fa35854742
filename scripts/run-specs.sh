#!/bin/sh
# Runs busted ("$@") and ends with one plain summary line, "N passed, N failed",
# which CI reads; the exit status is busted's.
# With SUITE_TIMEOUT=seconds (mk/versions.mk sets it off Lua 5.4), busted is
# bounded by that time: the suite still runs in one busted, as on 5.4, but a
# hang cannot block the caller (CI) for good. When the time runs out, the
# test that was running (spec/setup.lua writes it to SPEC_PROGRESS) is named
# and the run counts as one failure.
# With SPEC_TIMEOUT=seconds (mk/windows.mk sets it under Wine), each spec
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
if [ -n "${SUITE_TIMEOUT:-}" ]; then
    SPEC_PROGRESS=$(mktemp)
    export SPEC_PROGRESS
    rcfile=$(mktemp)
    { timeout -k 10 "$SUITE_TIMEOUT" "$@" 2>&1; echo $? > "$rcfile"; } | tee "$out"
    rc=$(cat "$rcfile")
    running=$(cat "$SPEC_PROGRESS")
    rm -f "$rcfile" "$SPEC_PROGRESS"
    if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
        rm -f "$out"
        echo
        echo "specs: 0 passed, 1 failed, 0 skipped (the suite timed out after $SUITE_TIMEOUT s, in $running)"
        exit 1
    fi
else
    "$@" 2>&1 | tee "$out"
fi
c=$(counts "$out")
rm -f "$out"
if [ -z "$c" ]; then echo "busted printed no summary"; exit 1; fi
# shellcheck disable=SC2086
set -- $c
echo "specs: $1 passed, $(( $2 + $3 )) failed, $4 skipped"
[ "$(( $2 + $3 ))" -eq 0 ] || exit 1
exit 0
