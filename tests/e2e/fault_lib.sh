# fault_lib.sh — helpers for the fault-injection scripts (fault_*.sh in tests/e2e and
# tests/long), sourced after lib.sh and worker_lib.sh: small filesystems mounted for the
# test (and unmounted at exit, before the temporary directory goes), filling them up, and
# the checks every fault test ends with — no sector lost or duplicated (the manager's
# sector list against the store's files), no thread stuck (every thread back to Empty,
# unpaused, within a bound), no temporary file left.  Run on its own it is skipped.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    echo "helpers for the fault_*.sh scripts, not a test"
    exit 77
fi

FAULT_MOUNTS=""

# Stops the tracked processes, unmounts what the test mounted, removes $T.
fault_cleanup() {
    local p n m
    for p in $SP_PIDS; do kill -TERM "$p" 2>/dev/null || true; done
    for p in $SP_PIDS; do
        n=0
        while kill -0 "$p" 2>/dev/null && [ $n -lt 50 ]; do sleep 0.1; n=$((n+1)); done
        kill -KILL "$p" 2>/dev/null || true
    done
    for m in $FAULT_MOUNTS; do umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true; done
    if [ "${SP_KEEP_TMP:-0}" = 1 ]; then echo "kept $T" >&2; else rm -rf "$T"; fi
}
trap fault_cleanup EXIT INT TERM

# Skips the test (exit 77) unless this process may mount a tmpfs.
fault_need_mount() {
    [ "$(id -u)" = 0 ] || { echo "needs root to mount small filesystems"; exit 77; }
    mkdir -p "$T/.probe"
    if ! mount -t tmpfs -o size=64k tmpfs "$T/.probe" 2>/dev/null; then
        echo "cannot mount a tmpfs here (no CAP_SYS_ADMIN?)"
        exit 77
    fi
    umount "$T/.probe"
    rmdir "$T/.probe"
}

# fault_tmpfs DIR SIZE: a tmpfs of SIZE ("2m") mounted on DIR until the test ends.
fault_tmpfs() {
    mkdir -p "$1"
    mount -t tmpfs -o "size=$2" tmpfs "$1" || fail "cannot mount a tmpfs on $1"
    FAULT_MOUNTS="$1 $FAULT_MOUNTS"
}

# fault_fill DIR: fills DIR's filesystem to the last byte (DIR/.filler).
fault_fill() {
    dd if=/dev/zero of="$1/.filler" bs=4k status=none 2>/dev/null || true
    [ "$(df --output=avail -B1 "$1" | tail -n1 | tr -d ' ')" -lt 4096 ] || fail "$1 is not full"
}
fault_unfill() { rm -f "$1/.filler"; }

# fault_log_wait SECONDS PATTERN FILE WHAT: waits for an extended regexp in a log.
fault_log_wait() {
    sp_wait_for "$1" grep -Eq "$2" "$3" || { tail -n 40 "$3" >&2; fail "$4: no /$2/ in $(basename "$3")"; }
}

# fault_threads_settle SECONDS: every sealing thread back to Empty, unpaused, no sector.
fault_threads_settle() {
    sp_wait_for "$1" sh -c "\"$SW\" threads list -c \"$CFG\" --json | jq -e 'all(.[]; .state == \"Empty\" and .paused == false and .sector == \"\")'" ||
        fail "threads are stuck: $("$SW" threads list -c "$CFG" 2>&1)"
}

# fault_check_sectors PROVING ABORTED STORE: the manager handed out PROVING + ABORTED
# sectors, none twice; every Proving one has its sealed file and proving cache in STORE
# (2KiB sectors), and STORE holds no sealed sector the manager does not list as Proving.
fault_check_sectors() {
    local json n m num
    json=$(wk_sectors)
    n=$(echo "$json" | jq length)
    assert_eq "$n" "$(($1 + $2))" "sectors the manager handed out: $(echo "$json" | jq -c '[.[] | [.ID.Number, .State]]')"
    assert_eq "$(echo "$json" | jq '[.[] | "\(.ID.Miner)-\(.ID.Number)"] | unique | length')" "$n" "distinct sectors"
    assert_eq "$(echo "$json" | jq '[.[] | select(.State == "Proving")] | length')" "$1" \
        "Proving sectors: $(echo "$json" | jq -c '[.[] | [.ID.Number, .State, .AbortReason]]')"
    assert_eq "$(echo "$json" | jq '[.[] | select(.Aborted)] | length')" "$2" "aborted sectors"
    echo "$json" | jq -r '.[] | select(.State == "Proving") | "\(.ID.Miner) \(.ID.Number)"' | while read -r m num; do
        [ "$(stat -c %s "$3/sealed/s-t0$m-$num" 2>/dev/null)" = 2048 ] || fail "$3/sealed/s-t0$m-$num is missing or not 2048 bytes"
        [ -s "$3/cache/s-t0$m-$num/p_aux" ] || fail "no p_aux for s-t0$m-$num in $3"
        ls "$3/cache/s-t0$m-$num"/sc-02-data-tree-r-last*.dat >/dev/null 2>&1 || fail "no tree-r-last for s-t0$m-$num in $3"
    done
    for f in "$3"/sealed/*; do
        [ -e "$f" ] || continue
        num=${f##*-}
        echo "$json" | jq -e ".[] | select(.ID.Number == $num and .State == \"Proving\")" >/dev/null ||
            fail "$f is in the store but the manager has no Proving sector $num"
    done
}

# fault_no_tmp DIR...: no temporary file of a copy, a stage or a download is left.
fault_no_tmp() {
    local left
    left=$(find "$@" \( -name '*.tmp' -o -name '*.part' \) 2>/dev/null)
    [ -z "$left" ] || fail "temporary files left: $left"
}
