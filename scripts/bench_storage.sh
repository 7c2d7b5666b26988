#!/bin/sh
# bench_storage.sh — block and piece retrieval on this machine (issue 8), on 127.0.0.1
# with concurrent keep-alive clients (`sector-manager bench retrieval`):
#   l1     small blocks (4 KiB) served from the L1 memory cache     target >= 20000 blocks/s
#   l2     the same blocks from the L2 disk cache (L1 off)
#   hot    the same blocks read from the hot store (both caches off), hash checked
#   range  4 MiB Range reads of a large piece on the hot store (sendfile), every range once,
#          compared with a plain sequential read of the same file, both from storage (its
#          pages dropped from the page cache first)               target >= 0.8 of it
# A fresh manager home in a temporary directory imports the data set (a CAR of random raw
# blocks and a large raw piece), waits until the storage service indexed them and copied
# them to the hot store, then restarts with each cache setting.  Prints one JSON object
# per run on stdout and a summary object last; human lines on stderr.
#
# The range part: the plain read is `dd bs=4M` of the hot copy; the range pass is
# RANGE_CLIENTS keep-alive connections (default 8, at least 2: the issue asks for
# concurrent clients) that split the piece's 4 MiB ranges among them (client i of n reads
# ranges i, i+n, ...), every byte received into user memory and counted.  The manager
# reads such a walk ahead with large sequential reads of its own (sm_prefetch.h), so the
# disk sees one stream as it does for dd.  Why 8: from storage, with the read-ahead, 2, 4
# and 8 clients measured alike on this 2-core VM (26 side-by-side rounds in four batches
# under varying load: medians within about 0.2 GB/s of each other, 2 clients slightly
# ahead in three batches, level in the fourth; the spread comes from the other load on
# the machine); from the page cache 8 are faster (about 3 GB/s against 1.9 for 2), and
# the warm figure printed for reference uses RANGE_CLIENTS too.  Each round reports the CPU seconds per GB
# of both paths (dd's; the client's and the manager's): the range path needs CPU for the
# client's copy out of the socket, loopback TCP and the server, so it suffers first when
# other work takes a core; the plain read mostly waits for the disk.
# Usage: scripts/bench_storage.sh [CLIENTS of the block runs (default 8)] [SECONDS per run (default 5)]
#   BENCH_STORAGE_BLOCKS=N (default 4000), BENCH_STORAGE_PIECE=SIZE (default 512MiB),
#   BENCH_STORAGE_RANGE_CLIENTS=N (default 8) for the range part,
#   BENCH_STORAGE_ONLY=range: only the range part (no CAR, no l1/l2/hot runs; their
#   summary fields are null)
set -eu
BIN="${SP_BIN:-$(cd "$(dirname "$0")/.." && pwd)/bin}"
SM="$BIN/sector-manager"
CLIENTS="${1:-8}"
SECS="${2:-5}"
BLOCKS="${BENCH_STORAGE_BLOCKS:-4000}"
PIECE_SIZE="${BENCH_STORAGE_PIECE:-512MiB}"
ONLY="${BENCH_STORAGE_ONLY:-}"
RANGE_CLIENTS="${BENCH_STORAGE_RANGE_CLIENTS:-8}"
[ "$RANGE_CLIENTS" -ge 2 ] 2>/dev/null || { echo "bench_storage: BENCH_STORAGE_RANGE_CLIENTS is 2 or more" >&2; exit 1; }
case "$ONLY" in ""|range) ;; *) echo "bench_storage: BENCH_STORAGE_ONLY is empty or range" >&2; exit 1 ;; esac
DIR=$(mktemp -d "${TMPDIR:-/tmp}/sealpipe-bench-storage.XXXXXX")
PID=
cleanup() {
    [ -n "$PID" ] && kill -TERM "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
    rm -rf "$DIR"
}
trap cleanup EXIT INT TERM
command -v jq >/dev/null || { echo "bench_storage: jq is missing" >&2; exit 1; }
say() { echo "# bench storage: $*" >&2; }

