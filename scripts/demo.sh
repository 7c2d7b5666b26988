#!/usr/bin/env bash
# demo.sh — the one-command demo behind `make demo`: a whole sealing cluster on this
# machine, on 127.0.0.1, in a temporary directory.
#
# It initialises a manager home, starts `sector-manager` (local chain on 100ms epochs,
# one miner f01000 sealing 2KiB sectors, one persist store) and one `seal-worker` with
# two sealing threads (hardware class config/hw/dev-2c.cfg when this machine fits it),
# imports a small CAR file as a deal, seals one CC sector and one deal sector to
# Proving while printing progress lines (elapsed time, sector, state, running stage),
# fetches one block of the deal back by its CID and checks its hash, prints
# `sectors list` and `storage list`, and stops everything cleanly.  Nothing is left
# running and the directory is removed, also on Ctrl-C or an error.
#
# Environment:
#   DEMO_KEEP=1       leave the cluster running at the end and print how to use and stop it
#   DEMO_TIMEOUT=S    seconds allowed for sealing (default 600)
#   SP_BIN=DIR        the programs (default: bin/ of this checkout)
#   TMPDIR            where the demo directory is created (default /tmp)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${SP_BIN:-$ROOT/bin}
SM=$BIN/sector-manager
SW=$BIN/seal-worker
KEEP=${DEMO_KEEP:-0}
TIMEOUT=${DEMO_TIMEOUT:-600}
CAR=$ROOT/tests/vectors/car/carv1-basic.car
CARJSON=$ROOT/tests/vectors/car/carv1-basic.json
MINER=1000

die() { echo "demo: error: $*" >&2; exit 1; }
for t in jq curl sha256sum base32 od; do
    command -v "$t" >/dev/null || die "$t is missing; run scripts/deps.sh (as root) or apt-get install it"
done
[ -x "$SM" ] && [ -x "$SW" ] || die "$SM or $SW is not built; run make first"
[ -r "$CAR" ] && [ -r "$CARJSON" ] || die "$CAR is missing: the demo runs from a sealpipe checkout"

D=$(mktemp -d "${TMPDIR:-/tmp}/sealpipe-demo.XXXXXX")
H=$D/manager
CFG=$D/worker.cfg
MPID=""
WPID=""
KEPT=0
T0=$(date +%s%N)

elapsed() { local now; now=$(date +%s%N); printf '%6.1fs' "$(( (now - T0) / 1000000 ))e-3"; }
say() { echo "$*"; }

# stop_pid PID NAME SECONDS: SIGTERM, wait, then SIGKILL; says how it ended.
stop_pid() {
    local pid=$1 name=$2 lim=$(( $3 * 10 )) n=0 rc=0
    [ -n "$pid" ] || return 0
    kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
    kill -TERM "$pid" 2>/dev/null || true
    while kill -0 "$pid" 2>/dev/null && [ $n -lt $lim ]; do sleep 0.1; n=$((n + 1)); done
    if kill -0 "$pid" 2>/dev/null; then
        echo "demo: $name (pid $pid) did not stop in $3s; killing it" >&2
        kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || rc=$?
    return $rc
}

cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    [ "$KEPT" = 1 ] && exit 0
    if [ $rc -ne 0 ] && [ -d "$D" ]; then
        for f in worker manager; do
            [ -s "$D/$f.log" ] || continue
            echo "---- last lines of the $f log ----" >&2
            tail -n 15 "$D/$f.log" >&2
        done
    fi
    stop_pid "$WPID" seal-worker 60 || true
    stop_pid "$MPID" sector-manager 30 || true
    rm -rf "$D"
    exit $rc
}
trap cleanup EXIT
trap 'echo "demo: error: line $LINENO of $0 failed: $BASH_COMMAND" >&2' ERR
trap 'echo; echo "demo: interrupted; stopping the cluster" >&2; exit 130' INT
trap 'exit 143' TERM

# A free TCP port on 127.0.0.1 for the worker's admin API (its config takes no port 0),
# below the kernel's ephemeral range: a port in it can be taken by any outgoing connection
# between this check and the worker's bind.
free_port() {
    local p i lo=32768
    read -r lo _ </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || true
    [ "$lo" -gt 11000 ] 2>/dev/null || lo=32768
    for i in $(seq 50); do
        p=$(( 10000 + (RANDOM * 32768 + RANDOM) % (lo - 10000) ))
        (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return 0; }
    done
    die "no free TCP port found on 127.0.0.1"
}

