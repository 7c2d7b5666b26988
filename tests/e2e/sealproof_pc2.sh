#!/usr/bin/env bash
# sealproof_pc2.sh — the PC2 commands end to end: `poseidon` against neptune's published
# hash_values vectors (research/porep.md 10.3), `pc2` on fabricated 2KiB and 8MiB layers
# (same files with 1 and 2 threads; p_aux, comm_r = Poseidon_2(comm_c, comm_r_last), the
# 2KiB LC file = comm_r_last), a PC2 killed with SIGKILL part-way and run again giving the
# same files, and `bench pc2 --no-pc2` producing its figures.
. "$(dirname "$0")/lib.sh"

SP="$SP_BIN/sealproof"
command -v python3 >/dev/null || { echo "python3 is needed to fabricate layer files"; exit 77; }

zero=$(printf '%064d' 0)
le() { printf '%02x%062d' "$1" 0; }   # small integer as a canonical little-endian element

# ---- poseidon: neptune src/poseidon.rs hash_values, preimage [0, 1, ..., a-1] ----
h=$("$SP" poseidon --json --arity 2 $(le 0) $(le 1) | jq -r .hash)
assert_eq "$h" ffe7029a363c202e9da6059d33a9fba661e1ef02d90f9e736ba5765ed7086539 "arity 2"
h=$("$SP" poseidon --json --arity 4 $(le 0) $(le 1) $(le 2) $(le 3) | jq -r .hash)
assert_eq "$h" 5d076266ff149801ec2713bf05466bfb99932279653cdb008a84e5a9104ba558 "arity 4"
args=""; for i in $(seq 0 7); do args="$args $(le $i)"; done
h=$("$SP" poseidon --json --arity 8 $args | jq -r .hash)
assert_eq "$h" e6a5386df534992ad9aec49c9d2e684b777067114200011255dea5a31d619423 "arity 8"
args=""; for i in $(seq 0 15); do args="$args $(le $i)"; done
h=$("$SP" poseidon --json --arity 16 $args | jq -r .hash)
assert_eq "$h" 376d266040c791126f0a68306dbc8d5b631e876f5afbc2c18aae813366e23a2d "arity 16"
# wrong input count and a value >= p are refused with a reason
out=$("$SP" poseidon --arity 2 "$zero" 2>&1) && fail "one input for arity 2 was accepted"
assert_contains "$out" "needs 2 inputs"
out=$("$SP" poseidon --arity 1 "$(printf 'f%.0s' $(seq 64))" 2>&1) && fail "an input >= p was accepted"
assert_contains "$out" "not a canonical field element"

