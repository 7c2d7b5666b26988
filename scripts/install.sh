#!/bin/sh
# install.sh — `make install` and `make uninstall`: puts sealpipe in place and takes
# exactly that away again.
#
#   scripts/install.sh DESTDIR PREFIX BINDIR        install (BINDIR: the built programs)
#   scripts/install.sh --uninstall DESTDIR PREFIX   remove what install put
#
# Installs (paths below DESTDIR):
#   PREFIX/bin/                       sector-manager, seal-worker, sealproof
#   UNITDIR/                          sector-manager.service, seal-worker@.service,
#                                     sealpipe.target (paths rewritten for PREFIX)
#   SYSCONFDIR/systemd/system/*.d/    sealpipe-paths.conf drop-ins (writable paths)
#   SYSCONFDIR/sealpipe/              manager.cfg, worker.cfg, hw/*.cfg
#   PREFIX/share/sealpipe/            README.md, docs/*.md, config/ (pristine copies),
#                                     install-manifest (what was installed, for uninstall)
# UNITDIR is PREFIX/lib/systemd/system for PREFIX /usr and /usr/local (both on systemd's
# search path), else SYSCONFDIR/systemd/system.  SYSCONFDIR is /etc.  Both can be set
# in the environment.
#
# Files under SYSCONFDIR are the operator's: an existing one that differs from the new
# version is kept (the new one goes next to it as FILE.dist) unless it is still exactly
# what the previous install put there.  Uninstall removes every file of the manifest,
# but keeps SYSCONFDIR files the operator changed, and removes the directories install
# created once they are empty.
set -eu

die() { echo "install: error: $*" >&2; exit 1; }
ROOT=$(cd "$(dirname "$0")/.." && pwd)

MODE=install
if [ "${1:-}" = --uninstall ]; then
    MODE=uninstall
    shift
