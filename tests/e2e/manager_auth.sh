#!/bin/bash
# manager_auth.sh — the manager refuses what it must and keeps serving: missing, tampered,
# foreign and expired tokens, the wrong scope, malformed and mistyped params, unknown
# methods, oversized bodies, piece downloads without a token, with a path or a bad CID,
# out-of-range Range headers; SIGHUP reloads manager.cfg (a new miner appears, a broken
# file is refused and the running config kept; systemd hears READY and RELOADING).
# No token ever reaches the log.
. "$(dirname "$0")/lib.sh"

SM="$SP_BIN/sector-manager"
command -v jq >/dev/null || { echo "jq is not installed"; exit 77; }

H="$T/home"
"$SM" init --home "$H" >/dev/null
cat >"$H/manager.cfg" <<EOF
api = { listen = "127.0.0.1:0"; max_body = "64KiB"; };
miners = ( { actor = 1000; sizes = [ "2KiB" ]; deals = true; } );
EOF
# systemd readiness: a datagram socket standing in for systemd's NOTIFY_SOCKET
NOTIFY=""
if command -v python3 >/dev/null; then
    python3 -c 'import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[2], "a") as f:
    while True:
        f.write(s.recv(4096).decode() + "\n")
        f.flush()' "$T/notify.sock" "$T/notify.log" &
    sp_track $!
    sp_wait_for 10 test -S "$T/notify.sock"
    NOTIFY="$T/notify.sock"
fi
NOTIFY_SOCKET=$NOTIFY "$SM" run --home "$H" >"$T/manager.log" 2>&1 &
MPID=$!
sp_track $MPID
sp_wait_for 10 test -s "$H/api"
API=$(cat "$H/api")
W=$(cat "$H/worker.token")
A=$(cat "$H/admin.token")

post() { # post TOKEN BODY -> "HTTP-STATUS BODY"
    local auth=()
    [ -n "$1" ] && auth=(-H "Authorization: Bearer $1")
    curl -sS -o "$T/body" -w '%{http_code}' "${auth[@]}" -H 'Content-Type: application/json' \
        --data-binary "$2" "http://$API/rpc/v0"
    echo " $(cat "$T/body")"
}
req() { echo "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"$1\",\"params\":$2}"; }
code_of() { echo "${1#* }" | jq -r '.error.code // "none"'; }
msg_of() { echo "${1#* }" | jq -r '.error.message // ""'; }

