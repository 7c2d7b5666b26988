/* sm_db.h — the manager's database: one handle, a connection per thread, prepared
 * statements cached per connection, short transactions, versioned schema migrations.
 *
 * Threads: every thread that calls in gets its own connection, opened on first use and
 * kept until the thread exits or the database is closed (all such threads must have
 * stopped before sm_db_close).  Reads run concurrently on their own connections; write
 * transactions are serialised by one in-process mutex, so writers never spin on the
 * engine's busy handler.  Statements are cached by the address of their SQL text: pass
 * a string literal (or another string with a static lifetime) to sm_db_stmt().
 *
 * Durability (sqlite driver): WAL with synchronous=NORMAL, which survives a killed
 * process but may lose the last transactions on power loss; SM_TX_DURABLE transactions
 * run with synchronous=FULL, so they (and every transaction before them) are on disk
 * when the commit returns.  Sector numbers rely on that (see sectors.c).
 *
 * Drivers: the SQL engine sits behind sm_db_driver (sm_db_driver.h); "sqlite" is the one
 * built in.  A PostgreSQL driver would implement the same table with its own schema
 * migrations and translate the ?N placeholders.
 */
#ifndef SM_DB_H
#define SM_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sp_err.h"

typedef struct sm_db sm_db;
typedef struct sm_stmt sm_stmt;

typedef enum sm_tx {
    SM_TX_READ,     /* a consistent snapshot for several statements */
    SM_TX_WRITE,    /* serialised writer, committed with the default durability */
    SM_TX_DURABLE,  /* serialised writer, on stable storage when commit returns */
} sm_tx;

typedef struct sm_db_opts {
    const char *driver;           /* "sqlite" (default) */
    const char *path;             /* database file */
    bool create;                  /* create the file when missing (else SP_ENOTFOUND) */
    bool manual_checkpoint;       /* the owner calls sm_db_checkpoint() periodically
                                     instead of letting commits checkpoint the WAL */
} sm_db_opts;

/* Opens the database and brings its schema to the newest version this program knows.
 * A schema newer than the program is refused (SP_ESTATE) with the versions named. */
sp_code sm_db_open(const sm_db_opts *opts, sm_db **out, sp_err *err);
/* Closes every connection (checkpointing the WAL).  NULL is fine. */
void sm_db_close(sm_db *db);

/* The schema version after migrations, and the newest one this program knows. */
int sm_db_schema_version(const sm_db *db);
int sm_db_schema_latest(const sm_db *db);
const char *sm_db_path(const sm_db *db);

/* ---- transactions (on the calling thread's connection; they do not nest) ---- */
sp_code sm_db_begin(sm_db *db, sm_tx mode, sp_err *err);
sp_code sm_db_commit(sm_db *db, sp_err *err);
/* Rolls back the open transaction, if any (safe to call when none is open). */
void sm_db_rollback(sm_db *db);

/* Runs SQL without results (schema, pragmas, tests). */
sp_code sm_db_exec(sm_db *db, const char *sql, sp_err *err);

/* Rows changed by the last statement, and the last inserted row id, on this thread. */
int64_t sm_db_changes(sm_db *db);
int64_t sm_db_last_id(sm_db *db);

/* Moves the WAL's content into the database file and restarts the WAL; holds writers off
 * only for the last frames.  The daemon calls it a few times a second under load. */
sp_code sm_db_checkpoint(sm_db *db, sp_err *err);

/* ---- statements ---- */

/* The cached statement for sql on this thread's connection, reset and unbound. */
sp_code sm_db_stmt(sm_db *db, const char *sql, sm_stmt **out, sp_err *err);

/* Binds parameter i (1-based).  A failed bind is reported by the next sm_step. */
void sm_bind_i64(sm_stmt *s, int i, int64_t v);
void sm_bind_text(sm_stmt *s, int i, const char *v); /* NULL binds NULL */
void sm_bind_blob(sm_stmt *s, int i, const void *v, size_t len);
void sm_bind_null(sm_stmt *s, int i);

/* 1: a row is available; 0: done; -1: error (err filled, naming the statement). */
int sm_step(sm_stmt *s, sp_err *err);
/* Steps a statement that returns no row; SP_OK or the error. */
sp_code sm_step_done(sm_stmt *s, sp_err *err);

int64_t sm_col_i64(sm_stmt *s, int i);
const char *sm_col_text(sm_stmt *s, int i); /* NULL for SQL NULL */
const void *sm_col_blob(sm_stmt *s, int i, size_t *len);
bool sm_col_null(sm_stmt *s, int i);
/* Copies a blob column of exactly n bytes into out; false when NULL or another size. */
bool sm_col_bytes(sm_stmt *s, int i, void *out, size_t n);

/* Resets the statement so its locks are released (also done by the next sm_db_stmt). */
void sm_stmt_reset(sm_stmt *s);

#endif
