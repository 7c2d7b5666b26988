#!/usr/bin/env bash
# sealproof_data.sh — the data-commitment commands end to end with --json and jq:
# commp on public vectors (research/porep.md 10.4 data(n); go-fil-commcid commcid_test.go
# TestMultihashes data) from a file and from stdin, commd of the empty 2KiB/32GiB sectors,
# replica-id against a digest computed here with coreutils sha256sum, CIDs decoded with
# coreutils basenc, add-piece + tree-d on 2KiB and 8MiB sectors giving the same CommD as
# commd of the pieces, and every bad-input case giving one error line, a non-zero exit and
# nothing half-written.
. "$(dirname "$0")/lib.sh"

SP="$SP_BIN/sealproof"

# octal-escape printer: bytes given as decimal numbers on stdin, raw bytes on stdout
bytes() { while read -r v; do printf "\\$(printf %03o "$v")"; done; }
hexof() { od -An -v -tx1 "$@" | tr -d ' \n'; }

# ---- commp: public vectors ----
# data(n) = (i*7 + i/251) mod 256 (porep.md 10.4)
for i in $(seq 0 126); do echo $(( (i * 7 + i / 251) % 256 )); done | bytes > "$T/d127"
head -c 126 "$T/d127" > "$T/d126"
: > "$T/d0"
out=$("$SP" commp --json "$T/d0")
assert_eq "$(jq -r .commp <<<"$out")" 3731bb99ac689f66eef5973e4a94da188f4ddcae580724fc6f3fd60dfd488333 "commp data(0)"
assert_eq "$(jq -r .payload_size <<<"$out")" 0 "payload data(0)"
assert_eq "$(jq -r .padded_size <<<"$out")" 128 "padded data(0)"
out=$("$SP" commp --json "$T/d126")
assert_eq "$(jq -r .commp <<<"$out")" e7174a9e17b4eab0299c33fb7a5376d9a780ab93cc4873777a7452ed32ecaf14 "commp data(126)"
out=$("$SP" commp --json "$T/d127")
assert_eq "$(jq -r .commp <<<"$out")" b3c22ed2e440d87a1dfcf2c7c21bc887742acfbba9d00954a0132b99445dc523 "commp data(127)"
assert_eq "$(jq -r .payload_size <<<"$out")" 127 "payload data(127)"

# 127 bytes each of 0, 1, 2, 3 (go-fil-commcid TestMultihashes), then with zero tails
for v in 0 1 2 3; do for i in $(seq 127); do echo $v; done; done | bytes > "$T/m508"
out=$("$SP" commp --json "$T/m508")
assert_eq "$(jq -r .commp_cid <<<"$out")" baga6ea4seaqes3nobte6ezpp4wqan2age2s5yxcatzotcvobhgcmv5wi2xh5mbi "commp 127x0123"
assert_eq "$(jq -r .padded_size <<<"$out")" 512 "padded 127x0123"
{ cat "$T/m508"; head -c 4 /dev/zero; } > "$T/m512"
out=$("$SP" commp --json - < "$T/m512")
assert_eq "$(jq -r .commp_cid <<<"$out")" baga6ea4seaqn42av3szurbbscwuu3zjssvfwbpsvbjf6y3tukvlgl2nf5rha6pa "commp 127x0123 + 4 zeros (stdin)"
assert_eq "$(jq -r .payload_size <<<"$out")" 512 "payload from stdin"
assert_eq "$(jq -r .padded_size <<<"$out")" 1024 "padded 127x0123 + 4"

