/* test_hostile_rpc.c — wrong types in every param of every method of both daemons.
 *
 * Each method has one valid sample call below.  From it the test derives hostile calls:
 * every node of the params (each positional param, each member of an object param, each
 * array element, recursively) is replaced in turn by null, a string, a negative number,
 * huge numbers, an object, an array, a float, a boolean, a path, a long string and a
 * deep array, and the params themselves are replaced by those values and given one
 * param too many.  Every call must get a well-formed JSON-RPC answer (HTTP 200, the
 * request's id, exactly one of result and error, never an internal error); a value of
 * another type than the sample's must be refused (an error); and after each call a good
 * request must still be served.
 *
 * The manager's methods come from its method tables (sm_rpc_*_methods): a method added
 * without a sample fails test_tables_covered.  The worker's admin API keeps its table
 * private to admin_api.c, so its five methods are listed here and each is checked to
 * exist.
 *
 * The same cases run against the real daemons over HTTP in tests/e2e/hostile_rpc.sh:
 *   test_hostile_rpc --emit manager|worker DIR STORE_DIR ATTACH_DIR PIECE_CID
 *        writes DIR/cases.tsv ("index<TAB>strict<TAB>label") and DIR/<index>.json bodies;
 *   test_hostile_rpc --check DIR
 *        reads DIR/status ("index http-status" lines) and DIR/<index>.out answers and
 *        applies the rules above.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include <cjson/cJSON.h>

#include "sealproofs.h"
#include "sm_cid.h"
#include "sm_conf.h"
#include "sm_core.h"
#include "sm_db.h"
#include "sm_rpc.h"
#include "sm_stores.h"
#include "sm_tokens.h"
#include "sp_fs.h"
#include "sp_jsonrpc.h"
#include "sp_log.h"
#include "wk_admin.h"
#include "wk_config.h"
#include "wk_mgr.h"
#include "wk_processor.h"
#include "wk_thread.h"

/* ---- samples: one valid call per method ------------------------------------------------
 * Placeholders: @STORE@ a directory attached as store "s1", @DIR@ another directory,
 * @PIECE@ a piece CID, @BLOCK@ a block CID, @COMM@ 32 bytes as Go's [32]byte (a field
 * element).  Sector 0 of miner 1000 exists; 7 and 9 do not (so abort and restore change
 * nothing). */

typedef struct sample {
    const char *method;
    const char *params;
} sample;

#define SID "{\"Miner\":1000,\"Number\":0}"

