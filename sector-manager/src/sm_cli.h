/* sm_cli.h — the sector-manager command table and what the admin commands share: the
 * connection to the daemon of a home (admin token from the home), RPC calls that print
 * their errors, sector ids, and output helpers (tables, --json). */
#ifndef SM_CLI_H
#define SM_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "sm_home.h"
#include "sp_cli.h"
#include "sp_jsonrpc.h"

extern const sp_cmd sm_cmds[];

/* Command entry points (one file per group: cli_daemon.c, cli_sectors.c, ...). */
int sm_cmd_init(int argc, char **argv);
int sm_cmd_run(int argc, char **argv);
int sm_cmd_config_default(int argc, char **argv);
int sm_cmd_config_check(int argc, char **argv);
int sm_cmd_sectors_list(int argc, char **argv);
int sm_cmd_sectors_show(int argc, char **argv);
int sm_cmd_sectors_abort(int argc, char **argv);
int sm_cmd_sectors_restore(int argc, char **argv);
int sm_cmd_workers_list(int argc, char **argv);
int sm_cmd_storage_list(int argc, char **argv);
int sm_cmd_storage_attach(int argc, char **argv);
int sm_cmd_storage_detach(int argc, char **argv);
int sm_cmd_storage_set_weight(int argc, char **argv);
int sm_cmd_pieces_import(int argc, char **argv);
int sm_cmd_pieces_list(int argc, char **argv);
int sm_cmd_pieces_show(int argc, char **argv);
int sm_cmd_chain_head(int argc, char **argv);
int sm_cmd_miners_list(int argc, char **argv);
int sm_cmd_auth_create_token(int argc, char **argv);
int sm_cmd_bench_rpc(int argc, char **argv);
int sm_cmd_bench_retrieval(int argc, char **argv);
int sm_cmd_storage_redeclare(int argc, char **argv);
int sm_cmd_storage_job(int argc, char **argv);
int sm_cmd_storage_copies(int argc, char **argv);
int sm_cmd_blocks_stat(int argc, char **argv);
int sm_cmd_blocks_get(int argc, char **argv);
int sm_cmd_index_rebuild(int argc, char **argv);
int sm_cmd_replicas_fix(int argc, char **argv);
int sm_cmd_scrub(int argc, char **argv);
int sm_cmd_gc_list(int argc, char **argv);
int sm_cmd_gc_mark(int argc, char **argv);
int sm_cmd_gc_approve(int argc, char **argv);
int sm_cmd_gc_sweep(int argc, char **argv);
int sm_cmd_gc_pin(int argc, char **argv);
int sm_cmd_gc_unpin(int argc, char **argv);
int sm_cmd_gc_pins(int argc, char **argv);
int sm_cmd_backup_create(int argc, char **argv);
int sm_cmd_backup_restore(int argc, char **argv);

typedef struct sm_cli {
    sm_home home;
    sp_rpc_client *rpc;
    bool json;
} sm_cli;

/* Options every admin command takes: --home DIR and --json. */
#define SM_CLI_COMMON_OPTS \
    { "home", required_argument, NULL, 'H' }, { "json", no_argument, NULL, 'j' }

/* Connects to the running daemon of the home; prints the reason and returns non-zero
 * when it cannot. */
int sm_cli_connect(sm_cli *c, const char *home_arg);
void sm_cli_close(sm_cli *c);
/* Calls method with params (taken); prints "sector-manager: METHOD: message" and
 * returns non-zero on error. *result may be a JSON null. */
int sm_cli_call(sm_cli *c, const char *method, cJSON *params, cJSON **result);

/* Prints v as indented JSON on stdout. */
void sm_cli_print_json(const cJSON *v);
/* "s-t01000-5", "f01000-5", "t01000-5" or "1000-5", or NUMBER with default_miner
 * (has_default).  Returns 0 or prints the problem and returns 2. */
int sm_cli_parse_sector(const char *s, bool has_default, uint64_t default_miner, uint64_t *miner,
                        uint64_t *number);
/* "1000" or "f01000"; 0, or prints the problem and returns 2. */
int sm_cli_parse_miner(const char *cmd, const char *s, uint64_t *out);
/* Integer field of an object (0 when absent); string field ("" when absent or null). */
uint64_t sm_cli_u64(const cJSON *o, const char *key);
const char *sm_cli_str(const cJSON *o, const char *key);
/* "5s ago", "3m ago", "2h ago", "4d ago" for a unix-ms time; "-" for 0. */
char *sm_cli_ago(uint64_t ms, char *buf, size_t len);
/* Prints the usage error and returns 2. */
int sm_cli_usage(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Storage jobs (cli_jobs.c): starts one of a kind ("reconcile", "scrub", ...) and waits
 * for it; *job gets {"State","Report","Error",...} (also when it failed: then 1 is
 * returned after printing the error).  store names a store for "redeclare" (or NULL). */
int sm_cli_job(sm_cli *c, const char *kind, bool apply, bool deep, const char *store, cJSON **job);
/* Waits for a job started some other way. */
int sm_cli_wait_job(sm_cli *c, uint64_t id, cJSON **job);
/* Prints a job's report: its counters on one line, then each list one item a line. */
void sm_cli_print_report(const cJSON *report);

#endif
