#!/bin/bash
# ops_systemd.sh — the systemd units as `make install DESTDIR=...` installs them:
#   1. `systemd-analyze verify --root` of sector-manager.service, two seal-worker@
#      instances and sealpipe.target, with the drop-ins, in a temporary root holding the
#      installed programs (so ExecStart resolves) and the system's own units: no error
#      and no warning.  Controls: a mistyped key in a drop-in and a missing program are
#      reported, so the check sees what it should.
#   2. The sandbox systemd computes from the units (`systemd-analyze security
#      --offline`): the manager fully sandboxed (private /tmp and devices, no W+X
#      memory, strict read-only system); the worker read-only system and no new
#      privileges, but devices (GPUs), /tmp (per-GPU lock files) and W+X memory (OpenCL
#      JIT) left to it.
#   3. The units' own command lines at their installed paths, as systemd would run
#      them, in a private mount namespace where the temporary root's /etc/sealpipe,
#      /usr/local/bin and an empty /var/lib/sealpipe appear at their real places: the
#      README's steps (init the home, copy the worker token, a worker-a.cfg inheriting a
#      hardware class), ExecStart of both with NOTIFY_SOCKET (READY=1), a sector sealed
#      to Proving in the default directories, ExecReload (RELOADING=1, then READY=1), and
#      the KillMode=mixed stop: SIGTERM to the main process only, which stops its
#      processor children and exits 0 well within TimeoutStopSec.
. "$(dirname "$0")/lib.sh"

unit_get() { sed -n "s/^$2=//p" "$1" | tail -n1; }

