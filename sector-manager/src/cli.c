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
      "Serves the JSON-RPC API (/rpc/v0), piece downloads (/pieces/<cid>), /metrics and\n"
      "/healthcheck on api.listen.  SIGTERM or SIGINT stop it cleanly (requests in flight\n"
      "finish, the database is closed); SIGHUP reloads the configuration.  Logs go to\n"
      "stderr; SEALPIPE_LOG=debug raises the level.\n\n" HOME_HELP
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
      "storage attach PATH --name NAME [--weight N] [--tier hot|warm|cold]\n"
      "                      [--readonly] [--allow-miner ID]... [--deny-miner ID]... [--capacity SIZE]\n"
      "                      [--json] [--home DIR]\n\n"
      "PATH must be a directory on the manager's machine; a sectorstore.json (lotus fields,\n"
      "ID = NAME) is written into it unless one is there, whose ID must then be NAME.\n"
      "Workers name the store NAME in their `attached` list.\n\n" JSON_HELP HOME_HELP "\n" ADMIN_NOTE },
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
    { "pieces show", sm_cmd_pieces_show, "show one piece and its deals",
      "pieces show PIECE-CID [--json] [--home DIR]\n\n" JSON_HELP HOME_HELP
      "\n" ADMIN_NOTE },
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
    { NULL, NULL, NULL, NULL },
};
