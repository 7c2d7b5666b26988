#!/usr/bin/env bash
# worker_plan.sh — `seal-worker check-config` and `plan` on the shipped configs: the three
# hardware classes in config/hw/ against matching synthetic machines (and the development
# box against this machine when it looks like one), the base worker.cfg, every real-machine
# topology in tests/vectors/topologies/, error output and exit codes, --help, and the PC1
# batches of a class with batch = N.
. "$(dirname "$0")/lib.sh"

W="$SP_BIN/seal-worker"
CFG="$SP_ROOT/config"
TOPO="$SP_TESTS/vectors/topologies"
command -v jq >/dev/null || { echo "jq is not installed"; exit 77; }

SINGLE="pack:1 numa:1 l3:4 core:8 pu:2 gpus:0"
DUAL="pack:2 numa:1 l3:4 core:8 pu:2 gpus:0,1"
DEV="pack:1 numa:1 l3:1 core:2 pu:1 gpus:0"

# jq_is JSON FILTER WANT MESSAGE
jq_is() { assert_eq "$(jq -c "$2" "$1")" "$3" "$4 ($2)"; }

# No two processors share a physical core, unless one says share (only dev-2c's c2 does).
no_overlap() {
    jq -e '[.processors[] | select(.placed_by == "cores") | .cores[]] as $c
           | ($c | length) == ($c | unique | length)' "$1" >/dev/null \
        || fail "$1: processors placed by cores = N share a core"
}

echo "== help"
"$W" check-config --help | grep -q "Usage: seal-worker check-config" || fail "check-config --help"
"$W" plan --help | grep -q -- "--json" || fail "plan --help"
rc=0; "$W" plan >/dev/null 2>&1 || rc=$?
assert_eq "$rc" 2 "plan without -c is a usage error"

echo "== base worker.cfg on this machine"
"$W" check-config -c "$CFG/worker.cfg" | grep -q "OK: 2 sealing threads, 0 processors" \
    || fail "worker.cfg does not pass check-config here"

echo "== single-32c-1gpu"
"$W" check-config -c "$CFG/hw/single-32c-1gpu.cfg" --synthetic "$SINGLE" >/dev/null
"$W" plan -c "$CFG/hw/single-32c-1gpu.cfg" --synthetic "$SINGLE" --json >"$T/single.json"
J="$T/single.json"
jq_is "$J" '[.processors[] | select(.stage=="pc1") | .cpuset]' '["0-15","16-31","32-47"]' \
    "one PC1 per L3 (8 cores, 16 threads each)"
jq_is "$J" '[.processors[] | select(.stage=="pc1") | .cores | length]' '[8,8,8]' "PC1 whole cores"
jq_is "$J" '[.processors[] | select(.stage=="pc2" or .stage=="c2") | [.stage,.gpu,.numa,.cpuset]]' \
    '[["pc2",0,0,"48-55"],["c2",0,0,"56-59"]]' "GPU stages in the fourth L3"
jq_is "$J" '[.processors[].cores | length] | add' 32 "every core used"
jq_is "$J" '.warnings' '[]' "no warnings"
no_overlap "$J"

echo "== dual-64c-2gpu (NUMA-local)"
"$W" check-config -c "$CFG/hw/dual-64c-2gpu.cfg" --synthetic "$DUAL" >/dev/null
"$W" plan -c "$CFG/hw/dual-64c-2gpu.cfg" --synthetic "$DUAL" --json >"$T/dual.json"
J="$T/dual.json"
jq_is "$J" '[.processors[] | select(.stage=="pc1") | [.numa,.cpuset,(.cores|length)]]' \
    '[[0,"0-47",24],[1,"64-111",24]]' "one PC1 per NUMA node on three whole L3 caches"
jq_is "$J" '[.processors[] | select(.stage=="pc2" or .stage=="c2") | [.stage,.index,.gpu,.numa]]' \
    '[["pc2",0,0,0],["pc2",1,1,1],["c2",0,0,0],["c2",1,1,1]]' "each GPU's pc2/c2 beside it"