# ---- tokens ----
r=$(post "" "$(req Venus.AllocateSector '[{}]')")
assert_eq "${r%% *}" "401" "no token"
assert_eq "$(code_of "$r")" "-32001" "no token code"
r=$(post "${W}x" "$(req Venus.AllocateSector '[{}]')")
assert_eq "${r%% *}" "401" "tampered token"
assert_contains "$(msg_of "$r")" "signature"
OTHER="$T/other"
"$SM" init --home "$OTHER" >/dev/null
r=$(post "$(cat "$OTHER/admin.token")" "$(req Sealpipe.ChainHead '[]')")
assert_eq "${r%% *}" "401" "another home's token"
r=$(post "$W" "$(req Sealpipe.SectorsList '[]')")
assert_eq "$(code_of "$r")" "-32002" "worker token on an admin method"
assert_contains "$(msg_of "$r")" "scope admin"
r=$(post "$A" "$(req Venus.AllocateSector '[{}]')")
assert_eq "$(echo "${r#* }" | jq -r .result.ID.Miner)" "1000" "admin token calls worker methods"
EXP=$("$SM" auth create-token --scope worker --ttl 1s --home "$H" | tail -n1)
sleep 2.1
r=$(post "$EXP" "$(req Venus.AllocateSector '[{}]')")
assert_eq "${r%% *}" "401" "expired token"
assert_contains "$(msg_of "$r")" "expired"
assert_contains "$("$SM" auth create-token --scope root --home "$H" 2>&1 || true)" "worker or admin"

# ---- params ----
bad() { # bad METHOD PARAMS EXPECTED-TEXT
    local out
    out=$(post "$W" "$(req "$1" "$2")")
    assert_eq "$(code_of "$out")" "-32602" "$1 $2 is invalid params"
    assert_contains "$(msg_of "$out")" "$3"
}
bad Venus.AssignTicket '[]' 'SectorID'
bad Venus.AssignTicket '["x"]' 'expected an object'
bad Venus.AssignTicket '[{"Miner":"a","Number":1}]' 'Miner'
bad Venus.AssignTicket '[{"Miner":1000,"Number":-1}]' 'Number'
bad Venus.AssignTicket '[{"Miner":1000,"Number":1,"Extra":1}]' 'Extra'
bad Venus.AssignTicket '[{"Miner":1000,"Number":0},1]' 'at most 1'
bad Venus.AssignTicket '{"SectorID":{"Miner":1000,"Number":0}}' 'positional'
bad Venus.AllocateSector '[{"AllowedMiners":"1000"}]' 'AllowedMiners'
bad Venus.SubmitPreCommit '[{"ID":{"Miner":1000,"Number":0},"ProofType":5},{"CommR":[1,2],"CommD":[],"Ticket":{}},false]' 'CommR'
bad Venus.SubmitPreCommit "[{\"ID\":{\"Miner\":1000,\"Number\":0},\"ProofType\":5},{\"CommR\":[$(printf '300,%.0s' {1..31})1],\"CommD\":[],\"Ticket\":{}}]" 'CommR[0]'
bad Venus.SubmitProof '[{"Miner":1000,"Number":0},{"Proof":"***"},false]' 'Proof'
bad Venus.ReportState '[{"Miner":1000,"Number":0},{"Worker":{"Instance":"w"},"StateChange":{"Next":"bad state"}}]' 'state name'
bad Venus.ReportState '[{"Miner":1000,"Number":0},{"Worker":{},"StateChange":{"Next":"A"}}]' 'Instance'
bad Venus.WaitSeed '[{"Miner":1000,"Number":0},"five"]' 'SealProof'
bad Venus.StoreReserveSpace '[{"Miner":1000,"Number":0},0,[]]' 'size'
bad Venus.SubmitPersistedEx '[{"Miner":1000,"Number":0},"s",true]' 'snap-up'
bad Venus.WorkerPing '[{"Name":""}]' 'Name'
r=$(post "$A" "$(req Sealpipe.StorageAttach '[{"Name":"x","Path":"/tmp","Tier":"lukewarm"}]')")
assert_contains "$(msg_of "$r")" "Tier"
r=$(post "$A" "$(req Sealpipe.StorageAttach '[{"Name":"../x","Path":"/tmp"}]')")
assert_eq "$(code_of "$r")" "-32602" "store name with a path"
r=$(post "$W" "$(req Venus.AssignTicket '[{"Miner":1000,"Number":999}]')")
assert_eq "$(code_of "$r")" "-32003" "unknown sector: not found"
assert_contains "$(msg_of "$r")" "s-t01000-999"
r=$(post "$W" "$(req Venus.NoSuchMethod '[]')")
assert_eq "$(code_of "$r")" "-32601" "unknown method"
r=$(post "$W" '{"jsonrpc":"2.0","id":1,"method":')
assert_eq "$(code_of "$r")" "-32700" "broken JSON"
r=$(post "$W" "$(printf '[%.0s' {1..200})")
assert_contains "$(msg_of "$r")" "deep"
head -c 100000 /dev/zero | tr '\0' 'a' >"$T/big"
r=$(curl -sS -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $W" --data-binary @"$T/big" "http://$API/rpc/v0")
assert_eq "$r" "413" "oversized body"
# a batch: one good, one bad, both answered
r=$(post "$W" "[$(req Venus.StoreBasicInfo '["none"]'),$(req Venus.AssignTicket '[]')]")
assert_eq "$(echo "${r#* }" | jq -r '.[0].result')" "null" "batch item 1"
assert_eq "$(echo "${r#* }" | jq -r '.[1].error.code')" "-32602" "batch item 2"

# ---- piece downloads ----
head -c 1500 /dev/urandom >"$T/p.bin"
CID=$("$SM" pieces import "$T/p.bin" --miner 1000 --home "$H" | tail -n1)
get() { curl -sS -o "$T/got" -w '%{http_code}' "$@"; }
assert_eq "$(get "http://$API/pieces/$CID")" "401" "piece without a token"
assert_eq "$(get -H "Authorization: Bearer ${W}x" "http://$API/pieces/$CID")" "401" "piece with a bad token"
assert_eq "$(get -H "Authorization: Bearer $W" "http://$API/pieces/$CID")" "200" "piece"
cmp "$T/got" "$T/p.bin" || fail "piece bytes"
assert_eq "$(get -H "Authorization: Bearer $W" -H 'Range: bytes=1490-' "http://$API/pieces/$CID")" "206" "tail range"
assert_eq "$(stat -c %s "$T/got")" "10" "tail range length"
assert_eq "$(get -H "Authorization: Bearer $W" -H 'Range: bytes=5000-6000' "http://$API/pieces/$CID")" "416" "range past the end"
assert_eq "$(get -H "Authorization: Bearer $W" -H 'Range: bytes=9-1' "http://$API/pieces/$CID")" "400" "reversed range"
for path in "../manager.cfg" "..%2Fmanager.cfg" "%2Fetc%2Fpasswd" "$CID/../../manager.cfg" "baga6ea4seaq" ".import-1"; do
    c=$(get -H "Authorization: Bearer $W" --path-as-is "http://$API/pieces/$path")
    case "$c" in 400|404) ;; *) fail "pieces/$path answered $c";; esac
    grep -q "miners" "$T/got" && fail "pieces/$path leaked a file"
done
UP=$(echo "$CID" | tr 'a-z' 'A-Z')
assert_eq "$(get -H "Authorization: Bearer $W" "http://$API/pieces/$UP")" "400" "non-canonical CID"

# ---- the daemon kept serving through all of it ----
assert_eq "$("$SM" chain head --json --home "$H" | jq -r .Kind)" "local" "still serving"

# ---- SIGHUP reload ----
cat >"$H/manager.cfg" <<'EOF'
api = { listen = "127.0.0.1:0"; max_body = "64KiB"; };
miners = ( { actor = 1000; sizes = [ "2KiB" ]; }, { actor = 2000; sizes = [ "8MiB" ]; } );
EOF
kill -HUP $MPID
has_2000() { "$SM" miners list --json --home "$H" | jq -e '.[] | select(.Actor == 2000)' >/dev/null; }
sp_wait_for 10 has_2000
sed -i 's/actor = 2000/actr = 2000/' "$H/manager.cfg"
kill -HUP $MPID
sp_wait_for 10 grep -q "keeping the running configuration" "$T/manager.log"
assert_contains "$(cat "$T/manager.log")" "manager.cfg:"
has_2000 || fail "a broken reload replaced the config"
assert_contains "$("$SM" config check --home "$H" 2>&1 || true)" "actr"

if [ -n "$NOTIFY" ]; then
    sp_wait_for 10 grep -q RELOADING=1 "$T/notify.log"
    assert_eq "$(head -n1 "$T/notify.log")" "READY=1" "sd_notify readiness"
fi

# ---- secrets never logged ----
for t in "$W" "$A" "$EXP"; do
    grep -qF "$t" "$T/manager.log" && fail "a token appeared in the log"
done
grep -q "refused" "$T/manager.log" || fail "refusals are not logged"
echo "manager auth: ok"
