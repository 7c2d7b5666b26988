/* copies.c — the copy/move journal and its executor: copy to hidden temporaries while
 * hashing, read back and compare, rename into place, record in one durable transaction,
 * then delete a move's source (contract and states in sm_copies.h). */
#include "sm_copies.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "sm_objects.h"
#include "sm_testhook.h"
#include "sp_fs.h"
#include "sp_log.h"

#define CHUNK (1u << 20)
#define MAX_FILES 64

/* ---- journal rows ---------------------------------------------------------------------------- */

#define COPY_COLS "id, object_id, src, dst, tier, move, move_from, reason, state, size, error, " \
                  "created_ms, updated_ms"

static void row_to_copy(sm_stmt *s, sm_copy *c)
{
    memset(c, 0, sizeof *c);
    c->id = sm_col_i64(s, 0);
    c->object_id = sm_col_i64(s, 1);
    snprintf(c->src, sizeof c->src, "%s", sm_col_text(s, 2) ? sm_col_text(s, 2) : "");
    snprintf(c->dst, sizeof c->dst, "%s", sm_col_text(s, 3) ? sm_col_text(s, 3) : "");
    int t = sm_tier_parse(sm_col_text(s, 4));
    c->tier = t < 0 ? SM_TIER_WARM : (sm_tier)t;
    c->move = sm_col_i64(s, 5) != 0;
    snprintf(c->move_from, sizeof c->move_from, "%s", sm_col_text(s, 6) ? sm_col_text(s, 6) : "");
    snprintf(c->reason, sizeof c->reason, "%s", sm_col_text(s, 7) ? sm_col_text(s, 7) : "");
    snprintf(c->state, sizeof c->state, "%s", sm_col_text(s, 8) ? sm_col_text(s, 8) : "");
    c->size = (uint64_t)sm_col_i64(s, 9);
    snprintf(c->error, sizeof c->error, "%s", sm_col_text(s, 10) ? sm_col_text(s, 10) : "");
    c->created_ms = (uint64_t)sm_col_i64(s, 11);
    c->updated_ms = (uint64_t)sm_col_i64(s, 12);
}

static const char SQL_PLAN[] =
    "INSERT INTO copies (object_id, src, dst, tier, move, move_from, reason, state, size, "
    "created_ms, updated_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'planned', ?8, ?9, ?9)";
static const char SQL_OPEN[] =
    "SELECT " COPY_COLS " FROM copies WHERE state NOT IN ('done', 'failed') ORDER BY id";
static const char SQL_RECENT[] = "SELECT " COPY_COLS " FROM copies ORDER BY id DESC LIMIT ?1";
static const char SQL_GET[] = "SELECT " COPY_COLS " FROM copies WHERE id = ?1";
static const char SQL_BUSY[] =
    "SELECT 1 FROM copies WHERE object_id = ?1 AND state NOT IN ('done', 'failed') LIMIT 1";
static const char SQL_STATE[] =
    "UPDATE copies SET state = ?2, error = ?3, updated_ms = ?4 WHERE id = ?1";

sp_code sm_copies_plan_in(sm_db *db, const sm_copy *c, int64_t *id, sp_err *err)
{
    sm_stmt *s;
    sp_code rc = sm_db_stmt(db, SQL_PLAN, &s, err);
    if (rc)
        return rc;
    sm_bind_i64(s, 1, c->object_id);
    sm_bind_text(s, 2, c->src);
    sm_bind_text(s, 3, c->dst);
    sm_bind_text(s, 4, sm_tier_name(c->tier));
    sm_bind_i64(s, 5, c->move);
    sm_bind_text(s, 6, c->move ? c->move_from : NULL);
    sm_bind_text(s, 7, c->reason);
    sm_bind_i64(s, 8, (int64_t)c->size);
    sm_bind_i64(s, 9, (int64_t)sp_wall_ms());
    if ((rc = sm_step_done(s, err)))
        return rc;
    if (id)
        *id = sm_db_last_id(db);
    return SP_OK;
}

static sp_code copy_rows(sm_stmt *s, sm_copy **out, size_t *n, sp_err *err)
{
    *out = NULL;
    *n = 0;
    size_t cap = 0;
    int r;
    while ((r = sm_step(s, err)) == 1) {
        if (*n == cap) {
            cap = cap ? cap * 2 : 8;
            sm_copy *nv = realloc(*out, cap * sizeof **out);
            if (!nv) {
                sm_stmt_reset(s);
                free(*out);
                *out = NULL;
                *n = 0;
                return sp_fail(err, SP_ENOMEM, "copies: out of memory");
            }
            *out = nv;
        }
        row_to_copy(s, &(*out)[(*n)++]);
    }
    sm_stmt_reset(s);
    if (r < 0) {
        free(*out);
        *out = NULL;
        *n = 0;
        return err && err->code ? err->code : SP_EIO;
    }
    return SP_OK;
}

