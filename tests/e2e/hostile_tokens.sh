#!/bin/bash
# hostile_tokens.sh — every kind of bad token against every authenticated route of both
# daemons, the files that hold secrets, and the logs.
#  - Manager routes: a worker method, an admin method, an unseal method (worker scope
#    only), /pieces/, /piece/, /ipfs/.  Tokens: worker, admin, retrieval (each on the
#    routes of its scope and refused elsewhere with "forbidden"), none, empty, another
#    scheme, another home's, expired, one character changed in each part, an admin payload
#    under a worker signature, and tokens correctly signed with the home's secret (openssl)
#    but claiming alg none/HS512/nothing, scopes "root", a string instead of a list, an
#    empty list, an exp that is a string or in the past, 16 KB and 100 KB long.  Each gets
#    401 (431 for a header past the server's limit; 403 / -32002 for a valid token of the
#    wrong scope) and the daemon serves the next good request.  No answer echoes the token.
#  - The worker's admin API takes only its own token: the manager's admin token, a prefix,
#    an extension, one changed character are refused.
#  - Files: after `init` (also under umask 000) the home is 0700 and token.secret,
#    admin.token, worker.token are 0600; a manager refuses to run with a secret others can
#    read.
#  - No token (good or bad) and not the secret appears in either daemon's log; refusals are
#    logged with the peer.
. "$(dirname "$0")/lib.sh"

SM="$SP_BIN/sector-manager"
SW="$SP_BIN/seal-worker"
command -v jq >/dev/null || { echo "jq is not installed"; exit 77; }
command -v openssl >/dev/null || { echo "openssl is not installed (signs forged claims)"; exit 77; }

# ---- files holding secrets ----------------------------------------------------------------
mode() { stat -c %a "$1"; }
for mask in 022 000 077; do
    (umask $mask && "$SM" init --home "$T/m$mask" >/dev/null) || fail "init under umask $mask"
    assert_eq "$(mode "$T/m$mask")" 700 "home under umask $mask"
    for f in token.secret admin.token worker.token; do
        assert_eq "$(mode "$T/m$mask/$f")" 600 "$f under umask $mask"
    done
done
H="$T/m000"
chmod 0644 "$H/token.secret"
out=$("$SM" run --home "$H" 2>&1) && fail "the manager ran with a world-readable secret"
assert_contains "$out" "token.secret"
assert_contains "$out" "chmod 600"
chmod 0600 "$H/token.secret"

# ---- a manager and a worker ----------------------------------------------------------------
H="$T/home"
mkdir -p "$T/s1" "$T/w"
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
EXP=$("$SM" auth create-token --scope admin --ttl 2s --home "$H" | tail -n1)
OTHER=$(cat "$T/m022/admin.token")
SECRET=$(tr -d '\n' <"$H/token.secret")
head -c 1500 /dev/urandom >"$T/p.bin"
CID=$("$SM" pieces import "$T/p.bin" --miner 1000 --home "$H" | tail -n1)
rpc() { # rpc TOKEN METHOD PARAMS [URL]
    curl -sS -H "Authorization: Bearer $1" -H 'Content-Type: application/json' \
        --data-binary "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"$2\",\"params\":$3}" "${4:-http://$API/rpc/v0}"
}
indexed() { rpc "$A" Sealpipe.PieceBlocks "[\"$CID\"]" | jq -e '.result.Blocks | length > 0' >/dev/null; }
sp_wait_for 30 indexed || fail "piece $CID was not indexed"
BLOCK=$(rpc "$A" Sealpipe.PieceBlocks "[\"$CID\"]" | jq -r '.result.Blocks[0].CID')

WPORT=$(sp_free_port)
cat >"$T/worker.cfg" <<EOF
worker = { name = "tokens"; listen = "127.0.0.1:$WPORT"; };
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
WURL="http://127.0.0.1:$WPORT/rpc/v0"