# ---- fabricated sectors: random labels < 2^254, fr32-like staged data ----
fabricate() {   # fabricate DIR NODES LAYERS STAGED_BYTES SEED
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

hex() { od -An -v -tx1 | tr -d ' \n'; }   # stdin as lowercase hex on one line
filesum() { (cd "$1" && sha256sum sc-02-data-tree-* p_aux sealed | sort); }

pc2() {   # pc2 PROOF DIR THREADS
    "$SP" pc2 --json --cpu --proof "$1" --cache "$2" --staged "$2/staged" --sealed "$2/sealed" \
        --threads "$3"
}

# 2KiB: one base tree of 64 leaves, tree-r-last keeps only the root (rows_to_discard 1)
mkdir -p "$T/k2"
fabricate "$T/k2" 64 2 1500 1
r=$(pc2 StackedDrg2KiBV1_1 "$T/k2" 1)
cc=$(echo "$r" | jq -r .comm_c); cr=$(echo "$r" | jq -r .comm_r_last); R=$(echo "$r" | jq -r .comm_r)
assert_eq "$("$SP" poseidon --json --arity 2 "$cc" "$cr" | jq -r .hash)" "$R" "comm_r = H(comm_c, comm_r_last)"
assert_eq "$(hex < "$T/k2/p_aux")" "$cc$cr" "p_aux"
assert_eq "$(hex < "$T/k2/sc-02-data-tree-r-last.dat")" "$cr" "2KiB LC file is the root"
assert_eq "$(stat -c %s "$T/k2/sc-02-data-tree-c.dat")" $((73 * 32)) "2KiB tree-c size"
assert_eq "$(stat -c %s "$T/k2/sealed")" 2048 "2KiB sealed size"
assert_eq "$(tail -c 32 "$T/k2/sc-02-data-tree-c.dat" | hex)" "$cc" "tree-c root"
sum1=$(filesum "$T/k2")
r2=$(pc2 5 "$T/k2" 2)
assert_eq "$(echo "$r2" | jq -r .comm_r)" "$R" "2KiB comm_r with 2 threads"
assert_eq "$(filesum "$T/k2")" "$sum1" "2KiB files with 2 threads"

# 8MiB: 2^18 leaves, 7 rows; tree-r-last keeps rows 3..6 (512 + 64 + 8 + 1 nodes)
mkdir -p "$T/m8"
fabricate "$T/m8" 262144 2 8000000 2
r=$(pc2 StackedDrg8MiBV1_1 "$T/m8" 2)
R8=$(echo "$r" | jq -r .comm_r)
assert_eq "$(stat -c %s "$T/m8/sc-02-data-tree-r-last.dat")" $((585 * 32)) "8MiB LC file size"
assert_eq "$(stat -c %s "$T/m8/sc-02-data-tree-c.dat")" $(((262144 * 8 - 1) / 7 * 32)) "8MiB tree-c size"
assert_eq "$(tail -c 32 "$T/m8/sc-02-data-tree-r-last.dat" | hex)" \
    "$(echo "$r" | jq -r .comm_r_last)" "8MiB LC root"
sum8=$(filesum "$T/m8")

# killed part-way (SIGKILL: no cleanup runs), then run again: the same files
rm -f "$T/m8"/sc-02-data-tree-* "$T/m8/p_aux" "$T/m8/sealed"
"$SP" pc2 --proof 6 --cache "$T/m8" --staged "$T/m8/staged" --sealed "$T/m8/sealed" --threads 1 \
    >/dev/null 2>&1 &
pid=$!
sp_track "$pid"
sleep 1.5
kill -KILL "$pid" 2>/dev/null || true
wait "$pid" 2>/dev/null || true
[ -e "$T/m8/p_aux" ] && fail "p_aux exists after a killed PC2 (the kill came too late?)"
r=$(pc2 6 "$T/m8" 2)
assert_eq "$(echo "$r" | jq -r .comm_r)" "$R8" "8MiB comm_r after a killed run"
assert_eq "$(filesum "$T/m8")" "$sum8" "8MiB files after a killed run"
ls "$T/m8" | grep -q '\.tmp$' && fail "temporary files left: $(ls "$T/m8")"

# the staged file is never the output
out=$("$SP" pc2 --proof 5 --cache "$T/k2" --staged "$T/k2/staged" --sealed "$T/k2/staged" 2>&1) \
    && fail "sealing over the staged file was accepted"
assert_contains "$out" "never modifies the staged data"

# ---- seal: AddPiece, TreeD, PC1, PC2 in one go ----
ticket=$(printf '%064d' 0); seed=$(printf '%02x' $(seq 1 32) | tr -d '\n')
r=$("$SP" seal --json --cpu --proof StackedDrg2KiBV1_1 --sector-id 1 --prover-id f01000 \
    --ticket "$ticket" --seed "$seed" --zero --dir "$T/seal0" --parent-cache "$T/parents")
# CommD of an empty 2KiB sector (rust-fil-proofs tests/pieces.rs test_compute_comm_d_empty)
assert_eq "$(echo "$r" | jq -r .comm_d)" fc7e928296e516faade986b28f92d44a4f24b935485223376a799027bc18f833 "empty 2KiB comm_d"
for k in replica_id comm_c comm_r_last comm_r; do
    [ "$(echo "$r" | jq -r .$k | wc -c)" = 65 ] || fail "seal $k: $(echo "$r" | jq -r .$k)"
done
assert_eq "$(hex < "$T/seal0/cache/p_aux")" "$(echo "$r" | jq -r '.comm_c + .comm_r_last')" "seal p_aux"
# sealing the same sector again gives the same commitments
r2=$("$SP" seal --json --proof 5 --sector-id 1 --prover-id f01000 --ticket "$ticket" \
    --seed "$seed" --zero --dir "$T/seal0b" --parent-cache "$T/parents")
assert_eq "$r2" "$r" "a second seal of the same sector"
# with data: PC1 on its own, then pc2 fed the pc1_output it printed, gives seal's result
head -c 1500 /dev/urandom > "$T/piece"
r=$("$SP" seal --json --proof 5 --sector-id 9 --prover-id f01000 --ticket "$ticket" \
    --seed "$seed" --input "$T/piece" --dir "$T/seal1" --parent-cache "$T/parents")
p1=$("$SP" pc1 --json --proof 5 --sector-id 9 --prover-id f01000 --ticket "$ticket" \
    --staged "$T/seal1/staged" --cache "$T/sep" --parent-cache "$T/parents")
assert_eq "$(echo "$p1" | jq -r .comm_d)" "$(echo "$r" | jq -r .comm_d)" "comm_d of the staged piece"
echo "$p1" | jq -r .pc1_output > "$T/pc1.hex"
r3=$("$SP" pc2 --json --pc1-out "$T/pc1.hex" --cache "$T/sep" --staged "$T/seal1/staged" \
    --sealed "$T/sep/sealed")
assert_eq "$(echo "$r3" | jq -r .comm_r)" "$(echo "$r" | jq -r .comm_r)" "pc2 from pc1_output"
cmp -s "$T/sep/sealed" "$T/seal1/sealed" || fail "sealed replicas differ"
[ "$(echo "$r" | jq -r .comm_r)" != "$(echo "$r2" | jq -r .comm_r)" ] || fail "data did not change comm_r"

# ---- bench: the figures are there and positive ----
b=$("$SP" bench pc2 --sector-size 2KiB --threads 1 --json)
for k in .fr_mul.cycles_per_mul .fr_mul.mults_per_s_per_core .column_hash.per_s_per_core \
         .tree_hash.per_s_per_core .column_hash.vs_mul_rate .pc2.seconds; do
    v=$(echo "$b" | jq -r "$k")
    awk -v v="$v" 'BEGIN { exit !(v > 0) }' || fail "bench $k = $v"
done
echo "ok"
