/* finalize.c — copying a sealed sector to its persist store with verification
 * (wk_finalize.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "sp_fs.h"
#include "sp_json.h"
#include "sp_log.h"
#include "wk_finalize.h"
#include "wk_testhook.h"

#define CHUNK (1u << 20)

/* SHA-256 of a whole open file from offset 0; *size gets the bytes read. */
static sp_code hash_fd(int fd, const char *path, uint8_t *buf, uint8_t out[32], uint64_t *size,
                       const volatile int *cancel, sp_err *err)
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    if (!md || !EVP_DigestInit_ex(md, EVP_sha256(), NULL)) {
        EVP_MD_CTX_free(md);
        return sp_fail(err, SP_ENOMEM, "%s: cannot start a SHA-256", path);
    }
    uint64_t off = 0;
    sp_code rc = SP_OK;
    for (;;) {
        if (cancel && __atomic_load_n(cancel, __ATOMIC_ACQUIRE)) {
            rc = sp_fail(err, SP_EBUSY, "%s: cancelled", path);
            break;
        }
        ssize_t n = pread(fd, buf, CHUNK, (off_t)off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = sp_fail_errno(err, errno, "%s: read", path);
            break;
        }
        if (n == 0)
            break;
        EVP_DigestUpdate(md, buf, (size_t)n);
        off += (uint64_t)n;
    }
    unsigned len = 0;
    if (rc == SP_OK)
        EVP_DigestFinal_ex(md, out, &len);
    EVP_MD_CTX_free(md);
    *size = off;
    return rc;
}

