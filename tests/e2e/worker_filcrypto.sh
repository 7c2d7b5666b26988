#!/usr/bin/env bash
# worker_filcrypto.sh — the worker's c2 with backend = "filcrypto" (issue 5's per-stage
# backend), against a fake libfilcrypto built from tests/unit/fake_filcrypto.c (the real
# library cannot be obtained here; its "proof" is 192 bytes: sector id, prover id and the
# first 32 bytes of the C1 input it was handed).
#   - a c2 processor whose library is missing: `seal-worker daemon` refuses to start, naming
#     the processor and the path, before any sector is taken;
#   - with the fake: a 2KiB sector goes through C1 (native) and the filcrypto c2 processor,
#     which converts the C1 output to filecoin-ffi's JSON for the library and submits the
#     192 bytes it returned.  The local chain verifies proofs natively, so the manager
#     rejects them as invalid and the sector is aborted with that reason: the bytes it
#     judged are the library's.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/worker_lib.sh"
CC=${CC:-cc}
command -v "$CC" >/dev/null || { echo "no C compiler to build the fake libfilcrypto"; exit 77; }
"$CC" -std=c11 -D_GNU_SOURCE -O1 -shared -fPIC -fvisibility=hidden -I"$SP_ROOT/proofs-ffi/src" \
    -o "$T/fake.so" "$SP_TESTS/unit/fake_filcrypto.c" || fail "building the fake libfilcrypto"

wk_manager_start '{ actor = 1000; sizes = [ "2KiB" ]; deals = false; max_number = 0; }'
CFG="$T/worker.cfg"

# ---- a missing library stops the start, naming it ------------------------------------------
wk_worker_cfg "$CFG" 'allowed_sizes = [ "2KiB" ];' "{ location = \"$T/t0\"; }" \
    "c2 = ( { cpuset = \"$CPUS\"; share = true; backend = \"filcrypto\"; filcrypto = \"$T/missing/libfilcrypto.so\"; } );"
set +e
out=$(timeout 30 "$SW" daemon -c "$CFG" 2>&1)
rc=$?
set -e
[ "$rc" != 0 ] && [ "$rc" != 124 ] || fail "the worker started without its libfilcrypto (exit $rc)"
assert_contains "$out" "processors.c2[0]: backend filcrypto:"
assert_contains "$out" "$T/missing/libfilcrypto.so"
[ ! -e "$T/t0/meta.db" ] || fail "a sealing thread started anyway"
assert_eq "$(wk_sectors | jq length)" "0" "no sector was taken"

# ---- the fake library: the sector's C2 goes through it -------------------------------------
wk_worker_cfg "$CFG" 'allowed_sizes = [ "2KiB" ];' "{ location = \"$T/t0\"; }" \
    "c2 = ( { cpuset = \"$CPUS\"; share = true; backend = \"filcrypto\"; filcrypto = \"$T/fake.so\"; } );"
wk_worker_start "$CFG"
aborted() { wk_sectors | jq -e '.[0].Aborted' >/dev/null; }
sp_wait_for 120 aborted || { tail -n 30 "$T/worker.log" >&2; fail "the sector did not end"; }
grep -q "processors.c2\[0\]: libfilcrypto $T/fake.so" "$T/worker.log" || fail "the daemon did not load the library at start"
grep -q "libfilcrypto $T/fake.so loaded" "$T/worker.log" || fail "the c2 child did not load the library"
grep -q "c2: libfilcrypto $T/fake.so made a 192-byte proof from the native C1 output" "$T/worker.log" ||
    fail "the c2 processor did not use the library: $(grep -i c2 "$T/worker.log" | tail -5)"
grep -q "s-t01000-0: C1Done -> C2Done proof 192 bytes" "$T/worker.log" || fail "the proof is not the library's 192 bytes"
reason=$(wk_sectors | jq -r '.[0].AbortReason')
assert_contains "$reason" "proof rejected by the manager: invalid proof"
grep -q "s-t01000-0 aborted (proof rejected by the manager: invalid proof" "$T/worker.log" || fail "no abort in the worker log"
sp_wait_for 20 sh -c "\"$SW\" threads list -c \"$CFG\" --json | jq -e '.[0].state == \"Empty\" and .[0].paused == false'" ||
    fail "the thread did not go back to Empty"
kill -TERM "$WPID"
wait "$WPID" || fail "worker exit status"
echo "worker filcrypto: ok"
