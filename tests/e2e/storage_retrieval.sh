#!/bin/bash
# storage_retrieval.sh — deal data from import to retrieval on a real sector-manager:
# a CAR file (the IPLD carv1-basic fixture) and a 2.5 MB raw file are imported as deals,
# indexed (CAR blocks by CID with their fixture offsets, raw data as 1 MiB blocks),
# replicated to two hot stores in different racks, and sealed into a 2KiB and an 8MiB
# sector by a scripted worker (real seals, C1/C2, Proving).  Then every block is fetched
# by CID and compared with the source bytes through every cache level — cold (from the
# hot tier), L1 hit, and after a restart L2 hit then L1 hit — counted by /metrics; every
# piece by Range; a CAR answer; tokens and scopes (retrieval, worker, none, bad CIDs).
# Finally every copy of the raw piece is deleted: /piece answers 503 with Retry-After, a
# scripted unseal worker takes the task (Venus.AllocateUnsealSector, AcquireUnsealDest),
# unseals with `sealproof unseal` from the persisted sealed sector, reports it
# (AchieveUnsealSector); the manager verifies the CommP and serves the bytes again, and
# the reconciler restores the second hot copy.  Walks of both pieces in Range requests (one
# client; two clients splitting one piece, twice; ranges asked past the end), which the
# manager reads ahead of, return the files' bytes, also for a walk whose copies are removed
# (503) or replaced by the unsealed file meanwhile.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/storage_lib.sh"

