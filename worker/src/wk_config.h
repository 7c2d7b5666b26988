/* wk_config.h — the seal-worker configuration: schema, loading and the wk_config struct.
 *
 * The file is libconfig with `inherit` (sp_config.h); config/worker.cfg documents every
 * key.  wk_config_load() checks the schema (unknown keys, types, ranges) and everything
 * that needs no topology: a processor names either `cpuset` or `cores`, `numa` and
 * `near_gpu` go with `cores`, locks are declared in `processors.ext_locks`, sizes are
 * registered sector sizes, thread locations and store names are unique.  Placement
 * checks (CPUs that exist, overlaps, NUMA nodes, GPUs, concurrency) are in wk_placement.h.
 *
 * Every problem is collected in a wk_diags as "FILE:LINE: key.path: what is wrong and
 * what to do", so check-config can print them all at once.  Strings in a wk_config point
 * into its sp_config and live until wk_config_free().
 */
#ifndef WK_CONFIG_H
#define WK_CONFIG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

#include "sp_config.h"
#include "sp_err.h"

/* ---- diagnostics -------------------------------------------------------------------- */

typedef struct wk_diags {
    char **errors;
    int nerrors;
    char **warnings;
    int nwarnings;
} wk_diags;

void wk_diags_error(wk_diags *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void wk_diags_warn(wk_diags *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Adds a message "FILE:LINE: key.path: ..." for setting s (see sp_config_fail_at); when
 * s is NULL the message is prefixed with `fallback_key` ("processors.pc1[0].cores"). */
void wk_diags_error_at(wk_diags *d, const config_setting_t *s, const char *fallback_key,
                       const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void wk_diags_warn_at(wk_diags *d, const config_setting_t *s, const char *fallback_key,
                      const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* Moves every message of src to the end of dst. */
void wk_diags_take(wk_diags *dst, wk_diags *src);
void wk_diags_free(wk_diags *d);

/* ---- stages ------------------------------------------------------------------------- */

typedef enum wk_stage {
    WK_STAGE_ADD_PIECES = 0,
    WK_STAGE_TREE_D,
    WK_STAGE_PC1,
    WK_STAGE_PC2,
    WK_STAGE_C1,
    WK_STAGE_C2,
    WK_STAGE_UNSEAL,
    WK_STAGE_COUNT
} wk_stage;

/* "add_pieces", "tree_d", "pc1", ... */
const char *wk_stage_name(wk_stage s);
/* The stage for a name, or -1. */
int wk_stage_parse(const char *name);

/* ---- sections ----------------------------------------------------------------------- */

typedef struct wk_sealing {
    const int64_t *allowed_miners;   /* actor IDs; n == 0: any miner */
    int nallowed_miners;
    const uint64_t *allowed_sizes;   /* sector sizes in bytes; n == 0: any size */
    int nallowed_sizes;
    bool enable_deals;
    int max_retries;                 /* temporary errors retried this many times */
    uint64_t seal_interval_ms;       /* pause between two sectors of a thread */
    uint64_t recover_interval_ms;    /* wait before a retry */
    uint64_t rpc_polling_interval_ms;
} wk_sealing;

typedef enum wk_plan_kind { WK_PLAN_SEALER = 0, WK_PLAN_UNSEAL } wk_plan_kind;

typedef struct wk_thread_cfg {
    const char *location;
    wk_plan_kind plan;
    wk_sealing sealing;              /* the global [sealing] with this thread's override */
    const config_setting_t *setting;
} wk_thread_cfg;

typedef struct wk_attached_cfg {
    const char *name;                /* the manager's store name; defaults to location */
    const char *location;
    bool readonly;
    const config_setting_t *setting;
} wk_attached_cfg;

typedef enum wk_backend { WK_BACKEND_NATIVE = 0, WK_BACKEND_FILCRYPTO } wk_backend;

typedef struct wk_kv {
    const char *key;
    const char *value;
} wk_kv;

typedef struct wk_lock_cfg {
    const char *name;
    int capacity;                    /* holders at once */
    const config_setting_t *setting;
} wk_lock_cfg;

/* One `processors.<stage>` entry: a child process and where it runs. */
typedef struct wk_proc_cfg {
    wk_stage stage;
    int index;                       /* position in processors.<stage> */
    const char *cpuset;              /* explicit CPU list, or NULL */
    int cores;                       /* > 0: take this many whole cores */
    int numa;                        /* -1: none */
    int near_gpu;                    /* -1: none */
    int gpu;                         /* -1: none (near_gpu implies gpu) */
    int concurrent;                  /* tasks at once in this child, >= 1 */
    const char **locks;              /* names from processors.ext_locks */
    int nlocks;
    wk_kv *envs;
    int nenvs;
    bool hugepages;
    wk_backend backend;
    const char *filcrypto;           /* libfilcrypto path; NULL: $SEALPIPE_FILCRYPTO */
    const char *bin;                 /* NULL: this seal-worker executable */
    const char **args;               /* NULL: {"processor", <stage>} */
    int nargs;
    bool share;                      /* an explicit cpuset may overlap other processors */
    int batch;                       /* pc1 only: sectors per batch (1: no batching) */
    uint64_t batch_wait_ms;          /* pc1 only: wait this long to fill a batch */
    const config_setting_t *setting; /* the entry, for messages */
    bool invalid;                    /* a value has the wrong type (reported): not placed */
} wk_proc_cfg;

typedef struct wk_config {
    sp_config *cfg;
    const char *path;

    const char *name;                /* worker.name; default: the host name */
    const char *listen;              /* worker.listen: admin API "host:port" */
    const char *manager_url;         /* sector_manager.url */
    const char *token;               /* sector_manager.token (never log it) */
    const char *token_file;          /* sector_manager.token_file */

    wk_sealing sealing;
    wk_thread_cfg *threads;
    int nthreads;
    wk_attached_cfg *attached;
    int nattached;

    int limit_concurrent[WK_STAGE_COUNT];     /* 0: unlimited */
    uint64_t limit_staggered_ms[WK_STAGE_COUNT]; /* 0: none */
    uint64_t limit_timeout_ms[WK_STAGE_COUNT];   /* 0: wk_stage_timeout_ms's default */
    wk_lock_cfg *locks;
    int nlocks;
    const char *parent_cache;        /* directory of the SDR parent cache, or NULL */
    wk_proc_cfg *procs;              /* every processor, in config order */
    int nprocs;

    char hostname[256];
    void *mem;                       /* allocations owned by the config */
} wk_config;

/* Loads path (and its inherit chain) into *out.  Returns SP_OK, or SP_ECONFIG (or the
 * load error) with the first problem in err and every problem in diags (when non-NULL).
 * Warnings go to diags too.  Call wk_config_free() in every case.  After an error,
 * out->cfg is NULL when the file could not be read or parsed; otherwise *out is filled
 * as far as it makes sense (entries with wrongly typed values are marked `invalid`) so
 * that check-config can go on to placement and print every problem at once.  A daemon
 * must not run with a config that had errors. */
sp_code wk_config_load(const char *path, wk_config *out, wk_diags *diags, sp_err *err);
/* Same for text in memory, reported as file `name`. */
sp_code wk_config_load_string(const char *text, const char *name, wk_config *out,
                              wk_diags *diags, sp_err *err);
void wk_config_free(wk_config *c);

/* The schema (top-level keys), e.g. for sp_config_render_doc(). */
const sp_cfg_field *wk_config_schema(void);

/* "processors.pc1[0]" into buf. */
char *wk_proc_key(const wk_proc_cfg *p, char *buf, size_t len);

/* The lock of that name, or NULL. */
const wk_lock_cfg *wk_config_lock(const wk_config *c, const char *name);

#endif
