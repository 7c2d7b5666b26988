/* pieces.c — the piece store: CID-named files, CommP on import, the pieces table
 * (contract in sm_pieces.h). */
#include "sm_pieces.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sm_deals.h"
#include "sm_objects.h"
#include "sp_fs.h"

#define COPY_CHUNK (1u << 20)

sp_code sm_pieces_path(const char *dir, const char *cid, char *out, size_t len, sp_err *err)
{
    if (!cid || strnlen(cid, PF_COMMCID_STR_MAX) >= PF_COMMCID_STR_MAX)
        return sp_fail(err, SP_EINVAL, "not a piece CID (too long)");
    uint8_t comm[32];
    pf_error pe = { 0 };
    if (pf_commcid_decode(cid, PF_COMM_UNSEALED, comm, NULL, &pe) != PF_OK)
        return sp_fail(err, SP_EINVAL, "\"%.80s\" is not a piece CID: %s", cid, pe.msg);
    char canon[PF_COMMCID_STR_MAX];
    if (pf_commcid_encode(PF_COMM_UNSEALED, comm, canon, sizeof canon, &pe) != PF_OK ||
        strcmp(canon, cid) != 0)
        return sp_fail(err, SP_EINVAL, "\"%.80s\" is not the canonical form of piece CID %s", cid,
                       canon);
    if (sp_path_join(out, len, dir, canon) != 0)
        return sp_fail(err, SP_EINVAL, "piece store path %s is too long", dir);
    return SP_OK;
}

static void base_name(const char *path, char *out, size_t len)
{
    const char *b = strrchr(path, '/');
    snprintf(out, len, "%s", b ? b + 1 : path);
}

/* Copies src_fd to dst_fd, feeding CommP. */
static sp_code copy_hashing(int src_fd, int dst_fd, pf_commp_ctx *cp, const char *src,
                            const char *tmp, sp_err *err)
{
    uint8_t *buf = malloc(COPY_CHUNK);
    if (!buf)
        return sp_fail(err, SP_ENOMEM, "pieces: out of memory");
    sp_code rc = SP_OK;
    for (;;) {
        ssize_t n = read(src_fd, buf, COPY_CHUNK);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = sp_fail_errno(err, errno, "reading %s", src);
            break;
        }
        if (n == 0)
            break;
        pf_commp_update(cp, buf, (size_t)n);
        for (ssize_t off = 0; off < n;) {
            ssize_t w = write(dst_fd, buf + off, (size_t)(n - off));
            if (w < 0 && errno == EINTR)
                continue;
            if (w < 0) {
                rc = sp_fail_errno(err, errno, "writing %s", tmp);
                goto out;
            }
            off += w;
        }
    }
out:
    free(buf);
    return rc;
}