sp_code sm_copies_open(sm_db *db, sm_copy **out, size_t *n, sp_err *err)
{
    sm_stmt *s;
    sp_code rc = sm_db_stmt(db, SQL_OPEN, &s, err);
    return rc ? rc : copy_rows(s, out, n, err);
}

sp_code sm_copies_recent(sm_db *db, size_t limit, sm_copy **out, size_t *n, sp_err *err)
{
    sm_stmt *s;
    sp_code rc = sm_db_stmt(db, SQL_RECENT, &s, err);
    if (rc)
        return rc;
    sm_bind_i64(s, 1, (int64_t)limit);
    return copy_rows(s, out, n, err);
}

bool sm_copies_busy(sm_db *db, int64_t object_id)
{
    sm_stmt *s;
    if (sm_db_stmt(db, SQL_BUSY, &s, NULL) != SP_OK)
        return true;
    sm_bind_i64(s, 1, object_id);
    int r = sm_step(s, NULL);
    sm_stmt_reset(s);
    return r != 0;
}

static sp_code set_state(sm_db *db, int64_t id, const char *state, const char *error, sp_err *err)
{
    sp_code rc = sm_db_begin(db, SM_TX_WRITE, err);
    if (rc)
        return rc;
    sm_stmt *s;
    if ((rc = sm_db_stmt(db, SQL_STATE, &s, err)))
        goto fail;
    sm_bind_i64(s, 1, id);
    sm_bind_text(s, 2, state);
    sm_bind_text(s, 3, error);
    sm_bind_i64(s, 4, (int64_t)sp_wall_ms());
    if ((rc = sm_step_done(s, err)))
        goto fail;
    return sm_db_commit(db, err);
fail:
    sm_db_rollback(db);
    return rc;
}

/* ---- the files of a replica ------------------------------------------------------------------- */

typedef struct item {
    char name[256];        /* what the hash covers: "s-t01000-1", "p_aux", a CID */
    char src[PATH_MAX];
    char dir[PATH_MAX];    /* destination directory */
    char tmp[PATH_MAX];
    char final[PATH_MAX];
} item;

typedef struct plan {
    item v[MAX_FILES];
    size_t n;
} plan;

static int by_name(const void *a, const void *b)
{
    return strcmp(((const item *)a)->name, ((const item *)b)->name);
}

static sp_code add_item(plan *p, const char *name, const char *src, const char *dst_dir, int64_t id,
                        sp_err *err)
{
    if (p->n == MAX_FILES)
        return sp_fail(err, SP_EINVAL, "copy %" PRId64 ": more than %d files", id, MAX_FILES);
    item *it = &p->v[p->n];
    if (snprintf(it->name, sizeof it->name, "%s", name) >= (int)sizeof it->name ||
        snprintf(it->src, sizeof it->src, "%s", src) >= (int)sizeof it->src ||
        snprintf(it->dir, sizeof it->dir, "%s", dst_dir) >= (int)sizeof it->dir ||
        snprintf(it->tmp, sizeof it->tmp, "%s/.copy-%" PRId64 ".%s", dst_dir, id, name) >= (int)sizeof it->tmp ||
        snprintf(it->final, sizeof it->final, "%s/%s", dst_dir, name) >= (int)sizeof it->final)
        return sp_fail(err, SP_EINVAL, "copy %" PRId64 ": path too long for %s", id, name);
    p->n++;
    return SP_OK;
}

/* The files of object o to copy from the root src_root (or, for the piece store, the piece
 * file itself) to dst_root. */
