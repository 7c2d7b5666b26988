/* cache_l2.c — the L2 block cache: one file per block in a directory, bounded by bytes
 * with high/low watermarks, least recently used evicted first (contract in sm_cache.h).
 *
 * The mutex guards the in-memory index only; reads and writes of files happen outside it,
 * so a slow disk never stalls other requests on the lock.  A file evicted while another
 * thread reads it is either read whole (unlink keeps the open inode) or not found. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sm_cache.h"
#include "sp_codec.h"
#include "sp_fs.h"
#include "sp_log.h"

struct sm_l2 {
    pthread_mutex_t mu;
    char dir[3072];     /* leaves room for /hh/<hex key> in PATH_MAX */
    sm_lru lru;
    uint64_t max, high, low;
    uint64_t hits, misses, inserts, evictions, skipped;
};

/* <dir>/<hh>/<hex of key>: hh is the key's last byte, spreading files over 256 directories. */
static int key_path(const sm_l2 *c, const uint8_t *key, size_t klen, char *out, size_t len)
{
    char hex[2 * SM_CACHE_KEY_MAX + 1];
    sp_hex_encode(key, klen, hex);
    int n = snprintf(out, len, "%s/%02x/%s", c->dir, key[klen - 1], hex);
    return n > 0 && (size_t)n < len ? 0 : -1;
}

static bool hex_key(const char *name, uint8_t *key, size_t *klen)
{
    size_t n = strlen(name);
    if (n < 2 || n % 2 || n / 2 > SM_CACHE_KEY_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((name[i] >= '0' && name[i] <= '9') || (name[i] >= 'a' && name[i] <= 'f')))
            return false;
    if (sp_hex_decode(name, key, n / 2, NULL) != SP_OK)
        return false;
    *klen = n / 2;
    return true;
}

typedef struct scanned {
    uint8_t key[SM_CACHE_KEY_MAX];
    size_t klen;
    uint64_t size;
    int64_t mtime_ns;
} scanned;

static int by_mtime(const void *a, const void *b)
{
    const scanned *x = a, *y = b;
    return x->mtime_ns < y->mtime_ns ? -1 : x->mtime_ns > y->mtime_ns;
}

/* Indexes the files of one bucket directory; temporary files of a crashed write go. */
static sp_code scan_bucket(const char *path, scanned **v, size_t *n, size_t *cap, sp_err *err)
{
    DIR *d = opendir(path);
    if (!d)
        return SP_OK;
    struct dirent *de;
    sp_code rc = SP_OK;
    while ((de = readdir(d))) {
        char f[PATH_MAX];
        if (de->d_name[0] == '.' && (!de->d_name[1] || (de->d_name[1] == '.' && !de->d_name[2])))
            continue;
        if (snprintf(f, sizeof f, "%s/%s", path, de->d_name) >= (int)sizeof f)
            continue;
        if (strncmp(de->d_name, ".tmp-", 5) == 0) {
            unlink(f);
            continue;
        }
        scanned s;
        struct stat st;
        if (!hex_key(de->d_name, s.key, &s.klen) || lstat(f, &st) != 0 || !S_ISREG(st.st_mode))
            continue;
        if (*n == *cap) {
            *cap = *cap ? *cap * 2 : 256;
            scanned *nv = realloc(*v, *cap * sizeof **v);
            if (!nv) {
                rc = sp_fail(err, SP_ENOMEM, "L2 cache: out of memory indexing %s", path);
                break;
            }
            *v = nv;
        }
        s.size = (uint64_t)st.st_size;
        s.mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec;
        (*v)[(*n)++] = s;
    }
    closedir(d);
    return rc;
}

