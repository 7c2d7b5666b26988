#!/bin/bash
# hostile_paths.sh — names and CIDs that could reach the filesystem, and Range headers out
# of bounds, against a real sector-manager with a piece imported, indexed and copied to a
# store.
#  - GET /pieces/<x>, /piece/<x>, /ipfs/<x> (and HEAD) with relative and absolute paths,
#    percent-encoded and double-encoded dots and slashes, backslashes, NUL, a valid CID
#    followed by /.., an absolute path to a canary file, 8 KiB names: 400 or 404, never a
#    byte of a file, never a 500.
#  - Every RPC param that names a store, a piece, a block, a GC target, a store path or a
#    worker's state (manager and worker admin API) given the same strings: refused or not
#    found, never a file touched outside the stores.
#  - Range headers: empty, reversed, past the end, suffixes of 0 and 2^64, numbers past
#    2^64, several ranges, other units, 8 KiB long: each answered with the right status
#    (206 with the right bytes and Content-Range, 416 with "bytes */size", or 400).
#  - A path with %0a in it cannot forge a log line.  The daemon serves throughout.
. "$(dirname "$0")/lib.sh"

SM="$SP_BIN/sector-manager"
SW="$SP_BIN/seal-worker"
command -v jq >/dev/null || { echo "jq is not installed"; exit 77; }

H="$T/home"
mkdir -p "$T/s1" "$T/w"
echo "CANARY-$$-do-not-serve" >"$T/canary"
"$SM" init --home "$H" >/dev/null
cat >"$H/manager.cfg" <<EOF
api = { listen = "127.0.0.1:0"; };
miners = ( { actor = 1000; sizes = [ "2KiB" ]; deals = true; } );
persist_stores = ( { name = "s1"; path = "$T/s1"; tier = "hot"; media = "nvme"; capacity = "1GiB"; } );
storage = { tick = "100ms"; };
EOF
"$SM" run --home "$H" >"$T/manager.log" 2>&1 &
MPID=$!
sp_track $MPID
sp_wait_for 20 test -s "$H/api"
API=$(cat "$H/api")
W=$(cat "$H/worker.token")
A=$(cat "$H/admin.token")
R=$("$SM" auth create-token --scope retrieval --home "$H" | tail -n1)
head -c 1500 /dev/urandom >"$T/p.bin"
CID=$("$SM" pieces import "$T/p.bin" --miner 1000 --home "$H" | tail -n1)
rpc() { # rpc URL TOKEN METHOD PARAMS -> the answer's body
    curl -sS -H "Authorization: Bearer $2" -H 'Content-Type: application/json' \
        --data-binary "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"$3\",\"params\":$4}" "$1"
}
indexed() { rpc "http://$API/rpc/v0" "$A" Sealpipe.PieceBlocks "[\"$CID\"]" | jq -e '.result.Blocks | length > 0' >/dev/null; }
sp_wait_for 30 indexed || fail "piece $CID was not indexed: $(rpc "http://$API/rpc/v0" "$A" Sealpipe.PieceBlocks "[\"$CID\"]")"
BLOCK=$(rpc "http://$API/rpc/v0" "$A" Sealpipe.PieceBlocks "[\"$CID\"]" | jq -r '.result.Blocks[0].CID')

WPORT=$(sp_free_port)
cat >"$T/worker.cfg" <<EOF
worker = { name = "paths"; listen = "127.0.0.1:$WPORT"; };
sector_manager = { url = "http://$API"; token_file = "$H/worker.token"; };
sealing = { allowed_miners = [ 4242 ]; allowed_sizes = [ "2KiB" ]; recover_interval = "5s"; };
sealing_thread = ( { location = "$T/w/t0"; } );
attached = ( { name = "s1"; location = "$T/s1"; } );
processors = { parent_cache = "$T/parents"; };
EOF
"$SW" daemon -c "$T/worker.cfg" >"$T/worker.log" 2>&1 &
WPID=$!
sp_track $WPID
sp_wait_port "$WPORT" 20

