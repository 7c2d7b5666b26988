#!/usr/bin/env bash
# sealproof_formats.sh — rust-fil-proofs' formats through the sealproof tool:
# `vanilla-post verify` on the real rust-produced 32GiB Window PoSt proof
# (tests/vectors/curio-window-post-32g: valid with its public inputs, invalid with another
# sector, a changed byte or another randomness, exit 2 for an unreadable file); a 2KiB
# sector sealed with `sealproof seal`: c1 --format rust-json/curio-bin/native, jq reads the
# JSON as serde's shape, c1-convert between all three gives the same bytes as c1 itself,
# the native c2 takes the rust JSON and its proof verifies; t_aux and cache-check before
# and after clear-cache; vanilla-post prove output verifies in both rust forms.
. "$(dirname "$0")/lib.sh"

SP="$SP_BIN/sealproof"
hex() { od -An -v -tx1 | tr -d ' \n'; }
V="$SP_TESTS/vectors/curio-window-post-32g"
Z=0000000000000000000000000000000000000000000000000000000000000000

# ---- the real 32GiB Window PoSt vanilla proof (postpub.json's public inputs) ----
CR=$(head -c 40 "$V/post.vproof" | tail -c 32 | hex)
assert_eq "$(jq -r '.ChallengedSectors[0].SealedCID["/"]' "$V/postpub.json")" \
    bagboea4b5abcbx3jccdohrttzfneleehcpkmle4oltwuh4q3rcf5tpdodaoj6mtl "postpub SealedCID"
post=(--post-proof "$(jq -r '.Proofs[0].PoStProof' "$V/postpub.json")" --randomness "$Z"
      --prover-id "f0$(jq -r .Prover "$V/postpub.json")")
v=$("$SP" vanilla-post verify --json "${post[@]}" --sector-id 1 --comm-r "$CR" --file "$V/post.vproof") \
    || fail "the rust proof does not verify: $v"
assert_eq "$v" '{"valid":true}' "rust 32GiB vanilla PoSt"
reject() {   # reject WHAT FILE ARGS...: exit 1 with valid=false and a reason
    local what=$1 file=$2 out rc; shift 2
    set +e; out=$("$SP" vanilla-post verify --json "$@" --file "$file"); rc=$?; set -e
    assert_eq "$rc" 1 "$what: exit status"
    assert_eq "$(echo "$out" | jq -r .valid)" false "$what"
    [ -n "$(echo "$out" | jq -r .reason)" ] || fail "$what: no reason"
}
reject "another sector" "$V/post.vproof" "${post[@]}" --sector-id 2 --comm-r "$CR"
R1=0100000000000000000000000000000000000000000000000000000000000000
reject "another randomness" "$V/post.vproof" --post-proof 8 --randomness "$R1" --prover-id f01000 \
    --sector-id 1 --comm-r "$CR"
cp "$V/post.vproof" "$T/p.vproof"
chmod u+w "$T/p.vproof"
printf '\x55' | dd of="$T/p.vproof" bs=1 seek=12345 conv=notrunc status=none
reject "changed byte" "$T/p.vproof" "${post[@]}" --sector-id 1 --comm-r "$CR"
head -c 24959 "$V/post.vproof" > "$T/short.vproof"
reject "truncated" "$T/short.vproof" "${post[@]}" --sector-id 1 --comm-r "$CR"
set +e; "$SP" vanilla-post verify "${post[@]}" --sector-id 1 --comm-r "$CR" --file "$T/nope" 2>/dev/null
rc=$?; set -e
assert_eq "$rc" 2 "missing file"

# ---- a sealed 2KiB sector ----
T1=$(printf '%02x' $(seq 1 32) | tr -d '\n')
S1=$(printf '%02x' $(seq 101 132) | tr -d '\n')
head -c 2000 /dev/urandom > "$T/data"
r=$("$SP" seal --json --proof StackedDrg2KiBV1_1 --sector-id 7 --prover-id f01000 --ticket "$T1" \
    --seed "$S1" --parent-cache "$T/parents" --dir "$T/s" --input "$T/data")
D=$(echo "$r" | jq -r .comm_d); C=$(echo "$r" | jq -r .comm_r)
args=(--proof 5 --sector-id 7 --prover-id f01000 --ticket "$T1" --seed "$S1" --comm-d "$D" --comm-r "$C")
cache=(--cache "$T/s/cache" --sealed "$T/s/sealed")

