/* planner_unseal.c — the unseal plan's handlers (issue 8; docs/rpc.md "Unseal tasks"): a
 * thread with plan = "unseal" recovers a deal piece's bytes from a sealed sector when the
 * manager has no copy left to serve retrievals from.
 *
 *   Empty      Venus.AllocateUnsealSector; the task (sector, piece, unpadded range, the
 *              store holding the sealed sector, ticket, CommD) is saved in meta.db
 *   Allocated  the unseal stage over <store>/sealed/s-t0M-N and <store>/cache/s-t0M-N,
 *              the store found by its name among the attached stores, else at the path
 *              Venus.StoreBasicInfo gives if that is a directory here; the bytes go to
 *              <location>/data/unsealed/s-t0M-N
 *   Unsealed   Venus.AcquireUnsealDest with the writable attached stores, a verified copy
 *              to <store>/unsealed/<piece CID> on this machine's mount of it, then
 *              Venus.AchieveUnsealSector("")
 *   Finished   the location is cleaned (nothing is reported: the sector itself is Proving
 *              and the manager tracks the task)
 * A task this worker cannot do (sealed files missing, store not reachable here, unseal
 * failing after its retries) is given back with Venus.AchieveUnsealSector(<the error>):
 * the manager queues it again and fails it for good after a few attempts.  Transitions are
 * not reported with ReportState: that would overwrite the state of a Proving sector. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "sealproofs.h"
#include "sp_fs.h"
#include "sp_json.h"
#include "sp_log.h"
#include "wk_finalize.h"
#include "wk_mgr.h"
#include "wk_stages.h"
#include "wk_thread.h"

/* Where store `name` is on this machine: its attached location, else the manager's path
 * for it when that is a directory here.  *st is filled on failure. */
static bool store_root(wk_task *t, const char *name, char *root, size_t len, wk_step *st)
{
    const wk_config *cfg = t->sh->cfg;
    for (int i = 0; i < cfg->nattached; i++)
        if (!strcmp(cfg->attached[i].name, name)) {
            snprintf(root, len, "%s", cfg->attached[i].location);
            return true;
        }
    bool found = false, ro = false;
    sp_err err;
    if (wk_mgr_store_info(t->sh->mgr, name, &found, root, len, &ro, &err) != SP_OK) {
        wk_step_fail_err(st, WK_LEVEL_NONE, &err, "store info");
        return false;
    }
    if (!found) {
        wk_step_fail(st, WK_LEVEL_PERMANENT, "the manager does not know store \"%s\"", name);
        return false;
    }
    if (!sp_is_dir(root)) {
        wk_step_fail(st, WK_LEVEL_PERMANENT, "store \"%s\" is not attached to this worker and its "
                     "manager path %s is not a directory here; attach it (attached in the "
                     "worker's config) to unseal from or to it", name, root);
        return false;
    }
    return true;
}

/* ---- Empty: take a task -------------------------------------------------------------- */

static void handle_empty(wk_task *t, wk_step *st)
{
    const wk_sealing *sc = &t->tcfg->sealing;
    wk_mgr_unseal_task u;
    bool found = false;
    sp_err err;
    wk_task_activity(t, "asking the manager for an unseal task");
    if (wk_mgr_allocate_unseal(t->sh->mgr, sc->allowed_miners, sc->nallowed_miners, &found, &u,
                               &err) != SP_OK) {
        /* nothing is taken yet, so this is only a delay */
        SP_WARN("unseal thread: cannot ask for a task: %s; asking again in %llums", err.msg,
                (unsigned long long)sc->recover_interval_ms);
        wk_step_idle(st, sc->recover_interval_ms);
        return;
    }
    if (!found) {
        wk_step_idle(st, sc->rpc_polling_interval_ms);
        return;
    }
    wk_sector *s = t->s;
    const pf_seal_proof_info *pi = pf_seal_proof(u.proof_id);
    s->miner = u.miner;
    s->number = u.number;
    s->proof_id = u.proof_id;
    s->sector_size = pi ? pi->sector_size : 1;
    memcpy(s->ticket, u.ticket, 32);
    s->ticket_epoch = u.ticket_epoch;
    s->has_ticket = true;
    memcpy(s->comm_d, u.comm_d, 32);
    s->has_comm_d = true;
    s->unseal_task = u.task_id;
    snprintf(s->unseal_piece, sizeof s->unseal_piece, "%s", u.piece);
    s->unseal_offset = u.offset;
    s->unseal_size = u.size;
    snprintf(s->unseal_access, sizeof s->unseal_access, "%s", u.access);
    char name[64];
    wk_sector_file_name(s, name, sizeof name);
    if (!pi) {
        wk_step_fail(st, WK_LEVEL_ABORT, "%s: seal proof %d is not supported by this worker", name,
                     u.proof_id);
        return;
    }
    if (u.offset > pi->sector_size / 128 * 127 || u.size > pi->sector_size / 128 * 127 - u.offset) {
        wk_step_fail(st, WK_LEVEL_ABORT, "%s: the range %" PRIu64 "+%" PRIu64 " is not inside a "
                     "sector of %" PRIu64 " bytes", name, u.offset, u.size, pi->sector_size);
        return;
    }
    /* saved at once: the task is this worker's until it achieves or gives it back */
    wk_step_event(st, WK_EV_ALLOCATE, "task %" PRIu64 ": piece %s (%" PRIu64 " bytes at %" PRIu64
                  ") of %s in store %s", u.task_id, u.piece, u.size, u.offset, name, u.access);
}

