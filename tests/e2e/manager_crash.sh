#!/bin/bash
# manager_crash.sh — kill -9 of the sector-manager between calls and under load, then
# restart: every sector whose allocation was answered is still there with its last
# reported state and its precommit, no sector number is ever handed out twice, and the
# numbers after a crash continue above everything handed out before.  32 allocators run
# concurrently while the manager is killed.
. "$(dirname "$0")/lib.sh"

SM="$SP_BIN/sector-manager"
command -v jq >/dev/null || { echo "jq is not installed"; exit 77; }

H="$T/home"
"$SM" init --home "$H" >/dev/null
cat >"$H/manager.cfg" <<EOF
api = { listen = "127.0.0.1:0"; threads = 4; };
chain = { block_time = "50ms"; ticket_lookback = 1; max_ticket_age = 100000; };
miners = ( { actor = 1000; sizes = [ "2KiB" ]; } );
EOF
WTOKEN=$(cat "$H/worker.token")
MPID=

start() {
    rm -f "$H/api"
    "$SM" run --home "$H" >>"$T/manager.log" 2>&1 &
    MPID=$!
    sp_track $MPID
    sp_wait_for 10 test -s "$H/api"
    API=$(cat "$H/api")
}
crash() {
    kill -KILL "$MPID"
    wait "$MPID" 2>/dev/null || true
}
rpc() {
    curl -sS --max-time 10 -H "Authorization: Bearer $WTOKEN" \
        -d "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"$1\",\"params\":$2}" "http://$API/rpc/v0"
}
alloc() { rpc Venus.AllocateSector '[{"AllowedMiners":[1000],"AllowedProofTypes":null}]' | jq -r '.result.ID.Number // empty'; }
sid() { echo "{\"Miner\":1000,\"Number\":$1}"; }
report() {
    rpc Venus.ReportState "[$(sid "$1"),{\"Worker\":{\"Instance\":\"w\",\"Location\":\"/l\"},\"StateChange\":{\"Prev\":\"x\",\"Next\":\"$2\",\"Event\":\"e\"}}]" >/dev/null
}

# The 2KiB CC CommD (32 KiB of zeros... padded: the zero commitment of 2048 bytes, as
# `sealproof seal --zero` prints it) and a CommR that is a valid field element.
COMMD=fc7e928296e516faade986b28f92d44a4f24b935485223376a799027bc18f833
hexarr() { local h=$1 out="" i; for ((i = 0; i < 64; i += 2)); do out+="$((16#${h:i:2})),"; done; echo "[${out%,}]"; }
COMMR=$(printf '07%062d' 0)

declare -A STATE
ALL=()
start
# ---- serial: kill -9 after every round, between any two calls ----
for round in 1 2 3 4 5; do
    n=$(alloc)
    [ -n "$n" ] || fail "round $round: no allocation"
    ALL+=("$n")
    report "$n" PC1Done
    STATE[$n]=PC1Done
    if [ "$round" = 3 ]; then
        t=$(rpc Venus.AssignTicket "[$(sid "$n")]")
        tk=$(echo "$t" | jq -r .result.Ticket)
        te=$(echo "$t" | jq -r .result.Epoch)
        r=$(rpc Venus.SubmitPreCommit "[{\"ID\":$(sid "$n"),\"ProofType\":5},{\"CommR\":$(hexarr "$COMMR"),\"CommD\":$(hexarr $COMMD),\"Ticket\":{\"Ticket\":\"$tk\",\"Epoch\":$te}},false]")
        assert_eq "$(echo "$r" | jq -r .result.Res)" "1" "precommit accepted: $r"
        PCN=$n
    fi
    crash
    start
    # a retried precommit after the crash is a Duplicate, never an error
    if [ -n "${PCN:-}" ] && [ "$round" = 3 ]; then
        r=$(rpc Venus.SubmitPreCommit "[{\"ID\":$(sid "$PCN"),\"ProofType\":5},{\"CommR\":$(hexarr "$COMMR"),\"CommD\":$(hexarr $COMMD),\"Ticket\":{\"Ticket\":\"$tk\",\"Epoch\":$te}},false]")
        assert_eq "$(echo "$r" | jq -r .result.Res)" "2" "precommit retried after kill -9: $r"
    fi
done
assert_contains "$(cat "$T/manager.log")" "did not shut down cleanly"

# ---- concurrent: 32 allocators, the manager killed under them ----
# Each allocator stops at its first failed call; answers are parsed once afterwards.
for c in $(seq 32); do
    ( for _ in 1 2 3 4 5 6; do
          rpc Venus.AllocateSector '[{"AllowedMiners":[1000]}]' || break
          echo
      done >"$T/alloc.$c" 2>/dev/null ) &
done
# kill it once at least 32 allocations were answered, while the rest are in flight
answered() { [ "$(cat "$T"/alloc.* 2>/dev/null | grep -c '"result":{')" -ge 32 ]; }
sp_wait_for 20 answered
crash
wait_allocators() { ! jobs -r | grep -q .; }
sp_wait_for 30 wait_allocators
while read -r n; do ALL+=("$n"); done < <(cat "$T"/alloc.* | jq -r 'select(.result != null) | .result.ID.Number' 2>/dev/null)
start

# ---- what survived ----
J=$("$SM" sectors list --json --home "$H")
have=$(echo "$J" | jq -r '.[].ID.Number' | sort -n)
dups=$(printf '%s\n' "${ALL[@]}" | sort -n | uniq -d)
[ -z "$dups" ] || fail "numbers handed out twice: $dups"
for n in "${ALL[@]}"; do
    echo "$have" | grep -qx "$n" || fail "sector $n was answered but is gone after kill -9"
done
for n in "${!STATE[@]}"; do
    assert_eq "$(echo "$J" | jq -r ".[] | select(.ID.Number == $n) | .State")" "${STATE[$n]}" "state of $n"
done
assert_eq "$("$SM" sectors show "1000-$PCN" --json --home "$H" | jq -r .PreCommit.State)" "Landed" "precommit kept"
max=$(printf '%s\n' "${ALL[@]}" | sort -n | tail -1)
dbmax=$(echo "$have" | tail -1)
n=$(alloc)
[ "$n" -gt "$max" ] && [ "$n" -gt "$dbmax" ] || fail "after the crash $n was allocated, not above $max/$dbmax"
echo "${#ALL[@]} answered allocations survived 6 kill -9; next number $n (highest before $max)"

# a clean stop loses nothing either, and skips nothing
kill -TERM "$MPID"
wait "$MPID" || fail "unclean exit"
start
m=$(alloc)
assert_eq "$m" "$((n + 1))" "no gap after a clean restart"
echo "manager crash: ok"
