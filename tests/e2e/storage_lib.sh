# storage_lib.sh — helpers for the storage end-to-end scripts (storage_*.sh), sourced
# after lib.sh: a sector-manager home with stores on tiers and failure domains, starting,
# stopping and killing the daemon, JSON-RPC calls, a scripted worker that seals a sector
# with `sealproof` and walks it to Proving (as manager_lifecycle.sh does), and waiting for
# the storage service.  Run on its own it is skipped: it is not a test.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    echo "helpers for the storage_*.sh end-to-end scripts, not a test"
    exit 77
fi

SM="$SP_BIN/sector-manager"
SEALPROOF="$SP_BIN/sealproof"
command -v jq >/dev/null || { echo "jq is not installed"; exit 77; }
[ -x "$SM" ] && [ -x "$SEALPROOF" ] || { echo "sector-manager or sealproof is not built"; exit 77; }

# st_init CONFIG: a home in $T/home whose manager.cfg is a fast local chain, miner 1000
# (2KiB and 8MiB, deals on) and CONFIG (stores, storage group).  Sets H, WTOKEN, ATOKEN.
st_init() {
    H="$T/home"
    "$SM" init --home "$H" >"$T/init.out"
    WTOKEN=$(cat "$H/worker.token")
    ATOKEN=$(cat "$H/admin.token")
    cat >"$H/manager.cfg" <<EOF
api = { listen = "127.0.0.1:0"; threads = 2; };
chain = { block_time = "50ms"; ticket_lookback = 2; max_ticket_age = 1000000;
          precommit_landing = 1; challenge_delay = 4; seed_confidence = 1;
          proof_landing = 1; max_prove_duration = 1000000; };
miners = ( { actor = 1000; sizes = [ "2KiB", "8MiB" ]; deals = true; } );
log = { level = "debug"; };
$1
EOF
    "$SM" config check --home "$H" >/dev/null
}

# st_start [ENV=VALUE...]: starts the daemon (logs appended to $T/manager.log); sets MPID, API.
st_start() {
    rm -f "$H/api"
    env "$@" "$SM" run --home "$H" >>"$T/manager.log" 2>&1 &
    MPID=$!
    sp_track $MPID
    sp_wait_for 20 test -s "$H/api"
    API=$(cat "$H/api")
}

# st_stop: SIGTERM and a clean exit.
st_stop() {
    kill -TERM "$MPID"
    for _ in $(seq 100); do kill -0 "$MPID" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$MPID" 2>/dev/null && fail "manager did not stop on SIGTERM"
    wait "$MPID" || fail "manager exited non-zero: $(tail -5 "$T/manager.log")"
}

# st_kill9: the daemon dies at once.
st_kill9() {
    kill -KILL "$MPID"
    wait "$MPID" 2>/dev/null || true
}

rpc() { # rpc TOKEN METHOD PARAMS -> the whole answer
    curl -sS -H "Authorization: Bearer $1" -H 'Content-Type: application/json' \
        -d "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"$2\",\"params\":$3}" "http://$API/rpc/v0"
}
call() { # call METHOD PARAMS [JQ] -> result, failing on an error (worker token)
    local out res
    out=$(rpc "$WTOKEN" "$1" "$2")
    res=$(echo "$out" | jq -cr "if has(\"error\") then \"RPC-ERROR\" else .result | ${3:-.} end") || fail "$1: not JSON: $out"
    [ "$res" = RPC-ERROR ] && fail "$1 $2: $out"
    echo "$res"
}
hexarr() { local h=$1 out="" i; for ((i = 0; i < 64; i += 2)); do out+="$((16#${h:i:2})),"; done; echo "[${out%,}]"; }
arrhex() { echo "$1" | jq -r '.[]' | while read -r b; do printf '%02x' "$b"; done; }
b64hex() { echo "$1" | base64 -d | od -An -v -tx1 | tr -d ' \n'; }
sid() { echo "{\"Miner\":1000,\"Number\":$1}"; }
report() {
    call Venus.ReportState "[$(sid "$1"),{\"Worker\":{\"Instance\":\"w1\",\"Location\":\"/t/$1\"},\"StateChange\":{\"Prev\":\"$2\",\"Next\":\"$3\",\"Event\":\"Ev\"},\"Failure\":null}]" .Finalized >/dev/null
}

# metric 'NAME{LABELS}' -> its value (0 when absent)
metric() {
    curl -sS "http://$API/metrics" | awk -v k="$1" '$1 == k { print $2; f = 1 } END { if (!f) print 0 }'
}

# st_import FILE -> prints the piece CID
st_import() {
    "$SM" pieces import "$1" --miner 1000 --home "$H" | tail -n1
}

