/* planner_sealer.c — the sealer plan's handlers: one function per state, each doing that
 * state's work (a manager call, a stage on a processor, a copy) and naming the event that
 * follows, with its data written into the working record (wk_thread.h).
 *
 * Every handler can run again after a crash from the stored record: stages rewrite their
 * outputs atomically, manager submissions are idempotent (Duplicate), downloads go to a
 * temporary name and are verified against the deal's CommP before they are renamed. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sealproofs.h"
#include "sp_codec.h"
#include "sp_fs.h"
#include "sp_json.h"
#include "sp_log.h"
#include "wk_finalize.h"
#include "wk_mgr.h"
#include "wk_stages.h"
#include "wk_thread.h"

/* ---- helpers ------------------------------------------------------------------------ */

static const wk_sealing *sealing(const wk_task *t)
{
    return &t->tcfg->sealing;
}

static void prover_id(const wk_sector *s, uint8_t out[32])
{
    pf_prover_id_from_actor(s->miner, out);
}

/* A task object with the fields every stage of this sector shares. */
static cJSON *new_task(const wk_task *t, bool with_proof)
{
    cJSON *o = cJSON_CreateObject();
    if (o && with_proof && sp_json_add_i64(o, "proof", t->s->proof_id, NULL)) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

static bool add_str(cJSON *o, const char *k, const char *v)
{
    return o && sp_json_add_str(o, k, v, NULL) == SP_OK;
}

static bool add_hex(cJSON *o, const char *k, const uint8_t *v, size_t n)
{
    return o && sp_json_add_hex(o, k, v, n, NULL) == SP_OK;
}

static bool add_u64(cJSON *o, const char *k, uint64_t v)
{
    return o && sp_json_add_u64(o, k, v, NULL) == SP_OK;
}

static bool out_hex32(const cJSON *out, const char *key, uint8_t v[32], wk_step *st,
                      const char *stage)
{
    sp_err e;
    if (sp_json_get_hex32(out, -1, key, v, &e) == SP_OK)
        return true;
    wk_step_fail(st, WK_LEVEL_PERMANENT, "%s: the processor's answer lacks %s: %s", stage, key,
                 e.msg);
    return false;
}

/* Runs a stage; on failure fills *st and returns NULL (*code: the call's error code). */
static cJSON *stage_code(wk_task *t, wk_stage which, cJSON *task, wk_step *st, sp_code *code)
{
    cJSON *out = NULL;
    wk_level level;
    sp_err err;
    *code = SP_ENOMEM;
    if (!task) {
        wk_step_fail(st, WK_LEVEL_TEMPORARY, "%s: out of memory building the task",
                     wk_stage_name(which));
        return NULL;
    }
    sp_code rc = *code = wk_task_stage(t, which, task, &out, &level, &err);
    cJSON_Delete(task);
    if (rc != SP_OK) {
        const char *name = wk_stage_name(which);
        size_t n = strlen(name);
        bool named = !strncmp(err.msg, name, n) && err.msg[n] == ':';
        wk_step_fail(st, level == WK_LEVEL_NONE ? wk_stage_level(rc) : level, "%s%s%s",
                     named ? "" : name, named ? "" : ": ", err.msg);
        return NULL;
    }
    return out;
}

static cJSON *stage(wk_task *t, wk_stage which, cJSON *task, wk_step *st)
{
    sp_code code;
    return stage_code(t, which, task, st, &code);
}

static bool mkdirs(wk_task *t, wk_step *st)
{
    char dirs[4][1200];
    snprintf(dirs[0], sizeof dirs[0], "%s/unsealed", t->data);
    snprintf(dirs[1], sizeof dirs[1], "%s/sealed", t->data);
    snprintf(dirs[2], sizeof dirs[2], "%s", t->cache);
    snprintf(dirs[3], sizeof dirs[3], "%s/commit", t->data);
    for (int i = 0; i < 4; i++) {
        sp_err err;
        if (sp_mkdir_p(dirs[i], 0755, &err) != SP_OK) {
            wk_step_fail_err(st, WK_LEVEL_CRITICAL, &err, "preparing the location");
            return false;
        }
    }
    return true;
}

/* ---- Empty: allocate ---------------------------------------------------------------- */

static void handle_empty(wk_task *t, wk_step *st)
{
    const wk_sealing *sc = sealing(t);
    int proofs[16], np = 0;
    for (int i = 0; i < sc->nallowed_sizes && np < 16; i++) {
        int id = pf_seal_proof_for_size(sc->allowed_sizes[i]);
        if (id >= 0)
            proofs[np++] = id;
    }
    bool found = false;
    uint64_t miner = 0, number = 0;
    int proof = -1;
    sp_err err;
    wk_task_activity(t, "asking the manager for a sector");
    if (wk_mgr_allocate_sector(t->sh->mgr, sc->allowed_miners, sc->nallowed_miners, proofs, np,
                               &found, &miner, &number, &proof, &err) != SP_OK) {
        /* nothing is allocated yet, so this is only a delay (damocles does the same) */
        SP_WARN("thread: cannot allocate a sector: %s; asking again in %llums", err.msg,
                (unsigned long long)sc->recover_interval_ms);
        wk_step_idle(st, sc->recover_interval_ms);
        return;
    }
    if (!found) {
        wk_step_idle(st, sc->recover_interval_ms);
        return;
    }
    const pf_seal_proof_info *pi = pf_seal_proof(proof);
    wk_sector *s = t->s;
    s->miner = miner;
    s->number = number;
    s->proof_id = proof;
    s->sector_size = pi ? pi->sector_size : 0;
    char name[64];
    wk_sector_file_name(s, name, sizeof name);
    if (!pi) {
        /* the manager handed out a proof type this worker cannot seal: give it back */
        s->sector_size = 1;
        wk_step_fail(st, WK_LEVEL_ABORT, "%s: seal proof %d is not supported by this worker",
                     name, proof);
        return;
    }
    /* saved at once: the manager never hands this number out again */
    wk_step_event(st, WK_EV_ALLOCATE, "%s proof %d", name, proof);
}

/* ---- Allocated: deals --------------------------------------------------------------- */

static void handle_allocated(wk_task *t, wk_step *st)
{
    wk_sector *s = t->s;
    if (!mkdirs(t, st))
        return;
    s->npieces = 0;
    if (sealing(t)->enable_deals) {
        sp_err err;
        wk_task_activity(t, "acquiring deals");
        if (wk_mgr_acquire_deals(t->sh->mgr, s->miner, s->number, s->pieces, WK_MAX_PIECES,
                                 &s->npieces, &err) != SP_OK) {
            wk_step_fail_err(st, WK_LEVEL_NONE, &err, "acquiring deals");
            return;
        }
        for (int i = 0; i < s->npieces; i++) {
            pf_error pe;
            if (pf_commcid_decode(s->pieces[i].cid, PF_COMM_UNSEALED, s->pieces[i].comm_p, NULL,
                                  &pe) != PF_OK) {
                wk_step_fail(st, WK_LEVEL_PERMANENT, "deal %" PRIu64 ": piece CID %s: %s",
                             s->pieces[i].deal_id, s->pieces[i].cid, pe.msg);
                return;
            }
        }
    }
    if (s->npieces)
        wk_step_event(st, WK_EV_ACQUIRE_DEALS, "%d deal piece%s", s->npieces,
                      s->npieces == 1 ? "" : "s");
    else
        wk_step_event(st, WK_EV_ACQUIRE_DEALS, "committed capacity");
}

/* ---- DealsAcquired: fetch pieces, add them ------------------------------------------ */

/* Downloads a deal piece to <pieces>/<cid> (payload then zeros up to the piece size) and
 * checks its CommP; a file already there was checked before it got its name. */
static bool fetch_piece(wk_task *t, const wk_piece *p, char *path, size_t len, wk_step *st)
{
    char part[1400];
    sp_err err;
    snprintf(path, len, "%s/%s", t->pieces, p->cid);
    if (sp_file_size(path) == (int64_t)p->size)
        return true;
    if (sp_mkdir_p(t->pieces, 0755, &err) != SP_OK) {
        wk_step_fail_err(st, WK_LEVEL_CRITICAL, &err, "pieces directory");
        return false;
    }
    snprintf(part, sizeof part, "%s.part", path);
    char what[200];
    snprintf(what, sizeof what, "fetching piece %s (%" PRIu64 " bytes)", p->cid, p->payload_size);
    wk_task_activity(t, what);
    int fd = open(part, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        sp_fail_errno(&err, errno, "%s", part);
        wk_step_fail_err(st, WK_LEVEL_TEMPORARY, &err, NULL);
        return false;
    }
    uint8_t commp[32];
    uint64_t read_bytes = 0, padded = 0;
    pf_error pe;
    bool ok = false;
    if (wk_mgr_fetch_piece(t->sh->mgr, p->cid, fd, p->payload_size, &err) != SP_OK) {
        wk_step_fail_err(st, WK_LEVEL_NONE, &err, NULL);
    } else if (ftruncate(fd, (off_t)p->size) != 0 || lseek(fd, 0, SEEK_SET) != 0) {
        sp_fail_errno(&err, errno, "%s", part);
        wk_step_fail_err(st, WK_LEVEL_TEMPORARY, &err, NULL);
    } else if (pf_commp_fd(fd, PF_COMMP_TO_EOF, commp, &read_bytes, &padded, &pe) != PF_OK) {
        wk_step_fail(st, WK_LEVEL_TEMPORARY, "CommP of %s: %s", part, pe.msg);
    } else if (memcmp(commp, p->comm_p, 32) != 0 || padded != p->size / 127 * 128) {
        char got[65];
        sp_hex_encode(commp, 32, got);
        wk_step_fail(st, WK_LEVEL_TEMPORARY, "piece %s from the manager has CommP %s (padded "
                     "size %" PRIu64 "), not the deal's; the download is discarded and will be "
                     "fetched again", p->cid, got, padded);
    } else if (fsync(fd) != 0) {
        sp_fail_errno(&err, errno, "%s: fsync", part);
        wk_step_fail_err(st, WK_LEVEL_TEMPORARY, &err, NULL);
    } else {
        ok = true;
    }
    close(fd);
    if (!ok) {
        unlink(part);
        return false;
    }
    if (rename(part, path) != 0 || sp_fsync_dir(t->pieces, &err) != SP_OK) {
        sp_fail_errno(&err, errno, "rename %s", part);
        wk_step_fail_err(st, WK_LEVEL_TEMPORARY, &err, NULL);
        return false;
    }
    SP_INFO("piece %s fetched and verified (%" PRIu64 " bytes)", p->cid, p->payload_size);
    return true;
}

static void handle_deals_acquired(wk_task *t, wk_step *st)
{
    wk_sector *s = t->s;
    cJSON *task = new_task(t, true);
    cJSON *arr = task ? cJSON_AddArrayToObject(task, "pieces") : NULL;
    if (!add_str(task, "staged", t->staged) || !arr) {
        cJSON_Delete(task);
        task = NULL;
    }
    for (int i = 0; task && i < s->npieces; i++) {
        char path[1300];
        if (!fetch_piece(t, &s->pieces[i], path, sizeof path, st)) {
            cJSON_Delete(task);
            return;
        }
        cJSON *pj = cJSON_CreateObject();
        if (!add_str(pj, "file", path) || !add_u64(pj, "size", s->pieces[i].size) ||
            !add_hex(pj, "comm_p", s->pieces[i].comm_p, 32) || !cJSON_AddItemToArray(arr, pj)) {
            cJSON_Delete(pj);
            cJSON_Delete(task);
            task = NULL;
        }
    }
    cJSON *out = stage(t, WK_STAGE_ADD_PIECES, task, st);
    if (!out)
        return;
    cJSON_Delete(out);
    wk_step_event(st, WK_EV_ADD_PIECE, "%d piece%s written", s->npieces,
                  s->npieces == 1 ? "" : "s");
}

/* ---- PieceAdded: tree_d ---------------------------------------------------------------- */

static void handle_piece_added(wk_task *t, wk_step *st)
{
    wk_sector *s = t->s;
    pf_piece_info pi[WK_MAX_PIECES];
    for (int i = 0; i < s->npieces; i++) {
        memcpy(pi[i].comm_p, s->pieces[i].comm_p, 32);
        pi[i].size = s->pieces[i].size;
    }
    uint8_t want[32];
    pf_error pe;
    if (pf_comm_d(s->sector_size, pi, (size_t)s->npieces, want, &pe) != PF_OK) {
        wk_step_fail(st, WK_LEVEL_PERMANENT, "CommD of the deal pieces: %s", pe.msg);
        return;
    }
    cJSON *task = new_task(t, true);
    if (!add_str(task, "staged", t->staged) || !add_str(task, "cache", t->cache)) {
        cJSON_Delete(task);
        task = NULL;
    }
    cJSON *out = stage(t, WK_STAGE_TREE_D, task, st);
    if (!out)
        return;
    bool ok = out_hex32(out, "comm_d", s->comm_d, st, "tree_d");
    cJSON_Delete(out);
    if (!ok)
        return;
    if (memcmp(s->comm_d, want, 32) != 0) {
        char got[65], exp[65];
        sp_hex_encode(s->comm_d, 32, got);
        sp_hex_encode(want, 32, exp);
        wk_step_fail(st, WK_LEVEL_PERMANENT, "tree_d root %s is not the CommD %s of the sector's "
                     "pieces; the staged file %s is damaged (resume with --state DealsAcquired "
                     "to write it again)", got, exp, t->staged);
        return;
    }
    s->has_comm_d = true;
    char hex[65];
    sp_hex_encode(s->comm_d, 32, hex);
    wk_step_event(st, WK_EV_BUILD_TREE_D, "comm_d %s", hex);
}

/* ---- TreeDBuilt: ticket ---------------------------------------------------------------- */

static void handle_tree_d_built(wk_task *t, wk_step *st)
{
    wk_sector *s = t->s;
    sp_err err;
    wk_task_activity(t, "asking for the ticket");
    if (wk_mgr_assign_ticket(t->sh->mgr, s->miner, s->number, s->ticket, &s->ticket_epoch,
                             &err) != SP_OK) {
        wk_step_fail_err(st, WK_LEVEL_NONE, &err, "ticket");
        return;
    }
    s->has_ticket = true;
    wk_step_event(st, WK_EV_ASSIGN_TICKET, "ticket epoch %" PRId64, s->ticket_epoch);
}

/* ---- TicketAssigned: PC1 ---------------------------------------------------------------- */

/* The PC1 call sits behind this one function.  With batch = N on the pc1 processors the
 * call waits in the pool's batcher and runs inside a batch task (wk_batcher.h); the
 * answer is still this sector's own {pc1out} or its own error. */
static cJSON *pc1_call(wk_task *t, cJSON *task, wk_step *st)
{
    sp_code code;
    cJSON *out = stage_code(t, WK_STAGE_PC1, task, st, &code);
    /* left the batch queue because the thread pauses: nothing ran, nothing failed */
    if (!out && code == SP_ESTATE)
        wk_step_idle(st, 0);
    return out;
}

static void handle_ticket_assigned(wk_task *t, wk_step *st)
{
    wk_sector *s = t->s;
    uint8_t prover[32];
    prover_id(s, prover);
    cJSON *task = new_task(t, true);
    if (!add_str(task, "cache", t->cache) || !add_u64(task, "sector_id", s->number) ||
        !add_hex(task, "prover_id", prover, 32) || !add_hex(task, "ticket", s->ticket, 32) ||
        !add_hex(task, "comm_d", s->comm_d, 32) ||
        (t->sh->cfg->parent_cache && !add_str(task, "parent_cache", t->sh->cfg->parent_cache))) {
        cJSON_Delete(task);
        task = NULL;
    }
    cJSON *out = pc1_call(t, task, st);
    if (!out)
        return;
    const char *hex;
    sp_err e;
    if (sp_json_get_str(out, -1, "pc1out", 2, 2 * sizeof s->pc1out, &hex, &e) != SP_OK ||
        strlen(hex) % 2 || sp_hex_decode(hex, s->pc1out, strlen(hex) / 2, &e) != SP_OK) {
        cJSON_Delete(out);
        wk_step_fail(st, WK_LEVEL_PERMANENT, "pc1: the processor's answer has no valid pc1out");
        return;
    }
    s->pc1out_len = strlen(hex) / 2;
    s->has_pc1 = true;
    cJSON_Delete(out);
    wk_step_event(st, WK_EV_PC1, "pc1out %zu bytes", s->pc1out_len);
}

/* ---- PC1Done: PC2 ------------------------------------------------------------------------ */

static void handle_pc1_done(wk_task *t, wk_step *st)
{
    wk_sector *s = t->s;
    cJSON *task = new_task(t, false);
    if (!add_hex(task, "pc1out", s->pc1out, s->pc1out_len) || !add_str(task, "cache", t->cache) ||
        !add_str(task, "staged", t->staged) || !add_str(task, "sealed", t->sealed)) {
        cJSON_Delete(task);
        task = NULL;
    }
    cJSON *out = stage(t, WK_STAGE_PC2, task, st);
    if (!out)
        return;
    bool ok = out_hex32(out, "comm_c", s->comm_c, st, "pc2") &&
              out_hex32(out, "comm_r_last", s->comm_r_last, st, "pc2") &&
              out_hex32(out, "comm_r", s->comm_r, st, "pc2");
    cJSON_Delete(out);
    if (!ok)
        return;
    s->has_pc2 = true;
    char hex[65];
    sp_hex_encode(s->comm_r, 32, hex);
    wk_step_event(st, WK_EV_PC2, "comm_r %s", hex);
}

/* ---- submissions and polls --------------------------------------------------------------- */

static void submit_result(wk_step *st, const wk_mgr_answer *a, wk_event ok_event,
                          const char *what)
{
    switch (a->code) {
    case WK_SUBMIT_ACCEPTED:
    case WK_SUBMIT_DUPLICATE:
        wk_step_event(st, ok_event, "%s %s", what,
                      a->code == WK_SUBMIT_ACCEPTED ? "accepted" : "already submitted");
        return;
    case WK_SUBMIT_REJECTED:
        wk_step_fail(st, WK_LEVEL_ABORT, "%s rejected by the manager: %s", what, a->desc);
        return;
    case WK_SUBMIT_MISMATCHED:
        wk_step_fail(st, WK_LEVEL_PERMANENT, "%s does not match what was submitted before: %s",
                     what, a->desc);
        return;
    case WK_SUBMIT_FILES_MISSED:
        wk_step_fail(st, WK_LEVEL_PERMANENT, "%s: the manager misses files: %s", what, a->desc);
        return;
    default:
        wk_step_fail(st, WK_LEVEL_PERMANENT, "%s: unknown answer %d from the manager: %s", what,
                     a->code, a->desc);
    }
}

static void handle_pc2_done(wk_task *t, wk_step *st)
{
    wk_sector *s = t->s;
    wk_mgr_answer a;
    sp_err err;
    wk_task_activity(t, "submitting the precommit");
    if (wk_mgr_submit_precommit(t->sh->mgr, s, s->pc_resubmit, &a, &err) != SP_OK) {
        wk_step_fail_err(st, WK_LEVEL_NONE, &err, "precommit");
        return;
    }
    submit_result(st, &a, WK_EV_SUBMIT_PC, "precommit");
    if (st->kind == WK_STEP_EVENT)
        s->pc_resubmit = false;
}

/* True when the manager has no precommit for a sector this worker submitted one for: its
 * database was restored from a backup older than the submission.  *st is filled when the
 * question itself failed. */
static bool precommit_lost(wk_task *t, bool *asked, wk_step *st)
{
    wk_mgr_answer a;
    sp_err err;
    *asked = false;
    if (wk_mgr_poll_precommit(t->sh->mgr, t->s->miner, t->s->number, &a, &err) != SP_OK) {
        wk_step_fail_err(st, WK_LEVEL_NONE, &err, "precommit state");
        return false;
    }
    *asked = true;
    return a.code == WK_ONCHAIN_NOT_FOUND;
}

/* The manager lost the precommit: submit it again (reset) and redo what follows it. */
static void resubmit_lost_precommit(wk_task *t, const char *why, wk_step *st)
{
    SP_WARN("s-t0%" PRIu64 "-%" PRIu64 ": the manager has no precommit for this sector any "
            "more (%s; its database was restored from an older backup?); submitting the "
            "precommit again and redoing the steps after it", t->s->miner, t->s->number, why);
    t->s->pc_resubmit = true;
    wk_step_event(st, WK_EV_RESUBMIT_PC, "the manager lost the precommit: %s", why);
}

/* Polls an on-chain state until it lands.  Returns true with *landed, or false with *st
 * filled (failure, resubmit event, or idle when the wait was cut short). */
typedef sp_code (*poll_fn)(wk_mgr *, uint64_t, uint64_t, wk_mgr_answer *, sp_err *);

static bool poll_until_landed(wk_task *t, poll_fn poll, const char *what, wk_event resubmit,
                              bool *resubmit_flag, wk_step *st)
{
    wk_sector *s = t->s;
    const wk_sealing *sc = sealing(t);
    for (;;) {
        wk_mgr_answer a;
        sp_err err;
        char activity[128];
        snprintf(activity, sizeof activity, "waiting for the %s to land", what);
        wk_task_activity(t, activity);
        if (poll(t->sh->mgr, s->miner, s->number, &a, &err) != SP_OK) {
            wk_step_fail_err(st, WK_LEVEL_NONE, &err, what);
            return false;
        }
        switch (a.code) {
        case WK_ONCHAIN_LANDED:
            return true;
        case WK_ONCHAIN_PENDING:
        case WK_ONCHAIN_PACKED:
            break;
        case WK_ONCHAIN_FAILED:
            SP_WARN("%s of s-t0%" PRIu64 "-%" PRIu64 " failed on chain (%s); submitting again", what,
                    s->miner, s->number, a.desc);
            if (!wk_task_wait(t, sc->recover_interval_ms)) {
                wk_step_idle(st, 0);
                return false;
            }
            *resubmit_flag = true;
            wk_step_event(st, resubmit, "%s failed on chain: %s", what, a.desc);
            return false;
        case WK_ONCHAIN_SHOULD_ABORT:
            wk_step_fail(st, WK_LEVEL_ABORT, "the %s will not land: %s", what, a.desc);
            return false;
        case WK_ONCHAIN_NOT_FOUND: {
            /* submitted by this worker but unknown to the manager: lost in a restore */
            bool asked = true, lost = resubmit == WK_EV_RESUBMIT_PC || precommit_lost(t, &asked, st);
            if (!asked)
                return false;
            if (lost) {
                resubmit_lost_precommit(t, a.desc[0] ? a.desc : "not found", st);
                return false;
            }
            SP_WARN("s-t0%" PRIu64 "-%" PRIu64 ": the manager has no %s for this sector (%s); "
                    "submitting it again", s->miner, s->number, what, a.desc);
            *resubmit_flag = true;
            wk_step_event(st, resubmit, "the manager has no %s: %s", what, a.desc);
            return false;
        }
        default:
            wk_step_fail(st, WK_LEVEL_PERMANENT, "the %s failed for good (state %d): %s", what,
                         a.code, a.desc);
            return false;
        }
        if (!wk_task_wait(t, sc->rpc_polling_interval_ms)) {
            wk_step_idle(st, 0);
            return false;
        }
    }
}

static void handle_pc_submitted(wk_task *t, wk_step *st)
{
    if (poll_until_landed(t, wk_mgr_poll_precommit, "precommit", WK_EV_RESUBMIT_PC,
                          &t->s->pc_resubmit, st))
        wk_step_event(st, WK_EV_CHECK_PC, "precommit landed");
}

/* ---- PCLanded: persist -------------------------------------------------------------------- */

static const wk_attached_cfg *attached(const wk_task *t, const char *name)
{
    for (int i = 0; i < t->sh->cfg->nattached; i++)
        if (!strcmp(t->sh->cfg->attached[i].name, name))
            return &t->sh->cfg->attached[i];
    return NULL;
}

/* Copies the sealed file and the proving cache into attached store `store` (finalize.c);
 * false with *st filled on failure. */
static bool copy_to_store(wk_task *t, const char *store, wk_persist_result *res, wk_step *st)
{
    const wk_attached_cfg *a = attached(t, store);
    if (!a) {
        wk_step_fail(st, WK_LEVEL_PERMANENT, "the manager reserved store \"%s\", which is not "
                     "attached to this worker", store);
        return false;
    }
    char name[64], what[300];
    sp_err err;
    wk_sector_file_name(t->s, name, sizeof name);
    snprintf(what, sizeof what, "copying to store %s (%s)", store, a->location);
    wk_task_activity(t, what);
    if (wk_persist_copy(t->sealed, t->cache, store, a->location, name, wk_task_cancel_flag(t),
                        res, &err) != SP_OK) {
        wk_step_fail_err(st, err.code == SP_ENOTFOUND ? WK_LEVEL_PERMANENT : WK_LEVEL_TEMPORARY,
                         &err, "persist");
        return false;
    }
    return true;
}

static void handle_pc_landed(wk_task *t, wk_step *st)
{
    wk_sector *s = t->s;
    const wk_config *cfg = t->sh->cfg;
    const char *cands[64];
    int n = 0;
    for (int i = 0; i < cfg->nattached && n < 64; i++)
        if (!cfg->attached[i].readonly)
            cands[n++] = cfg->attached[i].name;
    if (!n) {
        wk_step_fail(st, WK_LEVEL_CRITICAL, "no writable attached store to persist the sector "
                     "to; add one under attached in the config");
        return;
    }
    uint64_t size = s->sector_size >= (32ULL << 30) ? s->sector_size / 50 * 51 : 2 * s->sector_size;
    bool found = false;
    char store[WK_NAME_MAX];
    sp_err err;
    wk_task_activity(t, "reserving space in a persist store");
    if (wk_mgr_store_reserve(t->sh->mgr, s->miner, s->number, size, cands, n, &found, store,
                             sizeof store, &err) != SP_OK) {
        wk_step_fail_err(st, WK_LEVEL_NONE, &err, "reserving store space");
        return;
    }
    if (!found) {
        SP_INFO("no persist store has room for s-t0%" PRIu64 "-%" PRIu64 " yet; asking again in "
                "%llums", s->miner, s->number, (unsigned long long)sealing(t)->rpc_polling_interval_ms);
        wk_step_idle(st, sealing(t)->rpc_polling_interval_ms);
        return;
    }
    wk_persist_result res;
    if (!copy_to_store(t, store, &res, st))
        return;
    snprintf(s->persist_store, sizeof s->persist_store, "%s", store);
    wk_step_event(st, WK_EV_PERSIST, "%d files, %" PRIu64 " bytes in store %s", res.files,
                  res.bytes, store);
}

static void handle_persisted(wk_task *t, wk_step *st)
{
    wk_sector *s = t->s;
    bool ok = false;
    sp_err err;
    wk_task_activity(t, "telling the manager where the sector is");
    if (wk_mgr_submit_persisted(t->sh->mgr, s->miner, s->number, s->persist_store, &ok, &err)) {
        wk_step_fail_err(st, WK_LEVEL_NONE, &err, "submitting the persisted files");
        return;
    }
    if (!ok) {
        /* docs/rpc.md: files missing or of the wrong size; copy again and resubmit, once */
        SP_WARN("s-t0%" PRIu64 "-%" PRIu64 ": the manager did not accept the files in store %s; "
                "copying them again", s->miner, s->number, s->persist_store);
        wk_persist_result res;
        if (!copy_to_store(t, s->persist_store, &res, st))
            return;
        if (wk_mgr_submit_persisted(t->sh->mgr, s->miner, s->number, s->persist_store, &ok,
                                    &err)) {
            wk_step_fail_err(st, WK_LEVEL_NONE, &err, "submitting the persisted files");
            return;
        }
    }
    if (!ok) {
        wk_step_fail(st, WK_LEVEL_PERMANENT, "the manager did not accept the files in store %s "
                     "even after a second copy (its log says why; is the store mounted at the "
                     "same place on both machines?)", s->persist_store);
        return;
    }
    wk_step_event(st, WK_EV_SUBMIT_PERSISTANCE, "store %s", s->persist_store);
}

/* ---- PersistanceSubmitted: seed ----------------------------------------------------------- */

static void handle_persistance_submitted(wk_task *t, wk_step *st)
{
    wk_sector *s = t->s;
    uint64_t poll = sealing(t)->rpc_polling_interval_ms;
    for (;;) {
        bool wait = true;
        uint64_t delay = 0;
        sp_err err;
        wk_task_activity(t, "waiting for the seed");
        if (wk_mgr_wait_seed(t->sh->mgr, s->miner, s->number, s->proof_id, &wait, &delay, s->seed,
                             &s->seed_epoch, &err) != SP_OK) {
            bool asked = false;
            if (err.code == SP_ESTATE && precommit_lost(t, &asked, st)) {
                resubmit_lost_precommit(t, err.msg, st);
                return;
            }
            if (err.code != SP_ESTATE || asked)
                wk_step_fail_err(st, WK_LEVEL_NONE, &err, "seed");
            return;
        }
        if (!wait)
            break;
        uint64_t ms = delay * 1000;
        if (ms == 0 || ms > poll)
            ms = poll;
        if (!wk_task_wait(t, ms)) {
            wk_step_idle(st, 0);
            return;
        }
    }
    s->has_seed = true;
    wk_step_event(st, WK_EV_ASSIGN_SEED, "seed epoch %" PRId64, s->seed_epoch);
}

/* ---- SeedAssigned: C1, C1Done: C2 ---------------------------------------------------------- */

static bool read_len_hash(const cJSON *out, uint64_t *len, uint8_t hash[32], wk_step *st,
                          const char *stg)
{
    sp_err e;
    if (sp_json_get_u64(out, -1, "len", 1, UINT64_MAX, len, &e) ||
        sp_json_get_hex32(out, -1, "sha256", hash, &e)) {
        wk_step_fail(st, WK_LEVEL_PERMANENT, "%s: bad answer: %s", stg, e.msg);
        return false;
    }
    return true;
}

static void handle_seed_assigned(wk_task *t, wk_step *st)
{
    wk_sector *s = t->s;
    uint8_t prover[32];
    prover_id(s, prover);
    cJSON *task = new_task(t, true);
    cJSON *arr = task ? cJSON_AddArrayToObject(task, "pieces") : NULL;
    bool ok = arr && add_str(task, "cache", t->cache) && add_str(task, "sealed", t->sealed) &&
              add_str(task, "out", t->c1out) && add_u64(task, "sector_id", s->number) &&
              add_hex(task, "prover_id", prover, 32) && add_hex(task, "ticket", s->ticket, 32) &&
              add_hex(task, "seed", s->seed, 32) && add_hex(task, "comm_d", s->comm_d, 32) &&
              add_hex(task, "comm_r", s->comm_r, 32);
    for (int i = 0; ok && i < s->npieces; i++) {
        cJSON *pj = cJSON_CreateObject();
        ok = add_hex(pj, "comm_p", s->pieces[i].comm_p, 32) && add_u64(pj, "size", s->pieces[i].size) &&
             cJSON_AddItemToArray(arr, pj);
        if (!ok)
            cJSON_Delete(pj);
    }
    if (!ok) {
        cJSON_Delete(task);
        task = NULL;
    }
    cJSON *out = stage(t, WK_STAGE_C1, task, st);
    if (!out)
        return;
    ok = read_len_hash(out, &s->c1_len, s->c1_hash, st, "c1");
    cJSON_Delete(out);
    if (ok)
        wk_step_event(st, WK_EV_C1, "c1 output %" PRIu64 " bytes", s->c1_len);
}

static void handle_c1_done(wk_task *t, wk_step *st)
{
    wk_sector *s = t->s;
    uint8_t prover[32];
    prover_id(s, prover);
    if (sp_file_size(t->c1out) != (int64_t)s->c1_len) {
        wk_step_fail(st, WK_LEVEL_PERMANENT, "%s is missing or not %" PRIu64 " bytes; resume with "
                     "--state SeedAssigned to run C1 again", t->c1out, s->c1_len);
        return;
    }
    cJSON *task = new_task(t, false);
    if (!add_str(task, "c1", t->c1out) || !add_str(task, "out", t->proof) ||
        !add_u64(task, "sector_id", s->number) || !add_hex(task, "prover_id", prover, 32)) {
        cJSON_Delete(task);
        task = NULL;
    }
    cJSON *out = stage(t, WK_STAGE_C2, task, st);
    if (!out)
        return;
    bool ok = read_len_hash(out, &s->proof_len, s->proof_hash, st, "c2");
    cJSON_Delete(out);
    if (ok)
        wk_step_event(st, WK_EV_C2, "proof %" PRIu64 " bytes", s->proof_len);
}

/* ---- C2Done: submit the proof, ProofSubmitted: wait for it -------------------------------- */

static void handle_c2_done(wk_task *t, wk_step *st)
{
    wk_sector *s = t->s;
    char *proof = NULL;
    size_t len = 0;
    sp_err err;
    if (sp_read_file(t->proof, 1u << 30, &proof, &len, &err) != SP_OK) {
        wk_step_fail(st, WK_LEVEL_PERMANENT, "%s; resume with --state C1Done to run C2 again",
                     err.msg);
        return;
    }
    uint8_t h[32];
    pf_sha256(proof, len, h);
    if (len != s->proof_len || memcmp(h, s->proof_hash, 32) != 0) {
        free(proof);
        wk_step_fail(st, WK_LEVEL_PERMANENT, "%s does not hold the proof C2 made (size or "
                     "SHA-256 differ); resume with --state C1Done to run C2 again", t->proof);
        return;
    }
    wk_mgr_answer a;
    wk_task_activity(t, "submitting the proof");
    sp_code rc = wk_mgr_submit_proof(t->sh->mgr, s->miner, s->number, (const uint8_t *)proof, len,
                                     s->proof_resubmit, &a, &err);
    free(proof);
    if (rc != SP_OK) {
        wk_step_fail_err(st, WK_LEVEL_NONE, &err, "proof");
        return;
    }
    if (a.code == WK_SUBMIT_REJECTED) {
        /* rejected for want of a landed precommit the manager forgot: not the sector's fault */
        bool asked = false;
        wk_step probe;
        if (precommit_lost(t, &asked, &probe)) {
            resubmit_lost_precommit(t, a.desc, st);
            return;
        }
        if (!asked) {
            *st = probe;
            return;
        }
    }
    submit_result(st, &a, WK_EV_SUBMIT_PROOF, "proof");
    if (st->kind == WK_STEP_EVENT)
        s->proof_resubmit = false;
}

static void handle_proof_submitted(wk_task *t, wk_step *st)
{
    if (poll_until_landed(t, wk_mgr_poll_proof, "proof", WK_EV_RESUBMIT_PROOF,
                          &t->s->proof_resubmit, st))
        wk_step_event(st, WK_EV_FINISH, "proof landed");
}

/* ---- dispatch ---------------------------------------------------------------------------- */

static void sealer_exec(wk_task *t, wk_step *st)
{
    typedef void (*handler)(wk_task *, wk_step *);
    static const handler handlers[WK_ST_COUNT] = {
        [WK_ST_EMPTY] = handle_empty,
        [WK_ST_ALLOCATED] = handle_allocated,
        [WK_ST_DEALS_ACQUIRED] = handle_deals_acquired,
        [WK_ST_PIECE_ADDED] = handle_piece_added,
        [WK_ST_TREE_D_BUILT] = handle_tree_d_built,
        [WK_ST_TICKET_ASSIGNED] = handle_ticket_assigned,
        [WK_ST_PC1_DONE] = handle_pc1_done,
        [WK_ST_PC2_DONE] = handle_pc2_done,
        [WK_ST_PC_SUBMITTED] = handle_pc_submitted,
        [WK_ST_PC_LANDED] = handle_pc_landed,
        [WK_ST_PERSISTED] = handle_persisted,
        [WK_ST_PERSISTANCE_SUBMITTED] = handle_persistance_submitted,
        [WK_ST_SEED_ASSIGNED] = handle_seed_assigned,
        [WK_ST_C1_DONE] = handle_c1_done,
        [WK_ST_C2_DONE] = handle_c2_done,
        [WK_ST_PROOF_SUBMITTED] = handle_proof_submitted,
    };
    wk_state s = t->s->state;
    handler h = (unsigned)s < WK_ST_COUNT ? handlers[s] : NULL;
    if (!h) {
        wk_step_fail(st, WK_LEVEL_CRITICAL, "the sealer plan has no handler for state %s",
                     wk_state_name(s));
        return;
    }
    h(t, st);
}

const wk_planner wk_planner_sealer = { .name = "sealer", .plan = WK_PLAN_SEALER,
                                       .exec = sealer_exec, .reports = true };
