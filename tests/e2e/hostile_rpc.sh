#!/bin/bash
# hostile_rpc.sh — both daemons, over HTTP, against every method's params and against
# bodies built to hurt: the cases of test_hostile_rpc (every param of every method
# replaced by null, strings, negative/huge/float numbers, objects, arrays, paths, long
# strings; generated from the manager's method tables) sent to a real sector-manager (with
# its storage service) and a real seal-worker's admin API, each followed by a good request;
# then oversized bodies (declared and chunked), a Content-Length of 10^18, nesting 100,000
# deep, a million-element array, 100,000 keys, a 100,000-digit number, NUL escapes, invalid
# UTF-8, batches over the limit, notifications.  Every answer is HTTP 200 with a JSON-RPC
# body (413 with one for oversized bodies), never a 500 without one; both daemons serve
# the next request each time and are alive at the end.  No token reaches their logs.
. "$(dirname "$0")/lib.sh"

SM="$SP_BIN/sector-manager"
SW="$SP_BIN/seal-worker"
GEN="${SP_BUILD:-$SP_ROOT/build}/tests/test_hostile_rpc"
command -v jq >/dev/null || { echo "jq is not installed"; exit 77; }
[ -x "$GEN" ] || { echo "$GEN is not built (make $GEN)"; exit 77; }

# ---- a manager with a store and a piece, and a worker that seals nothing -------------------
H="$T/home"
mkdir -p "$T/s1" "$T/s2" "$T/w"
"$SM" init --home "$H" >/dev/null
cat >"$H/manager.cfg" <<EOF
api = { listen = "127.0.0.1:0"; };
miners = ( { actor = 1000; sizes = [ "2KiB" ]; deals = true; } );
persist_stores = ( { name = "s1"; path = "$T/s1"; capacity = "1GiB"; } );
EOF
"$SM" run --home "$H" >"$T/manager.log" 2>&1 &
MPID=$!
sp_track $MPID
sp_wait_for 20 test -s "$H/api"
API=$(cat "$H/api")
W=$(cat "$H/worker.token")
A=$(cat "$H/admin.token")
head -c 1500 /dev/urandom >"$T/p.bin"
CID=$("$SM" pieces import "$T/p.bin" --miner 1000 --home "$H" | tail -n1)