fi
DESTDIR=${1:-}
PREFIX=${2:-/usr/local}
BINDIR=${3:-bin}
case "$PREFIX" in /*) ;; *) die "PREFIX must be an absolute path, not \"$PREFIX\"" ;; esac
PREFIX=${PREFIX%/}
[ -n "$PREFIX" ] || PREFIX=/usr
SYSCONFDIR=${SYSCONFDIR:-/etc}
if [ -z "${UNITDIR:-}" ]; then
    case "$PREFIX" in
    /usr | /usr/local) UNITDIR=$PREFIX/lib/systemd/system ;;
    *) UNITDIR=$SYSCONFDIR/systemd/system ;;
    esac
fi
SHARE=$PREFIX/share/sealpipe
MANIFEST=$SHARE/install-manifest

sha() { sha256sum "$1" | cut -d' ' -f1; }

# ---- uninstall --------------------------------------------------------------------------
if [ "$MODE" = uninstall ]; then
    [ -f "$DESTDIR$MANIFEST" ] || die "nothing to uninstall: no $DESTDIR$MANIFEST (was sealpipe installed with PREFIX=$PREFIX DESTDIR=$DESTDIR?)"
    removed=0
    kept=0
    # files first, then directories deepest first
    while read -r kind sum path; do
        [ "$kind" = file ] || continue
        f=$DESTDIR$path
        [ -e "$f" ] || continue
        case "$path" in
        "$SYSCONFDIR"/*)
            if [ "$(sha "$f")" != "$sum" ]; then
                echo "install: kept $f (changed since it was installed)"
                kept=$((kept + 1))
                continue
            fi ;;
        esac
        rm -f "$f"
        removed=$((removed + 1))
    done <"$DESTDIR$MANIFEST"
    dirs=$(awk '$1 == "dir" { print length($3), $3 }' "$DESTDIR$MANIFEST" | sort -rn | cut -d' ' -f2-)
    rm -f "$DESTDIR$MANIFEST"
    for d in $dirs; do
        rmdir "$DESTDIR$d" 2>/dev/null || true
    done
    echo "install: removed $removed files from ${DESTDIR:-/} (kept $kept changed config files)"
    if [ -z "$DESTDIR" ] && command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
        systemctl daemon-reload || true
    fi
    exit 0
fi

# ---- install ----------------------------------------------------------------------------
for p in sector-manager seal-worker sealproof; do
    [ -x "$BINDIR/$p" ] || die "$BINDIR/$p is not built; run make first"
done
OLD=$(mktemp "${TMPDIR:-/tmp}/sealpipe-manifest.XXXXXX")
NEW=$(mktemp "${TMPDIR:-/tmp}/sealpipe-manifest.XXXXXX")
STAGE=$(mktemp -d "${TMPDIR:-/tmp}/sealpipe-install.XXXXXX")
trap 'rm -rf "$OLD" "$NEW" "$STAGE"' EXIT INT TERM
[ -f "$DESTDIR$MANIFEST" ] && cp "$DESTDIR$MANIFEST" "$OLD"
[ -z "$DESTDIR" ] || mkdir -p "$DESTDIR"

# mkdirs PATH: creates PATH and its missing parents, recording the ones it created
# (directories from an earlier install stay recorded).
mkdirs() {
    _d=$1
    _missing=""
    while [ "$_d" != / ] && [ ! -d "$DESTDIR$_d" ]; do
        _missing="$_d $_missing"
        _d=$(dirname "$_d")
    done
    for _d in $_missing; do
        mkdir -m 0755 "$DESTDIR$_d"
        echo "dir - $_d" >>"$NEW"
    done
}

# put SRC DEST MODE: installs a file the package owns (replaced on every install).
put() {
    mkdirs "$(dirname "$2")"
    install -m "$3" "$1" "$DESTDIR$2"
    echo "file $(sha "$DESTDIR$2") $2" >>"$NEW"
}

# conf SRC DEST: installs an operator-editable file (see the top of this file).
conf() {
    mkdirs "$(dirname "$2")"
    f=$DESTDIR$2
    new=$(sha "$1")
    if [ -e "$f" ] && [ "$(sha "$f")" != "$new" ]; then
        prev=$(awk -v p="$2" '$1 == "file" && $3 == p { print $2 }' "$OLD")
        if [ "$(sha "$f")" != "$prev" ]; then
            install -m 0644 "$1" "$f.dist"
            echo "file $new $2.dist" >>"$NEW"
            echo "install: kept $f (changed since it was installed); the new version is $f.dist"
            # still recorded when an earlier install put it there: uninstall keeps it
            # as changed; a file written by hand is not recorded at all
            [ -z "$prev" ] || echo "file $prev $2" >>"$NEW"
            return 0
        fi
    fi
    install -m 0644 "$1" "$f"
    echo "file $new $2" >>"$NEW"
}

# Units name the default paths; other prefixes get them rewritten.
unit() {
    sed -e "s|/usr/local/bin/|$PREFIX/bin/|g" \
        -e "s|/usr/local/share/sealpipe/|$SHARE/|g" \
        -e "s|/etc/sealpipe/|$SYSCONFDIR/sealpipe/|g" \
        -e "s|/etc/systemd/system/|$SYSCONFDIR/systemd/system/|g" "$1" >"$STAGE/$(basename "$1")"
    put "$STAGE/$(basename "$1")" "$UNITDIR/$(basename "$1")" 0644
}

for p in sector-manager seal-worker sealproof; do
    put "$BINDIR/$p" "$PREFIX/bin/$p" 0755
done
for u in sector-manager.service seal-worker@.service sealpipe.target; do
    unit "$ROOT/systemd/$u"
done
for d in sector-manager.service.d seal-worker@.service.d; do
    conf "$ROOT/systemd/$d/sealpipe-paths.conf" "$SYSCONFDIR/systemd/system/$d/sealpipe-paths.conf"
done
conf "$ROOT/config/manager.cfg" "$SYSCONFDIR/sealpipe/manager.cfg"
conf "$ROOT/config/worker.cfg" "$SYSCONFDIR/sealpipe/worker.cfg"
for c in "$ROOT"/config/hw/*.cfg; do
    conf "$c" "$SYSCONFDIR/sealpipe/hw/$(basename "$c")"
    put "$c" "$SHARE/config/hw/$(basename "$c")" 0644
done
put "$ROOT/config/manager.cfg" "$SHARE/config/manager.cfg" 0644
put "$ROOT/config/worker.cfg" "$SHARE/config/worker.cfg" 0644
put "$ROOT/README.md" "$SHARE/README.md" 0644
for doc in "$ROOT"/docs/*.md; do
    put "$doc" "$SHARE/docs/$(basename "$doc")" 0644
done

# The manifest: this install's lines, plus the directories an earlier install created.
grep '^dir ' "$OLD" >>"$NEW" || true
sort -u "$NEW" >"$STAGE/manifest"
mkdirs "$SHARE"
install -m 0644 "$STAGE/manifest" "$DESTDIR$MANIFEST"
n=$(grep -c '^file ' "$DESTDIR$MANIFEST")
echo "install: $n files in ${DESTDIR:-/} (programs in $PREFIX/bin, units in $UNITDIR, configs in $SYSCONFDIR/sealpipe)"
if [ -z "$DESTDIR" ] && command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
    systemctl daemon-reload || true
fi
