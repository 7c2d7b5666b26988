#!/bin/bash
# manager_lifecycle.sh — a real sector-manager on 127.0.0.1 driven through the lifecycle
# of three 2KiB sectors by a scripted worker (curl + jq), with real proofs from
# `sealproof seal`, `c1` and `c2`: a deal sector (piece imported with the CLI, fetched
# over HTTP with a Range request), a CC sector, and a CC sector the admin aborts.
# Checked: allocation, AcquireDeals packing, tickets from the chain, SubmitPreCommit with
# the sealed CommR/CommD (Duplicate on retry, Mismatched on a different one), landing,
# WaitSeed timing, persisted files in the store, SubmitProof verified by the manager (an
# invalid proof is rejected with the verifier's reason, the real ones land and the
# sectors become Proving), ReportState/Finalized/Aborted, the admin CLI's output (text
# and --json), /metrics and a SIGTERM clean stop.
. "$(dirname "$0")/lib.sh"

SM="$SP_BIN/sector-manager"
SEALPROOF="$SP_BIN/sealproof"
command -v jq >/dev/null || { echo "jq is not installed"; exit 77; }
[ -x "$SEALPROOF" ] || { echo "sealproof is not built"; exit 77; }

H="$T/home"
# before init: a missing home and an empty one (as systemd creates it) are named as such
"$SM" run --home "$H" 2>"$T/nohome.err" && fail "run in a missing home started"
grep -q "$H is not a manager home (no such directory); create it with \`sector-manager init --home $H\`" \
    "$T/nohome.err" || fail "missing home: $(cat "$T/nohome.err")"
mkdir -p "$H"
"$SM" run --home "$H" 2>"$T/nohome.err" && fail "run in an empty home started"
grep -q "$H is not a manager home (it has no manager.cfg)" "$T/nohome.err" ||
    fail "empty home: $(cat "$T/nohome.err")"
"$SM" init --home "$H" >"$T/init.out"
WTOKEN=$(cat "$H/worker.token")
assert_eq "$(tail -n1 "$T/init.out")" "$WTOKEN" "init prints the worker token last"
assert_eq "$(stat -c %a "$H/token.secret")" "600" "secret mode"
mkdir -p "$T/store1" "$T/store2"
cat >"$H/manager.cfg" <<EOF
api = { listen = "127.0.0.1:0"; threads = 2; };
chain = { block_time = "50ms"; ticket_lookback = 2; max_ticket_age = 100000;
          precommit_landing = 1; challenge_delay = 4; seed_confidence = 1;
          proof_landing = 1; max_prove_duration = 100000; };
miners = ( { actor = 1000; sizes = [ "2KiB" ]; deals = true; } );
persist_stores = ( { name = "store1"; path = "$T/store1"; capacity = "1MiB"; },
                   { name = "store2"; path = "$T/store2"; capacity = "64KiB"; readonly = true; } );
log = { level = "debug"; };
EOF
"$SM" config check --home "$H" >/dev/null

"$SM" run --home "$H" >"$T/manager.log" 2>&1 &
MPID=$!
sp_track $MPID
sp_wait_for 10 test -s "$H/api"
API=$(cat "$H/api")

rpc() { # rpc TOKEN METHOD PARAMS -> the whole JSON-RPC answer
    curl -sS -H "Authorization: Bearer $1" -H 'Content-Type: application/json' \
        -d "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"$2\",\"params\":$3}" "http://$API/rpc/v0"
}
call() { # call METHOD PARAMS [JQ-FILTER] -> the result (through the filter), failing on an error
    local out res
    out=$(rpc "$WTOKEN" "$1" "$2")
    res=$(echo "$out" | jq -cr "if has(\"error\") then \"RPC-ERROR\" else .result | ${3:-.} end") || fail "$1: not JSON: $out"
    [ "$res" = RPC-ERROR ] && fail "$1 $2: $out"
    echo "$res"
}
hexarr() { local h=$1 out="" i; for ((i = 0; i < 64; i += 2)); do out+="$((16#${h:i:2})),"; done; echo "[${out%,}]"; }
b64hex() { echo "$1" | base64 -d | od -An -v -tx1 | tr -d ' \n'; }
sid() { echo "{\"Miner\":1000,\"Number\":$1}"; }
report() { # report NUMBER PREV NEXT -> Finalized
    call Venus.ReportState "[$(sid "$1"),{\"Worker\":{\"Instance\":\"w1\",\"Location\":\"/t/$1\"},\"StateChange\":{\"Prev\":\"$2\",\"Next\":\"$3\",\"Event\":\"Ev\"},\"Failure\":null}]" .Finalized
}

