#!/usr/bin/env bash
# fault_clock_jump.sh — a worker's wall clock jumps while it seals (issue 10, fault
# injection).  The worker and its processor children run with clock_shift.c preloaded, so
# writing a number of seconds to $T/shift moves CLOCK_REALTIME for all of them at once
# (the manager keeps the true time).  Two sealing threads, four 2KiB sectors:
#   +3 days    while a sector is held in PC1;
#   -2 hours   (a jump back of three days and two hours) while a sector is held before C1;
#   kill -9    of the worker with its meta.db full of timestamps from "the future", and a
#              restart on the earlier clock.
# Every timer of the worker (stage timeouts, retry delays, polling, pings) runs on the
# monotonic clock, so a jump must fire none of them: no child killed for a timeout, no
# retry, no "manager unreachable".  All four sectors end Proving with their files in the
# store, none twice, every thread back to Empty, and the log shows both clocks.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/worker_lib.sh"
. "$(dirname "$0")/fault_lib.sh"

CC=${CC:-cc}
command -v "$CC" >/dev/null || { echo "no C compiler to build the clock shim"; exit 77; }
"$CC" -shared -fPIC -O2 -Wall -Wextra -Werror -o "$T/clock_shift.so" \
    "$SP_TESTS/e2e/clock_shift.c" -ldl || fail "building clock_shift.so"
echo 0 >"$T/shift"

wk_manager_start '{ actor = 1000; sizes = [ "2KiB" ]; deals = false; max_number = 3; }'
CFG="$T/worker.cfg"
WK_MAX_RETRIES=3 wk_worker_cfg "$CFG" 'allowed_sizes = [ "2KiB" ];' \
    "{ location = \"$T/t0\"; }, { location = \"$T/t1\"; }" \
    "limitation = { timeout = { pc1 = \"10min\"; pc2 = \"10min\"; c1 = \"10min\"; c2 = \"10min\"; }; };
     pc1 = ( { cpuset = \"$CPUS\"; share = true; } );
     pc2 = ( { cpuset = \"$CPUS\"; share = true; } );
     c1 = ( { cpuset = \"$CPUS\"; share = true; } );
     c2 = ( { cpuset = \"$CPUS\"; share = true; } );"
export SEALPIPE_TEST_PAUSE_DIR="$T/pause" SEALPIPE_TEST_PAUSE=pc1,c1
mkdir -p "$T/pause"

# only the worker (and its children) runs on the shifted clock; an ASan build must accept
# a preloaded library ahead of its runtime
start_shifted_worker() {
    SP_CLOCK_SHIFT_FILE="$T/shift" LD_PRELOAD="$T/clock_shift.so" \
        ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" \
        wk_worker_start "$CFG"
}
# the date the worker's log lines carry N seconds from now
day_in() { date -u -d "@$(( $(date +%s) + $1 ))" +%Y-%m-%d; }
start_shifted_worker

# ---- three days ahead, during PC1 -----------------------------------------------------------------
wk_wait_file "$T/pause/pc1.paused" 60
echo 259200 >"$T/shift"
sleep 0.3
touch "$T/pause/pc1.resume"
fault_log_wait 60 "^$(day_in 259200)T.* -> PC1Done" "$T/worker.log" "a transition logged three days ahead"

# ---- back by three days and two hours, before C1 ----------------------------------------------
wk_wait_file "$T/pause/c1.paused" 120
echo -7200 >"$T/shift"
sleep 0.3
touch "$T/pause/c1.resume"
fault_log_wait 60 "^$(day_in -7200)T.* -> C1Done" "$T/worker.log" "a transition logged on the earlier clock"

# ---- a crash with "future" timestamps in meta.db, a restart on the earlier clock ---------------
wk_wait_proving 1 120
wk_worker_kill9
start_shifted_worker
wk_wait_proving 4 240
fault_threads_settle 60
fault_check_sectors 4 0 "$T/store1"
fault_no_tmp "$T/store1" "$T/t0" "$T/t1"

# no timer fired because of a jump
! grep -E "killing it|was killed|failed \(temporary|failed \(permanent|unreachable" "$T/worker.log" ||
    fail "a clock jump set off a timeout, a retry or a manager outage (lines above)"
"$SW" threads list -c "$CFG" --json | jq -e 'all(.[]; .retry == 0 and .paused == false)' >/dev/null ||
    fail "a thread counted a retry or paused: $("$SW" threads list -c "$CFG")"
kill -TERM "$WPID"
wait "$WPID" || fail "worker exit status"
echo "the worker's clock jumped +3 days and back by 3 days 2 hours, with a crash: four sectors Proving, no timer fired"
