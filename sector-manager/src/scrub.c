/* scrub.c — checking replicas against the database:
 *   light  every replica on a reachable store: its files exist with the recorded sizes
 *          (unsealed: the payload size; sealed: the sector size, and p_aux and
 *          tree-r-last in the cache directory)
 *   deep   unsealed: every indexed block re-hashed against its CID, then the whole file's
 *          CommP against the piece CID; sealed: PoSt vanilla proofs (window PoSt leaf
 *          challenges from fresh random randomness) built from the replica's tree-r-last
 *          and sealed file and verified against the sector's CommR
 * Reads are limited to storage.scrub.rate bytes per second.  Every problem becomes a
 * finding, the replica's state (missing or corrupt) and the object's flag; the reconciler
 * then repairs it, and a run with findings asks for a reconciler run at once. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sealproofs.h"
#include "sm_blocks.h"
#include "sm_jobs.h"
#include "sm_objects.h"
#include "sm_pieces.h"
#include "sm_sectors.h"
#include "sp_fs.h"
#include "sp_json.h"
#include "sp_log.h"

#define BATCH 128
#define BLOCKS 256

typedef struct scrub_ctx {
    sm_job_ctx *job;
    bool deep;
    sm_store_info *stores;
    size_t n_stores;
    uint64_t start_ms;
    uint64_t bytes;             /* read so far (rate limit) */
    uint64_t findings;
} scrub_ctx;

static const sm_store_info *store_of(const scrub_ctx *s, const char *name)
{
    for (size_t i = 0; i < s->n_stores; i++)
        if (strcmp(s->stores[i].def.name, name) == 0)
            return &s->stores[i];
    return NULL;
}

static void finding(scrub_ctx *s, const sm_object *o, const sm_replica *r, const char *state,
                    const char *what)
{
    sm_db *db = s->job->db;
    sp_err e;
    s->findings++;
    SP_WARN("scrub: %s %s on %s: %s", sm_kind_name(o->kind), o->name, r->store, what);
    if (sm_replica_set_state(db, o->id, r->store, state, what, s->deep, &e) != SP_OK ||
        sm_findings_add(db, s->deep ? "deep" : "light", r->store, o->id, what, &e) != SP_OK ||
        sm_objects_flag(db, o->id, what, &e) != SP_OK)
        SP_ERROR("scrub: recording a finding: %s", e.msg);
    cJSON *a = cJSON_CreateObject();
    cJSON_AddItemToArray(sm_jobs_list(s->job, "Findings"), a);
    sp_json_add_str(a, "Object", o->name, NULL);
    sp_json_add_str(a, "Kind", sm_kind_name(o->kind), NULL);
    sp_json_add_str(a, "Store", r->store, NULL);
    sp_json_add_str(a, "State", state, NULL);
    sp_json_add_str(a, "Finding", what, NULL);
}

static void passed(scrub_ctx *s, const sm_object *o, const sm_replica *r)
{
    sp_err e;
    /* a replica found missing before and back now (restored by hand) is ok again; a corrupt
     * one stays corrupt until repaired */
    const char *state = strcmp(r->state, "missing") == 0 ? "ok" : r->state;
    if (sm_replica_set_state(s->job->db, o->id, r->store, state, state[0] == 'o' ? NULL : r->finding,
                             s->deep, &e) != SP_OK)
        SP_WARN("scrub: %s", e.msg);
    sm_jobs_count(s->job, "Passed", 1);
}

/* ---- light ------------------------------------------------------------------------------------ */

/* "" when the files are there with the right sizes, else what is wrong; *missing tells
 * which state it is. */