# ---- a deal piece, imported with the CLI ----
head -c 1000 /dev/urandom >"$T/piece.bin"
"$SM" pieces import "$T/piece.bin" --miner 1000 --home "$H" >"$T/import.out"
CID=$(tail -n1 "$T/import.out")
case "$CID" in baga6ea4sea*) ;; *) fail "import printed no piece CID: $(cat "$T/import.out")";; esac
assert_contains "$(cat "$T/import.out")" "as deal 1 for miner f01000"
assert_eq "$("$SEALPROOF" commp "$T/piece.bin" --json | jq -r .commp_cid)" "$CID" "CommP of the CLI and sealproof"

# ---- three sectors ----
call Venus.WorkerPing '[{"Name":"w1","Dest":"127.0.0.1:17890","Version":"test","Summary":{"Threads":3,"Empty":0,"Paused":0,"Running":3,"Waiting":0,"Errors":0}}]' >/dev/null
NUMS=()
for i in 1 2 3; do
    r=$(call Venus.AllocateSector '[{"AllowedMiners":[1000],"AllowedProofTypes":[5]}]')
    assert_eq "$(echo "$r" | jq -c .)" "{\"ID\":{\"Miner\":1000,\"Number\":$((i - 1))},\"ProofType\":5}" "allocation $i"
    NUMS+=("$((i - 1))")
done
assert_eq "$(call Venus.AllocateSector '[{"AllowedMiners":[2000],"AllowedProofTypes":null}]')" "null" "unknown miner gets null"

# sector 0 takes the deal, the others find none
d=$(call Venus.AcquireDeals "[$(sid 0),{\"MaxDeals\":null,\"MinUsedSpace\":null}]")
assert_eq "$(echo "$d" | jq -r '.[0].Piece.PieceCID["/"]')" "$CID" "deal piece CID"
assert_eq "$(echo "$d" | jq -r '.[0].Piece.Size')" "1024" "padded piece size"
assert_eq "$(echo "$d" | jq -r '.[0].DealInfo.PayloadSize')" "1000" "payload size"
assert_eq "$(echo "$d" | jq -r '.[0].DealInfo.DealID')" "1" "deal id"
assert_eq "$(call Venus.AcquireDeals "[$(sid 0),null]" | jq -c .)" "$(echo "$d" | jq -c .)" "AcquireDeals again: same pieces"
assert_eq "$(call Venus.AcquireDeals "[$(sid 1),{}]")" "null" "no more deals"

# the worker fetches the piece: whole, and a range
code=$(curl -sS -o "$T/fetched" -w '%{http_code}' -H "Authorization: Bearer $WTOKEN" "http://$API/pieces/$CID")
assert_eq "$code" "200" "piece download"
cmp "$T/fetched" "$T/piece.bin" || fail "downloaded piece differs"
code=$(curl -sS -o "$T/part" -w '%{http_code}' -H "Authorization: Bearer $WTOKEN" -H 'Range: bytes=100-199' "http://$API/pieces/$CID")
assert_eq "$code" "206" "range download"
cmp "$T/part" <(tail -c +101 "$T/piece.bin" | head -c 100) || fail "range bytes differ"

for n in 0 1 2; do
    assert_eq "$(report "$n" Allocated DealsAcquired)" "false" "report"
    report "$n" DealsAcquired PieceAdded >/dev/null
    report "$n" PieceAdded TreeDBuilt >/dev/null
done