wait_for() { # wait_for SECONDS WHAT COMMAND...
    local lim=$(( $1 * 10 )) what=$2 n=0
    shift 2
    until "$@" >/dev/null 2>&1; do
        n=$((n + 1))
        [ $n -ge $lim ] && die "$what did not happen within ${lim}00 ms"
        sleep 0.1
    done
}

echo "== sealpipe demo: a sector-manager and a seal-worker on 127.0.0.1, sealing 2KiB sectors"
echo "   directory: $D"

# ---- 1. the manager's home --------------------------------------------------------------
"$SM" init --home "$H" >"$D/init.out"
mkdir -p "$D/hot1" "$D/warm1"
cat >"$H/manager.cfg" <<EOF
# demo: the local chain on fast epochs (mainnet waits 150 epochs of 30s for the seed)
api = { listen = "127.0.0.1:0"; threads = 2; };
chain = { block_time = "100ms"; ticket_lookback = 2; max_ticket_age = 1000000;
          precommit_landing = 2; challenge_delay = 5; seed_confidence = 1;
          proof_landing = 2; max_prove_duration = 1000000; };
miners = ( { actor = $MINER; sizes = [ "2KiB" ]; deals = true; max_number = 1; } );
# two tiers: deal data (unsealed) on a hot NVMe store, sealed sectors on a warm one
persist_stores = (
  { name = "hot1"; path = "$D/hot1"; tier = "hot"; media = "nvme"; domain = "rack-a";
    allow_types = [ "unsealed" ]; capacity = "64MiB"; },
  { name = "warm1"; path = "$D/warm1"; tier = "warm"; media = "hdd"; domain = "rack-b";
    capacity = "64MiB"; } );
storage = {
  policy = { sealed = { hot = 0; warm = 1; cold = 0; };
             unsealed = { hot = 1; warm = 0; cold = 0; }; };
  tick = "200ms"; health = { interval = "1s"; }; reconcile = { interval = "1s"; };
};
log = { level = "info"; };
EOF
"$SM" config check --home "$H" >/dev/null
say "[1/7] manager home $H (manager.cfg, manager.db, admin.token, worker.token)"

# ---- 2. the manager ---------------------------------------------------------------------
"$SM" run --home "$H" >"$D/manager.log" 2>&1 &
MPID=$!
wait_for 20 "the manager's start" test -s "$H/api"
API=$(cat "$H/api")
curl -fsS "http://$API/healthcheck" >/dev/null || die "the manager at $API does not answer"
say "[2/7] sector-manager running (pid $MPID) at http://$API, local chain on 100ms epochs"

# ---- 3. a deal: a small CAR file --------------------------------------------------------
cp "$CAR" "$D/demo.car"
PIECE=$("$SM" pieces import "$D/demo.car" --miner "$MINER" --home "$H" | tail -n1)
case "$PIECE" in baga6ea4sea*) ;; *) die "pieces import printed no piece CID: $PIECE" ;; esac
index_done() { [ "$("$SM" pieces show "$PIECE" --json --home "$H" | jq -r .Index.State)" = done ]; }
wait_for 30 "the indexing of the CAR's blocks" index_done
PJ=$("$SM" pieces show "$PIECE" --json --home "$H")
say "[3/7] deal imported: demo.car ($(stat -c %s "$D/demo.car") bytes) as piece $PIECE for f0$MINER"
say "      indexed as a $(echo "$PJ" | jq -r .Index.Kind) of $(echo "$PJ" | jq -r .Index.Blocks) blocks, roots $(echo "$PJ" | jq -r .Index.Roots | cut -c1-24)..."

# ---- 4. the worker ----------------------------------------------------------------------
# The 2-core development box class when this machine fits it; else every stage runs
# inside the worker (no processors), which any machine can do.
WPORT=$(free_port)
write_worker_cfg() { # write_worker_cfg INHERIT-LINE
    cat >"$CFG" <<EOF
$1
worker = { name = "demo-w1"; listen = "127.0.0.1:$WPORT"; };
sector_manager = { url = "http://$API"; token_file = "$H/worker.token"; };
sealing = { allowed_miners = [ $MINER ]; allowed_sizes = [ "2KiB" ]; enable_deals = true;
            seal_interval = "0s"; recover_interval = "1s"; rpc_polling_interval = "200ms"; };
sealing_thread = ( { location = "$D/thread0"; }, { location = "$D/thread1"; } );
attached = ( { name = "warm1"; location = "$D/warm1"; } );
processors = { parent_cache = "$D/parents"; };
EOF
}
CLASS="config/hw/dev-2c.cfg"
write_worker_cfg "inherit = \"$ROOT/config/hw/dev-2c.cfg\";"
if ! "$SW" check-config -c "$CFG" --quiet >"$D/check.out" 2>&1; then
    CLASS="none (this machine does not fit config/hw/dev-2c.cfg: every stage runs in the worker)"
    write_worker_cfg "inherit = \"$ROOT/config/worker.cfg\";