jq_is "$J" '[.processors[] | select(.gpu != null)] | length' 4 "four GPU processors"
# GPU 0 is on NUMA node 0 = CPUs 0-63, GPU 1 on node 1 = CPUs 64-127
jq -e '[.processors[] | select(.gpu == 0) | .cores[]] | all(. < 32)' "$J" >/dev/null \
    || fail "a GPU 0 processor has a core off node 0"
jq -e '[.processors[] | select(.gpu == 1) | .cores[]] | all(. >= 32)' "$J" >/dev/null \
    || fail "a GPU 1 processor has a core off node 1"
jq_is "$J" '[.processors[] | select(.stage=="tree_d" or .stage=="c1") | .numa]' '[0,1,0,1]' \
    "tree_d and c1 once per node"
jq_is "$J" '[.processors[].cores | length] | add' 64 "every core used"
jq_is "$J" '.warnings' '[]' "no warnings"
no_overlap "$J"
"$W" plan -c "$CFG/hw/dual-64c-2gpu.cfg" --synthetic "$DUAL" | grep -q "^pc1\[1\] *64-111 *32-55 *1 " \
    || fail "human plan table"

echo "== dev-2c"
"$W" check-config -c "$CFG/hw/dev-2c.cfg" --synthetic "$DEV" >/dev/null
"$W" plan -c "$CFG/hw/dev-2c.cfg" --synthetic "$DEV" --json >"$T/dev.json"
J="$T/dev.json"
jq_is "$J" '[.processors[] | [.stage,.cpuset,.gpu]]' '[["pc2","1",0],["c2","1",0],["pc1","0",null]]' \
    "GPU stages share CPU 1, PC1 on CPU 0"
jq_is "$J" '.warnings' '[]' "no warnings"
# this machine, when it is a 2-CPU box with an OpenCL device (PoCL) as on the dev box
ncpu=$(nproc)
if [ "$ncpu" -ge 2 ] && "$W" info | grep -q "GPU 0:"; then
    "$W" check-config -c "$CFG/hw/dev-2c.cfg" >/dev/null || fail "dev-2c.cfg on this machine"
    "$W" plan -c "$CFG/hw/dev-2c.cfg" --json >"$T/live.json"
    jq_is "$T/live.json" '[.processors[] | .gpu]' '[0,0,null]' "dev-2c on this machine"
else
    echo "   (this machine has $ncpu CPUs or no OpenCL device: dev-2c checked on the synthetic twin only)"
fi

