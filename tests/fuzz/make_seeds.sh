#!/usr/bin/env bash
# make_seeds.sh [BIN_DIR] — (re)writes the seed corpus tests/fuzz/corpus/<target>/ from real
# inputs: requests of docs/rpc.md and the unit tests, the shipped configs, the IPLD CAR
# fixtures (tests/vectors/car), and 2KiB C1 outputs / proofs / PoSt proofs / t_aux /
# PC1 output made here by `sealproof` (BIN_DIR, default bin/) from fixed inputs, plus the
# curio 32GiB vanilla PoSt vector.  Byte 0 of every seed selects the target's mode (see
# each fuzz_<target>.c).  Needs bash, python3 (byte packing) and jq.  The seeds are checked
# in; run this again only when a format changes.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BIN=${1:-$ROOT/bin}
C=$ROOT/tests/fuzz/corpus
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

# seed TARGET NAME MODE_BYTE [FILE]: MODE_BYTE (decimal) then FILE (or stdin) as one seed
seed() {
    local target=$1 name=$2 mode=$3 src=${4:--}
    mkdir -p "$C/$target"
    { printf "\\$(printf '%03o' "$mode")"; cat "$src"; } > "$C/$target/$name"
}
hexbin() { python3 -c 'import sys; sys.stdout.buffer.write(bytes.fromhex(sys.argv[1]))' "$1"; }
le64() { python3 -c 'import sys,struct; sys.stdout.buffer.write(struct.pack("<Q", int(sys.argv[1])))' "$1"; }

