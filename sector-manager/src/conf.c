/* conf.c — manager.cfg schema and loading into an sm_conf snapshot (see sm_conf.h). */
#include "sm_conf.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sealproofs.h"
#include "sp_log.h"
#include "sp_size.h"

static const char *const driver_values[] = { "sqlite", NULL };
static const char *const chain_kinds[] = { "local", NULL };
static const char *const tiers[] = { "hot", "warm", "cold", NULL };
static const char *const levels[] = { "error", "warn", "info", "debug", "trace", NULL };
static const char *const medias[] = { "nvme", "hdd", "object", NULL };
static const char *const ftypes[] = { "unsealed", "sealed", "cache", "update", "update-cache",
                                      "piece", "block", NULL };

static const sp_cfg_field api_fields[] = {
    { .name = "listen", .type = SP_CFG_STRING, .def = "127.0.0.1:1789",
      .doc = "HOST:PORT of the API; port 0 picks a free one (written to <home>/api)" },
    { .name = "threads", .type = SP_CFG_INT, .min = 0, .max = 256, .def = "0",
      .doc = "HTTP server threads; 0 = one per CPU (at least 2, at most 16)" },
    { .name = "max_connections", .type = SP_CFG_INT, .min = 1, .max = 1000000, .def = "4096",
      .doc = "open connections at most; more are refused" },
    { .name = "idle_timeout", .type = SP_CFG_DURATION, .min = 1000, .max = 86400000, .def = "60s",
      .doc = "close keep-alive connections idle this long" },
    { .name = "max_body", .type = SP_CFG_SIZE, .min = 4096, .max = (int64_t)1 << 32, .def = "64MiB",
      .doc = "largest request body (SubmitProof carries the proof)" },
    { 0 },
};

static const sp_cfg_field db_fields[] = {
    { .name = "driver", .type = SP_CFG_ENUM, .values = driver_values, .def = "sqlite",
      .doc = "database engine" },
    { .name = "path", .type = SP_CFG_STRING, .def = "manager.db",
      .doc = "database file, relative to this file's directory" },
    { 0 },
};

static const sp_cfg_field chain_fields[] = {
    { .name = "kind", .type = SP_CFG_ENUM, .values = chain_kinds, .def = "local",
      .doc = "local: the embedded chain" },
    { .name = "block_time", .type = SP_CFG_DURATION, .min = 1, .max = 3600000, .def = "30s",
      .doc = "epoch length" },
    { .name = "ticket_lookback", .type = SP_CFG_INT, .min = 0, .max = 1000000, .def = "900",
      .doc = "SealRandomnessLookback: the ticket is drawn this many epochs before the head" },
    { .name = "max_ticket_age", .type = SP_CFG_INT, .min = 1, .max = 10000000, .def = "3780",
      .doc = "MaxPreCommitRandomnessLookback: a precommit must land within this many epochs of its ticket" },
    { .name = "precommit_landing", .type = SP_CFG_INT, .min = 0, .max = 100000, .def = "1",
      .doc = "epochs from SubmitPreCommit until the precommit is on chain" },
    { .name = "challenge_delay", .type = SP_CFG_INT, .min = 0, .max = 100000, .def = "150",
      .doc = "PreCommitChallengeDelay: seed epoch = precommit epoch + this" },
    { .name = "seed_confidence", .type = SP_CFG_INT, .min = 0, .max = 100000, .def = "6",
      .doc = "InteractivePoRepConfidence: the seed is handed out this many epochs after its epoch" },
    { .name = "proof_landing", .type = SP_CFG_INT, .min = 0, .max = 100000, .def = "1",
      .doc = "epochs from SubmitProof until the prove-commit is on chain" },
    { .name = "max_prove_duration", .type = SP_CFG_INT, .min = 1, .max = 10000000, .def = "86550",
      .doc = "MaxProveCommitDuration: a proof landing later than precommit epoch + this is refused" },
    { 0 },
};

