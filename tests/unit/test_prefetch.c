/* test_prefetch.c — sm_prefetch: which requests start, continue or are refused a stream,
 * how many bytes each stream reads (the window past a continued request, never past the
 * end of the file), that they land in the page cache (mincore after dropping the file's
 * pages), idle streams closing (also for a file removed meanwhile), a walk starting over,
 * and bytes read by interleaved readers while streams run. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "sm_prefetch.h"
#include "sp_fs.h"

#define MIB (1u << 20)
#define FILE_SIZE (16 * MIB)

typedef struct fixture {
    char dir[256];
    char path[300];
    int fd;
} fixture;

/* Byte i of the test file: position-dependent so a misplaced read shows. */
static uint8_t pattern(uint64_t i) { return (uint8_t)((i * 2654435761u) >> 13); }

static void write_file(const char *path, uint64_t size)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    assert_true(fd >= 0);
    uint8_t *buf = malloc(MIB);
    assert_non_null(buf);
    for (uint64_t off = 0; off < size; off += MIB) {
        for (uint64_t i = 0; i < MIB; i++)
            buf[i] = pattern(off + i);
        assert_int_equal(write(fd, buf, MIB), (ssize_t)MIB);
    }
    assert_int_equal(fsync(fd), 0);
    close(fd);
    free(buf);
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    const char *tmp = getenv("TMPDIR");
    snprintf(f->dir, sizeof f->dir, "%s/test_prefetch.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(f->dir))
        return -1;
    snprintf(f->path, sizeof f->path, "%s/piece", f->dir);
    write_file(f->path, FILE_SIZE);
    f->fd = open(f->path, O_RDONLY | O_CLOEXEC);
    *state = f;
    return f->fd >= 0 ? 0 : -1;
}

static int teardown(void **state)
{
    fixture *f = *state;
    close(f->fd);
    unlink(f->path);
    rmdir(f->dir);
    free(f);
    return 0;
}

/* Pages of [off, off + len) of fd in the page cache. */
static size_t resident_pages(int fd, uint64_t off, uint64_t len)
{
    long page = sysconf(_SC_PAGESIZE);
    void *m = mmap(NULL, FILE_SIZE, PROT_READ, MAP_SHARED, fd, 0);
    assert_true(m != MAP_FAILED);
    size_t n = (size_t)(len / (uint64_t)page);
    unsigned char *vec = calloc(n ? n : 1, 1);
    assert_int_equal(mincore((char *)m + off, len, vec), 0);
    size_t in = 0;
    for (size_t i = 0; i < n; i++)
        in += vec[i] & 1;
    free(vec);
    munmap(m, FILE_SIZE);
    return in;
}

/* Drops the file's pages; false where the file system keeps them (tmpfs). */
static bool drop_pages(int fd)
{
    posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
    return resident_pages(fd, 0, FILE_SIZE) == 0;
}

static sm_prefetch *start(unsigned ahead_mib, unsigned max_streams, unsigned idle_ms)
{
    sm_prefetch_opts o = { .ahead = (uint64_t)ahead_mib * MIB, .chunk = MIB, .max_streams = max_streams,
                           .idle_ms = idle_ms };
    sm_prefetch *pf = NULL;
    sp_err err;
    assert_int_equal(sm_prefetch_new(&o, &pf, &err), SP_OK);
    return pf;
}

