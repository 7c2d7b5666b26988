/* wk_store.h — a sealing thread's durable state: <location>/meta.db (sqlite).
 *
 * The database holds the thread's current sector record (one JSON document, wk_sector.h)
 * and a trace of its transitions (the newest WK_META_TRACE_KEEP kept).  It runs in WAL
 * mode with synchronous=FULL, so wk_meta_save() returns only after the record is on disk:
 * a thread saves after every transition and only then reports it to the manager, so
 * the manager never hears of a state the worker could lose in a crash.
 *
 * One wk_meta per location, used by one thread at a time.  wk_meta_open() takes an
 * exclusive lock on <location>/meta.lock (flock): a second worker started on the same
 * location is refused with a message naming the holder's pid.
 */
#ifndef WK_STORE_H
#define WK_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sp_err.h"
#include "wk_sector.h"

#define WK_META_TRACE_KEEP 1000

typedef struct wk_meta wk_meta;

/* Opens (creating the location and the database if missing) and locks. */
sp_code wk_meta_open(const char *location, wk_meta **out, sp_err *err);
void wk_meta_close(wk_meta *m);

/* Loads the record; *found is false (and *s an Empty record of plan `plan`) when the
 * database has none.  A record that does not parse is SP_ECORRUPT. */
sp_code wk_meta_load(wk_meta *m, wk_plan_kind plan, wk_sector *s, bool *found, sp_err *err);
/* Saves the record durably; when event is non-NULL, appends a trace row in the same
 * transaction: prev -> state, the event and the detail text. */
sp_code wk_meta_save(wk_meta *m, const wk_sector *s, const char *event, const char *detail,
                     sp_err *err);
/* Removes the record (the next load finds none) and logs `why` in the trace. */
sp_code wk_meta_clear(wk_meta *m, const char *why, sp_err *err);

/* One trace row. */
typedef struct wk_trace {
    uint64_t at_ms;
    char sector[64];            /* "s-t01000-12" or "" */
    char prev[32], next[32], event[32];
    char detail[512];
} wk_trace;
/* The newest `max` trace rows, oldest first; *out is malloc'd. */
sp_code wk_meta_trace(wk_meta *m, size_t max, wk_trace **out, size_t *n, sp_err *err);

#endif
