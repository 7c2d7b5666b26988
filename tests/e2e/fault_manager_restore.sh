#!/usr/bin/env bash
# fault_manager_restore.sh — the sector-manager restarted from a backup older than what
# its worker did since (issue 10, fault injection).  One worker, two sealing threads:
# thread 0 seals for miner f01000, thread 1 for f01001 (a miner added to manager.cfg after
# the backup).  The pause points hold sectors at known steps:
#   backup B   taken while s-t01000-0 is in PC1 (B knows it at TicketAssigned).
#   after B    f01001 is added; s-t01001-0 is allocated, sealed, precommitted and half
#              copied to the store (held at finalize); s-t01000-0 goes on through its
#              precommit, persist and seed (held before C1).
#   restore    the manager is stopped, B restored, the manager started again.
# Then: s-t01001-0, unknown to the restored manager, is given up by its thread with a clear
# error ("does not know this sector"), not paused; its number is never handed out again
# (the restore keeps every miner's numbering above what the replaced database gave out);
# s-t01000-0, whose precommit the restored manager lost, gets its C2 proof rejected, the
# worker finds the precommit gone, submits it again and redoes the steps after it, and
# ends Proving.  Every miner's numbering goes on above the limit the replaced database had
# reached (as after any crash), so no further sector fits the miners' max_number and the
# threads go idle.  The store holds the Proving sector's files and, as the only orphan,
# what was copied for s-t01001-0.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/worker_lib.sh"
. "$(dirname "$0")/fault_lib.sh"

MPORT=$(sp_free_port)
wk_manager_start '{ actor = 1000; sizes = [ "2KiB" ]; deals = false; max_number = 1; }'
CFG="$T/worker.cfg"
wk_worker_cfg "$CFG" 'allowed_sizes = [ "2KiB" ];' \
    "{ location = \"$T/t0\"; sealing = { allowed_miners = [ 1000 ]; }; },
     { location = \"$T/t1\"; sealing = { allowed_miners = [ 1001 ]; }; }" \
    ""
export SEALPIPE_TEST_PAUSE_DIR="$T/pause" SEALPIPE_TEST_PAUSE=pc1,finalize,c1
mkdir -p "$T/pause"
threads() { "$SW" threads list -c "$CFG" --json; }
state_of() { wk_sectors | jq -r ".[] | select(.ID.Miner == $1 and .ID.Number == $2) | .State"; }
wk_worker_start "$CFG"

# ---- the backup, while s-t01000-0 is in PC1 -------------------------------------------------
wk_wait_file "$T/pause/pc1.paused" 60
assert_eq "$(threads | jq -r '.[0].sector')" "s-t01000-0" "thread 0's sector"
"$SM" backup create "$T/b.db" --home "$H" >"$T/backup.out" || fail "backup: $(cat "$T/backup.out")"
assert_eq "$(state_of 1000 0)" "TicketAssigned" "s-t01000-0 in the backup"

# ---- after the backup: a new miner's sector, and s-t01000-0 past its precommit ------------
kill -TERM "$MPID"
wait "$MPID" || true
sed -i 's/^miners = ( /miners = ( { actor = 1001; sizes = [ "2KiB" ]; deals = false; max_number = 0; }, /' "$H/manager.cfg"
"$SM" config check --home "$H" >/dev/null
wk_manager_run
wk_wait_file "$T/pause/finalize.paused" 60
assert_eq "$(threads | jq -r '.[1].sector')" "s-t01001-0" "thread 1 holds the new miner's sector at finalize"
[ -s "$T/store1/sealed/s-t01001-0" ] || fail "s-t01001-0's sealed file is not in the store"
touch "$T/pause/pc1.resume"
wk_wait_file "$T/pause/c1.paused" 60
assert_eq "$(threads | jq -r '.[0].state')" "SeedAssigned" "s-t01000-0 held before C1"
assert_eq "$(state_of 1000 0)" "SeedAssigned" "the live manager saw s-t01000-0's precommit land"

# ---- the restore ----------------------------------------------------------------------------
kill -TERM "$MPID"
wait "$MPID" || true
"$SM" backup restore "$T/b.db" --home "$H" >"$T/restore.out" || fail "restore: $(cat "$T/restore.out")"
wk_manager_run
assert_eq "$(state_of 1000 0)" "TicketAssigned" "the restored manager is back in the past"
touch "$T/pause/finalize.resume" "$T/pause/c1.resume"

# ---- the worker reconciles ------------------------------------------------------------------
fault_log_wait 60 "thread 1: s-t01001-0: the manager does not know this sector" "$T/worker.log" "the unknown sector"
fault_log_wait 60 "thread 1: s-t01001-0 aborted \(manager: the manager does not know the sector" "$T/worker.log" \
    "the unknown sector given up"
fault_log_wait 60 "s-t01000-0: the manager has no precommit for this sector any more" "$T/worker.log" \
    "the lost precommit found"
fault_log_wait 60 "thread 0: s-t01000-0: C2Done -> PC2Done the manager lost the precommit" "$T/worker.log" \
    "the precommit submitted again"
wk_wait_proving 1 240
fault_threads_settle 60
json=$(wk_sectors)
assert_eq "$(echo "$json" | jq -c '[.[] | "\(.ID.Miner)-\(.ID.Number):\(.State)"] | sort')" \
    '["1000-0:Proving"]' "the restored manager's sectors"
# s-t01001-0 was handed out once: never again after the restore
grep -c "s-t01001-0: Empty -> Allocated" "$T/worker.log" | grep -qx 1 ||
    fail "s-t01001-0 was allocated twice: $(grep 's-t01001-0: Empty -> Allocated' "$T/worker.log")"
grep -q "miners = ( { actor = 1001" "$H/manager.cfg" || fail "the config lost miner 1001"
# the store: the two Proving sectors, and the given-up sector's copy as the only orphan
mv "$T/store1/sealed/s-t01001-0" "$T/orphan-sealed"
fault_check_sectors 1 0 "$T/store1"
fault_no_tmp "$T/store1" "$T/t0" "$T/t1"
kill -TERM "$WPID"
wait "$WPID" || fail "worker exit status"
echo "a manager restored from an older backup: unknown sector given up, lost precommit resubmitted, no number reused"
