#!/bin/bash
# ops_install.sh — `make install DESTDIR=... [PREFIX=...]`, `make uninstall` and `make deb`
# with the programs of this build:
#   - the exact file list and modes of an install into a temporary root, each file equal
#     to its source (programs, units, drop-ins, /etc/sealpipe configs, docs);
#   - a new machine of a known hardware class from the installed files alone: a
#     worker-a.cfg that inherits /etc/sealpipe/hw/<class>.cfg passes check-config and
#     plans as the class intends on the class's synthetic topology;
#   - reinstall: an operator's edit of a config is kept (the new version as .dist), a
#     config still as the previous install left it is upgraded;
#   - uninstall removes exactly what install put (not the operator's files, not the
#     changed config) and the directories it created; without a manifest it refuses;
#   - PREFIX=/opt/sealpipe: programs there, units in /etc/systemd/system naming them;
#   - make deb: package fields, the same files under /usr, /etc files as conffiles.
. "$(dirname "$0")/lib.sh"
command -v jq >/dev/null || { echo "jq is not installed"; exit 77; }
command -v make >/dev/null || { echo "make is not installed"; exit 77; }

# The Makefile's own rules with this build's programs; -o all: nothing is rebuilt here.
mk() { make -s --no-print-directory -C "$SP_ROOT" -o all BIN="$SP_BIN" BUILD="$SP_BUILD" "$@"; }
R=$T/root
# the files below a root, relative, sorted
files() { (cd "$1" && find . -type f -o -type l | sed 's|^\./||' | LC_ALL=C sort); }