# the CID's digest is the hex commitment (decoded here with coreutils basenc)
cid=$(jq -r .commp_cid <<<"$out")
b32=$(tr a-z A-Z <<<"${cid#b}")
while [ $(( ${#b32} % 8 )) -ne 0 ]; do b32="$b32="; done
raw=$(printf %s "$b32" | basenc --base32 -d | hexof)
assert_eq "${raw:0:14}" 0181e203922020 "CID prefix"
assert_eq "${raw:14}" "$(jq -r .commp <<<"$out")" "CID digest"

# human-readable form
out=$("$SP" commp "$T/d127")
assert_contains "$out" "commp: b3c22ed2e440d87a1dfcf2c7c21bc887742acfbba9d00954a0132b99445dc523"

# ---- commd ----
out=$("$SP" commd --json --sector-size 2KiB)
assert_eq "$(jq -r .commd <<<"$out")" fc7e928296e516faade986b28f92d44a4f24b935485223376a799027bc18f833 "empty 2KiB"
assert_eq "$(jq -r .commd_cid <<<"$out")" baga6ea4seaqpy7usqklokfx2vxuynmupslkeutzexe2uqurdg5vhtebhxqmpqmy "empty 2KiB CID"
out=$("$SP" commd --json --proof StackedDrg32GiBV1_1)
assert_eq "$(jq -r .commd_cid <<<"$out")" baga6ea4seaqao7s73y24kcutaosvacpdjgfe5pw76ooefnyqw4ynr3d2y6x2mpq "empty 32GiB CC CommD"
# one 1KiB zero piece + nothing = the empty sector; the piece given as hex or CID
z1k=$("$SP" commp --json <(head -c 1016 /dev/zero) | jq -r .commp)
assert_eq "$z1k" 1f7ac9595510e09ea41c460b176430bb322cd6fb412ec57cb17d989a4310372f "Z(1KiB)"
out=$("$SP" commd --json --sector-size 2KiB --piece "$z1k:1KiB")
assert_eq "$(jq -r .commd <<<"$out")" fc7e928296e516faade986b28f92d44a4f24b935485223376a799027bc18f833 "zero piece"
out=$("$SP" commd --json --sector-size 2KiB --piece "baga6ea4seaqes3nobte6ezpp4wqan2age2s5yxcatzotcvobhgcmv5wi2xh5mbi:512" \
      --piece "baga6ea4seaqes3nobte6ezpp4wqan2age2s5yxcatzotcvobhgcmv5wi2xh5mbi:512")
assert_eq "$(jq -r .commd <<<"$out" | wc -c)" 65 "two pieces"

# ---- replica-id: the 136-byte message built and hashed independently ----
ticket=$(for i in $(seq 0 31); do printf %02x "$i"; done)
commd=fc7e928296e516faade986b28f92d44a4f24b935485223376a799027bc18f833
{ printf '\xe8\x07'; head -c 30 /dev/zero                  # prover_id of f01000 (LEB128)
  printf '\x00\x00\x00\x00\x00\x00\x01\x00'                  # sector 256, big-endian
  for i in $(seq 0 31); do echo "$i"; done | bytes          # ticket
  for i in $(seq 0 2 62); do echo $(( 16#${commd:i:2} )); done | bytes
  printf '\x05'; head -c 31 /dev/zero; } > "$T/rid.msg"    # porep_id of StackedDrg2KiBV1_1
assert_eq "$(wc -c < "$T/rid.msg" | tr -d ' ')" 136 "replica_id message length"
digest=$(sha256sum "$T/rid.msg" | cut -c1-64)
want="${digest:0:62}$(printf %02x $(( 16#${digest:62:2} & 0x3f )))"
out=$("$SP" replica-id --json --proof 5 --prover-id f01000 --sector-id 256 --ticket "$ticket" --comm-d "$commd")
assert_eq "$(jq -r .replica_id <<<"$out")" "$want" "replica_id"
# the same with the prover id in hex and CommD as its CID
out=$("$SP" replica-id --json --proof StackedDrg2KiBV1_1 --prover-id "e807$(printf '%060d' 0)" --sector-id 256 \
      --ticket "$ticket" --comm-d baga6ea4seaqpy7usqklokfx2vxuynmupslkeutzexe2uqurdg5vhtebhxqmpqmy)
assert_eq "$(jq -r .replica_id <<<"$out")" "$want" "replica_id (hex prover, CID comm_d)"

# ---- add-piece + tree-d: CommD of the pieces == root of the laid-out sector ----
check_sector() {   # check_sector SIZE PIECE_SIZE... (unpadded sizes)
    local size=$1; shift
    local staged="$T/staged-$size" cache="$T/cache-$size" args=() existing=() i=0
    rm -rf "$staged" "$cache"; mkdir -p "$cache"
    for ps in "$@"; do
        head -c "$ps" /dev/urandom > "$T/piece-$i"
        out=$("$SP" add-piece --json --sector-size "$size" --staged "$staged" "${existing[@]}" "$T/piece-$i")
        local cp; cp=$("$SP" commp --json "$T/piece-$i" | jq -r .commp)
        assert_eq "$(jq -r .commp <<<"$out")" "$cp" "add-piece commp = commp ($size, piece $i)"
        assert_eq "$(jq -r .piece_size <<<"$out")" "$ps" "piece size"
        args+=(--piece "$(jq -r .commp_cid <<<"$out"):$(jq -r .padded_size <<<"$out")")
        existing+=(--existing "$ps")
        i=$((i + 1))
    done
    local want; want=$("$SP" commd --json --sector-size "$size" "${args[@]}" | jq -r .commd)
    out=$("$SP" tree-d --json --sector-size "$size" --staged "$staged" --cache "$cache")
    assert_eq "$(jq -r .comm_d <<<"$out")" "$want" "tree-d root = commd ($size: $*)"
    local f="$cache/sc-02-data-tree-d.dat" bytes_="$(numfmt --from=iec-i "${size%B}")"
    assert_eq "$(stat -c %s "$f")" $(( (2 * bytes_ / 32 - 1) * 32 )) "tree_d file size"
    assert_eq "$(tail -c 32 "$f" | hexof)" "$want" "root is the last node"
    assert_eq "$(ls "$cache")" sc-02-data-tree-d.dat "only the tree file in the cache"
}
check_sector 2KiB 127 508 254
check_sector 2KiB 254 127 127 1016
check_sector 2KiB 2032
check_sector 8MiB 130048 520192 127 2080768

# --fill zero-fills a raw piece; the left alignment is reported
out=$("$SP" add-piece --json --proof 5 --staged "$T/fill" --fill "$T/d126")
out=$("$SP" add-piece --json --proof 5 --staged "$T/fill" --existing 127 --fill "$T/m512")
assert_eq "$(jq -r .piece_size <<<"$out")" 1016 "filled piece size"
assert_eq "$(jq -r .left_alignment <<<"$out")" 889 "left alignment after a 127-byte piece"
assert_eq "$(jq -r .offset <<<"$out")" 1024 "padded offset"
assert_eq "$(jq -r .commp_cid <<<"$out")" baga6ea4seaqn42av3szurbbscwuu3zjssvfwbpsvbjf6y3tukvlgl2nf5rha6pa "filled commp"
assert_eq "$(stat -c %s "$T/fill")" 2048 "staged size"

# ---- bad input: one error line, non-zero exit, nothing half-written ----
expect_fail() {   # expect_fail TEXT COMMAND...
    local want=$1; shift
    local err rc=0
    err=$("$@" 2>&1 >/dev/null) || rc=$?
    [ "$rc" -ne 0 ] || fail "succeeded: $*"
    assert_eq "$(printf '%s\n' "$err" | wc -l | tr -d ' ')" 1 "one error line for: $*"
    assert_contains "$err" "$want"
}
expect_fail "expected 64 hex digits" "$SP" replica-id --proof 5 --prover-id f01000 --sector-id 1 --ticket abcd --comm-d "$commd"
expect_fail "unknown seal proof" "$SP" replica-id --proof StackedDrg3KiBV1 --prover-id f01000 --sector-id 1 --ticket "$ticket" --comm-d "$commd"
expect_fail "--sector-id" "$SP" replica-id --proof 5 --prover-id f01000 --sector-id -4 --ticket "$ticket" --comm-d "$commd"
expect_fail "not a piece size" "$SP" commd --sector-size 2KiB --piece "$z1k:1000"
expect_fail "expected an unsealed" "$SP" commd --sector-size 2KiB --piece "bagboea4b5abcbnym7z3pgc64fk5wwsk3nsmz62jamgaa3pekzelmm3fv5q6g6zji:1KiB"
expect_fail "not base32" "$SP" commd --sector-size 2KiB --piece "baga6ea4seaqes3nobte6ezpp4wqan2age2s5yxcatzotcvobhgcmv5wi2xh5mb1:512"
expect_fail "more than the 2048-byte sector" "$SP" commd --sector-size 2KiB --piece "$z1k:1KiB" --piece "$z1k:1KiB" --piece "$z1k:1KiB"
expect_fail "not a registered sector size" "$SP" commd --sector-size 3KiB
expect_fail "No such file" "$SP" commp "$T/missing"
chmod 000 "$T/d127"
if ! cat "$T/d127" >/dev/null 2>&1; then   # root reads anything
    expect_fail "Permission denied" "$SP" commp "$T/d127"
fi
chmod 644 "$T/d127"

cp "$T/fill" "$T/fill.before"
expect_fail "not 127*2^k" "$SP" add-piece --proof 5 --staged "$T/fill" --existing 127 --existing 1016 "$T/m512"
expect_fail "existing pieces take" "$SP" add-piece --proof 5 --staged "$T/fill" "$T/d127"
expect_fail "does not fit" "$SP" add-piece --proof 5 --staged "$T/fill" --existing 127 --existing 1016 --fill "$T/staged-2KiB"
cmp -s "$T/fill" "$T/fill.before" || fail "a refused add-piece changed the staged file"
# a full disk while writing the piece: the staged file is truncated back
expect_fail "No space left" "$SP" add-piece --proof 5 --staged /dev/full "$T/d127"
"$SP" add-piece --proof 5 --staged "$T/f2" "$T/d127" >/dev/null
cp "$T/f2" "$T/f2.before"
( trap '' XFSZ; ulimit -f 1   # 1024 bytes: the alignment fits, the piece does not
  expect_fail "File too large" "$SP" add-piece --proof 5 --staged "$T/f2" --existing 127 --fill "$T/m512" )
cmp -s "$T/f2" "$T/f2.before" || fail "a failed add-piece left bytes in the staged file"
# tree-d: unknown proof, missing cache, short space
expect_fail "unknown seal proof" "$SP" tree-d --proof 77 --staged "$T/fill" --cache "$T"
expect_fail "no-such-dir" "$SP" tree-d --proof 5 --staged "$T/fill" --cache "$T/no-such-dir"
expect_fail "more than the 2048-byte sector" "$SP" tree-d --proof 5 --staged "$T/staged-8MiB" --cache "$T/cache-2KiB"
mkdir -p "$T/small"
( trap '' XFSZ; ulimit -f 2
  expect_fail "no space" "$SP" tree-d --proof 5 --staged "$T/fill" --cache "$T/small" )
assert_eq "$(ls -A "$T/small")" "" "nothing left in the cache after a failed tree-d"

# every command answers --help
for c in commp commd replica-id add-piece tree-d "bench data"; do
    # shellcheck disable=SC2086
    out=$("$SP" $c --help) || fail "$c --help failed"
    assert_contains "$out" "Usage: sealproof $c"
done
echo "sealproof data commands: all checks passed"
