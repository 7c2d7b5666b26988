#!/bin/sh
# bench.sh — `make bench`: runs each existing benchmark once, each under a time limit,
# keeps their JSON output, and ends with one table of the headline ratios.
#
#   data     sealproof bench data --size 512MiB     CommP and tree_d vs the SHA-256 chain
#   pc1      sealproof bench pc1 --sector-size 512MiB   labeling vs the SHA-256 limit
#   pc1b     sealproof bench pc1 --batch 4 (8MiB)   batched PC1: 4 sectors on one core
#   pc2      sealproof bench pc2 --sector-size 8MiB     Poseidon vs the Fr product rate, a PC2
#   gpu      sealproof bench gpu                    OpenCL device vs the CPU backend
#   rpc      scripts/bench_rpc.sh 32 5              sector-manager requests/s (target 5000)
#   storage  scripts/bench_storage.sh               block retrieval (L1, L2, hot) and Range reads
#
# Environment:
#   BENCH_ONLY="pc1 rpc"    run only these
#   BENCH_LIMIT=SECONDS     time limit of each benchmark (default 900); a benchmark past
#                           it gets SIGINT (they clean up their files), SIGKILL 30s later
#   BENCH_PC1_SIZE, BENCH_PC2_SIZE, BENCH_DATA_SIZE   sizes (512MiB, 8MiB, 512MiB)
#   BENCH_PC1B_SIZE, BENCH_PC1B_BATCH   batched PC1 (8MiB, 4 sectors)
#   BENCH_OUT=DIR           where the JSON results go (default build/bench)
# Other load on the machine lowers every rate: each line shows the load average.
set -u

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${SP_BIN:-$ROOT/bin}
SEALPROOF=$BIN/sealproof
ONLY=${BENCH_ONLY:-data pc1 pc1b pc2 gpu rpc storage}
LIMIT=${BENCH_LIMIT:-900}
OUT=${BENCH_OUT:-$ROOT/build/bench}
PC1_SIZE=${BENCH_PC1_SIZE:-512MiB}
PC2_SIZE=${BENCH_PC2_SIZE:-8MiB}
DATA_SIZE=${BENCH_DATA_SIZE:-512MiB}
PC1B_SIZE=${BENCH_PC1B_SIZE:-8MiB}
PC1B_BATCH=${BENCH_PC1B_BATCH:-4}
[ -x "$SEALPROOF" ] || { echo "bench: $SEALPROOF is not built; run make first" >&2; exit 1; }
command -v jq >/dev/null || { echo "bench: jq is missing; run scripts/deps.sh" >&2; exit 1; }
mkdir -p "$OUT"
SUMMARY=$OUT/summary.txt
: >"$SUMMARY"
failed=0

load() { cut -d' ' -f1 /proc/loadavg; }
want() { case " $ONLY " in *" $1 "*) return 0 ;; esac; return 1; }
# row NAME WHAT VALUE: one line of the final table
row() { printf '%-16s %-56s %s\n' "$1" "$2" "$3" >>"$SUMMARY"; }

# run NAME COMMAND...: runs one benchmark under the limit; its stdout goes to
# $OUT/NAME.json, its stderr to the terminal.  Returns its status (124: timed out).
run() {
    name=$1
    shift
    echo "== bench $name: $* (limit ${LIMIT}s, load average $(load))" >&2
    start=$(date +%s)
    timeout -s INT -k 30 "$LIMIT" "$@" >"$OUT/$name.json"
    rc=$?
    secs=$(( $(date +%s) - start ))
    if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
        echo "bench $name: stopped after ${LIMIT}s (BENCH_LIMIT)" >&2
        row "$name" "did not finish within ${LIMIT}s" "-"
    elif [ $rc -ne 0 ]; then
        echo "bench $name: failed (exit $rc)" >&2
        row "$name" "failed (exit $rc)" "-"
        failed=$((failed + 1))
    fi
    return $rc
}
# j NAME FILTER: a value from a benchmark's JSON
j() { jq -r "$2" "$OUT/$1.json" 2>/dev/null | head -n1; }
fmt() { printf '%.3f' "$1" 2>/dev/null || echo "$1"; }

if want data && run data "$SEALPROOF" bench data --size "$DATA_SIZE" --json; then
    row "data $DATA_SIZE" "CommP in memory / SHA-256 chain limit" "$(fmt "$(j data .ratio_to_chain)")"
    row "" "CommP from memory, from a file, tree_d (MB/s)" \
        "$(printf '%.0f, %.0f, %.0f' "$(j data .commp_mem_mb_per_s)" "$(j data .commp_file_mb_per_s)" "$(j data .tree_d_mb_per_s)")"