H="$DIR/home"
"$SM" init --home "$H" >/dev/null
mkdir -p "$DIR/hot1"
config() { # config L1 L2
    cat >"$H/manager.cfg" <<EOF
api = { listen = "127.0.0.1:0"; threads = 0; };
miners = ( { actor = 1000; sizes = [ "32GiB" ]; deals = false; } );
persist_stores = ( { name = "hot1"; path = "$DIR/hot1"; tier = "hot"; media = "nvme"; } );
storage = { policy = { unsealed = { hot = 1; }; }; tick = "100ms"; reconcile = { interval = "500ms"; };
            scrub = { light_every = "0"; deep_every = "0"; }; gc = { mark_every = "0"; };
            cache = { l1_size = "$1"; l2_size = "$2"; }; };
log = { level = "warn"; };
EOF
}
start() {
    rm -f "$H/api"
    "$SM" run --home "$H" 2>>"$DIR/manager.log" &
    PID=$!
    i=0
    while [ ! -s "$H/api" ]; do
        i=$((i + 1))
        [ $i -gt 200 ] && { cat "$DIR/manager.log" >&2; echo "bench_storage: the manager did not start" >&2; exit 1; }
        sleep 0.1
    done
}
stop() {
    kill -TERM "$PID"
    wait "$PID" 2>/dev/null || true
    PID=
}
wait_for() { # wait_for SECONDS COMMAND...
    lim=$(($1 * 10)); shift; i=0
    until "$@" >/dev/null 2>&1; do
        i=$((i + 1))
        [ $i -ge "$lim" ] && { echo "bench_storage: timed out waiting for $*" >&2; exit 1; }
        sleep 0.1
    done
}
ready() { # ready CID KIND: indexed and copied to hot1
    "$SM" pieces show "$1" --json --blocks 1 --home "$H" |
        jq -e --arg k "$2" '.Index.State == "done" and .Index.Kind == $k and ([.Copies[] | select(.Store == "hot1" and .State == "ok")] | length) == 1' >/dev/null
}

# ---- the data set ----
if [ -z "$ONLY" ]; then
    say "data: $BLOCKS blocks of 4 KiB in a CAR, a $PIECE_SIZE raw piece"
    "$SM" bench retrieval --make-car "$DIR/blocks.car" --blocks "$BLOCKS" --block-size 4KiB 2>/dev/null
else
    say "data: a $PIECE_SIZE raw piece"
fi
case "$PIECE_SIZE" in
*GiB) piece_mib=$((${PIECE_SIZE%GiB} * 1024)) ;;
*MiB) piece_mib=${PIECE_SIZE%MiB} ;;
*) echo "bench_storage: BENCH_STORAGE_PIECE is a size in MiB or GiB" >&2; exit 1 ;;
esac
head -c $((piece_mib * 1048576)) /dev/urandom >"$DIR/piece.bin"
config 256MiB 1GiB
start
CAR_CID=
[ -z "$ONLY" ] && CAR_CID=$("$SM" pieces import "$DIR/blocks.car" --miner 1000 --home "$H" | tail -n1)
RAW_CID=$("$SM" pieces import "$DIR/piece.bin" --miner 1000 --home "$H" | tail -n1)
[ -z "$ONLY" ] && wait_for 300 ready "$CAR_CID" car
wait_for 600 ready "$RAW_CID" raw
RAW_BYTES=$(stat -c %s "$DIR/piece.bin")
rm -f "$DIR/piece.bin" "$H/pieces/$RAW_CID"  # only the hot copy serves
[ -n "$CAR_CID" ] && rm -f "$H/pieces/$CAR_CID"

run() { # run NAME ARGS... -> one JSON line
    out=$("$SM" bench retrieval --home "$H" --clients "$CLIENTS" --seconds "$SECS" --json "$@")
    echo "$out" | jq -c --arg n "$1" '{bench: $n} + .' 2>/dev/null || { echo "$out" >&2; exit 1; }
}
warm_up() { "$SM" bench retrieval --home "$H" --clients 4 --seconds 1000 --cids "$DIR/blocks.car.cids" \
    --json >/dev/null 2>&1 & WPID=$!; sleep "$1"; kill "$WPID" 2>/dev/null; wait "$WPID" 2>/dev/null || true; }