processors = { pc1 = ( ); pc2 = ( ); c2 = ( ); };"
    "$SW" check-config -c "$CFG" || die "the demo's worker config does not pass check-config"
fi
# its per-GPU TMPDIR (GPU lock files) inside the demo's directory too
mkdir -p "$D/tmp"
# Started again on another port if something took this one before the worker bound it.
for attempt in 1 2 3; do
    TMPDIR=$D/tmp "$SW" daemon -c "$CFG" >"$D/worker.log" 2>&1 &
    WPID=$!
    wait_for 30 "the worker's start" sh -c "grep -q ' running: ' '$D/worker.log' || ! kill -0 $WPID 2>/dev/null"
    grep -q ' running: ' "$D/worker.log" && break
    wait "$WPID" 2>/dev/null || true
    grep -q 'Address already in use' "$D/worker.log" && [ "$attempt" -lt 3 ] ||
        die "the worker did not start"
    old=$WPORT
    WPORT=$(free_port)
    sed -i "s/127.0.0.1:$old\"/127.0.0.1:$WPORT\"/" "$CFG"
done
NPROCS=$(sed -n 's/.* running: .* sealing threads\{0,1\}, \([0-9]*\) processor.*/\1/p' "$D/worker.log" | head -n1)
procs_ready() { [ "$(grep -c 'seal-worker: processor .* ready' "$D/worker.log")" -ge "${NPROCS:-0}" ]; }
wait_for 30 "the processors' start" procs_ready
say "[4/7] seal-worker demo-w1 running (pid $WPID): 2 sealing threads, admin API 127.0.0.1:$WPORT"
say "      hardware class: $CLASS"
grep 'seal-worker: processor .* ready' "$D/worker.log" | sed 's/^.*processor /      processor /' || true