static void test_streams_and_windows(void **state)
{
    fixture *f = *state;
    bool dropped = drop_pages(f->fd);
    sm_prefetch *pf = start(4, 4, 10000);
    sm_prefetch_stats s;

    /* a first request: a stream that reads just its range */
    assert_true(sm_prefetch_note(pf, f->fd, 2 * MIB, 3 * MIB));
    assert_true(sm_prefetch_wait_idle(pf, 10000));
    sm_prefetch_get_stats(pf, &s);
    assert_int_equal(s.streams_started, 1);
    assert_int_equal(s.continued, 0);
    assert_int_equal(s.bytes, 1 * MIB);
    assert_int_equal(s.open_streams, 1);

    /* the next range continues it: read up to 4 MiB past its end (2..8 MiB in all) */
    assert_true(sm_prefetch_note(pf, f->fd, 3 * MIB, 4 * MIB));
    assert_true(sm_prefetch_wait_idle(pf, 10000));
    sm_prefetch_get_stats(pf, &s);
    assert_int_equal(s.streams_started, 1);
    assert_int_equal(s.continued, 1);
    assert_int_equal(s.bytes, 6 * MIB);
    if (dropped)
        assert_int_equal(resident_pages(f->fd, 2 * MIB, 6 * MIB), 6 * MIB / (uint64_t)sysconf(_SC_PAGESIZE));

    /* a request behind the furthest one (another client of the same walk) continues it too */
    assert_true(sm_prefetch_note(pf, f->fd, 2 * MIB, 3 * MIB));
    sm_prefetch_get_stats(pf, &s);
    assert_int_equal(s.continued, 2);

    /* far past the window: another stream, reading its range only */
    assert_true(sm_prefetch_note(pf, f->fd, 14 * MIB, 15 * MIB));
    assert_true(sm_prefetch_wait_idle(pf, 10000));
    sm_prefetch_get_stats(pf, &s);
    assert_int_equal(s.streams_started, 2);
    assert_int_equal(s.open_streams, 2);
    assert_int_equal(s.bytes, 7 * MIB);

    /* continuing at the end of the file: the window stops there */
    assert_true(sm_prefetch_note(pf, f->fd, 15 * MIB, 16 * MIB + 12345));
    assert_true(sm_prefetch_wait_idle(pf, 10000));
    sm_prefetch_get_stats(pf, &s);
    assert_int_equal(s.streams_started, 2);
    assert_int_equal(s.continued, 3);
    assert_int_equal(s.bytes, 8 * MIB);
    if (dropped)
        assert_int_equal(resident_pages(f->fd, 14 * MIB, 2 * MIB), 2 * MIB / (uint64_t)sysconf(_SC_PAGESIZE));

    /* nothing to read: an empty range, a range past the end, not a regular file */
    assert_false(sm_prefetch_note(pf, f->fd, 5 * MIB, 5 * MIB));
    assert_false(sm_prefetch_note(pf, f->fd, FILE_SIZE, FILE_SIZE + 10));
    int p[2];
    assert_int_equal(pipe(p), 0);
    assert_false(sm_prefetch_note(pf, p[0], 0, 100));
    close(p[0]);
    close(p[1]);
    assert_false(sm_prefetch_note(NULL, f->fd, 0, 100));
    sm_prefetch_get_stats(pf, &s);
    assert_int_equal(s.streams_started, 2);
    assert_int_equal(s.bytes, 8 * MIB);
    sm_prefetch_free(pf);
}

static void test_slots_and_idle(void **state)
{
    fixture *f = *state;
    char other[320], third[320];
    snprintf(other, sizeof other, "%s.b", f->path);
    snprintf(third, sizeof third, "%s.c", f->path);
    write_file(other, 2 * MIB);
    write_file(third, 2 * MIB);
    int fb = open(other, O_RDONLY | O_CLOEXEC), fc = open(third, O_RDONLY | O_CLOEXEC);
    assert_true(fb >= 0 && fc >= 0);
    sm_prefetch *pf = start(1, 2, 1000);
    sm_prefetch_stats s;

    /* two slots, both asked just now: a third file gets none */
    assert_true(sm_prefetch_note(pf, f->fd, 0, MIB));
    assert_true(sm_prefetch_note(pf, fb, 0, MIB));
    assert_true(sm_prefetch_wait_idle(pf, 10000));
    assert_false(sm_prefetch_note(pf, fc, 0, MIB));
    sm_prefetch_get_stats(pf, &s);
    assert_int_equal(s.refused, 1);
    assert_int_equal(s.open_streams, 2);

    /* once a stream was left alone for a while its slot goes to the new file */
    sp_sleep_ms(300);
    assert_true(sm_prefetch_note(pf, f->fd, MIB, 2 * MIB)); /* keeps the first one fresh */
    assert_true(sm_prefetch_note(pf, fc, 0, MIB));
    assert_true(sm_prefetch_wait_idle(pf, 10000));
    sm_prefetch_get_stats(pf, &s);
    assert_int_equal(s.streams_started, 3);
    assert_int_equal(s.open_streams, 2);

    /* a file removed while its stream is open: the stream reads on from its own open file
     * and closes when idle, like every other */
    assert_true(sm_prefetch_note(pf, fc, MIB, 2 * MIB));
    assert_int_equal(unlink(third), 0);
    assert_true(sm_prefetch_wait_idle(pf, 10000));
    for (int i = 0; i < 100; i++) {
        sm_prefetch_get_stats(pf, &s);
        if (s.open_streams == 0)
            break;
        sp_sleep_ms(50);
    }
    assert_int_equal(s.open_streams, 0);
    sm_prefetch_free(pf);
    close(fb);
    close(fc);
    unlink(other);
}