# ---- tickets, seals, precommits ----
declare -A COMMR COMMD TICKET TEPOCH
for n in 0 1 2; do
    t=$(call Venus.AssignTicket "[$(sid "$n")]" '"\(.Ticket) \(.Epoch)"')
    TICKET[$n]=${t% *}
    TEPOCH[$n]=${t#* }
    input="--zero"
    [ "$n" = 0 ] && input="--input $T/piece.bin"
    # shellcheck disable=SC2086
    "$SEALPROOF" seal --proof StackedDrg2KiBV1_1 --sector-id "$n" --prover-id f01000 \
        --ticket "$(b64hex "${TICKET[$n]}")" --seed "$(printf '%064d' 0)" $input \
        --dir "$T/seal$n" --parent-cache "$T/parents" --json >"$T/seal$n.json"
    COMMR[$n]=$(jq -r .comm_r "$T/seal$n.json")
    COMMD[$n]=$(jq -r .comm_d "$T/seal$n.json")
    report "$n" TreeDBuilt TicketAssigned >/dev/null
    report "$n" TicketAssigned PC1Done >/dev/null
    report "$n" PC1Done PC2Done >/dev/null
done
pcinfo() { echo "{\"CommR\":$(hexarr "${COMMR[$1]}"),\"CommD\":$(hexarr "${COMMD[$1]}"),\"Ticket\":{\"Ticket\":\"${TICKET[$1]}\",\"Epoch\":${TEPOCH[$1]}}}"; }
for n in 0 1 2; do
    r=$(call Venus.SubmitPreCommit "[{\"ID\":$(sid "$n"),\"ProofType\":5},$(pcinfo "$n"),false]" .Res)
    assert_eq "$r" "1" "precommit $n accepted"
    report "$n" PC2Done PCSubmitted >/dev/null
done
r=$(call Venus.SubmitPreCommit "[{\"ID\":$(sid 0),\"ProofType\":5},$(pcinfo 0),false]")
assert_eq "$(echo "$r" | jq -r .Res)" "2" "same precommit again: Duplicate"
r=$(call Venus.SubmitPreCommit "[{\"ID\":$(sid 0),\"ProofType\":5},$(pcinfo 1),false]")
assert_eq "$(echo "$r" | jq -r .Res)" "3" "another precommit: Mismatched"

# the admin aborts sector 2: the worker learns it at its next call
"$SM" sectors abort s-t01000-2 --reason "disk pulled" --home "$H" >"$T/abort.out"
assert_contains "$(cat "$T/abort.out")" "aborted s-t01000-2"
r=$(call Venus.ReportState "[$(sid 2),{\"Worker\":{\"Instance\":\"w1\",\"Location\":\"/t/2\"},\"StateChange\":{\"Prev\":\"PCSubmitted\",\"Next\":\"PCLanded\",\"Event\":\"CheckPC\"}}]")
assert_eq "$(echo "$r" | jq -c .)" '{"Id":{"Miner":1000,"Number":2},"Finalized":true,"AbortReason":"disk pulled"}' "abort reaches the worker"
assert_eq "$(call Venus.PollPreCommitState "[$(sid 2)]" .State)" "7" "aborted: ShouldAbort"
call Venus.ReportAborted "[$(sid 2),\"manager said so\"]" >/dev/null

landed() { [ "$(call Venus.PollPreCommitState "[$(sid "$1")]" .State)" = 3 ]; }
sp_wait_for 10 landed 0
sp_wait_for 10 landed 1

# ---- persist: reserve, copy, submit ----
for n in 0 1; do
    r=$(call Venus.StoreReserveSpace "[$(sid "$n"),4096,[\"store1\",\"store2\"]]" .Name)
    assert_eq "$r" "store1" "read-only store2 never chosen"
    assert_eq "$(call Venus.StoreReserveSpace "[$(sid "$n"),4096,[\"store1\"]]" .Name)" "store1" "reservation is stable"
    assert_eq "$(call Venus.SubmitPersisted "[$(sid "$n"),\"store1\"]")" "false" "files not there yet"
    mkdir -p "$T/store1/sealed" "$T/store1/cache/s-t01000-$n"
    cp "$T/seal$n/sealed" "$T/store1/sealed/s-t01000-$n"
    cp "$T/seal$n/cache/p_aux" "$T/seal$n/cache/sc-02-data-tree-r-last.dat" "$T/store1/cache/s-t01000-$n/"
    assert_eq "$(call Venus.SubmitPersisted "[$(sid "$n"),\"store1\"]")" "true" "persisted $n"
    assert_eq "$(call Venus.SubmitPersistedEx "[$(sid "$n"),\"store1\",false]")" "true" "persisted (Ex) $n"
done
assert_eq "$(call Venus.StoreBasicInfo '["store1"]' .Path)" "$T/store1" "StoreBasicInfo"
assert_eq "$(call Venus.StoreBasicInfo '["nope"]')" "null" "unknown store"

# ---- seed and proof ----
seeded() { [ "$(call Venus.WaitSeed "[$(sid "$1"),5]" .ShouldWait)" = false ]; }
r=$(call Venus.WaitSeed "[$(sid 0),5]")
if [ "$(echo "$r" | jq -r .ShouldWait)" = true ]; then
    assert_eq "$(echo "$r" | jq -r .Seed)" "null" "no seed while waiting"
    [ "$(echo "$r" | jq -r .Delay)" -ge 1 ] || fail "Delay must be at least 1 s: $r"
fi
sp_wait_for 10 seeded 0
s=$(call Venus.WaitSeed "[$(sid 0),5]")
[ "$(echo "$s" | jq -r '.Seed.Seed | length')" = 44 ] || fail "seed is not 32 bytes of base64: $s"
# An invalid proof is refused with the verifier's reason, and nothing is stored.
r=$(call Venus.SubmitProof "[$(sid 0),{\"Proof\":\"$(head -c 300 /dev/urandom | base64 -w0)\"},false]")
assert_eq "$(echo "$r" | jq -r .Res)" "4" "garbage proof rejected: $r"
assert_contains "$(echo "$r" | jq -r .Desc)" "invalid proof"
assert_eq "$(call Venus.PollProofState "[$(sid 0)]" .State)" "4" "nothing submitted: NotFound"

# The real proofs: C1 with the manager's seed, the native C2, verified by the manager.
sp_wait_for 10 seeded 1
for n in 0 1; do
    s=$(call Venus.WaitSeed "[$(sid "$n"),5]" .Seed.Seed)
    "$SEALPROOF" c1 --proof 5 --sector-id "$n" --prover-id f01000 --ticket "$(b64hex "${TICKET[$n]}")" \
        --seed "$(b64hex "$s")" --comm-d "${COMMD[$n]}" --comm-r "${COMMR[$n]}" --cache "$T/seal$n/cache" \
        --sealed "$T/seal$n/sealed" --out "$T/c1-$n.bin" --json >/dev/null
    "$SEALPROOF" c2 --c1 "$T/c1-$n.bin" --out "$T/proof-$n.bin" --json >/dev/null
    echo "[$(sid "$n"),{\"Proof\":\"$(base64 -w0 "$T/proof-$n.bin")\"},false]" >"$T/submit-$n.json"
    r=$(rpc "$WTOKEN" Venus.SubmitProof "$(cat "$T/submit-$n.json")" | jq -c .result)
    assert_eq "$(echo "$r" | jq -r .Res)" "1" "real proof of sector $n accepted: $r"
    r=$(rpc "$WTOKEN" Venus.SubmitProof "$(cat "$T/submit-$n.json")" | jq -r .result.Res)
    assert_eq "$r" "2" "the same proof again: Duplicate"
    report "$n" SeedAssigned C1Done >/dev/null
    report "$n" C1Done C2Done >/dev/null
    report "$n" C2Done ProofSubmitted >/dev/null
done
proven() { [ "$(call Venus.PollProofState "[$(sid "$1")]" .State)" = 3 ]; }
sp_wait_for 10 proven 0
sp_wait_for 10 proven 1
# A proof of one sector does not verify for another.
r=$(rpc "$WTOKEN" Venus.SubmitProof "$(sed 's/"Number":1/"Number":0/' "$T/submit-1.json")" | jq -r .result.Res)
assert_eq "$r" "3" "another proof for a proven sector: Mismatched"

report 0 ProofSubmitted Finished >/dev/null
call Venus.ReportFinalized "[$(sid 1)]" >/dev/null

# ---- the admin's view ----
J=$("$SM" sectors list --json --home "$H")
assert_eq "$(echo "$J" | jq length)" "3" "three sectors"
assert_eq "$(echo "$J" | jq -r '.[2].State')" "Aborted" "sector 2 state"
assert_eq "$(echo "$J" | jq -r '.[2].AbortReason')" "disk pulled" "abort reason kept"
assert_eq "$(echo "$J" | jq -r '.[1].State')" "Proving" "proven and finalized sector"
assert_eq "$(echo "$J" | jq -r '.[1].Finalized')" "true" "sector 1 finalized"
assert_eq "$(echo "$J" | jq -r '.[0].State')" "Proving" "proven sector stays Proving after its worker reports Finished"
assert_eq "$(echo "$J" | jq -r '.[0].Store')" "store1" "sector 0 store"
TXT=$("$SM" sectors list --state Aborted --home "$H")
assert_contains "$TXT" "s-t01000-2"
assert_contains "$TXT" "aborted: disk pulled"
assert_contains "$TXT" "1 sector(s)"
SHOW=$("$SM" sectors show 1000-0 --home "$H")
assert_contains "$SHOW" "PreCommit:    Landed"
assert_contains "$SHOW" "CommR:      bagboea4b5abc"
assert_contains "$SHOW" "deal 1"
assert_contains "$SHOW" "SubmitProof    "
assert_contains "$SHOW" "rejected: invalid proof"
assert_contains "$SHOW" "ProveCommit:  Landed"
assert_contains "$SHOW" "ProveCommitLanded"
assert_contains "$SHOW" "PC2Done -> PCSubmitted [w1]"
SJ=$("$SM" sectors show s-t01000-0 --json --home "$H")
assert_eq "$(echo "$SJ" | jq -r .PreCommit.CommD)" "$(echo "$SJ" | jq -r .PreCommit.CommD)" ""
assert_eq "$(echo "$SJ" | jq -r '.Events | map(select(.Source=="worker")) | length > 5')" "true" "events stored"
ST=$("$SM" storage list --home "$H")
assert_contains "$ST" "store1:"
assert_contains "$ST" "Sectors: 2"
assert_contains "$ST" "Reserved: 4.0 KiB for 1 sector(s)"
assert_contains "$ST" "read-only"
STJ=$("$SM" storage list --json --home "$H")
assert_eq "$(echo "$STJ" | jq -r '.[0].Reservations')" "1" "sector 1's reservation was released, sector 0 holds one"
W=$("$SM" workers list --home "$H")
assert_contains "$W" "127.0.0.1:17890"
assert_eq "$("$SM" workers list --json --home "$H" | jq -r '.[0].Summary.Threads')" "3" "worker summary"
P=$("$SM" pieces list --home "$H")
assert_contains "$P" "$CID"
assert_contains "$P" "Sealed    sector s-t01000-0 offset 0"
assert_eq "$("$SM" pieces show "$CID" --json --home "$H" | jq -r .PayloadSize)" "1000" "pieces show"
assert_contains "$("$SM" chain head --home "$H")" "block time 50ms"
M=$("$SM" miners list --json --home "$H")
assert_eq "$(echo "$M" | jq -r '.[0].NextNumber')" "3" "next number"
assert_eq "$(echo "$M" | jq -r '.[0].Allocated')" "3" "allocated"
TOK=$("$SM" auth create-token --scope worker --ttl 1h --home "$H" | tail -n1)
assert_eq "$(rpc "$TOK" Venus.StoreBasicInfo '["store1"]' | jq -r .result.Name)" "store1" "a created token works"

# ---- metrics ----
MET=$(curl -sS "http://$API/metrics")
assert_contains "$MET" 'sealpipe_manager_sectors{miner="1000",state="Aborted"} 1'
assert_contains "$MET" 'sealpipe_manager_sectors{miner="1000",state="Proving"} 2'
assert_contains "$MET" 'sealpipe_manager_store_reservations{store="store1"} 1'
assert_contains "$MET" 'sealpipe_manager_store_sectors{store="store1"} 2'
assert_contains "$MET" 'sealpipe_rpc_requests_total{method="Venus.ReportState"}'
assert_contains "$MET" 'sealpipe_rpc_request_duration_seconds_bucket{method="Venus.AllocateSector"'
assert_eq "$(curl -sS "http://$API/healthcheck")" "ok" "healthcheck"

# ---- clean stop ----
kill -TERM $MPID
for _ in $(seq 50); do kill -0 $MPID 2>/dev/null || break; sleep 0.1; done
kill -0 $MPID 2>/dev/null && fail "manager did not stop on SIGTERM"
wait $MPID || fail "manager exited non-zero: $(tail -5 "$T/manager.log")"
assert_contains "$(tail -n1 "$T/manager.log")" "stopped cleanly"
[ -e "$H/api" ] && fail "api file left behind"
grep -q "$WTOKEN" "$T/manager.log" && fail "a token appeared in the log"
echo "manager lifecycle: ok"