static const sp_cfg_field miner_fields[] = {
    { .name = "actor", .type = SP_CFG_INT, .flags = SP_CFG_REQUIRED, .min = 0, .max = INT64_MAX,
      .doc = "miner actor id (1000 for f01000)" },
    { .name = "sizes", .type = SP_CFG_STRING_ARRAY, .def = "[\"32GiB\"]",
      .doc = "sector sizes this miner seals (2KiB, 8MiB, 512MiB, 32GiB, 64GiB)" },
    { .name = "first_number", .type = SP_CFG_INT, .min = 0, .max = INT64_MAX, .def = "0",
      .doc = "lowest sector number to allocate" },
    { .name = "max_number", .type = SP_CFG_INT, .min = 0, .max = INT64_MAX, .def = "no limit",
      .doc = "highest sector number to allocate" },
    { .name = "enabled", .type = SP_CFG_BOOL, .def = "true", .doc = "allocate new sectors" },
    { .name = "deals", .type = SP_CFG_BOOL, .def = "false",
      .doc = "pack imported pieces into this miner's sectors" },
    { 0 },
};

static const sp_cfg_field store_fields[] = {
    { .name = "name", .type = SP_CFG_STRING, .flags = SP_CFG_REQUIRED,
      .doc = "the name workers use for the store in their `attached` list" },
    { .name = "path", .type = SP_CFG_STRING, .flags = SP_CFG_REQUIRED,
      .doc = "directory of the store (absolute)" },
    { .name = "weight", .type = SP_CFG_INT, .min = 1, .max = 1000000, .def = "1",
      .doc = "placement favours room x weight" },
    { .name = "tier", .type = SP_CFG_ENUM, .values = tiers, .def = "warm", .doc = "storage tier" },
    { .name = "readonly", .type = SP_CFG_BOOL, .def = "false", .doc = "no new sectors go here" },
    { .name = "allow_miners", .type = SP_CFG_INT_ARRAY, .min = 0, .max = INT64_MAX, .def = "[] (all)",
      .doc = "only these miners' sectors" },
    { .name = "deny_miners", .type = SP_CFG_INT_ARRAY, .min = 0, .max = INT64_MAX, .def = "[]",
      .doc = "never these miners' sectors (wins over allow_miners)" },
    { .name = "capacity", .type = SP_CFG_SIZE, .def = "0 (the file system's)",
      .doc = "bytes of sectors this store may hold" },
    { .name = "media", .type = SP_CFG_ENUM, .values = medias, .def = "hdd",
      .doc = "nvme, hdd or object (an object store mounted as a directory)" },
    { .name = "min_free_pct", .type = SP_CFG_INT, .min = 0, .max = 99, .def = "0",
      .doc = "placement leaves this percentage of the file system free" },
    { .name = "allow_types", .type = SP_CFG_STRING_ARRAY, .values = ftypes, .def = "[] (all)",
      .doc = "file types this store takes: sealed, cache, unsealed, piece, block" },
    { .name = "deny_types", .type = SP_CFG_STRING_ARRAY, .values = ftypes, .def = "[]",
      .doc = "file types it never takes (wins over allow_types)" },
    { .name = "domain", .type = SP_CFG_STRING, .def = "\"\" (the store alone)",
      .doc = "failure domain such as \"rack-a/host-3\": replicas go to distinct domains" },
    { 0 },
};

static const sp_cfg_field piece_fields[] = {
    { .name = "path", .type = SP_CFG_STRING, .def = "pieces",
      .doc = "directory of imported piece files, named by piece CID" },
    { 0 },
};

static const sp_cfg_field log_fields[] = {
    { .name = "level", .type = SP_CFG_ENUM, .values = levels, .def = "info",
      .doc = "log level (SEALPIPE_LOG overrides it)" },
    { 0 },
};

