/* sdr_bench.c — the yardstick of SDR labeling speed: this machine's single-chain SHA-256
 * compression rate, measured three ways (the library compression, an unrolled SHA-NI
 * chain, and a chain on sha256rnds2 latency alone) so that a slow reference can never
 * flatter the labeling rate it is compared with. */
#include "label.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sha256.h"

enum { NBLOCKS = 4096 };

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static double cpu_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* kind 0: library, 1: unrolled SHA-NI, 2: reused schedule.  Best of 5 runs, by wall-clock
 * time and (in *on_cpu) by this thread's CPU time. */
static double chain_rate(int kind, const uint8_t *blocks, double seconds, double *on_cpu)
{
    uint32_t st[8];
    memcpy(st, pf_sha256_iv, 32);
    double best = 0;
    for (int rep = 0; rep < 5; rep++) {
        size_t done = 0;
        double t0 = now_s(), c0 = cpu_s(), t;
        do {
            if (kind == 0)
                pf_sha256_compress(st, blocks, NBLOCKS);
            else
                pf_label_chain_ni(st, blocks, NBLOCKS, kind == 2);
            done += NBLOCKS;
            t = now_s() - t0;
        } while (t < seconds / 5);
        double c = cpu_s() - c0;
        if ((double)done / t > best)
            best = (double)done / t;
        if (c > 0 && (double)done / c > *on_cpu)
            *on_cpu = (double)done / c;
    }
    return best;
}

void pf_sdr_sha256_limit(pf_sha256_limit *l, double seconds)
{
    uint8_t *blocks = malloc(NBLOCKS * 64);
    if (!blocks)
        return;
    for (size_t i = 0; i < NBLOCKS * 64; i++)
        blocks[i] = (uint8_t)(i * 131 + (i >> 9));
    l->sha_ni = pf_sha256_using_ni();
    double lib = chain_rate(0, blocks, seconds / 3, &l->best_cpu), un = 0, ro = 0;
    if (l->sha_ni) {
        un = chain_rate(1, blocks, seconds / 3, &l->best_cpu);
        ro = chain_rate(2, blocks, seconds / 3, &l->best_cpu);
    }
    free(blocks);
    if (lib > l->library)
        l->library = lib;
    if (un > l->unrolled)
        l->unrolled = un;
    if (ro > l->rounds_only)
        l->rounds_only = ro;
    double m = l->library > l->unrolled ? l->library : l->unrolled;
    m = m > l->rounds_only ? m : l->rounds_only;
    if (m > l->best)
        l->best = m;
}
