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
    if ((rc = sp_mkdir_p(dir, 0755, err)))
        return rc;
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

sp_code wk_persist_copy(const char *sealed, const char *cache_dir, const char *store_root,
                        const char *name, const volatile int *cancel, wk_persist_result *res,
                        sp_err *err)
{
    char dst[4200];
    uint64_t bytes = 0;
    sp_code rc;
    res->files = 0;
    res->bytes = 0;
    if (!sp_is_dir(store_root))
        return sp_fail(err, SP_ENOTFOUND, "store %s is not a directory here; is it mounted?",
                       store_root);
    snprintf(dst, sizeof dst, "%s/sealed/%s", store_root, name);
    if ((rc = wk_copy_verified(sealed, dst, cancel, &bytes, err)))
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
        snprintf(dst, sizeof dst, "%s/cache/%s/%s", store_root, name, e->d_name);
        if ((rc = wk_copy_verified(src, dst, cancel, &bytes, err)))
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
