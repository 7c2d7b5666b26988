#!/bin/bash
# storage_repair.sh — self-healing on a real sector-manager with the caches off, so every
# read goes to a replica:
#   1. two deal pieces get two hot replicas each, in different racks (`replicas fix`
#      plans as a dry run, then --apply copies)
#   2. a flipped byte in one replica: `scrub --deep` finds it (block hash / CommP), the
#      repair it starts restores the replica from the other one; a truncated replica is
#      found by a light scrub and restored too; retrieval keeps working meanwhile
#   3. a sealed sector with two warm replicas passes a deep scrub (PoSt vanilla proofs on
#      random challenges); one replica's sealed file overwritten: the deep scrub fails it
#      and the repair copies it back from the other
#   4. a whole store directory deleted: its heartbeat fails and the repair re-creates its
#      replicas in another failure domain
#   5. a tier move (hot -> warm) killed with kill -9 while its copy is written but not
#      verified, and again after the copy was recorded but before the source was deleted:
#      each restart resumes from the journal, and at the end every object has exactly its
#      two verified replicas on the warm tier, no source file, no temporary file.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/storage_lib.sh"

for s in hotA hotB hotC warm1 warm2; do mkdir -p "$T/$s"; done
st_init "persist_stores = (
  { name = \"hotA\"; path = \"$T/hotA\"; tier = \"hot\"; domain = \"rack-a/h1\"; allow_types = [ \"unsealed\" ]; },
  { name = \"hotB\"; path = \"$T/hotB\"; tier = \"hot\"; domain = \"rack-b/h1\"; allow_types = [ \"unsealed\" ]; },
  { name = \"hotC\"; path = \"$T/hotC\"; tier = \"hot\"; domain = \"rack-c/h1\"; allow_types = [ \"unsealed\" ]; },
  { name = \"warm1\"; path = \"$T/warm1\"; tier = \"warm\"; domain = \"rack-a/h2\"; },
  { name = \"warm2\"; path = \"$T/warm2\"; tier = \"warm\"; domain = \"rack-b/h2\"; } );
storage = {
  policy = { sealed = { warm = 2; }; unsealed = { hot = 2; }; };
  moves = ( { type = \"unsealed\"; from = \"hot\"; to = \"warm\"; age = \"1s\"; } );
  move_interval = \"1h\"; tick = \"100ms\";
  health = { interval = \"200ms\"; cooldown = \"2s\"; };
  reconcile = { interval = \"0\"; };
  scrub = { light_every = \"0\"; deep_every = \"0\"; rate = \"0\"; post_challenges = 20; };
  gc = { mark_every = \"0\"; };
  cache = { l1_size = \"0\"; l2_size = \"0\"; }; };"
st_start

head -c 300000 /dev/urandom >"$T/p1.bin"
CAR="$SP_TESTS/vectors/car/carv1-basic.car"
P1=$(st_import "$T/p1.bin")
P2=$(st_import "$CAR")
sp_wait_for 20 indexed "$P1" done
sp_wait_for 20 indexed "$P2" done

# ---- 1. replicas: dry run, then apply ----
DRY=$("$SM" replicas fix --json --home "$H")
assert_eq "$(echo "$DRY" | jq '.Report.Actions | length')" "4" "dry run plans 2 copies per piece"
assert_eq "$(echo "$DRY" | jq -r '[.Report.Actions[].Result] | unique | join(",")')" "planned (dry run)" "nothing copied yet"
[ -z "$(ls "$T"/hot?/unsealed 2>/dev/null)" ] || fail "a dry run copied files"
FIX=$("$SM" replicas fix --apply --json --home "$H")
assert_eq "$(echo "$FIX" | jq -r '[.Report.Actions[].Result] | unique | join(",")')" "done" "copies made"
copies_ok "$P1" 2 || fail "P1 has two replicas"
copies_ok "$P2" 2 || fail "P2 has two replicas"
racks() { # racks CID -> the racks of its ok replicas, sorted
    piece_json "$1" | jq -r '[.Copies[] | select(.Store != "" and .State == "ok") | .Store] | join(" ")' |
        tr ' ' '\n' | sed 's/hot\(.\)/\1/' | sort | tr '\n' ' '
}
for p in "$P1" "$P2"; do
    r=$(racks "$p")
    [ "$(echo "$r" | wc -w)" = 2 ] && [ "${r:0:1}" != "${r:2:1}" ] || fail "replicas of $p share a rack: $r"
done
assert_eq "$("$SM" replicas fix --json --home "$H" | jq '.Report.Actions | length')" "0" "whole: nothing to do"

# ---- 2. a flipped byte: deep scrub finds it, repair restores it ----
S=$(piece_json "$P1" | jq -r '[.Copies[] | select(.Store != "") | .Store][0]')
printf '\xff' | dd of="$T/$S/unsealed/$P1" bs=1 seek=1000 conv=notrunc status=none
cmp -s "$T/$S/unsealed/$P1" "$T/p1.bin" && fail "the byte was not flipped"
SC=$("$SM" scrub --deep --json --home "$H")
assert_eq "$(echo "$SC" | jq -r --arg s "$S" '[.Report.Findings[] | select(.Store == $s) | .State] | join(",")')" "corrupt" "deep scrub finds the flipped byte"
assert_contains "$(echo "$SC" | jq -r '.Report.Findings[0].Finding')" "does not match its CID"
# the scrub's findings started a repair
restored() { cmp -s "$T/$S/unsealed/$P1" "$T/p1.bin" && copies_ok "$P1" 2; }
sp_wait_for 20 restored
# retrieval never stopped: the block holding byte 1000
B=$(piece_json "$P1" | jq -r '.Blocks[0].CID')
assert_eq "$(get_block "$B" "$T/b")" "200" "block served"
cmp -s "$T/b" "$T/p1.bin" || fail "block bytes"
# a truncated replica: a light scrub is enough
S2=$(piece_json "$P2" | jq -r '[.Copies[] | select(.Store != "") | .Store][1]')
truncate -s 100 "$T/$S2/unsealed/$P2"
SC=$("$SM" scrub --json --home "$H")
assert_eq "$(echo "$SC" | jq -r --arg s "$S2" '[.Report.Findings[] | select(.Store == $s) | .State] | join(",")')" "corrupt" "light scrub finds the size"
restored2() { cmp -s "$T/$S2/unsealed/$P2" "$CAR" && copies_ok "$P2" 2; }
sp_wait_for 20 restored2
# while one replica is bad, blocks are read from the good one
printf '\x00' | dd of="$T/$S2/unsealed/$P2" bs=1 seek=362 conv=notrunc status=none
cid=$(jq -r '.blocks[2].cid["/"]' "$SP_TESTS/vectors/car/carv1-basic.json")
for _ in 1 2 3; do assert_eq "$(get_block "$cid" "$T/b")" "200" "block from the good copy"; done
assert_eq "$(cat "$T/b")" "cccc" "the block's bytes"
"$SM" scrub --deep --home "$H" >/dev/null
sp_wait_for 20 restored2

# ---- 3. a sealed sector: PoSt challenges, a destroyed replica repaired ----
assert_eq "$(call Venus.AllocateSector '[{"AllowedMiners":[1000],"AllowedProofTypes":[5]}]' .ID.Number)" "0" "sector 0"
assert_eq "$(call Venus.AcquireDeals "[$(sid 0),null]" '.[0].Piece.PieceCID["/"]')" "$P2" "the CAR is sealed"
for st in Allocated:DealsAcquired DealsAcquired:PieceAdded PieceAdded:TreeDBuilt; do report 0 "${st%:*}" "${st#*:}"; done
st_seal 0 5 StackedDrg2KiBV1_1 "$CAR"
"$SM" replicas fix --apply --home "$H" >/dev/null
[ -f "$T/warm1/sealed/s-t01000-0" ] && [ -f "$T/warm2/sealed/s-t01000-0" ] || fail "sealed sector on both warm stores"
cmp "$T/warm1/sealed/s-t01000-0" "$T/warm2/sealed/s-t01000-0" || fail "sealed replicas differ"
SC=$("$SM" scrub --deep --json --home "$H")
assert_eq "$(echo "$SC" | jq '.Report.Findings | length')" "0" "deep scrub passes"
[ "$(echo "$SC" | jq '.Report.PoStChallenges')" -ge 40 ] || fail "PoSt challenges on both sealed replicas: $SC"
OTHER=warm2; [ "$STORE_0" = warm2 ] && OTHER=warm1
head -c 2048 /dev/urandom >"$T/$OTHER/sealed/s-t01000-0"
SC=$("$SM" scrub --deep --json --home "$H")
assert_eq "$(echo "$SC" | jq -r --arg s "$OTHER" '[.Report.Findings[] | select(.Store == $s) | .Object] | join(",")')" "s-t01000-0" "PoSt catches the destroyed replica"
assert_contains "$(echo "$SC" | jq -r '.Report.Findings[0].Finding')" "PoSt vanilla proof failed"
sealed_back() { cmp -s "$T/$OTHER/sealed/s-t01000-0" "$T/seal0/sealed"; }
sp_wait_for 20 sealed_back
assert_eq "$("$SM" scrub --deep --json --home "$H" | jq '.Report.Findings | length')" "0" "repaired: deep scrub passes again"

# ---- 4. a store directory deleted: replicas re-created in another failure domain ----
GONE=$(piece_json "$P1" | jq -r '[.Copies[] | select(.Store != "") | .Store][0]')
rm -rf "${T:?}/$GONE"
down() { [ "$(metric "sealpipe_storage_store_up{store=\"$GONE\"}")" = 0 ]; }
sp_wait_for 10 down
assert_contains "$("$SM" storage list --home "$H")" "Health: FAILING"
FIX=$("$SM" replicas fix --apply --json --home "$H")
[ "$(echo "$FIX" | jq '[.Report.Actions[] | select(.Result == "done")] | length')" -ge 1 ] || fail "repairs made: $FIX"
for p in "$P1" "$P2"; do
    copies_ok "$p" 2 || fail "$p is whole again"
    stores=$(piece_json "$p" | jq -r '[.Copies[] | select(.Store != "" and .State == "ok") | .Store] | join(" ")')
    case " $stores " in *" $GONE "*) fail "$p still counts a replica on the deleted store";; esac
    r=$(racks "$p")
    [ "${r:0:1}" != "${r:2:1}" ] || fail "replicas of $p share a rack after the repair: $r"
done

# ---- 5. a tier move killed twice, resumed ----
st_stop
mkdir -p "$T/pause"
st_start SEALPIPE_TEST_PAUSE=copy-written SEALPIPE_TEST_PAUSE_DIR="$T/pause"
("$SM" storage job moves --home "$H" >/dev/null 2>&1 &)
sp_wait_for 20 test -f "$T/pause/copy-written.paused"
CJ=$("$SM" storage copies --json --home "$H")
MOVE=$(echo "$CJ" | jq -c '[.[] | select(.Move and .State == "copying")][0]')
[ "$MOVE" != null ] || fail "a move is being copied: $CJ"
MID=$(echo "$MOVE" | jq -r .ID); MOBJ=$(echo "$MOVE" | jq -r .Object)
MSRC=$(echo "$MOVE" | jq -r .From); MDST=$(echo "$MOVE" | jq -r .To)
st_kill9
ls "$T/$MDST/unsealed/.copy-$MID.$MOBJ" >/dev/null || fail "the copy's temporary file is there"
[ -f "$T/$MDST/unsealed/$MOBJ" ] && fail "the copy is not in place before it is verified"
[ -f "$T/$MSRC/unsealed/$MOBJ" ] || fail "the source is untouched"
SRC_FILE="$T/p1.bin"; [ "$MOBJ" = "$P2" ] && SRC_FILE="$CAR"
# restart: the journal resumes the copy; pause once it is recorded
st_start SEALPIPE_TEST_PAUSE=copy-written,move-switched SEALPIPE_TEST_PAUSE_DIR="$T/pause"
sp_wait_for 20 test -f "$T/pause/move-switched.paused"
st_kill9
cmp "$T/$MDST/unsealed/$MOBJ" "$SRC_FILE" || fail "the moved copy is complete"
ls "$T/$MDST/unsealed/" | grep -q '^\.copy-' && fail "temporary files left"
[ -f "$T/$MSRC/unsealed/$MOBJ" ] || fail "the source is deleted only after the switch"
# the last restart deletes the source
st_start
gone_src() { [ ! -e "$T/$MSRC/unsealed/$MOBJ" ]; }
sp_wait_for 20 gone_src
assert_eq "$("$SM" storage copies --json --home "$H" | jq -r --argjson id "$MID" '.[] | select(.ID == $id) | .State')" "done" "the move is done"
# the other moves, and the end state (the reconciler drops the records of the replicas
# that were on the deleted store, now that the pieces are whole without them)
"$SM" storage job moves --home "$H" >/dev/null
assert_eq "$("$SM" replicas fix --apply --json --home "$H" | jq '.Report.Actions | length')" "0" "the policy holds (moves applied)"
for p in "$P1" "$P2"; do
    PJ=$(piece_json "$p")
    assert_eq "$(echo "$PJ" | jq -r '[.Copies[] | select(.Store != "") | "\(.Store):\(.Tier):\(.State)"] | sort | join(" ")')" \
        "warm1:warm:ok warm2:warm:ok" "$p: exactly two verified replicas on the warm tier"
    f="$T/p1.bin"; [ "$p" = "$P2" ] && f="$CAR"
    cmp "$T/warm1/unsealed/$p" "$f" || fail "warm1 copy of $p"
    cmp "$T/warm2/unsealed/$p" "$f" || fail "warm2 copy of $p"
done
left=$(find "$T"/hot? -name 'baga*' -o -name '.copy-*' 2>/dev/null)
[ -z "$left" ] || fail "files left on the hot tier: $left"
left=$(find "$T"/warm? -name '.copy-*')
[ -z "$left" ] || fail "temporary files left: $left"
assert_eq "$("$SM" storage copies --limit 100 --json --home "$H" | jq -r '[.[] | .State] | unique | join(",")')" "done" "every copy and move done"
assert_eq "$(get_block "$cid" "$T/b")" "200" "served from the warm tier"
[ "$(metric 'sealpipe_retrieval_served_total{source="warm"}')" -ge 1 ] || fail "counted as warm"

st_stop
echo "storage repair: ok"
