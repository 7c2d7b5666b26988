#!/bin/bash
# sealproof_pc1.sh — the SDR commands end to end: parents (rust-fil-proofs' per-node lists
# and pinned table digests, the --out file), labels (the upstream label vectors), pc1
# (layer files that match the labels command, single vs multi-core, resume after a crash
# and after Ctrl-C, a full disk), a batched bench smoke run, and clear errors on bad input.
. "$(dirname "$0")/lib.sh"

SP="$SP_BIN/sealproof"
PC="$T/parents"
Z32=$(printf '00%.0s' $(seq 32))
N9=$(printf '09%.0s' $(seq 32))
N123=$(printf '7b%.0s' $(seq 32))
MNT=""

cleanup() {
    [ -n "$MNT" ] && umount "$MNT" 2>/dev/null
    sp_cleanup
}
trap cleanup EXIT INT TERM

# -- parents: research/porep.md §10.2 and §5.3 ------------------------------------------------
out=$("$SP" parents --proof StackedDrg2KiBV1_1 --node 2 --node 63 --json)
assert_eq "$(echo "$out" | jq -c '.nodes[0]')" '{"node":2,"base":[1,1,1,0,1,0],"exp":[30,28,55,63,63,36,37,36]}' "2KiB V1_1 node 2"
assert_eq "$(echo "$out" | jq -c '.nodes[1].exp')" '[0,15,30,30,28,42,49,38]' "2KiB V1_1 node 63"
out=$("$SP" parents --proof 0 --node 3 --json)
assert_eq "$(echo "$out" | jq -c '.nodes[0].base')" '[1,2,1,2,1,2]' "2KiB V1 node 3 (predecessor last)"
out=$("$SP" parents --proof 0 --digest --json)
assert_eq "$(echo "$out" | jq -r .digest)" 3da49221e2ed55371b86d0bf3d6526fcf128af61bed904f966428db1b531750d "2KiB V1 table"
assert_eq "$(echo "$out" | jq -r .matches_pinned)" true
out=$("$SP" parents --proof 6 --out "$T/p8m.cache" --json)
assert_eq "$(echo "$out" | jq -r .digest)" 03cd13565ded97c240a5f52e54295ad127bd0461b57904cb3a4d79b097bbecab "8MiB V1_1 table"
assert_eq "$(sha256sum "$T/p8m.cache" | cut -d' ' -f1)" 03cd13565ded97c240a5f52e54295ad127bd0461b57904cb3a4d79b097bbecab "--out file"
assert_eq "$(stat -c %s "$T/p8m.cache")" $((262144 * 56))
assert_eq "$(echo "$out" | jq -r .cache_file)" v28-sdr-parent-5eed212119fd91aa6220a27f31a8966444a9381842bceb3a1ea61525bd47a5b5.cache

# -- labels: create_label/multi.rs test_create_labels -------------------------------------------
last() { "$SP" labels --nodes "$1" --layers 11 --replica-id "$N9" --porep-id "$2" --api "$3" ${4:-} --json | jq -r '.last_labels[10]'; }
assert_eq "$(last 64 "$Z32" 1.0)" 04ba0f9a6ba9fad35e4806d183a281eab3c25afa9a1bd5e3378da6f1f4f46204 "64 nodes API 1.0"
assert_eq "$(last 64 "$N123" 1.1)" cfef0db78bf3b3ab9f1169774d2e7a77bc9054499d954834b51ca7c788110206 "64 nodes API 1.1"
assert_eq "$(last 128 "$Z32" 1.0 --multi)" 86daa8c4521e197e48c1fae6c9a1e85ab894a8883b9f23cebe531ddcd1004c23 "128 nodes API 1.0 multi-core"
assert_eq "$(last 128 "$N123" 1.2)" 6d67c468cf81ab2289c1c9c72fa8777a232de4c1323dc0c6bd552ccc187c770f "128 nodes API 1.2"