# the good answers, to compare with
get() { curl -sS -o "$T/got" -D "$T/hdr" -w '%{http_code}' --path-as-is "$@"; }
assert_eq "$(get -H "Authorization: Bearer $W" "http://$API/pieces/$CID")" 200 "the piece"
cmp -s "$T/got" "$T/p.bin" || fail "the piece's bytes"
assert_eq "$(get -H "Authorization: Bearer $R" "http://$API/piece/$CID")" 200 "the piece by retrieval"
assert_eq "$(get -H "Authorization: Bearer $R" "http://$API/ipfs/$BLOCK")" 200 "the block"
cmp -s "$T/got" "$T/p.bin" || fail "the block's bytes (a 1500-byte raw piece is one block)"

# ---- hostile names in URLs ---------------------------------------------------------------
LONG=$(head -c 8192 /dev/zero | tr '\0' 'b')
NAMES=(
    "../manager.cfg" "../../../../../../etc/passwd" "/etc/passwd" "//etc/passwd" "$T/canary" "/$T/canary"
    "..%2fmanager.cfg" "%2e%2e%2fmanager.cfg" "%2e%2e/%2e%2e/token.secret" "%252e%252e%252fmanager.cfg"
    "..%5c..%5cmanager.cfg" "..\\..\\manager.cfg" "....//....//etc/passwd" "%2fetc%2fpasswd"
    "$CID/../../manager.cfg" "$CID/.." "$CID/" "./$CID" "$CID%00" "$CID%00.cfg" "$CID%0a" "${CID}x"
    "$(echo "$CID" | tr 'a-z' 'A-Z')" "." ".." "%2e" "%2e%2e" "$LONG"
    "$BLOCK/../$CID" "$BLOCK/../../../home/manager.cfg" "unsealed/$CID" "../s1/unsealed/$CID"
)
leaked() { grep -qaE "CANARY|root:|miners|api = |[0-9a-f]{64}" "$T/got" || cmp -s "$T/got" "$T/p.bin"; }
for route in pieces piece ipfs; do
    tok=$W
    [ "$route" = pieces ] || tok=$R
    for name in "${NAMES[@]}"; do
        for m in GET HEAD; do
            if [ "$m" = HEAD ]; then
                code=$(get -I -H "Authorization: Bearer $tok" "http://$API/$route/$name")
            else
                code=$(get -H "Authorization: Bearer $tok" "http://$API/$route/$name")
            fi
            case "$code" in 400|404) ;; *) fail "$m /$route/${name:0:80} answered $code: $(head -c 200 "$T/got")";; esac
            [ "$m" = HEAD ] || ! leaked || fail "$m /$route/${name:0:80} leaked bytes: $(head -c 100 "$T/got")"
        done
    done
done
# a query naming a file is not a path either
code=$(get -H "Authorization: Bearer $R" "http://$API/ipfs/$BLOCK?format=../../manager.cfg")
assert_eq "$code" 400 "ipfs ?format=../.."
code=$(get -H "Authorization: Bearer $R" "http://$API/ipfs/$BLOCK?filename=/etc/passwd")
case "$code" in 200) cmp -s "$T/got" "$T/p.bin" || fail "ipfs ?filename= served other bytes";; 400) ;; *) fail "ipfs ?filename= answered $code";; esac

