/* test_opencl.c — the OpenCL device layer and PC2 hasher against the CPU code, on whatever
 * OpenCL device exists (PoCL's CPU device here and in CI; skipped, with the reason printed,
 * only when there is no OpenCL device at all).
 *
 * Known answers: neptune src/poseidon.rs test hash_values (Standard strength, preimage
 * [0, 1, ..., a-1], Merkle-tree domain tag) for arities 2, 4, 8, 16, as recorded in
 * research/porep.md section 10.3.  Everything else is compared byte for byte with the CPU
 * implementation (proofs-ffi/src/fr.h, the CPU pc2_hasher), which test_fr.c and
 * test_poseidon.c check against their own references.
 *
 * Both kernel limb widths (32-bit, the GPU default, and 64-bit, the CPU-device default) run
 * every check.  Programs are built once per process, so the slow PoCL compile is paid once
 * per width. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <unistd.h>
#include <cmocka.h>

#include "fr.h"
#include "opencl.h"
#include "pc2_hasher.h"
#include "poseidon.h"
#include "sp_codec.h"

typedef struct fixture {
    int have_device;
    char why[PF_ERROR_MSG_MAX + 64];
    pf_cl_device dev;
    pf_hasher *cpu;
    pf_hasher *cl[2];        /* [0]: the CPU-device configuration (64-bit limbs); [1]: the GPU
                              * one (32-bit limbs, unrolled width loops); small batches */
} fixture;

static fixture fx;

#define SMALL_BATCH 1000

/* ---- helpers ---- */

static uint64_t rng_state = 0x5eed5eed12345678ULL;

