/* clock_shift.c — an LD_PRELOAD library that moves a process tree's wall clock, for
 * fault_clock_jump.sh.  CLOCK_REALTIME (clock_gettime, gettimeofday, time) reads
 * SP_CLOCK_SHIFT_FILE's signed number of seconds and adds it; the file is re-read at most
 * every 50 ms of monotonic time, so writing it makes every process's clock jump at once.
 * Monotonic clocks are left alone: they are what a jump must not disturb. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/time.h>
#include <time.h>

static int (*real_clock_gettime)(clockid_t, struct timespec *);
static _Atomic long long shift_s;
static _Atomic long long next_read_ns;

static long long mono_ns(void)
{
    struct timespec ts;
    real_clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static long long current_shift(void)
{
    long long now = mono_ns();
    if (now >= atomic_load(&next_read_ns)) {
        atomic_store(&next_read_ns, now + 50000000LL);
        const char *path = getenv("SP_CLOCK_SHIFT_FILE");
        FILE *f = path ? fopen(path, "re") : NULL;
        long long v;
        if (f) {
            if (fscanf(f, "%lld", &v) == 1)
                atomic_store(&shift_s, v);
            fclose(f);
        }
    }
    return atomic_load(&shift_s);
}

int clock_gettime(clockid_t id, struct timespec *ts)
{
    if (!real_clock_gettime)
        real_clock_gettime = (int (*)(clockid_t, struct timespec *))dlsym(RTLD_NEXT,
                                                                          "clock_gettime");
    int rc = real_clock_gettime(id, ts);
    if (rc == 0 && (id == CLOCK_REALTIME || id == CLOCK_REALTIME_COARSE))
        ts->tv_sec += (time_t)current_shift();
    return rc;
}

int gettimeofday(struct timeval *restrict tv, void *restrict tz)
{
    (void)tz;
    struct timespec ts;
    int rc = clock_gettime(CLOCK_REALTIME, &ts);
    if (rc == 0) {
        tv->tv_sec = ts.tv_sec;
        tv->tv_usec = ts.tv_nsec / 1000;
    }
    return rc;
}

time_t time(time_t *out)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    if (out)
        *out = ts.tv_sec;
    return ts.tv_sec;
}