L1='{"requests_per_s":null}' L2=$L1 HOT=$L1
if [ -z "$ONLY" ]; then
    # ---- l1 ----
    say "L1: every block read once, then $CLIENTS clients for ${SECS}s"
    warm_up 3
    L1=$(run l1 --cids "$DIR/blocks.car.cids" | jq -c '.bench = "l1"')
    echo "$L1"
    stop

    # ---- l2 ----
    config 0 1GiB
    start
    say "L2 (L1 off)"
    warm_up 3
    L2=$(run l2 --cids "$DIR/blocks.car.cids" | jq -c '.bench = "l2"')
    echo "$L2"
    stop

    # ---- hot tier ----
    config 0 0
    start
    say "hot tier (caches off)"
    HOT=$(run hot --cids "$DIR/blocks.car.cids" | jq -c '.bench = "hot"')
    echo "$HOT"
else
    stop
    config 0 0
    start
fi

# ---- range reads vs a plain sequential read ----
# Both read the file from storage: its pages are dropped from the page cache first
# (posix_fadvise DONTNEED through dd's nocache flag, before every round of each), and the
# range run reads every range once (split among the clients).  Best of three rounds each.
# CPU seconds per GB: dd's own (the shell's children times), and the range pass's client
# (its getrusage) plus the manager (/proc/PID/stat) — kernel work done in interrupts is
# charged to whoever ran then.  The page-cache (warm) figures are printed too, for
# reference.
FILE="$DIR/hot1/unsealed/$RAW_CID"
drop() { dd if="$FILE" iflag=nocache count=0 status=none; sync "$FILE" 2>/dev/null || true; }
now() { date +%s.%N; }
mbps() { awk -v b="$1" -v a="$2" -v z="$3" 'BEGIN { printf "%.2f", b / (z - a) / 1e6 }'; }
best() { awk -v a="$1" -v b="$2" 'BEGIN { print (b > a) ? b : a }'; }
TCK=$(getconf CLK_TCK)
proc_cpu() { sed 's/.*) //' "/proc/$1/stat" | awk -v t="$TCK" '{ printf "%.3f", ($12 + $13) / t }'; }
# The children's CPU seconds so far, as `times` wrote them to FILE (called directly: in a
# $(...) subshell `times` would count that subshell's children, none).
child_cpu() { awk 'NR == 2 { split($1, u, /[ms]/); split($2, s, /[ms]/); printf "%.3f", u[1] * 60 + u[2] + s[1] * 60 + s[2] }' "$1"; }
per_gb() { awk -v c="$1" -v b="$RAW_BYTES" 'BEGIN { printf "%.3f", c / (b / 1e9) }'; }
PLAIN=0
RANGE_MB=0
PLAIN_CPU=0
RANGE_CPU=0
for round in 1 2 3; do
    drop
    times >"$DIR/times0"
    t0=$(now)
    dd if="$FILE" of=/dev/null bs=4M status=none
    t1=$(now)
    times >"$DIR/times1"
    c0=$(child_cpu "$DIR/times0")
    c1=$(child_cpu "$DIR/times1")
    p=$(mbps "$RAW_BYTES" "$t0" "$t1")
    pc=$(per_gb "$(awk -v a="$c0" -v b="$c1" 'BEGIN { print b - a }')")
    PLAIN=$(best "$PLAIN" "$p")
    PLAIN_CPU=$(awk -v a="$PLAIN_CPU" -v b="$pc" 'BEGIN { print a + b / 3 }')
    echo "{\"bench\":\"plain_cold_$round\",\"bytes\":$RAW_BYTES,\"mb_per_s\":$p,\"cpu_s_per_gb\":$pc}"
    drop
    s0=$(proc_cpu "$PID")
    r=$("$SM" bench retrieval --home "$H" --clients "$RANGE_CLIENTS" --seconds 600 --json --piece "$RAW_CID" \
        --piece-size "$RAW_BYTES" --range 4MiB --once) || true
    s1=$(proc_cpu "$PID")
    got=$(echo "$r" | jq -r '.bytes // empty' 2>/dev/null || true)
    [ "$got" = "$RAW_BYTES" ] || {
        echo "bench_storage: range pass $round read ${got:-no} bytes of $RAW_BYTES: $r" >&2
        tail -n 20 "$DIR/manager.log" >&2
        exit 1
    }
    RANGE_MB=$(best "$RANGE_MB" "$(echo "$r" | jq .mb_per_s)")
    rc=$(per_gb "$(echo "$r" | jq --argjson a "$s0" --argjson b "$s1" '.client_cpu_s + $b - $a')")
    RANGE_CPU=$(awk -v a="$RANGE_CPU" -v b="$rc" 'BEGIN { print a + b / 3 }')
    echo "$r" | jq -c --arg n "range_cold_$round" --argjson a "$s0" --argjson b "$s1" --argjson g "$rc" \
        '{bench: $n} + . + {server_cpu_s: (($b - $a) * 1000 | round / 1000), cpu_s_per_gb: $g}'