static const sample manager_samples[] = {
    { "Venus.AllocateSector", "[{\"AllowedMiners\":[1000],\"AllowedProofTypes\":[5]}]" },
    { "Venus.AcquireDeals", "[" SID ",{\"MaxDeals\":1,\"MinUsedSpace\":0}]" },
    { "Venus.AssignTicket", "[" SID "]" },
    { "Venus.SubmitPreCommit", "[{\"ID\":" SID ",\"ProofType\":5},{\"CommR\":@COMM@,\"CommD\":@COMM@,"
                               "\"Ticket\":{\"Ticket\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\","
                               "\"Epoch\":1}},false]" },
    { "Venus.PollPreCommitState", "[" SID "]" },
    { "Venus.SubmitPersisted", "[" SID ",\"s1\"]" },
    { "Venus.SubmitPersistedEx", "[" SID ",\"s1\",false]" },
    { "Venus.WaitSeed", "[" SID ",5]" },
    { "Venus.SubmitProof", "[" SID ",{\"Proof\":\"AAAA\"},false]" },
    { "Venus.PollProofState", "[" SID "]" },
    { "Venus.ReportState", "[" SID ",{\"Worker\":{\"Instance\":\"w\",\"Location\":\"/l\"},"
                           "\"StateChange\":{\"Prev\":\"Allocated\",\"Next\":\"DealsAcquired\","
                           "\"Event\":\"AcquireDeals\"},\"Failure\":{\"Level\":\"warn\",\"Desc\":\"d\"}}]" },
    { "Venus.ReportFinalized", "[{\"Miner\":1000,\"Number\":9}]" },
    { "Venus.ReportAborted", "[{\"Miner\":1000,\"Number\":9},\"why\"]" },
    { "Venus.StoreReserveSpace", "[" SID ",4096,[\"s1\"]]" },
    { "Venus.StoreBasicInfo", "[\"s1\"]" },
    { "Venus.WorkerPing", "[{\"Name\":\"w\",\"Dest\":\"127.0.0.1:1\",\"Version\":\"v\",\"Summary\":"
                          "{\"Threads\":1,\"Empty\":0,\"Paused\":0,\"Running\":1,\"Waiting\":0,\"Errors\":0}}]" },
    { "Venus.AllocateUnsealSector", "[{\"AllowedMiners\":[1000],\"AllowedProofTypes\":[5]}]" },
    { "Venus.AcquireUnsealDest", "[" SID ",{\"/\":\"@PIECE@\"},[\"s1\"]]" },
    { "Venus.AchieveUnsealSector", "[" SID ",{\"/\":\"@PIECE@\"},\"\"]" },
    { "Sealpipe.Version", "[]" },
    { "Sealpipe.SectorsList", "[{\"State\":\"Allocated\",\"Miner\":1000,\"Limit\":10}]" },
    { "Sealpipe.SectorShow", "[" SID "]" },
    { "Sealpipe.SectorAbort", "[{\"Miner\":1000,\"Number\":7},\"reason\"]" },
    { "Sealpipe.SectorRestore", "[{\"Miner\":1000,\"Number\":7}]" },
    { "Sealpipe.WorkersList", "[]" },
    { "Sealpipe.StorageList", "[]" },
    { "Sealpipe.StorageAttach", "[{\"Name\":\"s2\",\"Path\":\"@DIR@\",\"Weight\":1,\"Tier\":\"warm\","
                                "\"ReadOnly\":false,\"AllowMiners\":[1000],\"DenyMiners\":[2000],"
                                "\"Capacity\":1048576,\"Media\":\"hdd\",\"MinFreePct\":1,"
                                "\"AllowTypes\":[\"sealed\"],\"DenyTypes\":[\"block\"],\"Domain\":\"r1\"}]" },
    { "Sealpipe.StorageDetach", "[\"nope\"]" },
    { "Sealpipe.StorageSetWeight", "[\"s1\",2]" },
    { "Sealpipe.PieceStoreInfo", "[]" },
    { "Sealpipe.PieceImport", "[{\"PieceCID\":\"@PIECE@\",\"PayloadSize\":100,\"PaddedSize\":128,"
                              "\"Miner\":1000,\"Source\":\"x\"}]" },
    { "Sealpipe.PiecesList", "[10]" },
    { "Sealpipe.PieceShow", "[\"@PIECE@\"]" },
    { "Sealpipe.ChainHead", "[]" },
    { "Sealpipe.MinersList", "[]" },
    { "Sealpipe.StorageJobStart", "[{\"Kind\":\"health\",\"Apply\":false,\"Deep\":false,\"Store\":\"s1\"}]" },
    { "Sealpipe.StorageJob", "[1]" },
    { "Sealpipe.StorageRedeclare", "[\"s1\"]" },
    { "Sealpipe.StorageCopies", "[10]" },
    { "Sealpipe.BlockStat", "[\"@BLOCK@\"]" },
    { "Sealpipe.PieceBlocks", "[\"@PIECE@\",0,10]" },
    { "Sealpipe.IndexRebuild", "[\"@PIECE@\"]" },
    { "Sealpipe.GCList", "[\"marked\"]" },
    { "Sealpipe.GCApprove", "[[1]]" },
    { "Sealpipe.GCApproveAll", "[]" },
    { "Sealpipe.GCPin", "[\"s-t01000-7\",\"note\"]" },
    { "Sealpipe.GCUnpin", "[\"s-t01000-7\"]" },
    { "Sealpipe.GCPins", "[]" },
};

static const sample worker_samples[] = {
    { "Worker.Info", "[]" },
    { "Worker.ThreadsList", "[]" },
    { "Worker.ThreadsPause", "[0]" },
    { "Worker.ThreadsResume", "[0,\"Empty\"]" },
    { "Worker.ThreadsAbort", "[1,\"why\"]" },
};

#define N_MANAGER (sizeof manager_samples / sizeof manager_samples[0])
#define N_WORKER (sizeof worker_samples / sizeof worker_samples[0])

/* Values accepted where the sample has another type, each with the reason it is right. */
typedef struct allowed {
    const char *method;
    const char *path;   /* as in labels: "params[1]" */
    const char *value;  /* the hostile value's name */
    const char *why;
} allowed;

static const allowed allow_list[] = {
    { "Sealpipe.PieceBlocks", "params[1]", "negative", "\"after\" is -1..2^63-1: -1 means from the start" },
};

/* ---- hostile values ---------------------------------------------------------------------- */

enum kind { K_NULL, K_BOOL, K_UINT, K_NUMBER, K_STRING, K_ARRAY, K_OBJECT };

typedef struct hostile {
    const char *name;
    const char *json; /* NULL: built at run time (long string, deep array) */
} hostile;

static const hostile hostiles[] = {
    { "null", "null" },
    { "string", "\"x\"" },
    { "negative", "-1" },
    { "huge", "1e300" },
    { "2^63", "9223372036854775808" },
    { "2^64", "18446744073709551616" },
    { "-2^63-1", "-9223372036854775809" },
    { "object", "{\"a\":1}" },
    { "array", "[1,\"x\"]" },
    { "float", "1.5" },
    { "bool", "true" },
    { "traversal", "\"../../../../../../etc/passwd\"" },
    { "absolute", "\"/etc/passwd\"" },
    { "long-string", NULL },
    { "deep-array", NULL },
};
#define N_HOSTILE (sizeof hostiles / sizeof hostiles[0])

static enum kind kind_of(const cJSON *v)
{
    if (!v || cJSON_IsNull(v))
        return K_NULL;
    if (cJSON_IsBool(v))
        return K_BOOL;
    if (cJSON_IsNumber(v))
        return v->valuedouble >= 0 && v->valuedouble <= 9007199254740991.0 &&
               (double)(int64_t)v->valuedouble == v->valuedouble ? K_UINT : K_NUMBER;
    if (cJSON_IsString(v))
        return K_STRING;
    if (cJSON_IsArray(v))
        return K_ARRAY;
    return K_OBJECT;
}

