#!/usr/bin/env bash
# worker_crash.sh — crash safety of the sealing threads with a real manager: the worker is
# killed with SIGKILL during PC1 (after the first layer), during PC2 (after the first
# chunk) and during finalize (the sealed file copied to the store, the cache not yet), and
# restarted each time; then a processor child is killed in the middle of a C2 task.  The
# moments come from the SEALPIPE_TEST_PAUSE pause points (wk_testhook.h), so nothing races
# a timer.  At the end every sector the manager handed out is Proving with its files in
# the store, none twice, no thread paused or holding a sector, no temporary files left.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/worker_lib.sh"

wk_manager_start '{ actor = 1000; sizes = [ "2KiB" ]; deals = false; max_number = 3; }'
CFG="$T/worker.cfg"
wk_worker_cfg "$CFG" 'allowed_sizes = [ "2KiB" ];' \
    "{ location = \"$T/t0\"; }, { location = \"$T/t1\"; }" \
    "pc1 = ( { cpuset = \"$CPU0\"; share = true; } );
     pc2 = ( { cpuset = \"$CPUS\"; share = true; } );
     c2 = ( { cpuset = \"$CPUS\"; share = true; } );"
export SEALPIPE_TEST_PAUSE_DIR="$T/pause"
mkdir -p "$SEALPIPE_TEST_PAUSE_DIR"

# state of the thread holding a sector in a given state, from the admin API
threads() { "$SW" threads list -c "$CFG" --json; }

# ---- kill -9 during PC1 -------------------------------------------------------------------
export SEALPIPE_TEST_PAUSE=pc1
wk_worker_start "$CFG"
wk_wait_file "$T/pause/pc1.paused" 60
pc1_pid=$(cat "$T/pause/pc1.paused")
# the paused process is the pc1 child, and one layer of the two is on disk
assert_contains "$(tr '\0' '\n' <"/proc/$pc1_pid/environ")" "SEALPIPE_PROC_STAGE=pc1"
assert_eq "$(threads | jq -r "[.[] | select(.pid == $pc1_pid)] | .[0].stage")" "pc1" \
    "the thread running on the paused child"
layers=$(ls "$T"/t*/data/cache/*/sc-02-data-layer-*.dat | wc -l)
assert_eq "$layers" "1" "layers written when PC1 paused"
wk_worker_kill9
kill -0 "$pc1_pid" 2>/dev/null && fail "the pc1 child survived the worker"

# ---- restart; kill -9 during PC2 -----------------------------------------------------------
export SEALPIPE_TEST_PAUSE=pc1,pc2
wk_worker_start "$CFG"
wk_wait_file "$T/pause/pc2.paused" 60
# PC2 is under way: its outputs exist only under temporary names
ls "$T"/t*/data/cache/*/sc-02-data-tree-r-last.dat.tmp >/dev/null 2>&1 ||
    ls "$T"/t*/data/sealed/*.tmp >/dev/null 2>&1 || fail "no PC2 temporary output while paused"
wk_worker_kill9

# ---- restart; kill -9 during finalize (the copy to the store) -------------------------------
export SEALPIPE_TEST_PAUSE=pc1,pc2,finalize
wk_worker_start "$CFG"
wk_wait_file "$T/pause/finalize.paused" 60
assert_eq "$(cat "$T/pause/finalize.paused")" "$WPID" "finalize pauses in the worker itself"
sealed=$(ls "$T/store1/sealed/")
[ -n "$sealed" ] || fail "the sealed file is not in the store yet"
[ ! -e "$T/store1/cache/$sealed/p_aux" ] || fail "p_aux copied before the pause"
wk_worker_kill9

# ---- restart; a processor child killed in the middle of a C2 task --------------------------
export SEALPIPE_TEST_PAUSE=pc1,pc2,finalize,c2
wk_worker_start "$CFG"
wk_wait_file "$T/pause/c2.paused" 120
c2_pid=$(cat "$T/pause/c2.paused")
assert_contains "$(tr '\0' '\n' <"/proc/$c2_pid/environ")" "SEALPIPE_PROC_STAGE=c2"
kill -KILL "$c2_pid"

wk_wait_proving 4 300
wk_check_all_proving 4
grep -q "processor c2\[0\] (pid $c2_pid) was killed by signal 9" "$T/worker.log" ||
    fail "the c2 child's death is not in the log"
grep -q "c2 failed (temporary, try 1 of 3" "$T/worker.log" || fail "the C2 task was not retried"
# PC1 resumed after the layer written before the crash
grep -q "resuming s-t01000-" "$T/worker.log" || fail "no thread resumed its sector"

# nothing stuck, nothing left behind
sp_wait_for 30 sh -c "\"$SW\" threads list -c \"$CFG\" --json | jq -e 'all(.[]; .state == \"Empty\" and .paused == false)'" ||
    fail "threads not back to Empty: $(threads)"
left=$(find "$T/store1" "$T/t0" "$T/t1" -name '*.tmp' -o -name '*.part')
[ -z "$left" ] || fail "temporary files left: $left"
assert_eq "$(wk_sectors | jq '[.[] | select(.Aborted)] | length')" "0" "aborted sectors"
kill -TERM "$WPID"
wait "$WPID"
echo "4 sectors sealed through 3 worker crashes and a processor crash"
