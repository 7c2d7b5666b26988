/* chain.c — the local chain's clock and randomness (see sm_chain.h for the formulas). */
#include "sm_chain.h"

#include <errno.h>
#include <string.h>
#include <sys/random.h>

#include "sealproofs.h"
#include "sp_fs.h"

void sm_chain_params_default(sm_chain_params *p)
{
    p->block_ms = 30000;
    p->ticket_lookback = 900;
    p->max_ticket_age = 2880 + 900;
    p->precommit_landing = 1;
    p->challenge_delay = 150;
    p->seed_confidence = 6;
    p->proof_landing = 1;
    p->max_prove_duration = 30 * 2880 + 150;
}

static void be64(uint8_t *out, uint64_t v)
{
    for (int i = 7; i >= 0; i--) {
        out[i] = (uint8_t)v;
        v >>= 8;
    }
}

size_t sm_chain_entropy(uint64_t actor, uint8_t out[12])
{
    uint8_t addr[11];
    size_t n = 0;
    addr[n++] = 0x00; /* protocol 0: ID address */
    do {
        uint8_t b = actor & 0x7f;
        actor >>= 7;
        addr[n++] = (uint8_t)(b | (actor ? 0x80 : 0));
    } while (actor);
    out[0] = (uint8_t)(0x40 | n); /* CBOR major type 2, length < 24 */
    memcpy(out + 1, addr, n);
    return n + 1;
}

void sm_chain_digest(const sm_chain *c, int64_t epoch, uint8_t out[32])
{
    uint8_t buf[40];
    memcpy(buf, c->seed, 32);
    be64(buf + 32, (uint64_t)epoch);
    pf_blake2b(out, 32, NULL, 0, buf, sizeof buf);
}

void sm_chain_draw(const uint8_t digest[32], int64_t dst, int64_t epoch, const uint8_t *entropy,
                   size_t entropy_len, uint8_t out[32])
{
    uint8_t buf[8 + 32 + 8 + 64];
    size_t n = 0;
    be64(buf, (uint64_t)dst);
    n += 8;
    memcpy(buf + n, digest, 32);
    n += 32;
    be64(buf + n, (uint64_t)epoch);
    n += 8;
    if (entropy_len > 64)
        entropy_len = 64;
    memcpy(buf + n, entropy, entropy_len);
    n += entropy_len;
    pf_blake2b(out, 32, NULL, 0, buf, n);
}

void sm_chain_randomness(const sm_chain *c, int64_t dst, int64_t epoch, uint64_t actor,
                         uint8_t out[32])
{
    uint8_t digest[32], ent[12];
    sm_chain_digest(c, epoch, digest);
    size_t n = sm_chain_entropy(actor, ent);
    sm_chain_draw(digest, dst, epoch, ent, n, out);
}

int64_t sm_chain_epoch_at(const sm_chain *c, uint64_t now_ms)
{
    if (now_ms <= c->base_ms || c->p.block_ms == 0)
        return c->base_epoch;
    return c->base_epoch + (int64_t)((now_ms - c->base_ms) / c->p.block_ms);
}

int64_t sm_chain_head(const sm_chain *c)
{
    return sm_chain_epoch_at(c, sp_wall_ms());
}

uint64_t sm_chain_ms_until(const sm_chain *c, int64_t epoch, uint64_t now_ms)
{
    if (epoch <= c->base_epoch)
        return 0;
    uint64_t at = c->base_ms + (uint64_t)(epoch - c->base_epoch) * c->p.block_ms;
    return at > now_ms ? at - now_ms : 0;
}

int64_t sm_chain_ticket_epoch(const sm_chain *c, int64_t head)
{
    int64_t e = head - c->p.ticket_lookback;
    return e < 0 ? 0 : e;
}

/* ---- persistence --------------------------------------------------------------------- */

static const char SQL_GET[] =
    "SELECT seed, base_epoch, base_ms, block_ms, genesis_ms FROM chain WHERE id = 1";
static const char SQL_INSERT[] =
    "INSERT INTO chain (id, seed, base_epoch, base_ms, block_ms, genesis_ms) "
    "VALUES (1, ?1, 0, ?2, ?3, ?2)";
static const char SQL_REBASE[] =
    "UPDATE chain SET base_epoch = ?1, base_ms = ?2, block_ms = ?3 WHERE id = 1";

sp_code sm_chain_load(sm_db *db, const sm_chain_params *p, uint64_t now_ms, sm_chain *out,
                      sp_err *err)
{
    memset(out, 0, sizeof *out);
    out->p = *p;
    if (p->block_ms == 0)
        return sp_fail(err, SP_ECONFIG, "chain.block_time must be at least 1ms");
    sm_stmt *s;
    sp_code rc = sm_db_begin(db, SM_TX_DURABLE, err);
    if (rc)
        return rc;
    if ((rc = sm_db_stmt(db, SQL_GET, &s, err)))
        goto fail;
    int r = sm_step(s, err);
    if (r < 0) {
        rc = err ? err->code : SP_EIO;
        goto fail;
    }
    if (r == 0) {
        sm_stmt_reset(s);
        if (getrandom(out->seed, sizeof out->seed, 0) != (ssize_t)sizeof out->seed) {
            rc = sp_fail_errno(err, errno, "chain: drawing the chain seed");
            goto fail;
        }
        out->base_epoch = 0;
        out->base_ms = out->genesis_ms = now_ms;
        if ((rc = sm_db_stmt(db, SQL_INSERT, &s, err)))
            goto fail;
        sm_bind_blob(s, 1, out->seed, 32);
        sm_bind_i64(s, 2, (int64_t)now_ms);
        sm_bind_i64(s, 3, (int64_t)p->block_ms);
        if ((rc = sm_step_done(s, err)))
            goto fail;
        return sm_db_commit(db, err);
    }
    uint64_t stored_block = (uint64_t)sm_col_i64(s, 3);
    if (!sm_col_bytes(s, 0, out->seed, 32)) {
        rc = sp_fail(err, SP_ECORRUPT, "database %s: the chain seed is not 32 bytes",
                     sm_db_path(db));
        goto fail;
    }
    out->base_epoch = sm_col_i64(s, 1);
    out->base_ms = (uint64_t)sm_col_i64(s, 2);
    out->genesis_ms = (uint64_t)sm_col_i64(s, 4);
    sm_stmt_reset(s);
    if (stored_block != p->block_ms) {
        /* Keep the epoch continuous: the new block time starts at the current epoch. */
        sm_chain old = *out;
        old.p.block_ms = stored_block ? stored_block : p->block_ms;
        int64_t e = sm_chain_epoch_at(&old, now_ms);
        out->base_epoch = e;
        out->base_ms = old.base_ms + (uint64_t)(e - old.base_epoch) * old.p.block_ms;
        if ((rc = sm_db_stmt(db, SQL_REBASE, &s, err)))
            goto fail;
        sm_bind_i64(s, 1, out->base_epoch);
        sm_bind_i64(s, 2, (int64_t)out->base_ms);
        sm_bind_i64(s, 3, (int64_t)p->block_ms);
        if ((rc = sm_step_done(s, err)))
            goto fail;
        return sm_db_commit(db, err);
    }
    sm_db_rollback(db);
    return SP_OK;
fail:
    sm_db_rollback(db);
    return rc;
}
