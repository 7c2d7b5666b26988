/* stages.c — one function per compute stage: read the task's JSON, call proofs-ffi, make
 * every output durable, answer JSON (wk_stages.h).  Runs in processor children and, for
 * stages without processors, in the worker itself. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sealproofs.h"
#include "sealproofs/formats.h"
#include "sp_codec.h"
#include "sp_fs.h"
#include "sp_json.h"
#include "sp_log.h"
#include "sp_size.h"
#include "wk_placement.h"
#include "wk_stages.h"
#include "wk_testhook.h"

#define MAX_C1_FILE ((size_t)1 << 30)

typedef struct stage_call {
    const cJSON *task;
    const wk_stage_env *env;
    cJSON *out;
    sp_err *err;
} stage_call;

static sp_code from_pf(sp_err *err, const pf_error *pe, const char *what)
{
    static const sp_code map[PF_STATUS_COUNT] = {
        [PF_OK] = SP_OK,           [PF_EINVAL] = SP_EINVAL,     [PF_EIO] = SP_EIO,
        [PF_ENOSPC] = SP_ENOSPC,   [PF_ENOMEM] = SP_ENOMEM,     [PF_ECORRUPT] = SP_ECORRUPT,
        [PF_EUNSUPPORTED] = SP_EINVAL, [PF_EVERIFY] = SP_EPROOF, [PF_EDEVICE] = SP_EBUSY,
        [PF_EBACKEND] = SP_EPROOF, [PF_EINTERRUPTED] = SP_EBUSY, [PF_EINTERNAL] = SP_EINTERNAL,
    };
    sp_code c = (unsigned)pe->status < PF_STATUS_COUNT ? map[pe->status] : SP_EINTERNAL;
    /* proofs-ffi messages often start with the stage already ("pc1: cannot reserve") */
    size_t n = strlen(what);
    if (!strncmp(pe->msg, what, n) && pe->msg[n] == ':')
        return sp_fail(err, c ? c : SP_EINTERNAL, "%s", pe->msg);
    return sp_fail(err, c ? c : SP_EINTERNAL, "%s: %s", what, pe->msg);
}

wk_level wk_stage_level(sp_code code)
{
    switch (code) {
    case SP_EIO:
    case SP_ENOSPC:
    case SP_ENOMEM:
    case SP_ENET:
    case SP_ETIMEOUT:
    case SP_EBUSY:
        return WK_LEVEL_TEMPORARY;
    default:
        return WK_LEVEL_PERMANENT;
    }
}

uint64_t wk_stage_timeout_ms(wk_stage stage, uint64_t sector_size)
{
    const char *env = getenv("SEALPIPE_TASK_TIMEOUT");
    uint64_t ms;
    if (env && sp_parse_duration_ms(env, &ms, NULL) == SP_OK && ms > 0)
        return ms;
    /* minutes: a floor, plus minutes per GiB of sector */
    static const uint64_t base[WK_STAGE_COUNT] = { 60, 60, 120, 60, 60, 120, 120 };
    static const uint64_t per_gib[WK_STAGE_COUNT] = { 2, 3, 30, 6, 2, 6, 30 };
    unsigned s = (unsigned)stage < WK_STAGE_COUNT ? (unsigned)stage : 0;
    uint64_t gib = (sector_size + (1ULL << 30) - 1) >> 30;
    return (base[s] + per_gib[s] * gib) * 60 * 1000;
}

uint64_t wk_task_timeout_ms(const wk_config *cfg, wk_stage stage, uint64_t sector_size)
{
    if (cfg && (unsigned)stage < WK_STAGE_COUNT && cfg->limit_timeout_ms[stage])
        return cfg->limit_timeout_ms[stage];
    return wk_stage_timeout_ms(stage, sector_size);
}

/* ---- task fields -------------------------------------------------------------------- */

static sp_code get_str(stage_call *c, const char *key, const char **out)
{
    return sp_json_get_str(c->task, -1, key, 1, 4095, out, c->err);
}

