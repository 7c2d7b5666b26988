/* cmd_device.c — sealproof commands about compute devices: `devices` lists the OpenCL
 * platforms and devices with the numbers --gpu and SEALPIPE_OPENCL_DEVICE take, and
 * `bench gpu` measures the PC2 hashing backends (column hashes/s, tree hashes/s, and
 * tree_r_last of one base tree end to end) on a device against the CPU backend. */
#include "tool.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../src/opencl.h"
#include "../src/pc2_hasher.h"

static int unknown_option(const char *cmd, int argc, char **argv)
{
    const char *opt = optind - 1 < argc && optind > 0 ? argv[optind - 1] : "?";
    return tool_fail(cmd, "%s: unknown option or missing value (see sealproof %s --help)", opt, cmd);
}

/* ---- devices ---- */

static cJSON *device_json(const pf_cl_device *d)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "index", d->index);
    cJSON_AddNumberToObject(o, "platform_index", d->platform_index);
    cJSON_AddStringToObject(o, "platform", d->platform_name);
    cJSON_AddStringToObject(o, "name", d->name);
    cJSON_AddStringToObject(o, "vendor", d->vendor);
    cJSON_AddStringToObject(o, "type", pf_cl_type_name(d->type));
    cJSON_AddNumberToObject(o, "global_mem", (double)d->global_mem);
    cJSON_AddNumberToObject(o, "max_alloc", (double)d->max_alloc);
    cJSON_AddNumberToObject(o, "compute_units", d->compute_units);
    if (d->pci_bus_id[0])
        cJSON_AddStringToObject(o, "pci_bus_id", d->pci_bus_id);
    else
        cJSON_AddNullToObject(o, "pci_bus_id");
    cJSON_AddStringToObject(o, "version", d->version);
    cJSON_AddStringToObject(o, "driver", d->driver);
    cJSON_AddBoolToObject(o, "available", d->available);
    return o;
}

static int cmd_devices(int argc, char **argv)
{
    const char *cmd = "devices";
    static const struct option opts[] = { { "json", no_argument, NULL, 'j' }, { 0, 0, 0, 0 } };
    int json = 0, c;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == 'j')
            json = 1;
        else
            return unknown_option(cmd, argc, argv);
    }
    if (optind != argc)
        return tool_fail(cmd, "unexpected argument %s", argv[optind]);
    pf_cl_device *all;
    int n;
    pf_error err;
    if (pf_cl_devices(&all, &n, &err))
        return tool_fail_pf(cmd, &err);
    if (json) {
        cJSON *r = cJSON_CreateObject();
        cJSON *arr = cJSON_AddArrayToObject(r, "devices");
        for (int i = 0; i < n; i++)
            cJSON_AddItemToArray(arr, device_json(&all[i]));
        free(all);
        return tool_emit(r, 1);
    }
    if (n == 0)
        printf("no OpenCL devices (install the GPU driver's OpenCL ICD, or pocl-opencl-icd)\n");
    else
        printf("%-3s %-5s %-40s %-11s %10s %5s  %-12s %s\n", "#", "type", "name", "platform",
               "memory", "CUs", "pci", "driver");
    for (int i = 0; i < n; i++) {
        const pf_cl_device *d = &all[i];
        printf("%-3d %-5s %-40.40s %-11.11s %6.1f GiB %5u  %-12s %s%s\n", d->index,
               pf_cl_type_name(d->type), d->name, d->platform_name,
               (double)d->global_mem / (1024.0 * 1024 * 1024), d->compute_units,
               d->pci_bus_id[0] ? d->pci_bus_id : "-", d->driver,
               d->available ? "" : " (not available)");
    }
    free(all);
    fflush(stdout);
    return 0;
}

