/* sm_db_driver.h — what a database engine implements to serve sm_db (db.c).
 *
 * db.c owns threads, caching, the write lock and migrations; a driver only talks to its
 * engine.  Connections and statements are opaque pointers.  Placeholders in the SQL
 * given to prepare() are "?N" (1-based); a driver whose engine spells them otherwise
 * translates them.  Migrations are the driver's own schema scripts, one per version.
 */
#ifndef SM_DB_DRIVER_H
#define SM_DB_DRIVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sm_db.h"

typedef struct sm_db_driver {
    const char *name;
    const char *const *migrations; /* NULL-terminated; [v-1] brings version v-1 to v */

    /* Opens a connection; NULL with err filled on failure. */
    void *(*connect)(const char *target, bool create, bool manual_checkpoint, sp_err *err);
    void (*disconnect)(void *conn);
    sp_code (*exec)(void *conn, const char *sql, sp_err *err);
    sp_code (*begin)(void *conn, sm_tx mode, sp_err *err);
    sp_code (*commit)(void *conn, sm_tx mode, sp_err *err);
    void (*rollback)(void *conn, sm_tx mode);
    int64_t (*changes)(void *conn);
    int64_t (*last_id)(void *conn);
    /* full = false: copy what can be copied without waiting (never blocks); full = true:
     * copy everything and restart the log, waiting briefly for readers (db.c holds the
     * write lock around it).  *log_frames (may be NULL) gets the log's length. */
    sp_code (*checkpoint)(void *conn, bool full, int *log_frames, sp_err *err);
    /* Reads the schema version (0 for a new database) inside a transaction. */
    sp_code (*get_version)(void *conn, int *version, sp_err *err);
    sp_code (*set_version)(void *conn, int version, sp_err *err);

    void *(*prepare)(void *conn, const char *sql, sp_err *err);
    void (*finalize)(void *stmt);
    void (*reset)(void *stmt);
    /* Binds return 0 or a non-zero engine code. */
    int (*bind_i64)(void *stmt, int i, int64_t v);
    int (*bind_text)(void *stmt, int i, const char *v);
    int (*bind_blob)(void *stmt, int i, const void *v, size_t len);
    int (*bind_null)(void *stmt, int i);
    int (*step)(void *stmt, sp_err *err); /* 1 row, 0 done, -1 error */
    int64_t (*col_i64)(void *stmt, int i);
    const char *(*col_text)(void *stmt, int i);
    const void *(*col_blob)(void *stmt, int i, size_t *len);
    bool (*col_null)(void *stmt, int i);
} sm_db_driver;

extern const sm_db_driver sm_db_sqlite_driver;

#endif