static sp_code get_u64(stage_call *c, const char *key, uint64_t *out)
{
    return sp_json_get_u64(c->task, -1, key, 0, UINT64_MAX, out, c->err);
}

static sp_code get_hex32(stage_call *c, const char *key, uint8_t out[32])
{
    return sp_json_get_hex32(c->task, -1, key, out, c->err);
}

static sp_code get_proof(stage_call *c, int *id)
{
    int64_t v;
    sp_code rc = sp_json_get_i64(c->task, -1, "proof", 0, 1000, &v, c->err);
    if (rc)
        return rc;
    if (!pf_seal_proof((int)v))
        return sp_fail(c->err, SP_EINVAL, "task: proof %lld is not a registered seal proof",
                       (long long)v);
    *id = (int)v;
    return SP_OK;
}

static sp_code add_hex32(stage_call *c, const char *key, const uint8_t v[32])
{
    return sp_json_add_hex(c->out, key, v, 32, c->err);
}

/* ---- file helpers ------------------------------------------------------------------- */

static sp_code write_output_file(const char *path, const uint8_t *data, size_t len,
                                 stage_call *c)
{
    sp_code rc = sp_write_file_atomic(path, data, len, 0644, c->err);
    if (rc)
        return rc;
    uint8_t h[32];
    pf_sha256(data, len, h);
    if ((rc = sp_json_add_u64(c->out, "len", len, c->err)))
        return rc;
    return add_hex32(c, "sha256", h);
}

/* The CPUs this process may run on, as a list of OS indexes. */
static int my_cpus(int *cpus, int max)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof set, &set) != 0)
        return 0;
    int n = 0;
    for (int i = 0; i < CPU_SETSIZE && n < max; i++)
        if (CPU_ISSET(i, &set))
            cpus[n++] = i;
    return n;
}

/* The CPUs of this slot: whole cores of the process's CPUs (wk_slot_cpus), or without a
 * topology the CPUs split into `slots` contiguous runs. */
static int slot_cpus(const wk_stage_env *env, int *cpus, int max)
{
    int all[CPU_SETSIZE];
    int n = my_cpus(all, CPU_SETSIZE);
    int slots = env->slots > 0 ? env->slots : 1;
    wk_topology t;
    wk_topo_source src = { .kind = WK_TOPO_LIVE, .no_gpus = true, .no_opencl = true };
    sp_err err;
    if (wk_topology_load(&t, &src, &err) == SP_OK) {
        int k = wk_slot_cpus(&t, all, n, env->slot, slots, cpus, max);
        wk_topology_free(&t);
        if (k > 0)
            return k;
    } else {
        wk_topology_free(&t);
    }
    int per = n / slots;
    if (per < 1)
        per = 1;
    int first = (env->slot % slots) * per;
    if (first >= n)
        first = 0;
    int k = 0;
    for (int i = first; i < n && i < first + per && k < max; i++)
        cpus[k++] = all[i];
    return k;
}

/* ---- add_pieces --------------------------------------------------------------------- */

static sp_code add_one_piece(stage_call *c, int proof, const cJSON *pj, int i, int dst,
                             uint64_t *sizes, cJSON *answers)
{
    const char *file;
    uint64_t size;
    uint8_t want[32];
    sp_err *err = c->err;
    sp_code rc;
    if ((rc = sp_json_get_str(pj, -1, "file", 1, 4095, &file, err)) ||
        (rc = sp_json_get_u64(pj, -1, "size", 127, UINT64_MAX, &size, err)) ||
        (rc = sp_json_get_hex32(pj, -1, "comm_p", want, err)))
        return sp_err_prefix(err, "pieces[%d]", i);
    if (!pf_piece_size_valid(size))
        return sp_fail(err, SP_EINVAL, "pieces[%d]: size %llu is not 127*2^k", i,
                       (unsigned long long)size);
    int src = open(file, O_RDONLY | O_CLOEXEC);
    if (src < 0)
        return sp_fail_errno(err, errno, "pieces[%d]: %s", i, file);
    pf_add_piece_result r;
    pf_error pe;
    pf_status st = pf_add_piece(proof, src, size, dst, sizes, (size_t)i, &r, &pe);
    close(src);
    if (st != PF_OK)
        return from_pf(err, &pe, file);
    if (memcmp(r.comm_p, want, 32) != 0) {
        char got_hex[65], want_hex[65];
        sp_hex_encode(r.comm_p, 32, got_hex);
        sp_hex_encode(want, 32, want_hex);
        return sp_fail(err, SP_ECORRUPT, "pieces[%d]: %s has CommP %s but the deal says %s; "
                       "the piece file is not the deal's data", i, file, got_hex, want_hex);
    }
    sizes[i] = size;
    cJSON *a = cJSON_CreateObject();
    if (!a || !cJSON_AddItemToArray(answers, a)) {
        cJSON_Delete(a);
        return sp_fail(err, SP_ENOMEM, "add_pieces: out of memory");
    }
    if ((rc = sp_json_add_hex(a, "comm_p", r.comm_p, 32, err)) ||
        (rc = sp_json_add_u64(a, "size", size, err)) ||
        (rc = sp_json_add_u64(a, "offset", r.offset, err)))
        return rc;
    return SP_OK;
}

