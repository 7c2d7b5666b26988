#!/bin/sh
# bench_load.sh — the sector-manager under the RPC traffic of a whole sealing cluster:
# a fresh home on 127.0.0.1 (sqlite, the default driver; the mainnet chain timing: 30 s
# epochs, 150-epoch challenge delay) and `sector-manager bench rpc --method workers`
# simulating WORKERS seal-workers x THREADS sealing threads (default 1000 x 32: 32,000
# sectors in flight, 1,000 worker names), each thread walking the schedule of a 32GiB
# sector and sending the calls a seal-worker sends (ReportState per transition,
# PollPreCommitState/WaitSeed/PollProofState every 180 s, WorkerPing every 30 s per worker,
# AllocateSector when empty, ...).  The first window runs at the real rates; the others run
# the same schedule faster (--speed) to show the headroom.  The mix used is printed.
#
# Prints one JSON object per window (requests/s, the rate the schedule predicts, errors,
# p50/p90/p99/max latency counted from when each call was due, the manager's peak RSS)
# and a summary on stderr; exits non-zero when any window saw an error or the database
# does not hold the sectors and workers it should.
#
# Usage: scripts/bench_load.sh [WORKERS (1000)] [THREADS (32)] [SECONDS per window (60)]
#        [SPEEDS (1,10,40)]
#        SM_BENCH_THREADS=N sets the manager's HTTP threads (default 0: one per CPU).
set -eu
BIN="${SP_BIN:-$(cd "$(dirname "$0")/.." && pwd)/bin}"
WORKERS="${1:-1000}"
THREADS="${2:-32}"
SECONDS_PER_WINDOW="${3:-60}"
SPEEDS="${4:-1,10,40}"
HTTP_THREADS="${SM_BENCH_THREADS:-0}"
DIR=$(mktemp -d "${TMPDIR:-/tmp}/sealpipe-bench-load.XXXXXX")
PID=
cleanup() {
    [ -n "$PID" ] && kill -TERM "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
    rm -rf "$DIR"
}
trap cleanup EXIT INT TERM
# one connection per simulated worker, plus the manager's side of each
want_fds=$((WORKERS * 2 + 512))
[ "$(ulimit -n)" = unlimited ] || [ "$(ulimit -n)" -ge "$want_fds" ] || ulimit -n "$want_fds" 2>/dev/null ||
    { echo "bench_load: needs $want_fds open files (ulimit -n)" >&2; exit 1; }

"$BIN/sector-manager" init --home "$DIR/home" >/dev/null
mkdir -p "$DIR/store"
cat >"$DIR/home/manager.cfg" <<EOF
api = { listen = "127.0.0.1:0"; threads = $HTTP_THREADS; max_connections = $((WORKERS + 256)); };
chain = { block_time = "30s"; };
miners = ( { actor = 1000; sizes = [ "2KiB" ]; } );
persist_stores = ( { name = "s1"; path = "$DIR/store"; } );
log = { level = "warn"; };
EOF
"$BIN/sector-manager" run --home "$DIR/home" 2>"$DIR/manager.log" &
PID=$!
i=0
while [ ! -s "$DIR/home/api" ]; do
    i=$((i + 1))
    [ $i -gt 100 ] && { cat "$DIR/manager.log" >&2; echo "bench_load: the manager did not start" >&2; exit 1; }
    sleep 0.1
done
echo "# bench load: $WORKERS workers x $THREADS threads, ${SECONDS_PER_WINDOW}s per window at speeds $SPEEDS, manager HTTP threads $HTTP_THREADS (0: one per CPU), $(nproc) CPUs, load average $(cut -d' ' -f1 /proc/loadavg)" >&2
rc=0
"$BIN/sector-manager" bench rpc --method workers --home "$DIR/home" --workers "$WORKERS" --threads "$THREADS" \
    --seconds "$SECONDS_PER_WINDOW" --speed "$SPEEDS" --pid "$PID" --json >"$DIR/out.json" || rc=$?
cat "$DIR/out.json"
while read -r line; do
    echo "$line" | sed -e 's/.*"Speed":\([0-9.e+]*\).*"PerSecond":\([0-9.]*\),"ExpectedPerSecond":\([0-9.]*\),"Errors":\([0-9]*\).*"P99Ms":\([0-9.]*\).*"ManagerPeakRSSKiB":\([0-9]*\).*/\1 \2 \3 \4 \5 \6/' |
        { read -r speed rate exp errs p99 rss
          echo "#   speed x$speed: $rate requests/s (schedule: $exp/s), $errs errors, p99 $p99 ms, manager peak RSS $((rss / 1024)) MiB" >&2; }
done <"$DIR/out.json"
# the database holds what a cluster of this size would put in it
sectors=$("$BIN/sector-manager" sectors list --home "$DIR/home" --json | jq length)
workers=$("$BIN/sector-manager" workers list --home "$DIR/home" --json | jq length)
echo "#   database: $sectors sectors, $workers worker names" >&2
if [ "$sectors" -lt $((WORKERS * THREADS)) ] || [ "$workers" -ne "$WORKERS" ]; then
    echo "bench_load: expected at least $((WORKERS * THREADS)) sectors and $WORKERS workers" >&2
    rc=1
fi
if grep -q "ERROR" "$DIR/manager.log"; then
    echo "bench_load: the manager logged errors:" >&2
    grep "ERROR" "$DIR/manager.log" | head -n 5 >&2
    rc=1
fi
exit $rc
