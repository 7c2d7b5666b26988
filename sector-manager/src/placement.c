/* placement.c — which store takes a new file or replica: filters, tier fallback, failure
 * domains, room x weight x health (contract in sm_placement.h). */
#include "sm_placement.h"

#include <stdio.h>
#include <string.h>

enum {
    WHY_TYPE, WHY_MINER, WHY_RO, WHY_UNREACH, WHY_COOL, WHY_AVOID, WHY_DOMAIN, WHY_ROOM, WHY_N
};
static const char *const why_names[WHY_N] = { "does not take this file type", "excludes the miner",
                                              "read-only", "not reachable from the manager",
                                              "cooling down after a failed heartbeat",
                                              "excluded", "in a failure domain already used",
                                              "without room" };

uint64_t sm_place_room(const sm_store_info *s)
{
    uint64_t used = s->reserved + s->copying;
    uint64_t margin = s->reachable ? s->fs_total / 100 * s->def.min_free_pct : 0;
    if (s->available <= used || s->available - used <= margin)
        return 0;
    return s->available - used - margin;
}

static bool listed(const char *name, const char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(list[i], name) == 0)
            return true;
    return false;
}

/* The first component of a domain: "rack-a" of "rack-a/host-3". */
static size_t top_len(const char *d)
{
    const char *slash = strchr(d, '/');
    return slash ? (size_t)(slash - d) : strlen(d);
}

static bool top_used(const char *d, const sm_place_req *r)
{
    size_t n = top_len(d);
    for (size_t i = 0; i < r->n_avoid_domains; i++) {
        const char *a = r->avoid_domains[i];
        if (top_len(a) == n && strncmp(a, d, n) == 0)
            return true;
    }
    return false;
}

/* -1 when eligible, else the reason it is not (WHY_*). */
static int exclusion(const sm_store_info *s, const sm_place_req *r)
{
    char buf[SM_STORE_NAME_MAX + 8];
    if (!sm_store_allows_types(&s->def, r->types))
        return WHY_TYPE;
    if (r->has_miner && !sm_store_allows(&s->def, r->miner))
        return WHY_MINER;
    if (s->def.readonly)
        return WHY_RO;
    if (r->need_reachable && !s->reachable)
        return WHY_UNREACH;
    if (sm_store_cooling(s, r->now_ms))
        return WHY_COOL;
    if (listed(s->def.name, r->avoid_stores, r->n_avoid_stores))
        return WHY_AVOID;
    if (listed(sm_store_domain(&s->def, buf, sizeof buf), r->avoid_domains, r->n_avoid_domains))
        return WHY_DOMAIN;
    if (sm_place_room(s) < r->size)
        return WHY_ROOM;
    return -1;
}

ssize_t sm_place_pick(const sm_store_info *stores, size_t n, const sm_place_req *req,
                      sm_tier *tier_used, char *why, size_t why_len)
{
    unsigned counts[WHY_N] = { 0 };
    size_t in_tiers = 0;
    /* No tiers listed: one pass over every tier alike. */
    size_t passes = req->n_tiers ? req->n_tiers : 1;
    for (size_t t = 0; t < passes; t++) {
        ssize_t best = -1;
        bool best_new_top = false;
        double best_score = -1;
        for (size_t i = 0; i < n; i++) {
            const sm_store_info *s = &stores[i];
            if (req->n_cands && !listed(s->def.name, req->cands, req->n_cands))
                continue;
            if (req->n_tiers && sm_tier_parse(s->def.tier) != (int)req->tiers[t])
                continue;
            in_tiers++;
            int x = exclusion(s, req);
            if (x >= 0) {
                counts[x]++;
                continue;
            }
            char buf[SM_STORE_NAME_MAX + 8];
            bool new_top = !top_used(sm_store_domain(&s->def, buf, sizeof buf), req);
            double score = (double)sm_place_room(s) * (double)(s->def.weight ? s->def.weight : 1) *
                           (s->score > 0.01 ? s->score : 0.01);
            if (best < 0 || (new_top && !best_new_top) ||
                (new_top == best_new_top && score > best_score)) {
                best = (ssize_t)i;
                best_score = score;
                best_new_top = new_top;
            }
        }
        if (best >= 0) {
            if (tier_used) {
                int bt = sm_tier_parse(stores[best].def.tier);
                *tier_used = bt >= 0 ? (sm_tier)bt : SM_TIER_WARM;
            }
            return best;
        }
    }
    if (why && why_len) {
        size_t used = 0;
        char tiers[32] = "";
        for (size_t t = 0; t < req->n_tiers; t++) {
            size_t l = strlen(tiers);
            snprintf(tiers + l, sizeof tiers - l, "%s%s", t ? "/" : "", sm_tier_name(req->tiers[t]));
        }
        int w = snprintf(why, why_len, "no store of tier %s can take it", tiers[0] ? tiers : "any");
        used = w > 0 && (size_t)w < why_len ? (size_t)w : why_len - 1;
        if (in_tiers == 0 && used < why_len)
            snprintf(why + used, why_len - used, " (there is no such store%s)",
                     req->n_cands ? " among the candidates" : "");
        for (int i = 0; i < WHY_N && used < why_len; i++) {
            if (!counts[i])
                continue;
            w = snprintf(why + used, why_len - used, "%s %u %s", used > 0 && strchr(why, ':') ? "," : ":",
                         counts[i], why_names[i]);
            if (w < 0)
                break;
            used += (size_t)w < why_len - used ? (size_t)w : why_len - used - 1;
        }
    }
    return -1;
}

size_t sm_place_tiers_for(const sm_storage_conf *c, sm_kind k, sm_tier *out)
{
    size_t n = 0;
    const sm_kind_policy *p = &c->policy[k];
    for (int t = 0; t < SM_TIER_COUNT; t++)
        if (p->want[t])
            out[n++] = (sm_tier)t;
    for (size_t i = 0; i < p->n_fallback && n < SM_TIER_COUNT; i++) {
        bool dup = false;
        for (size_t j = 0; j < n; j++)
            dup |= out[j] == p->fallback[i];
        if (!dup)
            out[n++] = p->fallback[i];
    }
    return n;
}