static void check_files(const sm_store_info *st, const sm_object *o, char *why, size_t len, bool *missing)
{
    why[0] = 0;
    *missing = false;
    char mrel[256], crel[256], path[4400];
    if (sm_object_paths(o, mrel, sizeof mrel, crel, sizeof crel, NULL) != SP_OK ||
        snprintf(path, sizeof path, "%s/%s", st->def.path, mrel) >= (int)sizeof path) {
        snprintf(why, len, "bad object name");
        return;
    }
    struct stat sb;
    if (lstat(path, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        snprintf(why, len, "%s is missing", mrel);
        *missing = true;
        return;
    }
    if (o->kind == SM_KIND_UNSEALED) {
        if ((uint64_t)sb.st_size != o->size)
            snprintf(why, len, "%s has %lld bytes, %" PRIu64 " recorded", mrel, (long long)sb.st_size, o->size);
        return;
    }
    bool p_aux, tree_r;
    if (sm_replica_disk_size(st->def.path, o, &p_aux, &tree_r) < 0 || !p_aux || !tree_r)
        snprintf(why, len, "%s lacks %s", crel, !p_aux ? "p_aux" : "sc-02-data-tree-r-last*.dat");
}

/* ---- deep: unsealed --------------------------------------------------------------------------- */

static void deep_unsealed(scrub_ctx *s, const sm_store_info *st, const sm_object *o, char *why, size_t len)
{
    sm_job_ctx *ctx = s->job;
    char mrel[256], crel[8], path[4400];
    if (sm_object_paths(o, mrel, sizeof mrel, crel, sizeof crel, NULL) != SP_OK ||
        snprintf(path, sizeof path, "%s/%s", st->def.path, mrel) >= (int)sizeof path)
        return;
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        snprintf(why, len, "%s: %s", mrel, strerror(errno));
        return;
    }
    sm_block_loc *locs = calloc(BLOCKS, sizeof *locs);
    uint8_t *buf = malloc(ctx->conf->storage.max_block ? ctx->conf->storage.max_block : 1);
    int64_t after = -1;
    while (locs && buf && !why[0] && !(ctx->stop && *ctx->stop)) {
        size_t n = 0;
        sp_err e;
        if (sm_blocks_of_piece(ctx->db, o->name, after, BLOCKS, locs, &n, &e) != SP_OK || n == 0)
            break;
        for (size_t i = 0; i < n && !why[0]; i++) {
            after = (int64_t)locs[i].offset;
            if (locs[i].length > ctx->conf->storage.max_block)
                continue;
            ssize_t r = pread(fd, buf, (size_t)locs[i].length, (off_t)locs[i].offset);
            s->bytes += locs[i].length;
            sm_jobs_throttle(ctx->conf->storage.scrub_rate, s->start_ms, s->bytes, ctx->stop);
            sm_cid c;
            char cs[SM_CID_STR_MAX] = "?";
            if (sm_cid_from_mh(1, locs[i].codec, locs[i].mh, locs[i].mh_len, &c, NULL) == SP_OK)
                sm_cid_format(&c, cs, sizeof cs);
            if (r != (ssize_t)locs[i].length)
                snprintf(why, len, "block %s at offset %" PRIu64 " cannot be read", cs, locs[i].offset);
            else if (sm_mh_verify(locs[i].mh, locs[i].mh_len, buf, (size_t)r, &e) != SP_OK)
                snprintf(why, len, "block %s at offset %" PRIu64 " does not match its CID", cs,
                         locs[i].offset);
        }
        if (n < BLOCKS)
            break;
    }
    free(buf);
    free(locs);
    /* CommP covers every byte, including those between blocks (a CAR's framing). */
    sm_piece p;
    sp_err e;
    if (!why[0] && !(ctx->stop && *ctx->stop) && sm_pieces_get(ctx->db, o->name, &p, &e) == SP_OK) {
        uint8_t comm[32];
        uint64_t got = 0, padded = 0;
        pf_error pe = { 0 };
        s->bytes += p.payload_size;
        if (lseek(fd, 0, SEEK_SET) != 0 ||
            pf_commp_fd(fd, p.payload_size, comm, &got, &padded, &pe) != PF_OK)
            snprintf(why, len, "CommP: %.200s", pe.msg);
        else if (memcmp(comm, p.comm_p, 32) != 0)
            snprintf(why, len, "the bytes' CommP is not the piece CID");
        sm_jobs_throttle(ctx->conf->storage.scrub_rate, s->start_ms, s->bytes, ctx->stop);
    }
    close(fd);
}

/* ---- deep: sealed ------------------------------------------------------------------------------ */

static void deep_sealed(scrub_ctx *s, const sm_store_info *st, const sm_object *o, char *why, size_t len)
{
    sm_job_ctx *ctx = s->job;
    sm_sector sec;
    sp_err e;
    if (sm_sectors_load(ctx->db, o->miner, o->number, &sec, &e) != SP_OK || !sec.pc_state) {
        sm_jobs_count(ctx, "Unverifiable", 1);
        return; /* no CommR to check against */
    }
    const pf_seal_proof_info *pi = pf_seal_proof(sec.proof_type);
    const pf_post_proof_info *post = pi ? pf_post_proof(pi->window_post_id) : NULL;
    if (!post)
        return;
    char mrel[256], crel[256], sealed[4400], cache[4400];
    if (sm_object_paths(o, mrel, sizeof mrel, crel, sizeof crel, NULL) != SP_OK ||
        snprintf(sealed, sizeof sealed, "%s/%s", st->def.path, mrel) >= (int)sizeof sealed ||
        snprintf(cache, sizeof cache, "%s/%s", st->def.path, crel) >= (int)sizeof cache)
        return;
    int64_t size = sp_file_size(sealed);
    if (size < 0 || (uint64_t)size != pi->sector_size) {
        snprintf(why, len, "%s has %lld bytes, not the sector size %" PRIu64, mrel, (long long)size,
                 pi->sector_size);
        return;
    }
    unsigned rounds = (ctx->conf->storage.post_challenges + (unsigned)post->challenge_count - 1) /
                      (unsigned)post->challenge_count;
    for (unsigned k = 0; k < rounds && !why[0]; k++) {
        uint8_t rnd[32];
        if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd)
            for (int i = 0; i < 32; i++)
                rnd[i] = (uint8_t)(sp_now_ms() >> (i % 8));
        rnd[31] &= 0x3f; /* a canonical field element, as Lotus draws PoSt randomness */
        uint64_t ch[64];
        size_t nch = (size_t)post->challenge_count < 64 ? (size_t)post->challenge_count : 64;
        pf_error pe = { 0 };
        pf_post_replica rep = { .sector_id = o->number, .cache_dir = cache, .sealed_path = sealed };
        memcpy(rep.comm_r, sec.pc_comm_r, 32);
        pf_post_public_replica pub = { .sector_id = o->number };
        memcpy(pub.comm_r, sec.pc_comm_r, 32);
        pf_post_vanilla_proof proof;
        memset(&proof, 0, sizeof proof);
        if (pf_post_sector_challenges(pi->window_post_id, rnd, 0, o->number, ch, &pe) != PF_OK) {
            snprintf(why, len, "PoSt challenges: %.200s", pe.msg);
            break;
        }
        if (pf_post_vanilla_prove(pi->window_post_id, &rep, ch, nch, &proof, &pe) != PF_OK ||
            pf_post_vanilla_verify(pi->window_post_id, rnd, 0, &pub, &proof, &pe) != PF_OK)
            snprintf(why, len, "PoSt vanilla proof failed: %.200s", pe.msg);
        pf_post_vanilla_proof_free(&proof);
        /* tree paths: a few KiB per challenge */
        s->bytes += nch * 4096;
        sm_jobs_throttle(ctx->conf->storage.scrub_rate, s->start_ms, s->bytes, ctx->stop);
    }
    if (!why[0])
        sm_jobs_count(ctx, "PoStChallenges", rounds * (uint64_t)post->challenge_count);
}