# -- pc1 --------------------------------------------------------------------------------------------
pc1() { "$SP" pc1 --sector-id 7 --prover-id f01000 --ticket "$Z32" --parent-cache "$PC" --json "$@"; }
out=$(pc1 --proof 5 --zero --cache "$T/a")
assert_eq "$(echo "$out" | jq -r .comm_d)" fc7e928296e516faade986b28f92d44a4f24b935485223376a799027bc18f833 "empty 2KiB CommD"
rid=$(echo "$out" | jq -r .replica_id)
assert_eq "$(echo "$out" | jq -r '.layers[1]')" "$T/a/sc-02-data-layer-2.dat"
assert_eq "$("$SP" replica-id --proof 5 --prover-id f01000 --sector-id 7 --ticket "$Z32" --comm-d fc7e928296e516faade986b28f92d44a4f24b935485223376a799027bc18f833 --json | jq -r .replica_id)" "$rid" "replica_id"
want=$("$SP" labels --nodes 64 --layers 2 --replica-id "$rid" --porep-id "05$(printf '00%.0s' $(seq 31))" --api 1.1 --json)
for l in 1 2; do
    f="$T/a/sc-02-data-layer-$l.dat"
    assert_eq "$(stat -c %s "$f")" 2048 "layer $l size"
    assert_eq "$(tail -c 32 "$f" | od -An -tx1 -v | tr -d ' \n')" "$(echo "$want" | jq -r ".last_labels[$((l - 1))]")" "layer $l last label"
done
ls "$PC"/v28-sdr-parent-494d91dc80f2df5272c4b9e129bc7ade9405225993af9fe34e6542a39a47554b.cache >/dev/null || fail "parent cache not where it belongs"

# the encoded output names the same replica
assert_contains "$(echo "$out" | jq -r .pc1_output)" "$rid"

# single vs multi-core, 8MiB, and --staged with a given CommD
head -c 8323072 /dev/zero > "$T/staged8m"
CD8=65f29e5d98d246c38b388cfc06db1f6b021303c5a289000bdce832a9c3ec421c
pc1 --proof 6 --staged "$T/staged8m" --comm-d $CD8 --cache "$T/m" >/dev/null
pc1 --proof 6 --zero --cache "$T/s" --single >/dev/null
cmp "$T/m/sc-02-data-layer-1.dat" "$T/s/sc-02-data-layer-1.dat" || fail "layer 1 differs between modes"
cmp "$T/m/sc-02-data-layer-2.dat" "$T/s/sc-02-data-layer-2.dat" || fail "layer 2 differs between modes"

# resume after a crash: the last layer lost, a temporary left behind
cp "$T/s/sc-02-data-layer-2.dat" "$T/l2.ref"
rm "$T/s/sc-02-data-layer-2.dat"
echo partial > "$T/s/sc-02-data-layer-2.dat.tmp"
err=$(pc1 --proof 6 --zero --cache "$T/s" --progress 2>&1 >/dev/null)
assert_contains "$err" "layer 1/2: complete from an earlier run"
cmp "$T/s/sc-02-data-layer-2.dat" "$T/l2.ref" || fail "resumed layer 2 differs"
[ ! -e "$T/s/sc-02-data-layer-2.dat.tmp" ] || fail "temporary left after resume"

# Ctrl-C at some point: only complete layers remain, and a re-run finishes the same files
pc1 --proof 6 --zero --cache "$T/c" >/dev/null 2>&1 &
pid=$!
sleep 0.3
kill -INT $pid 2>/dev/null || true
wait $pid || true
for f in "$T"/c/sc-02-data-layer-*.dat; do
    [ -e "$f" ] || continue
    assert_eq "$(stat -c %s "$f")" 8388608 "complete layer after interrupt"
done
pc1 --proof 6 --zero --cache "$T/c" >/dev/null
cmp "$T/c/sc-02-data-layer-2.dat" "$T/l2.ref" || fail "layer 2 after interrupt and re-run"

