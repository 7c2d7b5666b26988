/* sm_placement.h — choosing the store for a new file or replica from the stores' state
 * (pure: no database, no file system, so it is tested on made-up stores).
 *
 * Filters, in order: a candidate name (when the request lists candidates), not read-only,
 * the file types of the kind allowed, the miner allowed, reachable when the manager
 * writes the file itself, not cooling down after a failed heartbeat, not a store to
 * avoid, a failure domain no existing replica uses, and room:
 *   room = available - reserved - copies on their way - min_free_pct of the file system
 * Tiers are tried in the request's order (a write falls back to the next tier when its
 * tier has no store with room).  Within a tier a store whose top-level domain component
 * ("rack-a" of "rack-a/host-3") differs from every existing replica's is preferred, then
 * the largest room x weight x health score wins (ties: the first in the list).
 */
#ifndef SM_PLACEMENT_H
#define SM_PLACEMENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "sm_policy.h"
#include "sm_stores.h"

typedef struct sm_place_req {
    uint32_t types;                     /* SM_FT_* bits the store must allow */
    bool has_miner;
    uint64_t miner;
    uint64_t size;
    const sm_tier *tiers;               /* in order of preference */
    size_t n_tiers;
    const char *const *avoid_domains;   /* domains already holding a replica */
    size_t n_avoid_domains;
    const char *const *avoid_stores;    /* stores not to use */
    size_t n_avoid_stores;
    const char *const *cands;           /* only these names (n_cands 0: any) */
    size_t n_cands;
    bool need_reachable;                /* the manager writes the file itself */
    uint64_t now_ms;
} sm_place_req;

/* The index of the chosen store, or -1 with why (when given) saying what excluded the
 * stores ("no store of tier hot: 1 full, 1 in a used failure domain").  *tier_used gets
 * the tier of the chosen store. */
ssize_t sm_place_pick(const sm_store_info *stores, size_t n, const sm_place_req *req,
                      sm_tier *tier_used, char *why, size_t why_len);

/* The room placement counts in a store (0 when it has none). */
uint64_t sm_place_room(const sm_store_info *s);

/* The tiers to try for a kind: the tiers its layout wants (hot, warm, cold order), then
 * its fallback tiers; returns how many were written (at most SM_TIER_COUNT). */
size_t sm_place_tiers_for(const sm_storage_conf *c, sm_kind k, sm_tier *out);

#endif