static sp_code run_add_pieces(stage_call *c)
{
    int proof;
    const char *staged;
    const cJSON *pieces;
    char tmp[4200];
    int dst = -1;
    sp_code rc;
    if ((rc = get_proof(c, &proof)) || (rc = get_str(c, "staged", &staged)) ||
        (rc = sp_json_get_array(c->task, -1, "pieces", WK_MAX_PIECES, &pieces, c->err)))
        return rc;
    wk_test_pause("add_pieces", c->env->cancel);
    snprintf(tmp, sizeof tmp, "%s.tmp", staged);
    cJSON *answers = cJSON_AddArrayToObject(c->out, "pieces");
    uint64_t sizes[WK_MAX_PIECES];
    if (!answers)
        return sp_fail(c->err, SP_ENOMEM, "add_pieces: out of memory");
    dst = open(tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (dst < 0)
        return sp_fail_errno(c->err, errno, "%s", tmp);
    int i = 0;
    const cJSON *pj;
    cJSON_ArrayForEach(pj, pieces) {
        if ((rc = add_one_piece(c, proof, pj, i, dst, sizes, answers)))
            goto fail;
        i++;
    }
    if (fsync(dst) != 0) {
        rc = sp_fail_errno(c->err, errno, "%s: fsync", tmp);
        goto fail;
    }
    close(dst);
    dst = -1;
    if (rename(tmp, staged) != 0) {
        rc = sp_fail_errno(c->err, errno, "rename %s -> %s", tmp, staged);
        goto fail;
    }
    char dir[4200];
    snprintf(dir, sizeof dir, "%s", staged);
    char *slash = strrchr(dir, '/');
    if (slash)
        *slash = 0;
    return sp_fsync_dir(slash ? dir : ".", c->err);
fail:
    if (dst >= 0)
        close(dst);
    unlink(tmp);
    return rc;
}

/* ---- tree_d, pc1, pc2 --------------------------------------------------------------- */

static sp_code run_tree_d(stage_call *c)
{
    int proof;
    const char *staged, *cache;
    sp_code rc;
    if ((rc = get_proof(c, &proof)) || (rc = get_str(c, "staged", &staged)) ||
        (rc = get_str(c, "cache", &cache)))
        return rc;
    if ((rc = sp_mkdir_p(cache, 0755, c->err)))
        return rc;
    wk_test_pause("tree_d", c->env->cancel);
    uint8_t comm_d[32];
    pf_error pe;
    if (pf_tree_d_build(proof, staged, cache, comm_d, &pe) != PF_OK)
        return from_pf(c->err, &pe, "tree_d");
    return add_hex32(c, "comm_d", comm_d);
}

typedef struct pc1_progress {
    const volatile int *cancel;
} pc1_progress;

static void pc1_layer_done(void *ctx, const pf_progress_event *ev)
{
    pc1_progress *p = ctx;
    SP_DEBUG("pc1: layer %d/%d %s in %.1fs", ev->layer, ev->layers,
             ev->resumed ? "resumed" : "labeled", ev->seconds);
    if (ev->layer < ev->layers && !ev->resumed)
        wk_test_pause("pc1", p->cancel);
}

/* The labeling options of a pc1 task.  A bound child labels with its slot's CPUs: the
 * first one hashes, the rest produce. */
static void pc1_options(stage_call *c, pc1_progress *prog, pf_sdr_options *so, char *cores,
                        size_t len)
{
    *so = (pf_sdr_options){ .progress = pc1_layer_done, .progress_ctx = prog,
                            .cancel = c->env->cancel, .hugepages = c->env->hugepages ? 1 : 0 };
    cores[0] = 0;
    if (!c->env->bound)
        return;
    int cpus[256];
    int n = slot_cpus(c->env, cpus, 256);
    size_t used = 0;
    for (int i = 0; i < n && used + 8 < len; i++)
        used += (size_t)snprintf(cores + used, len - used, "%s%d", i ? "," : "", cpus[i]);
    if (n >= 2) {
        so->multicore = 1;
        so->cores = cores;
    }
    so->threads = n > 0 ? n : 1;
}

static sp_code add_pc1out(cJSON *obj, const pf_pc1_output *out, sp_err *err)
{
    uint8_t enc[PF_PC1_OUTPUT_ENCODED_LEN];
    size_t len = pf_pc1_output_encode(out, enc, sizeof enc);
    if (!len)
        return sp_fail(err, SP_EINTERNAL, "pc1: output does not encode");
    return sp_json_add_hex(obj, "pc1out", enc, len, err);
}

/* One sector of a batch task: its fields into *v, or an error in err. */
static sp_code pc1_batch_member(const cJSON *item, pf_pc1_batch_sector *v, sp_err *err)
{
    const char *cache;
    sp_code rc;
    if ((rc = sp_json_get_str(item, -1, "cache", 1, 4095, &cache, err)))
        return rc;
    v->cache_dir = cache;
    if ((rc = sp_json_get_u64(item, -1, "sector_id", 0, UINT64_MAX, &v->sector_id, err)) ||
        (rc = sp_json_get_hex32(item, -1, "prover_id", v->prover_id, err)) ||
        (rc = sp_json_get_hex32(item, -1, "ticket", v->ticket, err)) ||
        (rc = sp_json_get_hex32(item, -1, "comm_d", v->comm_d, err)))
        return rc;
    return SP_OK;
}

/* Adds one sector's answer to the batch's "sectors" array. */
static sp_code pc1_batch_answer(cJSON *arr, int i, const pf_pc1_batch_sector *v, sp_code code,
                                const sp_err *perr, sp_err *err)
{
    cJSON *a = cJSON_CreateObject();
    if (!a || !cJSON_AddItemToArray(arr, a)) {
        cJSON_Delete(a);
        return sp_fail(err, SP_ENOMEM, "pc1: out of memory");
    }
    sp_err e;
    if (code == SP_OK && v->status != PF_OK)
        code = from_pf(&e, &v->err, "pc1");
    else if (code == SP_OK && v->out.version != PF_PC1_OUTPUT_VERSION)
        /* never an answer without an output, whatever the labeler left in the slot */
        code = sp_fail(&e, SP_EINTERNAL, "pc1 batch: the labeler gave no output and no error "
                       "for this sector");
    else if (code != SP_OK)
        e = *perr;
    if (code == SP_OK) {
        cJSON *out = cJSON_AddObjectToObject(a, "output");
        if (!out)
            return sp_fail(err, SP_ENOMEM, "pc1: out of memory");
        SP_INFO("pc1 batch: sector %d (%s) done", i, v->cache_dir);
        return add_pc1out(out, &v->out, err);
    }
    wk_level level = wk_stage_level(code);
    SP_WARN("pc1 batch: sector %d (%s) failed (%s): %s", i, v->cache_dir ? v->cache_dir : "?",
            wk_level_name(level), e.msg);
    cJSON *ej = cJSON_AddObjectToObject(a, "err");
    if (!ej || !cJSON_AddStringToObject(ej, "msg", e.msg) ||
        !cJSON_AddStringToObject(ej, "level", level == WK_LEVEL_PERMANENT ? "permanent"
                                                                           : "temporary") ||
        !cJSON_AddNumberToObject(ej, "code", code))
        return sp_fail(err, SP_ENOMEM, "pc1: out of memory");
    return SP_OK;
}

/* A batch task: every well-formed sector goes to pf_pc1_batch; each gets its own answer. */
static sp_code run_pc1_batch(stage_call *c, int proof, const char *parents)
{
    const cJSON *items;
    sp_code rc;
    if ((rc = sp_json_get_array(c->task, -1, "sectors", PF_PC1_BATCH_MAX, &items, c->err)))
        return rc;
    int n = cJSON_GetArraySize(items);
    if (n < 1)
        return sp_fail(c->err, SP_EINVAL, "task: sectors is empty");
    pf_pc1_batch_sector *v = calloc((size_t)n, sizeof *v);
    pf_pc1_batch_sector *run = calloc((size_t)n, sizeof *run);
    sp_err *perr = calloc((size_t)n, sizeof *perr);
    sp_code *pcode = calloc((size_t)n, sizeof *pcode);
    int *where = calloc((size_t)n, sizeof *where);
    cJSON *arr = cJSON_AddArrayToObject(c->out, "sectors");
    if (!v || !run || !perr || !pcode || !where || !arr) {
        rc = sp_fail(c->err, SP_ENOMEM, "pc1: out of memory");
        goto done;
    }
    int k = 0;
    for (int i = 0; i < n; i++) {
        pcode[i] = pc1_batch_member(cJSON_GetArrayItem(items, i), &v[i], &perr[i]);
        if (pcode[i] != SP_OK) {
            sp_err_prefix(&perr[i], "task: sectors[%d]", i);
            where[i] = -1;
            continue;
        }
        v[i].cancel = c->env->sector_cancel && i < c->env->nsector_cancel
                          ? &c->env->sector_cancel[i]
                          : NULL;
        if (v[i].cancel && __atomic_load_n(v[i].cancel, __ATOMIC_ACQUIRE)) {
            /* cancelled while the batch waited for its slot: it does not start at all */
            pcode[i] = sp_fail(&perr[i], SP_EBUSY, "pc1: cancelled before its batch started");
            where[i] = -1;
            continue;
        }
        run[k] = v[i];
        where[i] = k++;
    }
    pc1_progress prog = { .cancel = c->env->cancel };
    pf_sdr_options so;
    char cores[1024];
    pc1_options(c, &prog, &so, cores, sizeof cores);
    pf_error pe;
    if (k > 0)
        pf_pc1_batch(proof, run, k, parents, &so, &pe);
    for (int i = 0; i < n && rc == SP_OK; i++) {
        if (where[i] >= 0)
            v[i] = run[where[i]];
        rc = pc1_batch_answer(arr, i, &v[i], pcode[i], &perr[i], c->err);
    }
done:
    free(v);
    free(run);
    free(perr);
    free(pcode);
    free(where);
    return rc;
}

static sp_code run_pc1(stage_call *c)
{
    int proof;
    const char *cache, *parents = NULL;
    uint64_t sector_id;
    uint8_t prover[32], ticket[32], comm_d[32];
    sp_code rc;
    if ((rc = get_proof(c, &proof)) ||
        (rc = sp_json_opt_str(c->task, -1, "parent_cache", 1, 4095, NULL, &parents, c->err)))
        return rc;
    if (cJSON_GetObjectItemCaseSensitive(c->task, "sectors"))
        return run_pc1_batch(c, proof, parents);
    if ((rc = get_str(c, "cache", &cache)) || (rc = get_u64(c, "sector_id", &sector_id)) ||
        (rc = get_hex32(c, "prover_id", prover)) || (rc = get_hex32(c, "ticket", ticket)) ||
        (rc = get_hex32(c, "comm_d", comm_d)))
        return rc;
    pc1_progress prog = { .cancel = c->env->cancel };
    pf_sdr_options so;
    char cores[1024];
    pc1_options(c, &prog, &so, cores, sizeof cores);
    pf_pc1_output out;
    pf_error pe;
    if (pf_pc1(proof, cache, sector_id, prover, ticket, comm_d, parents, &so, &out, &pe) != PF_OK)
        return from_pf(c->err, &pe, "pc1");
    return add_pc1out(c->out, &out, c->err);
}

typedef struct pc2_progress {
    const volatile int *cancel;
    int calls;
} pc2_progress;

static int pc2_chunk_done(void *arg, const char *stage, uint64_t done, uint64_t total)
{
    pc2_progress *p = arg;
    if (p->calls++ == 0 && done < total)
        wk_test_pause("pc2", p->cancel);
    return p->cancel && __atomic_load_n(p->cancel, __ATOMIC_ACQUIRE);
}

static sp_code run_pc2(stage_call *c)
{
    const char *hex, *cache, *staged, *sealed;
    sp_code rc;
    if ((rc = get_str(c, "pc1out", &hex)) || (rc = get_str(c, "cache", &cache)) ||
        (rc = get_str(c, "staged", &staged)) || (rc = get_str(c, "sealed", &sealed)))
        return rc;
    uint8_t enc[PF_PC1_OUTPUT_ENCODED_LEN];
    if (strlen(hex) != 2 * sizeof enc || sp_hex_decode(hex, enc, sizeof enc, c->err))
        return sp_fail(c->err, SP_EINVAL, "task: pc1out is not %zu bytes of hex", sizeof enc);
    pf_pc1_output pc1;
    pf_error pe;
    if (pf_pc1_output_decode(enc, sizeof enc, &pc1, &pe) != PF_OK)
        return from_pf(c->err, &pe, "task: pc1out");
    pc2_progress prog = { .cancel = c->env->cancel };
    pf_pc2_options o = { .cancel = c->env->cancel, .progress = pc2_chunk_done,
                         .progress_arg = &prog };
    /* a small first chunk gives the pause hook a point where PC2 is under way */
    const pf_seal_proof_info *info = pf_seal_proof(pc1.proof_id);
    if (getenv("SEALPIPE_TEST_PAUSE") && info)
        o.chunk_nodes = info->nodes >= 512 ? 64 : 8;
    if (c->env->bound) {
        int cpus[256];
        o.threads = slot_cpus(c->env, cpus, 256);
    }
    pf_pc2_output out;
    if (pf_pc2(&pc1, cache, staged, sealed, &o, &out, &pe) != PF_OK)
        return from_pf(c->err, &pe, "pc2");
    if ((rc = add_hex32(c, "comm_c", out.comm_c)) ||
        (rc = add_hex32(c, "comm_r_last", out.comm_r_last)) ||
        (rc = add_hex32(c, "comm_r", out.comm_r)))
        return rc;
    return SP_OK;
}

/* ---- c1, c2, unseal ----------------------------------------------------------------- */

static sp_code read_piece_infos(stage_call *c, pf_piece_info *pi, size_t *n)
{
    const cJSON *arr = NULL;
    *n = 0;
    if (!sp_json_param(c->task, -1, "pieces"))
        return SP_OK;
    sp_code rc = sp_json_get_array(c->task, -1, "pieces", WK_MAX_PIECES, &arr, c->err);
    if (rc)
        return rc;
    const cJSON *pj;
    cJSON_ArrayForEach(pj, arr) {
        if ((rc = sp_json_get_hex32(pj, -1, "comm_p", pi[*n].comm_p, c->err)) ||
            (rc = sp_json_get_u64(pj, -1, "size", 127, UINT64_MAX, &pi[*n].size, c->err)))
            return sp_err_prefix(c->err, "pieces[%zu]", *n);
        (*n)++;
    }
    return SP_OK;
}

static sp_code run_c1(stage_call *c)
{
    int proof;
    const char *cache, *sealed, *outp;
    uint64_t sector_id;
    uint8_t prover[32], ticket[32], seed[32], comm_d[32], comm_r[32];
    pf_piece_info pieces[WK_MAX_PIECES];
    size_t npieces;
    sp_code rc;
    if ((rc = get_proof(c, &proof)) || (rc = get_str(c, "cache", &cache)) ||
        (rc = get_str(c, "sealed", &sealed)) || (rc = get_str(c, "out", &outp)) ||
        (rc = get_u64(c, "sector_id", &sector_id)) || (rc = get_hex32(c, "prover_id", prover)) ||
        (rc = get_hex32(c, "ticket", ticket)) || (rc = get_hex32(c, "seed", seed)) ||
        (rc = get_hex32(c, "comm_d", comm_d)) || (rc = get_hex32(c, "comm_r", comm_r)) ||
        (rc = read_piece_infos(c, pieces, &npieces)))
        return rc;
    wk_test_pause("c1", c->env->cancel);
    pf_c1_output o;
    pf_error pe;
    memset(&o, 0, sizeof o);
    if (pf_c1(proof, cache, sealed, sector_id, prover, ticket, seed, comm_d, comm_r,
              npieces ? pieces : NULL, npieces, &o, &pe) != PF_OK)
        return from_pf(c->err, &pe, "c1");
    uint8_t *buf = NULL;
    size_t len = 0;
    if (pf_c1_output_encode(&o, &buf, &len, &pe) != PF_OK) {
        pf_c1_output_free(&o);
        return from_pf(c->err, &pe, "c1: encoding the output");
    }
    pf_c1_output_free(&o);
    rc = write_output_file(outp, buf, len, c);
    free(buf);
    return rc;
}

/* libfilcrypto's C2 takes filecoin-ffi's C1 JSON, whatever format C1 wrote. */
static sp_code c2_filcrypto(stage_call *c, const uint8_t *c1, size_t c1_len, uint64_t sector_id,
                            const uint8_t prover[32], const char *outp)
{
    pf_filcrypto *fc = c->env->filcrypto;
    if (!fc)
        return sp_fail(c->err, SP_EINVAL, "c2: backend filcrypto runs only in a c2 processor "
                       "that loaded libfilcrypto (add a processors.c2 entry with backend = "
                       "\"filcrypto\")");
    pf_c1_read_args ra = { .proof_id = -1, .sector_id = sector_id, .prover_id = prover };
    uint8_t *json = NULL;
    size_t json_len = 0;
    pf_format from;
    pf_error pe;
    if (pf_c1_convert(c1, c1_len, PF_FORMAT_RUST_JSON, &ra, &json, &json_len, &from, &pe) != PF_OK)
        return from_pf(c->err, &pe, "c2: converting the C1 output to filecoin-ffi's JSON");
    pf_bytes proof = { 0 };
    pf_status st = pf_fc_seal_commit_phase2(fc, json, json_len, sector_id, prover, &proof, &pe);
    free(json);
    if (st != PF_OK)
        return from_pf(c->err, &pe, "c2 (libfilcrypto seal_commit_phase2)");
    SP_INFO("c2: libfilcrypto %s made a %zu-byte proof from the %s C1 output", 
            pf_filcrypto_path(fc), proof.len, pf_format_name(from));
    sp_code rc = write_output_file(outp, proof.data, proof.len, c);
    pf_bytes_free(&proof);
    return rc;
}

static sp_code run_c2(stage_call *c)
{
    const char *c1p, *outp;
    uint64_t sector_id;
    uint8_t prover[32];
    sp_code rc;
    if ((rc = get_str(c, "c1", &c1p)) || (rc = get_str(c, "out", &outp)) ||
        (rc = get_u64(c, "sector_id", &sector_id)) || (rc = get_hex32(c, "prover_id", prover)))
        return rc;
    wk_test_pause("c2", c->env->cancel);
    char *c1 = NULL;
    size_t c1_len = 0;
    if ((rc = sp_read_file(c1p, MAX_C1_FILE, &c1, &c1_len, c->err)))
        return rc;
    if (c->env->backend == WK_BACKEND_FILCRYPTO) {
        rc = c2_filcrypto(c, (const uint8_t *)c1, c1_len, sector_id, prover, outp);
        free(c1);
        return rc;
    }
    uint8_t *proof = NULL;
    size_t plen = 0;
    pf_error pe;
    pf_status st = pf_c2((const uint8_t *)c1, c1_len, sector_id, prover, &proof, &plen, &pe);
    free(c1);
    if (st != PF_OK)
        return from_pf(c->err, &pe, "c2");
    rc = write_output_file(outp, proof, plen, c);
    free(proof);
    return rc;
}

static sp_code run_unseal(stage_call *c)
{
    int proof;
    const char *cache, *sealed, *outp;
    uint64_t sector_id, offset, length;
    uint8_t prover[32], ticket[32], comm_d[32];
    sp_code rc;
    if ((rc = get_proof(c, &proof)) || (rc = get_str(c, "cache", &cache)) ||
        (rc = get_str(c, "sealed", &sealed)) || (rc = get_str(c, "out", &outp)) ||
        (rc = get_u64(c, "sector_id", &sector_id)) || (rc = get_hex32(c, "prover_id", prover)) ||
        (rc = get_hex32(c, "ticket", ticket)) || (rc = get_hex32(c, "comm_d", comm_d)) ||
        (rc = get_u64(c, "offset", &offset)) || (rc = get_u64(c, "length", &length)))
        return rc;
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", outp);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return sp_fail_errno(c->err, errno, "%s", tmp);
    pf_error pe;
    if (pf_unseal_range(proof, cache, sealed, fd, sector_id, prover, ticket, comm_d, offset,
                        length, &pe) != PF_OK) {
        rc = from_pf(c->err, &pe, "unseal");
        goto fail;
    }
    if (fsync(fd) != 0) {
        rc = sp_fail_errno(c->err, errno, "%s: fsync", tmp);
        goto fail;
    }
    close(fd);
    fd = -1;
    if (rename(tmp, outp) != 0) {
        rc = sp_fail_errno(c->err, errno, "rename %s -> %s", tmp, outp);
        goto fail;
    }
    return sp_json_add_u64(c->out, "len", length, c->err);
fail:
    if (fd >= 0)
        close(fd);
    unlink(tmp);
    return rc;
}

/* ---- dispatch ----------------------------------------------------------------------- */

sp_code wk_stage_run(wk_stage stage, const cJSON *task, const wk_stage_env *env, cJSON **output,
                     wk_level *level, sp_err *err)
{
    static sp_code (*const runners[WK_STAGE_COUNT])(stage_call *) = {
        [WK_STAGE_ADD_PIECES] = run_add_pieces, [WK_STAGE_TREE_D] = run_tree_d,
        [WK_STAGE_PC1] = run_pc1,               [WK_STAGE_PC2] = run_pc2,
        [WK_STAGE_C1] = run_c1,                 [WK_STAGE_C2] = run_c2,
        [WK_STAGE_UNSEAL] = run_unseal,
    };
    *output = NULL;
    *level = WK_LEVEL_NONE;
    if ((unsigned)stage >= WK_STAGE_COUNT) {
        *level = WK_LEVEL_PERMANENT;
        return sp_fail(err, SP_EINVAL, "unknown stage %d", (int)stage);
    }
    if (!cJSON_IsObject(task)) {
        *level = WK_LEVEL_PERMANENT;
        return sp_fail(err, SP_EINVAL, "%s: the task is not a JSON object", wk_stage_name(stage));
    }
    wk_stage_env def = { .slots = 1 };
    stage_call c = { .task = task, .env = env ? env : &def, .out = cJSON_CreateObject(),
                     .err = err };
    if (!c.out) {
        *level = WK_LEVEL_TEMPORARY;
        return sp_fail(err, SP_ENOMEM, "%s: out of memory", wk_stage_name(stage));
    }
    sp_code rc = runners[stage](&c);
    if (rc != SP_OK) {
        cJSON_Delete(c.out);
        *level = wk_stage_level(rc);
        return rc;
    }
    *output = c.out;
    return SP_OK;
}
