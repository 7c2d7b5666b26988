#!/bin/sh
# Runs cmocka programs (TAP output, one count per test case) and e2e scripts (one count
# per script: exit 0 pass, 77 skip, anything else fail).  Logs go to $SP_BUILD/test-logs.
# Ends with one line "N passed, N failed[, N skipped]" and exits non-zero on any failure.
set -u
LOGDIR="${SP_BUILD:-build}/test-logs"
mkdir -p "$LOGDIR"
TIMEOUT="${SP_TEST_TIMEOUT:-1200}"
pass=0; fail=0; skip=0; failed_names=""

for t in "$@"; do
    name=$(basename "$t" .sh)
    log="$LOGDIR/$name.log"
    start=$(date +%s)
    case "$t" in
    *.sh)
        timeout -k 10 "$TIMEOUT" bash "$t" >"$log" 2>&1
        rc=$?
        el=$(( $(date +%s) - start ))
        if [ $rc -eq 0 ]; then pass=$((pass+1)); printf 'PASS %-40s %4ss\n' "$name" "$el"
        elif [ $rc -eq 77 ]; then skip=$((skip+1)); printf 'SKIP %-40s %s\n' "$name" "$(tail -n1 "$log")"
        else fail=$((fail+1)); failed_names="$failed_names $name"
             printf 'FAIL %-40s %4ss (exit %d, log %s)\n' "$name" "$el" "$rc" "$log"
             tail -n 25 "$log" | sed 's/^/    | /'
        fi ;;
    *)
        CMOCKA_MESSAGE_OUTPUT=TAP timeout -k 10 "$TIMEOUT" "$t" >"$log" 2>&1
        rc=$?
        el=$(( $(date +%s) - start ))
        p=$(grep -E '^ok ' "$log" | grep -vc '# SKIP')
        # cmocka's TAP writes a skipped case as "not ok N # SKIP": a skip, not a failure
        s=$(grep -E '^(not )?ok .*# SKIP' -c "$log")
        f=$(grep -E '^not ok ' "$log" | grep -vc '# SKIP')
        if [ $rc -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi   # crashed or aborted outside a test case
        pass=$((pass+p)); skip=$((skip+s)); fail=$((fail+f))
        if [ "$f" -gt 0 ]; then
            failed_names="$failed_names $name"
            printf 'FAIL %-40s %4ss %d passed, %d failed (log %s)\n' "$name" "$el" "$p" "$f" "$log"
            grep -E '^not ok|ERROR|error|Assert|FAIL|Sanitizer|runtime error' "$log" | head -n 25 | sed 's/^/    | /'
        else
            printf 'PASS %-40s %4ss %d cases\n' "$name" "$el" "$p"
        fi ;;
    esac
done

[ -n "$failed_names" ] && echo "failed:$failed_names"
if [ $skip -gt 0 ]; then
    echo "$pass passed, $fail failed, $skip skipped"
else
    echo "$pass passed, $fail failed"
fi
[ $fail -eq 0 ]
