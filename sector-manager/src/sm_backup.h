/* sm_backup.h — metadata backup and restore of the manager's sqlite database.
 *
 * Create: a consistent snapshot while the daemon runs, with sqlite's online backup API
 * copying every page in one step over a separate read connection (in WAL mode a reader
 * sees one committed state and does not stop writers), written to a temporary file that
 * must pass `PRAGMA integrity_check` before it is fsynced and renamed to FILE (mode 0600).
 * Restore: only while the daemon is stopped (the caller holds the home's lock).  The
 * backup must pass integrity_check and have a schema this program knows; it is copied
 * next to the database, brought to the newest schema, marked as not cleanly shut down
 * (so the next start continues every miner's sector numbers above its durable limit),
 * every miner's durable limit is raised to what the database being replaced had handed
 * out (when that one can still be read: numbers given after the backup, to miners the
 * backup does not know included, are never given again), the old database's -wal and
 * -shm are removed and the copy is renamed over it.
 */
#ifndef SM_BACKUP_H
#define SM_BACKUP_H

#include <stdint.h>

#include "sp_err.h"

typedef struct sm_backup_info {
    int schema_version;
    int64_t sectors, pieces, objects, replicas, blocks;
    uint64_t bytes;
} sm_backup_info;

sp_code sm_backup_create(const char *db_path, const char *out_path, sm_backup_info *info, sp_err *err);
/* integrity_check and the counts of a database file. */
sp_code sm_backup_check(const char *path, sm_backup_info *info, sp_err *err);
sp_code sm_backup_restore(const char *backup, const char *db_path, sm_backup_info *info, sp_err *err);

#endif
