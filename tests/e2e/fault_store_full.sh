#!/usr/bin/env bash
# fault_store_full.sh — disks that fill up under a sealing thread (issue 10, fault
# injection).  The thread's data directory and the persist store are small tmpfs mounts;
# one sector meets all three faults, at moments the SEALPIPE_TEST_PAUSE points fix:
#   PC1  the data disk is filled after the first layer and stays full: PC1 fails with
#        ENOSPC on every retry, the thread pauses showing "No space left on device"; the
#        operator frees space and resumes; PC1 carries on from its first layer.
#   PC2  the data disk is filled after PC2's first chunk: PC2 fails (temporary), space is
#        freed, the retry redoes PC2.
#   finalize  the store is filled after the sealed file was copied: the cache copy fails
#        (temporary, its .tmp removed), space is freed, the retry copies and verifies all.
# A second sector then seals without faults.  At the end both sectors are Proving, the
# store holds exactly their files, no thread is stuck, no temporary file is left, and the
# meta.db (outside the full disk) recorded every retry.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/worker_lib.sh"
. "$(dirname "$0")/fault_lib.sh"
fault_need_mount

# the store on its own small filesystem, mounted before the manager declares it
fault_tmpfs "$T/store1" 2m
wk_manager_start '{ actor = 1000; sizes = [ "2KiB" ]; deals = false; max_number = 1; }'
[ -s "$T/store1/sectorstore.json" ] || fail "the manager did not declare the store on the tmpfs"
# the sealing thread's data (not its meta.db) on another one
mkdir -p "$T/t0"
fault_tmpfs "$T/t0/data" 2m
CFG="$T/worker.cfg"
wk_worker_cfg "$CFG" 'allowed_sizes = [ "2KiB" ];' "{ location = \"$T/t0\"; }" \
    "pc1 = ( { cpuset = \"$CPU0\"; share = true; } );
     pc2 = ( { cpuset = \"$CPUS\"; share = true; } );"
export SEALPIPE_TEST_PAUSE_DIR="$T/pause" SEALPIPE_TEST_PAUSE=pc1,pc2,finalize
mkdir -p "$T/pause"
threads() { "$SW" threads list -c "$CFG" --json; }
wk_worker_start "$CFG"

# ---- PC1: the disk fills up and stays full ---------------------------------------------------
wk_wait_file "$T/pause/pc1.paused" 60
fault_fill "$T/t0/data"
touch "$T/pause/pc1.resume"
sp_wait_for 60 sh -c "\"$SW\" threads list -c \"$CFG\" --json | jq -e '.[0].paused and .[0].state == \"TicketAssigned\"'" ||
    fail "the thread did not pause on a full disk: $(threads)"
err=$(threads | jq -r '.[0].last_error')
assert_contains "$err" "still failing after 3 retries: pc1:"
assert_contains "$err" "No space left on device"
fault_log_wait 5 "pc1 failed \(temporary, try 3 of 3" "$T/worker.log" "PC1 retries"
fault_log_wait 5 "pc1 failed \(permanent\); the thread pauses until .seal-worker threads resume 0.: still failing after 3 retries" \
    "$T/worker.log" "the pause"
# the manager was told, and nothing was lost meanwhile
assert_contains "$(wk_sectors | jq -r '.[0].LastError')" "No space left on device"
fault_unfill "$T/t0/data"
"$SW" threads resume 0 -c "$CFG" >/dev/null

# ---- PC2: the disk fills up once --------------------------------------------------------------
wk_wait_file "$T/pause/pc2.paused" 60
fault_fill "$T/t0/data"
touch "$T/pause/pc2.resume"
fault_log_wait 30 "pc2 failed \(temporary, try 1 of 3" "$T/worker.log" "PC2 on a full disk"
grep -E "pc2 failed \(temporary, try 1 of 3.*No space left on device" "$T/worker.log" >/dev/null ||
    fail "the PC2 failure does not say the disk is full: $(grep 'pc2 failed' "$T/worker.log")"
fault_unfill "$T/t0/data"

# ---- finalize: the store fills up once ----------------------------------------------------
wk_wait_file "$T/pause/finalize.paused" 60
fault_fill "$T/store1"
touch "$T/pause/finalize.resume"
fault_log_wait 30 "persist failed \(temporary, try 1 of 3" "$T/worker.log" "finalize on a full store"
grep -E "persist failed \(temporary, try 1 of 3.*No space left on device" "$T/worker.log" >/dev/null ||
    fail "the copy failure does not say the store is full: $(grep 'persist failed' "$T/worker.log")"
fault_no_tmp "$T/store1"
fault_unfill "$T/store1"

# ---- everything converges -----------------------------------------------------------------
wk_wait_proving 2 240
fault_threads_settle 30
fault_check_sectors 2 0 "$T/store1"
fault_no_tmp "$T/store1" "$T/t0"
[ -z "$(ls -A "$T/t0/data")" ] || fail "the data disk was not cleaned: $(ls -A "$T/t0/data")"
kill -TERM "$WPID"
wait "$WPID" || fail "worker exit status"
echo "full disks during PC1, PC2 and finalize: retried, paused with the reason, resumed; nothing lost"
