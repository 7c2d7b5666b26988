#!/bin/bash
# ops_demo.sh — the script behind `make demo` (scripts/demo.sh), run three times, each
# under a time limit, with the programs of this build (SP_BIN):
#   1. the whole demo: a manager and a 2-thread worker on 127.0.0.1 seal a deal sector
#      (a CAR file imported as a deal) and a CC sector to Proving with progress lines,
#      one block comes back by CID, sectors list and storage list are printed, and
#      everything stops cleanly: no process it started is left, its directory is gone;
#   2. SIGINT (Ctrl-C) while the cluster runs: exit status 130, nothing left;
#   3. DEMO_KEEP=1: the cluster stays up and answers the commands the demo prints; its
#      printed stop command stops it and removes the directory.
. "$(dirname "$0")/lib.sh"

DEMO="$SP_ROOT/scripts/demo.sh"
for t in jq curl base32 timeout setsid; do
    command -v "$t" >/dev/null || { echo "$t is not installed"; exit 77; }
done
env --default-signal=INT true 2>/dev/null || { echo "env --default-signal is missing (coreutils < 8.31)"; exit 77; }
LIMIT=${OPS_DEMO_LIMIT:-300}

# alive PID: running and not a zombie (the demo's orphans are reaped by init, later)
alive() { [ -r "/proc/$1/stat" ] && [ "$(sed 's/.*) //' "/proc/$1/stat" | cut -d' ' -f1)" != Z ]; }
# the pids an output names: manager, worker, processor children
demo_pids() { grep -o '(pid [0-9]*)' "$1" | tr -dc '0-9\n'; }
# no_leftovers OUTPUT DIR: every pid the output names is gone, DIR holds nothing
no_leftovers() {
    local p n
    for p in $(demo_pids "$1"); do
        n=0
        while alive "$p" && [ $n -lt 100 ]; do sleep 0.1; n=$((n + 1)); done
        alive "$p" && fail "process $p ($(tr '\0' ' ' <"/proc/$p/cmdline")) is still running"
    done
    [ -z "$(ls -A "$2")" ] || fail "the demo left files: $(ls -A "$2")"
}

# ---- 1. the whole demo ------------------------------------------------------------------
mkdir -p "$T/run1"
start=$(date +%s)
TMPDIR=$T/run1 timeout -k 10 "$LIMIT" bash "$DEMO" >"$T/out1" 2>&1 ||
    { cat "$T/out1" >&2; fail "the demo failed (status $?) or ran past ${LIMIT}s"; }
secs=$(( $(date +%s) - start ))
O=$(cat "$T/out1")
for want in "[1/7] manager home" "[2/7] sector-manager running" "[3/7] deal imported: demo.car (715 bytes)" \
            "indexed as a car of 8 blocks" "[4/7] seal-worker demo-w1 running" "2 sealing threads" \
            "[5/7] sealing one deal sector and one CC sector" "both sectors are Proving" \
            "[6/7] block bafyreihyrpefhacm6kkp4ql6j6udakdit7g3dmkzfriqfykhjw6cad5lrm fetched back" \
            "55 bytes, SHA-256 matches the CID, same bytes as in the CAR" \
            "[7/7] sector-manager sectors list" "2 sector(s)" "hot1:" "warm1:" "Tier: hot" \
            "stopped cleanly in" "== demo done in"; do
    assert_contains "$O" "$want"
done
# progress lines: "<elapsed>s  s-t01000-N  STEP  STATE", every stage of both sectors
for step in "AcquireDeals       DealsAcquired (1 deal piece)" \
            "AcquireDeals       DealsAcquired (none: committed capacity)"; do
    assert_eq "$(grep -c -- "$step" "$T/out1")" "1" "progress line '$step'"
done
for step in "PC1                PC1Done" "PC2                PC2Done" "C1                 C1Done" \
            "C2                 C2Done" "ProveCommitLanded  Proving" "PreCommitLanded    on chain"; do
    assert_eq "$(grep -cE "^ +[0-9]+\.[0-9]s  s-t01000-[01] +$step" "$T/out1")" "2" "progress lines '$step'"