rpc() { # rpc URL TOKEN BODY -> "HTTP-STATUS BODY"
    curl -sS -o "$T/body" -w '%{http_code}' -H "Authorization: Bearer $2" \
        -H 'Content-Type: application/json' --data-binary "$3" "$1"
    echo " $(head -c 2000 "$T/body")"
}
r=$(rpc "http://$API/rpc/v0" "$W" '{"jsonrpc":"2.0","id":1,"method":"Venus.AllocateSector","params":[]}')
assert_eq "$(echo "${r#* }" | jq -c .result.ID)" '{"Miner":1000,"Number":0}' "sector 0, which the samples name"

WPORT=$(sp_free_port)
cat >"$T/worker.cfg" <<EOF
worker = { name = "hostile"; listen = "127.0.0.1:$WPORT"; };
sector_manager = { url = "http://$API"; token_file = "$H/worker.token"; };
sealing = { allowed_miners = [ 4242 ]; allowed_sizes = [ "2KiB" ]; recover_interval = "5s"; };
sealing_thread = ( { location = "$T/w/t0"; }, { location = "$T/w/t1"; } );
attached = ( { name = "s1"; location = "$T/s1"; } );
processors = { parent_cache = "$T/parents"; };
EOF
"$SW" daemon -c "$T/worker.cfg" >"$T/worker.log" 2>&1 &
WPID=$!
sp_track $WPID
sp_wait_port "$WPORT" 20
WAPI="127.0.0.1:$WPORT"

alive() { kill -0 "$MPID" 2>/dev/null || fail "the manager died"; kill -0 "$WPID" 2>/dev/null || fail "the worker died"; }

# ---- every param of every method ------------------------------------------------------------
# run_cases DIR URL PROBE-METHOD PROBE-TOKEN: one curl, one keep-alive connection, each case
# followed by the probe; DIR/status gets "index code" lines, DIR/probes the probes'.
run_cases() {
    local dir=$1 url=$2 probe=$3 ptoken=$4 idx strict label tok
    printf '{"jsonrpc":"2.0","id":0,"method":"%s","params":[]}' "$probe" >"$dir/probe.json"
    while IFS=$'\t' read -r idx strict label; do
        tok=$ptoken
        case "$label" in Venus.*) tok=$W ;; esac
        printf 'url = "%s"\nheader = "Authorization: Bearer %s"\nheader = "Content-Type: application/json"\n' "$url" "$tok"
        printf 'data-binary = "@%s/%s.json"\noutput = "%s/%s.out"\nwrite-out = "%s %%{http_code}\\n"\nnext\n' \
            "$dir" "$idx" "$dir" "$idx" "$idx"
        printf 'url = "%s"\nheader = "Authorization: Bearer %s"\nheader = "Content-Type: application/json"\n' "$url" "$ptoken"
        printf 'data-binary = "@%s/probe.json"\noutput = "%s/p%s.out"\nwrite-out = "p%s %%{http_code}\\n"\nnext\n' \
            "$dir" "$dir" "$idx" "$idx"
    done <"$dir/cases.tsv" >"$dir/curl.cfg"
    echo 'url = "http://127.0.0.1:1/unused"' >>"$dir/curl.cfg" # closes the last "next"
    curl -s -K "$dir/curl.cfg" >"$dir/all" 2>/dev/null || true
    grep -v '^p' "$dir/all" >"$dir/status" || true
    grep '^p' "$dir/all" >"$dir/probes" || true
    local n
    n=$(wc -l <"$dir/cases.tsv")
    assert_eq "$(wc -l <"$dir/status")" "$n" "answers to the $n cases"
    assert_eq "$(grep -c ' 200$' "$dir/probes")" "$n" "good requests served after the $n cases"
    bad=$(grep -L "\"$5\"" "$dir"/p*.out | head -n 3)
    [ -z "$bad" ] || fail "good requests not served: $bad: $(head -c 300 $bad)"
    "$GEN" --check "$dir" || fail "answers in $dir break the rules (above)"
}

mkdir -p "$T/mc" "$T/wc"
"$GEN" --emit manager "$T/mc" "$T/s1" "$T/s2" "$CID"
run_cases "$T/mc" "http://$API/rpc/v0" Sealpipe.Version "$A" Version
alive
"$GEN" --emit worker "$T/wc" "$T/s1" "$T/s2" "$CID"
run_cases "$T/wc" "http://$WAPI/rpc/v0" Worker.Info "$W" threads
alive

