# lib.sh — shared helpers for end-to-end test scripts (bash; sourced, not run).
# Provides: a per-test temporary directory removed on exit, process cleanup, ephemeral
# ports, waiting for a TCP port or a condition, and assertions that print what differed.
set -eu

: "${SP_BIN:?SP_BIN must point to the bin/ directory (run through make test)}"
: "${SP_ROOT:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${SP_TESTS:=$SP_ROOT/tests}"

T=$(mktemp -d "${TMPDIR:-/tmp}/sealpipe-e2e.XXXXXX")
SP_PIDS=""

sp_cleanup() {
    local p n
    for p in $SP_PIDS; do kill -TERM "$p" 2>/dev/null || true; done
    for p in $SP_PIDS; do
        n=0
        while kill -0 "$p" 2>/dev/null && [ $n -lt 50 ]; do sleep 0.1; n=$((n+1)); done
        kill -KILL "$p" 2>/dev/null || true
    done
    if [ "${SP_KEEP_TMP:-0}" = 1 ]; then echo "kept $T" >&2; else rm -rf "$T"; fi
}
trap sp_cleanup EXIT INT TERM

# Remembers a background process so it is stopped at exit.
sp_track() { SP_PIDS="$SP_PIDS $1"; }

# Prints a free TCP port on 127.0.0.1.
sp_free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()' 2>/dev/null \
    || shuf -i 20000-60000 -n 1
}

# sp_wait_port PORT [SECONDS]: waits until something listens on 127.0.0.1:PORT.
sp_wait_port() {
    local n=0 lim=$(( ${2:-20} * 10 ))
    while ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; do
        n=$((n+1)); [ $n -ge $lim ] && { echo "port $1 did not open" >&2; return 1; }
        sleep 0.1
    done
}

# sp_wait_for SECONDS COMMAND...: retries COMMAND every 0.2s until it succeeds.
sp_wait_for() {
    local n=0 lim=$(( $1 * 5 )); shift
    until "$@" >/dev/null 2>&1; do
        n=$((n+1)); [ $n -ge $lim ] && { echo "timed out waiting for: $*" >&2; return 1; }
        sleep 0.2
    done
}

fail() { echo "FAIL: $*" >&2; exit 1; }
assert_eq() { [ "$1" = "$2" ] || fail "${3:-values differ}: got '$1', want '$2'"; }
assert_contains() { case "$1" in *"$2"*) ;; *) fail "${3:-missing text}: '$2' not in: $1";; esac; }
