/* policy.c — manager.cfg's `storage` group: schema, loading into sm_storage_conf, tier and
 * file-type names, and the replica layout of an object after its moves (sm_policy.h). */
#include "sm_policy.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *const tier_names[] = { "hot", "warm", "cold", NULL };
static const char *const kind_names[] = { "sealed", "unsealed", NULL };
static const char *const type_names[] = { "unsealed", "sealed", "cache", "update", "update-cache",
                                          "piece", "block", NULL };

/* ---- schema -------------------------------------------------------------------------------- */

#define LAYOUT_FIELDS(doc_hot, doc_warm, doc_cold, def_hot, def_warm, def_cold, def_fb)          \
    { .name = "hot", .type = SP_CFG_INT, .min = 0, .max = 16, .def = def_hot, .doc = doc_hot },   \
    { .name = "warm", .type = SP_CFG_INT, .min = 0, .max = 16, .def = def_warm, .doc = doc_warm }, \
    { .name = "cold", .type = SP_CFG_INT, .min = 0, .max = 16, .def = def_cold, .doc = doc_cold }, \
    { .name = "fallback", .type = SP_CFG_STRING_ARRAY, .values = tier_names, .def = def_fb,        \
      .doc = "tiers to use, in order, when a wanted tier has no store with room" },              \
    { 0 }

static const sp_cfg_field sealed_fields[] = {
    LAYOUT_FIELDS("replicas on hot stores", "replicas on warm stores", "replicas on cold stores",
                  "0", "1", "0", "[\"cold\", \"hot\"]")
};
static const sp_cfg_field unsealed_fields[] = {
    LAYOUT_FIELDS("replicas on hot stores", "replicas on warm stores", "replicas on cold stores",
                  "2", "0", "0", "[\"warm\", \"cold\"]")
};

static const sp_cfg_field policy_fields[] = {
    { .name = "sealed", .type = SP_CFG_GROUP, .children = sealed_fields,
      .doc = "sealed sectors (sealed file + cache directory)" },
    { .name = "unsealed", .type = SP_CFG_GROUP, .children = unsealed_fields,
      .doc = "unsealed deal data (piece bytes served to retrieval clients)" },
    { 0 },
};

static const sp_cfg_field move_fields[] = {
    { .name = "type", .type = SP_CFG_ENUM, .values = kind_names, .flags = SP_CFG_REQUIRED,
      .doc = "sealed or unsealed" },
    { .name = "from", .type = SP_CFG_ENUM, .values = tier_names, .flags = SP_CFG_REQUIRED,
      .doc = "the tier objects leave" },
    { .name = "to", .type = SP_CFG_ENUM, .values = tier_names, .flags = SP_CFG_REQUIRED,
      .doc = "the tier they go to" },
    { .name = "age", .type = SP_CFG_DURATION, .min = 0, .max = INT64_MAX, .def = "none",
      .doc = "objects created at least this long ago" },
    { .name = "idle", .type = SP_CFG_DURATION, .min = 0, .max = INT64_MAX, .def = "none",
      .doc = "objects not read for this long" },
    { .name = "high_watermark", .type = SP_CFG_INT, .min = 1, .max = 100, .def = "none",
      .doc = "a `from` store fuller than this percentage sheds objects..." },
    { .name = "low_watermark", .type = SP_CFG_INT, .min = 0, .max = 99, .def = "high - 10",
      .doc = "...least recently read first, until it is this full" },
    { 0 },
};

static const sp_cfg_field health_fields[] = {
    { .name = "interval", .type = SP_CFG_DURATION, .min = 10, .max = 86400000, .def = "30s",
      .doc = "heartbeat of every store: free space, a small write and read" },
    { .name = "cooldown", .type = SP_CFG_DURATION, .min = 0, .max = 86400000, .def = "5min",
      .doc = "a store that failed a heartbeat takes no new data this long" },
    { .name = "max_latency", .type = SP_CFG_DURATION, .min = 1, .max = 3600000, .def = "5s",
      .doc = "a heartbeat slower than this fails" },
    { 0 },
};

