/* config.c — the seal-worker config: its schema, loading into wk_config, the checks that
 * need no topology, and the wk_diags message list.  Key meanings are documented in
 * config/worker.cfg; the schema's doc strings say the same in one line each. */
#include "wk_config.h"

#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sealproofs.h"
#include "sp_size.h"
#include "wk_topology.h"

/* ---- diagnostics -------------------------------------------------------------------- */

static void diags_push(char ***v, int *n, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

static void diags_push(char ***v, int *n, const char *fmt, va_list ap)
{
    char *msg = NULL;
    if (vasprintf(&msg, fmt, ap) < 0)
        return;   /* out of memory: the message is lost, the count of errors is not */
    char **nv = realloc(*v, (size_t)(*n + 1) * sizeof *nv);
    if (!nv) {
        free(msg);
        return;
    }
    nv[(*n)++] = msg;
    *v = nv;
}

void wk_diags_error(wk_diags *d, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    diags_push(&d->errors, &d->nerrors, fmt, ap);
    va_end(ap);
}

void wk_diags_warn(wk_diags *d, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    diags_push(&d->warnings, &d->nwarnings, fmt, ap);
    va_end(ap);
}

static void diags_at(wk_diags *d, bool error, const config_setting_t *s, const char *fallback_key,
                     const char *fmt, va_list ap) __attribute__((format(printf, 5, 0)));

static void diags_at(wk_diags *d, bool error, const config_setting_t *s, const char *fallback_key,
                     const char *fmt, va_list ap)
{
    char body[SP_ERR_MSG_MAX];
    vsnprintf(body, sizeof body, fmt, ap);
    sp_err e;
    sp_err_clear(&e);
    const char *text = body;
    if (s) {
        sp_config_fail_at(&e, s, "%s", body);
        text = e.msg;
    }
    const char *key = !s && fallback_key ? fallback_key : NULL;
    if (error)
        wk_diags_error(d, "%s%s%s", key ? key : "", key ? ": " : "", text);
    else
        wk_diags_warn(d, "%s%s%s", key ? key : "", key ? ": " : "", text);
}

void wk_diags_error_at(wk_diags *d, const config_setting_t *s, const char *fallback_key,
                       const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    diags_at(d, true, s, fallback_key, fmt, ap);
    va_end(ap);
}

void wk_diags_warn_at(wk_diags *d, const config_setting_t *s, const char *fallback_key,
                      const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    diags_at(d, false, s, fallback_key, fmt, ap);
    va_end(ap);
}

static void move_msgs(char ***dv, int *dn, char ***sv, int *sn)
{
    for (int i = 0; i < *sn; i++) {
        char **nv = realloc(*dv, (size_t)(*dn + 1) * sizeof *nv);
        if (!nv) {
            free((*sv)[i]);
            continue;
        }
        nv[(*dn)++] = (*sv)[i];
        *dv = nv;
    }
    free(*sv);
    *sv = NULL;
    *sn = 0;
}

void wk_diags_take(wk_diags *dst, wk_diags *src)
{
    move_msgs(&dst->errors, &dst->nerrors, &src->errors, &src->nerrors);
    move_msgs(&dst->warnings, &dst->nwarnings, &src->warnings, &src->nwarnings);
}

void wk_diags_free(wk_diags *d)
{
    if (!d)
        return;
    for (int i = 0; i < d->nerrors; i++)
        free(d->errors[i]);
    for (int i = 0; i < d->nwarnings; i++)
        free(d->warnings[i]);
    free(d->errors);
    free(d->warnings);
    memset(d, 0, sizeof *d);
}

/* ---- stages ------------------------------------------------------------------------- */

static const char *const stage_names[WK_STAGE_COUNT] = {
    "add_pieces", "tree_d", "pc1", "pc2", "c1", "c2", "unseal",
};

const char *wk_stage_name(wk_stage s)
{
    return (unsigned)s < WK_STAGE_COUNT ? stage_names[s] : "?";
}

int wk_stage_parse(const char *name)
{
    for (int i = 0; name && i < WK_STAGE_COUNT; i++)
        if (strcmp(stage_names[i], name) == 0)
            return i;
    return -1;
}

char *wk_proc_key(const wk_proc_cfg *p, char *buf, size_t len)
{
    snprintf(buf, len, "processors.%s[%d]", wk_stage_name(p->stage), p->index);
    return buf;
}

/* ---- schema ------------------------------------------------------------------------- */

static const char *const plans[] = { "sealer", "unseal", NULL };
static const char *const backends[] = { "native", "filcrypto", NULL };

#define SEALING_FIELDS                                                                      \
    { .name = "allowed_miners", .type = SP_CFG_INT_ARRAY, .min = 1, .max = INT64_MAX,       \
      .doc = "miner actor IDs this worker seals for (1000 for f01000); empty: any" },      \
    { .name = "allowed_sizes", .type = SP_CFG_STRING_ARRAY,                                 \
      .doc = "sector sizes to seal (\"2KiB\", \"8MiB\", \"512MiB\", \"32GiB\", \"64GiB\"); empty: any" }, \
    { .name = "enable_deals", .type = SP_CFG_BOOL, .def = "false",                          \
      .doc = "take sectors with deal pieces (else committed-capacity only)" },             \
    { .name = "max_retries", .type = SP_CFG_INT, .min = 0, .max = 1000, .def = "5",         \
      .doc = "retries of a temporary error before the thread pauses" },                    \
    { .name = "seal_interval", .type = SP_CFG_DURATION, .max = INT64_MAX, .def = "30s",    \
      .doc = "pause between two sectors of one thread" },                                  \
    { .name = "recover_interval", .type = SP_CFG_DURATION, .max = INT64_MAX, .def = "60s", \
      .doc = "wait before retrying a temporary error" },                                   \
    { .name = "rpc_polling_interval", .type = SP_CFG_DURATION, .min = 100,                 \
      .max = INT64_MAX, .def = "180s",                                                      \
      .doc = "how often to ask the manager about chain events" }

static const sp_cfg_field sealing_fields[] = { SEALING_FIELDS, { 0 } };

static const sp_cfg_field worker_fields[] = {
    { .name = "name", .type = SP_CFG_STRING, .def = "the host name",
      .doc = "this worker's name, shown by the manager" },
    { .name = "listen", .type = SP_CFG_STRING, .def = "127.0.0.1:17890",
      .doc = "admin API address host:port (seal-worker threads ...)" },
    { 0 }
};

static const sp_cfg_field manager_fields[] = {
    { .name = "url", .type = SP_CFG_STRING, .flags = SP_CFG_REQUIRED,
      .doc = "the sector-manager's RPC URL, http://host:port" },
    { .name = "token", .type = SP_CFG_STRING, .doc = "worker-scope bearer token" },
    { .name = "token_file", .type = SP_CFG_STRING,
      .doc = "file holding the worker-scope bearer token (instead of token)" },
    { 0 }
};

static const sp_cfg_field thread_fields[] = {
    { .name = "location", .type = SP_CFG_STRING, .flags = SP_CFG_REQUIRED,
      .doc = "this thread's own directory on fast local storage" },
    { .name = "plan", .type = SP_CFG_ENUM, .values = plans, .def = "sealer",
      .doc = "what the thread does: sealer or unseal" },
    { .name = "sealing", .type = SP_CFG_GROUP, .children = sealing_fields,
      .doc = "overrides of the [sealing] keys for this thread" },
    { 0 }
};

static const sp_cfg_field attached_fields[] = {
    { .name = "name", .type = SP_CFG_STRING, .def = "the location",
      .doc = "the store's name in the sector-manager" },
    { .name = "location", .type = SP_CFG_STRING, .flags = SP_CFG_REQUIRED,
      .doc = "where the store is mounted on this machine" },
    { .name = "readonly", .type = SP_CFG_BOOL, .def = "false",
      .doc = "never write finished sectors here" },
    { 0 }
};

static const sp_cfg_field stage_int_fields[] = {
    { .name = "add_pieces", .type = SP_CFG_INT, .min = 1, .max = 100000 },
    { .name = "tree_d", .type = SP_CFG_INT, .min = 1, .max = 100000 },
    { .name = "pc1", .type = SP_CFG_INT, .min = 1, .max = 100000 },
    { .name = "pc2", .type = SP_CFG_INT, .min = 1, .max = 100000 },
    { .name = "c1", .type = SP_CFG_INT, .min = 1, .max = 100000 },
    { .name = "c2", .type = SP_CFG_INT, .min = 1, .max = 100000 },
    { .name = "unseal", .type = SP_CFG_INT, .min = 1, .max = 100000 },
    { 0 }
};

static const sp_cfg_field stage_duration_fields[] = {
    { .name = "add_pieces", .type = SP_CFG_DURATION, .min = 1000, .max = INT64_MAX },
    { .name = "tree_d", .type = SP_CFG_DURATION, .min = 1000, .max = INT64_MAX },
    { .name = "pc1", .type = SP_CFG_DURATION, .min = 1000, .max = INT64_MAX },
    { .name = "pc2", .type = SP_CFG_DURATION, .min = 1000, .max = INT64_MAX },
    { .name = "c1", .type = SP_CFG_DURATION, .min = 1000, .max = INT64_MAX },
    { .name = "c2", .type = SP_CFG_DURATION, .min = 1000, .max = INT64_MAX },
    { .name = "unseal", .type = SP_CFG_DURATION, .min = 1000, .max = INT64_MAX },
    { 0 }
};

static const sp_cfg_field limitation_fields[] = {
    { .name = "concurrent", .type = SP_CFG_GROUP, .children = stage_int_fields,
      .doc = "stage = N: at most N tasks of the stage at once on this worker" },
    { .name = "staggered", .type = SP_CFG_GROUP, .children = stage_duration_fields,
      .doc = "stage = \"5min\": at most one task of the stage starts per interval" },
    { .name = "timeout", .type = SP_CFG_GROUP, .children = stage_duration_fields,
      .doc = "stage = \"3h\": a task of the stage without an answer by then gets its "
             "processor killed and is retried (default: generous, by sector size)" },
    { 0 }
};

static const sp_cfg_field string_value = { .type = SP_CFG_STRING };
static const sp_cfg_field lock_value = { .type = SP_CFG_INT, .min = 1, .max = 1024 };

#define PROC_FIELDS                                                                         \
    { .name = "cpuset", .type = SP_CFG_STRING,                                              \
      .doc = "CPUs (OS indexes) to bind to, \"0-7,32-39\"; or use cores" },                \
    { .name = "cores", .type = SP_CFG_INT, .min = 1, .max = 65536,                          \
      .doc = "whole physical cores the worker picks (with all their threads)" },           \
    { .name = "numa", .type = SP_CFG_INT, .min = 0, .max = 65535,                           \
      .doc = "NUMA node (OS index): where cores are picked and memory is bound" },        \
    { .name = "near_gpu", .type = SP_CFG_INT, .min = 0, .max = 1023,                        \
      .doc = "pick cores close to this GPU (and use it)" },                                \
    { .name = "gpu", .type = SP_CFG_INT, .min = 0, .max = 1023,                             \
      .doc = "GPU index this processor uses (see seal-worker info)" },                     \
    { .name = "concurrent", .type = SP_CFG_INT, .min = 1, .max = 4096, .def = "1",          \
      .doc = "tasks this processor runs at once" },                                        \
    { .name = "locks", .type = SP_CFG_STRING_ARRAY,                                         \
      .doc = "names from processors.ext_locks held while a task runs" },                   \
    { .name = "envs", .type = SP_CFG_MAP, .children = &string_value,                        \
      .doc = "extra environment of the child, NAME = \"value\"" },                         \
    { .name = "hugepages", .type = SP_CFG_BOOL, .def = "false",                             \
      .doc = "allocate large buffers from huge pages on the processor's NUMA node" },      \
    { .name = "backend", .type = SP_CFG_ENUM, .values = backends, .def = "native",          \
      .doc = "proof implementation: native or filcrypto (libfilcrypto at run time)" },     \
    { .name = "filcrypto", .type = SP_CFG_STRING, .def = "$SEALPIPE_FILCRYPTO",              \
      .doc = "with backend = filcrypto: path of libfilcrypto.so" },                        \
    { .name = "bin", .type = SP_CFG_STRING, .def = "this seal-worker",                      \
      .doc = "external processor program speaking the processor protocol" },              \
    { .name = "args", .type = SP_CFG_STRING_ARRAY, .def = "[\"processor\", STAGE]",          \
      .doc = "arguments of bin" },                                                          \
    { .name = "share", .type = SP_CFG_BOOL, .def = "false",                                 \
      .doc = "an explicit cpuset may overlap other processors' cores" }

static const sp_cfg_field proc_fields[] = { PROC_FIELDS, { 0 } };
static const sp_cfg_field pc1_fields[] = {
    PROC_FIELDS,
    { .name = "batch", .type = SP_CFG_INT, .min = 1, .max = 128, .def = "1",
      .doc = "sectors sealed together by one PC1 task (1: no batching)" },
    { .name = "batch_wait", .type = SP_CFG_DURATION, .max = INT64_MAX, .def = "0s",
      .doc = "how long a PC1 batch waits to fill up" },
    { 0 }
};

static const sp_cfg_field processor_fields[] = {
    { .name = "limitation", .type = SP_CFG_GROUP, .children = limitation_fields,
      .doc = "per-stage limits across all sealing threads" },
    { .name = "ext_locks", .type = SP_CFG_MAP, .children = &lock_value,
      .doc = "name = capacity: locks processors hold while running (one GPU, two stages)" },
    { .name = "parent_cache", .type = SP_CFG_STRING, .def = "/var/tmp/filecoin-parents",
      .doc = "directory of the SDR parent cache files" },
    { .name = "add_pieces", .type = SP_CFG_GROUP_LIST, .children = proc_fields,
      .doc = "AddPieces processors" },
    { .name = "tree_d", .type = SP_CFG_GROUP_LIST, .children = proc_fields,
      .doc = "TreeD processors" },
    { .name = "pc1", .type = SP_CFG_GROUP_LIST, .children = pc1_fields,
      .doc = "PreCommit1 (SDR labelling) processors" },
    { .name = "pc2", .type = SP_CFG_GROUP_LIST, .children = proc_fields,
      .doc = "PreCommit2 (tree_c, tree_r_last) processors" },
    { .name = "c1", .type = SP_CFG_GROUP_LIST, .children = proc_fields,
      .doc = "Commit1 (vanilla proofs) processors" },
    { .name = "c2", .type = SP_CFG_GROUP_LIST, .children = proc_fields,
      .doc = "Commit2 (proof packaging / SNARK) processors" },
    { .name = "unseal", .type = SP_CFG_GROUP_LIST, .children = proc_fields,
      .doc = "unseal processors" },
    { 0 }
};

static const sp_cfg_field schema[] = {
    { .name = "worker", .type = SP_CFG_GROUP, .children = worker_fields,
      .doc = "this worker" },
    { .name = "sector_manager", .type = SP_CFG_GROUP, .flags = SP_CFG_REQUIRED,
      .children = manager_fields, .doc = "how to reach the sector-manager" },
    { .name = "sealing", .type = SP_CFG_GROUP, .children = sealing_fields,
      .doc = "what to seal and how to pace it (defaults of every sealing thread)" },
    { .name = "sealing_thread", .type = SP_CFG_GROUP_LIST, .flags = SP_CFG_REQUIRED,
      .children = thread_fields, .doc = "one entry per sealing directory" },
    { .name = "attached", .type = SP_CFG_GROUP_LIST, .children = attached_fields,
      .doc = "the manager's stores mounted on this machine" },
    { .name = "processors", .type = SP_CFG_GROUP, .children = processor_fields,
      .doc = "processor children per stage and their placement" },
    { 0 }
};

const sp_cfg_field *wk_config_schema(void)
{
    return schema;
}

/* ---- allocation --------------------------------------------------------------------- */

typedef struct mem_block {
    struct mem_block *next;
    max_align_t data[];
} mem_block;

static void *cfg_alloc(wk_config *c, size_t n, size_t size)
{
    if (n == 0)
        n = 1;
    mem_block *b = calloc(1, sizeof *b + n * size);
    if (!b)
        return NULL;
    b->next = c->mem;
    c->mem = b;
    return b->data;
}

/* ---- reading sections --------------------------------------------------------------- */

/* A tiny reading context: the config, where messages go, whether memory ran out.  After
 * schema errors the reader runs `quiet`: wrong types were reported already, so a getter
 * failure only marks the entry being read as `broken` (no follow-on checks on it). */
typedef struct reader {
    wk_config *c;
    wk_diags *d;
    bool oom;
    bool quiet;
    bool broken;
} reader;

static void note_get(reader *r, sp_code rc, sp_err *e)
{
    if (rc == SP_OK)
        return;
    r->broken = true;
    if (!r->quiet)
        wk_diags_error(r->d, "%s", e->msg);
}

static int64_t get_int(reader *r, const config_setting_t *base, const char *key, int64_t def)
{
    sp_err e;
    int64_t v = def;
    note_get(r, sp_config_get_int(base, key, def, &v, &e), &e);
    return v;
}

static bool get_bool(reader *r, const config_setting_t *base, const char *key, bool def)
{
    sp_err e;
    bool v = def;
    note_get(r, sp_config_get_bool(base, key, def, &v, &e), &e);
    return v;
}

static const char *get_str(reader *r, const config_setting_t *base, const char *key, const char *def)
{
    sp_err e;
    const char *v = def;
    note_get(r, sp_config_get_string(base, key, def, &v, &e), &e);
    return v;
}

static uint64_t get_ms(reader *r, const config_setting_t *base, const char *key, uint64_t def)
{
    sp_err e;
    uint64_t v = def;
    note_get(r, sp_config_get_duration_ms(base, key, def, &v, &e), &e);
    return v;
}

static const char **get_strings(reader *r, const config_setting_t *base, const char *key, int *n)
{
    *n = 0;
    const config_setting_t *s = sp_config_lookup(base, key);
    if (!s)
        return NULL;
    int len = config_setting_length(s);
    const char **v = cfg_alloc(r->c, (size_t)len, sizeof *v);
    if (!v) {
        r->oom = true;
        return NULL;
    }
    for (int i = 0; i < len; i++) {
        const char *str = config_setting_get_string_elem(s, (unsigned)i);
        if (str)
            v[(*n)++] = str;
    }
    return v;
}

static void read_sizes(reader *r, const config_setting_t *s, wk_sealing *out)
{
    int len = config_setting_length(s);
    uint64_t *v = cfg_alloc(r->c, (size_t)len, sizeof *v);
    if (!v) {
        r->oom = true;
        return;
    }
    int n = 0;
    for (int i = 0; i < len; i++) {
        const config_setting_t *el = config_setting_get_elem(s, (unsigned)i);
        const char *text = config_setting_get_string(el);
        uint64_t size = 0;
        sp_err e;
        if (!text)
            continue;
        if (sp_parse_size(text, &size, &e) != SP_OK || pf_seal_proof_for_size(size) < 0) {
            wk_diags_error_at(r->d, el, NULL,
                              "\"%s\" is not a sector size; use 2KiB, 8MiB, 512MiB, 32GiB or 64GiB",
                              text);
            continue;
        }
        v[n++] = size;
    }
    out->allowed_sizes = v;
    out->nallowed_sizes = n;
}

static void read_miners(reader *r, const config_setting_t *s, wk_sealing *out)
{
    int len = config_setting_length(s);
    int64_t *v = cfg_alloc(r->c, (size_t)len, sizeof *v);
    if (!v) {
        r->oom = true;
        return;
    }
    for (int i = 0; i < len; i++)
        v[i] = config_setting_get_int64_elem(s, (unsigned)i);
    out->allowed_miners = v;
    out->nallowed_miners = len;
}

/* Reads the keys present in group g over *out (defaults are already in *out). */
static void read_sealing(reader *r, const config_setting_t *g, wk_sealing *out)
{
    if (!g)
        return;
    const config_setting_t *s;
    if ((s = sp_config_lookup(g, "allowed_miners")) != NULL)
        read_miners(r, s, out);
    if ((s = sp_config_lookup(g, "allowed_sizes")) != NULL)
        read_sizes(r, s, out);
    out->enable_deals = get_bool(r, g, "enable_deals", out->enable_deals);
    out->max_retries = (int)get_int(r, g, "max_retries", out->max_retries);
    out->seal_interval_ms = get_ms(r, g, "seal_interval", out->seal_interval_ms);
    out->recover_interval_ms = get_ms(r, g, "recover_interval", out->recover_interval_ms);
    out->rpc_polling_interval_ms = get_ms(r, g, "rpc_polling_interval", out->rpc_polling_interval_ms);
}

static bool valid_listen(const char *s)
{
    const char *colon = strrchr(s, ':');
    if (!colon || colon == s)
        return false;
    char *end;
    long port = strtol(colon + 1, &end, 10);
    return colon[1] && *end == 0 && port > 0 && port < 65536;
}

static void read_worker(reader *r, const config_setting_t *root)
{
    wk_config *c = r->c;
    if (gethostname(c->hostname, sizeof c->hostname - 1) != 0)
        snprintf(c->hostname, sizeof c->hostname, "seal-worker");
    c->name = get_str(r, root, "worker.name", c->hostname);
    if (!c->name[0])
        wk_diags_error_at(r->d, sp_config_lookup(root, "worker.name"), NULL,
                          "empty name; remove the key to use the host name");
    c->listen = get_str(r, root, "worker.listen", "127.0.0.1:17890");
    if (!valid_listen(c->listen))
        wk_diags_error_at(r->d, sp_config_lookup(root, "worker.listen"), NULL,
                          "\"%s\" is not host:port; write e.g. \"127.0.0.1:17890\" or "
                          "\"0.0.0.0:17890\"", c->listen);
}

static void read_manager(reader *r, const config_setting_t *root)
{
    wk_config *c = r->c;
    const config_setting_t *g = sp_config_lookup(root, "sector_manager");
    c->manager_url = get_str(r, g, "url", NULL);
    c->token = get_str(r, g, "token", NULL);
    c->token_file = get_str(r, g, "token_file", NULL);
    if (c->manager_url && strncmp(c->manager_url, "http://", 7) != 0 &&
        strncmp(c->manager_url, "https://", 8) != 0)
        wk_diags_error_at(r->d, sp_config_lookup(g, "url"), NULL,
                          "\"%s\" is not an http:// or https:// URL; write e.g. "
                          "\"http://10.0.0.5:1789\"", c->manager_url);
    if (c->token && c->token_file)
        wk_diags_error_at(r->d, sp_config_lookup(g, "token_file"), NULL,
                          "both token and token_file are set; keep one (token_file keeps the "
                          "secret out of the config)");
    else if (g && !c->token && !c->token_file)
        wk_diags_error_at(r->d, g, NULL,
                          "no token: set token_file (or token) to the worker-scope token that "
                          "`sector-manager init` printed");
}

static void read_threads(reader *r, const config_setting_t *root)
{
    wk_config *c = r->c;
    const config_setting_t *list = sp_config_lookup(root, "sealing_thread");
    int n = list ? config_setting_length(list) : 0;
    c->threads = cfg_alloc(c, (size_t)n, sizeof *c->threads);
    if (!c->threads) {
        r->oom = true;
        return;
    }
    if (list && n == 0)
        wk_diags_error_at(r->d, list, NULL,
                          "no sealing threads; add one entry per sealing directory, "
                          "( { location = \"/mnt/nvme0/t01\"; } )");
    for (int i = 0; i < n; i++) {
        const config_setting_t *e = config_setting_get_elem(list, (unsigned)i);
        if (!config_setting_is_group(e))
            continue;   /* the schema check said so */
        wk_thread_cfg *t = &c->threads[c->nthreads++];
        t->setting = e;
        t->location = get_str(r, e, "location", "");
        sp_err err;
        int plan = 0;
        note_get(r, sp_config_get_enum(e, "plan", plans, 0, &plan, &err), &err);
        t->plan = (wk_plan_kind)plan;
        t->sealing = c->sealing;
        read_sealing(r, sp_config_lookup(e, "sealing"), &t->sealing);
        if (!t->location[0])
            wk_diags_error_at(r->d, sp_config_lookup(e, "location"), NULL,
                              "empty location; give the thread its own directory");
        for (int j = 0; j < i; j++)
            if (strcmp(c->threads[j].location, t->location) == 0 && t->location[0])
                wk_diags_error_at(r->d, sp_config_lookup(e, "location"), NULL,
                                  "\"%s\" is also the location of sealing_thread[%d]; every "
                                  "thread needs its own directory", t->location, j);
    }
}

static void read_attached(reader *r, const config_setting_t *root)
{
    wk_config *c = r->c;
    const config_setting_t *list = sp_config_lookup(root, "attached");
    int n = list ? config_setting_length(list) : 0;
    c->attached = cfg_alloc(c, (size_t)n, sizeof *c->attached);
    if (!c->attached) {
        r->oom = true;
        return;
    }
    if (n == 0)
        wk_diags_warn(r->d, "%s: attached: no store attached; finalize copies sealed sectors "
                      "to the manager's stores, so list the ones mounted here",
                      sp_config_path(c->cfg));
    for (int i = 0; i < n; i++) {
        const config_setting_t *e = config_setting_get_elem(list, (unsigned)i);
        if (!config_setting_is_group(e))
            continue;
        wk_attached_cfg *a = &c->attached[c->nattached++];
        a->setting = e;
        a->location = get_str(r, e, "location", "");
        a->name = get_str(r, e, "name", a->location);
        a->readonly = get_bool(r, e, "readonly", false);
        for (int j = 0; j < i; j++)
            if (strcmp(c->attached[j].name, a->name) == 0)
                wk_diags_error_at(r->d, sp_config_lookup(e, "name") ? sp_config_lookup(e, "name") : e,
                                  NULL, "store name \"%s\" is also attached[%d]'s; names must "
                                  "be unique (they match the manager's store names)", a->name, j);
    }
}

static void read_limits(reader *r, const config_setting_t *procs)
{
    wk_config *c = r->c;
    const config_setting_t *conc = sp_config_lookup(procs, "limitation.concurrent");
    const config_setting_t *stag = sp_config_lookup(procs, "limitation.staggered");
    const config_setting_t *tmo = sp_config_lookup(procs, "limitation.timeout");
    for (int s = 0; s < WK_STAGE_COUNT; s++) {
        c->limit_concurrent[s] = (int)get_int(r, conc, stage_names[s], 0);
        c->limit_staggered_ms[s] = get_ms(r, stag, stage_names[s], 0);
        c->limit_timeout_ms[s] = get_ms(r, tmo, stage_names[s], 0);
    }
    const config_setting_t *locks = sp_config_lookup(procs, "ext_locks");
    int n = locks ? config_setting_length(locks) : 0;
    c->locks = cfg_alloc(c, (size_t)n, sizeof *c->locks);
    if (!c->locks) {
        r->oom = true;
        return;
    }
    for (int i = 0; i < n; i++) {
        const config_setting_t *l = config_setting_get_elem(locks, (unsigned)i);
        wk_lock_cfg *lk = &c->locks[c->nlocks++];
        lk->name = config_setting_name(l);
        lk->capacity = (int)get_int(r, l, "", 1);
        lk->setting = l;
    }
    c->parent_cache = get_str(r, procs, "parent_cache", NULL);
}

const wk_lock_cfg *wk_config_lock(const wk_config *c, const char *name)
{
    for (int i = 0; i < c->nlocks; i++)
        if (strcmp(c->locks[i].name, name) == 0)
            return &c->locks[i];
    return NULL;
}

static void read_envs(reader *r, const config_setting_t *e, wk_proc_cfg *p)
{
    const config_setting_t *g = sp_config_lookup(e, "envs");
    int n = g ? config_setting_length(g) : 0;
    p->envs = cfg_alloc(r->c, (size_t)n, sizeof *p->envs);
    if (!p->envs) {
        r->oom = true;
        return;
    }
    for (int i = 0; i < n; i++) {
        const config_setting_t *kv = config_setting_get_elem(g, (unsigned)i);
        const char *v = config_setting_get_string(kv);
        if (!v)
            continue;
        p->envs[p->nenvs].key = config_setting_name(kv);
        p->envs[p->nenvs++].value = v;
    }
}

/* The checks on one processor entry that need no topology. */
static void check_proc(reader *r, const wk_proc_cfg *p, const config_setting_t *e)
{
    const wk_config *c = r->c;
    const config_setting_t *cs = sp_config_lookup(e, "cpuset");
    const config_setting_t *cores = sp_config_lookup(e, "cores");
    if (p->cpuset && p->cores > 0)
        wk_diags_error_at(r->d, cs, NULL, "both cpuset and cores are set; keep cpuset to name the "
                          "CPUs yourself, or cores = N to let the worker pick whole cores");
    else if (!p->cpuset && p->cores <= 0 && !cores)
        wk_diags_error_at(r->d, e, NULL, "says neither cpuset nor cores; add cores = N (the "
                          "worker picks N whole cores) or cpuset = \"0-7\"");
    if (p->cpuset) {
        hwloc_bitmap_t set = NULL;
        sp_err err;
        if (wk_cpulist_parse(p->cpuset, &set, &err) != SP_OK)
            wk_diags_error_at(r->d, cs, NULL, "%s", err.msg);
        hwloc_bitmap_free(set);
    }
    if (p->numa >= 0 && p->near_gpu >= 0)
        wk_diags_error_at(r->d, sp_config_lookup(e, "near_gpu"), NULL,
                          "numa and near_gpu are both set; near_gpu already picks the GPU's "
                          "NUMA node, so keep one");
    if (p->near_gpu >= 0 && p->cpuset)
        wk_diags_error_at(r->d, sp_config_lookup(e, "near_gpu"), NULL,
                          "near_gpu only places cores = N requests; with an explicit cpuset "
                          "write gpu = %d instead", p->near_gpu);
    const config_setting_t *gs = sp_config_lookup(e, "gpu");
    if (p->near_gpu >= 0 && gs && config_setting_get_int64(gs) != p->near_gpu)
        wk_diags_error_at(r->d, gs, NULL, "gpu = %lld but near_gpu = %d; a processor sits near "
                          "the GPU it uses, so drop gpu (near_gpu implies it)",
                          (long long)config_setting_get_int64(gs), p->near_gpu);
    if (p->share && !p->cpuset)
        wk_diags_warn_at(r->d, sp_config_lookup(e, "share"), NULL,
                         "share only matters with an explicit cpuset; cores = N always takes "
                         "cores no other processor uses");
    const config_setting_t *ls = sp_config_lookup(e, "locks");
    for (int i = 0; i < p->nlocks; i++) {
        if (wk_config_lock(c, p->locks[i]))
            continue;
        char declared[256] = "";
        for (int j = 0; j < c->nlocks; j++) {
            size_t used = strlen(declared);
            snprintf(declared + used, sizeof declared - used, "%s%s", j ? ", " : "", c->locks[j].name);
        }
        wk_diags_error_at(r->d, ls ? config_setting_get_elem(ls, (unsigned)i) : e, NULL,
                          "lock \"%s\" is not declared in processors.ext_locks (%s%s); add "
                          "%s = 1 there or fix the name", p->locks[i],
                          c->nlocks ? "declared: " : "none declared", declared, p->locks[i]);
    }
    const config_setting_t *bs = sp_config_lookup(e, "backend");
    if (p->backend == WK_BACKEND_FILCRYPTO && p->stage != WK_STAGE_C2)
        wk_diags_error_at(r->d, bs ? bs : e, NULL, "backend = \"filcrypto\" is only available "
                          "for c2 processors in the worker (libfilcrypto's Groth16 C2); use "
                          "\"native\" for %s", wk_stage_name(p->stage));
    if (p->filcrypto && p->backend != WK_BACKEND_FILCRYPTO)
        wk_diags_error_at(r->d, sp_config_lookup(e, "filcrypto"), NULL,
                          "filcrypto names a library but backend is not \"filcrypto\"; set "
                          "backend = \"filcrypto\" or remove filcrypto");
    if (p->backend == WK_BACKEND_FILCRYPTO && p->stage == WK_STAGE_C2 && !p->filcrypto &&
        !getenv("SEALPIPE_FILCRYPTO"))
        wk_diags_warn_at(r->d, bs ? bs : e, NULL, "backend = \"filcrypto\" without filcrypto = "
                         "\"/path/libfilcrypto.so\": the library is taken from "
                         "$SEALPIPE_FILCRYPTO, which is not set here");
    if (p->args && !p->bin)
        wk_diags_error_at(r->d, sp_config_lookup(e, "args"), NULL,
                          "args without bin; args are for an external processor program, "
                          "name it with bin = \"/path/to/program\"");
    for (int i = 0; i < p->nenvs; i++)
        if (!p->envs[i].key || !p->envs[i].key[0] || strchr(p->envs[i].key, '='))
            wk_diags_error_at(r->d, e, NULL, "envs: a variable name is empty or has '='");
}

static void read_proc(reader *r, wk_stage stage, int index, const config_setting_t *e)
{
    if (!config_setting_is_group(e))
        return;
    r->broken = false;
    wk_proc_cfg *p = &r->c->procs[r->c->nprocs++];
    p->stage = stage;
    p->index = index;
    p->setting = e;
    p->cpuset = get_str(r, e, "cpuset", NULL);
    p->cores = (int)get_int(r, e, "cores", 0);
    p->numa = (int)get_int(r, e, "numa", -1);
    p->near_gpu = (int)get_int(r, e, "near_gpu", -1);
    p->gpu = (int)get_int(r, e, "gpu", p->near_gpu);
    p->concurrent = (int)get_int(r, e, "concurrent", 1);
    p->locks = get_strings(r, e, "locks", &p->nlocks);
    read_envs(r, e, p);
    p->hugepages = get_bool(r, e, "hugepages", false);
    sp_err err;
    int backend = 0;
    note_get(r, sp_config_get_enum(e, "backend", backends, 0, &backend, &err), &err);
    p->backend = (wk_backend)backend;
    p->filcrypto = get_str(r, e, "filcrypto", NULL);
    p->bin = get_str(r, e, "bin", NULL);
    p->args = get_strings(r, e, "args", &p->nargs);
    p->share = get_bool(r, e, "share", false);
    p->batch = stage == WK_STAGE_PC1 ? (int)get_int(r, e, "batch", 1) : 1;
    p->batch_wait_ms = stage == WK_STAGE_PC1 ? get_ms(r, e, "batch_wait", 0) : 0;
    if (r->broken) {
        p->invalid = true;
        return;
    }
    check_proc(r, p, e);
}

/* A batch task only means something to seal-worker's own pc1 processor. */
static void check_batches(reader *r)
{
    const wk_config *c = r->c;
    for (int i = 0; i < c->nprocs; i++) {
        const wk_proc_cfg *p = &c->procs[i];
        if (p->stage == WK_STAGE_PC1 && !p->invalid && p->batch > 1 && p->bin)
            wk_diags_warn_at(r->d, sp_config_lookup(p->setting, "batch"), NULL,
                             "batch = %d with bin = \"%s\": batch tasks ({\"sectors\":[...]}) are "
                             "understood by seal-worker's own pc1 processor; make sure this "
                             "program answers them", p->batch, p->bin);
    }
}

static void read_processors(reader *r, const config_setting_t *root)
{
    wk_config *c = r->c;
    const config_setting_t *procs = sp_config_lookup(root, "processors");
    read_limits(r, procs);
    int total = 0, n = procs ? config_setting_length(procs) : 0;
    for (int i = 0; i < n; i++) {
        const config_setting_t *g = config_setting_get_elem(procs, (unsigned)i);
        if (wk_stage_parse(config_setting_name(g)) >= 0 && config_setting_is_list(g))
            total += config_setting_length(g);
    }
    c->procs = cfg_alloc(c, (size_t)total, sizeof *c->procs);
    if (!c->procs) {
        r->oom = true;
        return;
    }
    /* config order: the stages as they appear in the merged file, then their entries */
    for (int i = 0; i < n; i++) {
        const config_setting_t *g = config_setting_get_elem(procs, (unsigned)i);
        int stage = wk_stage_parse(config_setting_name(g));
        if (stage < 0 || !config_setting_is_list(g))
            continue;
        for (int j = 0; j < config_setting_length(g); j++)
            read_proc(r, (wk_stage)stage, j, config_setting_get_elem(g, (unsigned)j));
    }
    check_batches(r);
    /* a timeout only reaches tasks that run in a processor child (one that can be killed) */
    for (int s = 0; s < WK_STAGE_COUNT; s++) {
        if (!c->limit_timeout_ms[s])
            continue;
        bool has = false;
        for (int i = 0; i < c->nprocs; i++)
            has |= c->procs[i].stage == (wk_stage)s;
        if (has)
            continue;
        char key[64];
        snprintf(key, sizeof key, "limitation.timeout.%s", stage_names[s]);
        wk_diags_warn_at(r->d, sp_config_lookup(procs, key), NULL,
                         "stage %s has no processors, so its tasks run inside the worker and "
                         "cannot be stopped at the timeout; add a processors.%s entry for the "
                         "timeout to apply", stage_names[s], stage_names[s]);
    }
    /* a limit above the number of threads is harmless but shows a misunderstanding */
    for (int s = 0; s < WK_STAGE_COUNT; s++) {
        if (c->limit_concurrent[s] <= c->nthreads || c->nthreads == 0)
            continue;
        char key[64];
        snprintf(key, sizeof key, "limitation.concurrent.%s", stage_names[s]);
        wk_diags_warn_at(r->d, sp_config_lookup(procs, key), NULL,
                         "%d concurrent %s tasks allowed but only %d sealing threads exist, so at "
                         "most %d run at once", c->limit_concurrent[s], stage_names[s], c->nthreads,
                         c->nthreads);
    }
}

static void read_all(reader *r)
{
    wk_config *c = r->c;
    const config_setting_t *root = sp_config_root(c->cfg);
    c->path = sp_config_path(c->cfg);
    read_worker(r, root);
    read_manager(r, root);
    c->sealing = (wk_sealing){
        .max_retries = 5,
        .seal_interval_ms = 30000,
        .recover_interval_ms = 60000,
        .rpc_polling_interval_ms = 180000,
    };
    read_sealing(r, sp_config_lookup(root, "sealing"), &c->sealing);
    read_threads(r, root);
    read_attached(r, root);
    read_processors(r, root);
}

/* Splits sp_config_check's text (one problem per line) into diagnostics. */
static void add_schema_errors(wk_diags *d, const char *all)
{
    const char *p = all;
    while (p && *p) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        if (n)
            wk_diags_error(d, "%.*s", (int)n, p);
        p = nl ? nl + 1 : NULL;
    }
}

