/* prefetch.c — sm_prefetch: one thread reading files into the page cache ahead of the
 * readers that walk them in ranges (sm_prefetch.h says why and when). */
#include "sm_prefetch.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "sp_fs.h"

#define MAX_STREAMS 64
/* A request this many windows behind the furthest one asked still continues a stream:
 * many clients splitting a piece, some slower than others, spread that far. */
#define BEHIND 4
/* A stream asked nothing for this long may give its slot to a new one. */
#define EVICT_MS 250

typedef struct ra_stream {
    bool used;
    bool busy;      /* the thread is reading from fd without the lock */
    uint64_t gen;   /* which stream holds the slot: a waiter's stream may have left it */
    dev_t dev;
    ino_t ino;
    int fd;         /* our own open file description: its own readahead state */
    uint64_t size;
    uint64_t pos;   /* read into the page cache up to here */
    uint64_t want;  /* the furthest end a reader asked for */
    uint64_t limit; /* the thread reads up to here */
    uint64_t last_ms;
} ra_stream;

struct sm_prefetch {
    sm_prefetch_opts opts;
    pthread_mutex_t mu;
    pthread_cond_t cv;   /* work arrived, or stop */
    pthread_cond_t idle; /* the thread found nothing to read */
    pthread_cond_t progress; /* a stream's pos moved */
    pthread_t thread;
    bool started;
    bool stop;
    int null_fd;
    unsigned next;       /* round robin among streams with work */
    uint64_t gens;       /* streams ever started: each one's gen */
    sm_prefetch_stats stats;
    ra_stream streams[MAX_STREAMS];
};

static void stream_close(sm_prefetch *pf, ra_stream *s)
{
    if (s->fd >= 0)
        close(s->fd);
    memset(s, 0, sizeof *s);
    s->fd = -1;
    pf->stats.open_streams--;
}

static bool has_work(const ra_stream *s) { return s->used && !s->busy && s->pos < s->limit; }

/* The next stream with bytes to read, taking turns so one long stream starves no other. */
static ra_stream *next_work(sm_prefetch *pf)
{
    unsigned n = pf->opts.max_streams;
    for (unsigned i = 0; i < n; i++) {
        ra_stream *s = &pf->streams[(pf->next + i) % n];
        if (has_work(s)) {
            pf->next = (pf->next + i + 1) % n;
            return s;
        }
    }
    return NULL;
}

static void expire_idle(sm_prefetch *pf, uint64_t now)
{
    for (unsigned i = 0; i < pf->opts.max_streams; i++) {
        ra_stream *s = &pf->streams[i];
        if (s->used && !s->busy && now - s->last_ms >= pf->opts.idle_ms)
            stream_close(pf, s);
    }
}

/* Reads [off, off + len) of fd into the page cache: sendfile to /dev/null goes through
 * the file's own readahead (large folios, the next window started while this one is
 * read) and copies nothing.  Returns the bytes read, 0 at the end of the file, -1. */
static ssize_t read_ahead(int null_fd, int fd, uint64_t off, uint64_t len)
{
    off_t o = (off_t)off;
    uint64_t done = 0;
    while (done < len) {
        ssize_t r = sendfile(null_fd, fd, &o, (size_t)(len - done));
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return done ? (ssize_t)done : r;
        done += (uint64_t)r;
    }
    return (ssize_t)done;
}

static void *prefetch_main(void *arg)
{
    sm_prefetch *pf = arg;
    pthread_mutex_lock(&pf->mu);
    while (!pf->stop) {
        uint64_t now = sp_now_ms();
        expire_idle(pf, now);
        ra_stream *s = next_work(pf);
        if (!s) {
            pthread_cond_broadcast(&pf->idle);
            sp_cond_wait_ms(&pf->cv, &pf->mu, pf->opts.idle_ms);
            continue;
        }
        uint64_t off = s->pos, len = s->limit - s->pos;
        if (len > pf->opts.chunk)
            len = pf->opts.chunk;
        int fd = s->fd;
        s->busy = true;
        pthread_mutex_unlock(&pf->mu);
        ssize_t got = read_ahead(pf->null_fd, fd, off, len);
        pthread_mutex_lock(&pf->mu);
        s->busy = false;
        if (got > 0) {
            s->pos = off + (uint64_t)got;
            pf->stats.bytes += (uint64_t)got;
            pthread_cond_broadcast(&pf->progress);
        } else {
            /* the file ended early or cannot be read: nothing more to do for it; the
             * readers see the error themselves */
            s->pos = s->limit = s->size;
            pthread_cond_broadcast(&pf->progress);
        }
    }
    pthread_cond_broadcast(&pf->idle);
    pthread_mutex_unlock(&pf->mu);
    return NULL;
}