# piece_json CID -> `pieces show --json`
piece_json() { "$SM" pieces show "$1" --json --home "$H"; }
indexed() { [ "$(piece_json "$1" | jq -r .Index.State)" = "$2" ]; }
# copies_ok CID N: N replicas in state ok (the piece store's file not counted)
copies_ok() { [ "$(piece_json "$1" | jq '[.Copies[] | select(.Store != "" and .State == "ok")] | length')" = "$2" ]; }

# st_seal NUMBER PROOF-ID PROOF-NAME INPUT: a scripted worker walks the allocated sector
# NUMBER (its deals acquired) through ticket, seal, precommit, persist (to the store
# StoreReserveSpace picks), seed, C1, C2 and the proof until it is Proving.  The sealed
# files stay in $T/seal<NUMBER>.  Sets STORE_<NUMBER>.
st_seal() {
    local n=$1 pid=$2 pname=$3 input=$4 t te commr commd s store path
    t=$(call Venus.AssignTicket "[$(sid "$n")]" '"\(.Ticket) \(.Epoch)"')
    te=${t#* }
    t=${t% *}
    "$SEALPROOF" seal --proof "$pname" --sector-id "$n" --prover-id f01000 --ticket "$(b64hex "$t")" \
        --seed "$(printf '%064d' 0)" --input "$input" --dir "$T/seal$n" --parent-cache "$T/parents" \
        --json >"$T/seal$n.json" || fail "sealproof seal of sector $n"
    commr=$(jq -r .comm_r "$T/seal$n.json")
    commd=$(jq -r .comm_d "$T/seal$n.json")
    eval "COMMD_$n=$commd"
    for st in TreeDBuilt:TicketAssigned TicketAssigned:PC1Done PC1Done:PC2Done; do report "$n" "${st%:*}" "${st#*:}"; done
    local r
    r=$(call Venus.SubmitPreCommit "[{\"ID\":$(sid "$n"),\"ProofType\":$pid},{\"CommR\":$(hexarr "$commr"),\"CommD\":$(hexarr "$commd"),\"Ticket\":{\"Ticket\":\"$t\",\"Epoch\":$te}},false]" .Res)
    assert_eq "$r" "1" "precommit of sector $n"
    landed() { [ "$(call Venus.PollPreCommitState "[$(sid "$1")]" .State)" = 3 ]; }
    sp_wait_for 20 landed "$n"
    store=$(call Venus.StoreReserveSpace "[$(sid "$n"),$(stat -c %s "$T/seal$n/sealed"),null]" .Name)
    path=$(call Venus.StoreBasicInfo "[\"$store\"]" .Path)
    mkdir -p "$path/sealed" "$path/cache/s-t01000-$n"
    cp "$T/seal$n/sealed" "$path/sealed/s-t01000-$n"
    cp "$T/seal$n/cache/p_aux" "$T/seal$n/cache"/sc-02-data-tree-r-last*.dat "$path/cache/s-t01000-$n/"
    assert_eq "$(call Venus.SubmitPersisted "[$(sid "$n"),\"$store\"]")" "true" "persisted sector $n"
    eval "STORE_$n=$store"
    seeded() { [ "$(call Venus.WaitSeed "[$(sid "$1"),$2]" .ShouldWait)" = false ]; }
    sp_wait_for 20 seeded "$n" "$pid"
    s=$(call Venus.WaitSeed "[$(sid "$n"),$pid]" .Seed.Seed)
    "$SEALPROOF" c1 --proof "$pid" --sector-id "$n" --prover-id f01000 --ticket "$(b64hex "$t")" \
        --seed "$(b64hex "$s")" --comm-d "$commd" --comm-r "$commr" --cache "$T/seal$n/cache" \
        --sealed "$T/seal$n/sealed" --out "$T/c1-$n.bin" --json >/dev/null || fail "c1 of sector $n"
    "$SEALPROOF" c2 --c1 "$T/c1-$n.bin" --out "$T/proof-$n.bin" --json >/dev/null || fail "c2 of sector $n"
    echo "[$(sid "$n"),{\"Proof\":\"$(base64 -w0 "$T/proof-$n.bin")\"},false]" >"$T/submit-$n.json"
    r=$(rpc "$WTOKEN" Venus.SubmitProof "$(cat "$T/submit-$n.json")" | jq -r .result.Res)
    assert_eq "$r" "1" "proof of sector $n"
    proven() { [ "$(call Venus.PollProofState "[$(sid "$1")]" .State)" = 3 ]; }
    sp_wait_for 20 proven "$n"
}

# get_block CID OUT [TOKEN] -> HTTP status of GET /ipfs/CID?format=raw
get_block() {
    curl -sS -o "$2" -w '%{http_code}' -H "Authorization: Bearer ${3:-$ATOKEN}" "http://$API/ipfs/$1?format=raw"
}