sp_code sm_l2_open(const char *dir, uint64_t max_bytes, unsigned high_pct, unsigned low_pct,
                   sm_l2 **out, sp_err *err)
{
    *out = NULL;
    if (high_pct == 0 || high_pct > 100 || low_pct >= high_pct)
        return sp_fail(err, SP_EINVAL, "L2 cache: watermarks low %u%% and high %u%% must satisfy "
                       "0 <= low < high <= 100", low_pct, high_pct);
    if (strlen(dir) >= sizeof ((sm_l2 *)0)->dir)
        return sp_fail(err, SP_EINVAL, "L2 cache: directory path %.80s... is too long", dir);
    sm_l2 *c = calloc(1, sizeof *c);
    if (!c)
        return sp_fail(err, SP_ENOMEM, "L2 cache: out of memory");
    pthread_mutex_init(&c->mu, NULL);
    snprintf(c->dir, sizeof c->dir, "%s", dir);
    c->max = max_bytes;
    c->high = max_bytes / 100 * high_pct + max_bytes % 100 * high_pct / 100;
    c->low = max_bytes / 100 * low_pct + max_bytes % 100 * low_pct / 100;
    scanned *v = NULL;
    size_t n = 0, cap = 0;
    sp_code rc = sp_mkdir_p(dir, 0755, err);
    for (unsigned b = 0; !rc && b < 256; b++) {
        char path[PATH_MAX];
        if (snprintf(path, sizeof path, "%s/%02x", dir, b) < (int)sizeof path)
            rc = scan_bucket(path, &v, &n, &cap, err);
    }
    if (rc)
        goto fail;
    if (n)
        qsort(v, n, sizeof *v, by_mtime);
    for (size_t i = 0; i < n; i++) {
        sm_lru_entry *e = calloc(1, sizeof *e);
        if (!e) {
            rc = sp_fail(err, SP_ENOMEM, "L2 cache: out of memory");
            goto fail;
        }
        memcpy(e->key, v[i].key, v[i].klen);
        e->klen = v[i].klen;
        e->len = (size_t)v[i].size;
        e->cost = v[i].size + SM_CACHE_ENTRY_OVERHEAD;
        if (sm_lru_find(&c->lru, e->key, e->klen) || !sm_lru_add(&c->lru, e))
            free(e);
    }
    free(v);
    *out = c;
    return SP_OK;
fail:
    free(v);
    sm_l2_close(c);
    return rc;
}

void sm_l2_close(sm_l2 *c)
{
    if (!c)
        return;
    sm_lru_free_all(&c->lru);
    pthread_mutex_destroy(&c->mu);
    free(c);
}

const char *sm_l2_dir(const sm_l2 *c)
{
    return c->dir;
}

static void forget(sm_l2 *c, const uint8_t *key, size_t klen)
{
    sm_lru_entry *e = sm_lru_find(&c->lru, key, klen);
    if (e) {
        sm_lru_unlink(&c->lru, e);
        free(e);
    }
}

sp_code sm_l2_get(sm_l2 *c, const uint8_t *key, size_t klen, uint8_t **data, size_t *len,
                  bool *hit, sp_err *err)
{
    *data = NULL;
    *len = 0;
    *hit = false;
    if (klen == 0 || klen > SM_CACHE_KEY_MAX)
        return SP_OK;
    pthread_mutex_lock(&c->mu);
    sm_lru_entry *e = sm_lru_find(&c->lru, key, klen);
    size_t want = 0;
    if (e) {
        want = e->len;
        sm_lru_touch(&c->lru, e);
    } else {
        c->misses++;
    }
    pthread_mutex_unlock(&c->mu);
    if (!e)
        return SP_OK;
    char path[PATH_MAX];
    if (key_path(c, key, klen, path, sizeof path) != 0)
        return SP_OK;
    sp_code rc = SP_OK;
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    uint8_t *buf = NULL;
    size_t got = 0;
    if (fd >= 0) {
        buf = malloc(want ? want : 1);
        if (!buf) {
            rc = sp_fail(err, SP_ENOMEM, "L2 cache: out of memory");
        } else {
            while (got < want) {
                ssize_t r = pread(fd, buf + got, want - got, (off_t)got);
                if (r < 0 && errno == EINTR)
                    continue;
                if (r <= 0)
                    break;
                got += (size_t)r;
            }
        }
        close(fd);
    }
    pthread_mutex_lock(&c->mu);
    if (fd >= 0 && buf && got == want) {
        c->hits++;
        *hit = true;
    } else {
        /* Evicted meanwhile, removed by hand or short: forget it. */
        c->misses++;
        if (!rc)
            forget(c, key, klen);
    }
    pthread_mutex_unlock(&c->mu);
    if (*hit) {
        *data = buf;
        *len = got;
    } else {
        free(buf);
    }
    return rc;
}