sp_code sm_pieces_store_file(const char *dir, const char *src, sm_piece *out, sp_err *err)
{
    memset(out, 0, sizeof *out);
    char tmp[4200] = "", dst[4200];
    int src_fd = -1, tmp_fd = -1;
    pf_commp_ctx *cp = NULL;
    sp_code rc = SP_OK;
    struct stat st;

    src_fd = open(src, O_RDONLY | O_CLOEXEC);
    if (src_fd < 0)
        return sp_fail_errno(err, errno, "piece file %s", src);
    if (fstat(src_fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        rc = sp_fail(err, SP_EINVAL, "piece file %s is not a regular file", src);
        goto out;
    }
    if (st.st_size == 0) {
        rc = sp_fail(err, SP_EINVAL, "piece file %s is empty", src);
        goto out;
    }
    if ((rc = sp_mkdir_p(dir, 0755, err)))
        goto out;
    uint32_t r = 0;
    if (getrandom(&r, sizeof r, 0) != (ssize_t)sizeof r)
        r = (uint32_t)sp_now_ms();
    snprintf(tmp, sizeof tmp, "%s/.import-%d-%08x", dir, (int)getpid(), r);
    tmp_fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (tmp_fd < 0) {
        rc = sp_fail_errno(err, errno, "piece store: creating %s", tmp);
        goto out;
    }
    pf_error pe = { 0 };
    if (!(cp = pf_commp_new(&pe))) {
        rc = sp_fail(err, SP_ENOMEM, "CommP: %s", pe.msg);
        goto out;
    }
    if ((rc = copy_hashing(src_fd, tmp_fd, cp, src, tmp, err)))
        goto out;
    uint64_t payload = 0;
    if (pf_commp_finish(cp, out->comm_p, &payload, &out->padded_size, &pe) != PF_OK) {
        rc = sp_fail(err, SP_EINVAL, "CommP of %s: %s", src, pe.msg);
        goto out;
    }
    out->payload_size = payload;
    if ((uint64_t)st.st_size != payload) {
        rc = sp_fail(err, SP_EIO, "piece file %s changed while it was imported (%" PRIu64
                     " bytes read, %lld expected)", src, payload, (long long)st.st_size);
        goto out;
    }
    if (pf_commcid_encode(PF_COMM_UNSEALED, out->comm_p, out->cid, sizeof out->cid, &pe) != PF_OK) {
        rc = sp_fail(err, SP_EINTERNAL, "piece CID: %s", pe.msg);
        goto out;
    }
    base_name(src, out->source, sizeof out->source);
    if (fsync(tmp_fd) != 0) {
        rc = sp_fail_errno(err, errno, "piece store: fsync %s", tmp);
        goto out;
    }
    close(tmp_fd);
    tmp_fd = -1;
    if ((rc = sm_pieces_path(dir, out->cid, dst, sizeof dst, err)))
        goto out;
    if (rename(tmp, dst) != 0) {
        rc = sp_fail_errno(err, errno, "piece store: renaming %s to %s", tmp, dst);
        goto out;
    }
    tmp[0] = 0;
    rc = sp_fsync_dir(dir, err);
out:
    if (tmp_fd >= 0)
        close(tmp_fd);
    if (src_fd >= 0)
        close(src_fd);
    if (rc && tmp[0])
        unlink(tmp);
    pf_commp_free(cp);
    return rc;
}

/* ---- table ------------------------------------------------------------------------------- */

static const char SQL_PIECE_GET[] =
    "SELECT cid, comm_p, payload_size, padded_size, imported_ms, source FROM pieces WHERE cid = ?1";
static const char SQL_PIECE_PUT[] =
    "INSERT INTO pieces (cid, comm_p, payload_size, padded_size, imported_ms, source) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
static const char SQL_PIECE_LIST[] =
    "SELECT cid, comm_p, payload_size, padded_size, imported_ms, source FROM pieces "
    "ORDER BY imported_ms DESC, cid LIMIT ?1";

static void row_to_piece(sm_stmt *s, sm_piece *p)
{
    memset(p, 0, sizeof *p);
    const char *t = sm_col_text(s, 0);
    snprintf(p->cid, sizeof p->cid, "%s", t ? t : "");
    sm_col_bytes(s, 1, p->comm_p, 32);
    p->payload_size = (uint64_t)sm_col_i64(s, 2);
    p->padded_size = (uint64_t)sm_col_i64(s, 3);
    p->imported_ms = (uint64_t)sm_col_i64(s, 4);
    t = sm_col_text(s, 5);
    snprintf(p->source, sizeof p->source, "%s", t ? t : "");
}

static sp_code get_in(sm_db *db, const char *cid, sm_piece *out, bool *found, sp_err *err)
{
    *found = false;
    sm_stmt *s;
    sp_code rc = sm_db_stmt(db, SQL_PIECE_GET, &s, err);
    if (rc)
        return rc;
    sm_bind_text(s, 1, cid);
    int r = sm_step(s, err);
    if (r == 1) {
        row_to_piece(s, out);
        *found = true;
    }
    sm_stmt_reset(s);
    return r < 0 ? (err && err->code ? err->code : SP_EIO) : SP_OK;
}

sp_code sm_pieces_get(sm_db *db, const char *cid, sm_piece *out, sp_err *err)
{
    bool found;
    sp_code rc = get_in(db, cid, out, &found, err);
    if (!rc && !found)
        rc = sp_fail(err, SP_ENOTFOUND, "no piece %.80s in the piece store", cid);
    return rc;
}

sp_code sm_pieces_register(sm_db *db, const char *dir, const sm_piece *p, uint64_t miner,
                           uint64_t max_sector_size, int64_t *deal_id, bool *new_piece,
                           sp_err *err)
{
    *new_piece = false;
    char path[4200];
    sp_code rc = sm_pieces_path(dir, p->cid, path, sizeof path, err);
    if (rc)
        return rc;
    uint8_t comm[32];
    pf_commcid_decode(p->cid, PF_COMM_UNSEALED, comm, NULL, NULL);
    if (memcmp(comm, p->comm_p, 32) != 0)
        return sp_fail(err, SP_EINVAL, "piece %s: CommP does not match the CID", p->cid);
    if (p->padded_size < 128 || (p->padded_size & (p->padded_size - 1)) ||
        p->payload_size == 0 || p->payload_size > p->padded_size / 128 * 127)
        return sp_fail(err, SP_EINVAL, "piece %s: payload %" PRIu64 " and padded size %" PRIu64
                       " do not describe a piece", p->cid, p->payload_size, p->padded_size);
    if (p->padded_size > max_sector_size)
        return sp_fail(err, SP_EINVAL, "piece %s (padded %" PRIu64 " bytes) does not fit the "
                       "largest sector size of miner %" PRIu64 " (%" PRIu64 " bytes)", p->cid,
                       p->padded_size, miner, max_sector_size);
    int64_t size = sp_file_size(path);
    if (size < 0)
        return sp_fail(err, SP_ENOTFOUND, "piece %s: no file %s in the piece store", p->cid, path);
    if ((uint64_t)size != p->payload_size)
        return sp_fail(err, SP_ECORRUPT, "piece %s: file %s has %lld bytes, %" PRIu64 " expected",
                       p->cid, path, (long long)size, p->payload_size);
    rc = sm_db_begin(db, SM_TX_WRITE, err);
    if (rc)
        return rc;
    sm_piece old;
    bool found;
    if ((rc = get_in(db, p->cid, &old, &found, err)))
        goto fail;
    if (found && old.payload_size != p->payload_size) {
        rc = sp_fail(err, SP_ECORRUPT, "piece %s was imported before with %" PRIu64 " bytes, now %"
                     PRIu64, p->cid, old.payload_size, p->payload_size);
        goto fail;
    }
    if (!found) {
        sm_stmt *s;
        if ((rc = sm_db_stmt(db, SQL_PIECE_PUT, &s, err)))
            goto fail;
        sm_bind_text(s, 1, p->cid);
        sm_bind_blob(s, 2, p->comm_p, 32);
        sm_bind_i64(s, 3, (int64_t)p->payload_size);
        sm_bind_i64(s, 4, (int64_t)p->padded_size);
        sm_bind_i64(s, 5, (int64_t)sp_wall_ms());
        sm_bind_text(s, 6, p->source);
        if ((rc = sm_step_done(s, err)))
            goto fail;
        *new_piece = true;
    }
    /* The piece's bytes become an object the storage service indexes and replicates. */
    if ((rc = sm_objects_ensure_unsealed_in(db, p->cid, p->payload_size, err)))
        goto fail;
    if ((rc = sm_deals_queue_in(db, miner, p->cid, deal_id, err)))
        goto fail;
    return sm_db_commit(db, err);
fail:
    sm_db_rollback(db);
    return rc;
}

sp_code sm_pieces_list(sm_db *db, size_t limit, sm_piece **out, size_t *n, sp_err *err)
{
    *out = NULL;
    *n = 0;
    sm_stmt *s;
    sp_code rc = sm_db_stmt(db, SQL_PIECE_LIST, &s, err);
    if (rc)
        return rc;
    sm_bind_i64(s, 1, limit ? (int64_t)limit : -1);
    size_t cap = 0;
    sm_piece *v = NULL;
    int r;
    while ((r = sm_step(s, err)) == 1) {
        if (*n == cap) {
            cap = cap ? cap * 2 : 16;
            sm_piece *nv = realloc(v, cap * sizeof *v);
            if (!nv) {
                sm_stmt_reset(s);
                free(v);
                *n = 0;
                return sp_fail(err, SP_ENOMEM, "pieces: out of memory");
            }
            v = nv;
        }
        row_to_piece(s, &v[(*n)++]);
    }
    sm_stmt_reset(s);
    if (r < 0) {
        free(v);
        *n = 0;
        return err && err->code ? err->code : SP_EIO;
    }
    *out = v;
    return SP_OK;
}

sp_code sm_pieces_open(sm_db *db, const char *dir, const char *cid, int *fd, uint64_t *size,
                       sp_err *err)
{
    *fd = -1;
    char path[4200];
    sp_code rc = sm_pieces_path(dir, cid, path, sizeof path, err);
    if (rc)
        return rc;
    sm_piece p;
    if ((rc = sm_pieces_get(db, cid, &p, err)))
        return rc;
    int f = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (f < 0)
        return sp_fail_errno(err, errno, "piece %s: opening %s", cid, path);
    struct stat st;
    if (fstat(f, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(f);
        return sp_fail(err, SP_ECORRUPT, "piece %s: %s is not a regular file", cid, path);
    }
    if ((uint64_t)st.st_size != p.payload_size) {
        close(f);
        return sp_fail(err, SP_ECORRUPT, "piece %s: %s has %lld bytes, %" PRIu64 " recorded", cid,
                       path, (long long)st.st_size, p.payload_size);
    }
    *fd = f;
    *size = (uint64_t)st.st_size;
    return SP_OK;
}