/* ---- bench gpu ---- */

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* Random canonical elements (top byte below p's 0x73). */
static void fill_random(uint8_t *b, uint64_t n, uint64_t seed)
{
    uint64_t x = seed * 0x9e3779b97f4a7c15ULL + 1;
    uint64_t *w = (uint64_t *)(void *)b;
    for (uint64_t i = 0; i < n * 4; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        w[i] = i % 4 == 3 ? x & 0x3fffffffffffffffULL : x;
    }
}

typedef struct rate {
    double columns11, columns2, tree8;   /* hashes per second */
    double tree_seconds;                 /* tree_r_last of one base tree, end to end */
} rate;

/* Hashes/s of one call of `count` hashes (after one warm-up call that builds the kernel). */
static pf_status time_hashes(pf_hasher *h, int arity, int columns, uint8_t *in, uint64_t count,
                             uint8_t *out, double *per_s, pf_error *err)
{
    const uint8_t *cols[16];
    for (int l = 0; l < arity; l++)
        cols[l] = in + (size_t)l * count * 32;
    long bad = -1;
    for (int pass = 0; pass < 2; pass++) {
        uint64_t n = pass ? count : 1;
        double t0 = now_s();
        pf_status st = columns ? h->columns(h, arity, cols, n, out, &bad, err)
                               : h->nodes(h, arity, in, n, out, &bad, err);
        if (st)
            return st;
        *per_s = (double)n / (now_s() - t0);
    }
    return PF_OK;
}

/* Rows above `leaves` nodes: the device path or the CPU backend row by row. */
static pf_status time_tree(pf_hasher *h, uint8_t *buf, uint64_t leaves, int rows, double *seconds,
                           pf_error *err)
{
    long bad = -1;
    double t0 = now_s();
    if (pf_hasher_is_opencl(h)) {
        pf_status st = pf_hasher_opencl_rows(h, 8, buf, leaves, rows, &bad, err);
        *seconds = now_s() - t0;
        return st;
    }
    uint64_t off = 0, w = leaves;
    for (int r = 0; r < rows; r++) {
        pf_status st = h->nodes(h, 8, buf + off * 32, w / 8, buf + (off + w) * 32, &bad, err);
        if (st)
            return st;
        off += w;
        w /= 8;
    }
    *seconds = now_s() - t0;
    return PF_OK;
}

static pf_status bench_one(pf_hasher *h, uint64_t count, uint8_t *in, uint8_t *out,
                           uint8_t *tree, uint64_t leaves, int rows, rate *r, pf_error *err)
{
    pf_status st;
    if ((st = time_hashes(h, 11, 1, in, count, out, &r->columns11, err)) ||
        (st = time_hashes(h, 2, 1, in, count, out, &r->columns2, err)) ||
        (st = time_hashes(h, 8, 0, in, count, out, &r->tree8, err)))
        return st;
    return time_tree(h, tree, leaves, rows, &r->tree_seconds, err);
}

static cJSON *rate_json(const char *backend, const rate *r)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "backend", backend);
    cJSON_AddNumberToObject(o, "column_hashes_per_s_11", (double)(uint64_t)r->columns11);
    cJSON_AddNumberToObject(o, "column_hashes_per_s_2", (double)(uint64_t)r->columns2);
    cJSON_AddNumberToObject(o, "tree_hashes_per_s", (double)(uint64_t)r->tree8);
    cJSON_AddNumberToObject(o, "tree_r_last_s", r->tree_seconds);
    return o;
}