static uint64_t rng(void)
{
    /* splitmix64 */
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* A random canonical element as 32 LE bytes (top limb masked below p's top limb). */
static void rand_elem(uint8_t b[32])
{
    uint64_t l[4] = { rng(), rng(), rng(), rng() % PF_FR_P3 };
    memcpy(b, l, 32);
}

static void rand_elems(uint8_t *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        rand_elem(b + 32 * i);
}

static void need_device(void)
{
    if (!fx.have_device) {
        print_message("skipped: %s\n", fx.why);
        skip();
    }
}

static int setup(void **state)
{
    (void)state;
    pf_error err = { 0 };
    pf_cl_device *all;
    int n;
    if (pf_cl_devices(&all, &n, &err)) {
        snprintf(fx.why, sizeof fx.why, "listing OpenCL devices failed: %s", err.msg);
        return 0;
    }
    free(all);
    if (n == 0) {
        snprintf(fx.why, sizeof fx.why, "no OpenCL device (no ICD/platform installed)");
        return 0;
    }
    unsetenv(PF_CL_ENV_DEVICE);
    unsetenv(PF_CL_ENV_LIMBS);
    if (pf_hasher_cpu_new(2, &fx.cpu, &err))
        return -1;
    int widths[2] = { 64, 32 };
    for (int i = 0; i < 2; i++) {
        pf_hasher_opencl_options o = { .limb_bits = widths[i], .batch = SMALL_BATCH,
                                       .unroll = widths[i] == 32 ? 1 : -1 };
        if (pf_hasher_opencl_new_opts("0", &o, &fx.cl[i], &err)) {
            print_message("OpenCL hasher: %s\n", err.msg);
            return -1;
        }
    }
    fx.dev = *pf_hasher_opencl_device(fx.cl[0]);
    fx.have_device = 1;
    print_message("OpenCL device 0: %s (%s)\n", fx.dev.name, fx.dev.platform_name);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    for (int i = 0; i < 2; i++)
        if (fx.cl[i])
            fx.cl[i]->destroy(fx.cl[i]);
    if (fx.cpu)
        fx.cpu->destroy(fx.cpu);
    return 0;
}

/* ---- device layer ---- */

static void test_error_names(void **state)
{
    (void)state;
    assert_string_equal(pf_cl_error_name(CL_OUT_OF_RESOURCES), "CL_OUT_OF_RESOURCES");
    assert_string_equal(pf_cl_error_name(CL_BUILD_PROGRAM_FAILURE), "CL_BUILD_PROGRAM_FAILURE");
    assert_string_equal(pf_cl_error_name(-1001), "CL_PLATFORM_NOT_FOUND_KHR");
    assert_string_equal(pf_cl_error_name(-9999), "unknown OpenCL error");
    assert_string_equal(pf_cl_type_name(CL_DEVICE_TYPE_GPU), "GPU");
    assert_string_equal(pf_cl_type_name(CL_DEVICE_TYPE_CPU), "CPU");
}

static void test_list(void **state)
{
    (void)state;
    need_device();
    pf_cl_device *all;
    int n;
    pf_error err = { 0 };
    assert_int_equal(pf_cl_devices(&all, &n, &err), PF_OK);
    assert_true(n >= 1);
    for (int i = 0; i < n; i++) {
        assert_int_equal(all[i].index, i);
        assert_true(all[i].name[0] != 0);
        assert_true(all[i].global_mem > 0);
        assert_true(all[i].compute_units > 0);
    }
    assert_string_equal(all[0].name, fx.dev.name);
    free(all);
}

static void test_select(void **state)
{
    (void)state;
    need_device();
    pf_cl_device d;
    pf_error err = { 0 };
    /* by index */
    assert_int_equal(pf_cl_select("0", &d, &err), PF_OK);
    assert_int_equal(d.index, 0);
    /* by a case-changed substring of the name */
    char part[8] = { 0 };
    for (int i = 0; i < 4 && fx.dev.name[i]; i++) {
        char ch = fx.dev.name[i];
        part[i] = (char)(ch >= 'a' && ch <= 'z' ? ch - 32 : ch >= 'A' && ch <= 'Z' ? ch + 32 : ch);
    }
    assert_int_equal(pf_cl_select(part, &d, &err), PF_OK);
    assert_int_equal(d.index, 0);
    /* by platform:device, the form seal-worker puts in SEALPIPE_OPENCL_DEVICE */
    char pd[32];
    snprintf(pd, sizeof pd, "%d:0", fx.dev.platform_index);
    assert_int_equal(pf_cl_select(pd, &d, &err), PF_OK);
    assert_int_equal(d.platform_index, fx.dev.platform_index);
    assert_int_equal(pf_cl_select("0:4096", &d, &err), PF_EINVAL);
    /* index out of range */
    assert_int_equal(pf_cl_select("4096", &d, &err), PF_EINVAL);
    assert_int_equal(err.status, PF_EINVAL);
    assert_non_null(strstr(err.msg, "\"4096\" (argument) not found"));
    assert_non_null(strstr(err.msg, fx.dev.name));   /* the message lists what exists */
    /* unknown name */
    assert_int_equal(pf_cl_select("no-such-device-xyz", &d, &err), PF_EINVAL);
    assert_non_null(strstr(err.msg, "no-such-device-xyz"));
    /* a PCI bus id nobody has */
    assert_int_equal(pf_cl_select("ffff:ff:1f.7", &d, &err), PF_EINVAL);
    /* from the environment, then the default */
    setenv(PF_CL_ENV_DEVICE, "77", 1);
    assert_int_equal(pf_cl_select(NULL, &d, &err), PF_EINVAL);
    assert_non_null(strstr(err.msg, PF_CL_ENV_DEVICE));
    pf_hasher *h = NULL;
    assert_int_equal(pf_hasher_opencl_new(NULL, &h, &err), PF_EINVAL);
    assert_null(h);
    setenv(PF_CL_ENV_DEVICE, "0", 1);
    assert_int_equal(pf_cl_select("", &d, &err), PF_OK);
    assert_int_equal(d.index, 0);
    unsetenv(PF_CL_ENV_DEVICE);
    assert_int_equal(pf_cl_select(NULL, &d, &err), PF_OK);
    assert_int_equal(d.index, 0);
    /* the hasher names its device */
    assert_non_null(strstr(fx.cl[0]->name, "opencl:0:"));
    assert_true(pf_hasher_is_opencl(fx.cl[0]));
    assert_false(pf_hasher_is_opencl(fx.cpu));
}

static void test_backend_choice(void **state)
{
    (void)state;
    need_device();
    pf_hasher *h = NULL;
    pf_error err = { 0 };
    unsetenv(PF_CL_ENV_DEVICE);
    assert_int_equal(pf_hasher_select(NULL, 1, &h, &err), PF_OK);
    assert_string_equal(h->name, "cpu");
    assert_int_equal(pf_hasher_preferred_chunk(h), 0);
    h->destroy(h);
    /* the worker names a processor's GPU in the environment */
    setenv(PF_CL_ENV_DEVICE, "0", 1);
    assert_int_equal(pf_hasher_select(NULL, 1, &h, &err), PF_OK);
    assert_true(pf_hasher_is_opencl(h));
    assert_int_equal(pf_hasher_preferred_chunk(h),
                     (fx.dev.type & CL_DEVICE_TYPE_GPU) ? 1u << 21 : 1u << 15);
    h->destroy(h);
    /* explicit choices win over the environment */
    assert_int_equal(pf_hasher_select("CPU", 1, &h, &err), PF_OK);
    assert_string_equal(h->name, "cpu");
    h->destroy(h);
    unsetenv(PF_CL_ENV_DEVICE);
    assert_int_equal(pf_hasher_select("0", 1, &h, &err), PF_OK);
    assert_true(pf_hasher_is_opencl(h));
    h->destroy(h);
    h = NULL;
    assert_int_equal(pf_hasher_select("no-such-device-xyz", 1, &h, &err), PF_EINVAL);
    assert_null(h);
}

static void test_build_error(void **state)
{
    (void)state;
    need_device();
    static const char *const src[] = { "fr.cl", "fr_test.cl" };
    cl_program p;
    pf_error err = { 0 };
    assert_int_equal(pf_cl_program(&fx.dev, src, 2, "-DPF_LIMB_BITS=48", &p, &err), PF_EDEVICE);
    assert_non_null(strstr(err.msg, "CL_BUILD_PROGRAM_FAILURE"));
    assert_non_null(strstr(err.msg, "PF_LIMB_BITS must be 32 or 64"));   /* the build log */
    assert_non_null(strstr(err.msg, fx.dev.name));
    static const char *const missing[] = { "no-such-file.cl" };
    assert_int_equal(pf_cl_program(&fx.dev, missing, 1, "", &p, &err), PF_EINTERNAL);
}

/* ---- field arithmetic ---- */

enum { OP_ADD, OP_SUB, OP_MUL, OP_SQR, OP_TO_MONT, OP_FROM_MONT, OP_CANONICAL };

/* Runs pf_fr_test over n pairs. */
/* limbs: 32, 64, or 65 = 64-bit limbs through mul_hi instead of a 128-bit integer (the
 * form GPU compilers without __int128 take) */
static void run_fr_op(int limbs, cl_uint op, const pf_fr *a, const pf_fr *b, pf_fr *out, cl_uint n)
{
    static const char *const src[] = { "fr.cl", "fr_test.cl" };
    char opts[64];
    snprintf(opts, sizeof opts, "-DPF_LIMB_BITS=%d%s", limbs == 65 ? 64 : limbs,
             limbs == 65 ? " -DPF_NO_INT128" : "");
    cl_program prog;
    cl_context ctx;
    pf_error err = { 0 };
    assert_int_equal(pf_cl_program(&fx.dev, src, 2, opts, &prog, &err), PF_OK);
    assert_int_equal(pf_cl_context(&fx.dev, &ctx, &err), PF_OK);
    cl_int rc;
    cl_command_queue q = clCreateCommandQueue(ctx, fx.dev.id, 0, &rc);
    assert_int_equal(rc, CL_SUCCESS);
    cl_kernel k = clCreateKernel(prog, "pf_fr_test", &rc);
    assert_int_equal(rc, CL_SUCCESS);
    size_t bytes = sizeof(pf_fr) * n;
    cl_mem ba = clCreateBuffer(ctx, CL_MEM_READ_ONLY | CL_MEM_COPY_HOST_PTR, bytes, (void *)a, &rc);
    assert_int_equal(rc, CL_SUCCESS);
    cl_mem bb = clCreateBuffer(ctx, CL_MEM_READ_ONLY | CL_MEM_COPY_HOST_PTR, bytes, (void *)b, &rc);
    assert_int_equal(rc, CL_SUCCESS);
    cl_mem bo = clCreateBuffer(ctx, CL_MEM_WRITE_ONLY, bytes, NULL, &rc);
    assert_int_equal(rc, CL_SUCCESS);
    assert_int_equal(clSetKernelArg(k, 0, sizeof ba, &ba), CL_SUCCESS);
    assert_int_equal(clSetKernelArg(k, 1, sizeof bb, &bb), CL_SUCCESS);
    assert_int_equal(clSetKernelArg(k, 2, sizeof bo, &bo), CL_SUCCESS);
    assert_int_equal(clSetKernelArg(k, 3, sizeof n, &n), CL_SUCCESS);
    assert_int_equal(clSetKernelArg(k, 4, sizeof op, &op), CL_SUCCESS);
    size_t global = n;
    assert_int_equal(clEnqueueNDRangeKernel(q, k, 1, NULL, &global, NULL, 0, NULL, NULL),
                     CL_SUCCESS);
    assert_int_equal(clEnqueueReadBuffer(q, bo, CL_TRUE, 0, bytes, out, 0, NULL, NULL), CL_SUCCESS);
    clReleaseMemObject(ba);
    clReleaseMemObject(bb);
    clReleaseMemObject(bo);
    clReleaseKernel(k);
    clReleaseCommandQueue(q);
}

#define FR_N 512

static void check_fr_ops(int limbs)
{
    pf_fr *a = calloc(FR_N, sizeof *a), *b = calloc(FR_N, sizeof *b);
    pf_fr *got = calloc(FR_N, sizeof *got), *want = calloc(FR_N, sizeof *want);
    assert_non_null(a);
    assert_non_null(b);
    assert_non_null(got);
    assert_non_null(want);
    for (int i = 0; i < FR_N; i++) {
        uint8_t x[32], y[32];
        rand_elem(x);
        rand_elem(y);
        assert_int_equal(pf_fr_from_bytes(&a[i], x), 0);
        assert_int_equal(pf_fr_from_bytes(&b[i], y), 0);
    }
    /* edge values: 0, 1, p-1 (Montgomery), equal operands */
    uint64_t pm1[4] = { PF_FR_P0 - 1, PF_FR_P1, PF_FR_P2, PF_FR_P3 };
    a[0] = pf_fr_zero;
    b[1] = pf_fr_zero;
    pf_fr_to_mont(&a[2], pm1);
    pf_fr_to_mont(&b[2], pm1);
    a[3] = pf_fr_one;
    b[4] = a[4];
    pf_fr_to_mont(&b[5], pm1);
    static const cl_uint ops[] = { OP_ADD, OP_SUB, OP_MUL, OP_SQR };
    for (size_t o = 0; o < sizeof ops / sizeof ops[0]; o++) {
        run_fr_op(limbs, ops[o], a, b, got, FR_N);
        for (int i = 0; i < FR_N; i++) {
            switch (ops[o]) {
            case OP_ADD: pf_fr_add(&want[i], &a[i], &b[i]); break;
            case OP_SUB: pf_fr_sub(&want[i], &a[i], &b[i]); break;
            case OP_MUL: pf_fr_mul(&want[i], &a[i], &b[i]); break;
            default: pf_fr_sqr(&want[i], &a[i]); break;
            }
            if (!pf_fr_eq(&got[i], &want[i]))
                fail_msg("limbs %d op %u value %d: device %016llx.. cpu %016llx..", limbs,
                         ops[o], i, (unsigned long long)got[i].l[3],
                         (unsigned long long)want[i].l[3]);
        }
    }
    /* conversions: a holds canonical limbs for to_mont, Montgomery values for from_mont */
    pf_fr *canon = calloc(FR_N, sizeof *canon);
    assert_non_null(canon);
    for (int i = 0; i < FR_N; i++)
        pf_fr_from_mont(canon[i].l, &a[i]);
    run_fr_op(limbs, OP_TO_MONT, canon, b, got, FR_N);
    for (int i = 0; i < FR_N; i++)
        assert_true(pf_fr_eq(&got[i], &a[i]));
    run_fr_op(limbs, OP_FROM_MONT, a, b, got, FR_N);
    for (int i = 0; i < FR_N; i++)
        assert_memory_equal(got[i].l, canon[i].l, 32);
    /* canonical check: p-1 yes, p and above no (research/porep.md section 2 boundary bytes) */
    pf_fr edge[6] = {
        { { PF_FR_P0 - 1, PF_FR_P1, PF_FR_P2, PF_FR_P3 } },
        { { PF_FR_P0, PF_FR_P1, PF_FR_P2, PF_FR_P3 } },
        { { PF_FR_P0 + 1, PF_FR_P1, PF_FR_P2, PF_FR_P3 } },
        { { ~0ULL, ~0ULL, ~0ULL, ~0ULL } },
        { { ~0ULL, ~0ULL, ~0ULL, 0x72ffffffffffffffULL } },   /* ff..ff 72: valid */
        { { ~0ULL, ~0ULL, ~0ULL, 0x73ffffffffffffffULL } },   /* ff..ff 73: invalid */
    };
    static const int valid[6] = { 1, 0, 0, 0, 1, 0 };
    run_fr_op(limbs, OP_CANONICAL, edge, edge, got, 6);
    for (int i = 0; i < 6; i++) {
        assert_int_equal(got[i].l[0], (uint64_t)valid[i]);
        uint8_t bytes[32];
        memcpy(bytes, edge[i].l, 32);
        assert_int_equal(pf_fr_bytes_valid(bytes), valid[i]);
    }
    free(canon);
    free(a);
    free(b);
    free(got);
    free(want);
}

static void test_fr_64(void **state)
{
    (void)state;
    need_device();
    check_fr_ops(64);
}

static void test_fr_32(void **state)
{
    (void)state;
    need_device();
    check_fr_ops(32);
}

static void test_fr_64_mul_hi(void **state)
{
    (void)state;
    need_device();
    check_fr_ops(65);
}

/* ---- Poseidon ---- */

static void iota_hash(pf_hasher *h, int arity, char hex[65])
{
    uint8_t in[16][32], out[32];
    memset(in, 0, sizeof in);
    for (int i = 0; i < arity; i++)
        in[i][0] = (uint8_t)i;
    long bad = -1;
    pf_error err = { 0 };
    assert_int_equal(h->nodes(h, arity, &in[0][0], 1, out, &bad, &err), PF_OK);
    sp_hex_encode(out, 32, hex);
}

static void test_poseidon_vectors(void **state)
{
    (void)state;
    need_device();
    for (int w = 0; w < 2; w++) {
        char hex[65];
        iota_hash(fx.cl[w], 2, hex);
        assert_string_equal(hex, "ffe7029a363c202e9da6059d33a9fba661e1ef02d90f9e736ba5765ed7086539");
        iota_hash(fx.cl[w], 8, hex);
        assert_string_equal(hex, "e6a5386df534992ad9aec49c9d2e684b777067114200011255dea5a31d619423");
    }
    /* arities PC2 does not use, on one width (each arity is a separate slow PoCL compile) */
    char hex[65];
    iota_hash(fx.cl[0], 4, hex);
    assert_string_equal(hex, "5d076266ff149801ec2713bf05466bfb99932279653cdb008a84e5a9104ba558");
    iota_hash(fx.cl[0], 16, hex);
    assert_string_equal(hex, "376d266040c791126f0a68306dbc8d5b631e876f5afbc2c18aae813366e23a2d");
}

/* Constants in __global memory (the path a device with a small constant buffer takes). */
static void test_global_constants(void **state)
{
    (void)state;
    need_device();
    pf_hasher_opencl_options o = { .limb_bits = 32, .global_constants = 1 };
    pf_hasher *h;
    pf_error err = { 0 };
    assert_int_equal(pf_hasher_opencl_new_opts("0", &o, &h, &err), PF_OK);
    char hex[65];
    iota_hash(h, 8, hex);
    assert_string_equal(hex, "e6a5386df534992ad9aec49c9d2e684b777067114200011255dea5a31d619423");
    h->destroy(h);
}

static void check_nodes(pf_hasher *h, int arity, size_t count)
{
    uint8_t *in = malloc(count * (size_t)arity * 32), *a = malloc(count * 32),
            *b = malloc(count * 32);
    assert_non_null(in);
    assert_non_null(a);
    assert_non_null(b);
    rand_elems(in, count * (size_t)arity);
    long bad = -1;
    pf_error err = { 0 };
    assert_int_equal(fx.cpu->nodes(fx.cpu, arity, in, count, a, &bad, &err), PF_OK);
    assert_int_equal(h->nodes(h, arity, in, count, b, &bad, &err), PF_OK);
    if (memcmp(a, b, count * 32) != 0)
        fail_msg("%s: arity %d, %zu nodes differ from the CPU", h->name, arity, count);
    free(in);
    free(a);
    free(b);
}

static void check_columns(pf_hasher *h, int layers, size_t count)
{
    uint8_t *planes = malloc(count * (size_t)layers * 32), *a = malloc(count * 32),
            *b = malloc(count * 32);
    assert_non_null(planes);
    assert_non_null(a);
    assert_non_null(b);
    rand_elems(planes, count * (size_t)layers);
    const uint8_t *cols[PF_POSEIDON_MAX_ARITY];
    for (int l = 0; l < layers; l++)
        cols[l] = planes + (size_t)l * count * 32;
    long bad = -1;
    pf_error err = { 0 };
    assert_int_equal(fx.cpu->columns(fx.cpu, layers, cols, count, a, &bad, &err), PF_OK);
    assert_int_equal(h->columns(h, layers, cols, count, b, &bad, &err), PF_OK);
    if (memcmp(a, b, count * 32) != 0)
        fail_msg("%s: %d layers, %zu columns differ from the CPU", h->name, layers, count);
    free(planes);
    free(a);
    free(b);
}

static void test_batches_match_cpu(void **state)
{
    (void)state;
    need_device();
    /* 4097 = four full batches of SMALL_BATCH and a short one, both slots reused */
    static const size_t counts[] = { 1, 7, 4097 };
    for (int w = 0; w < 2; w++)
        for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++) {
            check_nodes(fx.cl[w], 8, counts[i]);
            check_nodes(fx.cl[w], 2, counts[i]);
            check_columns(fx.cl[w], 11, counts[i]);
            check_columns(fx.cl[w], 2, counts[i]);
        }
    check_nodes(fx.cl[0], 11, 33);
    pf_error err = { 0 };
    long bad = -1;
    uint8_t dummy[32];
    assert_int_equal(fx.cl[0]->nodes(fx.cl[0], 8, dummy, 0, dummy, &bad, &err), PF_OK);
    assert_int_equal(fx.cl[0]->nodes(fx.cl[0], 37, dummy, 1, dummy, &bad, &err), PF_EINVAL);
}

static void test_invalid_inputs(void **state)
{
    (void)state;
    need_device();
    const size_t count = 2500;   /* three batches */
    uint8_t *in = malloc(count * 11 * 32), *out = malloc(count * 32);
    assert_non_null(in);
    assert_non_null(out);
    static const uint8_t p_le[32] = { 0x01, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff,
                                      0xfe, 0x5b, 0xfe, 0xff, 0x02, 0xa4, 0xbd, 0x53,
                                      0x05, 0xd8, 0xa1, 0x09, 0x08, 0xd8, 0x39, 0x33,
                                      0x48, 0x7d, 0x9d, 0x29, 0x53, 0xa7, 0xed, 0x73 };
    for (int w = 0; w < 2; w++) {
        pf_hasher *h = fx.cl[w];
        pf_error err = { 0 };
        long bad = -1;
        /* nodes: p itself at element 8 * 1500 + 3, and a larger bad one after it */
        rand_elems(in, count * 8);
        memcpy(in + (8 * 1500 + 3) * 32, p_le, 32);
        memset(in + (8 * 2400 + 1) * 32, 0xff, 32);
        assert_int_equal(h->nodes(h, 8, in, count, out, &bad, &err), PF_ECORRUPT);
        assert_int_equal(bad, 8 * 1500 + 3);
        assert_int_equal(err.status, PF_ECORRUPT);
        assert_non_null(strstr(err.msg, "12003"));
        /* the CPU backend says the same */
        long cpu_bad = -1;
        assert_int_equal(fx.cpu->nodes(fx.cpu, 8, in, count, out, &cpu_bad, &err), PF_ECORRUPT);
        assert_int_equal(cpu_bad, bad);
        /* columns: layer 7 of column 1999, then layer 2 of column 2001 */
        rand_elems(in, count * 11);
        const uint8_t *cols[11];
        for (int l = 0; l < 11; l++)
            cols[l] = in + (size_t)l * count * 32;
        memcpy(in + ((size_t)7 * count + 1999) * 32, p_le, 32);
        memset(in + ((size_t)2 * count + 2001) * 32, 0xee, 32);
        bad = -1;
        assert_int_equal(h->columns(h, 11, cols, count, out, &bad, &err), PF_ECORRUPT);
        assert_int_equal(bad, 1999 * 11 + 7);
        assert_int_equal(fx.cpu->columns(fx.cpu, 11, cols, count, out, &cpu_bad, &err),
                         PF_ECORRUPT);
        assert_int_equal(cpu_bad, bad);
        /* the hasher still works afterwards */
        check_nodes(h, 8, 9);
    }
    free(in);
    free(out);
}

/* ---- trees ---- */

/* Rows 1..rows over the leaves at buf with the CPU backend, row by row. */
static void cpu_rows(int arity, uint8_t *buf, uint64_t leaves, int rows)
{
    uint64_t off = 0, w = leaves;
    pf_error err = { 0 };
    long bad = -1;
    for (int r = 0; r < rows; r++) {
        assert_int_equal(fx.cpu->nodes(fx.cpu, arity, buf + off * 32, w / (uint64_t)arity,
                                       buf + (off + w) * 32, &bad, &err), PF_OK);
        off += w;
        w /= (uint64_t)arity;
    }
}

static uint64_t rows_total(uint64_t leaves, int arity, int rows)
{
    uint64_t t = 0;
    for (int r = 0; r <= rows; r++, leaves /= (uint64_t)arity)
        t += leaves;
    return t;
}

static void test_rows(void **state)
{
    (void)state;
    need_device();
    const uint64_t leaves = 4096 * 2;   /* 8^4 * 2: rows 1..4 leave two nodes */
    const int rows = 4;
    uint64_t total = rows_total(leaves, 8, rows);
    uint8_t *a = calloc(total, 32), *b = calloc(total, 32);
    assert_non_null(a);
    assert_non_null(b);
    rand_elems(a, leaves);
    memcpy(b, a, leaves * 32);
    cpu_rows(8, a, leaves, rows);
    pf_error err = { 0 };
    long bad = -1;
    for (int w = 0; w < 2; w++) {
        memset(b + leaves * 32, 0, (total - leaves) * 32);
        assert_int_equal(pf_hasher_opencl_rows(fx.cl[w], 8, b, leaves, rows, &bad, &err), PF_OK);
        assert_memory_equal(a, b, total * 32);
    }
    /* a bad leaf is reported by its index */
    memset(b + 5000 * 32, 0xff, 32);
    assert_int_equal(pf_hasher_opencl_rows(fx.cl[1], 8, b, leaves, rows, &bad, &err),
                     PF_ECORRUPT);
    assert_int_equal(bad, 5000);
    /* shapes that do not divide */
    assert_int_equal(pf_hasher_opencl_rows(fx.cl[0], 8, b, 100, 2, &bad, &err), PF_EINVAL);
    /* column hashes and rows in one go */
    const int layers = 11;
    uint8_t *planes = malloc(leaves * layers * 32);
    assert_non_null(planes);
    rand_elems(planes, leaves * layers);
    const uint8_t *cols[11];
    for (int l = 0; l < layers; l++)
        cols[l] = planes + (size_t)l * leaves * 32;
    assert_int_equal(fx.cpu->columns(fx.cpu, layers, cols, leaves, a, &bad, &err), PF_OK);
    cpu_rows(8, a, leaves, rows);
    for (int w = 0; w < 2; w++) {
        memset(b, 0, total * 32);
        assert_int_equal(pf_hasher_opencl_column_rows(fx.cl[w], layers, cols, leaves, 8, rows, b,
                                                      &bad, &err), PF_OK);
        assert_memory_equal(a, b, total * 32);
    }
    memset(planes + (3 * leaves + 77) * 32, 0xff, 32);
    assert_int_equal(pf_hasher_opencl_column_rows(fx.cl[0], layers, cols, leaves, 8, rows, b, &bad,
                                                  &err), PF_ECORRUPT);
    assert_int_equal(bad, 77 * layers + 3);
    free(planes);
    free(a);
    free(b);
}

/* PC2's trees for a sector of `nodes` nodes and 2 layers (2KiB, 8MiB: shape 8-0-0) from
 * fabricated layers: tree_c (column hashes and every row), the replica, tree_r_last (every
 * row; the LC file is a suffix of it), comm_c, comm_r_last and comm_r — on the CPU backend and
 * on the device, compared byte for byte. */
static void check_sector(uint64_t nodes)
{
    pf_tree_shape s;
    pf_error err = { 0 };
    assert_int_equal(pf_tree_shape_make(nodes, 8, 0, 0, &s, &err), PF_OK);
    const int layers = 2, rows = s.base_rows - 1;
    uint64_t total = rows_total(nodes, 8, rows);
    uint8_t *labels = malloc(nodes * layers * 32), *data = malloc(nodes * 32);
    uint8_t *tc_cpu = malloc(total * 32), *tc_cl = malloc(total * 32);
    uint8_t *tr_cpu = malloc(total * 32), *tr_cl = malloc(total * 32);
    assert_non_null(labels);
    assert_non_null(data);
    assert_non_null(tc_cpu);
    assert_non_null(tc_cl);
    assert_non_null(tr_cpu);
    assert_non_null(tr_cl);
    rand_elems(labels, nodes * layers);
    rand_elems(data, nodes);
    const uint8_t *cols[2] = { labels, labels + nodes * 32 };
    /* replica = last layer + data (what PC2 writes to the sealed file) */
    for (uint64_t i = 0; i < nodes; i++) {
        pf_fr k, d, r;
        memcpy(k.l, cols[1] + 32 * i, 32);
        memcpy(d.l, data + 32 * i, 32);
        pf_fr_add(&r, &k, &d);
        memcpy(tr_cpu + 32 * i, r.l, 32);
    }
    memcpy(tr_cl, tr_cpu, nodes * 32);
    long bad = -1;
    /* the backend-neutral helpers PC2 calls, on the CPU backend */
    assert_int_equal(pf_hasher_column_rows(fx.cpu, layers, cols, nodes, 8, rows, tc_cpu, &bad,
                                           &err), PF_OK);
    assert_int_equal(pf_hasher_rows(fx.cpu, 8, tr_cpu, nodes, rows, &bad, &err), PF_OK);
    pf_hasher *h = fx.cl[nodes > 4096 ? 0 : 1];
    assert_int_equal(pf_hasher_opencl_column_rows(h, layers, cols, nodes, 8, rows, tc_cl, &bad,
                                                  &err), PF_OK);
    assert_int_equal(pf_hasher_opencl_rows(h, 8, tr_cl, nodes, rows, &bad, &err), PF_OK);
    assert_memory_equal(tc_cpu, tc_cl, total * 32);
    assert_memory_equal(tr_cpu, tr_cl, total * 32);
    uint8_t comm_r_cpu[32], comm_r_cl[32];
    assert_int_equal(pf_comm_r(tc_cpu + (total - 1) * 32, tr_cpu + (total - 1) * 32, comm_r_cpu,
                               &err), PF_OK);
    /* comm_r through the device hasher too */
    uint8_t pair[64];
    memcpy(pair, tc_cl + (total - 1) * 32, 32);
    memcpy(pair + 32, tr_cl + (total - 1) * 32, 32);
    assert_int_equal(h->nodes(h, 2, pair, 1, comm_r_cl, &bad, &err), PF_OK);
    assert_memory_equal(comm_r_cpu, comm_r_cl, 32);
    free(labels);
    free(data);
    free(tc_cpu);
    free(tc_cl);
    free(tr_cpu);
    free(tr_cl);
}

static void test_sector_2k(void **state)
{
    (void)state;
    need_device();
    check_sector(64);
}

/* ---- PC2 itself (pf_pc2_shaped) on the device against the CPU backend ---- */

static void write_all(const char *path, const uint8_t *b, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(b, 1, n, f), n);
    assert_int_equal(fclose(f), 0);
}

