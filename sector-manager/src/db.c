/* db.c — sm_db: per-thread connections, the statement cache, transactions with one
 * in-process writer at a time, and schema migrations, on top of a driver (sm_db_driver).
 *
 * Why a connection per thread: the engine's connections are not shared between threads
 * without a lock around every call; with one each, readers run in parallel and the only
 * serialisation is the write mutex, held for the few statements of a write transaction.
 */
#include "sm_db.h"

#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sm_db_driver.h"

/* Log length (pages) from which a checkpoint also restarts the log. */
#define RESTART_FRAMES 1000

typedef struct sm_conn sm_conn;

struct sm_stmt {
    sm_conn *c;
    void *h;
    const char *sql;
    int bind_rc;
    int bind_idx;
};

typedef struct cache_slot {
    const char *sql;
    sm_stmt *st;
} cache_slot;

struct sm_conn {
    sm_db *db;
    void *h;
    bool in_tx;
    sm_tx mode;
    cache_slot *slots;
    size_t cap, used;
    sm_conn *next, *prev;
};

struct sm_db {
    const sm_db_driver *drv;
    char path[PATH_MAX];
    bool create;
    bool manual_checkpoint;
    pthread_key_t key;
    bool key_ok;
    pthread_mutex_t mu;       /* guards conns */
    pthread_mutex_t write_mu; /* one writer at a time */
    sm_conn *conns;
    int version;
};

static const sm_db_driver *find_driver(const char *name)
{
    if (!name || !*name || strcmp(name, "sqlite") == 0)
        return &sm_db_sqlite_driver;
    return NULL;
}

/* ---- connections ------------------------------------------------------------------- */

static void conn_free(sm_conn *c)
{
    const sm_db_driver *d = c->db->drv;
    if (c->in_tx) {
        d->rollback(c->h, c->mode);
        if (c->mode != SM_TX_READ)
            pthread_mutex_unlock(&c->db->write_mu);
        c->in_tx = false;
    }
    for (size_t i = 0; i < c->cap; i++)
        if (c->slots[i].st) {
            d->finalize(c->slots[i].st->h);
            free(c->slots[i].st);
        }
    free(c->slots);
    if (c->h)
        d->disconnect(c->h);
    free(c);
}

static void conn_unlink(sm_db *db, sm_conn *c)
{
    if (c->prev)
        c->prev->next = c->next;
    else
        db->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
}

/* Thread exit: the connection goes with its thread. */
static void conn_destroy(void *p)
{
    sm_conn *c = p;
    sm_db *db = c->db;
    pthread_mutex_lock(&db->mu);
    conn_unlink(db, c);
    pthread_mutex_unlock(&db->mu);
    conn_free(c);
}

static sm_conn *conn_get(sm_db *db, sp_err *err)
{
    sm_conn *c = pthread_getspecific(db->key);
    if (c)
        return c;
    c = calloc(1, sizeof *c);
    if (!c) {
        sp_fail(err, SP_ENOMEM, "database %s: out of memory for a connection", db->path);
        return NULL;
    }
    c->db = db;
    c->h = db->drv->connect(db->path, db->create, db->manual_checkpoint, err);
    if (!c->h) {
        free(c);
        return NULL;
    }
    if (pthread_setspecific(db->key, c) != 0) {
        db->drv->disconnect(c->h);
        free(c);
        sp_fail(err, SP_ENOMEM, "database %s: cannot attach a connection to this thread", db->path);
        return NULL;
    }
    pthread_mutex_lock(&db->mu);
    c->next = db->conns;
    if (db->conns)
        db->conns->prev = c;
    db->conns = c;
    pthread_mutex_unlock(&db->mu);
    return c;
}

/* ---- statement cache ---------------------------------------------------------------- */

static size_t slot_of(const char *sql, size_t cap)
{
    uintptr_t p = (uintptr_t)sql;
    p ^= p >> 17;
    p *= 0x9e3779b97f4a7c15ULL;
    return (size_t)(p >> 7) & (cap - 1);
}