# PC2 wrote t_aux as rust does; rewriting it gives the same bytes; the layout checks
[ -f "$T/s/cache/t_aux" ] || fail "seal left no t_aux"
cp "$T/s/cache/t_aux" "$T/t_aux.pc2"
"$SP" t-aux write --proof 5 --cache "$T/s/cache" >/dev/null
cmp -s "$T/t_aux.pc2" "$T/s/cache/t_aux" || fail "t-aux write differs from PC2's t_aux"
chk=$("$SP" cache-check --json --proof 5 --cache "$T/s/cache" --comm-d "$D" --comm-r "$C") \
    || fail "cache-check: $chk"
assert_eq "$(echo "$chk" | jq -r '.files[] | select(.name == "sc-02-data-tree-r-last.dat") | .bytes')" 32 \
    "2KiB tree-r-last keeps only the root"
assert_eq "$(echo "$chk" | jq -r '.files[] | select(.name == "sc-02-data-tree-d.dat") | .bytes')" 4064 \
    "tree-d is 127 nodes"
ta=$("$SP" t-aux show --json --proof 5 --cache "$T/s/cache")
assert_eq "$(echo "$ta" | jq -r .matches)" true "t_aux matches"
assert_eq "$(echo "$ta" | jq -r .tree_r_last_config.rows_to_discard)" 1 "2KiB rows_to_discard"
assert_eq "$(echo "$ta" | jq -r '.labels | length')" 2 "layers in t_aux"

# c1 in the three formats
for f in native rust-json curio-bin; do
    o=$("$SP" c1 --json "${args[@]}" "${cache[@]}" --format "$f" --out "$T/c1.$f")
    assert_eq "$(echo "$o" | jq -r .format)" "$f" "c1 --format $f"
done
j="$T/c1.rust-json"
assert_eq "$(jq -r .registered_proof "$j")" StackedDrg2KiBV1_1 "registered_proof"
assert_eq "$(jq -r '.vanilla_proofs.StackedDrg2KiBV1 | length' "$j")" 1 "partitions"
assert_eq "$(jq -r '.vanilla_proofs.StackedDrg2KiBV1[0] | length' "$j")" 2 "challenges"
assert_eq "$(jq -r '.vanilla_proofs.StackedDrg2KiBV1[0][0].labeling_proofs | length' "$j")" 2 "layers"
assert_eq "$(jq -r '.vanilla_proofs.StackedDrg2KiBV1[0][0].replica_column_proofs.drg_parents | length' "$j")" 6 "drg"
assert_eq "$(jq -r '.vanilla_proofs.StackedDrg2KiBV1[0][0].comm_d_proofs.data.Single.path.path | length' "$j")" 6 "tree_d levels"
# comm_r as serde writes [u8; 32]: an array of 32 numbers, here turned back into hex
hexjq='map(. as $b | "0123456789abcdef" as $h | $h[($b / 16 | floor):($b / 16 | floor) + 1] + $h[($b % 16):($b % 16) + 1]) | join("")'
assert_eq "$(jq -r ".comm_r | $hexjq" "$j")" "$C" "comm_r in the JSON"
assert_eq "$(jq -r ".comm_d | $hexjq" "$j")" "$D" "comm_d in the JSON"
assert_eq "$(jq -r ".ticket | $hexjq" "$j")" "$T1" "ticket in the JSON"
assert_eq "$(jq -c '.vanilla_proofs.StackedDrg2KiBV1[0][0].replica_column_proofs.c_x.column._h' "$j")" null "_h"

# conversions give the bytes c1 wrote
"$SP" c1-convert --in "$T/c1.rust-json" --to curio-bin --out "$T/x.curio" >/dev/null
cmp -s "$T/x.curio" "$T/c1.curio-bin" || fail "rust-json -> curio-bin differs from c1 --format curio-bin"
"$SP" c1-convert --in "$T/c1.curio-bin" --proof 5 --to rust-json --out "$T/x.json" >/dev/null
cmp -s "$T/x.json" "$T/c1.rust-json" || fail "curio-bin -> rust-json differs"
"$SP" c1-convert --in "$T/c1.native" --to rust-json --out "$T/x2.json" >/dev/null
cmp -s "$T/x2.json" "$T/c1.rust-json" || fail "native -> rust-json differs"
"$SP" c1-convert --in "$T/c1.rust-json" --to native --sector-id 7 --prover-id f01000 --out "$T/x.native" >/dev/null
cmp -s "$T/x.native" "$T/c1.native" || fail "rust-json -> native differs"
set +e; "$SP" c1-convert --in "$T/c1.rust-json" --to native --out "$T/y" 2>/dev/null; rc=$?; set -e
[ "$rc" != 0 ] || fail "rust-json -> native without the sector must be refused"
head -c 5000 "$T/c1.rust-json" > "$T/trunc.json"
set +e; err=$("$SP" c1-convert --in "$T/trunc.json" --to native --sector-id 7 --prover-id f01000 --out "$T/y" 2>&1); set -e
assert_contains "$err" "truncated" "truncated JSON"

