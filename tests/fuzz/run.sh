#!/bin/sh
# run.sh BUILD_DIR SECONDS TARGET... — runs each libFuzzer program BUILD_DIR/fuzz/TARGET for
# SECONDS over its checked-in corpus (tests/fuzz/corpus/TARGET, read only) plus a working
# corpus of what it finds (BUILD_DIR/corpus/TARGET), with its dictionary when there is one
# (tests/fuzz/dict/TARGET.dict).  Prints one line per target: executions, corpus size and
# any crash (saved under BUILD_DIR/crashes/TARGET/); exits 1 when anything crashed.
#
# The targets run in a private mount namespace where everything but BUILD_DIR is read-only
# (unshare -m, as root): the RPC targets execute whatever methods the fuzzer composes, and
# some of those name paths (a store to attach, a piece to import).  Without that sandbox the
# rpc_* targets are skipped unless FUZZ_UNSANDBOXED=1.
set -u
BUILD=$1; SECONDS_EACH=$2; shift 2
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
mkdir -p "$BUILD/tmp" "$BUILD/logs"

can_sandbox() {
    command -v unshare >/dev/null 2>&1 &&
        unshare -m sh -c 'mount --make-rprivate / && mount -o remount,bind,ro /' 2>/dev/null
}

# sandboxed CMD...: CMD with every mount read-only except $BUILD.
sandboxed() {
    unshare -m sh -c '
        b=$1; shift
        mount --make-rprivate / && mount --bind "$b" "$b" || exit 97
        for m in $(awk "{print \$5}" /proc/self/mountinfo | sort -u); do
            [ "$m" = "$b" ] || mount -o remount,bind,ro "$m" 2>/dev/null
        done
        exec "$@"' sandbox "$BUILD" "$@"
}

if can_sandbox; then SANDBOX=1; else SANDBOX=0; fi
status=0
total=0
for t in "$@"; do
    bin="$BUILD/fuzz/$t"
    seeds="$ROOT/tests/fuzz/corpus/$t"
    work="$BUILD/corpus/$t"
    crashes="$BUILD/crashes/$t"
    log="$BUILD/logs/$t.log"
    mkdir -p "$work" "$crashes"
    case "$t" in rpc_*)
        if [ $SANDBOX = 0 ] && [ "${FUZZ_UNSANDBOXED:-0}" != 1 ]; then
            printf 'SKIP fuzz %-12s needs a private read-only mount namespace (root, unshare -m);\n' "$t"
            printf '     set FUZZ_UNSANDBOXED=1 to run it anyway (its methods may write where inputs say)\n'
            continue
        fi ;;
    esac
    dict=""
    [ -f "$ROOT/tests/fuzz/dict/$t.dict" ] && dict="-dict=$ROOT/tests/fuzz/dict/$t.dict"
    set -- "$bin" -max_total_time="$SECONDS_EACH" -timeout=20 -rss_limit_mb=3072 \
        -print_final_stats=1 -artifact_prefix="$crashes/" $dict "$work" "$seeds"
    rm -rf "$BUILD/tmp/$t"; mkdir -p "$BUILD/tmp/$t"
    start=$(date +%s)
    if [ $SANDBOX = 1 ]; then
        TMPDIR="$BUILD/tmp/$t" sandboxed "$@" >"$log" 2>&1
    else
        TMPDIR="$BUILD/tmp/$t" "$@" >"$log" 2>&1
    fi
    rc=$?
    el=$(( $(date +%s) - start ))
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n1)
    found=$(ls "$crashes" | wc -l)
    ncorpus=$(ls "$work" | wc -l)
    total=$((total + ${execs:-0}))
    if [ $rc -eq 0 ] && [ "$found" -eq 0 ]; then
        printf 'PASS fuzz %-12s %10s execs in %4ss, %5s new corpus inputs, no crash\n' \
            "$t" "${execs:-?}" "$el" "$ncorpus"
    else
        status=1
        printf 'FAIL fuzz %-12s %10s execs in %4ss, exit %d, crashes in %s (log %s):\n' \
            "$t" "${execs:-?}" "$el" "$rc" "$crashes" "$log"
        ls "$crashes" | sed 's/^/    /'
        grep -E 'ERROR|SUMMARY|runtime error|#[0-9]+ 0x' "$log" | head -n 20 | sed 's/^/    | /'
    fi
done
echo "fuzz: $total executions in all; replay a crash with build/tests/fuzz_<target> FILE"
exit $status