static bool cache_grow(sm_conn *c)
{
    size_t ncap = c->cap ? c->cap * 2 : 64;
    cache_slot *ns = calloc(ncap, sizeof *ns);
    if (!ns)
        return false;
    for (size_t i = 0; i < c->cap; i++) {
        if (!c->slots[i].sql)
            continue;
        size_t j = slot_of(c->slots[i].sql, ncap);
        while (ns[j].sql)
            j = (j + 1) & (ncap - 1);
        ns[j] = c->slots[i];
    }
    free(c->slots);
    c->slots = ns;
    c->cap = ncap;
    return true;
}

static sm_stmt *cache_find(sm_conn *c, const char *sql)
{
    if (!c->cap)
        return NULL;
    for (size_t j = slot_of(sql, c->cap); c->slots[j].sql; j = (j + 1) & (c->cap - 1))
        if (c->slots[j].sql == sql)
            return c->slots[j].st;
    return NULL;
}

static bool cache_put(sm_conn *c, sm_stmt *st)
{
    if ((c->used + 1) * 2 > c->cap && !cache_grow(c))
        return false;
    size_t j = slot_of(st->sql, c->cap);
    while (c->slots[j].sql)
        j = (j + 1) & (c->cap - 1);
    c->slots[j].sql = st->sql;
    c->slots[j].st = st;
    c->used++;
    return true;
}

sp_code sm_db_stmt(sm_db *db, const char *sql, sm_stmt **out, sp_err *err)
{
    *out = NULL;
    sm_conn *c = conn_get(db, err);
    if (!c)
        return err ? err->code : SP_EIO;
    sm_stmt *st = cache_find(c, sql);
    if (st) {
        db->drv->reset(st->h);
        st->bind_rc = 0;
        *out = st;
        return SP_OK;
    }
    st = calloc(1, sizeof *st);
    if (!st)
        return sp_fail(err, SP_ENOMEM, "database: out of memory for a statement");
    st->c = c;
    st->sql = sql;
    st->h = db->drv->prepare(c->h, sql, err);
    if (!st->h) {
        free(st);
        return err ? err->code : SP_EINTERNAL;
    }
    if (!cache_put(c, st)) {
        db->drv->finalize(st->h);
        free(st);
        return sp_fail(err, SP_ENOMEM, "database: out of memory for the statement cache");
    }
    *out = st;
    return SP_OK;
}

static void note_bind(sm_stmt *s, int i, int rc)
{
    if (rc && !s->bind_rc) {
        s->bind_rc = rc;
        s->bind_idx = i;
    }
}

void sm_bind_i64(sm_stmt *s, int i, int64_t v)
{
    note_bind(s, i, s->c->db->drv->bind_i64(s->h, i, v));
}

void sm_bind_text(sm_stmt *s, int i, const char *v)
{
    const sm_db_driver *d = s->c->db->drv;
    note_bind(s, i, v ? d->bind_text(s->h, i, v) : d->bind_null(s->h, i));
}

void sm_bind_blob(sm_stmt *s, int i, const void *v, size_t len)
{
    const sm_db_driver *d = s->c->db->drv;
    note_bind(s, i, v ? d->bind_blob(s->h, i, v, len) : d->bind_null(s->h, i));
}

void sm_bind_null(sm_stmt *s, int i)
{
    note_bind(s, i, s->c->db->drv->bind_null(s->h, i));
}

static void sql_excerpt(const char *sql, char *buf, size_t n)
{
    size_t j = 0;
    for (size_t i = 0; sql[i] && j + 4 < n; i++) {
        char ch = sql[i];
        if (ch == '\n' || ch == '\t' || ch == ' ') {
            if (j && buf[j - 1] == ' ')
                continue;
            ch = ' ';
        }
        buf[j++] = ch;
        if (j >= 60) {
            memcpy(buf + j, "...", 3);
            j += 3;
            break;
        }
    }
    buf[j] = 0;
}

int sm_step(sm_stmt *s, sp_err *err)
{
    if (s->bind_rc) {
        char ex[80];
        sql_excerpt(s->sql, ex, sizeof ex);
        sp_fail(err, SP_EINTERNAL, "database: binding parameter %d failed (code %d) in \"%s\"",
                s->bind_idx, s->bind_rc, ex);
        return -1;
    }
    int r = s->c->db->drv->step(s->h, err);
    if (r < 0 && err) {
        char ex[80];
        sql_excerpt(s->sql, ex, sizeof ex);
        sp_err_prefix(err, "database %s: \"%s\"", s->c->db->path, ex);
    }
    return r;
}