/* A walk that starts over meets the finished stream of its first pass near the end: its
 * requests go to the stream of the new pass (the nearest), which reads everything again. */
static void test_walk_restarts(void **state)
{
    fixture *f = *state;
    sm_prefetch *pf = start(1, 4, 10000);
    sm_prefetch_stats s;
    for (int pass = 1; pass <= 2; pass++) {
        for (uint64_t off = 0; off < FILE_SIZE; off += MIB)
            assert_true(sm_prefetch_note(pf, f->fd, off, off + MIB));
        assert_true(sm_prefetch_wait_idle(pf, 10000));
        sm_prefetch_get_stats(pf, &s);
        assert_int_equal(s.streams_started, (uint64_t)pass);
        assert_int_equal(s.continued, (uint64_t)pass * (FILE_SIZE / MIB - 1));
        assert_int_equal(s.bytes, (uint64_t)pass * FILE_SIZE);
    }
    assert_int_equal(s.open_streams, 2);
    sm_prefetch_free(pf);
}

typedef struct reader {
    const char *path;
    sm_prefetch *pf;
    unsigned index, n;
    uint64_t range;
    int bad;
} reader;

/* One client of a walk split among n: its own open file per request, like the server. */
static void *reader_main(void *arg)
{
    reader *r = arg;
    uint8_t *buf = malloc(r->range);
    for (uint64_t off = (uint64_t)r->index * r->range; buf && off < FILE_SIZE; off += r->n * r->range) {
        int fd = open(r->path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            r->bad++;
            break;
        }
        sm_prefetch_note(r->pf, fd, off, off + r->range);
        ssize_t got = pread(fd, buf, r->range, (off_t)off);
        close(fd);
        if (got != (ssize_t)r->range) {
            r->bad++;
            continue;
        }
        for (uint64_t i = 0; i < r->range; i++)
            if (buf[i] != pattern(off + i)) {
                r->bad++;
                break;
            }
    }
    free(buf);
    return NULL;
}

static void test_interleaved_readers(void **state)
{
    fixture *f = *state;
    drop_pages(f->fd);
    sm_prefetch *pf = start(4, 8, 10000);
    reader r[4];
    pthread_t t[4];
    for (unsigned i = 0; i < 4; i++) {
        r[i] = (reader){ .path = f->path, .pf = pf, .index = i, .n = 4, .range = 512 * 1024 };
        assert_int_equal(pthread_create(&t[i], NULL, reader_main, &r[i]), 0);
    }
    for (unsigned i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        assert_int_equal(r[i].bad, 0);
    }
    assert_true(sm_prefetch_wait_idle(pf, 10000));
    sm_prefetch_stats s;
    sm_prefetch_get_stats(pf, &s);
    /* the four clients' requests are one walk: one stream (two if the second client's
     * first request was noted before the first one's), the rest continue it */
    assert_true(s.streams_started >= 1 && s.streams_started <= 4);
    assert_int_equal(s.streams_started + s.continued + s.refused, FILE_SIZE / (512 * 1024));
    assert_true(s.bytes <= 2 * (uint64_t)FILE_SIZE);
    sm_prefetch_free(pf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_streams_and_windows, setup, teardown),
        cmocka_unit_test_setup_teardown(test_slots_and_idle, setup, teardown),
        cmocka_unit_test_setup_teardown(test_walk_restarts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_interleaved_readers, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