const sp_cfg_field sm_conf_schema[] = {
    { .name = "api", .type = SP_CFG_GROUP, .children = api_fields, .doc = "the HTTP/JSON-RPC API" },
    { .name = "db", .type = SP_CFG_GROUP, .children = db_fields, .doc = "the database" },
    { .name = "chain", .type = SP_CFG_GROUP, .children = chain_fields, .doc = "the chain" },
    { .name = "miners", .type = SP_CFG_GROUP_LIST, .children = miner_fields,
      .doc = "miners whose sectors this manager seals" },
    { .name = "persist_stores", .type = SP_CFG_GROUP_LIST, .children = store_fields,
      .doc = "stores for finished sectors" },
    { .name = "piece_store", .type = SP_CFG_GROUP, .children = piece_fields,
      .doc = "imported deal pieces" },
    { .name = "log", .type = SP_CFG_GROUP, .children = log_fields, .doc = "logging" },
    { .name = "storage", .type = SP_CFG_GROUP, .children = sm_storage_schema,
      .doc = "storage tiers, replicas, caches, scrub, GC, retrieval" },
    { 0 },
};

/* ---- helpers ------------------------------------------------------------------------------ */

static sp_code resolve_path(const sm_conf *c, const config_setting_t *at, const char *value,
                            char *out, size_t len, sp_err *err)
{
    int n = value[0] == '/' ? snprintf(out, len, "%s", value)
                            : snprintf(out, len, "%s/%s", c->dir, value);
    if (n < 0 || (size_t)n >= len)
        return sp_config_fail_at(err, at, "path is too long");
    return SP_OK;
}

static sp_code miners_csv(const config_setting_t *arr, char *out, size_t len, sp_err *err)
{
    out[0] = 0;
    if (!arr)
        return SP_OK;
    size_t used = 0;
    for (int i = 0; i < config_setting_length(arr); i++) {
        const config_setting_t *e = config_setting_get_elem(arr, (unsigned)i);
        long long v = config_setting_get_int64(e);
        int w = snprintf(out + used, len - used, "%s%lld", used ? "," : "", v);
        if (w < 0 || (size_t)w >= len - used)
            return sp_config_fail_at(err, arr, "too many miners listed (at most %zu characters)", len - 1);
        used += (size_t)w;
    }
    return SP_OK;
}

static sp_code load_miner(const config_setting_t *e, sm_miner_conf *m, sp_err *err)
{
    int64_t v;
    sp_code rc;
    memset(m, 0, sizeof *m);
    if ((rc = sp_config_get_int(e, "actor", 0, &v, err)))
        return rc;
    m->actor = (uint64_t)v;
    if ((rc = sp_config_get_int(e, "first_number", 0, &v, err)))
        return rc;
    m->first_number = (uint64_t)v;
    if ((rc = sp_config_get_int(e, "max_number", INT64_MAX, &v, err)))
        return rc;
    m->max_number = (uint64_t)v;
    if (m->max_number < m->first_number)
        return sp_config_fail_at(err, sp_config_lookup(e, "max_number"),
                                 "max_number %" PRIu64 " is below first_number %" PRIu64,
                                 m->max_number, m->first_number);
    if ((rc = sp_config_get_bool(e, "enabled", true, &m->enabled, err)) ||
        (rc = sp_config_get_bool(e, "deals", false, &m->deals, err)))
        return rc;
    const config_setting_t *sizes = sp_config_lookup(e, "sizes");
    if (!sizes) {
        m->proofs[0] = pf_seal_proof_for_size(32ULL << 30);
        m->n_proofs = 1;
        return SP_OK;
    }
    int n = config_setting_length(sizes);
    if (n == 0)
        return sp_config_fail_at(err, sizes, "list at least one sector size");
    for (int i = 0; i < n; i++) {
        const config_setting_t *s = config_setting_get_elem(sizes, (unsigned)i);
        const char *text = config_setting_get_string(s);
        uint64_t bytes = 0;
        int id = -1;
        if (text && sp_parse_size(text, &bytes, NULL) == SP_OK)
            id = pf_seal_proof_for_size(bytes);
        if (id < 0)
            return sp_config_fail_at(err, s, "\"%s\" is not a sector size; use 2KiB, 8MiB, 512MiB, "
                                     "32GiB or 64GiB", text ? text : "");
        if (sm_miner_allows_proof(m, id))
            continue;
        if (m->n_proofs == SM_MAX_PROOFS)
            return sp_config_fail_at(err, sizes, "too many sizes");
        m->proofs[m->n_proofs++] = id;
    }
    return SP_OK;
}

