#!/usr/bin/env bash
# fault_processor.sh — processor children that misbehave while real sectors seal (issue 10,
# fault injection).  Two sealing threads, four 2KiB sectors, against a real manager:
#   hang     the first PC2 child stops answering (its pause point, never resumed): the
#            worker's limitation.timeout.pc2 kills it, says so in the log, and the task is
#            retried on a new child;
#   garbage  every C1 child is a wrapper (bin/args) that prints garbage lines around the
#            real processor's output (non-JSON, answers without an id, answers to tasks
#            nobody sent) and, the first time, cuts its first answer in half: the worker
#            logs and ignores each such line, times out the answer that never came, kills
#            the child and retries.
# Then: all four sectors Proving with their files in the store, none twice, every thread
# back to Empty and unpaused, no temporary file left, the kill and the garbage in the log.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/worker_lib.sh"
. "$(dirname "$0")/fault_lib.sh"

wk_manager_start '{ actor = 1000; sizes = [ "2KiB" ]; deals = false; max_number = 3; }'

# the garbage-printing C1 processor: the real one with its stdout filtered (a bash loop:
# it reads line by line, where awk would wait for a whole buffer)
cat >"$T/garbage-filter.sh" <<'SH'
#!/usr/bin/env bash
cut=$1
while IFS= read -r line; do
    printf '\001garbage {"id": \n{"id": 424242, "ok": true}\n[1, 2, 3]\n{"ok": true}\n'
    if [ "$cut" = 1 ] && [[ $line == *'"id"'* ]] && [[ $line != *'"ready"'* ]]; then
        printf '%s\n' "${line:0:$(( ${#line} / 2 ))}"
        cut=0
        continue
    fi
    printf '%s\n' "$line"
done
SH
cat >"$T/garbage-c1.sh" <<SH
#!/usr/bin/env bash
n=\$(cat "$T/garbage.runs" 2>/dev/null || echo 0)
echo \$((n + 1)) >"$T/garbage.runs"
exec "$SW" processor c1 > >(exec bash "$T/garbage-filter.sh" \$((n == 0)))
SH
chmod +x "$T/garbage-c1.sh"

CFG="$T/worker.cfg"
WK_MAX_RETRIES=3 wk_worker_cfg "$CFG" 'allowed_sizes = [ "2KiB" ];' \
    "{ location = \"$T/t0\"; }, { location = \"$T/t1\"; }" \
    "limitation = { timeout = { pc2 = \"8s\"; c1 = \"8s\"; }; };
     pc2 = ( { cpuset = \"$CPUS\"; share = true; } );
     c1 = ( { cpuset = \"$CPUS\"; share = true; bin = \"$T/garbage-c1.sh\"; args = [ ]; } );"
export SEALPIPE_TEST_PAUSE_DIR="$T/pause" SEALPIPE_TEST_PAUSE=pc2
mkdir -p "$T/pause"
wk_worker_start "$CFG"

# ---- the hung PC2 child ------------------------------------------------------------------------
wk_wait_file "$T/pause/pc2.paused" 60
hung=$(cat "$T/pause/pc2.paused")
kill -0 "$hung" || fail "the paused PC2 process is not running"
fault_log_wait 30 "processor pc2.*pid $hung.*no answer to pc2 task .* within 8000ms; killing it" \
    "$T/worker.log" "the hung child killed at the timeout"
sp_wait_for 20 sh -c "! kill -0 $hung 2>/dev/null" || fail "the hung PC2 child $hung is still alive"
fault_log_wait 30 "gave no answer within 8000ms and was killed" "$T/worker.log" "the task's error"

# ---- the garbage C1 child, then everything converges ------------------------------------------
wk_wait_proving 4 240
fault_threads_settle 60
grep -q "ignored the line: .*garbage" "$T/worker.log" || fail "no garbage line logged as ignored"
grep -q "an answer to no task in flight" "$T/worker.log" || fail "the stray answer was not logged"
grep -q "an answer without a valid \"id\"" "$T/worker.log" || fail "the answer without an id was not logged"
grep -Eq "processor c1.*no answer to c1 task .* within 8000ms; killing it" "$T/worker.log" ||
    fail "the C1 child with the cut answer was not killed at the timeout"
[ "$(cat "$T/garbage.runs")" -ge 2 ] || fail "the C1 processor was not restarted"
fault_check_sectors 4 0 "$T/store1"
fault_no_tmp "$T/store1" "$T/t0" "$T/t1"
kill -TERM "$WPID"
wait "$WPID" || fail "worker exit status"
echo "a hung PC2 child and a garbage-printing C1 child: killed at their timeouts, retried, four sectors Proving"
