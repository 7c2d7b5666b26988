/* pc2_hasher_cpu.c — the CPU implementation of pc2_hasher.h: a batch is cut into one
 * contiguous range per thread and each range goes through the dispatched (portable or
 * MULX/ADX) Poseidon batch functions.  Threads live only for one batch; a batch of column
 * or node hashes is milliseconds of work at least, against microseconds to start them. */
#include "pc2_hasher.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "poseidon.h"

/* below this many hashes per thread a batch runs on fewer threads */
#define MIN_PER_THREAD 16

typedef struct cpu_hasher {
    pf_hasher base;
    int threads;
} cpu_hasher;

typedef struct job {
    const pf_poseidon_consts *c;
    const uint8_t *const *cols;   /* columns, or NULL for nodes */
    const uint8_t *in;
    uint8_t *out;
    size_t start, count;
    long bad;                     /* local index of an invalid input, or -1 */
} job;

static void run_job(job *j)
{
    int a = j->c->arity;
    if (j->cols) {
        const uint8_t *cols[PF_POSEIDON_MAX_ARITY];
        for (int l = 0; l < a; l++)
            cols[l] = j->cols[l] + 32 * j->start;
        j->bad = pf_poseidon_batch_columns(j->c, cols, j->count, j->out + 32 * j->start);
    } else {
        j->bad = pf_poseidon_batch_nodes(j->c, j->in + 32 * j->start * (size_t)a, j->count,
                                         j->out + 32 * j->start);
    }
}

static void *thread_main(void *arg)
{
    run_job(arg);
    return NULL;
}

static pf_status run_batch(cpu_hasher *h, const pf_poseidon_consts *c,
                           const uint8_t *const *cols, const uint8_t *in, size_t count,
                           uint8_t *out, long *bad, pf_error *err)
{
    size_t nt = (size_t)h->threads;
    if (nt > count / MIN_PER_THREAD)
        nt = count / MIN_PER_THREAD;
    if (nt < 1)
        nt = 1;
    job one;
    job *jobs = nt > 1 ? malloc(sizeof *jobs * nt) : NULL;
    pthread_t *tids = nt > 1 ? malloc(sizeof *tids * nt) : NULL;
    if (!jobs || !tids) {
        /* one thread needs no allocation; out of memory also lands here */
        free(jobs);
        free(tids);
        jobs = &one;
        tids = NULL;
        nt = 1;
    }
    size_t per = count / nt, extra = count % nt, pos = 0;
    for (size_t i = 0; i < nt; i++) {
        size_t n = per + (i < extra);
        jobs[i] = (job){ c, cols, in, out, pos, n, -1 };
        pos += n;
    }
    size_t started = 0;
    for (size_t i = 1; i < nt; i++) {
        if (pthread_create(&tids[i], NULL, thread_main, &jobs[i]) != 0)
            break;   /* the rest run on this thread */
        started = i;
    }
    /* ranges whose thread did not start run here */
    run_job(&jobs[0]);
    for (size_t i = started + 1; i < nt; i++)
        run_job(&jobs[i]);
    for (size_t i = 1; i <= started; i++)
        pthread_join(tids[i], NULL);
    long first_bad = -1;
    for (size_t i = 0; i < nt && first_bad < 0; i++)
        if (jobs[i].bad >= 0)
            first_bad = (long)(jobs[i].start * (size_t)c->arity) + jobs[i].bad;
    if (jobs != &one)
        free(jobs);
    free(tids);
    if (first_bad < 0)
        return PF_OK;
    if (bad)
        *bad = first_bad;
    if (err) {
        err->status = PF_ECORRUPT;
        snprintf(err->msg, sizeof err->msg, "Poseidon input %ld is not a field element",
                 first_bad);
    }
    return PF_ECORRUPT;
}

static pf_status bad_arity(int arity, pf_error *err)
{
    if (err) {
        err->status = PF_EINVAL;
        snprintf(err->msg, sizeof err->msg, "Poseidon arity %d is not supported (1..%d)", arity,
                 PF_POSEIDON_MAX_ARITY);
    }
    return PF_EINVAL;
}

static pf_status cpu_columns(pf_hasher *hb, int layers, const uint8_t *const *cols, size_t count,
                             uint8_t *out, long *bad, pf_error *err)
{
    const pf_poseidon_consts *c = pf_poseidon_get(layers);
    if (!c)
        return bad_arity(layers, err);
    return run_batch((cpu_hasher *)hb, c, cols, NULL, count, out, bad, err);
}

static pf_status cpu_nodes(pf_hasher *hb, int arity, const uint8_t *in, size_t count,
                           uint8_t *out, long *bad, pf_error *err)
{
    const pf_poseidon_consts *c = pf_poseidon_get(arity);
    if (!c)
        return bad_arity(arity, err);
    return run_batch((cpu_hasher *)hb, c, NULL, in, count, out, bad, err);
}

static void cpu_destroy(pf_hasher *hb)
{
    free(hb);
}

pf_status pf_hasher_cpu_new(int threads, pf_hasher **out, pf_error *err)
{
    if (threads <= 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        threads = n > 0 ? (int)n : 1;
    }
    if (threads > 1024)
        threads = 1024;
    cpu_hasher *h = calloc(1, sizeof *h);
    if (!h) {
        if (err) {
            err->status = PF_ENOMEM;
            snprintf(err->msg, sizeof err->msg, "out of memory creating the CPU hasher");
        }
        return PF_ENOMEM;
    }
    h->base.name = "cpu";
    h->base.columns = cpu_columns;
    h->base.nodes = cpu_nodes;
    h->base.destroy = cpu_destroy;
    h->threads = threads;
    *out = &h->base;
    return PF_OK;
}

int pf_hasher_cpu_threads(const pf_hasher *h)
{
    return ((const cpu_hasher *)h)->threads;
}