fi

if want pc1 && run pc1 "$SEALPROOF" bench pc1 --sector-size "$PC1_SIZE" --json; then
    row "pc1 $PC1_SIZE" "labeling rate / SHA-256 limit (wall time)" "$(fmt "$(j pc1 .ratio)")"
    row "" "same, on the hashing thread's CPU time" "$(fmt "$(j pc1 .ratio_on_cpu_time)")"
    row "" "PC1 seconds ($(j pc1 .mode), load $(j pc1 .load_average))" "$(j pc1 .pc1_seconds)"
fi

if want pc1b && run pc1b "$SEALPROOF" bench pc1 --sector-size "$PC1B_SIZE" --batch "$PC1B_BATCH" --json; then
    row "pc1 batch $PC1B_BATCH x $PC1B_SIZE" "total rate / single-chain limit, one core (target 3)" "$(fmt "$(j pc1b .ratio)")"
    row "" "same on CPU time; fraction of the $(j pc1b .lanes_per_core)-lane ceiling" \
        "$(fmt "$(j pc1b .ratio_on_cpu_time)"); $(fmt "$(j pc1b .fraction_of_lanes_limit)")"
    row "" "peak RSS per sector / one PC1's two layers" \
        "$(awk -v a="$(j pc1b .peak_rss_per_sector_bytes)" -v b="$(j pc1b .single_sector_layers_bytes)" 'BEGIN { printf "%.2f", a / b }')"
fi

if want pc2 && run pc2 "$SEALPROOF" bench pc2 --sector-size "$PC2_SIZE" --json; then
    row "pc2 $PC2_SIZE" "column hash rate / Fr product rate allows" "$(fmt "$(j pc2 .column_hash.vs_mul_rate)")"
    row "" "tree hash rate / Fr product rate allows" "$(fmt "$(j pc2 .tree_hash.vs_mul_rate)")"
    row "" "PC2 seconds (wall, $(j pc2 .threads) threads)" "$(j pc2 .pc2.seconds)"
fi

if want gpu; then
    ndev=$("$SEALPROOF" devices --json 2>/dev/null | jq 'if type == "array" then length else (.devices // []) | length end' 2>/dev/null)
    if [ "${ndev:-0}" -gt 0 ]; then
        if run gpu "$SEALPROOF" bench gpu --json; then
            row "gpu" "tree_r_last device / CPU speedup ($(j gpu .device.type))" "$(fmt "$(j gpu .tree_r_last_speedup)")"
            row "" "device and CPU trees identical" "$(j gpu .trees_identical)"
        fi
    else
        echo "== bench gpu: skipped, no OpenCL device (sealproof devices)" >&2
        row "gpu" "skipped: no OpenCL device" "-"
    fi
fi

if want rpc && run rpc sh "$ROOT/scripts/bench_rpc.sh" 32 5; then
    for m in alloc report mixed; do
        r=$(jq -r --arg m "$m" 'select(.Method == $m) | "\(.PerSecond | floor), \(.P99Ms), \(.Errors)"' "$OUT/rpc.json")
        row "rpc $m" "requests/s (target 5000), p99 ms, errors" "$r"
    done
fi

if want storage; then
    if [ -f "$ROOT/scripts/bench_storage.sh" ]; then
        if run storage sh "$ROOT/scripts/bench_storage.sh"; then
            sum='select(.bench == "storage_summary")'
            row "storage" "blocks/s from L1 (target 20000), L2, the hot store" \
                "$(jq -r "$sum | \"\\(.l1_blocks_per_s | floor), \\(.l2_blocks_per_s | floor), \\(.hot_blocks_per_s | floor)\"" "$OUT/storage.json")"
            row "" "piece Range reads / plain sequential read (target 0.8)" \
                "$(jq -r "$sum | .range_to_plain" "$OUT/storage.json")"
        fi
    else
        row "storage" "skipped: scripts/bench_storage.sh does not exist yet" "-"
    fi
fi

{ [ -z "${BENCH_ONLY:-}" ] || want load; } && run load sh "$ROOT/scripts/bench_load.sh" && row "load 1000x32 x1" "simulated workers: requests/s, p99 ms, errors, peak RSS KiB" "$(jq -r 'select(.Speed == 1) | "\(.PerSecond | floor), \(.P99Ms), \(.Errors), \(.ManagerPeakRSSKiB)"' "$OUT/load.json")"

echo
echo "== sealpipe bench on $(nproc) CPUs ($(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1)), load average now $(load)"
printf '%-16s %-56s %s\n' BENCH HEADLINE VALUE
cat "$SUMMARY"
echo "JSON results: $OUT/*.json"
[ $failed -eq 0 ]