static const sp_cfg_field reconcile_fields[] = {
    { .name = "interval", .type = SP_CFG_DURATION, .min = 0, .max = INT64_MAX, .def = "10min",
      .doc = "how often replicas are counted and repaired; 0 = only `replicas fix --apply`" },
    { 0 },
};

static const sp_cfg_field scrub_fields[] = {
    { .name = "light_every", .type = SP_CFG_DURATION, .min = 0, .max = INT64_MAX, .def = "1d",
      .doc = "existence and size of every replica; 0 = only `scrub`" },
    { .name = "deep_every", .type = SP_CFG_DURATION, .min = 0, .max = INT64_MAX, .def = "7d",
      .doc = "re-hash blocks, PoSt challenges on sealed sectors; 0 = only `scrub --deep`" },
    { .name = "window", .type = SP_CFG_STRING, .def = "\"\" (any time)",
      .doc = "scheduled scrubs start only between HH:MM-HH:MM local time" },
    { .name = "rate", .type = SP_CFG_SIZE, .min = 0, .max = INT64_MAX, .def = "256MiB",
      .doc = "bytes per second a scrub reads at most; 0 = unlimited" },
    { .name = "post_challenges", .type = SP_CFG_INT, .min = 1, .max = 1000, .def = "10",
      .doc = "leaf challenges per sealed sector in a deep scrub" },
    { 0 },
};

static const sp_cfg_field gc_fields[] = {
    { .name = "mark_every", .type = SP_CFG_DURATION, .min = 0, .max = INT64_MAX, .def = "1h",
      .doc = "how often unreferenced files are marked; 0 = only `gc mark`" },
    { .name = "retention", .type = SP_CFG_DURATION, .min = 0, .max = INT64_MAX, .def = "7d",
      .doc = "swept files stay in the store's trash this long before they are deleted" },
    { .name = "orphan_age", .type = SP_CFG_DURATION, .min = 0, .max = INT64_MAX, .def = "6h",
      .doc = "files the database does not know are marked only when older than this" },
    { 0 },
};

static const sp_cfg_field cache_fields[] = {
    { .name = "l1_size", .type = SP_CFG_SIZE, .min = 0, .max = INT64_MAX, .def = "256MiB",
      .doc = "memory for the L1 block cache; 0 = none" },
    { .name = "l2_path", .type = SP_CFG_STRING, .def = "cache",
      .doc = "directory of the L2 block cache (fast local disk)" },
    { .name = "l2_size", .type = SP_CFG_SIZE, .min = 0, .max = INT64_MAX, .def = "4GiB",
      .doc = "bytes the L2 cache may hold; 0 = none" },
    { .name = "l2_high", .type = SP_CFG_INT, .min = 1, .max = 100, .def = "90",
      .doc = "percent of l2_size above which the oldest files are evicted..." },
    { .name = "l2_low", .type = SP_CFG_INT, .min = 0, .max = 99, .def = "75",
      .doc = "...until this percentage" },
    { 0 },
};

static const sp_cfg_field retrieval_fields[] = {
    { .name = "retry_after", .type = SP_CFG_DURATION, .min = 1000, .max = 86400000, .def = "60s",
      .doc = "Retry-After of a 503 while an unseal task recovers the data" },
    { .name = "max_block", .type = SP_CFG_SIZE, .min = 1024, .max = 64 << 20, .def = "4MiB",
      .doc = "largest block indexed and served" },
    { .name = "readahead", .type = SP_CFG_SIZE, .min = 0, .max = 1LL << 30, .def = "32MiB",
      .doc = "a piece read in consecutive ranges is read this far past the furthest range "
             "asked, in large sequential reads; 0 = only the kernel's own readahead" },
    { .name = "readahead_streams", .type = SP_CFG_INT, .min = 1, .max = 64, .def = "8",
      .doc = "pieces read ahead at once" },
    { 0 },
};

static const sp_cfg_field unseal_fields[] = {
    { .name = "timeout", .type = SP_CFG_DURATION, .min = 1000, .max = INT64_MAX, .def = "4h",
      .doc = "an unseal task a worker took but did not finish is handed out again after this" },
    { 0 },
};