# a full disk: a clean ENOSPC error, no half-written layer under its final name
if [ "$(id -u)" = 0 ] && mkdir -p "$T/full" && mount -t tmpfs -o size=12m tmpfs "$T/full" 2>/dev/null; then
    MNT="$T/full"
    if pc1 --proof 6 --zero --cache "$T/full/s" >/dev/null 2>"$T/full.err"; then fail "pc1 succeeded on a full disk"; fi
    assert_contains "$(cat "$T/full.err")" "space"
    assert_eq "$(wc -l < "$T/full.err")" 1 "one error line"
    [ ! -e "$T/full/s/sc-02-data-layer-2.dat" ] || fail "layer 2 exists on a full disk"
    [ ! -e "$T/full/s/sc-02-data-layer-2.dat.tmp" ] || fail "temporary left on a full disk"
    assert_eq "$(stat -c %s "$T/full/s/sc-02-data-layer-1.dat")" 8388608
    umount "$T/full" && MNT=""
else
    echo "full-disk case skipped (needs root to mount a tmpfs)"
fi

# -- bench pc1 --batch: a smoke run of pf_pc1_batch through the bench (2KiB x 3, 8MiB x 2) ----
for run in "2KiB 3" "8MiB 2"; do
    set -- $run
    out=$("$SP" bench pc1 --sector-size "$1" --batch "$2" --parent-cache "$PC" --dir "$T" --json 2>/dev/null) \
        || fail "bench pc1 --sector-size $1 --batch $2"
    for k in batch lanes_per_core hashing_cores compressions_per_s per_sector_compressions_per_s \
             sha256_limit_per_s ratio compressions_per_cpu_s ratio_on_cpu_time lanes_limit_per_s \
             load_average peak_rss_bytes peak_rss_per_sector_bytes single_sector_layers_bytes; do
        echo "$out" | jq -e "has(\"$k\")" >/dev/null || fail "bench pc1 --batch $2 has no $k: $out"
    done
    assert_eq "$(echo "$out" | jq -r .mode)" batch "bench pc1 --batch mode"
    assert_eq "$(echo "$out" | jq -r .batch)" "$2" "bench pc1 batch size"
    echo "$out" | jq -e '.compressions_per_s > 0 and .ratio > 0 and .peak_rss_per_sector_bytes > 0' >/dev/null \
        || fail "bench pc1 --batch $2 rates: $out"
done

# -- bad input: one line on stderr, non-zero exit -------------------------------------------------
bad() {
    if "$SP" "$@" >/dev/null 2>"$T/err"; then fail "accepted: $*"; fi
    assert_eq "$(wc -l < "$T/err")" 1 "one error line for: $*"
    assert_contains "$(cat "$T/err")" "sealproof "
}
bad pc1 --proof 99 --sector-id 1 --prover-id f01000 --ticket "$Z32" --zero --cache "$T/x"
bad pc1 --proof 5 --sector-id 1 --prover-id f01000 --ticket 00 --zero --cache "$T/x"
bad pc1 --proof 5 --sector-id 1 --prover-id f01000 --ticket "$Z32" --cache "$T/x"
bad pc1 --proof 5 --sector-id 1 --prover-id f01000 --ticket "$Z32" --staged "$T/nope" --cache "$T/x"
bad pc1 --proof 5 --sector-id 1 --prover-id f01000 --ticket "$Z32" --zero
bad labels --nodes 1 --layers 2 --replica-id "$N9" --porep-id "$Z32" --api 1.1
bad labels --nodes 64 --layers 2 --replica-id "$N9" --porep-id "$Z32" --api 2.0
bad parents --proof 5 --node 64
bad parents --proof bogus
"$SP" pc1 --help | grep -q "sc-02-data-layer" || fail "pc1 --help"
"$SP" bench pc1 --help | grep -q "compressions" || fail "bench pc1 --help"
echo "sealproof_pc1: all checks passed"
