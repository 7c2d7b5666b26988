#!/bin/sh
# bench_rpc.sh — sector-manager RPC throughput on this machine: a fresh manager home on
# 127.0.0.1 (sqlite, the default driver) and `sector-manager bench rpc` driving it with N
# concurrent keep-alive clients, for AllocateSector, ReportState and a mix (one
# AllocateSector per 15 ReportState).  Prints one JSON object per run (requests/s, errors,
# p50/p90/p99/max latency, the manager's peak memory) and a summary on stderr.
# Target (issue 6): >= 5000 requests/s on 2 cores.
# Usage: scripts/bench_rpc.sh [CLIENTS (default 32)] [SECONDS per run (default 5)]
#        SM_BENCH_THREADS=N sets the manager's HTTP threads (default 0: one per CPU).
set -eu
BIN="${SP_BIN:-$(cd "$(dirname "$0")/.." && pwd)/bin}"
CLIENTS="${1:-32}"
SECONDS_PER_RUN="${2:-5}"
THREADS="${SM_BENCH_THREADS:-0}"
DIR=$(mktemp -d "${TMPDIR:-/tmp}/sealpipe-bench-rpc.XXXXXX")
PID=
cleanup() {
    [ -n "$PID" ] && kill -TERM "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
    rm -rf "$DIR"
}
trap cleanup EXIT INT TERM

"$BIN/sector-manager" init --home "$DIR/home" >/dev/null
cat >"$DIR/home/manager.cfg" <<EOF
api = { listen = "127.0.0.1:0"; threads = $THREADS; };
miners = ( { actor = 1000; sizes = [ "32GiB" ]; } );
log = { level = "warn"; };
EOF
"$BIN/sector-manager" run --home "$DIR/home" 2>"$DIR/manager.log" &
PID=$!
i=0
while [ ! -s "$DIR/home/api" ]; do
    i=$((i + 1))
    [ $i -gt 100 ] && { cat "$DIR/manager.log" >&2; echo "bench_rpc: the manager did not start" >&2; exit 1; }
    sleep 0.1
done
load=$(cut -d' ' -f1 /proc/loadavg)
echo "# bench rpc: $CLIENTS clients x ${SECONDS_PER_RUN}s per method, manager threads $THREADS (0: one per CPU), $(nproc) CPUs, load average $load" >&2
for method in alloc report mixed; do
    out=$("$BIN/sector-manager" bench rpc --home "$DIR/home" --clients "$CLIENTS" \
          --seconds "$SECONDS_PER_RUN" --method "$method" --json)
    rss=$(awk '/VmHWM/ {print $2}' "/proc/$PID/status")
    echo "$out" | sed "s/}\$/,\"ManagerPeakRSSKiB\":$rss}/"
    echo "$out" | sed -e 's/.*"PerSecond":\([0-9.]*\).*"P99Ms":\([0-9.]*\).*/\1 \2/' |
        { read -r rate p99; echo "#   $method: $rate requests/s, p99 $p99 ms, manager peak RSS $rss KiB" >&2; }
done