const sp_cfg_field sm_storage_schema[] = {
    { .name = "policy", .type = SP_CFG_GROUP, .children = policy_fields,
      .doc = "replicas wanted per file type and tier" },
    { .name = "moves", .type = SP_CFG_GROUP_LIST, .children = move_fields,
      .doc = "moves between tiers by age, idle time or fullness (copy, verify, delete)" },
    { .name = "move_interval", .type = SP_CFG_DURATION, .min = 10, .max = INT64_MAX, .def = "5min",
      .doc = "how often the move rules are evaluated" },
    { .name = "pins", .type = SP_CFG_STRING_ARRAY, .def = "[]",
      .doc = "sectors (s-t01000-5) and pieces (CID) never moved or garbage collected" },
    { .name = "tick", .type = SP_CFG_DURATION, .min = 10, .max = 60000, .def = "1s",
      .doc = "the storage service's loop period" },
    { .name = "health", .type = SP_CFG_GROUP, .children = health_fields, .doc = "store heartbeats" },
    { .name = "reconcile", .type = SP_CFG_GROUP, .children = reconcile_fields, .doc = "replica repair" },
    { .name = "scrub", .type = SP_CFG_GROUP, .children = scrub_fields, .doc = "scrubbing" },
    { .name = "gc", .type = SP_CFG_GROUP, .children = gc_fields, .doc = "garbage collection" },
    { .name = "cache", .type = SP_CFG_GROUP, .children = cache_fields, .doc = "block caches" },
    { .name = "retrieval", .type = SP_CFG_GROUP, .children = retrieval_fields,
      .doc = "/ipfs and /piece retrieval" },
    { .name = "unseal", .type = SP_CFG_GROUP, .children = unseal_fields, .doc = "unseal tasks" },
    { 0 },
};

/* ---- names --------------------------------------------------------------------------------- */

const char *sm_tier_name(sm_tier t)
{
    return t >= 0 && t < SM_TIER_COUNT ? tier_names[t] : "?";
}

int sm_tier_parse(const char *s)
{
    for (int i = 0; s && tier_names[i]; i++)
        if (strcmp(s, tier_names[i]) == 0)
            return i;
    return -1;
}

const char *sm_kind_name(sm_kind k)
{
    return k >= 0 && k < SM_KIND_COUNT ? kind_names[k] : "?";
}

int sm_kind_parse(const char *s)
{
    for (int i = 0; s && kind_names[i]; i++)
        if (strcmp(s, kind_names[i]) == 0)
            return i;
    return -1;
}

uint32_t sm_kind_types(sm_kind k)
{
    return k == SM_KIND_SEALED ? SM_FT_SEALED | SM_FT_CACHE : SM_FT_UNSEALED;
}

uint32_t sm_ftype_parse(const char *s)
{
    for (int i = 0; s && type_names[i]; i++)
        if (strcmp(s, type_names[i]) == 0)
            return 1u << i;
    return 0;
}

bool sm_ftypes_parse_csv(const char *csv, uint32_t *out)
{
    *out = 0;
    const char *p = csv;
    while (p && *p) {
        const char *end = strchr(p, ',');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        char name[32];
        if (n == 0 || n >= sizeof name)
            return false;
        memcpy(name, p, n);
        name[n] = 0;
        uint32_t b = sm_ftype_parse(name);
        if (!b)
            return false;
        *out |= b;
        p = end ? end + 1 : NULL;
    }
    return true;
}

char *sm_ftypes_format(uint32_t bits, char *buf, size_t len)
{
    size_t used = 0;
    buf[0] = 0;
    for (int i = 0; type_names[i]; i++) {
        if (!(bits & (1u << i)))
            continue;
        int w = snprintf(buf + used, len - used, "%s%s", used ? "," : "", type_names[i]);
        if (w < 0 || (size_t)w >= len - used)
            break;
        used += (size_t)w;
    }
    return buf;
}

/* ---- layouts ------------------------------------------------------------------------------- */

