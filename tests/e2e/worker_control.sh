#!/usr/bin/env bash
# worker_control.sh — operating a worker with a real manager: refusing to start with an
# attached store the manager does not know; `threads abort` of a sector in the middle of
# PC1 (the stage is cancelled, the manager records the abort with its reason); an abort
# done on the manager side (`sector-manager sectors abort`) reaching the worker through
# ReportState (Finalized=true) and cleaning its location; `threads pause`/`resume` and
# `resume --state` (tree_d redone); the manager stopped for a while: that is not a failure
# of the sectors (no retries counted, no pause: the threads say "manager unreachable" and
# try again with a backoff), and they go on once the manager is back.  At the end every
# sector is Proving or Aborted, none twice.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/worker_lib.sh"

MPORT=$(sp_free_port)
wk_manager_start '{ actor = 1000; sizes = [ "2KiB" ]; deals = false; max_number = 5; }'
CFG="$T/worker.cfg"
threads() { "$SW" threads list -c "$CFG" --json; }
sw() { "$SW" "$@" -c "$CFG"; }

# ---- an attached store the manager does not know: refused, named --------------------------
wk_worker_cfg "$T/bad.cfg" '' "{ location = \"$T/tb\"; }" ""
sed -i "s|^attached = .*|attached = ( { name = \"store1\"; location = \"$T/store1\"; }, { name = \"ghost\"; location = \"$T/ghost\"; } );|" "$T/bad.cfg"
out=$(timeout 30 "$SW" daemon -c "$T/bad.cfg" 2>&1) && fail "the worker started with an unknown store"
assert_contains "$out" "attached store \"ghost\""
assert_contains "$out" "unknown to the manager"
[ ! -e "$T/tb/meta.db" ] || fail "a sealing thread started anyway"

# ---- a worker with 2 threads; pc1 in a processor -----------------------------------------
WPORT=$(sp_free_port)
wk_worker_cfg "$CFG" 'allowed_sizes = [ "2KiB" ];' \
    "{ location = \"$T/t0\"; }, { location = \"$T/t1\"; }" \
    "pc1 = ( { cpuset = \"$CPU0\"; share = true; } );"
export SEALPIPE_TEST_PAUSE_DIR="$T/pause" SEALPIPE_TEST_PAUSE=tree_d,pc1,c1
mkdir -p "$T/pause"
wk_worker_start "$CFG"