# the native C2 on the rust JSON, and its proof verifies
"$SP" c2 --c1 "$T/c1.rust-json" --sector-id 7 --prover-id f01000 --out "$T/proof" >/dev/null
v=$("$SP" verify --json "${args[@]}" --proof-file "$T/proof") || fail "proof from rust JSON rejected: $v"
assert_eq "$(echo "$v" | jq -r .valid)" true "verify after C2 from rust JSON"
"$SP" c2 --c1 "$T/c1.curio-bin" --sector-id 7 --prover-id f01000 --out "$T/proof2" >/dev/null
cmp -s "$T/proof" "$T/proof2" || fail "C2 from curio-bin differs from C2 from rust JSON"
set +e; "$SP" c2 --c1 "$T/c1.rust-json" --out "$T/proof3" 2>/dev/null; rc=$?; set -e
[ "$rc" != 0 ] || fail "C2 from rust JSON without --sector-id must be refused"

# the filcrypto C2 gets rust's JSON whatever the C1 file's format: a fake libfilcrypto
# (tests/unit/fake_filcrypto.c) puts the first 32 bytes of what it was given at byte 40
if command -v "${CC:-cc}" >/dev/null 2>&1 &&
    "${CC:-cc}" -std=c11 -D_GNU_SOURCE -O1 -shared -fPIC -fvisibility=hidden \
        -I"$SP_ROOT/proofs-ffi/src" -o "$T/fake.so" "$SP_TESTS/unit/fake_filcrypto.c" 2>/dev/null; then
    for f in native curio-bin rust-json; do
        "$SP" c2 --backend filcrypto --filcrypto "$T/fake.so" --c1 "$T/c1.$f" --sector-id 7 \
            --prover-id f01000 --out "$T/fc.$f" >/dev/null || fail "filcrypto c2 from $f"
        assert_eq "$(dd if="$T/fc.$f" bs=1 skip=40 count=32 status=none)" \
            '{"registered_proof":"StackedDrg2' "filcrypto c2 input from $f"
    done
else
    echo "no C compiler: the filcrypto C2 hookup is not exercised here (test_filcrypto covers the backend)" >&2
fi

# ---- vanilla PoSt of the sealed sector in rust's forms ----
R=$(printf '%02x' $(seq 7 38) | tr -d '\n')
pa=(--post-proof StackedDrgWindow2KiBV1_1 --randomness "$R" --prover-id f01000 --sector-id 7 --comm-r "$C")
o=$("$SP" vanilla-post prove --json "${pa[@]}" "${cache[@]}" --out "$T/v.bin")
assert_eq "$(echo "$o" | jq -r '.challenges | length')" 10 "window challenges"
# 8 + 32 + 8 + 8 + 10 * (4 + 64 + 8 + 2 * 240) + 64
assert_eq "$(stat -c %s "$T/v.bin")" 5680 "vanilla proof size"
v=$("$SP" vanilla-post verify --json "${pa[@]}" --file "$T/v.bin") || fail "own vanilla proof: $v"
"$SP" vanilla-post prove "${pa[@]}" "${cache[@]}" --format rust-json --out "$T/v.json" >/dev/null
assert_eq "$(jq -r .sector_id "$T/v.json")" 7 "JSON sector_id"
assert_eq "$(jq -r '.vanilla_proof.sectors[0].inclusion_proofs | length' "$T/v.json")" 10 "JSON proofs"
v=$("$SP" vanilla-post verify --json "${pa[@]}" --format rust-json --file "$T/v.json") \
    || fail "own JSON vanilla proof: $v"

# ---- after clear-cache: the PoSt set is still in rust's layout and still proves ----
"$SP" clear-cache --cache "$T/s/cache" >/dev/null
set +e; "$SP" cache-check --proof 5 --cache "$T/s/cache" >/dev/null; rc=$?; set -e
assert_eq "$rc" 1 "the full layout is gone after clear-cache"
"$SP" cache-check --proof 5 --cache "$T/s/cache" --cleared --comm-r "$C" >/dev/null \
    || fail "cleared cache does not match rust's PoSt layout"
"$SP" vanilla-post prove "${pa[@]}" "${cache[@]}" --out "$T/v2.bin" >/dev/null
cmp -s "$T/v.bin" "$T/v2.bin" || fail "vanilla proof after clear-cache differs"
echo "sealproof_formats: ok"
