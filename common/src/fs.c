/* fs.c — sp_fs: directories, whole-file reads, atomic writes, tree removal, clocks. */
#include "sp_fs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

sp_code sp_mkdir_p(const char *path, mode_t mode, sp_err *err)
{
    char buf[4096];
    if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf)
        return sp_fail(err, SP_EINVAL, "path too long: %s", path);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = 0;
        if (mkdir(buf, mode) != 0 && errno != EEXIST)
            return sp_fail_errno(err, errno, "mkdir %s", buf);
        *p = '/';
    }
    if (mkdir(buf, mode) != 0 && errno != EEXIST)
        return sp_fail_errno(err, errno, "mkdir %s", buf);
    if (!sp_is_dir(buf))
        return sp_fail(err, SP_EEXIST, "%s exists and is not a directory", buf);
    return SP_OK;
}

sp_code sp_read_file(const char *path, size_t max, char **out, size_t *out_len, sp_err *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return sp_fail_errno(err, errno, "open %s", path);
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap + 1);
    sp_code rc = SP_OK;
    if (!buf) {
        rc = sp_fail(err, SP_ENOMEM, "read %s: out of memory", path);
        goto fail;
    }
    for (;;) {
        if (len == cap) {
            if (cap >= max) {
                rc = sp_fail(err, SP_EINVAL, "%s: larger than the limit of %zu bytes", path, max);
                goto fail;
            }
            cap = cap * 2 > max ? max : cap * 2;
            char *nb = realloc(buf, cap + 1);
            if (!nb) {
                rc = sp_fail(err, SP_ENOMEM, "read %s: out of memory", path);
                goto fail;
            }
            buf = nb;
        }
        ssize_t n = read(fd, buf + len, cap - len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            rc = sp_fail_errno(err, errno, "read %s", path);
            goto fail;
        }
        if (n == 0)
            break;
        len += (size_t)n;
    }
    close(fd);
    buf[len] = 0;
    *out = buf;
    if (out_len)
        *out_len = len;
    return SP_OK;
fail:
    free(buf);
    close(fd);
    return rc;
}

sp_code sp_fsync_dir(const char *dir, sp_err *err)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return sp_fail_errno(err, errno, "open directory %s", dir);
    int r = fsync(fd);
    int e = errno;
    close(fd);
    if (r != 0 && e != EINVAL)
        return sp_fail_errno(err, e, "fsync directory %s", dir);
    return SP_OK;
}

static sp_code write_all(int fd, const void *data, size_t len, const char *path, sp_err *err)
{
    const char *p = data;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return sp_fail_errno(err, errno, "write %s", path);
        }
        p += n;
        len -= (size_t)n;
    }
    return SP_OK;
}

static void dir_of(const char *path, char *out, size_t len)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s", path);
    snprintf(out, len, "%s", dirname(tmp));
}

sp_code sp_write_file_atomic(const char *path, const void *data, size_t len, mode_t mode,
                             sp_err *err)
{
    char tmp[4096], dir[4096];
    if (snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid()) >= (int)sizeof tmp)
        return sp_fail(err, SP_EINVAL, "path too long: %s", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0)
        return sp_fail_errno(err, errno, "create %s", tmp);
    sp_code rc = write_all(fd, data, len, tmp, err);
    if (!rc && fsync(fd) != 0)
        rc = sp_fail_errno(err, errno, "fsync %s", tmp);
    if (close(fd) != 0 && !rc)
        rc = sp_fail_errno(err, errno, "close %s", tmp);
    if (!rc && fchmodat(AT_FDCWD, tmp, mode, 0) != 0)
        rc = sp_fail_errno(err, errno, "chmod %s", tmp);
    if (!rc && rename(tmp, path) != 0)
        rc = sp_fail_errno(err, errno, "rename %s to %s", tmp, path);
    if (rc) {
        unlink(tmp);
        return rc;
    }
    dir_of(path, dir, sizeof dir);
    return sp_fsync_dir(dir, err);
}

static int remove_cb(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb; (void)flag; (void)ftw;
    return remove(p) != 0 && errno != ENOENT ? -1 : 0;
}

sp_code sp_remove_tree(const char *path, sp_err *err)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return errno == ENOENT ? SP_OK : sp_fail_errno(err, errno, "stat %s", path);
    if (!S_ISDIR(st.st_mode))
        return unlink(path) == 0 || errno == ENOENT ? SP_OK : sp_fail_errno(err, errno, "unlink %s", path);
    if (nftw(path, remove_cb, 32, FTW_DEPTH | FTW_PHYS) != 0)
        return sp_fail_errno(err, errno, "remove %s", path);
    return SP_OK;
}

int sp_path_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

int sp_is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

int64_t sp_file_size(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
        return -1;
    return (int64_t)st.st_size;
}

int sp_path_join(char *out, size_t len, const char *a, const char *b)
{
    size_t la = strlen(a);
    int n = snprintf(out, len, "%s%s%s", a, (la && a[la - 1] == '/') ? "" : "/", b);
    return n < 0 || (size_t)n >= len ? -1 : 0;
}

sp_code sp_copy_file(const char *src, const char *dst, uint64_t *copied, sp_err *err)
{
    char tmp[4096], dir[4096];
    if (snprintf(tmp, sizeof tmp, "%s.copy.%ld", dst, (long)getpid()) >= (int)sizeof tmp)
        return sp_fail(err, SP_EINVAL, "path too long: %s", dst);
    int in = open(src, O_RDONLY | O_CLOEXEC);
    if (in < 0)
        return sp_fail_errno(err, errno, "open %s", src);
    int out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (out < 0) {
        sp_code rc = sp_fail_errno(err, errno, "create %s", tmp);
        close(in);
        return rc;
    }
    sp_code rc = SP_OK;
    uint64_t total = 0;
    size_t bufsz = 1 << 20;
    char *buf = malloc(bufsz);
    if (!buf)
        rc = sp_fail(err, SP_ENOMEM, "copy %s: out of memory", src);
    while (!rc) {
        ssize_t n = read(in, buf, bufsz);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            rc = sp_fail_errno(err, errno, "read %s", src);
            break;
        }
        if (n == 0)
            break;
        rc = write_all(out, buf, (size_t)n, tmp, err);
        total += (uint64_t)n;
    }
    free(buf);
    if (!rc && fsync(out) != 0)
        rc = sp_fail_errno(err, errno, "fsync %s", tmp);
    if (close(out) != 0 && !rc)
        rc = sp_fail_errno(err, errno, "close %s", tmp);
    close(in);
    if (!rc && rename(tmp, dst) != 0)
        rc = sp_fail_errno(err, errno, "rename %s to %s", tmp, dst);
    if (rc) {
        unlink(tmp);
        return rc;
    }
    if (copied)
        *copied = total;
    dir_of(dst, dir, sizeof dir);
    return sp_fsync_dir(dir, err);
}

uint64_t sp_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

uint64_t sp_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void sp_cond_wait_ms(pthread_cond_t *cv, pthread_mutex_t *mu, uint64_t ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += (time_t)(ms / 1000);
    ts.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    pthread_cond_timedwait(cv, mu, &ts);
}

void sp_sleep_ms(uint64_t ms)
{
    struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}