static cJSON *hostile_value(size_t i)
{
    if (hostiles[i].json)
        return cJSON_Parse(hostiles[i].json);
    if (strcmp(hostiles[i].name, "long-string") == 0) {
        /* longer than any bounded field; shorter than the servers' body limits */
        size_t n = 40000;
        char *s = malloc(n + 1);
        if (!s)
            return NULL;
        memset(s, 'a', n);
        s[n] = 0;
        cJSON *v = cJSON_CreateString(s);
        free(s);
        return v;
    }
    /* 40 levels: within the servers' depth limit (64) together with the request's own */
    char text[128];
    size_t k = 0;
    for (int d = 0; d < 40; d++)
        text[k++] = '[';
    for (int d = 0; d < 40; d++)
        text[k++] = ']';
    text[k] = 0;
    return cJSON_Parse(text);
}

/* Whether a hostile value must be refused where the sample has `sample`. */
static bool must_refuse(enum kind want, const cJSON *v)
{
    enum kind h = kind_of(v);
    if (h == K_NULL)
        return false; /* null is "absent", which optional params accept */
    if (want == K_UINT)
        return h != K_UINT; /* negative, fractional and out-of-range numbers included */
    return h != want && !(want == K_NUMBER && h == K_UINT);
}

/* ---- cases ------------------------------------------------------------------------------- */

typedef struct hcase {
    const char *method;
    char *body;
    char label[200];
    bool strict;
} hcase;

typedef struct cases {
    hcase *v;
    size_t n, cap;
} cases;

static void cases_free(cases *cs)
{
    for (size_t i = 0; i < cs->n; i++)
        free(cs->v[i].body);
    free(cs->v);
    memset(cs, 0, sizeof *cs);
}

static bool allowed_here(const char *method, const char *path, const char *value)
{
    for (size_t i = 0; i < sizeof allow_list / sizeof allow_list[0]; i++)
        if (!strcmp(allow_list[i].method, method) && !strcmp(allow_list[i].path, path) &&
            !strcmp(allow_list[i].value, value))
            return true;
    return false;
}

static int add_case(cases *cs, const char *method, const cJSON *params, const char *path,
                    const char *value, bool strict)
{
    if (cs->n == cs->cap) {
        size_t ncap = cs->cap ? cs->cap * 2 : 1024;
        hcase *nv = realloc(cs->v, ncap * sizeof *nv);
        if (!nv)
            return -1;
        cs->v = nv;
        cs->cap = ncap;
    }
    cJSON *req = cJSON_CreateObject();
    cJSON_AddStringToObject(req, "jsonrpc", "2.0");
    cJSON_AddNumberToObject(req, "id", (double)(cs->n + 1));
    cJSON_AddStringToObject(req, "method", method);
    cJSON_AddItemToObject(req, "params", cJSON_Duplicate(params, 1));
    char *body = cJSON_PrintUnformatted(req);
    cJSON_Delete(req);
    if (!body)
        return -1;
    hcase *c = &cs->v[cs->n++];
    c->method = method;
    c->body = body;
    snprintf(c->label, sizeof c->label, "%s %s <- %s", method, path, value);
    c->strict = strict && !allowed_here(method, path, value);
    return 0;
}

/* Puts v where old is in parent (an object member keeps its key). */
static bool replace(cJSON *parent, cJSON *old, cJSON *v)
{
    if (cJSON_IsObject(parent))
        return cJSON_ReplaceItemInObjectCaseSensitive(parent, old->string, v);
    return cJSON_ReplaceItemViaPointer(parent, old, v);
}

/* Replaces `node` (a node of the tree `root`, under parent) with each hostile value in
 * turn, adding one case for each, and puts a copy of the original back. */
static int mutate_node(cases *cs, const char *method, cJSON *root, cJSON *parent, cJSON *node,
                       const char *path)
{
    enum kind k = kind_of(node);
    for (size_t h = 0; h < N_HOSTILE; h++) {
        cJSON *v = hostile_value(h);
        cJSON *saved = cJSON_Duplicate(node, 1);
        if (!v || !saved || !replace(parent, node, v)) {
            cJSON_Delete(saved);
            cJSON_Delete(v);
            return -1;
        }
        int rc = add_case(cs, method, root, path, hostiles[h].name, must_refuse(k, v));
        if (!replace(parent, v, saved)) {
            cJSON_Delete(saved);
            return -1;
        }
        node = saved;
        if (rc)
            return rc;
    }
    return 0;
}

/* Walks every node under `parent`; long arrays of one kind (a [32]byte) get their first
 * and last element mutated. */