# ---- forged tokens ------------------------------------------------------------------------------
b64url() { base64 -w0 | tr '+/' '-_' | tr -d '='; }
sign() { # sign HEADER-JSON PAYLOAD-JSON: a JWT signed with this home's secret
    local h p
    h=$(printf '%s' "$1" | b64url)
    p=$(printf '%s' "$2" | b64url)
    printf '%s.%s.%s' "$h" "$p" "$(printf '%s.%s' "$h" "$p" | openssl dgst -sha256 -mac HMAC -macopt "hexkey:$SECRET" -binary | b64url)"
}
HS='{"alg":"HS256","typ":"JWT"}'
# the forging is right: a token signed here with a worker claim works
assert_eq "$(rpc "$(sign "$HS" '{"Allow":["admin"]}')" Sealpipe.Version '[]' | jq -r .result.Version)" "$(rpc "$A" Sealpipe.Version '[]' | jq -r .result.Version)" "a token signed by the test"
flip() { # flip TOKEN PART: one character changed in part 0, 1 or 2
    local IFS=. p
    read -r -a p <<<"$1"
    local s=${p[$2]} c=${p[$2]:3:1}
    [ "$c" = A ] && c=B || c=A
    p[$2]="${s:0:3}$c${s:4}"
    echo "${p[0]}.${p[1]}.${p[2]}"
}
swap() { echo "${2%.*}.${1##*.}"; } # swap WORKER ADMIN: admin header+payload, worker signature
declare -A BADTOK=(
    [garbage]="not-a-token"
    [dots]=".."
    [other-home]="$OTHER"
    [flip-header]="$(flip "$W" 0)"
    [flip-payload]="$(flip "$W" 1)"
    [flip-signature]="$(flip "$W" 2)"
    [admin-payload-worker-signature]="$(swap "$W" "$A")"
    [no-signature]="${A%.*}."
    [alg-none]="$(printf '%s' '{"alg":"none","typ":"JWT"}' | b64url).$(printf '%s' '{"Allow":["admin"]}' | b64url)."
    [alg-none-signed]="$(sign '{"alg":"none"}' '{"Allow":["admin"]}')"
    [alg-hs512-signed]="$(sign '{"alg":"HS512","typ":"JWT"}' '{"Allow":["admin"]}')"
    [no-alg-signed]="$(sign '{"typ":"JWT"}' '{"Allow":["admin"]}')"
    [scope-root]="$(sign "$HS" '{"Allow":["root","sign"]}')"
    [scope-string]="$(sign "$HS" '{"Allow":"admin"}')"
    [scope-empty]="$(sign "$HS" '{"Allow":[]}')"
    [scope-case]="$(sign "$HS" '{"Allow":["Admin","WORKER"]}')"
    [exp-string]="$(sign "$HS" '{"Allow":["admin"],"exp":"9999999999"}')"
    [exp-past]="$(sign "$HS" '{"Allow":["admin"],"exp":1000}')"
    [payload-array]="$(sign "$HS" '[{"Allow":["admin"]}]')"
    [payload-deep]="$(sign "$HS" '{"Allow":[[[[[["admin"]]]]]]}')"
    [long]="$(head -c 100000 /dev/zero | tr '\0' 'a').b.c"
    [long-8k]="$(head -c 8000 /dev/zero | tr '\0' 'a').$(head -c 8000 /dev/zero | tr '\0' 'b').c"
)
SCHEMES=("" "Bearer" "Bearer " "Basic $(printf 'x:%s' "$A" | base64 -w0)" "Token $A" "Bearer $A x" "Bearer,$A")