static int cmd_bench_gpu(int argc, char **argv)
{
    const char *cmd = "bench gpu";
    static const struct option opts[] = {
        { "gpu", required_argument, NULL, 'g' },   { "limbs", required_argument, NULL, 'l' },
        { "count", required_argument, NULL, 'n' }, { "sector-size", required_argument, NULL, 's' },
        { "threads", required_argument, NULL, 'T' }, { "no-cpu", no_argument, NULL, 'N' },
        { "json", no_argument, NULL, 'j' },        { 0, 0, 0, 0 },
    };
    const char *spec = NULL, *size_s = "8MiB";
    uint64_t count = 0, limbs = 0, threads = 0;
    int json = 0, no_cpu = 0, c, rc = 1;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'g': spec = optarg; break;
        case 'l':
            if (tool_parse_u64(cmd, "--limbs", optarg, &limbs))
                return 1;
            break;
        case 'n':
            if (tool_parse_u64(cmd, "--count", optarg, &count))
                return 1;
            break;
        case 's': size_s = optarg; break;
        case 'T':
            if (tool_parse_u64(cmd, "--threads", optarg, &threads))
                return 1;
            break;
        case 'N': no_cpu = 1; break;
        case 'j': json = 1; break;
        default: return unknown_option(cmd, argc, argv);
        }
    }
    if (optind != argc)
        return tool_fail(cmd, "unexpected argument %s", argv[optind]);
    if (limbs && limbs != 32 && limbs != 64)
        return tool_fail(cmd, "--limbs %llu: 32 or 64", (unsigned long long)limbs);
    uint64_t sector;
    if (tool_parse_size(cmd, "--sector-size", size_s, &sector))
        return 1;
    int id = pf_seal_proof_for_size(sector);
    pf_tree_shape shape;
    pf_error err;
    if (id < 0)
        return tool_fail(cmd, "--sector-size %s: not a registered sector size", size_s);
    if (pf_tree_shape_for_proof(id, &shape, &err))
        return tool_fail_pf(cmd, &err);

    pf_hasher_opencl_options o = { .limb_bits = (int)limbs };
    pf_hasher *gpu = NULL, *cpu = NULL;
    if (pf_hasher_opencl_new_opts(spec, &o, &gpu, &err))
        return tool_fail_pf(cmd, &err);
    const pf_cl_device *dev = pf_hasher_opencl_device(gpu);
    if (!count)
        count = (dev->type & CL_DEVICE_TYPE_GPU) ? (1u << 21) : (1u << 13);
    /* one base tree of the sector: tree_r_last's leaves and every row above them */
    uint64_t leaves = shape.base_leaves, total = 0;
    for (uint64_t w = leaves; w; w /= 8)
        total += w;
    int rows = shape.base_rows - 1;
    uint8_t *in = malloc(count * 11 * 32), *out = malloc(count * 32);
    uint8_t *tree = malloc(total * 32), *leaves_copy = malloc(leaves * 32);
    uint8_t *tree_cpu = no_cpu ? NULL : malloc(total * 32);
    rate rg = { 0 }, rc_ = { 0 };
    cJSON *r = NULL;
    if (!in || !out || !tree || !leaves_copy || (!no_cpu && !tree_cpu)) {
        tool_fail(cmd, "out of memory for %llu hashes and a tree of %llu leaves",
                  (unsigned long long)count, (unsigned long long)leaves);
        goto done;
    }
    fill_random(in, count * 11, 1);
    fill_random(leaves_copy, leaves, 2);
    memcpy(tree, leaves_copy, leaves * 32);
    if (bench_one(gpu, count, in, out, tree, leaves, rows, &rg, &err)) {
        tool_fail_pf(cmd, &err);
        goto done;
    }
    r = cJSON_CreateObject();
    cJSON_AddItemToObject(r, "device", device_json(dev));
    cJSON_AddNumberToObject(r, "limbs", pf_hasher_opencl_limbs(gpu));
    cJSON_AddNumberToObject(r, "batch", (double)pf_hasher_opencl_batch(gpu));
    cJSON_AddNumberToObject(r, "count", (double)count);
    cJSON_AddStringToObject(r, "sector_size", size_s);
    cJSON_AddNumberToObject(r, "tree_leaves", (double)leaves);
    cJSON_AddItemToObject(r, "opencl", rate_json(gpu->name, &rg));
    if (!no_cpu) {
        if (pf_hasher_cpu_new((int)threads, &cpu, &err)) {
            tool_fail_pf(cmd, &err);
            goto done;
        }
        memcpy(tree_cpu, leaves_copy, leaves * 32);
        if (bench_one(cpu, count, in, out, tree_cpu, leaves, rows, &rc_, &err)) {
            tool_fail_pf(cmd, &err);
            goto done;
        }
        cJSON *cj = rate_json("cpu", &rc_);
        cJSON_AddNumberToObject(cj, "threads", pf_hasher_cpu_threads(cpu));
        cJSON_AddItemToObject(r, "cpu", cj);
        cJSON_AddNumberToObject(r, "tree_r_last_speedup", rc_.tree_seconds / rg.tree_seconds);
        /* the two trees must agree byte for byte */
        cJSON_AddBoolToObject(r, "trees_identical", memcmp(tree, tree_cpu, total * 32) == 0);
    }
    if (!json) {
        /* device details are long: keep the readable form to the numbers */
        cJSON_DeleteItemFromObject(r, "device");
        cJSON_AddStringToObject(r, "device", dev->name);
    }
    tool_emit(r, json);
    r = NULL;
    rc = 0;
done:
    cJSON_Delete(r);
    if (gpu)
        gpu->destroy(gpu);
    if (cpu)
        cpu->destroy(cpu);
    free(in);
    free(out);
    free(tree);
    free(tree_cpu);
    free(leaves_copy);
    return rc;
}

const sp_cmd sealproof_device_cmds[] = {
    { "devices", cmd_devices, "list OpenCL platforms and devices (the numbers --gpu takes)",
      "devices [--json]\n"
      "Lists every OpenCL device of every platform, numbered across platforms in the order\n"
      "--gpu N and SEALPIPE_OPENCL_DEVICE use: type, name, platform, global memory, compute\n"
      "units, PCI bus id (NVIDIA, AMD and cl_khr_pci_bus_info drivers report it) and driver.\n"
      "A device may also be chosen by PCI bus id (0000:41:00.0) or part of its name.\n"
      "No devices is not an error (exit 0).\n" },
    { "bench gpu", cmd_bench_gpu, "PC2 hashing on an OpenCL device against the CPU backend",
      "bench gpu [--gpu N|NAME|PCI] [--limbs 32|64] [--count N] [--sector-size 8MiB]\n"
      "          [--threads N] [--no-cpu] [--json]\n"
      "Measures, on the device and on the CPU backend (--threads, default all cores):\n"
      "column hashes/s for 11 and 2 layers and tree (arity 8) hashes/s over --count random\n"
      "inputs (default 2^21 on a GPU, 2^13 on a CPU device), and the time to build the rows\n"
      "of one tree_r_last base tree of --sector-size from leaves in host memory to rows back\n"
      "in host memory (the device builds every row without copying rows back in between),\n"
      "with the speedup and a byte-for-byte comparison of the two trees.\n"
      "The device comes from --gpu, else SEALPIPE_OPENCL_DEVICE, else device 0; the kernel\n"
      "limb width from --limbs, else SEALPIPE_OPENCL_LIMBS, else 32 on GPUs and 64 on CPUs.\n" },
    { NULL, NULL, NULL, NULL },
};