# ---- hostile names in RPC params --------------------------------------------------------------
BAD=("../s1" "s1/../s1" "../../../../etc/passwd" "/etc/passwd" "$T/canary" "." ".." "s1/" "s1\\\\x" "s 1")
code_of() { jq -r '.error.code // "ok"'; }
# refused TOKEN METHOD PARAMS: an error (any code but internal) or a null result
refused() {
    local out c
    out=$(rpc "http://$API/rpc/v0" "$1" "$2" "$3")
    c=$(echo "$out" | code_of) || fail "$2 $3: not JSON: $out"
    case "$c" in -32603) fail "$2 $3: internal error: $out";; ok)
        [ "$(echo "$out" | jq -c .result)" = null ] || fail "$2 $3 was accepted: $out";; esac
}
for b in "${BAD[@]}"; do
    j=$(jq -cn --arg s "$b" '$s')
    refused "$A" Sealpipe.StorageAttach "[{\"Name\":$j,\"Path\":\"$T/w\"}]"
    refused "$A" Sealpipe.StorageDetach "[$j]"
    refused "$A" Sealpipe.StorageSetWeight "[$j,2]"
    refused "$A" Sealpipe.StorageRedeclare "[$j]"
    refused "$A" Sealpipe.StorageJobStart "[{\"Kind\":\"redeclare\",\"Store\":$j}]"
    refused "$A" Sealpipe.PieceShow "[$j]"
    refused "$A" Sealpipe.PieceBlocks "[$j]"
    refused "$A" Sealpipe.IndexRebuild "[$j]"
    refused "$A" Sealpipe.BlockStat "[$j]"
    refused "$A" Sealpipe.PieceImport "[{\"PieceCID\":$j,\"PayloadSize\":1500,\"PaddedSize\":2048,\"Miner\":1000}]"
    refused "$A" Sealpipe.GCPin "[$j]"
    refused "$A" Sealpipe.GCPin "[$(jq -cn --arg s "orphan:s1/$b" '$s')]"
    refused "$A" Sealpipe.GCPin "[$(jq -cn --arg s "orphan:$b/x" '$s')]"
    refused "$W" Venus.StoreBasicInfo "[$j]"
    refused "$W" Venus.StoreReserveSpace "[{\"Miner\":1000,\"Number\":0},2048,[$j]]"
    refused "$W" Venus.SubmitPersistedEx "[{\"Miner\":1000,\"Number\":0},$j,false]"
    refused "$W" Venus.AcquireUnsealDest "[{\"Miner\":1000,\"Number\":0},{\"/\":$j},[\"s1\"]]"
    refused "$W" Venus.AchieveUnsealSector "[{\"Miner\":1000,\"Number\":0},{\"/\":$j},\"\"]"
    out=$(rpc "http://127.0.0.1:$WPORT/rpc/v0" "$W" Worker.ThreadsResume "[0,$j]")
    [ "$(echo "$out" | code_of)" != ok ] || fail "Worker.ThreadsResume [0,$j] accepted: $out"
done
# store paths over RPC: relative, with dot-dots, a file, a device, too long
for p in "relative/dir" "../.." "./s1" "$T/canary" "/dev/null" "$T/nope/../s1x" "/$LONG"; do
    refused "$A" Sealpipe.StorageAttach "[{\"Name\":\"evil\",\"Path\":$(jq -cn --arg s "$p" '$s')}]"