/* ---- the job ------------------------------------------------------------------------------------ */

static void scrub_replica(scrub_ctx *s, const sm_object *o, const sm_replica *r)
{
    const sm_store_info *st = store_of(s, r->store);
    if (!st || !st->reachable) {
        sm_jobs_count(s->job, "SkippedUnreachable", 1);
        return;
    }
    char why[400];
    bool missing = false;
    check_files(st, o, why, sizeof why, &missing);
    if (!why[0] && o->kind == SM_KIND_SEALED) {
        /* light check of the sealed file's size against the sector's proof type */
        sm_sector sec;
        const pf_seal_proof_info *pi;
        char mrel[256], crel[256], path[4400];
        if (sm_sectors_load(s->job->db, o->miner, o->number, &sec, NULL) == SP_OK &&
            (pi = pf_seal_proof(sec.proof_type)) &&
            sm_object_paths(o, mrel, sizeof mrel, crel, sizeof crel, NULL) == SP_OK &&
            snprintf(path, sizeof path, "%s/%s", st->def.path, mrel) < (int)sizeof path &&
            sp_file_size(path) != (int64_t)pi->sector_size)
            snprintf(why, sizeof why, "%s has %lld bytes, not the sector size %" PRIu64, mrel,
                     (long long)sp_file_size(path), pi->sector_size);
    }
    if (!why[0] && s->deep) {
        if (strcmp(r->state, "corrupt") == 0)
            return; /* already known bad: repair will replace it */
        if (o->kind == SM_KIND_UNSEALED)
            deep_unsealed(s, st, o, why, sizeof why);
        else
            deep_sealed(s, st, o, why, sizeof why);
    }
    if (why[0])
        finding(s, o, r, missing ? "missing" : "corrupt", why);
    else
        passed(s, o, r);
}

sp_code sm_job_scrub(sm_job_ctx *ctx, const sm_job_req *req, sp_err *err)
{
    scrub_ctx s = { .job = ctx, .deep = req->deep, .start_ms = sp_now_ms() };
    sp_code rc = sm_stores_list(ctx->db, &s.stores, &s.n_stores, err);
    if (rc)
        return rc;
    cJSON_AddBoolToObject(ctx->report, "Deep", req->deep);
    sm_jobs_count(ctx, "Replicas", 0);
    sm_jobs_count(ctx, "Passed", 0);
    sm_jobs_list(ctx, "Findings");
    int64_t after = 0;
    for (;;) {
        sm_object *v = NULL;
        size_t n = 0;
        if ((rc = sm_objects_list(ctx->db, after, BATCH, &v, &n, err)))
            break;
        for (size_t i = 0; i < n && !rc; i++) {
            after = v[i].id;
            sm_replica *reps = NULL;
            size_t nr = 0;
            if ((rc = sm_objects_replicas(ctx->db, v[i].id, &reps, &nr, err)))
                break;
            for (size_t j = 0; j < nr; j++) {
                if (ctx->stop && *ctx->stop) {
                    rc = sp_fail(err, SP_EBUSY, "stopped");
                    break;
                }
                sm_jobs_count(ctx, "Replicas", 1);
                scrub_replica(&s, &v[i], &reps[j]);
            }
            free(reps);
        }
        free(v);
        if (rc || n < BATCH)
            break;
    }
    sm_jobs_count(ctx, "BytesRead", s.bytes);
    free(s.stores);
    if (!rc && s.findings && ctx->st) {
        sm_job_req fix = { .kind = SM_JOB_RECONCILE, .apply = true };
        sm_storage_submit(ctx->st, &fix, NULL, NULL);
    }
    return rc;
}