static sp_code build_plan(const sm_object *o, const char *src_root, bool from_piece_store,
                          const char *dst_root, int64_t id, plan *p, sp_err *err)
{
    p->n = 0;
    char mrel[256], crel[256], src[PATH_MAX], dir[PATH_MAX];
    sp_code rc = sm_object_paths(o, mrel, sizeof mrel, crel, sizeof crel, err);
    if (rc)
        return rc;
    const char *base = strrchr(mrel, '/') + 1;
    if (from_piece_store)
        rc = snprintf(src, sizeof src, "%s/%s", src_root, base) >= (int)sizeof src ? SP_EINVAL : SP_OK;
    else
        rc = snprintf(src, sizeof src, "%s/%s", src_root, mrel) >= (int)sizeof src ? SP_EINVAL : SP_OK;
    if (rc || snprintf(dir, sizeof dir, "%s/%.*s", dst_root, (int)(base - mrel - 1), mrel) >= (int)sizeof dir)
        return sp_fail(err, SP_EINVAL, "copy %" PRId64 ": path too long", id);
    if ((rc = add_item(p, base, src, dir, id, err)) || !crel[0])
        return rc;
    char src_cache[PATH_MAX], dst_cache[PATH_MAX];
    if (snprintf(src_cache, sizeof src_cache, "%s/%s", src_root, crel) >= (int)sizeof src_cache ||
        snprintf(dst_cache, sizeof dst_cache, "%s/%s", dst_root, crel) >= (int)sizeof dst_cache)
        return sp_fail(err, SP_EINVAL, "copy %" PRId64 ": path too long", id);
    DIR *d = opendir(src_cache);
    if (!d)
        return sp_fail_errno(err, errno, "copy %" PRId64 ": source cache directory %s", id, src_cache);
    size_t first = p->n;
    struct dirent *e;
    while ((e = readdir(d)) && !rc) {
        char f[PATH_MAX];
        struct stat st;
        size_t nl = strlen(e->d_name);
        /* hidden files (temporaries) and lock files are not part of a sector */
        if (e->d_name[0] == '.' || (nl > 5 && strcmp(e->d_name + nl - 5, ".lock") == 0) ||
            snprintf(f, sizeof f, "%s/%s", src_cache, e->d_name) >= (int)sizeof f ||
            lstat(f, &st) != 0 || !S_ISREG(st.st_mode))
            continue;
        rc = add_item(p, e->d_name, f, dst_cache, id, err);
    }
    closedir(d);
    if (!rc)
        qsort(p->v + first, p->n - first, sizeof p->v[0], by_name);
    return rc;
}

/* ---- hashing copy ------------------------------------------------------------------------------ */

static void hash_header(EVP_MD_CTX *h, const char *name, uint64_t size)
{
    uint8_t le[8];
    for (int i = 0; i < 8; i++)
        le[i] = (uint8_t)(size >> (8 * i));
    EVP_DigestUpdate(h, name, strlen(name) + 1);
    EVP_DigestUpdate(h, le, 8);
}