static int walk(cases *cs, const char *method, cJSON *root, cJSON *parent, const char *path)
{
    int n = cJSON_GetArraySize(parent);
    for (int i = 0; i < n; i++) {
        if (cJSON_IsArray(parent) && n > 4 && i > 0 && i < n - 1)
            continue;
        cJSON *node = cJSON_GetArrayItem(parent, i);
        char sub[160];
        if (cJSON_IsArray(parent))
            snprintf(sub, sizeof sub, "%s[%d]", path, i);
        else
            snprintf(sub, sizeof sub, "%s.%s", path, node->string);
        if (mutate_node(cs, method, root, parent, cJSON_GetArrayItem(parent, i), sub))
            return -1;
        node = cJSON_GetArrayItem(parent, i);
        if ((cJSON_IsArray(node) || cJSON_IsObject(node)) && walk(cs, method, root, node, sub))
            return -1;
    }
    return 0;
}

/* The params themselves replaced, and one param too many. */
static int mutate_top(cases *cs, const char *method, const cJSON *params)
{
    for (size_t h = 0; h < N_HOSTILE; h++) {
        cJSON *v = hostile_value(h);
        if (!v)
            return -1;
        /* an array or an object is a params shape of its own; null means "no params" */
        bool strict = !cJSON_IsNull(v) && !cJSON_IsArray(v) && !cJSON_IsObject(v);
        int rc = add_case(cs, method, v, "params", hostiles[h].name, strict);
        cJSON_Delete(v);
        if (rc)
            return rc;
    }
    cJSON *more = cJSON_Duplicate(params, 1);
    cJSON_AddItemToArray(more, cJSON_CreateNumber(1));
    int rc = add_case(cs, method, more, "params", "one param too many", true);
    cJSON_Delete(more);
    return rc;
}

typedef struct vars {
    char store[512], dir[512], piece[PF_COMMCID_STR_MAX], block[SM_CID_STR_MAX];
} vars;

/* Expands the placeholders of a sample. */
static char *expand(const char *text, const vars *vr)
{
    char comm[200];
    size_t k = (size_t)snprintf(comm, sizeof comm, "[");
    for (int i = 0; i < 32; i++)
        k += (size_t)snprintf(comm + k, sizeof comm - k, "%s%d", i ? "," : "", i == 0 ? 7 : 1);
    snprintf(comm + k, sizeof comm - k, "]");
    const char *keys[] = { "@STORE@", "@DIR@", "@PIECE@", "@BLOCK@", "@COMM@" };
    const char *vals[] = { vr->store, vr->dir, vr->piece, vr->block, comm };
    size_t cap = strlen(text) + 4096, len = 0;
    char *out = malloc(cap);
    if (!out)
        return NULL;
    for (const char *p = text; *p;) {
        size_t i;
        for (i = 0; i < 5; i++)
            if (!strncmp(p, keys[i], strlen(keys[i])))
                break;
        if (i < 5) {
            len += (size_t)snprintf(out + len, cap - len, "%s", vals[i]);
            p += strlen(keys[i]);
        } else {
            out[len++] = *p++;
        }
        out[len] = 0;
    }
    return out;
}

static int build_cases(const sample *s, size_t n, const vars *vr, cases *cs)
{
    for (size_t i = 0; i < n; i++) {
        char *text = expand(s[i].params, vr);
        cJSON *params = text ? cJSON_Parse(text) : NULL;
        free(text);
        if (!params)
            return -1;
        int rc = mutate_top(cs, s[i].method, params);
        if (!rc)
            rc = walk(cs, s[i].method, params, params, "params");
        cJSON_Delete(params);
        if (rc)
            return rc;
    }
    return 0;
}

/* ---- checking answers --------------------------------------------------------------------- */

/* Applies the rules to one answer; on a violation fills why and returns false. */
static bool check_answer(const hcase *c, size_t id, unsigned status, const char *out, char *why,
                         size_t why_len)
{
    if (status != 200) {
        snprintf(why, why_len, "HTTP %u (want 200 with a JSON-RPC body): %.200s", status, out ? out : "");
        return false;
    }
    cJSON *j = out ? cJSON_Parse(out) : NULL;
    bool ok = false;
    const cJSON *ver = cJSON_GetObjectItemCaseSensitive(j, "jsonrpc");
    const cJSON *jid = cJSON_GetObjectItemCaseSensitive(j, "id");
    const cJSON *res = cJSON_GetObjectItemCaseSensitive(j, "result");
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(j, "error");
    const cJSON *code = cJSON_GetObjectItemCaseSensitive(e, "code");
    const cJSON *msg = cJSON_GetObjectItemCaseSensitive(e, "message");
    if (!cJSON_IsObject(j))
        snprintf(why, why_len, "not a JSON object: %.200s", out ? out : "(nothing)");
    else if (!cJSON_IsString(ver) || strcmp(ver->valuestring, "2.0"))
        snprintf(why, why_len, "no \"jsonrpc\":\"2.0\": %.200s", out);
    else if (!cJSON_IsNumber(jid) || jid->valuedouble != (double)id)
        snprintf(why, why_len, "id is not %zu: %.200s", id, out);
    else if (!res == !e)
        snprintf(why, why_len, "not exactly one of result and error: %.200s", out);
    else if (e && (!cJSON_IsNumber(code) || !cJSON_IsString(msg) || !msg->valuestring[0]))
        snprintf(why, why_len, "malformed error object: %.200s", out);
    else if (e && (code->valueint == SP_RPC_INTERNAL_ERROR || code->valueint == SP_RPC_PARSE_ERROR))
        snprintf(why, why_len, "error %d on a well-formed request: %.200s", code->valueint, out);
    else if (c->strict && !e)
        snprintf(why, why_len, "accepted (want an error): %.200s", out);
    else if (c->strict && code->valueint != SP_RPC_INVALID_PARAMS &&
             code->valueint != SP_RPC_INVALID_REQUEST)
        snprintf(why, why_len, "refused with %d (want %d invalid params): %.200s", code->valueint,
                 SP_RPC_INVALID_PARAMS, out);
    else
        ok = true;
    cJSON_Delete(j);
    return ok;
}