static sp_code types_bits(const config_setting_t *arr, uint32_t *out, sp_err *err)
{
    *out = 0;
    for (int i = 0; arr && i < config_setting_length(arr); i++) {
        const config_setting_t *e = config_setting_get_elem(arr, (unsigned)i);
        uint32_t b = sm_ftype_parse(config_setting_get_string(e));
        if (!b)
            return sp_config_fail_at(err, e, "not a file type (sealed, cache, unsealed, piece, block)");
        *out |= b;
    }
    return SP_OK;
}

static sp_code load_store(sm_conf *c, const config_setting_t *e, sm_store_def *d, sp_err *err)
{
    const char *s;
    int64_t v;
    sp_code rc;
    memset(d, 0, sizeof *d);
    if ((rc = sp_config_get_string(e, "name", "", &s, err)))
        return rc;
    if (!sm_store_name_valid(s))
        return sp_config_fail_at(err, sp_config_lookup(e, "name"),
                                 "a store name is 1-127 characters of A-Z a-z 0-9 . _ -");
    snprintf(d->name, sizeof d->name, "%s", s);
    if ((rc = sp_config_get_string(e, "path", "", &s, err)))
        return rc;
    if (!*s)
        return sp_config_fail_at(err, sp_config_lookup(e, "path"), "the path is empty");
    if ((rc = resolve_path(c, sp_config_lookup(e, "path"), s, d->path, sizeof d->path, err)))
        return rc;
    if ((rc = sp_config_get_int(e, "weight", 1, &v, err)))
        return rc;
    d->weight = (uint64_t)v;
    if ((rc = sp_config_get_string(e, "tier", "warm", &s, err)))
        return rc;
    snprintf(d->tier, sizeof d->tier, "%s", s);
    if ((rc = sp_config_get_bool(e, "readonly", false, &d->readonly, err)) ||
        (rc = sp_config_get_size(e, "capacity", 0, &d->capacity, err)) ||
        (rc = miners_csv(sp_config_lookup(e, "allow_miners"), d->allow_miners,
                         sizeof d->allow_miners, err)) ||
        (rc = miners_csv(sp_config_lookup(e, "deny_miners"), d->deny_miners,
                         sizeof d->deny_miners, err)))
        return rc;
    if ((rc = sp_config_get_string(e, "media", "hdd", &s, err)))
        return rc;
    snprintf(d->media, sizeof d->media, "%s", s);
    if ((rc = sp_config_get_int(e, "min_free_pct", 0, &v, err)))
        return rc;
    d->min_free_pct = (unsigned)v;
    if ((rc = types_bits(sp_config_lookup(e, "allow_types"), &d->allow_types, err)) ||
        (rc = types_bits(sp_config_lookup(e, "deny_types"), &d->deny_types, err)) ||
        (rc = sp_config_get_string(e, "domain", "", &s, err)))
        return rc;
    if (strlen(s) >= sizeof d->domain || strpbrk(s, "\n\r\t,"))
        return sp_config_fail_at(err, sp_config_lookup(e, "domain"), "a domain is at most %zu "
                                 "characters without commas or control characters", sizeof d->domain - 1);
    snprintf(d->domain, sizeof d->domain, "%s", s);
    return SP_OK;
}

