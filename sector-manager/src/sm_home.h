/* sm_home.h — the manager's home directory: where it is, what `init` puts in it, and
 * how the CLI finds the running daemon.
 *
 *   <home>/manager.cfg     configuration (config/manager.cfg at init)
 *   <home>/manager.db      sqlite database (db.path; -wal and -shm next to it)
 *   <home>/token.secret    HS256 key of the API tokens, 0600
 *   <home>/admin.token     an admin token, 0600 (what the CLI sends)
 *   <home>/worker.token    a worker token, 0600 (for seal-worker's token_file)
 *   <home>/pieces/         the piece store (piece_store.path)
 *   <home>/api             "HOST:PORT" of the running daemon (written at start, removed at
 *                          a clean stop)
 *   <home>/.lock           held by the running daemon (one daemon per home)
 *
 * The home is --home DIR, else $SEALPIPE_MANAGER_HOME, else ~/.sealpipe-manager.
 */
#ifndef SM_HOME_H
#define SM_HOME_H

#include <limits.h>
#include <stddef.h>

#include "sp_err.h"

typedef struct sm_home {
    char dir[PATH_MAX];
    char cfg[PATH_MAX + 16];
    char secret[PATH_MAX + 16];
    char admin_token[PATH_MAX + 16];
    char worker_token[PATH_MAX + 16];
    char api[PATH_MAX + 16];
    char lock[PATH_MAX + 16];
} sm_home;

/* Resolves the home from arg (may be NULL), the environment and $HOME. */
sp_code sm_home_resolve(const char *arg, sm_home *out, sp_err *err);

/* Creates the home: directory (0700), manager.cfg, database, chain, secret, tokens and
 * piece store.  Refuses a home that already has a config, database or secret.  The two
 * tokens are malloc'd into *admin and *worker. */
sp_code sm_home_init(const sm_home *h, char **admin, char **worker, sp_err *err);

/* The admin token stored in the home (whitespace trimmed). */
sp_code sm_home_admin_token(const sm_home *h, char *out, size_t len, sp_err *err);
/* "http://HOST:PORT" of the running daemon, from <home>/api. */
sp_code sm_home_base_url(const sm_home *h, char *out, size_t len, sp_err *err);
/* Writes <home>/api for a server bound at addr ("0.0.0.0:1789" becomes 127.0.0.1:1789). */
sp_code sm_home_write_api(const sm_home *h, const char *addr, sp_err *err);

#endif