typedef struct tally {
    size_t cases, strict, refused, violations;
    char first[40][600];
} tally;

static void note(tally *t, const hcase *c, const char *why)
{
    if (t->violations < 40)
        snprintf(t->first[t->violations], sizeof t->first[0], "%.200s: %.390s", c->label, why);
    t->violations++;
}

/* ---- in-process daemons ------------------------------------------------------------------ */

typedef struct target {
    sp_rpc_server *rpc;
    const char *token;        /* admin: Sealpipe.* and the probe; Worker.* */
    const char *venus_token;  /* worker scope: Venus.*, as workers call them */
    const char *probe_method; /* the good request served after each bad one */
    const char *probe_key;    /* a key its result must have */
} target;

static char *handle(const target *tg, const char *body, unsigned *status)
{
    char *out = NULL;
    size_t len = 0;
    *status = 0;
    const char *token = tg->venus_token && strstr(body, "\"method\":\"Venus.") ? tg->venus_token : tg->token;
    assert_int_equal(sp_rpc_server_handle(tg->rpc, token, body, strlen(body), &out, &len, status), SP_OK);
    assert_non_null(out);
    assert_int_equal(strlen(out), len);
    return out;
}

static void probe(const target *tg, const char *after)
{
    char body[160];
    snprintf(body, sizeof body, "{\"jsonrpc\":\"2.0\",\"id\":0,\"method\":\"%s\",\"params\":[]}", tg->probe_method);
    unsigned status;
    char *out = handle(tg, body, &status);
    cJSON *j = cJSON_Parse(out);
    const cJSON *res = cJSON_GetObjectItemCaseSensitive(j, "result");
    if (status != 200 || !cJSON_GetObjectItemCaseSensitive(res, tg->probe_key))
        fail_msg("the good request after \"%s\" failed: %u %s", after, status, out);
    cJSON_Delete(j);
    free(out);
}

static void run_cases(const target *tg, const cases *cs, tally *t)
{
    for (size_t i = 0; i < cs->n; i++) {
        const hcase *c = &cs->v[i];
        unsigned status;
        char *out = handle(tg, c->body, &status);
        char why[512];
        t->cases++;
        t->strict += c->strict;
        if (!check_answer(c, i + 1, status, out, why, sizeof why))
            note(t, c, why);
        else if (c->strict)
            t->refused++;
        free(out);
        probe(tg, c->label);
    }
}

static void report(const char *who, const tally *t)
{
    printf("# %s: %zu hostile calls, %zu of them of the wrong type (%zu refused as invalid params), "
           "%zu violations\n", who, t->cases, t->strict, t->refused, t->violations);
    for (size_t i = 0; i < t->violations && i < 40; i++)
        printf("#   %s\n", t->first[i]);
}

/* Sample placeholders for the in-process fixtures. */
static void make_vars(const char *store, const char *dir, vars *vr)
{
    snprintf(vr->store, sizeof vr->store, "%s", store);
    snprintf(vr->dir, sizeof vr->dir, "%s", dir);
    uint8_t comm[32];
    memset(comm, 0x11, sizeof comm);
    comm[31] = 0x01; /* below the field modulus */
    assert_int_equal(pf_commcid_encode(PF_COMM_UNSEALED, comm, vr->piece, sizeof vr->piece, NULL), PF_OK);
    uint8_t mh[34];
    sm_cid cid;
    sm_mh_sha256("hostile", 7, mh);
    assert_int_equal(sm_mh_parse(mh, sizeof mh, &cid, NULL), SP_OK);
    cid.version = 1;
    cid.codec = SM_CODEC_RAW;
    sm_cid_format(&cid, vr->block, sizeof vr->block);
}

typedef struct mfix {
    char dir[64], store[128], other[128];
    sm_db *db;
    sm_core core;
    sp_rpc_server *rpc;
    sp_rpc_method *methods;
    char *admin, *worker;
} mfix;

