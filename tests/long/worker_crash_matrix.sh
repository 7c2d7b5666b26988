#!/usr/bin/env bash
# worker_crash_matrix.sh — the heavier crash matrix for `make test-long`: 8MiB sectors with
# deal pieces, every stage in a processor child, and the worker killed with SIGKILL at
# every pause point in turn (add_pieces, tree_d, pc1, pc2, c1, c2, finalize), then at
# random moments, then the manager killed with SIGKILL and restarted under a running
# worker.  Every sector the manager handed out ends Proving exactly once with its files in
# the store, and every deal is sealed.
. "$SP_TESTS/e2e/lib.sh"
. "$SP_TESTS/e2e/worker_lib.sh"

MPORT=$(sp_free_port)
wk_manager_start '{ actor = 1000; sizes = [ "8MiB" ]; deals = true; max_number = 5; }'
for i in 1 2 3; do
    head -c $((100000 * i)) /dev/urandom >"$T/deal$i.bin"
    "$SM" pieces import "$T/deal$i.bin" --miner 1000 --home "$H" >/dev/null
done
CFG="$T/worker.cfg"
WK_MAX_RETRIES=10 wk_worker_cfg "$CFG" 'enable_deals = true;' \
    "{ location = \"$T/t0\"; }, { location = \"$T/t1\"; }" \
    "add_pieces = ( { cpuset = \"$CPU0\"; share = true; } );
     tree_d = ( { cpuset = \"$CPU0\"; share = true; } );
     pc1 = ( { cpuset = \"$CPU0\"; share = true; } );
     pc2 = ( { cpuset = \"$CPUS\"; share = true; } );
     c1 = ( { cpuset = \"$CPUS\"; share = true; } );
     c2 = ( { cpuset = \"$CPUS\"; share = true; } );"
export SEALPIPE_TEST_PAUSE_DIR="$T/pause"
mkdir -p "$T/pause"

points=""
for point in add_pieces tree_d pc1 pc2 c1 c2 finalize; do
    points="${points:+$points,}$point"
    export SEALPIPE_TEST_PAUSE=$points
    wk_worker_start "$CFG"
    wk_wait_file "$T/pause/$point.paused" 300
    echo "killing the worker paused at $point"
    wk_worker_kill9
done

# random moments
unset SEALPIPE_TEST_PAUSE
for round in 1 2 3; do
    wk_worker_start "$CFG"
    sleep "$(( (RANDOM % 8) + 2 ))"
    echo "killing the worker at a random moment ($round)"
    wk_worker_kill9
done

# the manager dies under a running worker
wk_worker_start "$CFG"
sleep 5
kill -KILL "$MPID"
wait "$MPID" 2>/dev/null || true
sleep 3
wk_manager_run

# done when every thread is back to Empty and every sector the manager handed out (a
# manager crash skips numbers, never reuses them) is Proving
done_yet() {
    "$SW" threads list -c "$CFG" --json | jq -e 'all(.[]; .state == "Empty" and .paused == false)' >/dev/null &&
        wk_sectors | jq -e 'length >= 2 and all(.[]; .State == "Proving")' >/dev/null
}
sp_wait_for 900 done_yet || {
    "$SM" sectors list --home "$H" >&2
    "$SW" threads list -c "$CFG" >&2
    tail -n 50 "$T/worker.log" >&2
    fail "the sectors did not all reach Proving"
}
wk_check_all_proving "$(wk_sectors | jq length)"
for cid in $("$SM" pieces list --home "$H" --json | jq -r '.[].PieceCID'); do
    assert_contains "$("$SM" pieces show "$cid" --home "$H")" "Sealed" "deal $cid"
done
kill -TERM "$WPID"
wait "$WPID"
echo "$(wk_sectors | jq length) sectors of 8MiB sealed through 10 worker crashes and a manager crash"