# ---- 5. sealing, a line per step --------------------------------------------------------
# Each sector's history (`sectors show --json`) holds the worker's state transitions and
# the chain's landings with their times; new entries are printed as they appear.
say "[5/7] sealing one deal sector and one CC sector to Proving"
say "    elapsed  sector       step               state"
T0MS=$(( T0 / 1000000 ))
declare -A PRINTED
DEADLINE=$(( $(date +%s) + TIMEOUT ))
while :; do
    sectors=$("$SM" sectors list --json --home "$H" 2>/dev/null || echo '[]')
    new=""
    for sec in $(echo "$sectors" | jq -r '.[] | "s-t0\(.ID.Miner)-\(.ID.Number)"'); do
        show=$("$SM" sectors show "$sec" --json --home "$H" 2>/dev/null) || continue
        done_n=${PRINTED[$sec]:-0}
        PRINTED[$sec]=$(echo "$show" | jq '.Events | length')
        new+=$(echo "$show" | jq -r --arg s "$sec" --argjson from "$done_n" --argjson t0 "$T0MS" '
            (.Deals | length) as $ndeals
            | .Events[$from:][]
            | select(.Source == "chain" or (.Source == "worker" and .Next != null))
            | (if .Event == "AcquireDeals" then
                   (if $ndeals > 0 then " (\($ndeals) deal piece)" else " (none: committed capacity)" end)
               else "" end) as $note
            | "\(.At)\t\((.At - $t0) / 1000 * 10 | floor / 10)\t\($s)\t\(.Event)\t\(.Next // "on chain")\($note)"')$'\n'
    done
    echo -n "$new" | sort -n | while IFS=$'\t' read -r _ el name ev st; do
        if [ -n "$name" ]; then printf '  %7.1fs  %-12s %-18s %s\n' "$el" "$name" "$ev" "$st"; fi
    done
    proving=$(echo "$sectors" | jq '[.[] | select(.State == "Proving")] | length')
    [ "$proving" -ge 2 ] && break
    if ! kill -0 "$WPID" 2>/dev/null; then die "the worker exited"; fi
    if ! kill -0 "$MPID" 2>/dev/null; then die "the manager exited"; fi
    if [ "$(date +%s)" -ge "$DEADLINE" ]; then
        "$SW" threads list -c "$CFG" >&2 || true
        die "the sectors did not reach Proving within ${TIMEOUT}s"
    fi
    sleep 0.3
done
say "      both sectors are Proving after $(elapsed | tr -d ' '): the manager verified their proofs"

# ---- 6. one block of the deal back by its CID -------------------------------------------
# The CAR's first root, a DAG-CBOR block.  GET /ipfs/<cid> finds it through the block
# index (caches, then the replicas); `blocks get` checks the bytes against the CID, and
# so does this script on its own: the bytes must hash to the CID's SHA-256 digest and be
# the CAR's bytes at the block's offset (from the fixture's description).
BCID=$(jq -r '.blocks[0].cid["/"]' "$CARJSON")
off=$(jq -r '.blocks[0].blockOffset' "$CARJSON")
len=$(jq -r '.blocks[0].blockLength' "$CARJSON")
cid_digest() { # the sha2-256 digest (hex) of a base32 CIDv1 (one-byte codec)
    local b=${1#b} pad
    b=$(echo "$b" | tr 'a-z' 'A-Z')
    pad=$(( (8 - ${#b} % 8) % 8 ))
    b=$b$(printf '%*s' "$pad" '' | tr ' ' '=')
    echo "$b" | base32 -d | od -An -v -tx1 | tr -d ' \n' | cut -c9-
}
"$SM" blocks get "$BCID" --out "$D/block.bin" --home "$H" 2>"$D/blocks-get.err" ||
    die "blocks get $BCID: $(cat "$D/blocks-get.err")"
got=$(sha256sum "$D/block.bin" | cut -d' ' -f1)
[ "$got" = "$(cid_digest "$BCID")" ] || die "block $BCID: the bytes read back hash to $got"
cmp -s "$D/block.bin" <(tail -c +"$((off + 1))" "$D/demo.car" | head -c "$len") ||
    die "block $BCID: not the CAR's bytes at offset $off"
say "[6/7] block $BCID fetched back"
say "      (GET http://$API/ipfs/$BCID): $len bytes, SHA-256 matches the CID, same bytes as in the CAR"
"$SM" blocks stat "$BCID" --home "$H" 2>/dev/null | sed 's/^/      /' || true

# ---- 7. what the manager says -----------------------------------------------------------
say "[7/7] sector-manager sectors list --home $H"
"$SM" sectors list --home "$H" | sed 's/^/      /'
say "      sector-manager storage list --home $H"
"$SM" storage list --home "$H" | sed 's/^/      /'

if [ "$KEEP" = 1 ]; then
    KEPT=1
    # stop.sh: the worker first (its sealing threads and processors), then the manager
    cat >"$D/stop.sh" <<EOF
#!/bin/sh
# Stops the demo cluster of $D and removes the directory.
gone() { [ ! -r /proc/\$1/stat ] || [ "\$(sed 's/.*) //' /proc/\$1/stat | cut -d' ' -f1)" = Z ]; }
for p in $WPID $MPID; do
    kill -TERM \$p 2>/dev/null
    n=0
    while ! gone \$p && [ \$n -lt 300 ]; do sleep 0.2; n=\$((n + 1)); done
    gone \$p || kill -KILL \$p 2>/dev/null
done
rm -rf "$D"
echo "demo cluster stopped; $D removed"
EOF
    cat <<EOF

== DEMO_KEEP=1: the cluster keeps running in $D
   manager   pid $MPID, JSON-RPC http://$API/rpc/v0, metrics http://$API/metrics
   worker    pid $WPID, admin API http://127.0.0.1:$WPORT/rpc/v0, metrics http://127.0.0.1:$WPORT/metrics
   tokens    $H/admin.token (admin scope), $H/worker.token (worker scope)
   logs      $D/manager.log, $D/worker.log
   try       $SM sectors list --home $H
             $SM sectors show s-t0$MINER-0 --home $H
             $SM storage list --home $H
             $SM pieces show $PIECE --home $H
             $SM blocks get $BCID --home $H | od -c | head
             $SW threads list -c $CFG
             curl -s http://$API/metrics | grep sealpipe_manager_sectors
   stop      sh $D/stop.sh
EOF
    exit 0
fi

say "== stopping: the worker, then the manager"
t=$(date +%s%N)
stop_pid "$WPID" seal-worker 60 || die "seal-worker exited with an error on SIGTERM"
WPID=""
stop_pid "$MPID" sector-manager 30 || die "sector-manager exited with an error on SIGTERM"
MPID=""
grep -q 'stopped cleanly' "$D/manager.log" || die "the manager did not report a clean stop"
say "   stopped cleanly in $(( ($(date +%s%N) - t) / 1000000 )) ms; nothing is left running"
say "== demo done in $(elapsed | tr -d ' ')"