static int manager_setup(void **state)
{
    mfix *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/hostile-rpc-XXXXXX");
    if (!f || !mkdtemp(f->dir))
        return -1;
    snprintf(f->store, sizeof f->store, "%s/s1", f->dir);
    snprintf(f->other, sizeof f->other, "%s/s2", f->dir);
    mkdir(f->store, 0755);
    mkdir(f->other, 0755);
    char path[256], text[1024];
    snprintf(path, sizeof path, "%s/m.db", f->dir);
    sm_db_opts o = { .path = path, .create = true };
    snprintf(text, sizeof text,
             "chain = { block_time = \"1h\"; };\n"
             "miners = ( { actor = 1000; sizes = [ \"2KiB\" ]; deals = true; } );\n"
             "persist_stores = ( { name = \"s1\"; path = \"%s\"; capacity = \"1MiB\"; } );\n", f->store);
    snprintf(path, sizeof path, "%s/manager.cfg", f->dir);
    sm_conf *conf = NULL;
    sm_tokens t;
    memset(t.secret, 9, sizeof t.secret);
    if (sm_db_open(&o, &f->db, NULL) || sm_conf_load_string(text, path, &conf, NULL, NULL) ||
        sm_chain_load(f->db, &conf->chain_params, sp_wall_ms(), &conf->chain, NULL) ||
        sm_stores_sync_config(f->db, conf->stores, conf->n_stores, NULL) ||
        sm_token_create(&t, SM_SCOPE_ADMIN, 0, &f->admin, NULL) ||
        sm_token_create(&t, SM_SCOPE_WORKER, 0, &f->worker, NULL))
        return -1;
    sm_core_init(&f->core, f->db, &t, conf, NULL, f->dir);
    size_t n = sm_rpc_worker_count + sm_rpc_admin_count + sm_rpc_storage_count, k = 0;
    f->methods = calloc(n, sizeof *f->methods);
    for (size_t i = 0; i < sm_rpc_worker_count; i++)
        f->methods[k++] = sm_rpc_worker_methods[i];
    for (size_t i = 0; i < sm_rpc_admin_count; i++)
        f->methods[k++] = sm_rpc_admin_methods[i];
    for (size_t i = 0; i < sm_rpc_storage_count; i++)
        f->methods[k++] = sm_rpc_storage_methods[i];
    sp_rpc_server_opts ro = { .auth = sm_core_auth, .auth_ctx = &f->core, .scope_names = sm_scope_names,
                              .ctx = &f->core };
    if (sp_rpc_server_new(&ro, f->methods, n, &f->rpc, NULL))
        return -1;
    /* sector 0 of miner 1000, which the samples name */
    target tg = { f->rpc, f->admin, f->worker, "Sealpipe.Version", "Version" };
    unsigned st;
    char *out = handle(&tg, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"Venus.AllocateSector\",\"params\":[]}", &st);
    if (!strstr(out, "\"Number\":0"))
        return -1;
    free(out);
    *state = f;
    return 0;
}

static int manager_teardown(void **state)
{
    mfix *f = *state;
    sp_rpc_server_free(f->rpc);
    sm_core_destroy(&f->core);
    sm_db_close(f->db);
    sp_remove_tree(f->dir, NULL);
    free(f->methods);
    free(f->admin);
    free(f->worker);
    free(f);
    return 0;
}

static bool has_sample(const sample *s, size_t n, const char *method)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(s[i].method, method))
            return true;
    return false;
}

/* Every method the manager serves has a sample, and every sample is a method it serves. */
static void test_tables_covered(void **state)
{
    (void)state;
    const sp_rpc_method *tables[] = { sm_rpc_worker_methods, sm_rpc_admin_methods, sm_rpc_storage_methods };
    size_t counts[] = { sm_rpc_worker_count, sm_rpc_admin_count, sm_rpc_storage_count };
    size_t total = 0;
    for (int t = 0; t < 3; t++)
        for (size_t i = 0; i < counts[t]; i++) {
            if (!has_sample(manager_samples, N_MANAGER, tables[t][i].name))
                fail_msg("%s has no sample in test_hostile_rpc.c: add one", tables[t][i].name);
            total++;
        }
    assert_int_equal(total, N_MANAGER);
}

/* The samples themselves are well-typed: none is refused as invalid params, so a refusal
 * of a mutated call comes from the value that was changed. */
static void check_samples(const target *tg, const sample *s, size_t n, const vars *vr)
{
    for (size_t i = 0; i < n; i++) {
        char *params = expand(s[i].params, vr), body[8192];
        snprintf(body, sizeof body, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"%s\",\"params\":%s}", s[i].method,
                 params);
        free(params);
        unsigned st;
        char *out = handle(tg, body, &st);
        if (st != 200 || strstr(out, "\"code\":-3260") || strstr(out, "\"code\":-32001") ||
            strstr(out, "\"code\":-32002"))
            fail_msg("sample %s: %u %s", s[i].method, st, out);
        free(out);
    }
}

static void test_manager_params(void **state)
{
    mfix *f = *state;
    vars vr;
    make_vars(f->store, f->other, &vr);
    target tg = { f->rpc, f->admin, f->worker, "Sealpipe.Version", "Version" };
    check_samples(&tg, manager_samples, N_MANAGER, &vr);
    cases cs = { 0 };
    assert_int_equal(build_cases(manager_samples, N_MANAGER, &vr, &cs), 0);
    tally t = { 0 };
    run_cases(&tg, &cs, &t);
    report("sector-manager", &t);
    cases_free(&cs);
    assert_int_equal(t.violations, 0);
    assert_true(t.strict > 1000);
}

/* ---- the worker's admin API ------------------------------------------------------------- */

