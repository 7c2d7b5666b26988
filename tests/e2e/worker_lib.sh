# worker_lib.sh — helpers for the seal-worker end-to-end scripts (worker_*.sh in tests/e2e
# and tests/long), sourced after lib.sh: a real sector-manager with the local chain on
# fast epochs, a worker config, starting and killing the worker, and the manager's view
# of the sectors.  Run on its own it is skipped: it is not a test.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    echo "helpers for the worker_*.sh end-to-end scripts, not a test"
    exit 77
fi

SM="$SP_BIN/sector-manager"
SW="$SP_BIN/seal-worker"
command -v jq >/dev/null || { echo "jq is not installed"; exit 77; }
[ -x "$SM" ] && [ -x "$SW" ] || { echo "sector-manager or seal-worker is not built"; exit 77; }

# wk_manager_start MINERS: a manager home in $T/home with store1 at $T/store1; MINERS is
# the miners list of manager.cfg.  Sets H, API, WTOKEN.
wk_manager_start() {
    H="$T/home"
    "$SM" init --home "$H" >"$T/init.out"
    WTOKEN=$(cat "$H/worker.token")
    mkdir -p "$T/store1"
    cat >"$H/manager.cfg" <<EOF
api = { listen = "127.0.0.1:${MPORT:-0}"; threads = 2; };
chain = { block_time = "100ms"; ticket_lookback = 2; max_ticket_age = 1000000;
          precommit_landing = 2; challenge_delay = 5; seed_confidence = 1;
          proof_landing = 2; max_prove_duration = 1000000; };
miners = ( $1 );
persist_stores = ( { name = "store1"; path = "$T/store1"; capacity = "4GiB"; } );
log = { level = "info"; };
EOF
    "$SM" config check --home "$H" >/dev/null
    wk_manager_run
}

# wk_manager_run: (re)starts the manager of $H; sets MPID and API.
wk_manager_run() {
    rm -f "$H/api"
    "$SM" run --home "$H" >>"$T/manager.log" 2>&1 &
    MPID=$!
    sp_track $MPID
    sp_wait_for 20 test -s "$H/api"
    API=$(cat "$H/api")
}

# wk_worker_cfg FILE SEALING THREADS PROCESSORS: writes a worker config; THREADS is the
# sealing_thread list, SEALING the [sealing] body, PROCESSORS the processors body.
# Sets WPORT.
wk_worker_cfg() {
    WPORT=${WPORT:-$(sp_free_port)}
    cat >"$1" <<EOF
worker = { name = "w1"; listen = "127.0.0.1:$WPORT"; };
sector_manager = { url = "http://$API"; token_file = "$H/worker.token"; };
sealing = { max_retries = ${WK_MAX_RETRIES:-3}; seal_interval = "0s"; recover_interval = "1s";
            rpc_polling_interval = "200ms"; $2 };
sealing_thread = ( $3 );
attached = ( { name = "store1"; location = "$T/store1"; } );
processors = { parent_cache = "$T/parents"; $4 };
EOF
    "$SW" check-config -c "$1" --quiet
}

# wk_worker_start CFG: starts the daemon (log appended to $T/worker.log); sets WPID.
wk_worker_start() {
    "$SW" daemon -c "$1" >>"$T/worker.log" 2>&1 &
    WPID=$!
    sp_track $WPID
    sp_wait_port "$WPORT" 20
}

# wk_worker_kill9: kill -9 the daemon; its processor children die with it
# (PR_SET_PDEATHSIG), which is checked.
wk_worker_kill9() {
    local kids k
    kids=$(pgrep -P "$WPID" || true)
    kill -KILL "$WPID" 2>/dev/null || true
    wait "$WPID" 2>/dev/null || true
    for k in $kids; do
        sp_wait_for 20 sh -c "! kill -0 $k 2>/dev/null" || fail "processor child $k outlived the worker"
    done
}

# The CPUs this shell may use ("0-1"), and the first of them.
CPUS=$(awk '/^Cpus_allowed_list/ {print $2}' /proc/self/status)
CPU0=${CPUS%%[-,]*}

wk_sectors() { "$SM" sectors list --home "$H" --json; }
wk_count_state() {
    local n
    n=$(wk_sectors 2>/dev/null | jq "[.[] | select(.State == \"$1\")] | length" 2>/dev/null) || n=0
    echo "${n:-0}"
}

# wk_wait_proving N SECONDS: until N sectors are Proving; fails showing the sectors.
wk_wait_proving() {
    local i=0 lim=$(( $2 * 2 ))
    while [ "$(wk_count_state Proving)" -lt "$1" ]; do
        i=$((i+1))
        if [ $i -ge $lim ]; then
            "$SM" sectors list --home "$H" >&2 || true
            "$SW" threads list -c "$CFG" >&2 || true
            tail -n 40 "$T/worker.log" >&2
            fail "fewer than $1 sectors reached Proving in $2s"
        fi
        sleep 0.5
    done
}

# wk_wait_file PATH SECONDS
wk_wait_file() { sp_wait_for "$2" test -e "$1" || { tail -n 30 "$T/worker.log" >&2; fail "no $1"; }; }

# Every sector the manager handed out is Proving, its files are in the store with the
# right sizes, and no sector number appears twice.  $1: expected count.
wk_check_all_proving() {
    local json n
    json=$(wk_sectors)
    n=$(echo "$json" | jq length)
    assert_eq "$n" "$1" "sectors the manager handed out"
    assert_eq "$(echo "$json" | jq '[.[] | select(.State != "Proving")] | length')" "0" \
        "sectors not Proving: $(echo "$json" | jq -c '[.[] | select(.State != "Proving") | [.ID.Miner, .ID.Number, .State]]')"
    assert_eq "$(echo "$json" | jq '[.[] | "\(.ID.Miner)-\(.ID.Number)"] | unique | length')" "$1" "distinct sectors"
    echo "$json" | jq -r '.[] | "\(.ID.Miner) \(.ID.Number) \(.ProofType)"' | while read -r m num p; do
        local size=2048
        [ "$p" = 6 ] && size=8388608
        local f="$T/store1/sealed/s-t0$m-$num"
        [ "$(stat -c %s "$f" 2>/dev/null)" = "$size" ] || fail "$f is missing or not $size bytes"
        [ -s "$T/store1/cache/s-t0$m-$num/p_aux" ] || fail "no p_aux for s-t0$m-$num"
        ls "$T/store1/cache/s-t0$m-$num"/sc-02-data-tree-r-last*.dat >/dev/null 2>&1 || fail "no tree-r-last for s-t0$m-$num"
    done
}