sp_code sm_prefetch_new(const sm_prefetch_opts *opts, sm_prefetch **out, sp_err *err)
{
    *out = NULL;
    sm_prefetch *pf = calloc(1, sizeof *pf);
    if (!pf)
        return sp_fail(err, SP_ENOMEM, "prefetch: out of memory");
    if (opts)
        pf->opts = *opts;
    if (!pf->opts.ahead)
        pf->opts.ahead = 32u << 20;
    if (!pf->opts.chunk)
        pf->opts.chunk = 1u << 20;
    if (!pf->opts.max_streams)
        pf->opts.max_streams = 8;
    if (pf->opts.max_streams > MAX_STREAMS)
        pf->opts.max_streams = MAX_STREAMS;
    if (!pf->opts.idle_ms)
        pf->opts.idle_ms = 2000;
    if (!pf->opts.wait_ms)
        pf->opts.wait_ms = 100;
    for (unsigned i = 0; i < MAX_STREAMS; i++)
        pf->streams[i].fd = -1;
    pf->null_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
    if (pf->null_fd < 0) {
        sp_code rc = sp_fail_errno(err, errno, "prefetch: cannot open /dev/null");
        free(pf);
        return rc;
    }
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_mutex_init(&pf->mu, NULL);
    pthread_cond_init(&pf->cv, &ca);
    pthread_cond_init(&pf->idle, &ca);
    pthread_cond_init(&pf->progress, &ca);
    pthread_condattr_destroy(&ca);
    int e = pthread_create(&pf->thread, NULL, prefetch_main, pf);
    if (e != 0) {
        sm_prefetch_free(pf);
        return sp_fail_errno(err, e, "prefetch: cannot start its thread");
    }
    pf->started = true;
    *out = pf;
    return SP_OK;
}

void sm_prefetch_free(sm_prefetch *pf)
{
    if (!pf)
        return;
    if (pf->started) {
        pthread_mutex_lock(&pf->mu);
        pf->stop = true;
        pthread_cond_broadcast(&pf->cv);
        pthread_mutex_unlock(&pf->mu);
        pthread_join(pf->thread, NULL);
    }
    for (unsigned i = 0; i < MAX_STREAMS; i++)
        if (pf->streams[i].used)
            stream_close(pf, &pf->streams[i]);
    if (pf->null_fd >= 0)
        close(pf->null_fd);
    pthread_cond_destroy(&pf->progress);
    pthread_cond_destroy(&pf->idle);
    pthread_cond_destroy(&pf->cv);
    pthread_mutex_destroy(&pf->mu);
    free(pf);
}

static uint64_t min_u64(uint64_t a, uint64_t b) { return a < b ? a : b; }

/* The stream of the same file whose window start falls in, the nearest one when several
 * do (a walk starting over meets the finished stream of its last pass), or NULL. */
static ra_stream *find_stream(sm_prefetch *pf, const struct stat *sb, uint64_t start)
{
    ra_stream *best = NULL;
    uint64_t best_dist = 0;
    for (unsigned i = 0; i < pf->opts.max_streams; i++) {
        ra_stream *s = &pf->streams[i];
        if (!s->used || s->dev != sb->st_dev || s->ino != sb->st_ino)
            continue;
        /* Readers that share a piece between them ask for ranges a little behind the
         * furthest one asked, a single reader right after it; a request far from it
         * (another reader, or the same one starting over) is another stream. */
        uint64_t back = s->want > BEHIND * pf->opts.ahead ? s->want - BEHIND * pf->opts.ahead : 0;
        if (start < back || start > s->want + pf->opts.ahead)
            continue;
        uint64_t dist = start > s->want ? start - s->want : s->want - start;
        if (!best || dist < best_dist) {
            best = s;
            best_dist = dist;
        }
    }
    return best;
}

/* A free slot, else the least recently asked one that has nothing left to read and was
 * not asked for EVICT_MS. */
static ra_stream *free_slot(sm_prefetch *pf, uint64_t now)
{
    ra_stream *best = NULL;
    for (unsigned i = 0; i < pf->opts.max_streams; i++) {
        ra_stream *s = &pf->streams[i];
        if (!s->used)
            return s;
        if (!s->busy && s->pos >= s->limit && now - s->last_ms >= EVICT_MS &&
            (!best || s->last_ms < best->last_ms))
            best = s;
    }
    return best;
}