#define WTOKEN "hostile-worker-token"
#define NTHREADS 2

typedef struct wfix {
    char dir[64];
    wk_config cfg;
    wk_mgr *mgr;
    wk_procs *procs;
    wk_shared sh;
    wk_thread *threads[NTHREADS];
    wk_admin *admin;
} wfix;

static int worker_setup(void **state)
{
    wfix *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/hostile-wk-XXXXXX");
    if (!f || !mkdtemp(f->dir))
        return -1;
    char text[2048];
    snprintf(text, sizeof text,
             "worker = { name = \"hostile\"; };\n"
             "sector_manager = { url = \"http://127.0.0.1:1\"; token = \"" WTOKEN "\"; };\n"
             "sealing_thread = ( { location = \"%s/t0\"; }, { location = \"%s/t1\"; } );\n"
             "processors = { parent_cache = \"%s/parents\"; };\n", f->dir, f->dir, f->dir);
    wk_diags d = { 0 };
    sp_err err;
    sp_code rc = wk_config_load_string(text, "hostile-worker.cfg", &f->cfg, &d, &err);
    wk_diags_free(&d);
    wk_procs_opts po = { .cfg = &f->cfg };
    if (rc || wk_mgr_new(f->cfg.manager_url, WTOKEN, &f->mgr, &err) || wk_procs_start(&po, &f->procs, &err))
        return -1;
    f->sh = (wk_shared){ .cfg = &f->cfg, .mgr = f->mgr, .procs = f->procs, .instance = "hostile" };
    for (int i = 0; i < NTHREADS; i++)
        if (wk_thread_new(&f->sh, i, &f->threads[i], &err))
            return -1;
    wk_admin_opts ao = { .listen = "127.0.0.1:0", .token = WTOKEN, .name = "hostile",
                         .manager_url = f->cfg.manager_url, .threads = f->threads, .nthreads = NTHREADS,
                         .procs = f->procs };
    if (wk_admin_start(&ao, &f->admin, &err))
        return -1;
    *state = f;
    return 0;
}

static int worker_teardown(void **state)
{
    wfix *f = *state;
    wk_admin_free(f->admin);
    for (int i = 0; i < NTHREADS; i++)
        wk_thread_free(f->threads[i]);
    wk_procs_free(f->procs);
    wk_mgr_free(f->mgr);
    wk_config_free(&f->cfg);
    sp_remove_tree(f->dir, NULL);
    free(f);
    return 0;
}

static void test_worker_params(void **state)
{
    wfix *f = *state;
    target tg = { wk_admin_rpc(f->admin), WTOKEN, NULL, "Worker.Info", "threads" };
    vars vr;
    make_vars(f->dir, f->dir, &vr);
    check_samples(&tg, worker_samples, N_WORKER, &vr);
    /* a name the table does not have is "method not found": the samples name real methods */
    unsigned st;
    char *out = handle(&tg, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"Worker.Nope\",\"params\":[]}", &st);
    assert_non_null(strstr(out, "\"code\":-32601"));
    free(out);
    cases cs = { 0 };
    assert_int_equal(build_cases(worker_samples, N_WORKER, &vr, &cs), 0);
    tally t = { 0 };
    run_cases(&tg, &cs, &t);
    report("seal-worker admin API", &t);
    cases_free(&cs);
    assert_int_equal(t.violations, 0);
    assert_true(t.strict > 50);
}

/* The rules themselves: a 500, a missing id, an accepted wrong type are each caught. */
static void test_rules(void **state)
{
    (void)state;
    hcase strict = { .method = "M", .strict = true }, loose = { .method = "M", .strict = false };
    char why[512];
    assert_true(check_answer(&strict, 3, 200, "{\"jsonrpc\":\"2.0\",\"error\":{\"code\":-32602,\"message\":\"x\"},\"id\":3}",
                             why, sizeof why));
    assert_false(check_answer(&strict, 3, 200, "{\"jsonrpc\":\"2.0\",\"result\":null,\"id\":3}", why, sizeof why));
    assert_true(check_answer(&loose, 3, 200, "{\"jsonrpc\":\"2.0\",\"result\":null,\"id\":3}", why, sizeof why));
    assert_false(check_answer(&loose, 3, 500, "internal", why, sizeof why));
    assert_false(check_answer(&loose, 3, 200, "{\"jsonrpc\":\"2.0\",\"result\":1,\"id\":4}", why, sizeof why));
    assert_false(check_answer(&loose, 3, 200,
                              "{\"jsonrpc\":\"2.0\",\"error\":{\"code\":-32603,\"message\":\"x\"},\"id\":3}", why,
                              sizeof why));
    assert_false(check_answer(&strict, 3, 200,
                              "{\"jsonrpc\":\"2.0\",\"error\":{\"code\":-32003,\"message\":\"x\"},\"id\":3}", why,
                              sizeof why));
    assert_false(check_answer(&loose, 3, 200, "{\"jsonrpc\":\"2.0\",\"error\":{\"code\":-32602},\"id\":3}", why,
                              sizeof why));
    cJSON *n = cJSON_Parse("5"), *neg = cJSON_Parse("-1"), *f = cJSON_Parse("1.5"), *s = cJSON_Parse("\"5\"");
    assert_false(must_refuse(K_UINT, n));
    assert_true(must_refuse(K_UINT, neg));
    assert_true(must_refuse(K_UINT, f));
    assert_true(must_refuse(K_UINT, s));
    assert_false(must_refuse(K_STRING, s));
    cJSON_Delete(n);
    cJSON_Delete(neg);
    cJSON_Delete(f);
    cJSON_Delete(s);
}