# ---- the file list ------------------------------------------------------------------------
mk install DESTDIR="$R" >"$T/install.out"
assert_contains "$(cat "$T/install.out")" "install: "
{
    for c in "$SP_ROOT"/config/hw/*.cfg; do echo "etc/sealpipe/hw/$(basename "$c")"; done
    echo etc/sealpipe/manager.cfg
    echo etc/sealpipe/worker.cfg
    echo "etc/systemd/system/seal-worker@.service.d/sealpipe-paths.conf"
    echo etc/systemd/system/sector-manager.service.d/sealpipe-paths.conf
    echo usr/local/bin/seal-worker
    echo usr/local/bin/sealproof
    echo usr/local/bin/sector-manager
    echo "usr/local/lib/systemd/system/seal-worker@.service"
    echo usr/local/lib/systemd/system/sealpipe.target
    echo usr/local/lib/systemd/system/sector-manager.service
    echo usr/local/share/sealpipe/README.md
    for c in "$SP_ROOT"/config/hw/*.cfg; do echo "usr/local/share/sealpipe/config/hw/$(basename "$c")"; done
    echo usr/local/share/sealpipe/config/manager.cfg
    echo usr/local/share/sealpipe/config/worker.cfg
    for d in "$SP_ROOT"/docs/*.md; do echo "usr/local/share/sealpipe/docs/$(basename "$d")"; done
    echo usr/local/share/sealpipe/install-manifest
} | LC_ALL=C sort >"$T/want.list"
files "$R" >"$T/got.list"
diff -u "$T/want.list" "$T/got.list" >&2 || fail "installed files differ from the expected list (diff above)"
n=$(($(wc -l <"$T/want.list") - 1))
assert_contains "$(cat "$T/install.out")" "install: $n files in $R"

# modes and contents
for p in sector-manager seal-worker sealproof; do
    assert_eq "$(stat -c %a "$R/usr/local/bin/$p")" "755" "mode of $p"
    cmp -s "$R/usr/local/bin/$p" "$SP_BIN/$p" || fail "installed $p differs from $SP_BIN/$p"
done
assert_eq "$("$R/usr/local/bin/sector-manager" --version | head -n1 | grep -c "$(sed -n 's/^VERSION *:= *//p' "$SP_ROOT/Makefile")")" "1" "installed sector-manager --version"
for u in sector-manager.service seal-worker@.service sealpipe.target; do
    cmp -s "$R/usr/local/lib/systemd/system/$u" "$SP_ROOT/systemd/$u" || fail "$u differs from systemd/$u"
    assert_eq "$(stat -c %a "$R/usr/local/lib/systemd/system/$u")" "644" "mode of $u"
done
cmp -s "$R/etc/sealpipe/manager.cfg" "$SP_ROOT/config/manager.cfg" || fail "/etc/sealpipe/manager.cfg"
cmp -s "$R/etc/sealpipe/worker.cfg" "$SP_ROOT/config/worker.cfg" || fail "/etc/sealpipe/worker.cfg"
for c in "$SP_ROOT"/config/hw/*.cfg; do
    cmp -s "$R/etc/sealpipe/hw/$(basename "$c")" "$c" || fail "/etc/sealpipe/hw/$(basename "$c")"
done
cmp -s "$R/usr/local/share/sealpipe/README.md" "$SP_ROOT/README.md" || fail "README.md"
# the manifest names every installed file with its SHA-256
while read -r kind sum path; do
    [ "$kind" = file ] || continue
    assert_eq "$(sha256sum "$R$path" | cut -d' ' -f1)" "$sum" "manifest checksum of $path"
done <"$R/usr/local/share/sealpipe/install-manifest"
assert_eq "$(grep -c '^file ' "$R/usr/local/share/sealpipe/install-manifest")" "$n" "files in the manifest"

# ---- a machine of each hardware class, from the installed files ---------------------------
# (class, the topology its header names)
check_class() {
    local class=$1 topo=$2 want=$3 out
    cat >"$R/etc/sealpipe/worker-a.cfg" <<EOF
inherit = "hw/$class.cfg";
worker = { name = "sealer-a01"; };
sector_manager = { url = "http://10.0.0.1:1789"; };
EOF
    out=$("$SP_BIN/seal-worker" check-config -c "$R/etc/sealpipe/worker-a.cfg" --synthetic "$topo") ||
        fail "check-config of a worker-a.cfg inheriting hw/$class.cfg: $out"
    assert_contains "$out" "OK:"
    out=$("$SP_BIN/seal-worker" plan -c "$R/etc/sealpipe/worker-a.cfg" --synthetic "$topo" --json)
    assert_eq "$(echo "$out" | jq -c '[.processors[] | "\(.stage)@\(.numa)/\(.gpu)"] | sort')" "$want" "plan of hw/$class.cfg"
}
check_class dual-64c-2gpu "pack:2 numa:1 l3:4 core:8 pu:2 gpus:0,1" \
    '["c1@0/null","c1@1/null","c2@0/0","c2@1/1","pc1@0/null","pc1@1/null","pc2@0/0","pc2@1/1","tree_d@0/null","tree_d@1/null"]'
check_class single-32c-1gpu "pack:1 numa:1 l3:4 core:8 pu:2 gpus:0" \
    '["c1@0/null","c2@0/0","pc1@0/null","pc1@0/null","pc1@0/null","pc2@0/0","tree_d@0/null"]'
check_class dev-2c "pack:1 numa:1 l3:1 core:2 pu:1 gpus:0" '["c2@0/0","pc1@0/null","pc2@0/0"]'

# ---- reinstall over an operator's edits ---------------------------------------------------
echo "# operator's change" >>"$R/etc/sealpipe/manager.cfg"
cp "$R/etc/sealpipe/manager.cfg" "$T/edited.cfg"
# worker.cfg as if an older version had installed it (file and manifest agree)
echo "# from an older version" >>"$R/etc/sealpipe/worker.cfg"
old=$(sha256sum "$R/etc/sealpipe/worker.cfg" | cut -d' ' -f1)
sed -i "s|^file [0-9a-f]* /etc/sealpipe/worker.cfg\$|file $old /etc/sealpipe/worker.cfg|" "$R/usr/local/share/sealpipe/install-manifest"
mk install DESTDIR="$R" >"$T/install2.out"
assert_contains "$(cat "$T/install2.out")" "install: kept $R/etc/sealpipe/manager.cfg (changed since it was installed); the new version is $R/etc/sealpipe/manager.cfg.dist"
cmp -s "$R/etc/sealpipe/manager.cfg" "$T/edited.cfg" || fail "the operator's manager.cfg was overwritten"
cmp -s "$R/etc/sealpipe/manager.cfg.dist" "$SP_ROOT/config/manager.cfg" || fail "manager.cfg.dist"
cmp -s "$R/etc/sealpipe/worker.cfg" "$SP_ROOT/config/worker.cfg" || fail "an unchanged worker.cfg is upgraded"
[ -e "$R/etc/sealpipe/worker.cfg.dist" ] && fail "no .dist for an upgraded config"
(cat "$T/want.list"; echo etc/sealpipe/manager.cfg.dist; echo etc/sealpipe/worker-a.cfg) | LC_ALL=C sort >"$T/want2.list"
files "$R" >"$T/got2.list"
diff -u "$T/want2.list" "$T/got2.list" >&2 || fail "files after a reinstall (diff above)"

# ---- uninstall ------------------------------------------------------------------------------
mk uninstall DESTDIR="$R" >"$T/uninstall.out"
assert_contains "$(cat "$T/uninstall.out")" "install: kept $R/etc/sealpipe/manager.cfg (changed since it was installed)"
assert_contains "$(cat "$T/uninstall.out")" "(kept 1 changed config files)"
# left: the changed config and the operator's own file, in their directories; nothing else
assert_eq "$(files "$R" | tr '\n' ' ')" "etc/sealpipe/manager.cfg etc/sealpipe/worker-a.cfg " "files left by uninstall"
assert_eq "$(cd "$R" && find . -mindepth 1 -type d | LC_ALL=C sort | tr '\n' ' ')" "./etc ./etc/sealpipe " "directories left by uninstall"
out=$(mk uninstall DESTDIR="$R" 2>&1) && fail "uninstall without a manifest succeeded"
assert_contains "$out" "nothing to uninstall: no $R/usr/local/share/sealpipe/install-manifest"

# ---- another prefix ---------------------------------------------------------------------------
R2=$T/root2
mk install DESTDIR="$R2" PREFIX=/opt/sealpipe >/dev/null
[ -x "$R2/opt/sealpipe/bin/seal-worker" ] || fail "no /opt/sealpipe/bin/seal-worker"
U=$R2/etc/systemd/system
assert_eq "$(grep '^ExecStart=' "$U/sector-manager.service")" \
    "ExecStart=/opt/sealpipe/bin/sector-manager run --home /var/lib/sealpipe/manager" "ExecStart under /opt"
assert_eq "$(grep '^ExecStart=' "$U/seal-worker@.service")" \
    "ExecStart=/opt/sealpipe/bin/seal-worker daemon -c /etc/sealpipe/worker-%i.cfg" "worker ExecStart under /opt"
assert_eq "$(grep -c '^Documentation=file:/opt/sealpipe/share/sealpipe/README.md$' "$U/sealpipe.target")" "1" "docs path"
grep -q /usr/local "$U"/*.service "$U"/*.target && fail "a unit still names /usr/local"
mk uninstall DESTDIR="$R2" PREFIX=/opt/sealpipe >/dev/null
assert_eq "$(find "$R2" -mindepth 1 | wc -l)" "0" "uninstall under /opt leaves nothing"

# ---- make deb -------------------------------------------------------------------------------
if readelf -d "$SP_BIN/seal-worker" 2>/dev/null | grep -q 'NEEDED.*lib[at]*san'; then
    out=$(mk deb 2>&1) && fail "make deb packaged a sanitizer build"
    assert_contains "$out" "holds a sanitizer build; package the release programs"
elif command -v dpkg-deb >/dev/null && command -v dpkg >/dev/null; then
    ver=$(sed -n 's/^VERSION *:= *//p' "$SP_ROOT/Makefile")
    deb=$SP_BUILD/sealpipe_${ver}_$(dpkg --print-architecture).deb
    rm -f "$deb"
    mk deb >"$T/deb.out"
    [ -s "$deb" ] || fail "make deb made no $deb: $(cat "$T/deb.out")"
    mv "$deb" "$T/"
    deb=$T/$(basename "$deb")
    assert_eq "$(dpkg-deb -f "$deb" Package)" "sealpipe" "Package"
    assert_eq "$(dpkg-deb -f "$deb" Version)" "$ver" "Version"
    deps=$(dpkg-deb -f "$deb" Depends)
    for d in libhwloc15 libconfig9 libjemalloc2 libsqlite3-0 libcjson1 libmicrohttpd12 libcurl4 libssl3 libsystemd0 ocl-icd-libopencl1 libc6; do
        assert_contains "$deps" "$d" "Depends"
    done
    case "$deps" in *cmocka*) fail "Depends names a test library: $deps" ;; esac
    dpkg-deb -c "$deb" | awk '$1 !~ /^d/ { print $6 }' | sed 's|^\./||' | LC_ALL=C sort >"$T/deb.list"
    sed -e 's|^usr/local/|usr/|' -e '/install-manifest$/d' "$T/want.list" | LC_ALL=C sort >"$T/wantdeb.list"
    diff -u "$T/wantdeb.list" "$T/deb.list" >&2 || fail "the package's files (diff above)"
    dpkg-deb -e "$deb" "$T/control"
    grep '^etc/' "$T/wantdeb.list" | sed 's|^|/|' >"$T/wantconf.list"
    diff -u "$T/wantconf.list" "$T/control/conffiles" >&2 || fail "conffiles (diff above)"
    dpkg-deb -x "$deb" "$T/debroot"
    assert_eq "$(grep '^ExecStart=' "$T/debroot/usr/lib/systemd/system/seal-worker@.service")" \
        "ExecStart=/usr/bin/seal-worker daemon -c /etc/sealpipe/worker-%i.cfg" "ExecStart in the package"
    cmp -s "$T/debroot/usr/bin/seal-worker" "$SP_BIN/seal-worker" || fail "packaged seal-worker"
else
    echo "dpkg-deb not installed: make deb not checked"
fi
echo "ops install: file list, classes, reinstall, uninstall, prefix, deb ok"