static uint8_t *read_all(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("%s is missing", path);
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc(len > 0 ? (size_t)len : 1);
    assert_non_null(b);
    assert_int_equal(fread(b, 1, (size_t)len, f), (size_t)len);
    fclose(f);
    *n = (size_t)len;
    return b;
}

static void same_file(const char *a, const char *b)
{
    size_t na, nb;
    uint8_t *x = read_all(a, &na), *y = read_all(b, &nb);
    if (na != nb || memcmp(x, y, na) != 0)
        fail_msg("%s and %s differ", a, b);
    free(x);
    free(y);
}

/* Removes a temporary sector directory and everything PC2 put in it. */
static void remove_dir(const char *dir)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *e;
    while ((e = readdir(d))) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        char p[1024];
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        unlink(p);
    }
    closedir(d);
    assert_int_equal(rmdir(dir), 0);
}

/* PC2 of a fabricated sector (nodes, shape, layers) with the CPU backend and with h, in two
 * directories holding the same inputs: every output file identical, and the same comms. */
static void check_pc2(pf_hasher *h, uint64_t nodes, int sub, int top, int layers, uint64_t chunk)
{
    pf_tree_shape s;
    pf_error err = { 0 };
    assert_int_equal(pf_tree_shape_make(nodes, 8, sub, top, &s, &err), PF_OK);
    char dir[2][256];
    const char *tmp = getenv("TMPDIR");
    uint8_t *buf = malloc(nodes * 32);
    assert_non_null(buf);
    for (int d = 0; d < 2; d++) {
        snprintf(dir[d], sizeof dir[d], "%s/test_opencl.XXXXXX", tmp && *tmp ? tmp : "/tmp");
        assert_non_null(mkdtemp(dir[d]));
    }
    char p[2][1024];
    for (int l = 0; l <= layers; l++) {
        rand_elems(buf, nodes);
        for (int d = 0; d < 2; d++) {
            if (l < layers)
                snprintf(p[d], sizeof p[d], "%s/sc-02-data-layer-%d.dat", dir[d], l + 1);
            else
                snprintf(p[d], sizeof p[d], "%s/staged", dir[d]);
            /* the staged data stops short of the sector end: PC2 pads with zeros */
            write_all(p[d], buf, l < layers ? nodes * 32 : nodes * 32 - 96);
        }
    }
    pf_pc2_output out[2];
    for (int d = 0; d < 2; d++) {
        pf_pc2_options o = { .threads = 2, .hasher = d ? h : NULL, .chunk_nodes = chunk };
        char staged[1024], sealed[1024];
        snprintf(staged, sizeof staged, "%s/staged", dir[d]);
        snprintf(sealed, sizeof sealed, "%s/sealed", dir[d]);
        pf_status st = pf_pc2_shaped(&s, layers, dir[d], staged, sealed, &o, &out[d], &err);
        if (st)
            fail_msg("pc2 (%s): %s", d ? h->name : "cpu", err.msg);
    }
    assert_memory_equal(&out[0], &out[1], sizeof out[0]);
    for (int i = 0; i < s.base_count; i++)
        for (int k = 0; k < 2; k++) {
            for (int d = 0; d < 2; d++)
                pf_tree_file_path(dir[d], &s, k ? PF_TREE_R_LAST : PF_TREE_C, i, p[d], sizeof p[d]);
            same_file(p[0], p[1]);
        }
    static const char *const names[] = { "sealed", "p_aux" };
    for (int n = 0; n < 2; n++) {
        for (int d = 0; d < 2; d++)
            snprintf(p[d], sizeof p[d], "%s/%s", dir[d], names[n]);
        same_file(p[0], p[1]);
    }
    for (int d = 0; d < 2; d++)
        remove_dir(dir[d]);
    free(buf);
}