static sp_code load_chain(const config_setting_t *root, sm_chain_params *p, sp_err *err)
{
    sm_chain_params_default(p);
    const config_setting_t *g = sp_config_lookup(root, "chain");
    sp_code rc;
    if ((rc = sp_config_get_duration_ms(g, "block_time", p->block_ms, &p->block_ms, err)) ||
        (rc = sp_config_get_int(g, "ticket_lookback", p->ticket_lookback, &p->ticket_lookback, err)) ||
        (rc = sp_config_get_int(g, "max_ticket_age", p->max_ticket_age, &p->max_ticket_age, err)) ||
        (rc = sp_config_get_int(g, "precommit_landing", p->precommit_landing, &p->precommit_landing, err)) ||
        (rc = sp_config_get_int(g, "challenge_delay", p->challenge_delay, &p->challenge_delay, err)) ||
        (rc = sp_config_get_int(g, "seed_confidence", p->seed_confidence, &p->seed_confidence, err)) ||
        (rc = sp_config_get_int(g, "proof_landing", p->proof_landing, &p->proof_landing, err)) ||
        (rc = sp_config_get_int(g, "max_prove_duration", p->max_prove_duration,
                                &p->max_prove_duration, err)))
        return rc;
    if (p->max_ticket_age <= p->ticket_lookback)
        return sp_config_fail_at(err, sp_config_lookup(g, "max_ticket_age"),
                                 "max_ticket_age (%" PRId64 ") must exceed ticket_lookback (%" PRId64
                                 ") or every ticket would expire before its precommit lands",
                                 p->max_ticket_age, p->ticket_lookback);
    if (p->max_prove_duration <= p->challenge_delay + p->seed_confidence)
        return sp_config_fail_at(err, sp_config_lookup(g, "max_prove_duration"),
                                 "max_prove_duration (%" PRId64 ") must exceed challenge_delay + "
                                 "seed_confidence (%" PRId64 ")", p->max_prove_duration,
                                 p->challenge_delay + p->seed_confidence);
    return SP_OK;
}

static sp_code load_lists(sm_conf *c, const config_setting_t *root, sp_err *err)
{
    sp_code rc;
    const config_setting_t *miners = sp_config_lookup(root, "miners");
    int n = miners ? config_setting_length(miners) : 0;
    if (n > 0 && !(c->miners = calloc((size_t)n, sizeof *c->miners)))
        return sp_fail(err, SP_ENOMEM, "config: out of memory");
    for (int i = 0; i < n; i++) {
        const config_setting_t *e = config_setting_get_elem(miners, (unsigned)i);
        if ((rc = load_miner(e, &c->miners[i], err)))
            return rc;
        if (sm_conf_miner(c, c->miners[i].actor))
            return sp_config_fail_at(err, sp_config_lookup(e, "actor"), "miner %" PRIu64
                                     " is listed twice", c->miners[i].actor);
        c->n_miners++;
    }
    const config_setting_t *stores = sp_config_lookup(root, "persist_stores");
    n = stores ? config_setting_length(stores) : 0;
    if (n > 0 && !(c->stores = calloc((size_t)n, sizeof *c->stores)))
        return sp_fail(err, SP_ENOMEM, "config: out of memory");
    for (int i = 0; i < n; i++) {
        const config_setting_t *e = config_setting_get_elem(stores, (unsigned)i);
        if ((rc = load_store(c, e, &c->stores[i], err)))
            return rc;
        for (size_t j = 0; j < c->n_stores; j++)
            if (strcmp(c->stores[j].name, c->stores[i].name) == 0)
                return sp_config_fail_at(err, sp_config_lookup(e, "name"),
                                         "store \"%s\" is listed twice", c->stores[i].name);
        c->n_stores++;
    }
    return SP_OK;
}