echo "== every real-machine topology"
cat >"$T/two.cfg" <<EOF
inherit = "$CFG/worker.cfg";
processors = { pc1 = ( { cores = 2; } ); tree_d = ( { cores = 1; } ); };
EOF
for f in "$TOPO"/*.xml; do
    "$W" plan -c "$T/two.cfg" --topology "$f" --json >"$T/t.json" || fail "plan on $f"
    jq_is "$T/t.json" '[.processors[].cores | length]' '[2,1]' "whole cores on $(basename "$f")"
    no_overlap "$T/t.json"
done
"$W" info --topology "$TOPO/power8gpudistances.xml" | grep -c "^  GPU [0-3]:" | grep -qx 4 \
    || fail "info lists 4 GPUs on the Power8"

echo "== errors: every one, with FILE:LINE: key.path"
cat >"$T/bad.cfg" <<EOF
inherit = "$CFG/worker.cfg";
processors = {
    ext_locks = { gpu0 = 1; };
    pc2 = ( { cpuset = "0-1,64"; gpu = 3; locks = [ "gpu1" ]; } );
    c2 = ( { cpuset = "16"; } );
    pc1 = ( { cores = 9; numa = 0; concurrent = 99; } );
};
EOF
rc=0
"$W" check-config -c "$T/bad.cfg" --topology "$TOPO/32em64t-2n8c2t-pci-wholeio.xml" >"$T/out" 2>&1 || rc=$?
cat "$T/out"
assert_eq "$rc" 1 "check-config exit status on errors"
out=$(cat "$T/out")
assert_contains "$out" "bad.cfg:4: processors.pc2[0].locks[0]: lock \"gpu1\" is not declared"
assert_contains "$out" "bad.cfg:4: processors.pc2[0].cpuset: CPU 64 does not exist"
assert_contains "$out" "bad.cfg:5: processors.c2[0].cpuset: cores L#0 (CPUs 0,16) are also used by processors.pc2[0]"
assert_contains "$out" "bad.cfg:6: processors.pc1[0].cores: 9 cores wanted on NUMA node 0, which has only 8"
assert_contains "$out" "bad.cfg:4: processors.pc2[0].gpu: GPU 3 does not exist"
assert_contains "$out" "5 problems found"
rc=0; "$W" plan -c "$T/bad.cfg" --topology "$TOPO/32em64t-2n8c2t-pci-wholeio.xml" --json >"$T/bad.json" 2>/dev/null || rc=$?
assert_eq "$rc" 1 "plan exit status on errors"
jq_is "$T/bad.json" '.errors | length' 5 "plan --json carries the errors"
rc=0; "$W" check-config -c "$T/missing.cfg" >/dev/null 2>&1 || rc=$?
assert_eq "$rc" 1 "missing config"
echo "== PC1 batches"
# a class with a batching pc1 entry (batch = 4, 2 slots) beside a plain one
cat >"$T/batch.cfg" <<EOF
inherit = "$CFG/hw/single-32c-1gpu.cfg";
processors = { pc1 = ( { cores = 8; concurrent = 2; batch = 4; batch_wait = "10min"; },
                       { cores = 8; } ); };
EOF
out=$("$W" plan -c "$T/batch.cfg" --synthetic "$SINGLE")
assert_contains "$out" "PC1 batches (sectors labeled together by one task):"
assert_contains "$out" "pc1[0]           batch 4, batch_wait 10m: up to 8 sectors in PC1 (2 slots x 4); layers in memory: 256.0 GiB per batch of 32GiB sectors"
# 8 cores in 2 slots: a batch of 4 hashes on the slot's 4 cores, one sector each
assert_contains "$out" "                 each batch hashes on 4 cores: 4 groups of up to 1 sector, 4 at a time"
case "$out" in *"pc1[1]           batch"*) fail "pc1[1] (batch 1) listed among the batches" ;; esac
"$W" plan -c "$T/batch.cfg" --synthetic "$SINGLE" --json >"$T/batch.json"
jq_is "$T/batch.json" '.processors[0].batch' \
    '{"size":4,"wait_ms":600000,"slots":2,"sectors_at_once":8,"hashing_cores":4,"groups":4,"max_sectors_per_group":1,"memory":[{"sector_size":34359738368,"bytes":274877906944}]}' \
    "pc1[0] batches"
jq_is "$T/batch.json" '[.processors[1:][] | .batch] | unique' '[null]' "no other processor batches"
# limitation.concurrent.pc1 caps the batches of every pc1 processor together
cat >"$T/batch-limit.cfg" <<EOF
inherit = "$T/batch.cfg";
processors = { limitation = { concurrent = { pc1 = 1; }; }; };
EOF
assert_contains "$("$W" plan -c "$T/batch-limit.cfg" --synthetic "$SINGLE")" \
    "limitation.concurrent.pc1 = 1: at most 1 batch at a time over all pc1 processors"
# without batching the plan has no batch section
if "$W" plan -c "$CFG/hw/single-32c-1gpu.cfg" --synthetic "$SINGLE" | grep -q "PC1 batches"; then
    fail "a class without batch = N shows PC1 batches"
fi
echo "worker_plan: all checks passed"