sp_code sm_l2_put(sm_l2 *c, const uint8_t *key, size_t klen, const void *data, size_t len,
                  sp_err *err)
{
    uint64_t cost = (uint64_t)len + SM_CACHE_ENTRY_OVERHEAD;
    pthread_mutex_lock(&c->mu);
    bool skip = klen == 0 || klen > SM_CACHE_KEY_MAX || c->lru.cost + cost > c->max ||
                sm_lru_find(&c->lru, key, klen) != NULL;
    if (skip)
        c->skipped++;
    pthread_mutex_unlock(&c->mu);
    if (skip)
        return SP_OK;
    char path[PATH_MAX], tmp[PATH_MAX], bucket[PATH_MAX];
    uint32_t r = 0;
    if (getrandom(&r, sizeof r, GRND_NONBLOCK) != (ssize_t)sizeof r)
        r = (uint32_t)sp_now_ms();
    if (key_path(c, key, klen, path, sizeof path) != 0 ||
        snprintf(bucket, sizeof bucket, "%s/%02x", c->dir, key[klen - 1]) >= (int)sizeof bucket ||
        snprintf(tmp, sizeof tmp, "%s/.tmp-%d-%08x", bucket, (int)gettid(), r) >= (int)sizeof tmp)
        return sp_fail(err, SP_EINVAL, "L2 cache: path too long under %s", c->dir);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0 && errno == ENOENT) {
        if (mkdir(bucket, 0755) != 0 && errno != EEXIST)
            return sp_fail_errno(err, errno, "L2 cache: creating %s", bucket);
        fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    }
    if (fd < 0)
        return sp_fail_errno(err, errno, "L2 cache: creating %s", tmp);
    size_t done = 0;
    while (done < len) {
        ssize_t w = write(fd, (const uint8_t *)data + done, len - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0) {
            int e = errno;
            close(fd);
            unlink(tmp);
            return sp_fail_errno(err, e, "L2 cache: writing %s", tmp);
        }
        done += (size_t)w;
    }
    if (close(fd) != 0 || rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        return sp_fail_errno(err, e, "L2 cache: storing %s", path);
    }
    sm_lru_entry *ent = calloc(1, sizeof *ent);
    if (!ent)
        return sp_fail(err, SP_ENOMEM, "L2 cache: out of memory");
    memcpy(ent->key, key, klen);
    ent->klen = klen;
    ent->len = len;
    ent->cost = cost;
    pthread_mutex_lock(&c->mu);
    if (!sm_lru_find(&c->lru, key, klen) && sm_lru_add(&c->lru, ent)) {
        c->inserts++;
        ent = NULL;
    }
    pthread_mutex_unlock(&c->mu);
    free(ent);
    return SP_OK;
}

void sm_l2_remove(sm_l2 *c, const uint8_t *key, size_t klen)
{
    char path[PATH_MAX];
    if (klen == 0 || klen > SM_CACHE_KEY_MAX || key_path(c, key, klen, path, sizeof path) != 0)
        return;
    pthread_mutex_lock(&c->mu);
    forget(c, key, klen);
    pthread_mutex_unlock(&c->mu);
    unlink(path);
}

bool sm_l2_needs_eviction(sm_l2 *c)
{
    pthread_mutex_lock(&c->mu);
    bool over = c->lru.cost > c->high;
    pthread_mutex_unlock(&c->mu);
    return over;
}

size_t sm_l2_evict(sm_l2 *c)
{
    size_t n = 0;
    for (;;) {
        char path[PATH_MAX];
        bool have = false;
        pthread_mutex_lock(&c->mu);
        sm_lru_entry *e = c->lru.cost > c->low ? c->lru.oldest : NULL;
        if (e) {
            have = key_path(c, e->key, e->klen, path, sizeof path) == 0;
            sm_lru_unlink(&c->lru, e);
            free(e);
            c->evictions++;
        }
        pthread_mutex_unlock(&c->mu);
        if (!e)
            break;
        if (have && unlink(path) != 0 && errno != ENOENT)
            SP_WARN("L2 cache: removing %s: %s", path, strerror(errno));
        n++;
    }
    return n;
}

void sm_l2_stats(sm_l2 *c, sm_cache_stats *out)
{
    pthread_mutex_lock(&c->mu);
    out->hits = c->hits;
    out->misses = c->misses;
    out->inserts = c->inserts;
    out->evictions = c->evictions;
    out->skipped = c->skipped;
    out->bytes = c->lru.cost;
    out->entries = c->lru.n;
    out->max_bytes = c->max;
    pthread_mutex_unlock(&c->mu);
}
