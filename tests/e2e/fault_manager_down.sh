#!/usr/bin/env bash
# fault_manager_down.sh — the sector-manager goes away while a worker seals (issue 10,
# fault injection).  Two sealing threads, six 2KiB sectors.  While one sector is held in
# PC1 (its pause point) the manager is stopped (SIGTERM) and kept down for FAULT_DOWN_S
# seconds (15 here; tests/long/fault_manager_down.sh keeps it down for minutes and also
# freezes it with SIGSTOP for FAULT_HANG_S, so that calls time out instead of being
# refused).  Checked while it is away: the held sector goes on through PC1 and PC2 (work
# that needs no manager), every thread waits with "manager unreachable" in its status and
# in the log, no thread pauses and no retry is counted.  When the manager is back (same
# port) the threads converge: all six sectors Proving, none lost or twice, the store
# holding exactly their files, every thread back to Empty, no temporary file left.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/worker_lib.sh"
. "$(dirname "$0")/fault_lib.sh"
DOWN_S=${FAULT_DOWN_S:-15}
HANG_S=${FAULT_HANG_S:-0}

MPORT=$(sp_free_port)
wk_manager_start '{ actor = 1000; sizes = [ "2KiB" ]; deals = false; max_number = 5; }'
CFG="$T/worker.cfg"
WK_MAX_RETRIES=2 wk_worker_cfg "$CFG" 'allowed_sizes = [ "2KiB" ];' \
    "{ location = \"$T/t0\"; }, { location = \"$T/t1\"; }" \
    "pc1 = ( { cpuset = \"$CPU0\"; share = true; } );"
export SEALPIPE_TEST_PAUSE_DIR="$T/pause" SEALPIPE_TEST_PAUSE=pc1
[ "$HANG_S" -gt 0 ] && SEALPIPE_TEST_PAUSE=pc1,c1
mkdir -p "$T/pause"
threads() { "$SW" threads list -c "$CFG" --json; }
wk_worker_start "$CFG"

# no thread may pause or count a retry while the manager is away
watch_threads() { # SECONDS
    local i
    for i in $(seq $(($1 * 2))); do
        threads | jq -e 'all(.[]; .paused == false and .retry == 0)' >/dev/null ||
            fail "a thread paused or counted a retry while the manager was away: $(threads)"
        sleep 0.5
    done
}

# ---- the manager stops while a sector is in PC1 ------------------------------------------------
wk_wait_file "$T/pause/pc1.paused" 60
held=$(threads | jq -r ".[] | select(.pid == $(cat "$T/pause/pc1.paused")) | .index")
held_sector=$(threads | jq -r ".[$held].sector")
kill -TERM "$MPID"
wait "$MPID" 2>/dev/null || true
mark=$(wc -l <"$T/worker.log")
touch "$T/pause/pc1.resume"
down_start=$(date +%s)
# the held sector carries on through PC1 and PC2 on its own
sp_wait_for 60 grep -q "thread $held: $held_sector: PC1Done -> PC2Done" "$T/worker.log" ||
    fail "$held_sector did not go on without the manager: $(tail -n 20 "$T/worker.log")"
tail -n +"$mark" "$T/worker.log" | grep -q "thread $held: $held_sector: TicketAssigned -> PC1Done" ||
    fail "PC1 of $held_sector did not finish while the manager was down"
sp_wait_for 30 sh -c "\"$SW\" threads list -c \"$CFG\" --json | jq -e 'all(.[]; .activity | test(\"manager unreachable\"))'" ||
    fail "the threads do not say the manager is unreachable: $(threads)"
left=$((DOWN_S - ($(date +%s) - down_start)))
[ "$left" -gt 0 ] && watch_threads "$left"
grep -q "thread $held: $held_sector: submit_precommit: the manager does not answer" "$T/worker.log" ||
    fail "the precommit's wait for the manager is not in the log"
grep -q "does not count against max_retries" "$T/worker.log" || fail "the log does not say the waits are not retries"
grep -Eq "could not report [A-Za-z0-9]+ to the manager \(carrying on\)" "$T/worker.log" || fail "the lost report is not logged"

# ---- back; then (long run) frozen: calls time out instead of being refused -------------------
wk_manager_run
if [ "$HANG_S" -gt 0 ]; then
    # a sector held before C1: frozen manager, then C1 and C2 run without it
    wk_wait_file "$T/pause/c1.paused" 120
    c1_sector=$(threads | jq -r '.[] | select(.state == "SeedAssigned") | .sector' | head -n1)
    kill -STOP "$MPID"
    touch "$T/pause/c1.resume"
    # the first call to the frozen manager (the report of C1Done) waits out the RPC
    # timeout (60 s) before the worker knows; C2 must still be done while it is frozen
    sp_wait_for $((HANG_S - 10)) grep -q "$c1_sector: C1Done -> C2Done" "$T/worker.log" ||
        fail "$c1_sector did not go through C2 while the manager was frozen"
    watch_threads "$HANG_S"
    grep -Eq "the manager does not answer \(.*(timed out|Timeout|timeout|no answer from .* within)" "$T/worker.log" ||
        fail "no timed-out call logged while the manager was frozen"
    kill -CONT "$MPID"
fi

# ---- converged ------------------------------------------------------------------------------
wk_wait_proving 6 300
fault_threads_settle 60
fault_check_sectors 6 0 "$T/store1"
fault_no_tmp "$T/store1" "$T/t0" "$T/t1"
grep -q "the manager answers again after" "$T/worker.log" || fail "the recovery is not logged"
# the manager's view caught up: every sector was reported finished by the worker
assert_eq "$(wk_sectors | jq -r '[.[] | .Worker] | unique | join(",")')" "w1" "sealed by w1"
kill -TERM "$WPID"
wait "$WPID" || fail "worker exit status"
frozen=""
[ "$HANG_S" -gt 0 ] && frozen=" and frozen ${HANG_S}s"
echo "the manager away for ${DOWN_S}s$frozen: no pause, no retry counted, six sectors Proving"