done
assert_eq "$(grep -cE '^ +s-t01000-[01] +2KiB +Proving +demo-w1' "$T/out1")" "2" "sectors list: both Proving"
# the processors of the dev-2c class ran (this test machine fits it) or the fallback said why
case "$O" in
*"hardware class: config/hw/dev-2c.cfg"*) assert_eq "$(grep -c 'processor .* ready (pid' "$T/out1")" "3" "processors" ;;
*) assert_contains "$O" "hardware class: none (this machine does not fit config/hw/dev-2c.cfg" ;;
esac
no_leftovers "$T/out1" "$T/run1"
echo "demo: ${secs}s"

# ---- 2. Ctrl-C while the cluster runs ---------------------------------------------------
# The demo in its own session with SIGINT at its default (an asynchronous command of a
# script would ignore it), interrupted once the worker runs.
mkdir -p "$T/run2"
TMPDIR=$T/run2 setsid env --default-signal=INT timeout -k 10 "$LIMIT" bash "$DEMO" >"$T/out2" 2>&1 &
DPID=$!
sp_track $DPID
sp_wait_for 120 grep -q '^\[4/7\]' "$T/out2" || { cat "$T/out2" >&2; fail "the demo did not start its worker"; }
# the script itself, not timeout: SIGINT to the whole session, as a terminal sends it
kill -INT -- "-$DPID"
rc=0
wait $DPID || rc=$?
# timeout passes its child's status on; bash reports a signal death as 128+2
[ $rc = 130 ] || { cat "$T/out2" >&2; fail "status after Ctrl-C: $rc, want 130"; }
assert_contains "$(cat "$T/out2")" "interrupted; stopping the cluster"
no_leftovers "$T/out2" "$T/run2"

# ---- 3. DEMO_KEEP=1 -----------------------------------------------------------------------
mkdir -p "$T/run3"
DEMO_KEEP=1 TMPDIR=$T/run3 timeout -k 10 "$LIMIT" bash "$DEMO" >"$T/out3" 2>&1 ||
    { cat "$T/out3" >&2; fail "DEMO_KEEP=1 demo failed"; }
for p in $(demo_pids "$T/out3"); do sp_track "$p"; done
K=$(cat "$T/out3")
assert_contains "$K" "== DEMO_KEEP=1: the cluster keeps running in $T/run3/sealpipe-demo."
MPID=$(sed -n 's/^   manager   pid \([0-9]*\),.*/\1/p' "$T/out3")
WPID=$(sed -n 's/^   worker    pid \([0-9]*\),.*/\1/p' "$T/out3")
alive "$MPID" || fail "the manager is not running"
alive "$WPID" || fail "the worker is not running"
# the commands it prints work against the running cluster
cmd=$(grep -o "$SP_BIN/sector-manager sectors list --home [^ ]*" "$T/out3" | head -n1)
[ -n "$cmd" ] || fail "no sectors list command printed"
assert_eq "$($cmd --json | jq '[.[] | select(.State == "Proving")] | length')" "2" "sectors list on the kept cluster"
cmd=$(grep -o "$SP_BIN/seal-worker threads list -c [^ ]*" "$T/out3" | head -n1)
assert_eq "$($cmd --json | jq length)" "2" "threads list on the kept cluster"
url=$(grep -o 'metrics http://127.0.0.1:[0-9]*/metrics' "$T/out3" | head -n1 | cut -d' ' -f2)
assert_contains "$(curl -sS "$url")" 'sealpipe_manager_sectors{miner="1000",state="Proving"} 2'
url=$(grep -o 'metrics http://127.0.0.1:[0-9]*/metrics' "$T/out3" | sed -n 2p | cut -d' ' -f2)
assert_contains "$(curl -sS "$url")" 'sealpipe_worker_sectors_total{result="finished"} 2'
tok=$(grep -o "tokens    [^ ]*admin.token" "$T/out3" | cut -c11-)
[ -s "$tok" ] || fail "the admin token file $tok is missing"
# the printed stop command ends it all
stop=$(sed -n 's/^   stop      //p' "$T/out3")
[ -n "$stop" ] || fail "no stop command printed"
sh -c "$stop" >"$T/stop.out" || fail "the stop command failed: $(cat "$T/stop.out")"
assert_contains "$(cat "$T/stop.out")" "demo cluster stopped"
no_leftovers "$T/out3" "$T/run3"
echo "ops demo: full run, Ctrl-C and DEMO_KEEP=1 ok"
