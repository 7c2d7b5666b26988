/* pc2_bench.c — measurements behind `sealproof bench pc2`: Fr product latency and
 * throughput on both paths with the core clock, and batch Poseidon rates through the CPU
 * hasher on random inputs. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fr.h"
#include "pc2_hasher.h"
#include "poseidon.h"
#include "tree_poseidon.h"

static double clock_s(clockid_t id)
{
    struct timespec t;
    clock_gettime(id, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* Single-thread figures are taken on this thread's CPU time, so other processes sharing the
 * core do not inflate them (like openssl speed). */
static double now(void)
{
    return clock_s(CLOCK_THREAD_CPUTIME_ID);
}

/* Core clock from a chain of dependent one-cycle additions, eight per loop iteration so the
 * loop branch is not the limit. */
static double core_ghz(void)
{
#if defined(__x86_64__)
    uint64_t n = 50000000, x = 0;
    double t0 = now();
    __asm__ volatile("1:\n\t"
                     "addq $1, %0\n\taddq $1, %0\n\taddq $1, %0\n\taddq $1, %0\n\t"
                     "addq $1, %0\n\taddq $1, %0\n\taddq $1, %0\n\taddq $1, %0\n\t"
                     "decq %1\n\tjnz 1b"
                     : "+r"(x), "+r"(n));
    double dt = now() - t0;
    return dt > 0 ? 8.0 * 50000000.0 / dt / 1e9 : 0;
#else
    return 0;
#endif
}

typedef void (*mul_fn)(pf_fr *, const pf_fr *, const pf_fr *);

static double time_chain(mul_fn mul, uint64_t count)
{
    pf_fr a = { { 1, 2, 3, 4 } }, b = { { 5, 6, 7, 8 } };
    double t0 = now();
    for (uint64_t i = 0; i < count; i++)
        mul(&a, &a, &b);
    double dt = now() - t0;
    volatile uint64_t sink = a.l[0];
    (void)sink;
    return dt * 1e9 / (double)count;
}

static double time_parallel(mul_fn mul, uint64_t count)
{
    pf_fr a[8], b = { { 5, 6, 7, 8 } };
    for (int k = 0; k < 8; k++)
        a[k] = (pf_fr){ { (uint64_t)k + 1, 2, 3, 4 } };
    double t0 = now();
    for (uint64_t i = 0; i < count / 8; i++)
        for (int k = 0; k < 8; k++)
            mul(&a[k], &a[k], &b);
    double dt = now() - t0;
    volatile uint64_t sink = a[3].l[0];
    (void)sink;
    return dt * 1e9 / (double)(count / 8 * 8);
}

void pf_bench_fr_mul(uint64_t count, pf_fr_bench *out)
{
    memset(out, 0, sizeof *out);
    if (count < 8)
        count = 8;
    out->ghz = core_ghz();
    out->ns_chain_portable = time_chain(pf_fr_mul_portable, count);
    out->ns_parallel_portable = time_parallel(pf_fr_mul_portable, count);
    if (pf_fr_using_adx()) {
        out->path = "mulx/adx";
        out->ns_chain = time_chain(pf_fr_mul_adx, count);
        out->ns_parallel = time_parallel(pf_fr_mul_adx, count);
    } else {
        out->path = "portable";
        out->ns_chain = out->ns_chain_portable;
        out->ns_parallel = out->ns_parallel_portable;
    }
}

uint64_t pf_poseidon_mults(int arity)
{
    return pf_poseidon_mults_per_hash(arity);
}

pf_status pf_bench_poseidon(int arity, int columns, uint64_t count, int threads,
                            double *seconds, double *cpu_seconds, pf_error *err)
{
    if (!pf_poseidon_get(arity))
        return pf_tree_fail(err, PF_EINVAL, "Poseidon arity %d is not supported", arity);
    uint8_t *in = malloc((size_t)count * (size_t)arity * 32), *out = malloc((size_t)count * 32);
    pf_hasher *h = NULL;
    pf_status st = PF_ENOMEM;
    if (!in || !out) {
        pf_tree_fail(err, st, "out of memory for %llu inputs", (unsigned long long)count);
        goto done;
    }
    uint64_t x = 0x243f6a8885a308d3ULL;
    for (size_t i = 0; i < (size_t)count * (size_t)arity * 32; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        in[i] = (uint8_t)x;
        if (i % 32 == 31)
            in[i] &= 0x3f;
    }
    if ((st = pf_hasher_cpu_new(threads, &h, err)))
        goto done;
    long bad;
    double t0 = clock_s(CLOCK_MONOTONIC), c0 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
    if (columns) {
        const uint8_t *cols[PF_POSEIDON_MAX_ARITY];
        for (int l = 0; l < arity; l++)
            cols[l] = in + (size_t)l * (size_t)count * 32;
        st = h->columns(h, arity, cols, (size_t)count, out, &bad, err);
    } else {
        st = h->nodes(h, arity, in, (size_t)count, out, &bad, err);
    }
    *seconds = clock_s(CLOCK_MONOTONIC) - t0;
    if (cpu_seconds)
        *cpu_seconds = clock_s(CLOCK_PROCESS_CPUTIME_ID) - c0;
done:
    if (h)
        h->destroy(h);
    free(in);
    free(out);
    return st;
}