/* With pf->mu held: waits (at most wait_ms) until the thread has read the first chunk of
 * [start, end).  The reader's own sendfile would otherwise find those pages missing and
 * read them itself, in small requests between the stream's large ones; afterwards it
 * follows the stream, whose readahead has already asked for the pages it reaches. */
static void wait_first_chunk(sm_prefetch *pf, ra_stream *s, uint64_t start, uint64_t end)
{
    uint64_t gen = s->gen, need = end - start < pf->opts.chunk ? end : start + pf->opts.chunk;
    uint64_t deadline = sp_now_ms() + pf->opts.wait_ms;
    while (!pf->stop && s->gen == gen && s->pos < need) {
        uint64_t now = sp_now_ms();
        if (now >= deadline) {
            pf->stats.waits_timed_out++;
            return;
        }
        sp_cond_wait_ms(&pf->progress, &pf->mu, deadline - now);
    }
}

/* Starts a stream in slot s for the file open as fd, reading [start, end) for now.  Its
 * own description of the file, not a dup (that would share the caller's readahead
 * state), through /proc so that it is the same inode even if the path was replaced. */
static bool stream_open(sm_prefetch *pf, ra_stream *s, int fd, const struct stat *sb,
                        uint64_t start, uint64_t end, uint64_t now)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    int own = open(path, O_RDONLY | O_CLOEXEC);
    struct stat ob;
    if (own < 0)
        return false;
    if (fstat(own, &ob) != 0 || ob.st_dev != sb->st_dev || ob.st_ino != sb->st_ino) {
        close(own);
        return false;
    }
    if (s->used)
        stream_close(pf, s);
    *s = (ra_stream){ .used = true, .gen = ++pf->gens, .dev = sb->st_dev, .ino = sb->st_ino,
                      .fd = own, .size = (uint64_t)sb->st_size, .pos = start, .want = end,
                      .limit = end, .last_ms = now };
    pf->stats.open_streams++;
    pf->stats.streams_started++;
    return true;
}

/* A reader continues stream s: the thread reads the whole window past what it asked. */
static void stream_extend(sm_prefetch *pf, ra_stream *s, uint64_t end, uint64_t now)
{
    if (end > s->want)
        s->want = end;
    s->limit = min_u64(s->size, s->want + pf->opts.ahead);
    s->last_ms = now;
    pf->stats.continued++;
}

bool sm_prefetch_note(sm_prefetch *pf, int fd, uint64_t start, uint64_t end)
{
    struct stat sb;
    if (!pf || end <= start || fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) || sb.st_size <= 0 ||
        start >= (uint64_t)sb.st_size)
        return false;
    end = min_u64(end, (uint64_t)sb.st_size);
    bool taken = false;
    pthread_mutex_lock(&pf->mu);
    uint64_t now = sp_now_ms();
    ra_stream *s = find_stream(pf, &sb, start);
    if (s) {
        stream_extend(pf, s, end, now);
        taken = true;
    } else if ((s = free_slot(pf, now))) {
        taken = stream_open(pf, s, fd, &sb, start, end, now);
    } else {
        pf->stats.refused++;
    }
    if (taken) {
        pthread_cond_signal(&pf->cv);
        wait_first_chunk(pf, s, start, end);
    }
    pthread_mutex_unlock(&pf->mu);
    return taken;
}

bool sm_prefetch_wait_idle(sm_prefetch *pf, unsigned ms)
{
    uint64_t deadline = sp_now_ms() + ms;
    pthread_mutex_lock(&pf->mu);
    for (;;) {
        bool work = false;
        for (unsigned i = 0; i < pf->opts.max_streams && !work; i++) {
            const ra_stream *s = &pf->streams[i];
            work = s->used && (s->busy || s->pos < s->limit);
        }
        uint64_t now = sp_now_ms();
        if (!work || now >= deadline) {
            pthread_mutex_unlock(&pf->mu);
            return !work;
        }
        sp_cond_wait_ms(&pf->idle, &pf->mu, deadline - now);
    }
}

void sm_prefetch_get_stats(sm_prefetch *pf, sm_prefetch_stats *out)
{
    pthread_mutex_lock(&pf->mu);
    *out = pf->stats;
    pthread_mutex_unlock(&pf->mu);
}
