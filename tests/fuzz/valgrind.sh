#!/bin/sh
# valgrind.sh PROGRAM... — runs cmocka unit test programs (and the fuzz corpus replays)
# under valgrind memcheck: --leak-check=full, --error-exitcode=1, every leak kind counted
# as an error except "still reachable" (memory a library keeps until exit), third-party
# leaks suppressed by tests/fuzz/valgrind.supp.  Same output as tests/run.sh: a line per
# program and "N passed, N failed, N skipped" at the end; logs in $SP_BUILD/valgrind-logs.
#
# Some programs cannot run usefully under memcheck; they are skipped with the reason
# (VALGRIND_ALL=1 runs them anyway).  Others run a smaller workload when SEALPIPE_VALGRIND=1
# is set (the variable is exported to every program).
set -u
LOGDIR="${SP_BUILD:-build}/valgrind-logs"
mkdir -p "$LOGDIR"
SUPP="$(dirname "$0")/valgrind.supp"
TIMEOUT="${SP_VALGRIND_TIMEOUT:-1800}"
export SEALPIPE_VALGRIND=1
pass=0; fail=0; skip=0; failed_names=""

# Programs skipped, with why (keep in step with what the programs do).
skip_reason() {
    case "$1" in
    test_opencl)   echo "OpenCL through pocl JIT-compiles kernels with LLVM: hours under memcheck and its own uninitialised reads" ;;
    test_pc2)      echo "PC2 on 8MiB sectors and the OpenCL device backend: hours under memcheck (make asan covers it)" ;;
    test_pc1)      echo "PC1 labels 8MiB sectors (~50M SHA-256 compressions): hours under memcheck (make asan covers it)" ;;
    test_labels)   echo "SDR labeling of 8MiB sectors and parent caches: hours under memcheck (make asan covers it)" ;;
    test_graph)    echo "parent-cache generation for 8MiB and larger graphs: hours under memcheck (make asan covers it)" ;;
    test_unseal)   echo "unseals 8MiB sectors through scratch PC1: hours under memcheck (make asan covers it)" ;;
    *) return 1 ;;
    esac
}

for t in "$@"; do
    name=$(basename "$t")
    log="$LOGDIR/$name.log"
    if [ "${VALGRIND_ALL:-0}" != 1 ] && reason=$(skip_reason "$name"); then
        skip=$((skip + 1))
        printf 'SKIP %-40s %s\n' "$name" "$reason"
        continue
    fi
    start=$(date +%s)
    CMOCKA_MESSAGE_OUTPUT=TAP timeout -k 10 "$TIMEOUT" valgrind -q --error-exitcode=1 \
        --leak-check=full --show-leak-kinds=definite,indirect,possible \
        --errors-for-leak-kinds=definite,indirect,possible --track-fds=no \
        --suppressions="$SUPP" --gen-suppressions=all "$t" >"$log" 2>&1
    rc=$?
    el=$(( $(date +%s) - start ))
    p=$(grep -E '^ok ' "$log" | grep -vc '# SKIP')
    # cmocka's TAP writes a skipped case as "not ok N # SKIP": a skip, not a failure
    s=$(grep -E '^(not )?ok .*# SKIP' -c "$log")
    f=$(grep -E '^not ok ' "$log" | grep -vc '# SKIP')
    if [ $rc -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi   # a memcheck error, crash or timeout
    pass=$((pass + p)); skip=$((skip + s)); fail=$((fail + f))
    if [ "$f" -gt 0 ]; then
        failed_names="$failed_names $name"
        printf 'FAIL %-40s %4ss %d passed, %d failed, exit %d (log %s)\n' "$name" "$el" "$p" "$f" "$rc" "$log"
        grep -E '^not ok|^==[0-9]+== [A-Z]|^==[0-9]+==    (at|by)' "$log" | head -n 25 | sed 's/^/    | /'
    else
        printf 'PASS %-40s %4ss %d cases\n' "$name" "$el" "$p"
    fi
done

[ -n "$failed_names" ] && echo "failed:$failed_names"
if [ $skip -gt 0 ]; then
    echo "$pass passed, $fail failed, $skip skipped"
else
    echo "$pass passed, $fail failed"
fi
[ $fail -eq 0 ]
