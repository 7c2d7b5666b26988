#!/usr/bin/env bash
# sealproof_gpu.sh — sealproof's OpenCL paths end to end on whatever OpenCL device exists
# (PoCL's CPU device in CI): `devices` in both output forms, device selection errors from
# --gpu and SEALPIPE_OPENCL_DEVICE, `bench gpu` building a tree on the device identical to
# the CPU backend's (both kernel limb widths), and `pc2 --gpu` on a fabricated 2KiB sector
# giving the same tree files, sealed replica, p_aux and comm_r as `pc2 --cpu` (test_opencl
# does the same through the library for 8MiB and a small 8-8-2 sector with 11 layers).
# Skipped (77) only when there is no OpenCL device at all.
. "$(dirname "$0")/lib.sh"

SP="$SP_BIN/sealproof"

# ---- devices ----
list=$("$SP" devices --json) || fail "devices --json failed"
n=$(echo "$list" | jq '.devices | length')
if [ "$n" = 0 ]; then
    echo "skipped: no OpenCL device (install the GPU's OpenCL ICD or pocl-opencl-icd)"
    exit 77
fi
assert_eq "$(echo "$list" | jq -r '.devices[0].index')" 0 "first device index"
name=$(echo "$list" | jq -r '.devices[0].name')
[ -n "$name" ] || fail "device 0 has no name"
table=$("$SP" devices)
assert_contains "$table" "$name"

# ---- selection errors name what was asked and list what exists ----
out=$("$SP" bench gpu --gpu 999 --no-cpu 2>&1) && fail "--gpu 999 was accepted"
assert_contains "$out" '"999" (argument) not found'
assert_contains "$out" "$name"
out=$(SEALPIPE_OPENCL_DEVICE=no-such-device-xyz "$SP" bench gpu --no-cpu 2>&1) \
    && fail "an unknown SEALPIPE_OPENCL_DEVICE was accepted"
assert_contains "$out" "SEALPIPE_OPENCL_DEVICE"

# ---- bench gpu: the device's tree equals the CPU backend's, both limb widths ----
for limbs in 32 64; do
    r=$("$SP" bench gpu --gpu 0 --limbs $limbs --sector-size 2KiB --count 64 --threads 1 --json) \
        || fail "bench gpu --limbs $limbs failed"
    assert_eq "$(echo "$r" | jq -r .trees_identical)" true "bench gpu tree, $limbs-bit limbs"
    assert_eq "$(echo "$r" | jq -r .limbs)" $limbs "limb width reported"
done
# selection by part of the name, in another case
part=$(echo "${name:0:4}" | tr '[:lower:][:upper:]' '[:upper:][:lower:]')
r=$("$SP" bench gpu --gpu "$part" --sector-size 2KiB --count 8 --no-cpu --json) \
    || fail "--gpu $part (part of the name) failed"
assert_eq "$(echo "$r" | jq -r .device.index)" 0 "device chosen by name"

# ---- pc2 --gpu against pc2 --cpu ----
if ! "$SP" pc2 --help 2>&1 | grep -q -- '--gpu'; then
    echo "note: sealproof pc2 has no --gpu yet; PC2 on the device is checked in test_opencl"
    exit 0
fi
command -v python3 >/dev/null || { echo "skipped: python3 is needed to fabricate layers"; exit 77; }

fabricate() {   # fabricate DIR NODES LAYERS STAGED_BYTES SEED: random labels < 2^254
    python3 - "$@" <<'EOF'
import random, sys
d, nodes, layers, staged, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
rng = random.Random(seed)
def nodes_bytes(n):
    b = bytearray(rng.getrandbits(8 * 32 * n).to_bytes(32 * n, "little"))
    for i in range(31, len(b), 32):
        b[i] &= 0x3F
    return bytes(b)
for l in range(1, layers + 1):
    open(f"{d}/sc-02-data-layer-{l}.dat", "wb").write(nodes_bytes(nodes))
open(f"{d}/staged", "wb").write(nodes_bytes(nodes)[:staged])
EOF
}

filesum() { (cd "$1" && sha256sum sc-02-data-tree-* p_aux sealed | sort); }

compare_pc2() {   # compare_pc2 PROOF NODES STAGED_BYTES SEED
    local c="$T/$1-cpu" g="$T/$1-gpu"
    mkdir -p "$c" "$g"
    fabricate "$c" "$2" 2 "$3" "$4"
    cp "$c"/sc-02-data-layer-*.dat "$c/staged" "$g/"
    rc=$("$SP" pc2 --json --cpu --proof "$1" --cache "$c" --staged "$c/staged" --sealed "$c/sealed") \
        || fail "$1: pc2 --cpu failed"
    rg=$("$SP" pc2 --json --gpu 0 --proof "$1" --cache "$g" --staged "$g/staged" --sealed "$g/sealed") \
        || fail "$1: pc2 --gpu 0 failed"
    assert_eq "$(echo "$rg" | jq -r .comm_r)" "$(echo "$rc" | jq -r .comm_r)" "$1 comm_r"
    assert_eq "$(filesum "$g")" "$(filesum "$c")" "$1 tree files, sealed and p_aux"
}
compare_pc2 StackedDrg2KiBV1_1 64 1500 1
# the device must have done the work: PC2 reports its backend
assert_contains "$rg" "opencl"
echo "pc2 --gpu matches pc2 --cpu for 2KiB"
