#!/bin/sh
# deb.sh — `make deb`: a Debian package of sealpipe built with dpkg-deb from what
# `make install PREFIX=/usr` puts in place (programs, systemd units and drop-ins,
# /etc/sealpipe configs as conffiles, /usr/share/sealpipe docs).  The runtime
# dependencies are the packages that own the shared libraries the programs link.
#
#   scripts/deb.sh VERSION BINDIR OUTDIR      -> OUTDIR/sealpipe_VERSION_ARCH.deb
#
# Installing it (`apt install ./build/sealpipe_*.deb`) starts nothing: enable the units
# as the README says.  Removing it keeps /etc/sealpipe edits (conffiles) and every
# manager home and sealing directory.
set -eu

die() { echo "deb: error: $*" >&2; exit 1; }
VERSION=${1:?usage: deb.sh VERSION BINDIR OUTDIR}
BINDIR=${2:?usage: deb.sh VERSION BINDIR OUTDIR}
OUTDIR=${3:?usage: deb.sh VERSION BINDIR OUTDIR}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
for t in dpkg-deb dpkg ldd readelf; do
    command -v $t >/dev/null || die "$t is missing (this is for Debian and its derivatives)"
done
ARCH=$(dpkg --print-architecture)

STAGE=$(mktemp -d "${TMPDIR:-/tmp}/sealpipe-deb.XXXXXX")
trap 'rm -rf "$STAGE"' EXIT INT TERM
PKG=$STAGE/pkg

sh "$ROOT/scripts/install.sh" "$PKG" /usr "$BINDIR" >/dev/null
# dpkg keeps the file list; the manifest is for `make uninstall` only
rm -f "$PKG/usr/share/sealpipe/install-manifest"

# Depends: the package of every shared library the programs link directly (NEEDED),
# found where the dynamic linker finds it (ldd), once each.
deps=""
needed=$(for p in "$PKG"/usr/bin/*; do readelf -d "$p"; done |
         sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | sort -u)
case " $(echo $needed) " in
*" libasan.so"* | *" libtsan.so"* | *" libubsan.so"*)
    die "$BINDIR holds a sanitizer build; package the release programs (make, then make deb)" ;;
esac
for so in $needed; do
    lib=$(ldd "$PKG"/usr/bin/* | awk -v so="$so" '$1 == so && $3 ~ /^\// { print $3; exit }')
    [ -n "$lib" ] || die "the dynamic linker does not find $so"
    real=$(readlink -f "$lib")
    owner=$(dpkg -S "$lib" 2>/dev/null || dpkg -S "$real" 2>/dev/null || true)
    owner=${owner%%:*}
    [ -n "$owner" ] || die "no installed package owns $lib; cannot name the dependency"
    case " $deps " in *" $owner "*) ;; *) deps="$deps $owner" ;; esac
done
depends=$(echo $deps | tr ' ' '\n' | sort -u | paste -sd, - | sed 's/,/, /g')

mkdir -p "$PKG/DEBIAN"
size=$(du -sk "$PKG" | cut -f1)
cat >"$PKG/DEBIAN/control" <<EOF
Package: sealpipe
Version: $VERSION
Architecture: $ARCH
Maintainer: sealpipe developers <sealpipe@localhost>
Installed-Size: $size
Depends: $depends
Recommends: hwloc, pocl-opencl-icd | opencl-icd, jq, curl
Section: misc
Priority: optional
Description: Filecoin sealing cluster: sector-manager, seal-worker, sealproof
 sector-manager hands out sealing work, runs the chain interface, the database
 and the persist stores; seal-worker runs every sealing stage of a sector on its
 machine, pinned to the cores, NUMA nodes and GPUs of its hardware class;
 sealproof is the standalone proofs tool and benchmark.
 Units: sector-manager.service, seal-worker@.service, sealpipe.target.
EOF
(cd "$PKG" && find etc -type f | sed 's|^|/|' | sort) >"$PKG/DEBIAN/conffiles"
cat >"$PKG/DEBIAN/postinst" <<'EOF'
#!/bin/sh
# New or changed unit files take effect; nothing is enabled or started.
set -e
if [ -d /run/systemd/system ]; then systemctl daemon-reload || true; fi
EOF
cat >"$PKG/DEBIAN/prerm" <<'EOF'
#!/bin/sh
# On removal, stop the services (sealing threads resume from their state at the next
# start, whichever version runs then).  Upgrades leave them running: restart them
# when convenient (see the README, "Upgrading and restarting safely").
set -e
if [ "$1" = remove ] && [ -d /run/systemd/system ]; then
    systemctl stop sealpipe.target 'seal-worker@*.service' sector-manager.service || true
fi
EOF
cat >"$PKG/DEBIAN/postrm" <<'EOF'
#!/bin/sh
set -e
if [ -d /run/systemd/system ]; then systemctl daemon-reload || true; fi
EOF
chmod 0755 "$PKG/DEBIAN/postinst" "$PKG/DEBIAN/prerm" "$PKG/DEBIAN/postrm"

mkdir -p "$OUTDIR"
OUT=$OUTDIR/sealpipe_${VERSION}_$ARCH.deb
dpkg-deb --root-owner-group --build "$PKG" "$OUT" >/dev/null
echo "deb: $OUT ($(du -h "$OUT" | cut -f1)), depends: $depends"
