/* opencl.h — OpenCL devices for the proofs library: enumeration, selection by index, PCI
 * bus id or name, programs built from the kernels embedded in the library (proofs-ffi/opencl,
 * pf_cl_source), OpenCL error names, and the OpenCL PC2 hasher backend.
 *
 * Numbering: devices are numbered 0.. across all platforms in platform order, then device
 * order inside a platform (what the ICD loader reports); `sealproof devices` prints the same
 * numbers.  A device spec is:
 *   - a decimal index ("0", "3");
 *   - a PCI bus id "dddd:bb:dd.f" or "bb:dd.f" (case-insensitive; NVIDIA and AMD GPUs report
 *     theirs, so a worker can name the GPU hwloc placed it near);
 *   - otherwise a case-insensitive substring of the device name; the lowest-numbered match wins.
 * NULL or "" means the environment variable SEALPIPE_OPENCL_DEVICE, then device 0.
 *
 * Programs: built once per (device, program, options) per process and kept until exit
 * (a lazily built, never modified table, like the Poseidon constants).  Each caller creates
 * its own kernels and queues from them.
 *
 * Every failing function returns PF_EDEVICE (or PF_EINVAL for a bad spec, PF_ENOMEM) with a
 * message naming the device and the OpenCL error by name. */
#ifndef PF_OPENCL_H
#define PF_OPENCL_H

#ifndef CL_TARGET_OPENCL_VERSION
#define CL_TARGET_OPENCL_VERSION 120
#endif
#include <CL/cl.h>

#include <stddef.h>
#include <stdint.h>

#include "pc2_hasher.h"
#include "sealproofs.h"

#define PF_CL_ENV_DEVICE "SEALPIPE_OPENCL_DEVICE"
/* "32" or "64": limb width of the field kernels (default: 32 on GPUs, 64 elsewhere) */
#define PF_CL_ENV_LIMBS "SEALPIPE_OPENCL_LIMBS"

typedef struct pf_cl_device {
    int index;                   /* global number across platforms */
    int platform_index;
    cl_platform_id platform;
    cl_device_id id;
    char platform_name[128];
    char name[128];
    char vendor[128];
    char version[128];           /* CL_DEVICE_VERSION */
    char driver[64];             /* CL_DRIVER_VERSION */
    cl_device_type type;
    uint64_t global_mem;         /* bytes */
    uint64_t max_alloc;          /* bytes, largest single buffer */
    uint64_t max_constant;       /* bytes, largest __constant argument */
    unsigned compute_units;
    int little_endian;
    int available;               /* CL_DEVICE_AVAILABLE and a compiler */
    char pci_bus_id[16];         /* "0000:41:00.0", or "" when the driver does not say */
} pf_cl_device;

/* Name of an OpenCL error code ("CL_OUT_OF_RESOURCES"), or "unknown OpenCL error" (messages
 * print the number next to it). */
const char *pf_cl_error_name(cl_int code);
/* "GPU", "CPU", "accelerator", "default", "custom" or "other". */
const char *pf_cl_type_name(cl_device_type type);

/* All devices of all platforms, numbered as above.  *out is malloc'ed (free() it); zero
 * devices (no ICD, no platform) is PF_OK with *count = 0. */
pf_status pf_cl_devices(pf_cl_device **out, int *count, pf_error *err);

/* The device a spec names (see the top comment).  PF_EINVAL when nothing matches (the
 * message lists what exists), PF_EDEVICE when there are no OpenCL devices at all. */
pf_status pf_cl_select(const char *spec, pf_cl_device *out, pf_error *err);

/* The process-wide context of a device (created on first use, kept until exit). */
pf_status pf_cl_context(const pf_cl_device *dev, cl_context *out, pf_error *err);

/* A program from embedded sources (pf_cl_source names, concatenated in order) built with
 * `options` for the device, cached for the process.  A compile failure is PF_EDEVICE with
 * the start of the build log in the message.  The program belongs to the cache: do not
 * release it. */
pf_status pf_cl_program(const pf_cl_device *dev, const char *const *sources, int nsources,
                        const char *options, cl_program *out, pf_error *err);

/* Limb width (32 or 64) for the field kernels on a device: SEALPIPE_OPENCL_LIMBS when set
 * to 32 or 64, else 32 on GPUs and 64 on other devices. */
