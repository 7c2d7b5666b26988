#!/bin/bash
# worker_unseal.sh — a real seal-worker with an unseal thread recovers deal data for
# retrieval (issue 8's unseal tasks, played by a script in storage_retrieval.sh):
# a raw deal is imported into a sector-manager with a hot store for unsealed copies and a
# warm one for sealed sectors; the worker's sealer thread seals it (2KiB) to Proving.
# Then every unsealed copy is deleted (the hot replica and the piece store's file):
# /ipfs answers 503 with Retry-After and queues an unseal task; the worker's thread with
# plan = "unseal" takes it (AllocateUnsealSector), unseals the piece from the sealed
# sector in warm1 through an unseal processor, copies it to the store AcquireUnsealDest
# names (hot1), reports it (AchieveUnsealSector); the manager verifies the CommP and the
# block is served again, bytes identical.  The sector stays Proving, the thread is back to
# Empty with its location clean, and the worker never reported the unseal task's sector
# with ReportState (its state would have been overwritten).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/storage_lib.sh"
SW="$SP_BIN/seal-worker"
[ -x "$SW" ] || { echo "seal-worker is not built"; exit 77; }

mkdir -p "$T/hot1" "$T/warm1"
st_init "persist_stores = (
  { name = \"hot1\"; path = \"$T/hot1\"; tier = \"hot\"; domain = \"rack-a/h1\"; allow_types = [ \"unsealed\" ]; },
  { name = \"warm1\"; path = \"$T/warm1\"; tier = \"warm\"; domain = \"rack-b/h1\"; } );
storage = { policy = { unsealed = { hot = 1; }; }; tick = \"100ms\"; health = { interval = \"300ms\"; };
  reconcile = { interval = \"500ms\"; }; scrub = { light_every = \"0\"; deep_every = \"0\"; };
  gc = { mark_every = \"0\"; }; retrieval = { retry_after = \"1s\"; }; };"
# one sector only: the deal's
sed -i 's/deals = true; }/deals = true; max_number = 0; }/' "$H/manager.cfg"
sed -i 's/level = "debug"/level = "info"/' "$H/manager.cfg"
"$SM" config check --home "$H" >/dev/null
st_start

head -c 1500 /dev/urandom >"$T/deal.bin"
CID=$(st_import "$T/deal.bin")
sp_wait_for 20 indexed "$CID" done
sp_wait_for 30 copies_ok "$CID" 1
BLOCK=$(piece_json "$CID" | jq -r '.Blocks[0].CID')
assert_eq "$(piece_json "$CID" | jq -r '.Blocks | length')" "1" "one raw block"

# ---- a worker: a sealer thread and an unseal thread --------------------------------------
CPUS=$(awk '/^Cpus_allowed_list/ {print $2}' /proc/self/status)
CPU0=${CPUS%%[-,]*}
WPORT=$(sp_free_port)
CFG="$T/worker.cfg"
cat >"$CFG" <<EOF
worker = { name = "wu"; listen = "127.0.0.1:$WPORT"; };
sector_manager = { url = "http://$API"; token_file = "$H/worker.token"; };
sealing = { allowed_sizes = [ "2KiB" ]; enable_deals = true; max_retries = 3; seal_interval = "0s";
            recover_interval = "1s"; rpc_polling_interval = "200ms"; };
sealing_thread = ( { location = "$T/seal0"; }, { location = "$T/unseal0"; plan = "unseal"; } );
attached = ( { name = "warm1"; location = "$T/warm1"; }, { name = "hot1"; location = "$T/hot1"; } );
processors = { parent_cache = "$T/parents"; unseal = ( { cpuset = "$CPU0"; share = true; } ); };
EOF
"$SW" check-config -c "$CFG" --quiet
"$SW" daemon -c "$CFG" >>"$T/worker.log" 2>&1 &
WPID=$!
sp_track $WPID
sp_wait_port "$WPORT" 20
threads() { "$SW" threads list -c "$CFG" --json; }
assert_eq "$(threads | jq -r '[.[] | .plan] | join(",")')" "sealer,unseal" "thread plans"

proving() { [ "$("$SM" sectors list --json --home "$H" | jq -r '.[0].State')" = Proving ]; }
sp_wait_for 120 proving || { tail -n 30 "$T/worker.log" >&2; fail "the deal's sector did not reach Proving"; }
assert_eq "$("$SM" sectors list --json --home "$H" | jq length)" "1" "one sector"
[ -s "$T/warm1/sealed/s-t01000-0" ] || fail "the sealed sector is not in warm1"
assert_contains "$("$SM" pieces show "$CID" --home "$H")" "Sealed" "the deal is sealed"
# the unseal thread waited quietly for a task
assert_eq "$(threads | jq -r '.[1].state')" "Empty" "unseal thread idle"

# ---- every unsealed copy gone: 503, then the worker unseals ------------------------------
rm -f "$T/hot1/unsealed/$CID" "$H/pieces/$CID"
hdr=$(curl -sS -o /dev/null -D - -H "Authorization: Bearer $ATOKEN" "http://$API/ipfs/$BLOCK?format=raw")
assert_contains "$hdr" "HTTP/1.1 503"
assert_contains "$hdr" "Retry-After: 1"
served() { [ "$(get_block "$BLOCK" "$T/back")" = 200 ]; }
sp_wait_for 90 served || { tail -n 30 "$T/worker.log" >&2; piece_json "$CID" >&2; fail "the block was not served again"; }
cmp "$T/back" "$T/deal.bin" || fail "the block served after unsealing differs from the imported file"
code=$(curl -sS -o "$T/piece" -w '%{http_code}' -H "Authorization: Bearer $ATOKEN" "http://$API/piece/$CID")
assert_eq "$code" "200" "the piece is served again"
cmp "$T/piece" "$T/deal.bin" || fail "the piece differs"
cmp "$T/hot1/unsealed/$CID" "$T/deal.bin" || fail "the recovered replica in hot1"
PJ=$(piece_json "$CID")
assert_eq "$(echo "$PJ" | jq -r '.Unseal[0].State')" "done" "unseal task done"
assert_eq "$(echo "$PJ" | jq -r '.Unseal[0].Worker | length > 0')" "true" "the task went to the worker"

# ---- the worker's side ------------------------------------------------------------------
grep -q "unseal task [0-9]*: piece $CID (2032 bytes) delivered to store hot1" "$T/worker.log" ||
    fail "no delivery in the worker log: $(grep -i unseal "$T/worker.log" | tail -5)"
grep -q "thread 1: s-t01000-0: Empty -> Allocated task" "$T/worker.log" || fail "the task was not saved"
grep -q "thread 1: s-t01000-0: Allocated -> Unsealed 2032 bytes of piece $CID" "$T/worker.log" ||
    fail "the unseal stage is not in the log"
grep -q "processor unseal\[0\] ready" "$T/worker.log" || fail "no unseal processor"
idle() { threads | jq -e '.[1].state == "Empty" and .[1].paused == false and .[1].sector == ""'; }
sp_wait_for 20 idle || fail "the unseal thread is not back to Empty: $(threads)"
[ -z "$(ls -A "$T/unseal0/data" 2>/dev/null)" ] || fail "the unseal location was not cleaned"
assert_eq "$("$SM" sectors list --json --home "$H" | jq -r '.[0].State')" "Proving" "the sector is still Proving"
# no ReportState for the unseal plan: the sector's history has no Unsealed state
"$SM" sectors show 0 --miner 1000 --home "$H" >"$T/history" || fail "sectors show"
assert_contains "$(cat "$T/history")" "Proving" "the sector's history"
grep -q "Unsealed" "$T/history" && fail "the unseal thread reported the sector's state: $(grep Unsealed "$T/history")"
grep -q ' ERROR ' "$T/worker.log" && { grep ' ERROR ' "$T/worker.log" >&2; fail "the worker logged errors"; }

kill -TERM "$WPID"
wait "$WPID" || fail "worker exit status"
st_stop
echo "worker unseal: ok"