# ---- threads abort during PC1 --------------------------------------------------------------
wk_wait_file "$T/pause/pc1.paused" 60
pc1_pid=$(cat "$T/pause/pc1.paused")
victim=$(threads | jq -r ".[] | select(.pid == $pc1_pid)")
idx=$(echo "$victim" | jq -r .index)
sector=$(echo "$victim" | jq -r .sector)
num=${sector##*-}
out=$(sw threads abort "$idx" --reason "operator test")
assert_contains "$out" "abort requested"
sp_wait_for 30 sh -c "\"$SM\" sectors list --home \"$H\" --json | jq -e '.[] | select(.ID.Number == $num) | .Aborted'" ||
    fail "the manager did not record the abort of $sector"
assert_contains "$(wk_sectors | jq -r ".[] | select(.ID.Number == $num) | .AbortReason")" "operator test"
grep -q "thread $idx: $sector aborted (operator test)" "$T/worker.log" || fail "no abort in the worker log"
# the pc1 child stopped the cancelled task but lives on
kill -0 "$pc1_pid" || fail "the pc1 child died on cancel"
sp_wait_for 20 sh -c "\"$SW\" threads list -c \"$CFG\" --json | jq -e '.[$idx].sector != \"$sector\"'"

# ---- pause, resume, resume --state, on the thread held in tree_d ----------------------------
wk_wait_file "$T/pause/tree_d.paused" 60
p=$(threads | jq -r '.[] | select(.state == "PieceAdded") | .index')
paused_sector=$(threads | jq -r ".[$p].sector")
sw threads pause "$p" >/dev/null
touch "$T/pause/tree_d.resume"
sp_wait_for 30 sh -c "\"$SW\" threads list -c \"$CFG\" --json | jq -e '.[$p].job == \"paused\" and .[$p].state == \"TreeDBuilt\"'" ||
    fail "thread $p did not pause after tree_d: $(threads)"
out=$(sw threads pause "$p" 2>&1) && fail "pausing a paused thread succeeded"
assert_contains "$out" "already paused"
out=$(sw threads resume "$p" --state Sealed 2>&1) && fail "resume to a bogus state succeeded"
assert_contains "$out" "not a state of plan sealer"
sw threads resume "$p" --state PieceAdded >/dev/null
sp_wait_for 60 sh -c "[ \$(grep -c 'thread $p: $paused_sector: PieceAdded -> TreeDBuilt' '$T/worker.log') = 2 ]" ||
    fail "tree_d of $paused_sector was not redone after resume --state PieceAdded"
out=$(sw threads resume "$p" 2>&1) && fail "resuming a running thread succeeded"
assert_contains "$out" "is not paused"

# ---- abort on the manager side, while C1 runs ---------------------------------------------
wk_wait_file "$T/pause/c1.paused" 60
sp_wait_for 20 sh -c "\"$SW\" threads list -c \"$CFG\" --json | jq -e '[.[] | select(.state == \"SeedAssigned\")] | length == 1'"
c1_thread=$(threads | jq -r '.[] | select(.state == "SeedAssigned") | .index')
c1_sector=$(threads | jq -r ".[$c1_thread].sector")
"$SM" sectors abort "${c1_sector##*-}" --miner 1000 --reason "manager test" --home "$H" >/dev/null
touch "$T/pause/c1.resume"
sp_wait_for 30 grep -q "thread $c1_thread: $c1_sector: the manager dropped the sector" "$T/worker.log" ||
    fail "the worker did not drop $c1_sector"
sp_wait_for 20 sh -c "\"$SW\" threads list -c \"$CFG\" --json | jq -e '.[$c1_thread].sector != \"$c1_sector\"'"

# ---- the manager goes away: no retry counted, no pause; waiting with a backoff -----------
kill -TERM "$MPID"
wait "$MPID" 2>/dev/null || true
sp_wait_for 90 sh -c "\"$SW\" threads list -c \"$CFG\" --json | jq -e 'any(.[]; .activity | test(\"manager unreachable\"))'" ||
    fail "no thread waits for the manager: $(threads)"
sleep 6   # 3 retries 1s apart would have paused a thread by now
threads | jq -e 'all(.[]; .paused == false)' >/dev/null || fail "a thread paused while the manager was away: $(threads)"
grep -q "the manager does not answer" "$T/worker.log" || fail "the absent manager is not in the log"
grep -q "does not count against max_retries" "$T/worker.log" || fail "the log does not say the wait is not a retry"
wk_manager_run
for i in 0 1; do
    if [ "$(threads | jq -r ".[$i].paused")" = true ]; then sw threads resume "$i" >/dev/null; fi
done

# ---- everything ends Proving or Aborted -----------------------------------------------------
sp_wait_for 240 sh -c "\"$SM\" sectors list --home \"$H\" --json | jq -e 'length == 6 and all(.[]; .State == \"Proving\" or .Aborted)'" ||
    { "$SM" sectors list --home "$H" >&2; threads >&2; fail "sectors did not all end"; }
json=$(wk_sectors)
assert_eq "$(echo "$json" | jq '[.[] | select(.Aborted)] | length')" "2" "aborted sectors"
assert_eq "$(echo "$json" | jq '[.[] | .ID.Number] | unique | length')" "6" "distinct sectors"
for n in $(echo "$json" | jq -r '.[] | select(.State == "Proving") | .ID.Number'); do
    [ "$(stat -c %s "$T/store1/sealed/s-t01000-$n")" = 2048 ] || fail "sealed file of $n"
done
sp_wait_for 30 sh -c "\"$SW\" threads list -c \"$CFG\" --json | jq -e 'all(.[]; .state == \"Empty\" and .paused == false)'" ||
    fail "threads not idle: $(threads)"
kill -TERM "$WPID"
wait "$WPID"
echo "abort (worker and manager side), pause/resume, retries and an absent manager handled"