int pf_cl_default_limbs(const pf_cl_device *dev);

/* ---- the OpenCL PC2 hasher (pc2_hasher_opencl.c) ---- */

typedef struct pf_hasher_opencl_options {
    int limb_bits;           /* 0 = pf_cl_default_limbs, else 32 or 64 */
    size_t batch;            /* hashes per device batch; 0 = chosen from the device memory */
    int global_constants;    /* 1: Poseidon constants in __global memory even where they fit
                              * the device's __constant buffer (tests that path) */
    int unroll;              /* 0 = default (GPUs: yes), 1 = unroll the width loops so the
                              * state stays in registers, -1 = do not */
} pf_hasher_opencl_options;

/* An OpenCL backend for PC2 on the device `device_spec` names (NULL: the environment, then
 * device 0), with default options.  The hasher is not thread-safe: one PC2 at a time. */
pf_status pf_hasher_opencl_new(const char *device_spec, pf_hasher **out, pf_error *err);
pf_status pf_hasher_opencl_new_opts(const char *device_spec, const pf_hasher_opencl_options *opt,
                                    pf_hasher **out, pf_error *err);
/* 1 when h was made by pf_hasher_opencl_new*. */
int pf_hasher_is_opencl(const pf_hasher *h);
/* The device of an OpenCL hasher, its limb width and its batch size. */
const pf_cl_device *pf_hasher_opencl_device(const pf_hasher *h);
int pf_hasher_opencl_limbs(const pf_hasher *h);
size_t pf_hasher_opencl_batch(const pf_hasher *h);

/* The hasher's rows and column_rows members (pc2_hasher.h).
 * Tree rows on the device with one upload and one download: buf holds row 0 (`leaves`
 * nodes, a multiple of arity^rows) followed by room for rows 1..rows; row r+1 node j =
 * Poseidon_arity(row r nodes j*arity .. j*arity+arity-1).  Identical to calling h->nodes
 * row by row (which it does when the rows do not fit in device memory).  An invalid leaf
 * is PF_ECORRUPT with *bad = its index in row 0. */
pf_status pf_hasher_opencl_rows(pf_hasher *h, int arity, uint8_t *buf, uint64_t leaves, int rows,
                                long *bad, pf_error *err);
/* Column hashes and the tree rows above them, the column hashes never leaving the device
 * until the end: out gets row 0 = Poseidon_layers(cols[0][i], ..., cols[layers-1][i]) for
 * i < leaves, followed by rows 1..rows as for pf_hasher_opencl_rows.  An invalid label is
 * PF_ECORRUPT with *bad = i * layers + layer. */
pf_status pf_hasher_opencl_column_rows(pf_hasher *h, int layers, const uint8_t *const *cols,
                                       uint64_t leaves, int arity, int rows, uint8_t *out,
                                       long *bad, pf_error *err);

/* ---- choosing a backend, and rows on any backend (for PC2) ---- */

/* The hasher PC2 should use: gpu NULL -> the OpenCL device SEALPIPE_OPENCL_DEVICE names when
 * that is set (the worker sets it for a processor's GPU), else the CPU backend with `threads`
 * threads; gpu "cpu" -> the CPU backend; anything else -> that OpenCL device spec. */
pf_status pf_hasher_select(const char *gpu, int threads, pf_hasher **out, pf_error *err);
/* Leaves per PC2 chunk that keep this backend busy: 0 for the CPU backend (PC2's default),
 * 8^7 on a GPU (about (layers + 3) * 64 MiB of host memory), 8^5 on other devices. */
uint64_t pf_hasher_preferred_chunk(const pf_hasher *h);
/* h->rows / h->column_rows where the backend has them (the OpenCL hasher's are
 * pf_hasher_opencl_rows / _column_rows); otherwise the same results through h->columns and
 * h->nodes row by row. */
pf_status pf_hasher_rows(pf_hasher *h, int arity, uint8_t *buf, uint64_t leaves, int rows,
                         long *bad, pf_error *err);
pf_status pf_hasher_column_rows(pf_hasher *h, int layers, const uint8_t *const *cols,
                                uint64_t leaves, int arity, int rows, uint8_t *out, long *bad,
                                pf_error *err);

#endif