mkdir -p "$T/hot1" "$T/hot2" "$T/warm1"
st_init "persist_stores = (
  { name = \"hot1\"; path = \"$T/hot1\"; tier = \"hot\"; media = \"nvme\"; domain = \"rack-a/h1\"; allow_types = [ \"unsealed\" ]; },
  { name = \"hot2\"; path = \"$T/hot2\"; tier = \"hot\"; media = \"nvme\"; domain = \"rack-b/h1\"; allow_types = [ \"unsealed\" ]; },
  { name = \"warm1\"; path = \"$T/warm1\"; tier = \"warm\"; domain = \"rack-c/h1\"; } );
storage = { tick = \"100ms\"; health = { interval = \"300ms\"; }; reconcile = { interval = \"500ms\"; };
  scrub = { light_every = \"0\"; deep_every = \"0\"; }; gc = { mark_every = \"0\"; };
  cache = { l1_size = \"32MiB\"; l2_size = \"64MiB\"; }; retrieval = { retry_after = \"2s\"; }; };"
st_start

CAR="$SP_TESTS/vectors/car/carv1-basic.car"
head -c 2500000 /dev/urandom >"$T/raw.bin"
CAR_CID=$(st_import "$CAR")
RAW_CID=$(st_import "$T/raw.bin")
case "$CAR_CID$RAW_CID" in baga6ea4sea*baga6ea4sea*) ;; *) fail "import printed no piece CIDs";; esac

# ---- indexed and replicated ----
sp_wait_for 20 indexed "$CAR_CID" done
sp_wait_for 20 indexed "$RAW_CID" done
PJ=$(piece_json "$CAR_CID")
assert_eq "$(echo "$PJ" | jq -r .Index.Kind)" "car" "CAR piece indexed as a CAR"
assert_eq "$(echo "$PJ" | jq -r .Index.Blocks)" "8" "8 blocks in carv1-basic"
assert_eq "$(echo "$PJ" | jq -r .Index.Roots)" \
    "bafyreihyrpefhacm6kkp4ql6j6udakdit7g3dmkzfriqfykhjw6cad5lrm bafyreidj5idub6mapiupjwjsyyxhyhedxycv4vihfsicm2vt46o7morwlm" "CAR roots"
# every block where the fixture says it is
jq -r '.blocks[] | "\(.cid["/"]) \(.blockOffset) \(.blockLength)"' "$SP_TESTS/vectors/car/carv1-basic.json" >"$T/car.blocks"
while read -r cid off len; do
    got=$(echo "$PJ" | jq -r --arg c "$cid" '.Blocks[] | select(.CID == $c or .CID == ($c | ascii_downcase)) | "\(.Offset) \(.Length)"')
    [ -n "$got" ] || {
        # a CIDv0 is listed as its CIDv1 (same multihash): compare by offset instead
        got=$(echo "$PJ" | jq -r --argjson o "$off" '.Blocks[] | select(.Offset == $o) | "\(.Offset) \(.Length)"')
    }
    assert_eq "$got" "$off $len" "index entry of $cid"
done <"$T/car.blocks"
RJ=$(piece_json "$RAW_CID")
assert_eq "$(echo "$RJ" | jq -r .Index.Kind)" "raw" "raw piece"
assert_eq "$(echo "$RJ" | jq -c '[.Blocks[] | [.Offset, .Length]]')" "[[0,1048576],[1048576,1048576],[2097152,402848]]" "1 MiB raw blocks"
echo "$RJ" | jq -r '.Blocks[] | "\(.CID) \(.Offset) \(.Length)"' >"$T/raw.blocks"
sp_wait_for 30 copies_ok "$CAR_CID" 2
sp_wait_for 30 copies_ok "$RAW_CID" 2
assert_eq "$(piece_json "$RAW_CID" | jq -r '[.Copies[] | select(.Store != "") | .Store] | sort | join(",")')" "hot1,hot2" \
    "two hot copies in two racks, none on warm"
cmp "$T/hot1/unsealed/$RAW_CID" "$T/raw.bin" || fail "hot1 copy differs"
cmp "$T/hot2/unsealed/$CAR_CID" "$CAR" || fail "hot2 copy differs"

# ---- seal both deals: sector 0 (2KiB) takes the CAR, sector 1 (8MiB) the raw file ----
assert_eq "$(call Venus.AllocateSector '[{"AllowedMiners":[1000],"AllowedProofTypes":[5]}]' .ID.Number)" "0" "2KiB sector"
assert_eq "$(call Venus.AllocateSector '[{"AllowedMiners":[1000],"AllowedProofTypes":[6]}]' .ID.Number)" "1" "8MiB sector"
assert_eq "$(call Venus.AcquireDeals "[$(sid 0),null]" '.[0].Piece.PieceCID["/"]')" "$CAR_CID" "CAR in sector 0"
assert_eq "$(call Venus.AcquireDeals "[$(sid 1),null]" '.[0].Piece.PieceCID["/"]')" "$RAW_CID" "raw in sector 1"
for n in 0 1; do
    report "$n" Allocated DealsAcquired
    report "$n" DealsAcquired PieceAdded
    report "$n" PieceAdded TreeDBuilt
done
st_seal 0 5 StackedDrg2KiBV1_1 "$CAR"
st_seal 1 6 StackedDrg8MiBV1_1 "$T/raw.bin"
assert_eq "$STORE_0 $STORE_1" "warm1 warm1" "sealed sectors go to the warm tier (policy sealed: warm = 1)"
assert_eq "$("$SM" sectors list --json --home "$H" | jq -r '[.[] | .State] | join(",")')" "Proving,Proving" "both sealed"

# ---- every block by CID: cold, then L1 ----
fetch_all() {
    local cid off len
    while read -r cid off len; do
        assert_eq "$(get_block "$cid" "$T/b")" "200" "GET /ipfs/$cid"
        cmp -s "$T/b" <(tail -c +"$((off + 1))" "$CAR" | head -c "$len") || fail "block $cid differs from the CAR's bytes"
    done <"$T/car.blocks"
    while read -r cid off len; do
        assert_eq "$(get_block "$cid" "$T/b")" "200" "GET /ipfs/$cid"
        cmp -s "$T/b" <(tail -c +"$((off + 1))" "$T/raw.bin" | head -c "$len") || fail "block $cid differs from the file"
    done <"$T/raw.blocks"
}
N=11
fetch_all
assert_eq "$(metric 'sealpipe_retrieval_served_total{source="hot"}')" "$N" "cold: every block read from the hot tier"
assert_eq "$(metric 'sealpipe_retrieval_cache_hits_total{level="l1"}')" "0" "cold: no L1 hit"
assert_eq "$(metric 'sealpipe_retrieval_cache_hits_total{level="l2"}')" "0" "cold: no L2 hit"
assert_eq "$(metric 'sealpipe_retrieval_cache_misses_total{level="l2"}')" "$N" "cold: L2 missed"
fetch_all
assert_eq "$(metric 'sealpipe_retrieval_cache_hits_total{level="l1"}')" "$N" "second pass: every block from L1"
assert_eq "$(metric 'sealpipe_retrieval_served_total{source="hot"}')" "$N" "second pass: nothing read from a store"
[ "$(metric 'sealpipe_storage_cache_entries{level="l2"}')" = "$N" ] || fail "L2 holds the blocks"

# ---- after a restart: L2, then L1 ----
st_stop
st_start
fetch_all
assert_eq "$(metric 'sealpipe_retrieval_cache_hits_total{level="l2"}')" "$N" "after a restart: every block from L2"
assert_eq "$(metric 'sealpipe_retrieval_served_total{source="hot"}')" "0" "after a restart: nothing read from a store"
fetch_all
assert_eq "$(metric 'sealpipe_retrieval_cache_hits_total{level="l1"}')" "$N" "then from L1"

# ---- a CAR of one block, the CLI ----
read -r cid off len < <(sed -n 3p "$T/car.blocks")
code=$(curl -sS -o "$T/one.car" -w '%{http_code} %{content_type}' -H "Authorization: Bearer $ATOKEN" "http://$API/ipfs/$cid?format=car")
assert_eq "$code" "200 application/vnd.ipld.car; version=1" "format=car"
cmp -s <(tail -c "$len" "$T/one.car") <(tail -c +"$((off + 1))" "$CAR" | head -c "$len") || fail "the CAR's block"
code=$(curl -sS -o "$T/one2.car" -w '%{http_code}' -H "Authorization: Bearer $ATOKEN" -H 'Accept: application/vnd.ipld.car' "http://$API/ipfs/$cid")
cmp -s "$T/one.car" "$T/one2.car" || fail "Accept: application/vnd.ipld.car"
read -r cid off len < <(sed -n 2p "$T/raw.blocks")
"$SM" blocks get "$cid" --out "$T/cli.bin" --home "$H" 2>/dev/null
cmp -s "$T/cli.bin" <(tail -c +"$((off + 1))" "$T/raw.bin" | head -c "$len") || fail "blocks get"
ST=$("$SM" blocks stat "$cid" --home "$H")
assert_contains "$ST" "piece $RAW_CID offset 1048576 length 1048576"
assert_contains "$ST" "sector s-t01000-1 (Sealed)"
assert_contains "$ST" "cached: L1 yes, L2 yes"
SHOW=$("$SM" pieces show "$CAR_CID" --home "$H")
assert_contains "$SHOW" "index: done, car, 8 blocks"
assert_contains "$SHOW" "hot1             hot         ok"
assert_contains "$SHOW" "dag-pb    offset 228        length 97"

# ---- pieces by range ----
range() { # range CID FILE RANGE -> compares the answer with the file's bytes
    local code first last
    code=$(curl -sS -o "$T/r" -w '%{http_code}' -H "Authorization: Bearer $ATOKEN" -H "Range: bytes=$3" "http://$API/piece/$1")
    assert_eq "$code" "206" "range $3 of $1"
    first=${3%-*}; last=${3#*-}
    [ -z "$last" ] && last=$(($(stat -c %s "$2") - 1))
    cmp -s "$T/r" <(tail -c +"$((first + 1))" "$2" | head -c "$((last - first + 1))") || fail "range $3 differs"
}
for r in 0-99 137-191 600-714 700-; do range "$CAR_CID" "$CAR" "$r"; done
for r in 0-0 1048570-1048600 1000000-2000000 2499990-; do range "$RAW_CID" "$T/raw.bin" "$r"; done
code=$(curl -sS -o "$T/whole" -w '%{http_code}' -H "Authorization: Bearer $ATOKEN" "http://$API/piece/$RAW_CID")
assert_eq "$code" "200" "whole piece"
cmp "$T/whole" "$T/raw.bin" || fail "whole piece differs"
code=$(curl -sS -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $ATOKEN" -H "Range: bytes=715-" "http://$API/piece/$CAR_CID")
assert_eq "$code" "416" "range past the end"
code=$(curl -sS -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $ATOKEN" -H "Range: bytes=0-1,5-6" "http://$API/piece/$CAR_CID")
assert_eq "$code" "400" "several ranges"

# ---- walks in ranges: the manager reads ahead of them (sm_prefetch.h); only bytes count ----
fetch_ranges() { # fetch_ranges CID SIZE STEP FIRST STRIDE OUT: ranges FIRST, FIRST+STRIDE, ... of
    # STEP bytes (the last one asked past the end), each written to OUT at its offset
    local i=$4 n=$((($2 + $3 - 1) / $3)) code last
    while [ "$i" -lt "$n" ]; do
        code=$(curl -sS -o "$6.$i" -D "$6.$i.h" -w '%{http_code}' -H "Authorization: Bearer $ATOKEN" \
            -H "Range: bytes=$((i * $3))-$(((i + 1) * $3 - 1))" "http://$API/piece/$1")
        [ "$code" = 206 ] || { echo "range $i of $1: HTTP $code" >>"$6.err"; return 1; }
        last=$(((i + 1) * $3 - 1)); [ "$last" -ge "$2" ] && last=$(($2 - 1))
        grep -qi "^Content-Range: bytes $((i * $3))-$last/$2" "$6.$i.h" ||
            { echo "range $i of $1: $(grep -i '^Content-Range' "$6.$i.h")" >>"$6.err"; return 1; }
        dd if="$6.$i" of="$6" bs="$3" seek="$i" conv=notrunc status=none
        rm -f "$6.$i" "$6.$i.h"
        i=$((i + $5))
    done
}
RAW_SIZE=$(stat -c %s "$T/raw.bin")
# one client, 256 KiB ranges in order, the last one asked past the end of the piece
rm -f "$T/walk" "$T/walk.err"
fetch_ranges "$RAW_CID" "$RAW_SIZE" 262144 0 1 "$T/walk" || fail "$(cat "$T/walk.err")"
cmp "$T/walk" "$T/raw.bin" || fail "a walk in 256 KiB ranges differs from the file"
# /metrics counts the walk: a stream started, the later ranges continued it, bytes read ahead
ra_started=$(metric 'sealpipe_retrieval_readahead_requests_total{result="started"}')
ra_continued=$(metric 'sealpipe_retrieval_readahead_requests_total{result="continued"}')
ra_bytes=$(metric sealpipe_retrieval_readahead_bytes_total)
[ "${ra_started%.*}" -ge 1 ] || fail "read-ahead streams started: $ra_started"
[ "${ra_continued%.*}" -ge 1 ] || fail "read-ahead requests continued: $ra_continued"
[ "${ra_bytes%.*}" -gt 0 ] || fail "read-ahead bytes: $ra_bytes"
code=$(curl -sS -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $ATOKEN" -H "Range: bytes=$RAW_SIZE-" "http://$API/piece/$RAW_CID")
assert_eq "$code" "416" "a range past the end, right after a walk to it"
range "$RAW_CID" "$T/raw.bin" "$((RAW_SIZE - 1))-"
# two clients splitting the piece (even and odd 128 KiB ranges) at the same time, twice:
# the second pass starts over while the first one's read-ahead stream is still open
for pass in 1 2; do
    rm -f "$T/split" "$T/split.err"
    fetch_ranges "$RAW_CID" "$RAW_SIZE" 131072 0 2 "$T/split" & A=$!
    fetch_ranges "$RAW_CID" "$RAW_SIZE" 131072 1 2 "$T/split" & B=$!
    wait "$A" || fail "client A: $(cat "$T/split.err")"
    wait "$B" || fail "client B: $(cat "$T/split.err")"
    cmp "$T/split" "$T/raw.bin" || fail "pass $pass: two interleaved clients' ranges differ from the file"
done
# and the CAR piece in small ranges meanwhile: another file, another stream
rm -f "$T/cwalk" "$T/cwalk.err"
fetch_ranges "$CAR_CID" "$(stat -c %s "$CAR")" 100 0 1 "$T/cwalk" || fail "$(cat "$T/cwalk.err")"
cmp "$T/cwalk" "$CAR" || fail "the CAR piece in 100-byte ranges"

# ---- tokens, scopes and hostile names ----
RTOKEN=$("$SM" auth create-token --scope retrieval --home "$H" | tail -n1)
read -r cid off len < <(head -n1 "$T/car.blocks")
assert_eq "$(get_block "$cid" "$T/b" "$RTOKEN")" "200" "a retrieval token retrieves"
assert_eq "$(rpc "$RTOKEN" Sealpipe.Version '[]' | jq -r .error.code)" "-32002" "a retrieval token calls no RPC method"
assert_eq "$(get_block "$cid" "$T/b" "$WTOKEN")" "200" "a worker token retrieves"
assert_eq "$(curl -sS -o /dev/null -w '%{http_code}' "http://$API/ipfs/$cid")" "401" "no token"
assert_eq "$(curl -sS -o /dev/null -w '%{http_code}' -H "Authorization: Bearer x.y.z" "http://$API/ipfs/$cid")" "401" "bad token"
for bad in "..%2F..%2Fetc%2Fpasswd" "bafkrei" "Qm..%2F" "$cid%2Fextra" "zzzz" "$cid?format=json"; do
    assert_eq "$(curl -sS -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $ATOKEN" "http://$API/ipfs/$bad")" "400" "bad request $bad"
done
for bad in "..%2F..%2Fetc%2Fpasswd" "$cid" "BAGA6EA4SEAQF5LNBG4I7PZVOGHQ56BLHQTJRXPB5MNIKTUFLLMWEH3Z6S6UVMOQ"; do
    assert_eq "$(curl -sS -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $ATOKEN" "http://$API/piece/$bad")" "400" "bad piece $bad"
done
assert_eq "$(get_block bafkreifuosuzujyf4i6psbneqtwg2fhplc2wxptc5euspa2gn3bwhnihfu "$T/b")" "404" "a block no piece holds"

# ---- every copy gone: 503, an unseal task, a scripted unseal worker, served again ----
# Right after a walk: the piece's pages are cached and a read-ahead stream holds its file
# open; a copy removed meanwhile must still answer 503, never the cached bytes.
rm -f "$T/walk" "$T/walk.err"
fetch_ranges "$RAW_CID" "$RAW_SIZE" 524288 0 1 "$T/walk" || fail "$(cat "$T/walk.err")"
cmp "$T/walk" "$T/raw.bin" || fail "a walk in 512 KiB ranges differs from the file"
rm -f "$T/hot1/unsealed/$RAW_CID" "$T/hot2/unsealed/$RAW_CID" "$H/pieces/$RAW_CID"
code=$(curl -sS -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $ATOKEN" -H "Range: bytes=524288-1048575" "http://$API/piece/$RAW_CID")
assert_eq "$code" "503" "the next range of a walk once every copy is gone"
hdr=$(curl -sS -o /dev/null -D - -H "Authorization: Bearer $ATOKEN" "http://$API/piece/$RAW_CID")
assert_contains "$hdr" "HTTP/1.1 503"
assert_contains "$hdr" "Retry-After: 2"
PJ=$(piece_json "$RAW_CID")
assert_eq "$(echo "$PJ" | jq -r '[.Copies[] | .State] | join(",")')" "missing,missing" "both copies flagged missing"
assert_eq "$(echo "$PJ" | jq -r '.Unseal[0].State')" "queued" "an unseal task is queued"
info=$(call Venus.AllocateUnsealSector '[{"AllowedMiners":[1000],"AllowedProofTypes":null}]')
assert_eq "$(echo "$info" | jq -c .Sector)" '{"ID":{"Miner":1000,"Number":1},"ProofType":6}' "the raw piece's sector"
assert_eq "$(echo "$info" | jq -r '.PieceCid["/"]')" "$RAW_CID" "unseal the raw piece"
assert_eq "$(echo "$info" | jq -r '"\(.Offset) \(.Size) \(.PrivateInfo.AccessInstance)"')" "0 4161536 warm1" "offset, unpadded size, store"
assert_eq "$(call Venus.AllocateUnsealSector '[null]')" "null" "one task, handed out once"
dest=$(call Venus.AcquireUnsealDest "[$(sid 1),{\"/\":\"$RAW_CID\"}]" '.[0]')
case "$dest" in store://hot1/unsealed/$RAW_CID|store://hot2/unsealed/$RAW_CID) ;; *) fail "unseal destination: $dest";; esac
dstore=${dest#store://}; dstore=${dstore%%/*}
"$SEALPROOF" unseal --proof 6 --sector-id 1 --prover-id f01000 \
    --ticket "$(b64hex "$(echo "$info" | jq -r .Ticket.Ticket)")" --comm-d "$(arrhex "$(echo "$info" | jq -c .CommD)")" \
    --cache "$T/warm1/cache/s-t01000-1" --sealed "$T/warm1/sealed/s-t01000-1" --offset 0 --length 4161536 \
    --out "$T/$dstore/unsealed/$RAW_CID" --json >/dev/null || fail "sealproof unseal"
hdr=$(curl -sS -o /dev/null -D - -H "Authorization: Bearer $ATOKEN" "http://$API/piece/$RAW_CID")
assert_contains "$hdr" "HTTP/1.1 503"
call Venus.AchieveUnsealSector "[$(sid 1),{\"/\":\"$RAW_CID\"},\"\"]" >/dev/null
served() { [ "$(curl -sS -o "$T/back" -w '%{http_code}' -H "Authorization: Bearer $ATOKEN" "http://$API/piece/$RAW_CID")" = 200 ]; }
sp_wait_for 20 served
cmp "$T/back" "$T/raw.bin" || fail "unsealed bytes differ from the imported file"
# a new file at the same path: a walk reads it, not what a stream of the old one cached
rm -f "$T/walk" "$T/walk.err"
fetch_ranges "$RAW_CID" "$RAW_SIZE" 524288 0 1 "$T/walk" || fail "$(cat "$T/walk.err")"
cmp "$T/walk" "$T/raw.bin" || fail "a walk of the unsealed copy differs from the file"
cmp "$T/$dstore/unsealed/$RAW_CID" "$T/raw.bin" || fail "the replica was trimmed to the payload"
assert_eq "$(piece_json "$RAW_CID" | jq -r '.Unseal[0].State')" "done" "unseal task done"
sp_wait_for 30 copies_ok "$RAW_CID" 2
[ "$(metric 'sealpipe_retrieval_failures_total{reason="unavailable"}')" -ge 2 ] || fail "503s counted"
assert_contains "$(grep -c 'CommP verified' "$T/manager.log")" "1"

# ---- index rebuild re-derives the index from the stored copies (no piece store file left) ----
IR=$("$SM" index rebuild --json --home "$H")
assert_eq "$(echo "$IR" | jq .Pieces)" "2" "two pieces reindexed"
assert_eq "$(echo "$IR" | jq -r '[.JobReport.Pieces[] | "\(.State):\(.Kind):\(.Blocks)"] | sort | join(" ")')" "done:car:8 done:raw:3" \
    "the rebuilt index"
assert_eq "$(echo "$IR" | jq -r '[.JobReport.Pieces[] | select(.PieceCID == "'"$RAW_CID"'") | .Source] | .[0]' | cut -c1-3)" "hot" \
    "the raw piece reindexed from a hot replica"
read -r cid off len < <(sed -n 3p "$T/raw.blocks")
assert_eq "$(get_block "$cid" "$T/b")" "200" "served after the rebuild"

# ---- clean stop ----
st_stop
grep -q "$ATOKEN" "$T/manager.log" && fail "a token appeared in the log"
grep -q "$RTOKEN" "$T/manager.log" && fail "a token appeared in the log"
echo "storage retrieval: ok"