if [ "${1:-}" != --inner ]; then
    command -v systemd-analyze >/dev/null || { echo "systemd-analyze is not installed"; exit 77; }
    command -v jq >/dev/null || { echo "jq is not installed"; exit 77; }
    R=$T/root
    make -s --no-print-directory -C "$SP_ROOT" -o all BIN="$SP_BIN" BUILD="$SP_BUILD" install DESTDIR="$R" >/dev/null
    # what the units refer to outside sealpipe: the system's units and /bin/kill
    SYSUNITS=$(dirname "$(command -v systemctl)")/../lib/systemd/system
    [ -d "$SYSUNITS" ] || SYSUNITS=/lib/systemd/system
    [ -x /bin/kill ] || { echo "/bin/kill (procps) is not installed"; exit 77; }
    mkdir -p "$R/usr/lib/systemd"
    cp -a "$SYSUNITS" "$R/usr/lib/systemd/"
    if [ -L /bin ]; then ln -s usr/bin "$R/bin"; mkdir -p "$R/usr/bin"; else mkdir -p "$R/bin"; fi
    if [ -L /lib ]; then ln -s usr/lib "$R/lib"; fi
    cp /bin/kill "$R/bin/kill"
    UNITS="sector-manager.service seal-worker@a.service seal-worker@gpu-box-2.service sealpipe.target"

    # ---- 1. verify ----
    # shellcheck disable=SC2086
    out=$(systemd-analyze verify --root="$R" $UNITS 2>&1) || fail "systemd-analyze verify failed: $out"
    assert_eq "$out" "" "systemd-analyze verify output"
    D=$R/etc/systemd/system/seal-worker@.service.d
    cp "$D/sealpipe-paths.conf" "$T/paths.conf"
    echo "ReadWritePath=/mnt/typo" >>"$D/sealpipe-paths.conf"
    out=$(systemd-analyze verify --root="$R" seal-worker@a.service 2>&1 || true)
    assert_contains "$out" "Unknown key 'ReadWritePath'" "a mistyped drop-in key is reported"
    cp "$T/paths.conf" "$D/sealpipe-paths.conf"
    mv "$R/usr/local/bin/seal-worker" "$T/"
    out=$(systemd-analyze verify --root="$R" seal-worker@a.service 2>&1) && fail "verify passed without the program"
    assert_contains "$out" "Command /usr/local/bin/seal-worker is not executable"
    mv "$T/seal-worker" "$R/usr/local/bin/"

    # ---- 2. the sandbox as systemd reads it ----
    if systemd-analyze security --offline=yes --root="$R" --json=short sector-manager.service >"$T/sm.json" 2>/dev/null; then
        systemd-analyze security --offline=yes --root="$R" --json=short seal-worker@a.service >"$T/sw.json"
        set_of() { jq -r --arg f "$2" '.[] | select(.json_field == $f) | .set' "$1"; }
        for f in NoNewPrivileges ProtectSystem ProtectHome PrivateTmp PrivateDevices MemoryDenyWriteExecute \
                 ProtectKernelTunables ProtectKernelModules ProtectControlGroups RestrictSUIDSGID LockPersonality \
                 SystemCallFilter_mount SystemCallFilter_reboot SystemCallFilter_module SystemCallArchitectures \
                 CapabilityBoundingSet_CAP_SYS_ADMIN CapabilityBoundingSet_CAP_NET_ADMIN; do
            assert_eq "$(set_of "$T/sm.json" "$f")" "true" "sector-manager $f"
        done
        for f in NoNewPrivileges ProtectSystem ProtectHome ProtectKernelTunables ProtectKernelModules \
                 ProtectControlGroups RestrictSUIDSGID LockPersonality RestrictNamespaces_user \
                 CapabilityBoundingSet_CAP_SYS_ADMIN CapabilityBoundingSet_CAP_SYS_MODULE; do
            assert_eq "$(set_of "$T/sw.json" "$f")" "true" "seal-worker $f"
        done
        for f in PrivateTmp PrivateDevices MemoryDenyWriteExecute DeviceAllow ProtectClock; do
            assert_eq "$(set_of "$T/sw.json" "$f")" "false" "seal-worker $f (GPUs, GPU locks, OpenCL JIT)"
        done
        for u in sector-manager.service seal-worker@a.service; do
            systemd-analyze security --offline=yes --root="$R" "$u" 2>/dev/null | grep 'Overall exposure'
        done
    else
        echo "systemd-analyze security --offline is not available: sandbox not checked"
    fi

    # ---- 3. the command lines, in a private mount namespace ----
    if unshare -m --propagation private true 2>/dev/null && [ -d /usr/local/bin ] &&
        unshare -m --propagation private sh -c "mkdir -p '$T/ov/u' '$T/ov/w' && mount -t overlay overlay -o lowerdir=/var/lib,upperdir='$T/ov/u',workdir='$T/ov/w' /var/lib" 2>/dev/null; then
        # the 2-core class where this machine fits it (checked here, with a usable HOME)
        CLASS=hw/dev-2c.cfg
        printf 'inherit = "%s";\nsector_manager = { url = "http://127.0.0.1:1"; };\n' "$R/etc/sealpipe/$CLASS" >"$T/fit.cfg"
        "$SP_BIN/seal-worker" check-config -c "$T/fit.cfg" --quiet >/dev/null 2>&1 || CLASS=worker.cfg
        OPS_ROOT=$R OPS_CLASS=$CLASS unshare -m --propagation private bash "$0" --inner ||
            fail "the units' command lines (above)"
    else
        echo "no private mount namespaces with overlayfs here: the units' command lines were not run"
    fi
    echo "ops systemd: verify, sandbox, command lines ok"
    exit 0
fi

# ---------------------------------------------------------------------------------------
# --inner: in a private mount namespace.  The installed /etc over the real one, an empty
# /var/lib and /var/tmp over the real ones (writes stay in $T), the installed programs
# at /usr/local/bin.
R=${OPS_ROOT:?}
U=$R/usr/local/lib/systemd/system
for d in etc varlib vartmp; do mkdir -p "$T/$d-up" "$T/$d-work"; done
mount -t overlay overlay -o "lowerdir=$R/etc:/etc,upperdir=$T/etc-up,workdir=$T/etc-work" /etc
mount -t overlay overlay -o "lowerdir=/var/lib,upperdir=$T/varlib-up,workdir=$T/varlib-work" /var/lib
mount -t overlay overlay -o "lowerdir=/var/tmp,upperdir=$T/vartmp-up,workdir=$T/vartmp-work" /var/tmp
mkdir -p "$T/varcache"
mount --bind "$T/varcache" /var/cache
# ProtectHome=yes: home directories are empty and inaccessible
for h in /root /home; do [ -d $h ] && mount -t tmpfs -o ro,mode=000 tmpfs $h; done
mount --bind "$R/usr/local/bin" /usr/local/bin
# an empty /var/lib/sealpipe even where sealpipe runs on this machine
mkdir -p /var/lib/sealpipe
mount -t tmpfs -o mode=0755 tmpfs /var/lib/sealpipe
PATH=/usr/local/bin:$PATH