done
# a worker's location is a label: stored as given, never opened
out=$(rpc "http://$API/rpc/v0" "$W" Venus.AllocateSector '[]')
N=$(echo "$out" | jq -r .result.ID.Number)
out=$(rpc "http://$API/rpc/v0" "$W" Venus.ReportState "[{\"Miner\":1000,\"Number\":$N},{\"Worker\":{\"Instance\":\"../../etc\",\"Location\":\"../../../../etc/passwd\"},\"StateChange\":{\"Next\":\"Allocated\"}}]")
assert_eq "$(echo "$out" | code_of)" ok "a report with a path as location: $out"
[ -z "$(find "$T" -name passwd -o -name 'evil*' -o -name '*.cfg.part')" ] || fail "files appeared: $(find "$T" -name passwd -o -name 'evil*')"
grep -q "do-not-serve" "$T/canary" || fail "the canary changed"
[ "$(rpc "http://$API/rpc/v0" "$A" Sealpipe.StorageList '[]' | jq -r '[.result[].Name] | join(",")')" = s1 ] ||
    fail "a store was attached: $(rpc "http://$API/rpc/v0" "$A" Sealpipe.StorageList '[]')"

# ---- Range headers ----------------------------------------------------------------------------
# rng URL TOKEN RANGE WANT-STATUS [FIRST LAST]: checks the status, and for 206 the bytes and
# Content-Range; for 416 the Content-Range "bytes */1500"
rng() {
    local code cr
    code=$(get -H "Authorization: Bearer $2" -H "Range: $3" "$1")
    assert_eq "$code" "$4" "Range: ${3:0:60} on $1"
    cr=$(tr -d '\r' <"$T/hdr" | awk -F': ' 'tolower($1) == "content-range" { print $2 }')
    case "$4" in
    206) assert_eq "$cr" "bytes $5-$6/1500" "Content-Range of ${3:0:60}"
         cmp -s "$T/got" <(tail -c +"$(($5 + 1))" "$T/p.bin" | head -c "$(($6 - $5 + 1))") || fail "bytes of ${3:0:60}" ;;
    416) assert_eq "$cr" "bytes */1500" "Content-Range of 416 for ${3:0:60}" ;;
    esac
}
for url in "http://$API/pieces/$CID" "http://$API/piece/$CID"; do
    tok=$W
    case "$url" in */piece/*) tok=$R ;; esac
    rng "$url" "$tok" "bytes=0-0" 206 0 0
    rng "$url" "$tok" "bytes=1499-1499" 206 1499 1499
    rng "$url" "$tok" "bytes=1499-99999999" 206 1499 1499
    rng "$url" "$tok" "bytes=-1" 206 1499 1499
    rng "$url" "$tok" "bytes=-99999" 206 0 1499
    rng "$url" "$tok" "bytes=0-18446744073709551615" 206 0 1499
    rng "$url" "$tok" "bytes=1500-" 416
    rng "$url" "$tok" "bytes=1500-1500" 416
    rng "$url" "$tok" "bytes=18446744073709551615-" 416
    rng "$url" "$tok" "bytes=-0" 416
    rng "$url" "$tok" "bytes=5-3" 400
    # numbers past 2^64 saturate: a last byte past the end is the end (RFC 9110 14.1.2)
    rng "$url" "$tok" "bytes=0-99999999999999999999999" 206 0 1499
    rng "$url" "$tok" "bytes=99999999999999999999999-" 416
    rng "$url" "$tok" "bytes=-18446744073709551616" 206 0 1499
    rng "$url" "$tok" "bytes=" 400
    rng "$url" "$tok" "bytes=-" 400
    rng "$url" "$tok" "bytes=--1" 400
    rng "$url" "$tok" "bytes=0--1" 400
    rng "$url" "$tok" "bytes=a-b" 400
    rng "$url" "$tok" "bytes=0x10-0x20" 400
    rng "$url" "$tok" "bytes=0-1,3-4" 400
    rng "$url" "$tok" "bytes=0-1,0-1,0-1,0-1,0-1,0-1,0-1,0-1,0-1,0-1,0-1" 400
    rng "$url" "$tok" "bytes=$(seq -s, 0 2 2000 | sed 's/\([0-9]*\)/\1-\1/g')" 400
    rng "$url" "$tok" "bytes=+1-2" 400
    rng "$url" "$tok" "items=0-1" 400
done

# ---- logs: a %0a in a path does not start a line; no token, no secret --------------------------
get "http://$API/pieces/x%0a2026-01-01T00:00:00.000Z%20ERROR%20sector-manager:%20forged" >/dev/null || true
grep -q "^2026-01-01T00:00:00.000Z ERROR sector-manager: forged" "$T/manager.log" && fail "a request forged a log line"
kill -0 "$MPID" 2>/dev/null || fail "the manager died"
kill -0 "$WPID" 2>/dev/null || fail "the worker died"
for t in "$W" "$A" "$R" "$(cat "$H/token.secret")"; do
    grep -qF "$t" "$T/manager.log" "$T/worker.log" && fail "a token or the secret appeared in a log"
done
echo "hostile paths and ranges: ${#NAMES[@]} names x 3 routes, ${#BAD[@]} names x 20 params, 25 ranges x 2 routes; ok"