void sm_policy_want(const sm_storage_conf *c, sm_kind k, const char *moves,
                    unsigned want[SM_TIER_COUNT])
{
    for (int t = 0; t < SM_TIER_COUNT; t++)
        want[t] = c->policy[k].want[t];
    /* "hot>warm,warm>cold": each step moves the whole count of one tier to another. */
    const char *p = moves;
    while (p && *p) {
        char a[8], b[8];
        int n = 0;
        if (sscanf(p, "%7[a-z]>%7[a-z]%n", a, b, &n) != 2 || n == 0)
            break;
        int from = sm_tier_parse(a), to = sm_tier_parse(b);
        if (from >= 0 && to >= 0 && from != to) {
            want[to] += want[from];
            want[from] = 0;
        }
        p += n;
        if (*p == ',')
            p++;
    }
}

unsigned sm_policy_total(const unsigned want[SM_TIER_COUNT])
{
    unsigned n = 0;
    for (int t = 0; t < SM_TIER_COUNT; t++)
        n += want[t];
    return n;
}

bool sm_policy_pinned(const sm_storage_conf *c, const char *target)
{
    for (size_t i = 0; i < c->n_pins; i++)
        if (strcmp(c->pins[i], target) == 0)
            return true;
    return false;
}

bool sm_policy_in_window(const sm_storage_conf *c, uint64_t now_ms)
{
    if (c->window_start_min == c->window_end_min)
        return true;
    time_t t = (time_t)(now_ms / 1000);
    struct tm tm;
    localtime_r(&t, &tm);
    unsigned m = (unsigned)(tm.tm_hour * 60 + tm.tm_min);
    if (c->window_start_min < c->window_end_min)
        return m >= c->window_start_min && m < c->window_end_min;
    return m >= c->window_start_min || m < c->window_end_min; /* across midnight */
}

/* ---- loading -------------------------------------------------------------------------------- */

static sp_code load_layout(const config_setting_t *g, const sm_kind_policy *def, sm_kind_policy *out,
                           sp_err *err)
{
    *out = *def;
    if (!g)
        return SP_OK;
    static const char *const keys[] = { "hot", "warm", "cold" };
    for (int t = 0; t < SM_TIER_COUNT; t++) {
        int64_t v;
        sp_code rc = sp_config_get_int(g, keys[t], def->want[t], &v, err);
        if (rc)
            return rc;
        out->want[t] = (unsigned)v;
    }
    const config_setting_t *fb = sp_config_lookup(g, "fallback");
    if (fb) {
        out->n_fallback = 0;
        for (int i = 0; i < config_setting_length(fb); i++) {
            const config_setting_t *e = config_setting_get_elem(fb, (unsigned)i);
            int t = sm_tier_parse(config_setting_get_string(e));
            if (t < 0)
                return sp_config_fail_at(err, e, "not a tier (hot, warm, cold)");
            for (size_t j = 0; j < out->n_fallback; j++)
                if ((int)out->fallback[j] == t)
                    return sp_config_fail_at(err, e, "tier %s is listed twice", sm_tier_name(t));
            out->fallback[out->n_fallback++] = (sm_tier)t;
        }
    }
    if (sm_policy_total(out->want) == 0)
        return sp_config_fail_at(err, g, "at least one replica must be wanted on some tier");
    return SP_OK;
}