# a datagram socket standing in for systemd's notify socket; prints what it receives
NOTIFY=0
notify_listen() { # SOCKET OUT
    python3 - "$1" "$2" <<'EOF' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[2], "a") as out:
    while True:
        out.write(s.recv(4096).decode().replace("\n", " ") + "\n")
        out.flush()
EOF
    sp_track $!
    sp_wait_for 10 test -S "$1"
}
if command -v python3 >/dev/null; then
    NOTIFY=1
    notify_listen "$T/m.sock" "$T/m.notify"
    notify_listen "$T/w.sock" "$T/w.notify"
fi

# ---- the manager: StateDirectory, the README's first steps, ExecStart ----
MHOME=/var/lib/sealpipe/manager
assert_eq "$(unit_get "$U/sector-manager.service" StateDirectory)" "sealpipe/manager" "StateDirectory"
install -d -m "$(unit_get "$U/sector-manager.service" StateDirectoryMode)" "$MHOME"
sector-manager init --home "$MHOME" >"$T/init.out"
mkdir -p /var/lib/sealpipe/stores/store-01
cat >"$MHOME/manager.cfg" <<EOF
api = { listen = "127.0.0.1:0"; threads = 2; };
chain = { block_time = "100ms"; ticket_lookback = 2; max_ticket_age = 1000000;
          precommit_landing = 2; challenge_delay = 5; seed_confidence = 1;
          proof_landing = 2; max_prove_duration = 1000000; };
miners = ( { actor = 1000; sizes = [ "2KiB" ]; max_number = 0; } );
persist_stores = ( { name = "store-01"; path = "/var/lib/sealpipe/stores/store-01"; capacity = "64MiB"; } );
EOF
install -m 0600 "$MHOME/worker.token" /etc/sealpipe/worker.token
MEXEC=$(unit_get "$U/sector-manager.service" ExecStart)
MENV=$(unit_get "$U/sector-manager.service" Environment)
# shellcheck disable=SC2086
env $MENV NOTIFY_SOCKET="$T/m.sock" $MEXEC >>"$T/manager.log" 2>&1 &
MPID=$!
sp_track $MPID
sp_wait_for 30 test -s "$MHOME/api" || fail "the manager did not start: $(tail -5 "$T/manager.log")"
API=$(cat "$MHOME/api")
[ $NOTIFY = 0 ] || sp_wait_for 10 grep -q 'READY=1' "$T/m.notify" || fail "manager: no READY=1"

# ---- the worker: /etc/sealpipe/worker-a.cfg inherits a class; ExecStart with %i = a ----
# the unit's environment (%C: /var/cache) and CacheDirectory; no HOME, as for a system
# service without User=: the OpenCL device (PoCL on the dev box) must still work with
# the home directories hidden
WENV=$(unit_get "$U/seal-worker@.service" Environment | sed 's|%C|/var/cache|g')
install -d -m 0755 "/var/cache/$(unit_get "$U/seal-worker@.service" CacheDirectory)"
WPORT=$(sp_free_port)
CLASS=${OPS_CLASS:?}
cat >/etc/sealpipe/worker-a.cfg <<EOF
inherit = "$CLASS";
worker = { name = "ops-a"; listen = "127.0.0.1:$WPORT"; };
sector_manager = { url = "http://$API"; };
sealing = { allowed_sizes = [ "2KiB" ]; seal_interval = "0s"; recover_interval = "1s";
            rpc_polling_interval = "200ms"; };
