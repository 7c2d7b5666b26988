#!/bin/sh
# Installs the Debian 12 packages sealpipe needs to build, test and run.
# Idempotent: only packages that are missing are installed.  Run as root, or as a
# user with sudo.  The Makefile calls this when pkg-config cannot find a library.
set -eu

PKGS="build-essential pkg-config make gcc \
libhwloc-dev hwloc libconfig-dev libjemalloc-dev \
ocl-icd-opencl-dev opencl-c-headers pocl-opencl-icd clinfo \
libsqlite3-dev sqlite3 libcjson-dev libmicrohttpd-dev libcurl4-openssl-dev \
libssl-dev libcmocka-dev libsystemd-dev jq curl clang \
systemd"

missing=""
for p in $PKGS; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done

if [ -z "$missing" ]; then
    echo "deps: all packages present"
    exit 0
fi

echo "deps: installing:$missing"
if [ "$(id -u)" -eq 0 ]; then
    SUDO=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO="sudo -n"
else
    echo "deps: error: these Debian packages are missing:$missing" >&2
    echo "deps: run as root (or with passwordless sudo): apt-get install$missing" >&2
    exit 1
fi

export DEBIAN_FRONTEND=noninteractive
if ! $SUDO apt-get install -y --no-install-recommends $missing; then
    # A stale package index is the usual reason; refresh once and retry.
    $SUDO apt-get update
    $SUDO apt-get install -y --no-install-recommends $missing
fi
echo "deps: done"
