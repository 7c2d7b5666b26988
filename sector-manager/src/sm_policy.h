/* sm_policy.h — the storage policy of manager.cfg's `storage` group: tiers, file types,
 * how many replicas of each kind of file go on which tier (with fallback tiers when a
 * tier is full), moves between tiers, pins, and the timing of the storage service
 * (heartbeats, reconciler, scrub, GC, caches, retrieval, unseal tasks).
 *
 * Kinds of files the manager keeps replicas of:
 *   sealed    a sector's sealed replica with its cache directory (p_aux, tree-r-last):
 *             sealed/s-t0M-N and cache/s-t0M-N/ in a store; needs a store that allows
 *             both the "sealed" and the "cache" file types
 *   unsealed  a deal piece's bytes, what retrieval serves: unsealed/<piece CID>; needs a
 *             store that allows "unsealed"
 * File types (lotus' FileType bits, plus sealpipe's "block"): unsealed 1, sealed 2,
 * cache 4, update 8, update-cache 16, piece 32, block 64.
 *
 * A kind's layout is a count per tier; moves change where an object lives: an object
 * that a rule moved from tier A to B keeps the list "A>B" and its wanted counts are the
 * policy's with A's count added to B's (and A's set to 0).  So a policy change applies to
 * every object, moved or not, and a moved object never bounces back.
 */
#ifndef SM_POLICY_H
#define SM_POLICY_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sp_config.h"
#include "sp_err.h"

typedef enum sm_tier { SM_TIER_HOT = 0, SM_TIER_WARM = 1, SM_TIER_COLD = 2, SM_TIER_COUNT } sm_tier;

enum {
    SM_FT_UNSEALED = 1,
    SM_FT_SEALED = 2,
    SM_FT_CACHE = 4,
    SM_FT_UPDATE = 8,
    SM_FT_UPDATE_CACHE = 16,
    SM_FT_PIECE = 32,
    SM_FT_BLOCK = 64,
};

typedef enum sm_kind { SM_KIND_SEALED = 0, SM_KIND_UNSEALED = 1, SM_KIND_COUNT } sm_kind;

typedef struct sm_kind_policy {
    unsigned want[SM_TIER_COUNT];   /* replicas per tier */
    sm_tier fallback[SM_TIER_COUNT];
    size_t n_fallback;
} sm_kind_policy;

typedef struct sm_move_rule {
    sm_kind kind;
    sm_tier from, to;
    uint64_t age_ms;                /* created at least this long ago (0: any) */
    uint64_t idle_ms;               /* not read for this long (0: any) */
    unsigned high_pct, low_pct;     /* fullness: a `from` store above high% sheds its least
                                       recently read objects until low% (0: no watermark) */
} sm_move_rule;

#define SM_MAX_MOVE_RULES 16
#define SM_MAX_PINS 256

typedef struct sm_storage_conf {
    sm_kind_policy policy[SM_KIND_COUNT];
    sm_move_rule moves[SM_MAX_MOVE_RULES];
    size_t n_moves;
    const char *pins[SM_MAX_PINS];  /* point into the config */
    size_t n_pins;
    uint64_t tick_ms;               /* the storage service's loop period */
    uint64_t move_interval_ms;      /* how often move rules are evaluated */
    /* heartbeats */
    uint64_t health_interval_ms, cooldown_ms, max_latency_ms;
    /* reconciler: 0 = only on demand */
    uint64_t reconcile_interval_ms;
    /* scrub: 0 = only on demand; window in minutes of the day (start == end: always) */
    uint64_t scrub_light_ms, scrub_deep_ms;
    unsigned window_start_min, window_end_min;
    uint64_t scrub_rate;            /* bytes per second read by scrubs; 0 = unlimited */
    unsigned post_challenges;       /* leaf challenges per sealed sector in a deep scrub */
    /* GC */
    uint64_t gc_mark_ms;            /* 0 = only on demand */
    uint64_t gc_retention_ms;
    uint64_t gc_orphan_age_ms;
    /* caches */
    uint64_t l1_bytes;
    char l2_dir[PATH_MAX];
    uint64_t l2_bytes;
    unsigned l2_high, l2_low;
    /* retrieval */
    unsigned retry_after_s;
    uint64_t max_block;
    uint64_t readahead;          /* bytes read ahead of a range walk; 0: none (sm_prefetch) */
    unsigned readahead_streams;
    /* unseal tasks */
    uint64_t unseal_timeout_ms;
} sm_storage_conf;

extern const sp_cfg_field sm_storage_schema[];

/* Fills out from the `storage` group under root (defaults when absent); relative paths
 * are resolved against dir. */
sp_code sm_storage_conf_load(const config_setting_t *root, const char *dir, sm_storage_conf *out,
                             sp_err *err);

const char *sm_tier_name(sm_tier t);
/* -1 when not a tier name. */
int sm_tier_parse(const char *s);
const char *sm_kind_name(sm_kind k);
int sm_kind_parse(const char *s);
/* The file types a kind needs in a store. */
uint32_t sm_kind_types(sm_kind k);
/* One type name ("sealed") to its bit, 0 when unknown. */
uint32_t sm_ftype_parse(const char *s);
/* A comma-separated list ("sealed,cache") to bits; false on an unknown name. */
bool sm_ftypes_parse_csv(const char *csv, uint32_t *out);
/* Bits to "sealed,cache" ("" for 0). */
char *sm_ftypes_format(uint32_t bits, char *buf, size_t len);

/* The wanted replica counts of an object of kind k that was moved as `moves` says
 * ("hot>warm,warm>cold", "" for none). */
void sm_policy_want(const sm_storage_conf *c, sm_kind k, const char *moves,
                    unsigned want[SM_TIER_COUNT]);
/* Total replicas wanted. */
unsigned sm_policy_total(const unsigned want[SM_TIER_COUNT]);
/* True when target ("s-t01000-5" or a piece CID) is pinned in the config. */
bool sm_policy_pinned(const sm_storage_conf *c, const char *target);
/* True when now (unix ms) is inside the scrub window. */
bool sm_policy_in_window(const sm_storage_conf *c, uint64_t now_ms);

#endif