EOF
# shellcheck disable=SC2086
env -u HOME $WENV seal-worker check-config -c /etc/sealpipe/worker-a.cfg --quiet
WEXEC=$(unit_get "$U/seal-worker@.service" ExecStart | sed 's/%i/a/g')
assert_eq "$WEXEC" "/usr/local/bin/seal-worker daemon -c /etc/sealpipe/worker-a.cfg" "worker ExecStart for instance a"
# TMPDIR: the per-GPU lock directory in $T instead of the machine's /tmp
# shellcheck disable=SC2086
env -u HOME $WENV NOTIFY_SOCKET="$T/w.sock" TMPDIR="$T" $WEXEC >>"$T/worker.log" 2>&1 &
WPID=$!
sp_track $WPID
sp_wait_port "$WPORT" 30 || fail "the worker did not start: $(tail -5 "$T/worker.log")"
[ $NOTIFY = 0 ] || sp_wait_for 30 grep -q 'READY=1' "$T/w.notify" || fail "worker: no READY=1"
proving() { [ "$(sector-manager sectors list --json --home "$MHOME" | jq '[.[] | select(.State == "Proving")] | length')" = 1 ]; }
sp_wait_for 120 proving || fail "no sector reached Proving: $(seal-worker threads list -c /etc/sealpipe/worker-a.cfg 2>&1)"
[ -s /var/lib/sealpipe/stores/store-01/sealed/s-t01000-0 ] || fail "no sealed file in the default store"
[ -d /var/lib/sealpipe/threads/t01 ] && [ -d /var/lib/sealpipe/threads/t02 ] || fail "the default sealing directories"
# shellcheck disable=SC2086
if [ "$CLASS" = hw/dev-2c.cfg ] && env -u HOME $WENV sealproof devices 2>/dev/null | grep -q 'Portable Co'; then
    echo "PoCL device with the unit's cache directory"
    [ -n "$(ls -A /var/cache/sealpipe/pocl 2>/dev/null)" ] ||
        fail "PoCL did not use the unit's cache directory /var/cache/sealpipe/pocl"
fi
echo "sealed s-t01000-0 through the units' command lines (class $CLASS)"

# ---- ExecReload ----
RELOAD=$(unit_get "$U/sector-manager.service" ExecReload | sed "s/\$MAINPID/$MPID/")
assert_eq "$RELOAD" "/bin/kill -HUP $MPID" "ExecReload"
$RELOAD
sp_wait_for 10 grep -q 'reloaded' "$T/manager.log" || fail "no reload in the manager's log"
if [ $NOTIFY = 1 ]; then
    sp_wait_for 10 grep -q 'RELOADING=1' "$T/m.notify" || fail "manager: no RELOADING=1"
    sp_wait_for 10 sh -c "[ \$(grep -c 'READY=1' '$T/m.notify') -ge 2 ]" || fail "manager: no READY=1 after the reload"
fi

# ---- KillMode=mixed stop: SIGTERM to the main process only ----
assert_eq "$(unit_get "$U/seal-worker@.service" KillMode)" "mixed" "worker KillMode"
assert_eq "$(unit_get "$U/sector-manager.service" KillMode)" "mixed" "manager KillMode"
kids=$(pgrep -P "$WPID" || true)
[ "$CLASS" = worker.cfg ] || [ -n "$kids" ] || fail "no processor children to stop"
t0=$(date +%s)
kill -TERM "$WPID"
rc=0
wait "$WPID" || rc=$?
assert_eq "$rc" "0" "worker exit status after SIGTERM"
for k in $kids; do kill -0 "$k" 2>/dev/null && fail "processor $k outlived the worker's stop"; done
[ $(( $(date +%s) - t0 )) -lt 60 ] || fail "the worker took over a minute to stop (TimeoutStopSec is 5min)"
[ $NOTIFY = 0 ] || grep -q 'STOPPING=1' "$T/w.notify" || fail "worker: no STOPPING=1"
kill -TERM "$MPID"
rc=0
wait "$MPID" || rc=$?
assert_eq "$rc" "0" "manager exit status after SIGTERM"
assert_contains "$(tail -n1 "$T/manager.log")" "stopped cleanly"
[ -e "$MHOME/api" ] && fail "the manager left its api file"
exit 0
