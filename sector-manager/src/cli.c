/* cli.c — the sector-manager command table: daemon, configuration, admin commands and
 * the RPC load generator, each with its full help text. */
#include "sm_cli.h"

#define HOME_HELP                                                                                 \
    "  --home DIR     the manager's home (default $SEALPIPE_MANAGER_HOME, else\n"                   \
    "                 ~/.sealpipe-manager)\n"
#define JSON_HELP "  --json         print the daemon's answer as JSON\n"
#define ADMIN_NOTE                                                                                \
    "Talks to the running daemon of the home (address from <home>/api) with the admin\n"          \
    "token in <home>/admin.token.\n"

const sp_cmd sm_cmds[] = {
    { "init", sm_cmd_init, "create a manager home (config, database, token secret, tokens)",
      "init [--home DIR]\n\n"
      "Creates the home directory (mode 0700) with a commented manager.cfg, the sqlite\n"
      "database and its local chain, a token secret (0600), the piece store, and an admin\n"
      "and a worker token, which it prints and stores in admin.token and worker.token.\n"
      "Refuses a directory that already holds a manager home.\n\n" HOME_HELP },
    { "run", sm_cmd_run, "run the daemon",
      "run [--home DIR] [--config FILE]\n\n"
      "Serves the JSON-RPC API (/rpc/v0), piece downloads (/pieces/<cid>), block and piece\n"
      "retrieval (/ipfs/<cid>, /piece/<cid>), /metrics and /healthcheck on api.listen, and runs\n"
      "the storage service (heartbeats, indexing, replicas, moves, scrub, GC).  SIGTERM or\n"
      "SIGINT stop it cleanly (requests in flight finish, the database is closed); SIGHUP\n"
      "reloads the configuration.  Logs go to stderr; SEALPIPE_LOG=debug raises the level.\n\n"
      HOME_HELP
      "  --config FILE  configuration file (default <home>/manager.cfg)\n" },
    { "config default", sm_cmd_config_default, "print the commented default manager.cfg",
      "config default\n\nPrints the manager.cfg that `init` writes.\n" },
    { "config check", sm_cmd_config_check, "check a manager.cfg and list every problem",
      "config check [--home DIR] [--config FILE]\n\n"
      "Loads the configuration like `run` and prints every problem as FILE:LINE: key: what\n"
      "is wrong.  Exits 0 when the file is valid, 1 otherwise.\n\n" HOME_HELP
      "  --config FILE  file to check (default <home>/manager.cfg)\n" },
    { "sectors list", sm_cmd_sectors_list, "list sectors",
      "sectors list [--state S] [--miner ID] [--limit N] [--json] [--home DIR]\n\n"
      "Lists sectors with their state (the last state their worker reported, or Proving /\n"
      "Aborted), worker and last update.\n\n"
      "  --state S      only sectors in state S (e.g. PC1Done, Proving, Aborted)\n"
      "  --miner ID     only this miner's sectors (1000 or f01000)\n"
      "  --limit N      at most N sectors\n" JSON_HELP HOME_HELP "\n" ADMIN_NOTE },
    { "sectors show", sm_cmd_sectors_show, "show one sector with its history",
      "sectors show SECTOR [--miner ID] [--json] [--home DIR]\n\n"
      "SECTOR is s-t01000-5, f01000-5 or 1000-5, or a number with --miner.  Shows state,\n"
      "ticket, precommit, seed, proof, deals, store and every recorded transition.\n\n"
      JSON_HELP HOME_HELP "\n" ADMIN_NOTE },
    { "sectors abort", sm_cmd_sectors_abort, "abort a sector (its worker drops it)",
      "sectors abort SECTOR [--reason TEXT] [--miner ID] [--json] [--home DIR]\n\n"
      "Marks the sector aborted; its worker is told at its next report and drops it.  Its\n"
      "deals go back to the queue and its store reservation is released.  The sector\n"
      "number is never reused.  A proving sector cannot be aborted.\n\n"
      "  --reason TEXT  why (shown to the worker and in `sectors show`)\n" JSON_HELP HOME_HELP
      "\n" ADMIN_NOTE },
    { "sectors restore", sm_cmd_sectors_restore, "undo an admin abort",
      "sectors restore SECTOR [--miner ID] [--json] [--home DIR]\n\n"
      "Puts an aborted sector back in the state it had, as long as its worker has not\n"
      "discarded it yet and its deals were not given to another sector.\n\n"
      JSON_HELP HOME_HELP "\n" ADMIN_NOTE },
    { "workers list", sm_cmd_workers_list, "list workers and their last ping",
      "workers list [--json] [--home DIR]\n\n" JSON_HELP HOME_HELP "\n" ADMIN_NOTE },
    { "storage list", sm_cmd_storage_list, "list persist stores with usage and reservations",
      "storage list [--json] [--home DIR]\n\n"
      "Shows each store's capacity bar (# stored or used by others, * reserved, . free),\n"
      "reservations, sectors stored, weight, tier and allowed miners.\n\n"
      JSON_HELP HOME_HELP "\n" ADMIN_NOTE },
    { "storage attach", sm_cmd_storage_attach, "attach a persist store at run time",
      "storage attach PATH --name NAME [--weight N] [--tier hot|warm|cold] [--media nvme|hdd|object]\n"
      "                      [--readonly] [--allow-miner ID]... [--deny-miner ID]... [--capacity SIZE]\n"
      "                      [--min-free PCT] [--allow-type T]... [--deny-type T]... [--domain D]\n"
      "                      [--json] [--home DIR]\n\n"
      "PATH must be a directory on the manager's machine; a sectorstore.json (lotus fields,\n"
      "ID = NAME, plus Tier, Media, MinFreePct, Domain) is written into it unless one is\n"
      "there, whose ID must then be NAME.  Workers name the store NAME in their `attached`\n"
      "list.  File types T: sealed, cache, unsealed, piece, block (sealed sectors need sealed\n"
      "and cache, deal data unsealed).  The failure domain (\"rack-a/host-3\") keeps replicas of\n"
      "one file apart.\n\n" JSON_HELP HOME_HELP "\n" ADMIN_NOTE },
    { "storage redeclare", sm_cmd_storage_redeclare, "re-read stores' sectorstore.json and register the files they hold",
      "storage redeclare [NAME] [--json] [--home DIR]\n\n"
      "Reads <path>/sectorstore.json of the store attached with `storage attach` (every such\n"
      "store without NAME) and applies its fields (Weight, CanStore/ReadOnly, MaxStorage,\n"
      "AllowTypes, DenyTypes, AllowMiners, DenyMiners, Tier, Media, MinFreePct, Domain); then\n"
      "scans the store: files of known sectors and pieces with the right size become replicas,\n"
      "recorded replicas whose files are gone become missing (the reconciler re-creates them).\n"
      "Stores of manager.cfg are changed there.\n\n" JSON_HELP HOME_HELP "\n" ADMIN_NOTE },
    { "storage job", sm_cmd_storage_job, "run a storage job now and print its report",
      "storage job KIND [--apply] [--deep] [--json] [--home DIR]\n\n"
      "KIND: index, copies, reconcile (--apply to copy), moves (tier move rules), scrub (--deep),\n"
      "gc-mark, gc-sweep, unseal (verify delivered unsealed data), health (heartbeats),\n"
      "redeclare.  They also run on their own schedule (manager.cfg storage group).\n\n"
      JSON_HELP HOME_HELP "\n" ADMIN_NOTE },
    { "storage copies", sm_cmd_storage_copies, "list the copy and move journal",
      "storage copies [--limit N] [--json] [--home DIR]\n\n"
      "The newest copies and tier moves with their state (planned, copying, switched, done,\n"
      "failed): a move deletes its source only after the copy was verified and recorded.\n\n"
      "  --limit N      at most N entries (default 50)\n" JSON_HELP HOME_HELP "\n" ADMIN_NOTE },
    { "storage detach", sm_cmd_storage_detach, "detach a store attached with `storage attach`",
      "storage detach NAME [--home DIR]\n\n"
      "Refused while sectors hold reservations in it, and for stores of manager.cfg.\n\n"
      HOME_HELP "\n" ADMIN_NOTE },
    { "storage set-weight", sm_cmd_storage_set_weight, "change a store's placement weight",
      "storage set-weight NAME WEIGHT [--json] [--home DIR]\n\n"
      JSON_HELP HOME_HELP "\n" ADMIN_NOTE },
    { "pieces import", sm_cmd_pieces_import, "import a deal piece and queue it for a miner",
      "pieces import FILE --miner ID [--json] [--home DIR]\n\n"
      "Computes the piece's CommP while copying FILE into the piece store under its piece\n"
      "CID, then queues a deal of it for the miner; AcquireDeals packs it into a sector of\n"
      "that miner when the miner has deals = true.\n\n" JSON_HELP HOME_HELP "\n" ADMIN_NOTE },
    { "pieces list", sm_cmd_pieces_list, "list imported pieces and their deals",
      "pieces list [--limit N] [--json] [--home DIR]\n\n" JSON_HELP HOME_HELP
      "\n" ADMIN_NOTE },
    { "pieces show", sm_cmd_pieces_show, "show a piece: deals, block index, copies, blocks",
      "pieces show PIECE-CID [--blocks N] [--json] [--home DIR]\n\n"
      "Shows the piece's deals, its block index (CAR or raw, roots), every copy of its bytes\n"
      "(replicas on stores with their state, the piece store's file), unseal tasks, and its\n"
      "blocks with their CIDs and offsets.\n\n"
      "  --blocks N     list at most N blocks (default 1000)\n" JSON_HELP HOME_HELP
      "\n" ADMIN_NOTE },
    { "blocks stat", sm_cmd_blocks_stat, "where a block is: pieces, sectors, copies, caches",
      "blocks stat CID [--json] [--home DIR]\n\n"
      "CID is a CIDv0 (Qm...) or CIDv1 (b...).  Shows the pieces holding the block with its\n"
      "offset, the sectors they were sealed into, the copies of each piece and whether the\n"
      "block is in the L1/L2 caches.\n\n" JSON_HELP HOME_HELP "\n" ADMIN_NOTE },
    { "blocks get", sm_cmd_blocks_get, "fetch a block through the retrieval path",
      "blocks get CID [--out FILE] [--car] [--home DIR]\n\n"
      "GETs /ipfs/<CID> from the daemon with the admin token (caches, then copies, as any\n"
      "client), checks the bytes against the CID, and writes them to FILE or stdout.  --car\n"
      "fetches a CARv1 holding the block.  A block whose data is being unsealed fails with\n"
      "the server's Retry-After.\n\n" HOME_HELP "\n" ADMIN_NOTE },
    { "index rebuild", sm_cmd_index_rebuild, "re-derive the block index from the stored pieces",
      "index rebuild [PIECE-CID] [--json] [--home DIR]\n\n"
      "Indexes every piece again (or one): CAR payloads by their blocks' CIDs, each block's\n"
      "hash checked, other payloads as 1 MiB raw blocks.  Reads the piece store's file or an\n"
      "unsealed copy.\n\n" JSON_HELP HOME_HELP "\n" ADMIN_NOTE },
    { "replicas fix", sm_cmd_replicas_fix, "count replicas against the policy and repair (dry run by default)",
      "replicas fix [--apply] [--json] [--home DIR]\n\n"
      "For every sealed sector and piece, counts healthy replicas per tier (on stores that exist\n"
      "and pass their heartbeat, not flagged by scrub) against manager.cfg's storage.policy and\n"
      "prints what would be copied where (distinct failure domains, fallback tiers when a tier is\n"
      "full).  --apply makes the copies (copy, verify, record).  Deal data with no copy left\n"
      "gets an unseal task; excess replicas are left to `gc mark`.\n\n"
      "  --apply        carry the actions out\n" JSON_HELP HOME_HELP "\n" ADMIN_NOTE },
    { "scrub", sm_cmd_scrub, "check replicas (existence and size, or --deep)",
      "scrub [--deep] [--json] [--home DIR]\n\n"
      "Light: every replica's files exist with their recorded sizes.  --deep: blocks re-hashed\n"
      "against their CIDs and CommP of deal data; PoSt vanilla proofs on random challenges for\n"
      "sealed sectors.  Reads are rate-limited (storage.scrub.rate).  Findings mark replicas\n"
      "missing or corrupt and start a repair.\n\n"
      "  --deep         deep scrub\n" JSON_HELP HOME_HELP "\n" ADMIN_NOTE },
    { "gc list", sm_cmd_gc_list, "list GC marks",
      "gc list [--state marked|approved|trashed|deleted|cancelled] [--json] [--home DIR]\n\n"
      "Without --state: what is marked, approved or in a trash.\n\n" JSON_HELP HOME_HELP "\n" ADMIN_NOTE },
    { "gc mark", sm_cmd_gc_mark, "mark unreferenced files now",
      "gc mark [--json] [--home DIR]\n\n"
      "Marks replicas of aborted sectors, replicas that failed scrub once their file is whole\n"
      "elsewhere, replicas beyond the policy, and orphans (files no record names, older than\n"
      "storage.gc.orphan_age).  Nothing pinned or referenced is marked.\n\n"
      JSON_HELP HOME_HELP "\n" ADMIN_NOTE },
    { "gc approve", sm_cmd_gc_approve, "approve GC marks",
      "gc approve ID... | --all [--home DIR]\n\n" HOME_HELP "\n" ADMIN_NOTE },
    { "gc sweep", sm_cmd_gc_sweep, "trash approved marks, delete trash past retention",
      "gc sweep [--json] [--home DIR]\n\n"
      "Checks every approved mark again (pinned or referenced meanwhile: cancelled), moves its\n"
      "files to <store>/.trash/<id>/ and deletes trash older than storage.gc.retention.\n\n"
      JSON_HELP HOME_HELP "\n" ADMIN_NOTE },
    { "gc pin", sm_cmd_gc_pin, "protect a sector, piece or file from GC and moves",
      "gc pin TARGET [--note TEXT] [--home DIR]\n\n"
      "TARGET: a sector (s-t01000-5), a piece CID, or an orphan as `gc list` shows it\n"
      "(orphan:<store>/<path>).\n\n" HOME_HELP "\n" ADMIN_NOTE },
    { "gc unpin", sm_cmd_gc_unpin, "remove a pin", "gc unpin TARGET [--home DIR]\n\n" HOME_HELP "\n" ADMIN_NOTE },
    { "gc pins", sm_cmd_gc_pins, "list pins (gc pin and manager.cfg)",
      "gc pins [--json] [--home DIR]\n\n" JSON_HELP HOME_HELP "\n" ADMIN_NOTE },
    { "backup create", sm_cmd_backup_create, "consistent snapshot of the database (daemon running)",
      "backup create FILE [--home DIR]\n\n"
      "Copies the home's database with sqlite's online backup API in one read transaction (a\n"
      "consistent state while the daemon keeps writing), checks it with PRAGMA\n"
      "integrity_check and stores it as FILE (mode 0600).\n\n" HOME_HELP },
    { "backup restore", sm_cmd_backup_restore, "replace the database with a backup (daemon stopped)",
      "backup restore FILE [--home DIR]\n\n"
      "Refused while the daemon runs.  Checks FILE (integrity_check, known schema), migrates it\n"
      "to this version and installs it as the home's database; the next start continues sector\n"
      "numbers above the durable limits recorded in it.\n\n" HOME_HELP },
    { "chain head", sm_cmd_chain_head, "show the local chain's head and parameters",
      "chain head [--json] [--home DIR]\n\n" JSON_HELP HOME_HELP "\n" ADMIN_NOTE },
    { "miners list", sm_cmd_miners_list, "list configured miners and their sector numbers",
      "miners list [--json] [--home DIR]\n\n" JSON_HELP HOME_HELP "\n" ADMIN_NOTE },
    { "auth create-token", sm_cmd_auth_create_token, "create an API token",
      "auth create-token --scope worker|admin|retrieval [--ttl DURATION] [--home DIR]\n\n"
      "Signs a token with the home's secret and prints it alone on the last line.  worker\n"
      "tokens call the Venus.* methods and download pieces; admin tokens call everything.\n\n"
      "  --scope S      worker, admin or retrieval (GET /ipfs and /piece only)\n"
      "  --ttl D        expires after D (\"24h\", \"30d\"); default: never\n" HOME_HELP },
    { "bench rpc", sm_cmd_bench_rpc, "RPC load generator (requests/s and latency)",
      "bench rpc [--home DIR | --url URL --token-file FILE]\n"
      "                      [--clients N] [--seconds S] [--method alloc|report|mixed|ping] [--miner ID]\n"
      "                      [--json]\n\n"
      "Opens N keep-alive connections to the manager and sends JSON-RPC requests as fast as\n"
      "the answers come back, then prints requests/s, errors and latency percentiles.\n"
      "alloc = Venus.AllocateSector, report = Venus.ReportState on sectors it allocated\n"
      "first, mixed = one AllocateSector per 15 ReportState, ping = Venus.WorkerPing.\n\n"
      "  --clients N    concurrent connections (default 32)\n"
      "  --seconds S    duration (default 5)\n"
      "  --token-file F token to send (default <home>/admin.token)\n" JSON_HELP HOME_HELP },
    { "bench retrieval", sm_cmd_bench_retrieval, "block and piece retrieval load generator",
      "bench retrieval --cids FILE [--home DIR | --url URL --token-file FILE] [--clients N]\n"
      "                      [--seconds S] [--piece CID --piece-size SIZE --range SIZE [--once]]\n"
      "                      [--json]\n"
      "bench retrieval --make-car FILE --blocks N --block-size SIZE\n\n"
      "Closed-loop GETs over N keep-alive connections: /ipfs/<cid>?format=raw for the CIDs in\n"
      "FILE (one per line, in turn), or with --piece, /piece/<cid> with Range requests of SIZE\n"
      "bytes walking the piece (--once: every range read once, split among the clients, then\n"
      "stop).  Prints requests/s, MB/s and latency percentiles.  --make-car\n"
      "writes a data set: a CARv1 of N random raw blocks and FILE.cids with their CIDs.\n\n"
      "  --clients N    concurrent connections (default 8)\n"
      "  --seconds S    duration (default 5)\n" JSON_HELP HOME_HELP },
    { NULL, NULL, NULL, NULL },
};