# ---- bodies built to hurt -------------------------------------------------------------------
# each is sent to both daemons; the next good request must be served
M_OK='{"jsonrpc":"2.0","id":1,"method":"Sealpipe.Version","params":[]}'
W_OK='{"jsonrpc":"2.0","id":1,"method":"Worker.Info","params":[]}'
still_serving() {
    local r
    r=$(rpc "http://$API/rpc/v0" "$A" "$M_OK")
    assert_eq "${r%% *}" 200 "manager serves after $1"
    assert_contains "$r" '"Version"' "manager serves after $1"
    r=$(rpc "http://$WAPI/rpc/v0" "$W" "$W_OK")
    assert_eq "${r%% *}" 200 "worker serves after $1"
    assert_contains "$r" '"threads"' "worker serves after $1"
}
# hurt NAME FILE WANT-HTTP WANT-CODE: posts FILE to both daemons
hurt() {
    local url tok code body r
    for url in "http://$API/rpc/v0" "http://$WAPI/rpc/v0"; do
        tok=$A
        [ "$url" = "http://$WAPI/rpc/v0" ] && tok=$W
        code=$(curl -sS -o "$T/hurt.out" -w '%{http_code}' -H "Authorization: Bearer $tok" \
               -H 'Content-Type: application/json' --data-binary @"$2" "$url" 2>"$T/hurt.err") || true
        body=$(head -c 400 "$T/hurt.out")
        assert_eq "$code" "$3" "$1 to $url: $body $(cat "$T/hurt.err")"
        if [ -n "$4" ]; then
            r=$(jq -r '.error.code' "$T/hurt.out" 2>/dev/null) || fail "$1 to $url: not JSON: $body"
            assert_eq "$r" "$4" "$1 to $url: error code ($body)"
        fi
    done
    still_serving "$1"
}
rep() { head -c "$2" /dev/zero | tr '\0' "$1"; } # rep CHAR N
{ rep '[' 30000; rep ']' 30000; } >"$T/hurt.json"
hurt "arrays nested 30000 deep" "$T/hurt.json" 200 -32700
{ yes '{"a":' | head -n 10000 | tr -d '\n'; printf 1; rep '}' 10000; } >"$T/hurt.json"
hurt "objects nested 10000 deep" "$T/hurt.json" 200 -32700
{ printf '{"jsonrpc":"2.0","id":1,"method":"Sealpipe.Version","params":['; yes 1 | head -n 20000 | paste -sd,; printf ']}'; } >"$T/hurt.json"
hurt "20000 params" "$T/hurt.json" 200 ""
{ printf '{"jsonrpc":"2.0","id":1,"method":"Venus.WorkerPing","params":[{'; seq 3000 | sed 's/.*/"k&":1/' | paste -sd,; printf '}]}'; } >"$T/hurt.json"
hurt "3000 keys" "$T/hurt.json" 200 ""
{ printf '{"jsonrpc":"2.0","id":1,"method":"Worker.ThreadsPause","params":[1'; rep 0 30000; printf ']}'; } >"$T/hurt.json"
hurt "a 30000-digit number" "$T/hurt.json" 200 ""
printf '{"jsonrpc":"2.0","id":1,"method":"Sealpipe.Version","params":["a\\u0000b"]}' >"$T/hurt.json"
hurt "a \\u0000 escape" "$T/hurt.json" 200 -32700
printf '{"jsonrpc":"2.0","id":1,"method":"Sealpipe.Version\0","params":[]}' >"$T/hurt.json"
hurt "a NUL byte" "$T/hurt.json" 200 -32700
printf '{"jsonrpc":"2.0","id":1,"method":"Worker.\xff\xfe","params":["\xc0\xaf"]}' >"$T/hurt.json"
hurt "invalid UTF-8" "$T/hurt.json" 200 -32601
{ printf '['; yes "$M_OK" | head -n 101 | paste -sd,; printf ']'; } >"$T/hurt.json"
hurt "a batch of 101" "$T/hurt.json" 200 -32600
printf '[]' >"$T/hurt.json"
hurt "an empty batch" "$T/hurt.json" 200 -32600
printf '[1,"x",null]' >"$T/hurt.json"
hurt "a batch of non-requests" "$T/hurt.json" 200 ""
printf '{"jsonrpc":"2.0","method":"Worker.ThreadsList","params":[]}' >"$T/hurt.json"
hurt "a notification" "$T/hurt.json" 204 ""
printf '{"jsonrpc":"2.0","id":{"a":[1]},"method":"Worker.ThreadsList","params":[]}' >"$T/hurt.json"
hurt "an object id" "$T/hurt.json" 200 -32600
printf '{"jsonrpc":"2.0","id":1,"method":7,"params":[]}' >"$T/hurt.json"
hurt "a numeric method" "$T/hurt.json" 200 -32600

# Oversized: the worker's limit is 64 KiB, the manager's the default 64 MiB.
head -c $((65 * 1024)) /dev/zero | tr '\0' ' ' >"$T/big-w.json"
code=$(curl -sS -o "$T/o" -w '%{http_code}' -H "Authorization: Bearer $W" --data-binary @"$T/big-w.json" "http://$WAPI/rpc/v0")
assert_eq "$code" 413 "65 KiB to the worker"
assert_eq "$(jq -r .error.code "$T/o")" -32600 "the worker's 413 has a JSON-RPC body"
{ printf '{"jsonrpc":"2.0","id":1,"method":"Sealpipe.Version","params":["'; head -c $((64 * 1024 * 1024)) /dev/zero | tr '\0' 'a'; printf '"]}'; } >"$T/big-m.json"
code=$(curl -sS -o "$T/o" -w '%{http_code}' -H "Authorization: Bearer $A" --data-binary @"$T/big-m.json" "http://$API/rpc/v0" 2>/dev/null) || true
assert_eq "$code" 413 "64 MiB + 20 bytes to the manager"
assert_eq "$(jq -r .error.code "$T/o")" -32600 "the manager's 413 has a JSON-RPC body"
rm -f "$T/big-m.json"
still_serving "oversized bodies"
# chunked: no Content-Length to check in advance
code=$(head -c $((200 * 1024)) /dev/zero | tr '\0' ' ' | curl -sS -o "$T/o" -w '%{http_code}' -H "Authorization: Bearer $W" \
       -H 'Transfer-Encoding: chunked' --data-binary @- "http://$WAPI/rpc/v0" 2>/dev/null) || true