static sp_code write_all(int fd, const uint8_t *b, size_t n, const char *path, sp_err *err)
{
    while (n) {
        ssize_t w = write(fd, b, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return sp_fail_errno(err, errno, "%s: write", path);
        b += w;
        n -= (size_t)w;
    }
    return SP_OK;
}

static void dir_of(const char *path, char *dir, size_t len)
{
    snprintf(dir, len, "%s", path);
    char *s = strrchr(dir, '/');
    if (s && s != dir)
        *s = 0;
    else
        snprintf(dir, len, "%s", s ? "/" : ".");
}

sp_code wk_copy_verified(const char *src, const char *dst, const volatile int *cancel,
                         uint64_t *bytes, sp_err *err)
{
    char tmp[4200], dir[4200];
    int in = -1, out = -1;
    uint8_t *buf = NULL;
    EVP_MD_CTX *md = NULL;
    sp_code rc = SP_OK;
    uint8_t h_src[32], h_dst[32];
    uint64_t copied = 0, readback = 0;
    snprintf(tmp, sizeof tmp, "%s.tmp", dst);
    dir_of(dst, dir, sizeof dir);
    if ((in = open(src, O_RDONLY | O_CLOEXEC)) < 0)
        return sp_fail_errno(err, errno, "%s", src);
    buf = malloc(CHUNK);
    md = EVP_MD_CTX_new();
    if (!buf || !md || !EVP_DigestInit_ex(md, EVP_sha256(), NULL)) {
        rc = sp_fail(err, SP_ENOMEM, "copy %s: out of memory", src);
        goto done;
    }
    if ((out = open(tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0) {
        rc = sp_fail_errno(err, errno, "%s", tmp);
        goto done;
    }
    for (;;) {
        if (cancel && __atomic_load_n(cancel, __ATOMIC_ACQUIRE)) {
            rc = sp_fail(err, SP_EBUSY, "copy %s: cancelled", src);
            goto done;
        }
        ssize_t n = read(in, buf, CHUNK);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = sp_fail_errno(err, errno, "%s: read", src);
            goto done;
        }
        if (n == 0)
            break;
        EVP_DigestUpdate(md, buf, (size_t)n);
        if ((rc = write_all(out, buf, (size_t)n, tmp, err)))
            goto done;
        copied += (uint64_t)n;
    }
    unsigned hl = 0;
    EVP_DigestFinal_ex(md, h_src, &hl);
    if (fsync(out) != 0) {
        rc = sp_fail_errno(err, errno, "%s: fsync", tmp);
        goto done;
    }
    /* read the copy back: what the store holds, not what we meant to write */
    posix_fadvise(out, 0, 0, POSIX_FADV_DONTNEED);
    if ((rc = hash_fd(out, tmp, buf, h_dst, &readback, cancel, err)))
        goto done;
    if (readback != copied || memcmp(h_src, h_dst, 32) != 0) {
        rc = sp_fail(err, SP_ECORRUPT, "%s: the copy of %s reads back %s (%llu of %llu bytes); "
                     "check the store's disk", tmp, src,
                     readback != copied ? "short" : "with a different SHA-256",
                     (unsigned long long)readback, (unsigned long long)copied);
        goto done;
    }
    close(out);
    out = -1;
    if (rename(tmp, dst) != 0) {
        rc = sp_fail_errno(err, errno, "rename %s -> %s", tmp, dst);
        goto done;
    }
    rc = sp_fsync_dir(dir, err);
done:
    if (out >= 0)
        close(out);
    if (rc && rc != SP_OK)
        unlink(tmp);
    if (in >= 0)
        close(in);
    EVP_MD_CTX_free(md);
    free(buf);
    if (bytes)
        *bytes = copied;
    return rc;
}

static bool is_proving_file(const char *name)
{
    size_t n = strlen(name);
    if (!strcmp(name, "p_aux") || !strcmp(name, "t_aux"))
        return true;
    return !strncmp(name, "sc-02-data-tree-r-last", 22) && n > 4 && !strcmp(name + n - 4, ".dat");
}

/* ---- stores ------------------------------------------------------------------------ */

typedef struct store_ref {
    const char *name;
    const char *root;
    dev_t dev;
    ino_t ino;
} store_ref;

/* The store is there and is itself: see wk_finalize.h. */
static sp_code store_open(store_ref *s, const char *name, const char *root, sp_err *err)
{
    struct stat st;
    char meta[4200], *text = NULL;
    size_t n = 0;
    s->name = name;
    s->root = root;
    if (stat(root, &st) != 0 || !S_ISDIR(st.st_mode))
        return sp_fail(err, SP_EIO, "store %s: %s is not a directory here (unmounted or removed?); "
                       "the worker never creates a store: mount it or restore the directory",
                       name, root);
    s->dev = st.st_dev;
    s->ino = st.st_ino;
    snprintf(meta, sizeof meta, "%s/sectorstore.json", root);
    if (sp_read_file(meta, 1 << 20, &text, &n, NULL) != SP_OK)
        return sp_fail(err, SP_EIO, "store %s: %s has no readable sectorstore.json, so it is not "
                       "the store's filesystem (not mounted?); the manager writes that file when "
                       "it declares the store", name, root);
    cJSON *o = NULL;
    bool ok = sp_json_parse(text, n, 16, &o, NULL) == SP_OK;
    const cJSON *id = ok ? cJSON_GetObjectItemCaseSensitive(o, "ID") : NULL;
    ok = cJSON_IsString(id) && strcmp(id->valuestring, name) == 0;
    char other[128];
    snprintf(other, sizeof other, "%s", cJSON_IsString(id) ? id->valuestring : "?");
    cJSON_Delete(o);
    free(text);
    if (!ok)
        return sp_fail(err, SP_EIO, "store %s: %s names store \"%s\", not this one; is another "
                       "disk mounted at %s?", name, meta, other, root);
    return SP_OK;
}

/* The root is still the directory store_open saw. */
static sp_code store_check(const store_ref *s, sp_err *err)
{
    struct stat st;
    if (stat(s->root, &st) != 0 || !S_ISDIR(st.st_mode) || st.st_dev != s->dev ||
        st.st_ino != s->ino)
        return sp_fail(err, SP_EIO, "store %s: %s disappeared or changed during the copy "
                       "(unmounted, removed or replaced); the copy stopped so that nothing is "
                       "written outside the store: bring the store back", s->name, s->root);
    return SP_OK;
}

/* Makes the directories of <root>/<rel>'s parent below the root, one level at a time. */
static sp_code mkdirs_below(const store_ref *s, const char *rel, sp_err *err)
{
    char path[4200];
    int len = snprintf(path, sizeof path, "%s/%s", s->root, rel);
    if (len < 0 || (size_t)len >= sizeof path)
        return sp_fail(err, SP_EINVAL, "store %s: path %s/%s is too long", s->name, s->root, rel);
    char *last = strrchr(path, '/');
    size_t root_len = strlen(s->root);
    for (char *p = path + root_len + 1; last && p < last; p++) {
        if (*p != '/')
            continue;
        *p = 0;
        if (mkdir(path, 0755) != 0 && errno != EEXIST) {
            int e = errno;
            *p = '/';
            return sp_fail_errno(err, e, "store %s: mkdir %.*s", s->name, (int)(p - path), path);
        }
        *p = '/';
    }
    if (last && last > path + root_len) {
        *last = 0;
        if (mkdir(path, 0755) != 0 && errno != EEXIST)
            return sp_fail_errno(err, errno, "store %s: mkdir %s", s->name, path);
    }
    return SP_OK;
}

static sp_code copy_one(const store_ref *s, const char *src, const char *rel,
                        const volatile int *cancel, uint64_t *bytes, sp_err *err)
{
    char dst[4200];
    sp_code rc;
    snprintf(dst, sizeof dst, "%s/%s", s->root, rel);
    if ((rc = store_check(s, err)) || (rc = mkdirs_below(s, rel, err)) ||
        (rc = wk_copy_verified(src, dst, cancel, bytes, err)))
        return rc;
    return store_check(s, err);
}

sp_code wk_copy_into_store(const char *src, const char *store, const char *store_root,
                           const char *rel, const volatile int *cancel, uint64_t *bytes,
                           sp_err *err)
{
    store_ref s;
    sp_code rc = store_open(&s, store, store_root, err);
    return rc ? rc : copy_one(&s, src, rel, cancel, bytes, err);
}

sp_code wk_persist_copy(const char *sealed, const char *cache_dir, const char *store,
                        const char *store_root, const char *name, const volatile int *cancel,
                        wk_persist_result *res, sp_err *err)
{
    char rel[600];
    uint64_t bytes = 0;
    store_ref sr;
    sp_code rc;
    res->files = 0;
    res->bytes = 0;
    if ((rc = store_open(&sr, store, store_root, err)))
        return rc;
    snprintf(rel, sizeof rel, "sealed/%s", name);
    if ((rc = copy_one(&sr, sealed, rel, cancel, &bytes, err)))
        return rc;
    res->files++;
    res->bytes += bytes;
    wk_test_pause("finalize", cancel);

    DIR *d = opendir(cache_dir);
    if (!d)
        return sp_fail_errno(err, errno, "%s", cache_dir);
    bool p_aux = false, tree_r = false;
    struct dirent *e;
    char src[4200];
    rc = SP_OK;
    while (rc == SP_OK && (e = readdir(d)) != NULL) {
        if (!is_proving_file(e->d_name))
            continue;
        snprintf(src, sizeof src, "%s/%s", cache_dir, e->d_name);
        snprintf(rel, sizeof rel, "cache/%s/%s", name, e->d_name);
        if ((rc = copy_one(&sr, src, rel, cancel, &bytes, err)))
            break;
        p_aux |= !strcmp(e->d_name, "p_aux");
        tree_r |= !strncmp(e->d_name, "sc-02-data-tree-r-last", 22);
        res->files++;
        res->bytes += bytes;
    }
    closedir(d);
    if (rc)
        return rc;
    if (!p_aux || !tree_r)
        return sp_fail(err, SP_ENOTFOUND, "%s has no %s; the sector's PC2 output is missing", cache_dir,
                       !p_aux ? "p_aux" : "sc-02-data-tree-r-last*.dat");
    return SP_OK;
}
