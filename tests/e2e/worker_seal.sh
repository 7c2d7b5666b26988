#!/usr/bin/env bash
# worker_seal.sh — a real sector-manager (local chain, fast epochs) and one seal-worker with
# 2 sealing threads seal 4 sectors to Proving: 2KiB and 8MiB, committed capacity and with
# a deal piece imported with `sector-manager pieces import` (fetched by the worker over
# HTTP and checked against its CommP).  pc1, pc2, c1 and c2 run in pinned processor
# children, add_pieces and tree_d inside the worker.  Checked: every sector Proving (the
# manager verified each proof), the sealed files and proving caches in the store, the deals
# sealed, the processors' bindings, threads list/info output, the manager's worker list,
# the worker's /metrics, and a clean stop on SIGTERM (children gone, exit 0).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/worker_lib.sh"

wk_manager_start '{ actor = 1000; sizes = [ "2KiB" ]; deals = true; max_number = 1; },
                  { actor = 1001; sizes = [ "8MiB" ]; deals = true; max_number = 1; }'

# one deal piece per miner
head -c 1000 /dev/urandom >"$T/deal2k.bin"
head -c 300000 /dev/urandom >"$T/deal8m.bin"
CID2K=$("$SM" pieces import "$T/deal2k.bin" --miner 1000 --home "$H" | tail -n1)
CID8M=$("$SM" pieces import "$T/deal8m.bin" --miner 1001 --home "$H" | tail -n1)

CFG="$T/worker.cfg"
wk_worker_cfg "$CFG" 'enable_deals = true;' \
    "{ location = \"$T/t0\"; }, { location = \"$T/t1\"; }" \
    "pc1 = ( { cpuset = \"$CPU0\"; share = true; } );
     pc2 = ( { cpuset = \"$CPUS\"; share = true; } );
     c1 = ( { cpuset = \"$CPU0\"; share = true; } );
     c2 = ( { cpuset = \"$CPUS\"; share = true; } );"
# readiness through sd_notify: a datagram socket standing in for systemd's
NOTIFY=""
if command -v python3 >/dev/null; then
    python3 - "$T/notify.sock" "$T/notify.out" <<'EOF' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[2], "a") as out:
    while True:
        out.write(s.recv(4096).decode() + "\n")
        out.flush()
EOF
    sp_track $!
    sp_wait_for 10 test -S "$T/notify.sock"
    NOTIFY="$T/notify.sock"
fi
NOTIFY_SOCKET=$NOTIFY wk_worker_start "$CFG"
if [ -n "$NOTIFY" ]; then
    sp_wait_for 20 grep -q READY=1 "$T/notify.out" || fail "no READY=1 on NOTIFY_SOCKET"
    for p in $(pgrep -P "$WPID"); do
        tr '\0' '\n' <"/proc/$p/environ" | grep -q NOTIFY_SOCKET && fail "a processor child got NOTIFY_SOCKET"
    done
fi

# while it runs: the admin API answers, with the worker's token only
out=$("$SW" threads list -c "$CFG" --json)
assert_eq "$(echo "$out" | jq length)" "2" "threads listed"
assert_eq "$(echo "$out" | jq -r '.[1].location')" "$T/t1" "thread 1 location"
code=$(curl -s -o /dev/null -w '%{http_code}' -H 'Authorization: Bearer wrong' \
    -d '{"jsonrpc":"2.0","id":1,"method":"Worker.ThreadsList","params":[]}' \
    "http://127.0.0.1:$WPORT/rpc/v0")
assert_eq "$code" "401" "admin API with a wrong token"

wk_wait_proving 4 600
wk_check_all_proving 4

# the two deals are in their sectors, sealed
json=$(wk_sectors)
for cid in "$CID2K" "$CID8M"; do
    "$SM" pieces show "$cid" --home "$H" >"$T/piece.out"
    assert_contains "$(cat "$T/piece.out")" "Sealed" "deal of $cid"
done
assert_eq "$(echo "$json" | jq '[.[] | select(.ProofType == 6)] | length')" "2" "8MiB sectors"
assert_eq "$(echo "$json" | jq -r '[.[] | .Worker] | unique | join(",")')" "w1" "sealed by w1"

# the processors were pinned where the plan put them, and said so
info=$("$SW" info -c "$CFG")
assert_contains "$info" "Running daemon w1"
assert_contains "$info" "pc1[0]"
assert_contains "$info" "bound to CPUs $CPU0"
assert_contains "$(grep 'processor pc2\[0\] ready' "$T/worker.log")" "bound to CPUs $CPUS"
n=0
for p in $(pgrep -P "$WPID"); do
    stage=$(tr '\0' '\n' <"/proc/$p/environ" | sed -n 's/^SEALPIPE_PROC_STAGE=//p')
    want=$CPUS
    case "$stage" in pc1|c1) want=$CPU0 ;; esac
    assert_eq "$(tr '\0' '\n' <"/proc/$p/environ" | sed -n 's/^SEALPIPE_PROC_CPUSET=//p')" "$want" "$stage placement"
    assert_eq "$(awk '/^Cpus_allowed_list/ {print $2}' "/proc/$p/status")" "$want" "$stage child $p CPUs"
    n=$((n+1))
done
assert_eq "$n" "4" "processor children"

# the threads are done with their sectors: nothing left in their locations
sp_wait_for 20 sh -c "\"$SW\" threads list -c \"$CFG\" --json | jq -e 'all(.[]; .state == \"Empty\" and .paused == false)'"
[ -z "$(ls -A "$T/t0/data" 2>/dev/null)" ] || fail "t0/data not cleaned: $(ls -R "$T/t0/data")"
"$SW" threads list -c "$CFG" >"$T/list.out"
assert_contains "$(cat "$T/list.out")" "Empty"
assert_contains "$("$SM" workers list --home "$H")" "w1"
if grep -q ' ERROR ' "$T/worker.log"; then
    grep ' ERROR ' "$T/worker.log" >&2
    fail "the worker logged errors"
fi

# Prometheus metrics on the admin address, without a token
m=$(curl -sS "http://127.0.0.1:$WPORT/metrics")
assert_contains "$m" 'sealpipe_worker_sectors_total{result="finished"} 4'
assert_contains "$m" 'sealpipe_worker_stage_seconds_count{stage="pc1"} 4'
assert_contains "$m" 'sealpipe_worker_threads{job="idle"} 2'
assert_contains "$m" 'sealpipe_worker_processor_up{stage="c2",index="0"} 1'
assert_contains "$m" 'sealpipe_worker_transitions_total{event="Finish"} 4'

# SIGTERM: stops cleanly, children gone
kids=$(pgrep -P "$WPID")
kill -TERM "$WPID"
wait "$WPID"
assert_eq "$?" "0" "exit status after SIGTERM"
for k in $kids; do kill -0 "$k" 2>/dev/null && fail "processor $k still running"; done
assert_contains "$(tail -n 3 "$T/worker.log")" "stopped"
[ -z "$NOTIFY" ] || grep -q STOPPING=1 "$T/notify.out" || fail "no STOPPING=1 on NOTIFY_SOCKET"
echo "4 sectors sealed to Proving"