# ---- the route matrix -------------------------------------------------------------------------
# answer KIND TOKEN-HEADER: "HTTP-code rpc-code" of one request of KIND
answer() {
    local auth=()
    [ -n "$2" ] && auth=(-H "Authorization: $2")
    case $1 in
    worker-rpc) curl -sS -o "$T/o" -w '%{http_code}' "${auth[@]}" --data-binary '{"jsonrpc":"2.0","id":1,"method":"Venus.StoreBasicInfo","params":["s1"]}' "http://$API/rpc/v0" ;;
    admin-rpc) curl -sS -o "$T/o" -w '%{http_code}' "${auth[@]}" --data-binary '{"jsonrpc":"2.0","id":1,"method":"Sealpipe.Version","params":[]}' "http://$API/rpc/v0" ;;
    unseal-rpc) curl -sS -o "$T/o" -w '%{http_code}' "${auth[@]}" --data-binary '{"jsonrpc":"2.0","id":1,"method":"Venus.AllocateUnsealSector","params":[]}' "http://$API/rpc/v0" ;;
    pieces) curl -sS -o "$T/o" -w '%{http_code}' "${auth[@]}" "http://$API/pieces/$CID" ;;
    piece) curl -sS -o "$T/o" -w '%{http_code}' "${auth[@]}" "http://$API/piece/$CID" ;;
    ipfs) curl -sS -o "$T/o" -w '%{http_code}' "${auth[@]}" "http://$API/ipfs/$BLOCK" ;;
    worker-admin) curl -sS -o "$T/o" -w '%{http_code}' "${auth[@]}" --data-binary '{"jsonrpc":"2.0","id":1,"method":"Worker.ThreadsList","params":[]}' "$WURL" ;;
    esac
    echo " $(jq -r '.error.code // "ok"' "$T/o" 2>/dev/null || echo raw)"
}
ROUTES=(worker-rpc admin-rpc unseal-rpc pieces piece ipfs worker-admin)
# expect ROUTE TOKEN-HEADER WANT LABEL; WANT is ok, 401 or 403
expect() {
    local got
    got=$(answer "$1" "$2")
    case "$3" in
    ok) case "$got" in "200 ok"|"206 ok"|"200 raw") ;; *) fail "$4 on $1: got '$got', want success: $(head -c 200 "$T/o")";; esac ;;
    401) case "$got" in "401 -32001"|"401 raw"|"431 raw") ;; *) fail "$4 on $1: got '$got', want 401: $(head -c 200 "$T/o")";; esac ;;
    403) case "$got" in "200 -32002"|"403 raw") ;; *) fail "$4 on $1: got '$got', want forbidden: $(head -c 200 "$T/o")";; esac ;;
    esac
    grep -qaF "${2#* }" "$T/o" 2>/dev/null && [ ${#2} -gt 20 ] && fail "$4 on $1: the answer echoes the token"
    return 0
}
# valid tokens: allowed where their scope is, forbidden elsewhere
declare -A WANT_W=([worker-rpc]=ok [admin-rpc]=403 [unseal-rpc]=ok [pieces]=ok [piece]=ok [ipfs]=ok [worker-admin]=ok)
declare -A WANT_A=([worker-rpc]=ok [admin-rpc]=ok [unseal-rpc]=ok [pieces]=ok [piece]=ok [ipfs]=ok [worker-admin]=401)
declare -A WANT_R=([worker-rpc]=403 [admin-rpc]=403 [unseal-rpc]=403 [pieces]=403 [piece]=ok [ipfs]=ok [worker-admin]=401)
for r in "${ROUTES[@]}"; do
    expect "$r" "Bearer $W" "${WANT_W[$r]}" "worker token"
    expect "$r" "Bearer $A" "${WANT_A[$r]}" "admin token"
    expect "$r" "Bearer $R" "${WANT_R[$r]}" "retrieval token"
    expect "$r" "" 401 "no token"
    for s in "${SCHEMES[@]}"; do
        [ -n "$s" ] || continue
        expect "$r" "$s" 401 "Authorization: ${s:0:12}..."
    done
    for k in "${!BADTOK[@]}"; do
        expect "$r" "Bearer ${BADTOK[$k]}" 401 "token $k"
    done
done
# the worker's own token, altered
for t in "${W:0:20}" "${W}x" "x$W" "$(flip "$W" 2)" "${W% }"$'\t'; do
    expect worker-admin "Bearer $t" 401 "an altered worker token"
done
# expiry: good now, refused with "expired" once past
sleep_until_expired() { ! rpc "$EXP" Sealpipe.Version '[]' | jq -e .result >/dev/null; }
sp_wait_for 10 sleep_until_expired || fail "the 2 s token still works"
assert_contains "$(rpc "$EXP" Sealpipe.Version '[]')" "expired"
expect pieces "Bearer $EXP" 401 "an expired token"
expect ipfs "Bearer $EXP" 401 "an expired token"
# a token only in the query string is no token
assert_eq "$(curl -sS -o /dev/null -w '%{http_code}' "http://$API/pieces/$CID?token=$W")" 401 "token in the query"
# two Authorization headers: never the union of what they grant
c=$(curl -sS -o "$T/o" -w '%{http_code}' -H "Authorization: Bearer $R" -H "Authorization: Bearer $A" \
    --data-binary '{"jsonrpc":"2.0","id":1,"method":"Sealpipe.Version","params":[]}' "http://$API/rpc/v0")
case "$c $(jq -r '.error.code // "ok"' "$T/o")" in "200 ok"|"200 -32002"|"401 -32001"|"400 "*) ;; *) fail "two Authorization headers: $c $(cat "$T/o")";; esac
# still serving, both
assert_eq "$(rpc "$A" Sealpipe.Version '[]' | jq -r '.result.Version != null')" true "the manager serves"
assert_eq "$(rpc "$W" Worker.Info '[]' "$WURL" | jq -r '.result.name')" tokens "the worker serves"

# ---- logs ----------------------------------------------------------------------------------------
grep -q "refused" "$T/manager.log" || fail "refusals are not logged"
grep -q "127.0.0.1" "$T/manager.log" || fail "refusals do not name the peer"
for t in "$W" "$A" "$R" "$EXP" "$OTHER" "$SECRET" "${BADTOK[@]}"; do
    for f in "$T/manager.log" "$T/worker.log"; do
        grep -qF -- "$t" "$f" && fail "a token or the secret appeared in $f: ${t:0:20}..."
    done
done
# each token's signature alone is secret enough to look for too
for t in "$W" "$A" "$R"; do
    grep -qF -- "${t##*.}" "$T/manager.log" "$T/worker.log" && fail "a token's signature appeared in a log"
done
echo "hostile tokens: ${#BADTOK[@]} bad tokens and ${#SCHEMES[@]} schemes on ${#ROUTES[@]} routes, scopes, expiry, file modes, logs; ok"