static sp_code finish_load(wk_config *out, wk_diags *diags, sp_err *err)
{
    sp_err local_err;
    if (!err)
        err = &local_err;
    wk_diags local = { 0 };
    wk_diags *d = diags ? diags : &local;
    int before = d->nerrors;
    char *all = NULL;
    reader r = { .c = out, .d = d };
    sp_code rc = sp_config_check(out->cfg, schema, &all, err);
    if (rc != SP_OK) {
        add_schema_errors(d, all ? all : err->msg);
        r.quiet = true;   /* read on for the checks the schema cannot make */
    }
    free(all);
    read_all(&r);
    if (r.oom) {
        rc = sp_fail(err, SP_ENOMEM, "%s: out of memory reading the config", out->path);
        wk_diags_free(&local);
        wk_config_free(out);
        return rc;
    }
    if (d->nerrors > before)
        rc = sp_fail(err, SP_ECONFIG, "%s", d->errors[before]);
    wk_diags_free(&local);
    return rc;
}

sp_code wk_config_load(const char *path, wk_config *out, wk_diags *diags, sp_err *err)
{
    memset(out, 0, sizeof *out);
    sp_code rc = sp_config_load(path, &out->cfg, err);
    if (rc != SP_OK) {
        if (diags)
            wk_diags_error(diags, "%s", err->msg);
        return rc;
    }
    return finish_load(out, diags, err);
}

sp_code wk_config_load_string(const char *text, const char *name, wk_config *out,
                              wk_diags *diags, sp_err *err)
{
    memset(out, 0, sizeof *out);
    sp_code rc = sp_config_load_string(text, name, &out->cfg, err);
    if (rc != SP_OK) {
        if (diags)
            wk_diags_error(diags, "%s", err->msg);
        return rc;
    }
    return finish_load(out, diags, err);
}

void wk_config_free(wk_config *c)
{
    if (!c)
        return;
    mem_block *b = c->mem;
    while (b) {
        mem_block *next = b->next;
        free(b);
        b = next;
    }
    sp_config_free(c->cfg);
    memset(c, 0, sizeof *c);
}
