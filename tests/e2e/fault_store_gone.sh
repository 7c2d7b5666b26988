#!/usr/bin/env bash
# fault_store_gone.sh — a persist store that disappears in the middle of finalize (issue 10,
# fault injection).  The store is an ext4 image loop-mounted at $T/store1 (so its files
# survive being unmounted); the manager's heartbeats run every 300ms.  Three sectors:
#   sector 0  the store is unmounted after the sealed file was copied (the finalize pause
#             point): the next file's copy stops ("disappeared or changed during the
#             copy"), the retries refuse the empty mount point (no sectorstore.json), and
#             nothing — neither the worker nor the manager's heartbeat — writes into the
#             bare directory; remounted, the copy completes.
#   sector 1  the store is unmounted and its directory removed: the worker says the store
#             is not there and never re-creates it; the directory made and the image
#             mounted again, the copy completes.
#   sector 2  no fault.
# At the end all three are Proving with their files in the store (mounted), the bare mount
# point holds nothing, no thread is stuck, no temporary file is left.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/worker_lib.sh"
. "$(dirname "$0")/fault_lib.sh"
fault_need_mount
command -v mkfs.ext4 >/dev/null || { echo "mkfs.ext4 is not installed (e2fsprogs)"; exit 77; }
truncate -s 32M "$T/store.img"
mkfs.ext4 -q -F "$T/store.img" || fail "mkfs.ext4"
mkdir -p "$T/store1"
mount -o loop "$T/store.img" "$T/store1" 2>/dev/null || { echo "cannot loop-mount an image here"; exit 77; }
FAULT_MOUNTS="$T/store1"
store_up() { mkdir -p "$T/store1"; mount -o loop "$T/store.img" "$T/store1" || fail "remounting the store"; }
store_down() { umount "$T/store1" || umount -l "$T/store1" || fail "unmounting the store"; }

wk_manager_start '{ actor = 1000; sizes = [ "2KiB" ]; deals = false; max_number = 2; }'
[ -s "$T/store1/sectorstore.json" ] || fail "the manager did not declare the store"
# heartbeats every 300ms, short cool-downs: the manager looks at the store while it is gone
kill -TERM "$MPID"
wait "$MPID" || true
echo 'storage = { tick = "100ms"; health = { interval = "300ms"; cooldown = "1s"; }; };' >>"$H/manager.cfg"
"$SM" config check --home "$H" >/dev/null
wk_manager_run

CFG="$T/worker.cfg"
wk_worker_cfg "$CFG" 'allowed_sizes = [ "2KiB" ];' "{ location = \"$T/t0\"; }" ""
export SEALPIPE_TEST_PAUSE_DIR="$T/pause" SEALPIPE_TEST_PAUSE=finalize
mkdir -p "$T/pause"
threads() { "$SW" threads list -c "$CFG" --json; }
wk_worker_start "$CFG"
# nothing appears in the bare mount point for a while (worker retries, manager heartbeats)
bare_stays_empty() {
    local i
    for i in $(seq 20); do
        [ -z "$(ls -A "$T/store1" 2>/dev/null)" ] || fail "something was written into the bare mount point: $(ls -lA "$T/store1")"
        sleep 0.2
    done
}

# ---- sector 0: unmounted between two files ---------------------------------------------------
wk_wait_file "$T/pause/finalize.paused" 60
[ -s "$T/store1/sealed/s-t01000-0" ] || fail "the sealed file was not copied before the pause"
store_down
touch "$T/pause/finalize.resume"
fault_log_wait 30 "persist failed \(temporary, try 1 of 3.*store store1: $T/store1 disappeared or changed during the copy" \
    "$T/worker.log" "the copy stopping when the store went"
bare_stays_empty
grep -q "store store1: $T/store1 has no readable sectorstore.json" "$T/worker.log" ||
    grep -q "no persist store has room for s-t01000-0" "$T/worker.log" ||
    fail "the retries did not refuse the bare mount point: $(grep -E 'persist|store1' "$T/worker.log" | tail -5)"
# the thread may have paused after its retries: a clear error, resumed once the store is back
store_up
if [ "$(threads | jq -r '.[0].paused')" = true ]; then
    assert_contains "$(threads | jq -r '.[0].last_error')" "store1"
    "$SW" threads resume 0 -c "$CFG" >/dev/null
fi
sp_wait_for 60 sh -c "\"$SM\" sectors list --home \"$H\" --json | jq -e '.[] | select(.ID.Number == 0) | .State == \"Proving\"'" ||
    fail "sector 0 did not reach Proving after the store came back: $(threads)"
[ -s "$T/store1/cache/s-t01000-0/p_aux" ] || fail "sector 0's cache is not in the remounted store"

# ---- sector 1: unmounted and the directory removed ------------------------------------------
rm -f "$T/pause/finalize.paused" "$T/pause/finalize.resume"
wk_wait_file "$T/pause/finalize.paused" 90
store_down
rmdir "$T/store1"
touch "$T/pause/finalize.resume"
fault_log_wait 30 "store store1: $T/store1 (is not a directory here|disappeared or changed)" "$T/worker.log" \
    "the store directory gone"
for i in $(seq 20); do
    [ ! -e "$T/store1" ] || fail "the removed store directory was re-created: $(ls -lA "$T/store1")"
    sleep 0.2
done
store_up
if [ "$(threads | jq -r '.[0].paused')" = true ]; then
    "$SW" threads resume 0 -c "$CFG" >/dev/null
fi

# ---- sector 2 and the end ----------------------------------------------------------------
wk_wait_proving 3 240
fault_threads_settle 30
fault_check_sectors 3 0 "$T/store1"
fault_no_tmp "$T/store1" "$T/t0"
kill -TERM "$WPID"
wait "$WPID" || fail "worker exit status"
# nothing was written beside the store on the filesystem under it
kill -TERM "$MPID"
wait "$MPID" || true
store_down
[ -z "$(ls -A "$T/store1")" ] || fail "files were written into the bare mount point: $(ls -lAR "$T/store1")"
store_up
echo "a store unmounted and removed mid-copy: the copy stopped, nothing written outside it, all sectors Proving"