static sp_code load_all(sm_conf *c, sp_err *err)
{
    const config_setting_t *root = sp_config_root(c->cfg);
    sp_code rc;
    int64_t v;
    uint64_t ms;
    const char *s;
    const config_setting_t *api = sp_config_lookup(root, "api");
    if ((rc = sp_config_get_string(api, "listen", "127.0.0.1:1789", &c->listen, err)))
        return rc;
    if ((rc = sp_config_get_int(api, "threads", 0, &v, err)))
        return rc;
    if (v == 0) {
        /* More threads than cores only adds contention on the database's write lock. */
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        v = cpus < 2 ? 2 : cpus > 16 ? 16 : cpus;
    }
    c->threads = (unsigned)v;
    if ((rc = sp_config_get_int(api, "max_connections", 4096, &v, err)))
        return rc;
    c->max_connections = (unsigned)v;
    if ((rc = sp_config_get_duration_ms(api, "idle_timeout", 60000, &ms, err)))
        return rc;
    c->idle_timeout_s = (unsigned)((ms + 999) / 1000);
    if ((rc = sp_config_get_size(api, "max_body", 64ULL << 20, &c->max_body, err)))
        return rc;

    const config_setting_t *db = sp_config_lookup(root, "db");
    if ((rc = sp_config_get_string(db, "driver", "sqlite", &c->db_driver, err)) ||
        (rc = sp_config_get_string(db, "path", "manager.db", &s, err)))
        return rc;
    if (!*s)
        return sp_config_fail_at(err, sp_config_lookup(db, "path"), "the path is empty");
    if ((rc = resolve_path(c, sp_config_lookup(db, "path"), s, c->db_path, sizeof c->db_path, err)))
        return rc;

    if ((rc = load_chain(root, &c->chain_params, err)))
        return rc;

    const config_setting_t *ps = sp_config_lookup(root, "piece_store");
    if ((rc = sp_config_get_string(ps, "path", "pieces", &s, err)))
        return rc;
    if (!*s)
        return sp_config_fail_at(err, sp_config_lookup(ps, "path"), "the path is empty");
    if ((rc = resolve_path(c, sp_config_lookup(ps, "path"), s, c->piece_dir, sizeof c->piece_dir, err)))
        return rc;

    int lvl = SP_LOG_INFO;
    if ((rc = sp_config_get_enum(sp_config_lookup(root, "log"), "level", levels, SP_LOG_INFO, &lvl, err)))
        return rc;
    c->log_level = lvl;
    if ((rc = sm_storage_conf_load(root, c->dir, &c->storage, err)))
        return rc;
    return load_lists(c, root, err);
}

static sp_code finish_load(sm_conf *c, const char *file, char **all, sp_err *err)
{
    snprintf(c->file, sizeof c->file, "%s", file);
    const char *slash = strrchr(file, '/');
    if (!slash)
        snprintf(c->dir, sizeof c->dir, ".");
    else if (slash == file)
        snprintf(c->dir, sizeof c->dir, "/");
    else
        snprintf(c->dir, sizeof c->dir, "%.*s", (int)(slash - file), file);
    sp_code rc = sp_config_check(c->cfg, sm_conf_schema, all, err);
    if (rc)
        return rc;
    return load_all(c, err);
}

static sm_conf *conf_new(void)
{
    sm_conf *c = calloc(1, sizeof *c);
    if (c)
        atomic_init(&c->refs, 1);
    return c;
}

sp_code sm_conf_load(const char *file, sm_conf **out, char **all, sp_err *err)
{
    *out = NULL;
    if (all)
        *all = NULL;
    sm_conf *c = conf_new();
    if (!c)
        return sp_fail(err, SP_ENOMEM, "config: out of memory");
    sp_code rc = sp_config_load(file, &c->cfg, err);
    if (!rc)
        rc = finish_load(c, file, all, err);
    if (rc) {
        sm_conf_unref(c);
        return rc;
    }
    *out = c;
    return SP_OK;
}

sp_code sm_conf_load_string(const char *text, const char *name, sm_conf **out, char **all,
                            sp_err *err)
{
    *out = NULL;
    if (all)
        *all = NULL;
    sm_conf *c = conf_new();
    if (!c)
        return sp_fail(err, SP_ENOMEM, "config: out of memory");
    sp_code rc = sp_config_load_string(text, name, &c->cfg, err);
    if (!rc)
        rc = finish_load(c, name, all, err);
    if (rc) {
        sm_conf_unref(c);
        return rc;
    }
    *out = c;
    return SP_OK;
}

void sm_conf_ref(sm_conf *c)
{
    atomic_fetch_add(&c->refs, 1);
}

void sm_conf_unref(sm_conf *c)
{
    if (!c || atomic_fetch_sub(&c->refs, 1) != 1)
        return;
    free(c->miners);
    free(c->stores);
    sp_config_free(c->cfg);
    free(c);
}

const sm_miner_conf *sm_conf_miner(const sm_conf *c, uint64_t actor)
{
    for (size_t i = 0; i < c->n_miners; i++)
        if (c->miners[i].actor == actor)
            return &c->miners[i];
    return NULL;
}

bool sm_miner_allows_proof(const sm_miner_conf *m, int proof_id)
{
    for (size_t i = 0; i < m->n_proofs; i++)
        if (m->proofs[i] == proof_id)
            return true;
    return false;
}