/* ---- --emit and --check, for tests/e2e/hostile_rpc.sh --------------------------------------- */

static int emit(int argc, char **argv)
{
    if (argc != 7) {
        fprintf(stderr, "usage: %s --emit manager|worker DIR STORE_DIR ATTACH_DIR PIECE_CID\n", argv[0]);
        return 2;
    }
    bool manager = !strcmp(argv[2], "manager");
    vars vr;
    memset(&vr, 0, sizeof vr);
    snprintf(vr.store, sizeof vr.store, "%s", argv[4]);
    snprintf(vr.dir, sizeof vr.dir, "%s", argv[5]);
    snprintf(vr.piece, sizeof vr.piece, "%s", argv[6]);
    uint8_t mh[34];
    sm_cid cid;
    sm_mh_sha256("hostile", 7, mh);
    if (sm_mh_parse(mh, sizeof mh, &cid, NULL))
        return 1;
    cid.version = 1;
    cid.codec = SM_CODEC_RAW;
    sm_cid_format(&cid, vr.block, sizeof vr.block);
    cases cs = { 0 };
    if (build_cases(manager ? manager_samples : worker_samples, manager ? N_MANAGER : N_WORKER, &vr, &cs)) {
        fprintf(stderr, "--emit: building the cases failed\n");
        return 1;
    }
    char path[1024];
    snprintf(path, sizeof path, "%s/cases.tsv", argv[3]);
    FILE *idx = fopen(path, "w");
    int rc = idx ? 0 : 1;
    for (size_t i = 0; !rc && i < cs.n; i++) {
        snprintf(path, sizeof path, "%s/%zu.json", argv[3], i + 1);
        FILE *b = fopen(path, "w");
        if (!b || fputs(cs.v[i].body, b) < 0)
            rc = 1;
        if (b && fclose(b))
            rc = 1;
        fprintf(idx, "%zu\t%d\t%s\n", i + 1, cs.v[i].strict, cs.v[i].label);
    }
    if (idx && fclose(idx))
        rc = 1;
    cases_free(&cs);
    if (rc)
        fprintf(stderr, "--emit: cannot write under %s\n", argv[3]);
    return rc;
}

static int check_dir(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s --check DIR\n", argv[0]);
        return 2;
    }
    char path[1024], line[1024];
    snprintf(path, sizeof path, "%s/cases.tsv", argv[2]);
    FILE *idx = fopen(path, "r");
    snprintf(path, sizeof path, "%s/status", argv[2]);
    FILE *stf = fopen(path, "r");
    if (!idx || !stf) {
        fprintf(stderr, "--check: %s lacks cases.tsv or status\n", argv[2]);
        return 2;
    }
    unsigned *status = calloc(1u << 20, sizeof *status);
    size_t k, max = 0;
    unsigned code;
    while (status && fscanf(stf, "%zu %u", &k, &code) == 2)
        if (k < (1u << 20)) {
            status[k] = code;
            max = k > max ? k : max;
        }
    fclose(stf);
    tally t = { 0 };
    while (status && fgets(line, sizeof line, idx)) {
        line[strcspn(line, "\n")] = 0;
        char *tab1 = strchr(line, '\t'), *tab2 = tab1 ? strchr(tab1 + 1, '\t') : NULL;
        if (!tab2)
            continue;
        hcase c = { .method = "", .strict = tab1[1] == '1' };
        k = strtoul(line, NULL, 10);
        snprintf(c.label, sizeof c.label, "%s", tab2 + 1);
        snprintf(path, sizeof path, "%s/%zu.out", argv[2], k);
        char *out = NULL;
        size_t len = 0;
        sp_read_file(path, 1 << 20, &out, &len, NULL);
        char why[512];
        t.cases++;
        t.strict += c.strict;
        if (!check_answer(&c, k, k < (1u << 20) ? status[k] : 0, out, why, sizeof why))
            note(&t, &c, why);
        else if (c.strict)
            t.refused++;
        free(out);
    }
    fclose(idx);
    free(status);
    report(argv[2], &t);
    return t.violations || t.cases == 0 ? 1 : 0;
}

int main(int argc, char **argv)
{
    sp_log_set_level(SP_LOG_ERROR); /* the refusals are logged as warnings: thousands */
    if (argc > 1 && !strcmp(argv[1], "--emit"))
        return emit(argc, argv);
    if (argc > 1 && !strcmp(argv[1], "--check"))
        return check_dir(argc, argv);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rules),
        cmocka_unit_test(test_tables_covered),
        cmocka_unit_test_setup_teardown(test_manager_params, manager_setup, manager_teardown),
        cmocka_unit_test_setup_teardown(test_worker_params, worker_setup, worker_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
