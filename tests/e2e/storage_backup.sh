#!/bin/bash
# storage_backup.sh — metadata backups under load: while `bench rpc` allocates sectors as
# fast as it can, `backup create` takes three snapshots; each passes PRAGMA
# integrity_check and holds every sector that existed when it started.  A restore is
# refused while the daemon runs; after a stop it installs a backup, the daemon starts on
# it with every sector, piece and indexed block of the snapshot, and hands out sector
# numbers above every number the backup knows.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/storage_lib.sh"
command -v sqlite3 >/dev/null || { echo "sqlite3 is not installed"; exit 77; }

mkdir -p "$T/hot1" "$T/warm1"
st_init "persist_stores = (
  { name = \"hot1\"; path = \"$T/hot1\"; tier = \"hot\"; },
  { name = \"warm1\"; path = \"$T/warm1\"; tier = \"warm\"; } );
storage = { policy = { unsealed = { hot = 1; }; }; tick = \"100ms\"; reconcile = { interval = \"500ms\"; }; };"
sed -i 's/level = "debug"/level = "info"/' "$H/manager.cfg"
st_start
P=$(st_import "$SP_TESTS/vectors/car/carv1-basic.car")
sp_wait_for 20 indexed "$P" done
sp_wait_for 20 copies_ok "$P" 1

sectors_in() { sqlite3 "$1" "SELECT count(*) FROM sectors"; }
"$SM" bench rpc --method alloc --clients 4 --seconds 6 --miner 1000 --home "$H" >"$T/bench.out" 2>&1 &
BENCH=$!
sp_track $BENCH
sleep 1
for i in 1 2 3; do
    before=$(sectors_in "$H/manager.db")
    "$SM" backup create "$T/b$i.db" --home "$H" >"$T/backup$i.out" || fail "backup $i: $(cat "$T/backup$i.out")"
    assert_contains "$(cat "$T/backup$i.out")" "integrity_check ok"
    assert_eq "$(sqlite3 "$T/b$i.db" "PRAGMA integrity_check")" "ok" "backup $i passes integrity_check"
    n=$(sectors_in "$T/b$i.db")
    [ "$n" -ge "$before" ] || fail "backup $i has $n sectors, $before existed before it started"
    assert_eq "$(stat -c %a "$T/b$i.db")" "600" "backup mode"
    echo "backup $i: $n sectors (at least $before)"
    sleep 1
done
wait $BENCH || fail "bench rpc failed: $(cat "$T/bench.out")"
[ "$(sectors_in "$T/b3.db")" -gt "$(sectors_in "$T/b1.db")" ] || fail "the load allocated sectors between backups"
assert_contains "$("$SM" backup restore "$T/b2.db" --home "$H" 2>&1 || true)" "is running; stop it first"

# ---- restore the second backup ----
st_stop
LIVE_MAX=$(sqlite3 "$H/manager.db" "SELECT max(number) FROM sectors")
BACKUP_MAX=$(sqlite3 "$T/b2.db" "SELECT max(number) FROM sectors")
WANT=$(sectors_in "$T/b2.db")
[ "$BACKUP_MAX" -lt "$LIVE_MAX" ] || fail "the backup is older than the live database"
OUT=$("$SM" backup restore "$T/b2.db" --home "$H")
assert_contains "$OUT" "restored"
assert_contains "$OUT" "$WANT sectors"
assert_eq "$(sqlite3 "$H/manager.db" "PRAGMA integrity_check")" "ok" "restored database passes integrity_check"
assert_eq "$(sectors_in "$H/manager.db")" "$WANT" "every sector of the backup"
[ -e "$H/manager.db-wal" ] && [ -s "$H/manager.db-wal" ] && fail "a stale WAL next to the restored database"
st_start
assert_contains "$(cat "$T/manager.log")" "did not shut down cleanly"
assert_eq "$("$SM" sectors list --json --home "$H" | jq length)" "$WANT" "the daemon serves every sector of the backup"
assert_eq "$(piece_json "$P" | jq -r .Index.State)" "done" "the piece and its block index are back"
B=$(jq -r '.blocks[0].cid["/"]' "$SP_TESTS/vectors/car/carv1-basic.json")
assert_eq "$(get_block "$B" "$T/b")" "200" "a block is served after the restore"
NEXT=$(call Venus.AllocateSector '[{"AllowedMiners":[1000],"AllowedProofTypes":[5]}]' .ID.Number)
[ "$NEXT" -gt "$BACKUP_MAX" ] || fail "new sector $NEXT reuses a number the backup knows (max $BACKUP_MAX)"
st_stop
echo "storage backup: ok"
