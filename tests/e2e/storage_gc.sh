#!/bin/bash
# storage_gc.sh — garbage collection on a real sector-manager:
#   marks: the replica of an aborted sector; a replica beyond the policy (a copy found by
#   `storage redeclare` in a store attached at run time); orphan files older than
#   orphan_age.  Never marked: a pinned aborted sector, a referenced (live) sector, a
#   young orphan (maybe being written), a pinned orphan.
#   sweep after approval moves exactly the approved files to their store's trash; an
#   approved mark pinned before the sweep is cancelled and its file stays; an unapproved
#   mark stays in place.  Trash is kept for the retention period, kept longer while
#   pinned, then deleted.  The live data stays retrievable throughout.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/storage_lib.sh"

for s in s1 s2 w1 x1; do mkdir -p "$T/$s"; done
st_init "persist_stores = (
  { name = \"s1\"; path = \"$T/s1\"; tier = \"hot\"; domain = \"rack-a\"; allow_types = [ \"unsealed\" ]; },
  { name = \"s2\"; path = \"$T/s2\"; tier = \"hot\"; domain = \"rack-b\"; allow_types = [ \"unsealed\" ]; },
  { name = \"w1\"; path = \"$T/w1\"; tier = \"warm\"; domain = \"rack-c\"; } );
storage = {
  policy = { unsealed = { hot = 1; }; sealed = { warm = 1; }; };
  tick = \"100ms\"; health = { interval = \"200ms\"; };
  reconcile = { interval = \"0\"; }; scrub = { light_every = \"0\"; deep_every = \"0\"; };
  gc = { mark_every = \"0\"; retention = \"3s\"; orphan_age = \"1h\"; };
  cache = { l1_size = \"0\"; l2_size = \"0\"; }; };"
st_start

# ---- a piece with one hot replica, and an excess copy found by redeclare ----
head -c 100000 /dev/urandom >"$T/p.bin"
P=$(st_import "$T/p.bin")
sp_wait_for 20 indexed "$P" done
"$SM" replicas fix --apply --home "$H" >/dev/null
copies_ok "$P" 1 || fail "one replica"
"$SM" storage attach "$T/x1" --name x1 --tier hot --domain rack-d --allow-type unsealed --home "$H" >/dev/null
mkdir -p "$T/x1/unsealed"
cp "$T/p.bin" "$T/x1/unsealed/$P"
RD=$("$SM" storage redeclare x1 --json --home "$H")
assert_eq "$(echo "$RD" | jq -r '.JobReport.Stores[0] | "\(.Store) \(.Found)"')" "x1 1" "redeclare finds the copy"
copies_ok "$P" 2 || fail "two replicas now: one beyond the policy"

# ---- sectors: 0 aborted, 1 aborted but pinned, 2 live ----
for n in 0 1 2; do
    assert_eq "$(call Venus.AllocateSector '[{"AllowedMiners":[1000],"AllowedProofTypes":[5]}]' .ID.Number)" "$n" "sector $n"
    mkdir -p "$T/w1/sealed" "$T/w1/cache/s-t01000-$n"
    head -c 2048 /dev/urandom >"$T/w1/sealed/s-t01000-$n"
    echo p_aux >"$T/w1/cache/s-t01000-$n/p_aux"
    echo tree >"$T/w1/cache/s-t01000-$n/sc-02-data-tree-r-last.dat"
    assert_eq "$(call Venus.SubmitPersisted "[$(sid "$n"),\"w1\"]")" "true" "sector $n persisted"
done
"$SM" sectors abort s-t01000-0 --reason "test" --home "$H" >/dev/null
"$SM" sectors abort s-t01000-1 --reason "test" --home "$H" >/dev/null
"$SM" gc pin s-t01000-1 --note "keep for the audit" --home "$H" >/dev/null

# ---- orphans: old, young, pinned ----
mkdir -p "$T/w1/unsealed"
for f in sealed/s-t01000-77 cache/s-t01000-77 unsealed/not-a-piece sealed/s-t01000-79; do
    if [ "${f%%/*}" = cache ]; then mkdir -p "$T/w1/$f"; echo x >"$T/w1/$f/p_aux"; else echo orphan >"$T/w1/$f"; fi
    touch -h -d "2 days ago" "$T/w1/$f"
done
echo young >"$T/w1/sealed/s-t01000-78"
"$SM" gc pin orphan:w1/sealed/s-t01000-79 --home "$H" >/dev/null
assert_contains "$("$SM" gc pins --home "$H")" "orphan:w1/sealed/s-t01000-79"
assert_contains "$("$SM" gc pin ../etc --home "$H" 2>&1 || true)" "is not a sector"

# every file and directory of the stores but the trash and the heartbeat's probe file
snapshot() {
    (cd "$T" && find s1 s2 w1 x1 -path '*/.trash' -prune -o \( -type f -o -type d \) -print |
        grep -v -e '/\.trash$' -e '/\.sealpipe-heartbeat$' | sort)
}

# ---- mark ----
MK=$("$SM" gc mark --json --home "$H")
L=$("$SM" gc list --json --home "$H")
assert_eq "$(echo "$L" | jq -r '[.[] | "\(.Store):\(.Path)"] | sort | join(" ")' | sed "s/s[12]:unsealed\/$P/HOT:P/; s/x1:unsealed\/$P/HOT:P/")" \
    "HOT:P w1:cache/s-t01000-77 w1:sealed/s-t01000-0 w1:sealed/s-t01000-77 w1:unsealed/not-a-piece" "exactly what nothing needs is marked"
assert_contains "$(echo "$L" | jq -r '.[] | select(.Path == "sealed/s-t01000-0") | .Reason')" "sector aborted"
assert_contains "$(echo "$L" | jq -r --arg p "unsealed/$P" '.[] | select(.Path == $p) | .Reason')" "excess replica"
assert_contains "$(echo "$L" | jq -r '.[] | select(.Path == "unsealed/not-a-piece") | .Reason')" "orphan"
assert_eq "$(echo "$MK" | jq '.Report.Marked | length')" "5" "the job reports its marks"
assert_eq "$("$SM" gc mark --json --home "$H" | jq '.Report.Marked | length')" "0" "marking again adds nothing"
id_of() { echo "$L" | jq -r --arg p "$1" '.[] | select(.Path == $p) | .ID'; }
EXCESS_STORE=$(echo "$L" | jq -r --arg p "unsealed/$P" '.[] | select(.Path == $p) | .Store')

# ---- approve all but one, pin one approved, sweep ----
BEFORE=$(snapshot)
"$SM" gc approve "$(id_of sealed/s-t01000-0)" "$(id_of sealed/s-t01000-77)" "$(id_of cache/s-t01000-77)" \
    "$(id_of "unsealed/$P")" --home "$H" >/dev/null
"$SM" gc pin "$P" --home "$H" >/dev/null
SW=$("$SM" gc sweep --json --home "$H")
AFTER=$(snapshot)
REMOVED=$(comm -23 <(echo "$BEFORE") <(echo "$AFTER") | tr '\n' ' ')
assert_eq "$REMOVED" "w1/cache/s-t01000-0 w1/cache/s-t01000-0/p_aux w1/cache/s-t01000-0/sc-02-data-tree-r-last.dat w1/cache/s-t01000-77 w1/cache/s-t01000-77/p_aux w1/sealed/s-t01000-0 w1/sealed/s-t01000-77 " \
    "the sweep removes exactly the approved files"
[ -z "$(comm -13 <(echo "$BEFORE") <(echo "$AFTER"))" ] || fail "the sweep created files outside the trash"
[ -f "$T/w1/.trash/$(id_of sealed/s-t01000-0)/sealed/s-t01000-0" ] || fail "the aborted sector is in w1's trash"
[ -f "$T/w1/.trash/$(id_of sealed/s-t01000-0)/cache/s-t01000-0/p_aux" ] || fail "with its cache"
assert_eq "$(echo "$SW" | jq '.Report.Trashed | length')" "3" "three marks trashed"
assert_eq "$(echo "$SW" | jq '.Report.Cancelled')" "1" "the pinned one cancelled"
LC=$("$SM" gc list --state cancelled --json --home "$H")
assert_eq "$(echo "$LC" | jq -r '.[0].Note')" "pinned" "cancelled because pinned"
[ -f "$T/$EXCESS_STORE/unsealed/$P" ] || fail "the pinned piece's file stays"
[ -f "$T/w1/unsealed/not-a-piece" ] || fail "the unapproved orphan stays"
assert_eq "$("$SM" gc list --state marked --json --home "$H" | jq -r '.[0].Path')" "unsealed/not-a-piece" "still marked"
# never touched: the pinned aborted sector, the live one, the young and the pinned orphan
for f in sealed/s-t01000-1 sealed/s-t01000-2 cache/s-t01000-2/p_aux sealed/s-t01000-78 sealed/s-t01000-79; do
    [ -e "$T/w1/$f" ] || fail "$f was removed"
done
# the live data is whole and retrievable
copies_ok "$P" 2 || fail "both replicas of the pinned piece are kept"
B=$(piece_json "$P" | jq -r '.Blocks[0].CID')
assert_eq "$(get_block "$B" "$T/b")" "200" "the piece is served"
cmp -s "$T/b" "$T/p.bin" || fail "its bytes"
SJ=$("$SM" sectors show s-t01000-2 --json --home "$H")
assert_eq "$(echo "$SJ" | jq -r .Store)" "w1" "the live sector keeps its store"

# ---- retention: kept, kept while pinned, then deleted ----
SW=$("$SM" gc sweep --json --home "$H")
assert_eq "$(echo "$SW" | jq '.Report.Deleted | length')" "0" "nothing deleted before the retention period"
"$SM" gc pin s-t01000-0 --home "$H" >/dev/null
sleep 3.2
SW=$("$SM" gc sweep --json --home "$H")
assert_eq "$(echo "$SW" | jq -r '[.Report.Deleted[].Path] | sort | join(" ")')" "cache/s-t01000-77 sealed/s-t01000-77" "expired trash deleted"
assert_eq "$(echo "$SW" | jq '.Report.KeptPinned')" "1" "pinned trash kept"
[ -f "$T/w1/.trash/$(id_of sealed/s-t01000-0)/sealed/s-t01000-0" ] || fail "pinned trash is still there"
[ -e "$T/w1/.trash/$(id_of sealed/s-t01000-77)" ] && fail "expired trash is gone"
"$SM" gc unpin s-t01000-0 --home "$H" >/dev/null
SW=$("$SM" gc sweep --json --home "$H")
assert_eq "$(echo "$SW" | jq -r '[.Report.Deleted[].Path] | join(" ")')" "sealed/s-t01000-0" "unpinned: deleted"
[ -e "$T/w1/.trash/$(id_of sealed/s-t01000-0)" ] && fail "the aborted sector's trash is gone"
assert_eq "$("$SM" gc list --state deleted --json --home "$H" | jq length)" "3" "three marks deleted"
[ -f "$T/w1/sealed/s-t01000-2" ] || fail "the live sector is untouched"

# ---- unapproved marks are never swept; an unpin of something not pinned is an error ----
"$SM" gc sweep --home "$H" >/dev/null
[ -f "$T/w1/unsealed/not-a-piece" ] || fail "the unapproved orphan stays"
assert_contains "$("$SM" gc unpin s-t01000-9 --home "$H" 2>&1 || true)" "is not pinned"

# ---- a policy change (SIGHUP): one more replica wanted on the warm tier ----
sed -i 's/policy = { unsealed = { hot = 1; }; sealed = { warm = 1; }; };/policy = { unsealed = { hot = 1; warm = 1; }; sealed = { warm = 1; }; };/' "$H/manager.cfg"
grep -q 'hot = 1; warm = 1' "$H/manager.cfg" || fail "the config was edited"
kill -HUP "$MPID"
reloaded() { grep -q "reloaded" "$T/manager.log"; }
sp_wait_for 10 reloaded
FIX=$("$SM" replicas fix --apply --json --home "$H")
assert_eq "$(echo "$FIX" | jq -r '[.Report.Actions[] | "\(.Object) \(.Tier) \(.To) \(.Result)"] | join(";")')" "$P warm w1 done" \
    "the new policy's warm replica is made"
cmp "$T/w1/unsealed/$P" "$T/p.bin" || fail "warm copy"
st_stop
echo "storage gc: ok"