static void test_pc2_2k(void **state)
{
    (void)state;
    need_device();
    /* 2KiB: 64 nodes, 2 layers, one chunk */
    check_pc2(fx.cl[0], 64, 0, 0, 2, 0);
    check_pc2(fx.cl[1], 64, 0, 0, 2, 0);
    /* a small 8-8-2 sector with 11 layers and chunks of 8 leaves: sub and top roots, the
     * chunk tops built above the device's rows */
    check_pc2(fx.cl[1], 16 * 64, 8, 2, 11, 8);
}

static void test_pc2_8m(void **state)
{
    (void)state;
    need_device();
    /* 8MiB: 2^18 nodes, 2 layers; chunks of 8^5 = 32768 leaves */
    check_pc2(fx.cl[0], 1u << 18, 0, 0, 2, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_error_names),
        cmocka_unit_test(test_list),
        cmocka_unit_test(test_select),
        cmocka_unit_test(test_backend_choice),
        cmocka_unit_test(test_build_error),
        cmocka_unit_test(test_fr_64),
        cmocka_unit_test(test_fr_32),
        cmocka_unit_test(test_fr_64_mul_hi),
        cmocka_unit_test(test_poseidon_vectors),
        cmocka_unit_test(test_global_constants),
        cmocka_unit_test(test_batches_match_cpu),
        cmocka_unit_test(test_invalid_inputs),
        cmocka_unit_test(test_rows),
        cmocka_unit_test(test_sector_2k),
        cmocka_unit_test(test_pc2_2k),
        cmocka_unit_test(test_pc2_8m),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
