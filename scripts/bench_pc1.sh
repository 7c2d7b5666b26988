#!/bin/sh
# bench_pc1.sh — PC1 labeling speed on this machine: `sealproof bench pc1` in multi-core and
# single-thread mode (one JSON object per line), each compared with the machine's own
# single-chain SHA-256 rate measured in the same run.  The parent cache is generated once
# into $FIL_PROOFS_PARENT_CACHE (default /var/tmp/filecoin-parents) and reused.
# Usage: scripts/bench_pc1.sh [SECTOR_SIZE (default 512MiB)] [extra bench pc1 options]
set -eu
BIN="${SP_BIN:-$(cd "$(dirname "$0")/.." && pwd)/bin}"
SIZE="${1:-512MiB}"
[ $# -gt 0 ] && shift
load=$(cut -d' ' -f1 /proc/loadavg)
echo "# bench pc1 $SIZE on $(nproc) CPUs, load average $load (other load lowers every rate)" >&2
for mode in "" --single; do
    "$BIN/sealproof" bench pc1 --sector-size "$SIZE" $mode "$@" --json
done
