#!/usr/bin/env bash
# sealproof_commit.sh — the commands after PreCommit end to end on 2KiB sectors sealed with
# `sealproof seal`: c1 (its challenges recomputed here independently with sha256sum),
# c2 and verify (valid, then wrong seed/ticket/sector id and a changed byte rejected),
# post-challenges (recomputed with sha256sum), window-post over four sectors with one
# missing replica reported as faulty, verify-post, winning-post, unseal of the original
# bytes, clear-cache (PoSt still works, C1 no longer can), and synthetic PoRep
# (synth-proofs, clear-cache, then c1/c2/verify from the stored proofs).
. "$(dirname "$0")/lib.sh"

SP="$SP_BIN/sealproof"
hex() { od -An -v -tx1 | tr -d ' \n'; }                  # stdin as lowercase hex
bin() { printf "$(printf '%s' "$1" | sed 's/../\\x&/g')"; } # hex to bytes on stdout
le32() { printf '%02x%02x%02x%02x' $(($1 & 255)) $(($1 >> 8 & 255)) $(($1 >> 16 & 255)) $(($1 >> 24 & 255)); }
le64() { printf '%s00000000' "$(le32 "$1")"; }             # values below 2^32
sha() { bin "$1" | sha256sum | cut -c1-64; }
# le_mod HEX M: HEX read as a little-endian integer, modulo M (small M, bash arithmetic)
le_mod() {
    local h=$1 m=$2 r=0 i
    for ((i = ${#h} / 2 - 1; i >= 0; i--)); do r=$(( (r * 256 + 0x${h:2*i:2}) % m )); done
    echo $r
}

T1=$(printf '%02x' $(seq 1 32) | tr -d '\n')              # ticket 0102..20
S1=$(printf '%02x' $(seq 101 132) | tr -d '\n')           # seed
R1=$(printf '%02x' $(seq 7 38) | tr -d '\n')              # PoSt randomness (< p)
PROVER=e807000000000000000000000000000000000000000000000000000000000000   # f01000

# ---- seal four 2KiB sectors (sector 1 from a file, the others zeros) ----
head -c 1500 /dev/urandom > "$T/data"
seal() {   # seal N [--input FILE | --zero]
    local n=$1; shift
    "$SP" seal --json --proof StackedDrg2KiBV1_1 --sector-id "$n" --prover-id f01000 \
        --ticket "$T1" --seed "$S1" --parent-cache "$T/parents" --dir "$T/s$n" "$@"
}
r1=$(seal 1 --input "$T/data")
for n in 2 3 4; do seal $n --zero > "$T/seal$n.json"; done
D1=$(echo "$r1" | jq -r .comm_d); C1R=$(echo "$r1" | jq -r .comm_r); RID=$(echo "$r1" | jq -r .replica_id)
# `seal` goes on through C1/C2 (cmd_pc2.c calls sealproof_commit_sector): its proof verifies
if [ "$(echo "$r1" | jq -r '.proof_file // empty')" != "" ]; then
    "$SP" verify --proof 5 --sector-id 1 --prover-id f01000 --ticket "$T1" --seed "$S1" \
        --comm-d "$D1" --comm-r "$C1R" --proof-file "$T/s1/$(echo "$r1" | jq -r .proof_file)" >/dev/null \
        || fail "the proof written by seal does not verify"
fi

# ---- c1: the interactive challenges, recomputed: (LE(SHA256(replica_id||seed||LE32(j))) mod 63) + 1
args=(--proof 5 --sector-id 1 --prover-id f01000 --ticket "$T1" --seed "$S1" --comm-d "$D1" --comm-r "$C1R")
c1=$("$SP" c1 --json "${args[@]}" --cache "$T/s1/cache" --sealed "$T/s1/sealed" --out "$T/c1.bin")
for j in 0 1; do
    want=$(( $(le_mod "$(sha "$RID$S1$(le32 $j)")" 63) + 1 ))
    assert_eq "$(echo "$c1" | jq -r ".challenges[$j]")" "$want" "challenge $j"
done
assert_eq "$(head -c 4 "$T/c1.bin")" "SPVP" "C1 output magic"

# ---- c2 and verify ----
c2=$("$SP" c2 --json --c1 "$T/c1.bin" --out "$T/proof")
assert_contains "$c2" "not a SNARK"
v=$("$SP" verify --json "${args[@]}" --proof-file "$T/proof") || fail "valid proof rejected: $v"
assert_eq "$(echo "$v" | jq -r .valid)" true "verify"
bad() {   # bad WHAT ARGS...: verify must exit 1 with valid=false and a reason
    local what=$1 out rc; shift
    set +e; out=$("$SP" verify --json "$@" --proof-file "$T/proof"); rc=$?; set -e
    assert_eq "$rc" 1 "$what: exit status"
    assert_eq "$(echo "$out" | jq -r .valid)" false "$what"
    [ -n "$(echo "$out" | jq -r .reason)" ] || fail "$what: no reason"
}
bad "wrong seed" --proof 5 --sector-id 1 --prover-id f01000 --ticket "$T1" --seed "$T1" --comm-d "$D1" --comm-r "$C1R"
bad "wrong ticket" --proof 5 --sector-id 1 --prover-id f01000 --ticket "$S1" --seed "$S1" --comm-d "$D1" --comm-r "$C1R"
bad "wrong sector id" --proof 5 --sector-id 2 --prover-id f01000 --ticket "$T1" --seed "$S1" --comm-d "$D1" --comm-r "$C1R"
bad "wrong prover" --proof 5 --sector-id 1 --prover-id f01001 --ticket "$T1" --seed "$S1" --comm-d "$D1" --comm-r "$C1R"
cp "$T/proof" "$T/proof.good"
printf '\x55' | dd of="$T/proof" bs=1 seek=1000 conv=notrunc status=none
bad "changed byte" "${args[@]}"
cp "$T/proof.good" "$T/proof"
# an unreadable argument is exit 2, not a verdict
set +e; "$SP" verify "${args[@]}" --proof-file "$T/nope" 2>/dev/null; rc=$?; set -e
assert_eq "$rc" 2 "missing proof file"

# ---- post-challenges, recomputed: LE64(SHA256(rand||LE64(sector)||LE64(n))[0..8]) mod 64
pc=$("$SP" post-challenges --json --post-proof StackedDrgWindow2KiBV1_1 --randomness "$R1" \
    --prover-id f01000 --sector-id 3)
for n in 0 5 9; do
    h=$(sha "$R1$(le64 3)$(le64 $n)")
    assert_eq "$(echo "$pc" | jq -r ".challenges[$n]")" "$(le_mod "${h:0:16}" 64)" "PoSt challenge $n"
done
# Window V1 (PoSt API 1.0): index sector_index * 10 + n
pc=$("$SP" post-challenges --json --post-proof 5 --randomness "$R1" --prover-id f01000 \
    --sector-id 3 --sector-index 2 --count 3)
h=$(sha "$R1$(le64 3)$(le64 22)")
assert_eq "$(echo "$pc" | jq -r '.challenges | length')" 3 "--count"
assert_eq "$(echo "$pc" | jq -r '.challenges[2]')" "$(le_mod "${h:0:16}" 64)" "API 1.0 challenge"
# Winning sector selection: LE64(SHA256(prover||rand||LE64(0))[0..8]) mod set
pc=$("$SP" post-challenges --json --post-proof 0 --randomness "$R1" --prover-id f01000 \
    --sector-id 3 --sector-set-len 1000)
h=$(sha "$PROVER$R1$(le64 0)")
assert_eq "$(echo "$pc" | jq -r '.sector_indexes[0]')" "$(le_mod "${h:0:16}" 1000)" "winning selection"
assert_eq "$(echo "$pc" | jq -r '.challenges | length')" 66 "winning challenge count"
out=$("$SP" post-challenges --post-proof 10 --randomness "$(printf 'f%.0s' $(seq 64))" \
    --prover-id f01000 --sector-id 3 2>&1) && fail "randomness >= p accepted"
assert_contains "$out" "0x3f"

# ---- window-post: four sectors, sector 3's replica gone ----
sec() { echo "$1:$(jq -r .comm_r < "$T/seal$1.json"):$T/s$1/cache:$T/s$1/sealed"; }
echo "$r1" > "$T/seal1.json"
mv "$T/s3/sealed" "$T/s3/sealed.away"
w=$("$SP" window-post --json --post-proof 10 --randomness "$R1" --prover-id f01000 \
    --sector "$(sec 1)" --sector "$(sec 2)" --sector "$(sec 3)" --sector "$(sec 4)" --out "$T/wpost")
assert_eq "$(echo "$w" | jq -c .proven)" "[1,2,4]" "proven sectors"
assert_eq "$(echo "$w" | jq -c '[.faulty[].sector_id]')" "[3]" "faulty sectors"
assert_contains "$(echo "$w" | jq -r '.faulty[0].reason')" "sealed"
mv "$T/s3/sealed.away" "$T/s3/sealed"
pub() { echo "$1:$(jq -r .comm_r < "$T/seal$1.json")"; }
v=$("$SP" verify-post --json --post-proof 10 --randomness "$R1" --prover-id f01000 \
    --sector "$(pub 4)" --sector "$(pub 1)" --sector "$(pub 2)" --proof-file "$T/wpost")
assert_eq "$(echo "$v" | jq -r .valid)" true "verify-post"
set +e
v=$("$SP" verify-post --json --post-proof 10 --randomness "$R1" --prover-id f01000 \
    --sector "$(pub 1)" --sector "$(pub 2)" --sector "$(pub 3)" --proof-file "$T/wpost"); rc=$?
set -e
assert_eq "$rc" 1 "verify-post with another sector set"
assert_eq "$(echo "$v" | jq -r .valid)" false "verify-post with another sector set"

# ---- winning-post ----
"$SP" winning-post --json --post-proof 0 --randomness "$R1" --prover-id f01000 \
    --sector "$(sec 2)" --out "$T/winpost" >/dev/null
v=$("$SP" verify-post --json --post-proof StackedDrgWinning2KiBV1 --randomness "$R1" \
    --prover-id f01000 --sector "$(pub 2)" --proof-file "$T/winpost")
assert_eq "$(echo "$v" | jq -r .valid)" true "winning verify"

# ---- unseal: the original bytes (the input was one zero-filled piece at offset 0) ----
"$SP" unseal --proof 5 --sector-id 1 --prover-id f01000 --ticket "$T1" --comm-d "$D1" \
    --cache "$T/s1/cache" --sealed "$T/s1/sealed" --offset 0 --length 1500 --out "$T/unsealed" >/dev/null
cmp "$T/data" "$T/unsealed" || fail "unsealed bytes differ from the input"
"$SP" unseal --proof 5 --sector-id 1 --prover-id f01000 --ticket "$T1" --comm-d "$D1" \
    --cache "$T/s1/cache" --sealed "$T/s1/sealed" --offset 100 --length 300 --out "$T/part" >/dev/null
cmp "$T/part" <(tail -c +101 "$T/data" | head -c 300) || fail "unsealed range differs"
out=$("$SP" unseal --proof 5 --sector-id 1 --prover-id f01000 --ticket "$S1" --comm-d "$D1" \
    --cache "$T/s1/cache" --sealed "$T/s1/sealed" --out "$T/x" 2>&1) && fail "wrong ticket unsealed"
assert_contains "$out" "wrong"

# ---- clear-cache: PoSt keeps working, C1 cannot any more ----
cc=$("$SP" clear-cache --json --cache "$T/s1/cache")
[ "$(echo "$cc" | jq -r .removed)" -ge 4 ] || fail "clear-cache removed too little: $cc"
[ -e "$T/s1/cache/p_aux" ] && [ -e "$T/s1/cache/sc-02-data-tree-r-last.dat" ] || fail "clear-cache removed PoSt files"
"$SP" window-post --json --post-proof 10 --randomness "$R1" --prover-id f01000 \
    --sector "$(sec 1)" --out "$T/wpost1" >/dev/null
out=$("$SP" c1 "${args[@]}" --cache "$T/s1/cache" --sealed "$T/s1/sealed" --out "$T/c1b" 2>&1) \
    && fail "C1 worked without layers"
assert_contains "$out" "sc-02-data-"

# ---- synthetic PoRep: proofs stored before the layers go, C1 from the file ----
r5=$("$SP" seal --json --proof StackedDrg2KiBV1_1_Feat_SyntheticPoRep --sector-id 5 \
    --prover-id f01000 --ticket "$T1" --seed "$S1" --parent-cache "$T/parents" --zero --dir "$T/s5")
D5=$(echo "$r5" | jq -r .comm_d); C5=$(echo "$r5" | jq -r .comm_r)
sargs=(--proof 10 --sector-id 5 --prover-id f01000 --ticket "$T1" --comm-d "$D5" --comm-r "$C5")
"$SP" synth-proofs "${sargs[@]}" --cache "$T/s5/cache" --sealed "$T/s5/sealed" >/dev/null
"$SP" clear-cache --cache "$T/s5/cache" >/dev/null
"$SP" c1 "${sargs[@]}" --seed "$S1" --cache "$T/s5/cache" --sealed "$T/s5/sealed" --out "$T/c1s" >/dev/null
"$SP" c2 --c1 "$T/c1s" --out "$T/proof5" >/dev/null
v=$("$SP" verify --json "${sargs[@]}" --seed "$S1" --proof-file "$T/proof5")
assert_eq "$(echo "$v" | jq -r .valid)" true "synthetic verify"
"$SP" clear-cache --cache "$T/s5/cache" --synthetic >/dev/null
[ ! -e "$T/s5/cache/syn-porep-vanilla-proofs.dat" ] || fail "clear-cache --synthetic kept the proofs"
echo "sealproof_commit: ok"