sp_code sm_step_done(sm_stmt *s, sp_err *err)
{
    int r = sm_step(s, err);
    sm_stmt_reset(s);
    if (r < 0)
        return err && err->code ? err->code : SP_EIO;
    return SP_OK;
}

int64_t sm_col_i64(sm_stmt *s, int i) { return s->c->db->drv->col_i64(s->h, i); }
const char *sm_col_text(sm_stmt *s, int i) { return s->c->db->drv->col_text(s->h, i); }
const void *sm_col_blob(sm_stmt *s, int i, size_t *len) { return s->c->db->drv->col_blob(s->h, i, len); }
bool sm_col_null(sm_stmt *s, int i) { return s->c->db->drv->col_null(s->h, i); }

bool sm_col_bytes(sm_stmt *s, int i, void *out, size_t n)
{
    size_t len = 0;
    const void *p = sm_col_blob(s, i, &len);
    if (!p || len != n)
        return false;
    memcpy(out, p, n);
    return true;
}

void sm_stmt_reset(sm_stmt *s)
{
    if (s)
        s->c->db->drv->reset(s->h);
}

/* ---- transactions -------------------------------------------------------------------- */

sp_code sm_db_begin(sm_db *db, sm_tx mode, sp_err *err)
{
    sm_conn *c = conn_get(db, err);
    if (!c)
        return err ? err->code : SP_EIO;
    if (c->in_tx)
        return sp_fail(err, SP_EINTERNAL, "database: a transaction is already open on this thread");
    if (mode != SM_TX_READ)
        pthread_mutex_lock(&db->write_mu);
    sp_code rc = db->drv->begin(c->h, mode, err);
    if (rc) {
        if (mode != SM_TX_READ)
            pthread_mutex_unlock(&db->write_mu);
        return rc;
    }
    c->in_tx = true;
    c->mode = mode;
    return SP_OK;
}

sp_code sm_db_commit(sm_db *db, sp_err *err)
{
    sm_conn *c = pthread_getspecific(db->key);
    if (!c || !c->in_tx)
        return sp_fail(err, SP_EINTERNAL, "database: commit without a transaction");
    sp_code rc = db->drv->commit(c->h, c->mode, err);
    if (rc)
        db->drv->rollback(c->h, c->mode);
    c->in_tx = false;
    if (c->mode != SM_TX_READ)
        pthread_mutex_unlock(&db->write_mu);
    return rc;
}

void sm_db_rollback(sm_db *db)
{
    sm_conn *c = pthread_getspecific(db->key);
    if (!c || !c->in_tx)
        return;
    /* Statements still stepping would keep the transaction's locks. */
    for (size_t i = 0; i < c->cap; i++)
        if (c->slots[i].st)
            db->drv->reset(c->slots[i].st->h);
    db->drv->rollback(c->h, c->mode);
    c->in_tx = false;
    if (c->mode != SM_TX_READ)
        pthread_mutex_unlock(&db->write_mu);
}

sp_code sm_db_exec(sm_db *db, const char *sql, sp_err *err)
{
    sm_conn *c = conn_get(db, err);
    if (!c)
        return err ? err->code : SP_EIO;
    return db->drv->exec(c->h, sql, err);
}

int64_t sm_db_changes(sm_db *db)
{
    sm_conn *c = pthread_getspecific(db->key);
    return c ? db->drv->changes(c->h) : 0;
}

int64_t sm_db_last_id(sm_db *db)
{
    sm_conn *c = pthread_getspecific(db->key);
    return c ? db->drv->last_id(c->h) : 0;
}

/* Under a steady stream of commits a passive checkpoint never reaches the end of the
 * log, so the log would grow without bound (and every page lookup with it).  The bulk is
 * copied first without blocking anyone; then, with writers held off by the write lock,
 * the few frames written meanwhile are copied and the log restarts from its beginning. */