/* ---- Allocated: unseal ----------------------------------------------------------------- */

static void handle_allocated(wk_task *t, wk_step *st)
{
    wk_sector *s = t->s;
    char root[1024], name[64], sealed[1200], cache[1200], dir[1100];
    sp_err err;
    if (!store_root(t, s->unseal_access, root, sizeof root, st))
        return;
    wk_sector_file_name(s, name, sizeof name);
    snprintf(sealed, sizeof sealed, "%s/sealed/%s", root, name);
    snprintf(cache, sizeof cache, "%s/cache/%s", root, name);
    if (sp_file_size(sealed) != (int64_t)s->sector_size || !sp_is_dir(cache)) {
        wk_step_fail(st, WK_LEVEL_PERMANENT, "store \"%s\" (%s) has no %s%s; the sealed sector "
                     "is not where the manager says", s->unseal_access, root,
                     sp_is_dir(cache) ? sealed : cache,
                     sp_is_dir(cache) ? " of the sector's size" : "");
        return;
    }
    snprintf(dir, sizeof dir, "%s/unsealed", t->data);
    if (sp_mkdir_p(dir, 0755, &err) != SP_OK) {
        wk_step_fail_err(st, WK_LEVEL_CRITICAL, &err, "preparing the location");
        return;
    }
    uint8_t prover[32];
    pf_prover_id_from_actor(s->miner, prover);
    cJSON *task = cJSON_CreateObject();
    if (!task || sp_json_add_i64(task, "proof", s->proof_id, NULL) ||
        sp_json_add_str(task, "cache", cache, NULL) || sp_json_add_str(task, "sealed", sealed, NULL) ||
        sp_json_add_u64(task, "sector_id", s->number, NULL) ||
        sp_json_add_hex(task, "prover_id", prover, 32, NULL) ||
        sp_json_add_hex(task, "ticket", s->ticket, 32, NULL) ||
        sp_json_add_hex(task, "comm_d", s->comm_d, 32, NULL) ||
        sp_json_add_u64(task, "offset", s->unseal_offset, NULL) ||
        sp_json_add_u64(task, "length", s->unseal_size, NULL) ||
        sp_json_add_str(task, "out", t->staged, NULL)) {
        cJSON_Delete(task);
        wk_step_fail(st, WK_LEVEL_TEMPORARY, "unseal: out of memory building the task");
        return;
    }
    cJSON *out = NULL;
    wk_level level;
    sp_code rc = wk_task_stage(t, WK_STAGE_UNSEAL, task, &out, &level, &err);
    cJSON_Delete(task);
    cJSON_Delete(out);
    if (rc != SP_OK) {
        wk_step_fail(st, level == WK_LEVEL_NONE ? wk_stage_level(rc) : level, "unseal: %s",
                     err.msg);
        return;
    }
    if (sp_file_size(t->staged) != (int64_t)s->unseal_size) {
        wk_step_fail(st, WK_LEVEL_TEMPORARY, "unseal: %s is not %" PRIu64 " bytes after the stage",
                     t->staged, s->unseal_size);
        return;
    }
    wk_step_event(st, WK_EV_UNSEAL, "%" PRIu64 " bytes of piece %s", s->unseal_size,
                  s->unseal_piece);
}