/* Copies it->src to it->tmp (fsynced), feeding h.  *bytes gets the size. */
static sp_code copy_one(const item *it, EVP_MD_CTX *h, uint8_t *buf, const volatile int *stop,
                        uint64_t *bytes, sp_err *err)
{
    int in = open(it->src, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (in < 0)
        return sp_fail_errno(err, errno, "copy: source %s", it->src);
    struct stat st;
    if (fstat(in, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(in);
        return sp_fail(err, SP_EIO, "copy: source %s is not a regular file", it->src);
    }
    sp_code rc = sp_mkdir_p(it->dir, 0755, err);
    int out = rc ? -1 : open(it->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (!rc && out < 0)
        rc = sp_fail_errno(err, errno, "copy: creating %s", it->tmp);
    uint64_t size = (uint64_t)st.st_size, done = 0;
    if (!rc)
        hash_header(h, it->name, size);
    while (!rc && done < size) {
        if (stop && *stop) {
            rc = sp_fail(err, SP_EBUSY, "copy stopped (the daemon is stopping)");
            break;
        }
        size_t want = size - done < CHUNK ? (size_t)(size - done) : CHUNK;
        ssize_t r = pread(in, buf, want, (off_t)done);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            rc = r < 0 ? sp_fail_errno(err, errno, "copy: reading %s", it->src)
                       : sp_fail(err, SP_EIO, "copy: %s shrank while copied", it->src);
            break;
        }
        EVP_DigestUpdate(h, buf, (size_t)r);
        for (ssize_t off = 0; off < r;) {
            ssize_t w = write(out, buf + off, (size_t)(r - off));
            if (w < 0 && errno == EINTR)
                continue;
            if (w < 0) {
                rc = sp_fail_errno(err, errno, "copy: writing %s", it->tmp);
                break;
            }
            off += w;
        }
        done += (uint64_t)r;
    }
    if (!rc && fsync(out) != 0)
        rc = sp_fail_errno(err, errno, "copy: fsync %s", it->tmp);
    if (out >= 0)
        close(out);
    close(in);
    *bytes = done;
    return rc;
}

/* Hashes a file as hash_header + content. */
static sp_code hash_file(const char *path, const char *name, EVP_MD_CTX *h, uint8_t *buf,
                         const volatile int *stop, sp_err *err)
{
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return sp_fail_errno(err, errno, "verify: %s", path);
    struct stat st;
    if (fstat(fd, &st) != 0) {
        close(fd);
        return sp_fail_errno(err, errno, "verify: %s", path);
    }
    uint64_t size = (uint64_t)st.st_size, done = 0;
    hash_header(h, name, size);
    sp_code rc = SP_OK;
    while (done < size) {
        if (stop && *stop) {
            rc = sp_fail(err, SP_EBUSY, "verification stopped (the daemon is stopping)");
            break;
        }
        ssize_t r = pread(fd, buf, size - done < CHUNK ? (size_t)(size - done) : CHUNK, (off_t)done);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            rc = sp_fail(err, SP_EIO, "verify: reading %s failed", path);
            break;
        }
        EVP_DigestUpdate(h, buf, (size_t)r);
        done += (uint64_t)r;
    }
    close(fd);
    return rc;
}

static void remove_temps(const plan *p)
{
    for (size_t i = 0; i < p->n; i++)
        unlink(p->v[i].tmp);
}

static sp_code sync_dirs(const plan *p, sp_err *err)
{
    for (size_t i = 0; i < p->n; i++) {
        if (i > 0 && strcmp(p->v[i].dir, p->v[i - 1].dir) == 0)
            continue;
        sp_code rc = sp_fsync_dir(p->v[i].dir, err);
        if (rc)
            return rc;
    }
    return SP_OK;
}

/* Copies, verifies and renames every file of the plan; *total gets the bytes. */
static sp_code copy_verified(const sm_copy *c, const plan *p, const volatile int *stop,
                             uint64_t *total, sp_err *err)
{
    uint8_t *buf = malloc(CHUNK);
    EVP_MD_CTX *h1 = EVP_MD_CTX_new(), *h2 = EVP_MD_CTX_new();
    sp_code rc = SP_OK;
    *total = 0;
    if (!buf || !h1 || !h2 || !EVP_DigestInit_ex(h1, EVP_sha256(), NULL) ||
        !EVP_DigestInit_ex(h2, EVP_sha256(), NULL)) {
        rc = sp_fail(err, SP_ENOMEM, "copy %" PRId64 ": out of memory", c->id);
        goto out;
    }
    for (size_t i = 0; i < p->n && !rc; i++) {
        uint64_t b = 0;
        rc = copy_one(&p->v[i], h1, buf, stop, &b, err);
        *total += b;
    }
    if (rc)
        goto out;
    sm_test_pause("copy-written", stop);
    /* Read back what landed on the destination: the copy is only as good as that. */
    for (size_t i = 0; i < p->n && !rc; i++)
        rc = hash_file(p->v[i].tmp, p->v[i].name, h2, buf, stop, err);
    if (rc)
        goto out;
    uint8_t d1[32], d2[32];
    unsigned l1 = 0, l2 = 0;
    EVP_DigestFinal_ex(h1, d1, &l1);
    EVP_DigestFinal_ex(h2, d2, &l2);
    if (l1 != 32 || l2 != 32 || memcmp(d1, d2, 32) != 0) {
        rc = sp_fail(err, SP_ECORRUPT, "copy %" PRId64 " to %s: what was read back differs from what "
                     "was written (SHA-256); the destination's disk may be failing", c->id, c->dst);
        goto out;
    }
    for (size_t i = 0; i < p->n && !rc; i++)
        if (rename(p->v[i].tmp, p->v[i].final) != 0)
            rc = sp_fail_errno(err, errno, "copy: renaming %s", p->v[i].tmp);
    if (!rc)
        rc = sync_dirs(p, err);
out:
    if (rc)
        remove_temps(p);
    EVP_MD_CTX_free(h1);
    EVP_MD_CTX_free(h2);
    free(buf);
    return rc;
}

/* ---- switching the records ---------------------------------------------------------------------- */

static const char SQL_MOVES[] =
    "UPDATE objects SET moves = CASE WHEN instr(',' || moves || ',', ',' || ?2 || ',') > 0 THEN moves "
    "WHEN moves = '' THEN ?2 ELSE moves || ',' || ?2 END WHERE id = ?1";
static const char SQL_SECTOR_STORE[] =
    "UPDATE sectors SET store = ?3 WHERE miner = ?1 AND number = ?2 AND store = ?4";

static sp_code switch_records(sm_db *db, const sm_copy *c, const sm_object *o, uint64_t size,
                              sp_err *err)
{
    sp_code rc = sm_db_begin(db, SM_TX_DURABLE, err);
    if (rc)
        return rc;
    sm_stmt *s;
    if ((rc = sm_replica_put_in(db, c->object_id, c->dst, c->tier, size, err)))
        goto fail;
    if (c->move && c->src[0] && strcmp(c->src, c->dst) != 0) {
        if ((rc = sm_replica_delete_in(db, c->object_id, c->src, err)))
            goto fail;
        if (c->move_from[0] && strcmp(c->move_from, sm_tier_name(c->tier)) != 0) {
            char step[24];
            snprintf(step, sizeof step, "%s>%s", c->move_from, sm_tier_name(c->tier));
            if ((rc = sm_db_stmt(db, SQL_MOVES, &s, err)))
                goto fail;
            sm_bind_i64(s, 1, c->object_id);
            sm_bind_text(s, 2, step);
            if ((rc = sm_step_done(s, err)))
                goto fail;
        }
        if (o->kind == SM_KIND_SEALED) {
            if ((rc = sm_db_stmt(db, SQL_SECTOR_STORE, &s, err)))
                goto fail;
            sm_bind_i64(s, 1, (int64_t)o->miner);
            sm_bind_i64(s, 2, (int64_t)o->number);
            sm_bind_text(s, 3, c->dst);
            sm_bind_text(s, 4, c->src);
            if ((rc = sm_step_done(s, err)))
                goto fail;
        }
    }
    if ((rc = sm_findings_resolve_in(db, c->object_id, err)) ||
        (rc = sm_db_stmt(db, SQL_STATE, &s, err)))
        goto fail;
    sm_bind_i64(s, 1, c->id);
    sm_bind_text(s, 2, "switched");
    sm_bind_null(s, 3);
    sm_bind_i64(s, 4, (int64_t)sp_wall_ms());
    if ((rc = sm_step_done(s, err)))
        goto fail;
    return sm_db_commit(db, err);
fail:
    sm_db_rollback(db);
    return rc;
}

/* Deletes a move's source files (a second run finds nothing to delete). */
static sp_code delete_source(const char *src_root, const sm_object *o, sp_err *err)
{
    char mrel[256], crel[256], path[PATH_MAX];
    sp_code rc = sm_object_paths(o, mrel, sizeof mrel, crel, sizeof crel, err);
    if (rc)
        return rc;
    if (snprintf(path, sizeof path, "%s/%s", src_root, mrel) >= (int)sizeof path)
        return sp_fail(err, SP_EINVAL, "path too long");
    if (unlink(path) != 0 && errno != ENOENT)
        return sp_fail_errno(err, errno, "deleting the moved source %s", path);
    if (crel[0]) {
        if (snprintf(path, sizeof path, "%s/%s", src_root, crel) >= (int)sizeof path)
            return sp_fail(err, SP_EINVAL, "path too long");
        if ((rc = sp_remove_tree(path, err)))
            return rc;
    }
    char dir[PATH_MAX];
    if (snprintf(dir, sizeof dir, "%s/%.*s", src_root, (int)(strchr(mrel, '/') - mrel), mrel) <
        (int)sizeof dir)
        sp_fsync_dir(dir, NULL);
    return SP_OK;
}

/* ---- running a copy ------------------------------------------------------------------------------ */

static sp_code load(sm_db *db, int64_t id, sm_copy *c, sp_err *err)
{
    sm_stmt *s;
    sp_code rc = sm_db_stmt(db, SQL_GET, &s, err);
    if (rc)
        return rc;
    sm_bind_i64(s, 1, id);
    int r = sm_step(s, err);
    if (r == 1)
        row_to_copy(s, c);
    sm_stmt_reset(s);
    if (r < 0)
        return err && err->code ? err->code : SP_EIO;
    return r == 0 ? sp_fail(err, SP_ENOTFOUND, "no copy %" PRId64, id) : SP_OK;
}

/* Fails the copy with err's message (keeping err for the caller). */
static sp_code fail_copy(sm_db *db, const sm_copy *c, sp_code code, sp_err *err)
{
    sp_err e2;
    if (set_state(db, c->id, "failed", err ? err->msg : "failed", &e2) != SP_OK)
        SP_ERROR("copy %" PRId64 ": recording its failure: %s", c->id, e2.msg);
    SP_WARN("copy %" PRId64 " of object %" PRId64 " from %s to %s failed: %s", c->id, c->object_id,
            c->src[0] ? c->src : "the piece store", c->dst, err ? err->msg : "?");
    return code;
}

sp_code sm_copies_run(const sm_copy_env *env, int64_t id, sp_err *err)
{
    sm_db *db = env->db;
    sm_copy c;
    sm_object o;
    sm_store_info src, dst;
    sp_code rc = load(db, id, &c, err);
    if (rc)
        return rc;
    if (strcmp(c.state, "done") == 0)
        return SP_OK;
    if (strcmp(c.state, "failed") == 0)
        return sp_fail(err, SP_ESTATE, "copy %" PRId64 " failed before: %s", id, c.error);
    if ((rc = sm_objects_get_id(db, c.object_id, &o, err)))
        return fail_copy(db, &c, rc, err);
    bool from_pieces = c.src[0] == 0;
    memset(&src, 0, sizeof src);
    if (from_pieces) {
        if (o.kind != SM_KIND_UNSEALED || !env->piece_dir)
            return fail_copy(db, &c, sp_fail(err, SP_EINVAL, "only unsealed data comes from the piece "
                                              "store"), err);
        snprintf(src.def.path, sizeof src.def.path, "%s", env->piece_dir);
    } else if ((rc = sm_stores_get(db, c.src, &src, err))) {
        return fail_copy(db, &c, rc, err);
    }
    if (strcmp(c.state, "switched") != 0) {
        if ((rc = sm_stores_get(db, c.dst, &dst, err)))
            return fail_copy(db, &c, rc, err);
        if (!dst.reachable)
            return fail_copy(db, &c, sp_fail(err, SP_ENOTFOUND, "destination store %s: %s is not a "
                                              "directory here", c.dst, dst.def.path), err);
        plan *p = calloc(1, sizeof *p);
        if (!p)
            return sp_fail(err, SP_ENOMEM, "copy: out of memory");
        if ((rc = build_plan(&o, src.def.path, from_pieces, dst.def.path, id, p, err))) {
            free(p);
            return fail_copy(db, &c, rc, err);
        }
        /* A copy interrupted before may have left temporaries: start over. */
        remove_temps(p);
        if ((rc = set_state(db, id, "copying", NULL, err))) {
            free(p);
            return rc;
        }
        uint64_t total = 0;
        rc = copy_verified(&c, p, env->stop, &total, err);
        free(p);
        if (rc == SP_EBUSY)
            return rc; /* stopping: resumed at the next start */
        if (rc)
            return fail_copy(db, &c, rc, err);
        if ((rc = switch_records(db, &c, &o, total, err)))
            return rc;
        SP_INFO("%s %s %s: %s -> %s (%s, %" PRIu64 " bytes verified)", c.move ? "moved" : "copied",
                sm_kind_name(o.kind), o.name, c.src[0] ? c.src : "piece store", c.dst, c.reason, total);
        sm_test_pause("move-switched", env->stop);
    }
    if (c.move && !from_pieces && strcmp(c.src, c.dst) != 0 &&
        (rc = delete_source(src.def.path, &o, err)))
        return rc; /* stays switched: the deletion is retried */
    return set_state(db, id, "done", NULL, err);
}

/* ---- hashing a replica ---------------------------------------------------------------------------- */

sp_code sm_copies_tree_hash(const char *store_path, int64_t object_id, sm_db *db, uint8_t out[32],
                            sp_err *err)
{
    sm_object o;
    sp_code rc = sm_objects_get_id(db, object_id, &o, err);
    if (rc)
        return rc;
    plan *p = calloc(1, sizeof *p);
    uint8_t *buf = malloc(CHUNK);
    EVP_MD_CTX *h = EVP_MD_CTX_new();
    if (!p || !buf || !h || !EVP_DigestInit_ex(h, EVP_sha256(), NULL)) {
        rc = sp_fail(err, SP_ENOMEM, "out of memory");
        goto out;
    }
    if ((rc = build_plan(&o, store_path, false, store_path, 0, p, err)))
        goto out;
    for (size_t i = 0; i < p->n && !rc; i++)
        rc = hash_file(p->v[i].src, p->v[i].name, h, buf, NULL, err);
    unsigned l = 0;
    if (!rc)
        EVP_DigestFinal_ex(h, out, &l);
out:
    EVP_MD_CTX_free(h);
    free(buf);
    free(p);
    return rc;
}