static sp_code load_move(const config_setting_t *e, sm_move_rule *m, sp_err *err)
{
    const char *s;
    sp_code rc;
    int64_t v;
    memset(m, 0, sizeof *m);
    if ((rc = sp_config_get_string(e, "type", "", &s, err)))
        return rc;
    m->kind = (sm_kind)sm_kind_parse(s);
    if ((rc = sp_config_get_string(e, "from", "", &s, err)))
        return rc;
    m->from = (sm_tier)sm_tier_parse(s);
    if ((rc = sp_config_get_string(e, "to", "", &s, err)))
        return rc;
    m->to = (sm_tier)sm_tier_parse(s);
    if ((int)m->kind < 0 || (int)m->from < 0 || (int)m->to < 0)
        return sp_config_fail_at(err, e, "type, from and to are required");
    if (m->from == m->to)
        return sp_config_fail_at(err, sp_config_lookup(e, "to"), "from and to are the same tier");
    if ((rc = sp_config_get_duration_ms(e, "age", 0, &m->age_ms, err)) ||
        (rc = sp_config_get_duration_ms(e, "idle", 0, &m->idle_ms, err)) ||
        (rc = sp_config_get_int(e, "high_watermark", 0, &v, err)))
        return rc;
    m->high_pct = (unsigned)v;
    if ((rc = sp_config_get_int(e, "low_watermark", m->high_pct > 10 ? m->high_pct - 10 : 0, &v, err)))
        return rc;
    m->low_pct = (unsigned)v;
    if (m->high_pct && m->low_pct >= m->high_pct)
        return sp_config_fail_at(err, sp_config_lookup(e, "low_watermark"),
                                 "low_watermark (%u) must be below high_watermark (%u)", m->low_pct,
                                 m->high_pct);
    if (!sp_config_lookup(e, "age") && !sp_config_lookup(e, "idle") && !m->high_pct)
        return sp_config_fail_at(err, e, "a move needs age, idle or high_watermark (or several)");
    return SP_OK;
}

static sp_code parse_window(const config_setting_t *at, const char *s, sm_storage_conf *c, sp_err *err)
{
    c->window_start_min = c->window_end_min = 0;
    if (!*s || strcmp(s, "always") == 0)
        return SP_OK;
    unsigned h1, m1, h2, m2;
    int n = 0;
    if (sscanf(s, "%2u:%2u-%2u:%2u%n", &h1, &m1, &h2, &m2, &n) != 4 || s[n] || h1 > 24 || h2 > 24 ||
        m1 > 59 || m2 > 59)
        return sp_config_fail_at(err, at, "\"%s\" is not a window like \"01:00-05:00\"", s);
    c->window_start_min = (h1 * 60 + m1) % 1440;
    c->window_end_min = (h2 * 60 + m2) % 1440;
    return SP_OK;
}

