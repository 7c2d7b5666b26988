#!/bin/bash
# sdr_512mib.sh — slow SDR checks (make test-long): the 512MiB parent tables (896 MiB each)
# against rust-fil-proofs' pinned digests (V1_1 id 7, reproduced by the research model, and
# V1 id 2, not run before), then a 512MiB PC1 whose peak RSS must stay within one layer +
# the parent cache + 10%, labeling identically in single-thread and multi-core mode.
. "${SP_TESTS:-$(dirname "$0")/..}/e2e/lib.sh"

SP="$SP_BIN/sealproof"
PC="$T/parents"

# The bench generates the V1_1 cache into $PC (generation itself refuses a table that
# differs from the pinned digest) and measures PC1.
out=$("$SP" bench pc1 --sector-size 512MiB --parent-cache "$PC" --dir "$T" --json)
echo "$out"
f="$PC/v28-sdr-parent-7ba215a1d2345774ab90b8cb1158d296e409d6068819d7b8c7baf0b25d63dc34.cache"
assert_eq "$(sha256sum "$f" | cut -d' ' -f1)" b5877d1963793efebc261fd8fde4dd6bc59e6b5c7abf52617a4ee023b8dc173a "512MiB V1_1 table"
rss=$(echo "$out" | jq -r .peak_rss_bytes)
budget=$(echo "$out" | jq -r .rss_budget_bytes)
[ "$rss" -le "$budget" ] || fail "peak RSS $rss exceeds one layer + parent cache + 10% ($budget)"
assert_eq "$(echo "$out" | jq -r '.layer_seconds | length')" 2

assert_eq "$("$SP" parents --proof 2 --digest --json | jq -r .digest)" \
    3adcc092423aa76d6a7184016893406da44dd974b219a89cd3ece25e4e3018f5 "512MiB V1 table"

Z32=$(printf '00%.0s' $(seq 32))
for mode in --single ""; do
    "$SP" pc1 --proof 7 --sector-id 1 --prover-id f01000 --ticket "$Z32" --zero --cache "$T/s$mode" \
        --parent-cache "$PC" $mode --json > "$T/out$mode"
done
cmp "$T/s--single/sc-02-data-layer-2.dat" "$T/s/sc-02-data-layer-2.dat" || fail "512MiB layer 2 differs between modes"
rid=$(jq -r .replica_id "$T/out")
[ "$rid" = "$(jq -r .replica_id "$T/out--single")" ] || fail "replica ids differ"
echo "sdr_512mib: all checks passed"