/* ---- Unsealed: deliver ------------------------------------------------------------------ */

static void handle_unsealed(wk_task *t, wk_step *st)
{
    wk_sector *s = t->s;
    const wk_config *cfg = t->sh->cfg;
    const char *cands[64];
    int n = 0;
    for (int i = 0; i < cfg->nattached && n < 64; i++)
        if (!cfg->attached[i].readonly)
            cands[n++] = cfg->attached[i].name;
    sp_err err;
    char store[WK_NAME_MAX], root[1024], rel[WK_CID_MAX + 16];
    if (sp_file_size(t->staged) != (int64_t)s->unseal_size) {
        wk_step_fail(st, WK_LEVEL_PERMANENT, "%s is missing or not %" PRIu64 " bytes; resume with "
                     "--state Allocated to unseal again", t->staged, s->unseal_size);
        return;
    }
    wk_task_activity(t, "asking where the unsealed data goes");
    if (wk_mgr_acquire_unseal_dest(t->sh->mgr, s->miner, s->number, s->unseal_piece, cands, n,
                                   store, sizeof store, &err) != SP_OK) {
        wk_step_fail_err(st, err.code == SP_ESTATE ? WK_LEVEL_ABORT : WK_LEVEL_NONE, &err,
                         "unseal destination");
        return;
    }
    snprintf(s->unseal_dest, sizeof s->unseal_dest, "%s", store);
    if (!store_root(t, store, root, sizeof root, st))
        return;
    snprintf(rel, sizeof rel, "unsealed/%s", s->unseal_piece);
    char what[1300];
    snprintf(what, sizeof what, "copying the unsealed piece to store %s (%s)", store, root);
    wk_task_activity(t, what);
    uint64_t bytes = 0;
    if (wk_copy_into_store(t->staged, store, root, rel, wk_task_cancel_flag(t), &bytes, &err) !=
        SP_OK) {
        wk_step_fail_err(st, WK_LEVEL_TEMPORARY, &err, "delivering the unsealed piece");
        return;
    }
    wk_task_activity(t, "telling the manager the data is in place");
    if (wk_mgr_achieve_unseal(t->sh->mgr, s->miner, s->number, s->unseal_piece, "", &err) !=
        SP_OK) {
        /* the task is gone (handed out again after its timeout): nothing left to do here */
        wk_step_fail_err(st, err.code == SP_ESTATE || err.code == SP_ENOTFOUND ? WK_LEVEL_ABORT
                                                                               : WK_LEVEL_NONE,
                         &err, "achieving the unseal task");
        return;
    }
    SP_INFO("unseal task %" PRIu64 ": piece %s (%" PRIu64 " bytes) delivered to store %s",
            s->unseal_task, s->unseal_piece, bytes, store);
    wk_step_event(st, WK_EV_UPLOAD_PIECE_DONE, "store %s", store);
}

static void unseal_exec(wk_task *t, wk_step *st)
{
    switch (t->s->state) {
    case WK_ST_EMPTY:
        handle_empty(t, st);
        return;
    case WK_ST_ALLOCATED:
        handle_allocated(t, st);
        return;
    case WK_ST_UNSEALED:
        handle_unsealed(t, st);
        return;
    default:
        wk_step_fail(st, WK_LEVEL_CRITICAL, "the unseal plan has no handler for state %s",
                     wk_state_name(t->s->state));
    }
}

/* Gives the task back with the error, so that the manager queues it again. */
static sp_code unseal_give_up(const wk_shared *sh, const wk_sector *s, const char *reason,
                              sp_err *err)
{
    if (!s->unseal_piece[0] || !sh->mgr)
        return SP_OK;
    return wk_mgr_achieve_unseal(sh->mgr, s->miner, s->number, s->unseal_piece,
                                 reason && *reason ? reason : "given up by the worker", err);
}

const wk_planner wk_planner_unseal = { .name = "unseal", .plan = WK_PLAN_UNSEAL,
                                       .exec = unseal_exec, .reports = false,
                                       .give_up = unseal_give_up, .give_up_on_failure = true };