sp_code sm_db_checkpoint(sm_db *db, sp_err *err)
{
    sm_conn *c = conn_get(db, err);
    if (!c)
        return err ? err->code : SP_EIO;
    if (c->in_tx)
        return sp_fail(err, SP_EINTERNAL, "database: checkpoint inside a transaction");
    int frames = 0;
    sp_code rc = db->drv->checkpoint(c->h, false, &frames, err);
    if (rc || frames < RESTART_FRAMES)
        return rc;
    pthread_mutex_lock(&db->write_mu);
    rc = db->drv->checkpoint(c->h, true, NULL, err);
    pthread_mutex_unlock(&db->write_mu);
    return rc;
}

/* ---- open / migrate / close ---------------------------------------------------------- */

static int count_migrations(const sm_db_driver *d)
{
    int n = 0;
    while (d->migrations[n])
        n++;
    return n;
}

static sp_code migrate(sm_db *db, sp_err *err)
{
    const sm_db_driver *d = db->drv;
    int latest = count_migrations(d);
    sp_code rc = sm_db_begin(db, SM_TX_DURABLE, err);
    if (rc)
        return rc;
    sm_conn *c = pthread_getspecific(db->key);
    int v = 0;
    if ((rc = d->get_version(c->h, &v, err)))
        goto fail;
    if (v > latest) {
        rc = sp_fail(err, SP_ESTATE,
                     "database %s has schema version %d but this sector-manager knows only up "
                     "to %d; run a newer sector-manager (or restore a backup of the database)",
                     db->path, v, latest);
        goto fail;
    }
    for (int i = v; i < latest; i++) {
        if ((rc = d->exec(c->h, d->migrations[i], err))) {
            sp_err_prefix(err, "database %s: migration to schema version %d failed", db->path, i + 1);
            goto fail;
        }
    }
    if (v != latest && (rc = d->set_version(c->h, latest, err)))
        goto fail;
    if ((rc = sm_db_commit(db, err)))
        return rc;
    db->version = latest;
    return SP_OK;
fail:
    sm_db_rollback(db);
    return rc;
}

sp_code sm_db_open(const sm_db_opts *opts, sm_db **out, sp_err *err)
{
    *out = NULL;
    const sm_db_driver *drv = find_driver(opts->driver);
    if (!drv)
        return sp_fail(err, SP_ECONFIG,
                       "database driver \"%s\" is not built into this sector-manager; use "
                       "driver = \"sqlite\"", opts->driver);
    if (!opts->path || !*opts->path)
        return sp_fail(err, SP_EINVAL, "database: no path given");
    sm_db *db = calloc(1, sizeof *db);
    if (!db)
        return sp_fail(err, SP_ENOMEM, "database: out of memory");
    db->drv = drv;
    if (snprintf(db->path, sizeof db->path, "%s", opts->path) >= (int)sizeof db->path) {
        free(db);
        return sp_fail(err, SP_EINVAL, "database path is too long: %.80s...", opts->path);
    }
    db->create = opts->create;
    db->manual_checkpoint = opts->manual_checkpoint;
    pthread_mutex_init(&db->mu, NULL);
    pthread_mutex_init(&db->write_mu, NULL);
    if (pthread_key_create(&db->key, conn_destroy) != 0) {
        sm_db_close(db);
        return sp_fail(err, SP_ENOMEM, "database: no thread-local key available");
    }
    db->key_ok = true;
    sp_code rc = migrate(db, err);
    if (rc) {
        sm_db_close(db);
        return rc;
    }
    *out = db;
    return SP_OK;
}

void sm_db_close(sm_db *db)
{
    if (!db)
        return;
    pthread_mutex_lock(&db->mu);
    sm_conn *c = db->conns;
    db->conns = NULL;
    pthread_mutex_unlock(&db->mu);
    while (c) {
        sm_conn *next = c->next;
        conn_free(c);
        c = next;
    }
    if (db->key_ok) {
        pthread_setspecific(db->key, NULL);
        pthread_key_delete(db->key);
    }
    pthread_mutex_destroy(&db->mu);
    pthread_mutex_destroy(&db->write_mu);
    free(db);
}

int sm_db_schema_version(const sm_db *db) { return db->version; }
int sm_db_schema_latest(const sm_db *db) { return count_migrations(db->drv); }
const char *sm_db_path(const sm_db *db) { return db->path; }