assert_eq "$code" 413 "a chunked 200 KiB body to the worker"
still_serving "a chunked oversized body"
# raw HOST:PORT BYTES: sends BYTES (printf %b escapes) on a new connection and prints the
# first line of the answer ("" when none comes within 5 s)
# (in its own subshell: a server that refuses a request part-way, e.g. a 100 KiB header,
# closes while the rest is still being written; that write's SIGPIPE must not end the test)
raw() {
    local line=""
    trap '' PIPE
    exec 3<>"/dev/tcp/${1%:*}/${1#*:}"
    printf '%b' "$2" >&3 2>/dev/null || true
    IFS= read -r -t 5 line <&3 || true
    exec 3<&- 3>&-
    echo "${line%$'\r'}"
}
AUTH="Authorization: Bearer $W"
for hp in "$API" "$WAPI"; do
    # a Content-Length of 10^18 with a few bytes behind it: refused at once, nothing allocated
    r=$(raw "$hp" "POST /rpc/v0 HTTP/1.1\r\nHost: x\r\n$AUTH\r\nContent-Length: 1000000000000000000\r\n\r\n{\"a\":")
    assert_contains "$r" " 413 " "Content-Length 10^18 to $hp"
    # a Content-Length that does not parse, two that disagree
    r=$(raw "$hp" "POST /rpc/v0 HTTP/1.1\r\nHost: x\r\n$AUTH\r\nContent-Length: -5\r\n\r\n")
    assert_contains "$r" " 400 " "Content-Length -5 to $hp"
    r=$(raw "$hp" "POST /rpc/v0 HTTP/1.1\r\nHost: x\r\n$AUTH\r\nContent-Length: 2\r\nContent-Length: 70\r\n\r\n[]")
    case "$r" in *" 400 "*|*" 200 "*) ;; *) fail "two Content-Lengths to $hp: $r";; esac
    # a header line of 100 KiB
    r=$(raw "$hp" "GET /healthcheck HTTP/1.1\r\nHost: x\r\nX-Long: $(rep a 102400)\r\n\r\n")
    case "$r" in *" 431 "*|*" 413 "*|*" 400 "*|"") ;; *) fail "a 100 KiB header to $hp: $r";; esac
    # a body shorter than declared, then the client hangs up
    exec 3<>"/dev/tcp/${hp%:*}/${hp#*:}"
    printf 'POST /rpc/v0 HTTP/1.1\r\nHost: x\r\n%s\r\nContent-Length: 500\r\n\r\n{"jsonrpc"' "$AUTH" >&3
    exec 3<&- 3>&-
done
still_serving "broken Content-Lengths"
alive

# ---- a prompt, clean stop after all that (a hang-up mid-request once held it 10 s) ----------
kill -TERM "$MPID" "$WPID"
for pid in "$MPID" "$WPID"; do
    n=0
    while kill -0 "$pid" 2>/dev/null; do
        n=$((n + 1))
        [ $n -le 50 ] || fail "pid $pid still running 5 s after SIGTERM"
        sleep 0.1
    done
done
grep -q "stopped cleanly" "$T/manager.log" || fail "the manager did not stop cleanly: $(tail -n 3 "$T/manager.log")"
grep -q "still in flight" "$T/manager.log" "$T/worker.log" && fail "a stop waited for requests in flight"

# ---- nothing secret in the logs -------------------------------------------------------------
SECRET=$(cat "$H/token.secret")
for t in "$W" "$A" "$SECRET"; do
    grep -qF "$t" "$T/manager.log" "$T/worker.log" && fail "a token or the secret appeared in a log"
done
echo "hostile rpc: $(wc -l <"$T/mc/cases.tsv") manager and $(wc -l <"$T/wc/cases.tsv") worker cases, each followed by a served request; hostile bodies refused; ok"
