#!/usr/bin/env bash
# worker_batch.sh — batched PC1 (issue 11) with a real sector-manager: one seal-worker with
# 4 sealing threads and `batch = 2` on its pc1 processor seals 4 2KiB sectors to Proving.
# The pc1 child is killed (SIGKILL) in the middle of the first batch, at the pc1 pause
# point (after a layer is on disk): both of its sectors fail as temporary, their threads
# retry PC1, and they come back as a batch of their own.  Checked: every batch started
# with 2 sectors ("full"), two batches ended with 2 done, the killed one with 2 failed;
# `seal-worker plan` shows the batches; every sector Proving; the pc1 stage metrics count
# each sector once, the batch metrics three full batches of six sectors in all.  Then, with
# a fresh manager and 2 threads, one sector of a running batch is aborted (`threads
# abort`): it leaves the batch, the manager records the abort, the pc1 child lives on, its
# batch-mate reaches Proving, and the next sector goes alone after batch_wait.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/worker_lib.sh"

wk_manager_start '{ actor = 1000; sizes = [ "2KiB" ]; deals = false; max_number = 3; }'
CFG="$T/worker.cfg"
wk_worker_cfg "$CFG" 'allowed_sizes = [ "2KiB" ];' \
    "{ location = \"$T/t0\"; }, { location = \"$T/t1\"; },
     { location = \"$T/t2\"; }, { location = \"$T/t3\"; }" \
    "pc1 = ( { cpuset = \"$CPU0\"; share = true; batch = 2; batch_wait = \"30s\"; } );
     pc2 = ( { cpuset = \"$CPUS\"; share = true; } );
     c2 = ( { cpuset = \"$CPUS\"; share = true; } );"

# the plan shows the batches: 1 slot x 2 sectors, 2 x 2 x 2KiB of layers per batch
plan=$("$SW" plan -c "$CFG")
assert_contains "$plan" "pc1[0]           batch 2, batch_wait 30s: up to 2 sectors in PC1 (1 slot x 2)"
assert_contains "$plan" "8.0 KiB per batch of 2KiB sectors"
pj=$("$SW" plan -c "$CFG" --json)
assert_eq "$(echo "$pj" | jq -c '.processors[0].batch | [.size, .wait_ms, .sectors_at_once]')" \
    "[2,30000,2]" "plan --json batch"
assert_eq "$(echo "$pj" | jq -c '.processors[0].batch.memory[0] | [.sector_size, .bytes]')" \
    "[2048,8192]" "plan --json batch memory"
assert_eq "$(echo "$pj" | jq -c '.processors[1].batch')" "null" "pc2 has no batch"

export SEALPIPE_TEST_PAUSE_DIR="$T/pause" SEALPIPE_TEST_PAUSE=pc1
mkdir -p "$SEALPIPE_TEST_PAUSE_DIR"
wk_worker_start "$CFG"
wk_wait_file "$T/pause/pc1.paused" 60
pc1_pid=$(cat "$T/pause/pc1.paused")
assert_contains "$(tr '\0' '\n' <"/proc/$pc1_pid/environ")" "SEALPIPE_PROC_STAGE=pc1"
# the paused child runs batch 1, which holds two sectors
sp_wait_for 10 grep -q "pc1 batch 1 starts" "$T/worker.log"
assert_contains "$(grep "pc1 batch 1 starts" "$T/worker.log")" "2 sectors of proof"
# its two threads show the batch's child; the other two wait in the queue for the next
threads() { "$SW" threads list -c "$CFG" --json; }
assert_eq "$(threads | jq "[.[] | select(.pid == $pc1_pid and .stage == \"pc1\")] | length")" "2" \
    "threads running on the paused batch"
sp_wait_for 30 sh -c "\"$SW\" threads list -c \"$CFG\" --json | jq -e '[.[] | select(.activity == \"pc1: waiting for a batch\" and .job == \"waiting\")] | length == 2'" ||
    fail "two threads should wait for the next batch: $(threads)"
kill -KILL "$pc1_pid"

wk_wait_proving 4 120
wk_check_all_proving 4

grep "pc1 batch" "$T/worker.log" >"$T/batches.log" || true
starts=$(grep -c "starts on pc1\[0\]" "$T/batches.log" || true)
assert_eq "$starts" "3" "batches started (the killed one, then two): $(cat "$T/batches.log")"
assert_eq "$(grep "starts on" "$T/batches.log" | grep -c "2 sectors of proof 5 .*full (2 of 2)")" \
    "3" "every batch full with 2 sectors: $(cat "$T/batches.log")"
assert_eq "$(grep -c "ended in .*: 2 done, 0 failed" "$T/batches.log")" "2" \
    "batches that sealed two sectors: $(cat "$T/batches.log")"
grep -q "pc1 batch 1 ended in .*: 0 done, 2 failed.*was killed by signal 9" "$T/batches.log" ||
    fail "the killed batch did not fail both sectors: $(cat "$T/batches.log")"
assert_eq "$(grep -c "pc1 failed (temporary, try 1 of 3" "$T/worker.log")" "2" \
    "threads retrying PC1 after the kill"
# the batches after the kill: the two sectors of batch 1 together again
b1=$(sed -n 's/.*pc1 batch 1 starts on pc1\[0\]: 2 sectors of proof 5 (\(.*\)), full.*/\1/p' "$T/batches.log")
again=$(grep "starts on" "$T/batches.log" | tail -n 2 | grep -F "${b1%%, *}" || true)
assert_contains "$again" "${b1##*, }" "batch 1's sectors ($b1) batched together again"

m=$(curl -sS "http://127.0.0.1:$WPORT/metrics")
assert_contains "$m" 'sealpipe_worker_stage_seconds_count{stage="pc1"} 4'
assert_contains "$m" 'sealpipe_worker_sectors_total{result="finished"} 4'
assert_contains "$m" 'sealpipe_worker_pc1_batches_total{reason="full"} 3'
assert_contains "$m" 'sealpipe_worker_pc1_batch_sectors_total 6'
assert_contains "$m" 'sealpipe_worker_pc1_batch_waiting 0'
assert_contains "$m" 'sealpipe_worker_pc1_batch_running 0'
sp_wait_for 30 sh -c "\"$SW\" threads list -c \"$CFG\" --json | jq -e 'all(.[]; .state == \"Empty\" and .paused == false)'" ||
    fail "threads not back to Empty"
kill -TERM "$WPID"
wait "$WPID"
assert_eq "$?" "0" "exit status after SIGTERM"

# ---- one sector of a running batch aborted: its batch-mate goes on ---------------------------
# a fresh manager (sectors 0-2) and a worker with 2 threads; batch 1 is held at the pause
# point while one of its threads is aborted
kill -TERM "$MPID"
wait "$MPID" 2>/dev/null || true
mv "$T/worker.log" "$T/worker-kill.log"
rm -rf "$T/home" "$T/store1" "$T"/t0 "$T"/t1 "$T"/t2 "$T"/t3
wk_manager_start '{ actor = 1000; sizes = [ "2KiB" ]; deals = false; max_number = 2; }'
WPORT=$(sp_free_port)
wk_worker_cfg "$CFG" 'allowed_sizes = [ "2KiB" ];' \
    "{ location = \"$T/t0\"; }, { location = \"$T/t1\"; }" \
    "pc1 = ( { cpuset = \"$CPU0\"; share = true; batch = 2; batch_wait = \"3s\"; } );
     pc2 = ( { cpuset = \"$CPUS\"; share = true; } );
     c2 = ( { cpuset = \"$CPUS\"; share = true; } );"
export SEALPIPE_TEST_PAUSE_DIR="$T/pause2"
mkdir -p "$SEALPIPE_TEST_PAUSE_DIR"
wk_worker_start "$CFG"
wk_wait_file "$T/pause2/pc1.paused" 60
pc1_pid=$(cat "$T/pause2/pc1.paused")
sp_wait_for 10 sh -c "\"$SW\" threads list -c \"$CFG\" --json | jq -e '[.[] | select(.pid == $pc1_pid)] | length == 2'" ||
    fail "both threads should run on the paused batch: $(threads)"
idx=$(threads | jq -r "[.[] | select(.pid == $pc1_pid)][0].index")
sector=$(threads | jq -r ".[$idx].sector")
mate=$(threads | jq -r "[.[] | select(.pid == $pc1_pid and .index != $idx)][0].sector")
num=${sector##*-}
assert_contains "$("$SW" threads abort "$idx" --reason "batch test" -c "$CFG")" "abort requested"
sp_wait_for 30 sh -c "\"$SM\" sectors list --home \"$H\" --json | jq -e '.[] | select(.ID.Number == $num) | .Aborted'" ||
    fail "the manager did not record the abort of $sector"
grep -q "$sector: cancelled; leaving pc1 batch 1 (its other sectors go on)" "$T/worker.log" ||
    fail "the aborted sector did not leave its batch: $(grep 'pc1 batch' "$T/worker.log")"
kill -0 "$pc1_pid" || fail "the batch's child died when one of its sectors was cancelled"
touch "$T/pause2/pc1.resume"
# the batch-mate and the sector the aborted thread took next reach Proving; the latter
# alone, after batch_wait, since no other sector is left to pair it with
wk_wait_proving 2 120
json=$(wk_sectors)
assert_eq "$(echo "$json" | jq length)" "3" "sectors handed out"
assert_eq "$(echo "$json" | jq -r "[.[] | select(.Aborted) | .ID.Number] | join(\",\")")" "$num" "aborted sectors"
assert_eq "$(echo "$json" | jq -r "[.[] | select(.ID.Number == ${mate##*-}) | .State][0]")" "Proving" "$mate"
grep -q "$mate: TicketAssigned -> PC1Done" "$T/worker.log" || fail "$mate did not finish PC1 in batch 1"
grep -q "pc1 batch 1 ended in .*: [12] done" "$T/worker.log" || fail "batch 1 did not finish its sectors"
grep -q "pc1 batch 2 starts on pc1\[0\]: 1 sector of proof 5 (s-t01000-2), waited" "$T/worker.log" ||
    fail "the next sector did not go alone after batch_wait: $(grep 'pc1 batch' "$T/worker.log")"
kill -TERM "$WPID"
wait "$WPID"
assert_eq "$?" "0" "exit status after SIGTERM"
echo "4 sectors sealed in batches of 2 (one batch killed and resumed); one sector aborted mid-batch, its batch-mate sealed"