done
say "$(printf 'from storage: plain sequential read %.0f MB/s (%.2f CPU s/GB), range reads %.0f MB/s with %s clients (%.2f CPU s/GB, client and manager)' \
    "$PLAIN" "$PLAIN_CPU" "$RANGE_MB" "$RANGE_CLIENTS" "$RANGE_CPU")"
echo "{\"bench\":\"plain_read_cold\",\"bytes\":$RAW_BYTES,\"mb_per_s\":$PLAIN}"
cat "$FILE" >/dev/null
t0=$(now)
cat "$FILE" >/dev/null
t1=$(now)
WARM_PLAIN=$(mbps "$RAW_BYTES" "$t0" "$t1")
WARM=$("$SM" bench retrieval --home "$H" --clients "$RANGE_CLIENTS" --seconds "$SECS" --json --piece "$RAW_CID" \
    --piece-size "$RAW_BYTES" --range 4MiB | jq -c '{bench: "range_warm"} + .')
echo "$WARM"
echo "{\"bench\":\"plain_read_warm\",\"bytes\":$RAW_BYTES,\"mb_per_s\":$WARM_PLAIN}"
say "from the page cache: plain read $(printf '%.0f' "$WARM_PLAIN") MB/s, range reads $(echo "$WARM" | jq .mb_per_s) MB/s over loopback TCP ($RANGE_CLIENTS clients)"
stop

l1_rate=$(echo "$L1" | jq .requests_per_s)
ratio=$(awk -v r="$RANGE_MB" -v p="$PLAIN" 'BEGIN { printf "%.3f", r / p }')
l1_ok=$(awk -v r="$l1_rate" 'BEGIN { print (r != "null" && r >= 20000) ? 1 : 0 }')
ratio_ok=$(awk -v r="$ratio" 'BEGIN { print (r >= 0.8) ? 1 : 0 }')
range_line=$(printf 'range %.0f MB/s = %.2f of the plain read (target 0.8: %s)' "$RANGE_MB" "$ratio" \
    "$([ "$ratio_ok" = 1 ] && echo met || echo MISSED)")
if [ -z "$ONLY" ]; then
    say "$(printf 'L1 %.0f blocks/s (target 20000: %s); L2 %.0f; hot %.0f; ' \
        "$l1_rate" "$([ "$l1_ok" = 1 ] && echo met || echo MISSED)" "$(echo "$L2" | jq .requests_per_s)" \
        "$(echo "$HOT" | jq .requests_per_s)")$range_line"
else
    say "$range_line"
fi
printf '{"bench":"storage_summary","l1_blocks_per_s":%s,"l2_blocks_per_s":%s,"hot_blocks_per_s":%s,"range_mb_per_s":%s,"plain_read_mb_per_s":%s,"range_to_plain":%s,"range_cpu_s_per_gb":%s,"plain_cpu_s_per_gb":%s,"l1_target_met":%s,"range_target_met":%s,"load_average":%s}\n' \
    "$l1_rate" "$(echo "$L2" | jq .requests_per_s)" "$(echo "$HOT" | jq .requests_per_s)" \
    "$RANGE_MB" "$PLAIN" "$ratio" "$(printf '%.3f' "$RANGE_CPU")" "$(printf '%.3f' "$PLAIN_CPU")" \
    "$([ -n "$ONLY" ] && echo null || { [ "$l1_ok" = 1 ] && echo true || echo false; })" \
    "$([ "$ratio_ok" = 1 ] && echo true || echo false)" "$(cut -d' ' -f1 /proc/loadavg)"