sp_code sm_storage_conf_load(const config_setting_t *root, const char *dir, sm_storage_conf *c,
                             sp_err *err)
{
    memset(c, 0, sizeof *c);
    const config_setting_t *g = sp_config_lookup(root, "storage");
    static const sm_kind_policy def_sealed = { { 0, 1, 0 }, { SM_TIER_COLD, SM_TIER_HOT }, 2 };
    static const sm_kind_policy def_unsealed = { { 2, 0, 0 }, { SM_TIER_WARM, SM_TIER_COLD }, 2 };
    sp_code rc;
    const config_setting_t *pol = sp_config_lookup(g, "policy");
    if ((rc = load_layout(sp_config_lookup(pol, "sealed"), &def_sealed, &c->policy[SM_KIND_SEALED], err)) ||
        (rc = load_layout(sp_config_lookup(pol, "unsealed"), &def_unsealed,
                          &c->policy[SM_KIND_UNSEALED], err)))
        return rc;
    const config_setting_t *mv = sp_config_lookup(g, "moves");
    int n = mv ? config_setting_length(mv) : 0;
    if (n > SM_MAX_MOVE_RULES)
        return sp_config_fail_at(err, mv, "at most %d move rules", SM_MAX_MOVE_RULES);
    for (int i = 0; i < n; i++)
        if ((rc = load_move(config_setting_get_elem(mv, (unsigned)i), &c->moves[c->n_moves++], err)))
            return rc;
    const config_setting_t *pins = sp_config_lookup(g, "pins");
    n = pins ? config_setting_length(pins) : 0;
    if (n > SM_MAX_PINS)
        return sp_config_fail_at(err, pins, "at most %d pins in the config (use `gc pin` for more)",
                                 SM_MAX_PINS);
    for (int i = 0; i < n; i++)
        c->pins[c->n_pins++] = config_setting_get_string(config_setting_get_elem(pins, (unsigned)i));

    const config_setting_t *h = sp_config_lookup(g, "health"), *r = sp_config_lookup(g, "reconcile"),
                           *s = sp_config_lookup(g, "scrub"), *gc = sp_config_lookup(g, "gc"),
                           *ca = sp_config_lookup(g, "cache"), *rt = sp_config_lookup(g, "retrieval"),
                           *un = sp_config_lookup(g, "unseal");
    int64_t v;
    const char *str;
    if ((rc = sp_config_get_duration_ms(g, "tick", 1000, &c->tick_ms, err)) ||
        (rc = sp_config_get_duration_ms(g, "move_interval", 300000, &c->move_interval_ms, err)) ||
        (rc = sp_config_get_duration_ms(h, "interval", 30000, &c->health_interval_ms, err)) ||
        (rc = sp_config_get_duration_ms(h, "cooldown", 300000, &c->cooldown_ms, err)) ||
        (rc = sp_config_get_duration_ms(h, "max_latency", 5000, &c->max_latency_ms, err)) ||
        (rc = sp_config_get_duration_ms(r, "interval", 600000, &c->reconcile_interval_ms, err)) ||
        (rc = sp_config_get_duration_ms(s, "light_every", 86400000, &c->scrub_light_ms, err)) ||
        (rc = sp_config_get_duration_ms(s, "deep_every", 7 * 86400000ULL, &c->scrub_deep_ms, err)) ||
        (rc = sp_config_get_string(s, "window", "", &str, err)) ||
        (rc = parse_window(sp_config_lookup(s, "window"), str, c, err)) ||
        (rc = sp_config_get_size(s, "rate", 256ULL << 20, &c->scrub_rate, err)) ||
        (rc = sp_config_get_int(s, "post_challenges", 10, &v, err)))
        return rc;
    c->post_challenges = (unsigned)v;
    if ((rc = sp_config_get_duration_ms(gc, "mark_every", 3600000, &c->gc_mark_ms, err)) ||
        (rc = sp_config_get_duration_ms(gc, "retention", 7 * 86400000ULL, &c->gc_retention_ms, err)) ||
        (rc = sp_config_get_duration_ms(gc, "orphan_age", 6 * 3600000ULL, &c->gc_orphan_age_ms, err)) ||
        (rc = sp_config_get_size(ca, "l1_size", 256ULL << 20, &c->l1_bytes, err)) ||
        (rc = sp_config_get_size(ca, "l2_size", 4ULL << 30, &c->l2_bytes, err)) ||
        (rc = sp_config_get_string(ca, "l2_path", "cache", &str, err)))
        return rc;
    int w = str[0] == '/' ? snprintf(c->l2_dir, sizeof c->l2_dir, "%s", str)
                          : snprintf(c->l2_dir, sizeof c->l2_dir, "%s/%s", dir, str);
    if (!*str || w < 0 || (size_t)w >= sizeof c->l2_dir)
        return sp_config_fail_at(err, sp_config_lookup(ca, "l2_path"), "empty or too long a path");
    if ((rc = sp_config_get_int(ca, "l2_high", 90, &v, err)))
        return rc;
    c->l2_high = (unsigned)v;
    if ((rc = sp_config_get_int(ca, "l2_low", 75, &v, err)))
        return rc;
    c->l2_low = (unsigned)v;
    if (c->l2_low >= c->l2_high)
        return sp_config_fail_at(err, sp_config_lookup(ca, "l2_low"), "l2_low (%u) must be below "
                                 "l2_high (%u)", c->l2_low, c->l2_high);
    uint64_t ms;
    if ((rc = sp_config_get_duration_ms(rt, "retry_after", 60000, &ms, err)) ||
        (rc = sp_config_get_size(rt, "max_block", 4ULL << 20, &c->max_block, err)) ||
        (rc = sp_config_get_size(rt, "readahead", 32ULL << 20, &c->readahead, err)) ||
        (rc = sp_config_get_int(rt, "readahead_streams", 8, &v, err)) ||
        (rc = sp_config_get_duration_ms(un, "timeout", 4 * 3600000ULL, &c->unseal_timeout_ms, err)))
        return rc;
    c->retry_after_s = (unsigned)((ms + 999) / 1000);
    c->readahead_streams = (unsigned)v;
    return SP_OK;
}