rm -rf "${C:?}"/*

# ---- rpc_manager: 1 worker token, 2 admin token, 0 none, 3 raw token line, 4 signed payload
n=0
rpc() {   # rpc MODE METHOD PARAMS [PREFIX_LINE]
    n=$((n + 1))
    { [ $# -ge 4 ] && printf '%s\n' "$4"
      printf '{"jsonrpc":"2.0","id":%d,"method":"%s","params":%s}' "$n" "$2" "$3"; } |
        seed rpc_manager "$(printf '%03d' $n)-${2#*.}" "$1"
}
SID='{"Miner":1000,"Number":0}'
rpc 1 Venus.WorkerPing '[{"Name":"sealer-a01","Dest":"10.0.0.21:17890","Version":"0.1.0","Summary":{"Threads":4,"Empty":1,"Paused":0,"Running":3,"Waiting":0,"Errors":0}}]'
rpc 1 Venus.AllocateSector '[{"AllowedMiners":[1000],"AllowedProofTypes":[5]}]'
rpc 1 Venus.AllocateSector '[{"AllowedMiners":null,"AllowedProofTypes":null}]'
rpc 1 Venus.AcquireDeals "[$SID,{\"MaxDeals\":null,\"MinUsedSpace\":null}]"
rpc 1 Venus.AssignTicket "[$SID]"
rpc 1 Venus.SubmitPreCommit '[{"ID":{"Miner":1000,"Number":0},"ProofType":5},{"CommR":[98,231,187,48,2,173,198,6,0,5,48,123,7,195,219,39,183,95,249,156,195,63,214,80,128,187,40,34,121,31,168,30],"CommD":[252,126,146,130,150,229,22,250,173,233,134,178,143,146,212,74,79,36,185,53,72,82,35,55,106,121,144,39,188,24,248,51],"Ticket":{"Ticket":"spcuWXTDfExpcFpjN9/YVKLhFtHIN8yWJzTjs7nk41Q=","Epoch":3}},false]'
rpc 1 Venus.PollPreCommitState "[$SID]"
rpc 1 Venus.StoreReserveSpace "[$SID,4096,[\"s1\"]]"
rpc 1 Venus.StoreBasicInfo '["s1"]'
rpc 1 Venus.SubmitPersisted "[$SID,\"s1\"]"
rpc 1 Venus.SubmitPersistedEx "[$SID,\"s1\",false]"
rpc 1 Venus.WaitSeed "[$SID,5]"
rpc 1 Venus.SubmitProof "[$SID,{\"Proof\":\"U1BDUAEAAAAFAAAA\"},false]"
rpc 1 Venus.PollProofState "[$SID]"
rpc 1 Venus.ReportState "[$SID,{\"Worker\":{\"Instance\":\"sealer-a01\",\"Location\":\"/mnt/nvme0/t01\"},\"StateChange\":{\"Prev\":\"TreeDBuilt\",\"Next\":\"TicketAssigned\",\"Event\":\"AssignTicket\"},\"Failure\":null}]"
rpc 1 Venus.ReportState "[$SID,{\"Worker\":{\"Instance\":\"w\"},\"StateChange\":{\"Next\":\"PC1Done\"},\"Failure\":{\"Level\":\"temporary\",\"Desc\":\"disk\"}}]"
rpc 1 Venus.ReportFinalized "[$SID]"
rpc 1 Venus.ReportAborted "[$SID,\"PC1 failed: disk full\"]"
rpc 1 Venus.AllocateUnsealSector '[{"AllowedMiners":[1000],"AllowedProofTypes":[5]}]'
rpc 1 Venus.AcquireUnsealDest "[$SID,{\"/\":\"baga6ea4seaqao7s73y24kcutaosvacpdjgfe5pw76ooefnyqw4ynr3d2y6x2mpq\"},[\"s1\"]]"
rpc 1 Venus.AchieveUnsealSector "[$SID,{\"/\":\"baga6ea4seaqao7s73y24kcutaosvacpdjgfe5pw76ooefnyqw4ynr3d2y6x2mpq\"},\"\"]"
rpc 2 Sealpipe.Version '[]'
rpc 2 Sealpipe.SectorsList '[{"State":"Aborted","Miner":1000,"Limit":10}]'
rpc 2 Sealpipe.SectorShow "[$SID]"
rpc 2 Sealpipe.SectorAbort "[$SID,\"operator\"]"
rpc 2 Sealpipe.SectorRestore "[$SID]"
rpc 2 Sealpipe.WorkersList '[]'
rpc 2 Sealpipe.StorageList '[]'
rpc 2 Sealpipe.StorageAttach '[{"Name":"s9","Path":"/nonexistent-sealpipe-store/s9","Weight":2,"Tier":"hot","ReadOnly":false,"AllowMiners":[1000],"Capacity":1048576,"Media":"nvme","MinFreePct":5,"Domain":"rack1"}]'
rpc 2 Sealpipe.StorageSetWeight '["s1",3]'
rpc 2 Sealpipe.StorageDetach '["s9"]'
rpc 2 Sealpipe.PieceStoreInfo '[]'
rpc 2 Sealpipe.PieceImport '[{"PieceCID":"baga6ea4seaqao7s73y24kcutaosvacpdjgfe5pw76ooefnyqw4ynr3d2y6x2mpq","PayloadSize":1000,"PaddedSize":2048,"Miner":1000}]'
rpc 2 Sealpipe.PiecesList '[10]'
rpc 2 Sealpipe.PieceShow '["baga6ea4seaqao7s73y24kcutaosvacpdjgfe5pw76ooefnyqw4ynr3d2y6x2mpq"]'
rpc 2 Sealpipe.ChainHead '[]'
rpc 2 Sealpipe.MinersList '[]'
rpc 2 Sealpipe.StorageJobStart '[{"Kind":"scrub","Apply":false,"Deep":false,"Store":"s1"}]'
rpc 2 Sealpipe.StorageJob '[1]'
rpc 2 Sealpipe.StorageRedeclare '["s1"]'
rpc 2 Sealpipe.StorageCopies '[10]'
rpc 2 Sealpipe.BlockStat '["bafkreidbxzk2ryxwwtqxem4l3xyyjvw35yu4tcct4cqeqxwo47zhxgxqwq"]'
rpc 2 Sealpipe.PieceBlocks '[{"/":"baga6ea4seaqao7s73y24kcutaosvacpdjgfe5pw76ooefnyqw4ynr3d2y6x2mpq"},-1,100]'
rpc 2 Sealpipe.IndexRebuild '[]'
rpc 0 Venus.AllocateSector '[]'
rpc 1 Sealpipe.SectorsList '[]'
rpc 3 Venus.AllocateSector '[]' 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJBbGxvdyI6WyJ3b3JrZXIiXX0.AAAA'
rpc 3 Venus.AllocateSector '[]' 'eyJhbGciOiJub25lIn0.eyJBbGxvdyI6WyJhZG1pbiJdfQ.'
rpc 4 Sealpipe.Version '[]' '{"Allow":["admin"],"exp":4102444800}'
rpc 4 Venus.AssignTicket "[$SID]" '{"Allow":["worker","retrieval"]}'
rpc 4 Venus.AssignTicket "[$SID]" '{"Allow":["admin"],"exp":1}'
# batches, notifications and malformed envelopes
n=$((n + 1)); printf '[{"jsonrpc":"2.0","id":1,"method":"Sealpipe.Version","params":[]},{"jsonrpc":"2.0","method":"Venus.WorkerPing","params":[{"Name":"w","Dest":"127.0.0.1:1","Version":"v"}]},{"jsonrpc":"2.0","id":"x","method":"Nope"}]' | seed rpc_manager "$n-batch" 2
n=$((n + 1)); printf '{"jsonrpc":"2.0","method":"Venus.WorkerPing","params":[{"Name":"w","Dest":"127.0.0.1:1","Version":"v"}]}' | seed rpc_manager "$n-notification" 1
n=$((n + 1)); printf '{"jsonrpc":"1.0","id":null,"method":7,"params":"x"}' | seed rpc_manager "$n-invalid" 1
n=$((n + 1)); printf '[]' | seed rpc_manager "$n-empty-batch" 1
n=$((n + 1)); printf '{"jsonrpc":"2.0","id":1,"method":"Venus.AssignTicket","params":[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]}' | seed rpc_manager "$n-nested" 1

# ---- rpc_worker: 1 the worker token, 0 none, 2 token line
n=0
wrpc() {
    n=$((n + 1))
    { [ $# -ge 4 ] && printf '%s\n' "$4"
      printf '{"jsonrpc":"2.0","id":%d,"method":"%s","params":%s}' "$n" "$2" "$3"; } |
        seed rpc_worker "$(printf '%03d' $n)-${2#*.}" "$1"
}
wrpc 1 Worker.Info '[]'
wrpc 1 Worker.ThreadsList '[]'
wrpc 1 Worker.ThreadsPause '[0]'
wrpc 1 Worker.ThreadsResume '[0,"PC1Done"]'
wrpc 1 Worker.ThreadsResume '[2]'
wrpc 1 Worker.ThreadsAbort '[1,"operator"]'
wrpc 1 Worker.ThreadsPause '[7]'
wrpc 0 Worker.Info '[]'
wrpc 2 Worker.ThreadsList '[]' 'fuzz-worker-tokeN'
n=$((n + 1)); printf '[{"jsonrpc":"2.0","id":1,"method":"Worker.ThreadsPause","params":[1]},{"jsonrpc":"2.0","method":"Worker.ThreadsResume","params":[1]}]' | seed rpc_worker "$n-batch" 1

# ---- config: 0 worker loader, 1 manager loader, 2 generic + both schemas
seed config worker.cfg 0 "$ROOT/config/worker.cfg"
seed config manager.cfg 1 "$ROOT/config/manager.cfg"
seed config generic-worker.cfg 2 "$ROOT/config/worker.cfg"
seed config generic-manager.cfg 2 "$ROOT/config/manager.cfg"
for f in "$ROOT"/config/hw/*.cfg; do
    # hardware classes inherit ../worker.cfg: inline the parent's text instead
    { grep -v '^inherit' "$ROOT/config/worker.cfg"; grep -v '^inherit' "$f"; } > "$T/hw.cfg" || true
    seed config "hw-$(basename "$f")" 0 "$T/hw.cfg"
done
printf 'worker = { name = "w"; };\nsector_manager = { url = "http://127.0.0.1:1789"; token = "t"; };\nsealing_thread = ( { location = "/tmp/t0"; plan = "unseal"; } );\nprocessors = { limitation = { concurrent = { pc1 = 2; }; }; ext_locks = { gpu = 1; }; pc1 = ( { cores = 4; numa = 0; envs = { FIL_PROOFS_USE_MULTICORE_SDR = "1"; }; } ); pc2 = ( { cores = 2; gpu = 0; locks = [ "gpu" ]; } ); };\n' | seed config worker-processors 0
printf 'big = 5000000000L;\nx = 0x7fffffff;\ny = 1.5e3;\nz = [ 1, 2, 3 ];\nl = ( { a = "b"; }, "c" );\n@include "nothing.cfg"\n' | seed config generic-values 2

# ---- car: bit 0 of byte 0 loads and hashes the block data
seed car carv1-load 1 "$ROOT/tests/vectors/car/carv1-basic.car"
seed car carv1-scan 0 "$ROOT/tests/vectors/car/carv1-basic.car"
seed car carv2-load 1 "$ROOT/tests/vectors/car/carv2-basic.car"

# ---- cid: 0 strings, 1 binary, 2 varints/base32/base58/multihash
i=0
for s in $(grep -ho '"/": *"[^"]*"' "$ROOT"/tests/vectors/car/*.json | sed 's/.*"\([^"]*\)"$/\1/' | sort -u | head -n 8) \
         baga6ea4seaqao7s73y24kcutaosvacpdjgfe5pw76ooefnyqw4ynr3d2y6x2mpq \
         BAFKREIDBXZK2RYXWWTQXEM4L3XYYJVW35YU4TCCT4CQEQXWO47ZHXGXQWQ \
         f01551220c3be55a8e2f6b4e1723b8bddf18d4db7ee29c98853e0a048eecee7f27b9af0b4 \
         zb2rhe5P4gXftAwvA4eXQ5HJwsER2owDyS9sKaQRRVQPn93bA; do
    i=$((i + 1)); printf '%s' "$s" | seed cid "str-$i" 0
done
python3 - "$C/cid" <<'EOF'
import base64, sys
d = sys.argv[1]
def b32(s):
    s = s[1:].upper()
    return base64.b32decode(s + "=" * (-len(s) % 8))
for i, s in enumerate(["bafkreidbxzk2ryxwwtqxem4l3xyyjvw35yu4tcct4cqeqxwo47zhxgxqwq",
                       "bafyreihyrpefhacm6kkp4ql6j6udakdit7g3dmkzfriqfykhjw6cad5lrm",
                       "baga6ea4seaqao7s73y24kcutaosvacpdjgfe5pw76ooefnyqw4ynr3d2y6x2mpq"]):
    open(f"{d}/bin-{i}", "wb").write(b"\x01" + b32(s) + b"trailing")
# a CIDv0 in binary is its bare sha2-256 multihash
open(f"{d}/bin-v0", "wb").write(b"\x01\x12\x20" + bytes(range(32)))
open(f"{d}/codec-varint", "wb").write(b"\x02" + bytes([0xb2, 0x40]) + b"rest")
open(f"{d}/codec-base32", "wb").write(b"\x02" + b"mfrggzdfmztwq2lknnwg23tpobyxe43uov3ho6dzpi")
open(f"{d}/codec-base58", "wb").write(b"\x02" + b"11StV1DL6CwTryKyV")
# identity multihash (code 0, length 5) over the 5 bytes that follow
open(f"{d}/codec-mh-identity", "wb").write(b"\x02\x07\x00\x05hello" + b"hello")
EOF

# ---- http_range: u64 LE entity size, then the header
r=0
for spec in "2048 bytes=0-99" "2048 bytes=100-" "2048 bytes=-500" "2048 bytes=0-0,5-9" \
            "2048 bytes=2048-" "0 bytes=0-" "18446744073709551615 bytes=18446744073709551614-" \
            "1000 Bytes = 1-2 " "1000 bytes=-0" "1000 items=0-1"; do
    r=$((r + 1)); size=${spec%% *}; hdr=${spec#* }
    { le64 "$size"; printf '%s' "$hdr"; } > "$T/range"
    mkdir -p "$C/http_range"; cp "$T/range" "$C/http_range/range-$r"
done

# ---- proofs: a 2KiB sector sealed, C1 in every format, commit proof, PoSt, t_aux, PC1 output
SP=$BIN/sealproof
T1=$(printf '%02x' $(seq 1 32) | tr -d '\n')
S1=$(printf '%02x' $(seq 101 132) | tr -d '\n')
R1=$(printf '%02x' $(seq 7 38) | tr -d '\n')
PROVER=e807000000000000000000000000000000000000000000000000000000000000
seq 1 400 | tr -d '\n' | head -c 1500 > "$T/data"
"$SP" seal --json --proof 5 --sector-id 1 --prover-id f01000 --ticket "$T1" --seed "$S1" \
    --parent-cache "$T/parents" --dir "$T/s1" --input "$T/data" > "$T/seal.json"
D=$(jq -r .comm_d "$T/seal.json"); R=$(jq -r .comm_r "$T/seal.json")
args=(--proof 5 --sector-id 1 --prover-id f01000 --ticket "$T1" --seed "$S1" --comm-d "$D"
      --comm-r "$R" --cache "$T/s1/cache" --sealed "$T/s1/sealed")
for f in native rust-json curio-bin; do "$SP" c1 "${args[@]}" --format "$f" --out "$T/c1.$f" >/dev/null; done
"$SP" c2 --c1 "$T/c1.native" --out "$T/proof" >/dev/null
"$SP" window-post --post-proof 10 --randomness "$R1" --prover-id f01000 \
    --sector "1:$R:$T/s1/cache:$T/s1/sealed" --out "$T/wpost" >/dev/null
"$SP" winning-post --post-proof 0 --randomness "$R1" --prover-id f01000 \
    --sector "1:$R:$T/s1/cache:$T/s1/sealed" --out "$T/wnpost" >/dev/null
for f in rust-bincode rust-json; do
    "$SP" vanilla-post prove --post-proof 10 --randomness "$R1" --prover-id f01000 --sector-id 1 \
        --comm-r "$R" --format "$f" --cache "$T/s1/cache" --sealed "$T/s1/sealed" --out "$T/vpost.$f" >/dev/null
done
"$SP" t-aux write --proof 5 --cache "$T/s1/cache" >/dev/null
PC1=$("$SP" pc1 --json --proof 5 --sector-id 1 --prover-id f01000 --ticket "$T1" --zero \
      --cache "$T/pc1" --parent-cache "$T/parents" --single | jq -r .pc1_output)

seed commit c1-native 0 "$T/c1.native"
{ hexbin 05; hexbin "$R$D$PROVER$T1$S1"; le64 1; cat "$T/proof"; } | seed commit seal-proof 1
{ hexbin 0a; hexbin "$R1$PROVER"; hexbin 00; le64 1; hexbin "$R"; cat "$T/wpost"; } | seed commit window-post 2
{ hexbin 00; hexbin "$R1$PROVER"; hexbin 00; le64 1; hexbin "$R"; cat "$T/wnpost"; } | seed commit winning-post 3

seed formats c1-rust-json 0 "$T/c1.rust-json"
seed formats c1-curio-bin 1 "$T/c1.curio-bin"
{ hexbin 0a; hexbin "$R1"; cat "$T/vpost.rust-bincode"; } | seed formats post-2k-bincode 2
# the curio vector's randomness is 32 zero bytes (its postpub.json)
{ hexbin 08; head -c 32 /dev/zero; cat "$ROOT/tests/vectors/curio-window-post-32g/post.vproof"; } | seed formats post-32g-curio 2
{ hexbin 0a; cat "$T/vpost.rust-json"; } | seed formats post-2k-json 3
seed formats t-aux-2k 4 "$T/s1/cache/t_aux"
seed formats p-aux-2k 4 "$T/s1/cache/p_aux"
seed formats convert-curio-bin 5 "$T/c1.curio-bin"
seed formats convert-native 5 "$T/c1.native"

for m in 0 1 2; do hexbin "$PC1" | seed pc1_output "pc1-$m" "$m"; done

# ---- dictionaries (tests/fuzz/dict/<target>.dict): the words the parsers look for
D=$ROOT/tests/fuzz/dict
mkdir -p "$D"
quote() { sed 's/^/"/; s/$/"/' | sort -u; }
{ grep -ho '{ "\(Venus\|Sealpipe\)\.[A-Za-z]*"' "$ROOT"/sector-manager/src/rpc_*.c | cut -d'"' -f2
  grep -ho '"[A-Z][A-Za-z]*"' "$ROOT"/sector-manager/src/rpc_*.c | tr -d '"'
  printf '%s\n' jsonrpc 2.0 id method params result error / Allow exp alg HS256 typ JWT worker admin retrieval
} | quote > "$D/rpc_manager.dict"
{ grep -ho '{ "Worker\.[A-Za-z]*"' "$ROOT"/worker/src/admin_api.c | cut -d'"' -f2
  printf '%s\n' jsonrpc 2.0 id method params PC1Done TreeDBuilt Aborted Empty
} | quote > "$D/rpc_worker.dict"
{ grep -ho '^ *[a-z_][a-z_0-9]* *=' "$ROOT"/config/*.cfg "$ROOT"/config/hw/*.cfg | tr -d ' ='
  printf '%s\n' inherit @include 2KiB 32GiB 30s 5min 1h L 0x true false
} | quote > "$D/config.dict"
{ jq -r 'paths | map(tostring) | .[-1]' "$T/c1.rust-json" "$T/vpost.rust-json" 2>/dev/null | grep -v '^[0-9]*$'
  printf '%s\n' StackedDrg2KiBV1_1 StackedDrg2KiBV1 Single Sub Top null
} | quote > "$D/formats.dict"
printf '%s\n' bytes= - , ' ' 0 18446744073709551615 | quote > "$D/http_range.dict"

du -sh "$C"/* "$D" | sed 's/^/corpus /'
