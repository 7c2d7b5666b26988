/* pc2_hasher_opencl.c — the OpenCL implementation of pc2_hasher.h: column and node
 * batches, and tree rows built on the device (its rows / column_rows calls); plus the rule
 * PC2 callers use to choose a backend (pf_hasher_select) and backend-neutral row helpers.
 *
 * Streaming: a call is cut into batches of at most h->batch hashes that alternate between
 * two slots, each with its own in-order queue, pinned host staging buffer and device
 * buffers.  The host copies batch k+1 into its slot's pinned buffer (planar for columns:
 * layer l at l * n nodes, so neighbouring work-items read neighbouring 32-byte nodes) while
 * the device still hashes batch k, and the DMA of one slot overlaps the kernel of the other.
 * Results are read straight into the caller's buffer; everything is finished before a call
 * returns, on success and on failure alike.
 *
 * Kernels (proofs-ffi/opencl/poseidon.cl) take canonical inputs, convert to Montgomery
 * form on the device, check every input < p (the first bad index of a batch comes back
 * through a 32-bit atomic minimum) and write canonical outputs. */
#include "opencl.h"

#include <stdarg.h>
#include <strings.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "poseidon.h"

#define MAX_PROGS 8        /* arities one hasher builds kernels for */
#define GPU_BATCH (1u << 19)   /* hashes per batch: 176 MiB of 11-layer input per slot */
#define CPU_BATCH (1u << 14)
#define GPU_LOCAL 64       /* register-heavy kernel: small work-groups */
#define CPU_LOCAL 16       /* PoCL vectorizes across a work-group; 8..32 measured alike */
/* room left in the constant space for the kernels' own __constant tables */
#define CONST_MARGIN 4096

typedef struct arity_prog {
    int arity;
    cl_kernel kernel;
    cl_mem consts;               /* the Poseidon constants blob */
    cl_ulong tag[4];             /* domain tag, Montgomery limbs */
    size_t local;                /* work-group size */
} arity_prog;

typedef struct slot {
    cl_command_queue q;
    cl_mem pinned;               /* host staging buffer (CL_MEM_ALLOC_HOST_PTR), kept mapped */
    uint8_t *pinned_ptr;
    cl_mem in, out, bad;         /* device buffers */
    size_t in_cap, out_cap;      /* bytes */
    cl_event staged;             /* the last upload from pinned; pinned is free once it is done */
} slot;

typedef struct cl_hasher {
    pf_hasher base;
    char name[200];
    pf_cl_device dev;
    cl_context ctx;
    int limbs;
    int global_constants;
    int unroll;
    size_t batch;
    slot slots[2];
    arity_prog progs[MAX_PROGS];
    int nprogs;
    cl_mem tree;                 /* rows built on the device */
    size_t tree_cap;
    cl_uint *bads;               /* one per batch of the current call */
    size_t bads_cap;
} cl_hasher;

__attribute__((format(printf, 3, 4)))
static pf_status fail(pf_error *err, pf_status st, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        err->status = st;
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
    }
    return st;
}

static pf_status cl_fail(cl_hasher *h, pf_error *err, const char *what, cl_int rc)
{
    int memory = rc == CL_MEM_OBJECT_ALLOCATION_FAILURE || rc == CL_OUT_OF_RESOURCES ||
                 rc == CL_OUT_OF_HOST_MEMORY || rc == CL_INVALID_BUFFER_SIZE;
    return fail(err, PF_EDEVICE, "OpenCL device %d (%s): %s failed: %s (%d); %s", h->dev.index,
                h->dev.name, what, pf_cl_error_name(rc), rc,
                memory ? "the device or host is out of memory (another process may hold the "
                         "GPU): free it, choose another device, or hash on the CPU (--cpu)"
                       : "check the driver with clinfo, or hash on the CPU (--cpu)");
}

static void drain(cl_hasher *h)
{
    for (int s = 0; s < 2; s++)
        if (h->slots[s].q)
            clFinish(h->slots[s].q);
}

/* ---- programs ---- */

static pf_status get_prog(cl_hasher *h, int arity, arity_prog **out, pf_error *err)
{
    for (int i = 0; i < h->nprogs; i++)
        if (h->progs[i].arity == arity) {
            *out = &h->progs[i];
            return PF_OK;
        }
    const pf_poseidon_consts *c = pf_poseidon_get(arity);
    if (!c)
        return fail(err, PF_EINVAL, "Poseidon arity %d is not supported (1..%d)", arity,
                    PF_POSEIDON_MAX_ARITY);
    if (h->nprogs == MAX_PROGS)
        return fail(err, PF_EINVAL, "OpenCL hasher: more than %d arities in one hasher", MAX_PROGS);
    size_t blob_bytes = c->blob_len * sizeof(pf_fr);
    char opts[200];
    snprintf(opts, sizeof opts, "-DARITY=%d -DPF_RP=%d -DPF_LIMB_BITS=%d%s%s", arity, c->rp,
             h->limbs,
             h->global_constants || blob_bytes + CONST_MARGIN > h->dev.max_constant
                 ? " -DPF_CONST=__global" : "",
             h->unroll ? " -DPF_UNROLL_WIDTH" : "");
    static const char *const sources[] = { "fr.cl", "poseidon.cl" };
    cl_program prog;
    pf_status st = pf_cl_program(&h->dev, sources, 2, opts, &prog, err);
    if (st)
        return st;
    arity_prog *p = &h->progs[h->nprogs];
    memset(p, 0, sizeof *p);
    cl_int rc;
    p->kernel = clCreateKernel(prog, "pf_poseidon", &rc);
    if (rc != CL_SUCCESS)
        return cl_fail(h, err, "creating the Poseidon kernel", rc);
    p->consts = clCreateBuffer(h->ctx, CL_MEM_READ_ONLY | CL_MEM_COPY_HOST_PTR, blob_bytes,
                               (void *)c->blob, &rc);
    if (rc != CL_SUCCESS) {
        clReleaseKernel(p->kernel);
        return cl_fail(h, err, "allocating the Poseidon constants", rc);
    }
    for (int i = 0; i < 4; i++)
        p->tag[i] = c->tag.l[i];
    size_t wg = 0;
    if (clGetKernelWorkGroupInfo(p->kernel, h->dev.id, CL_KERNEL_WORK_GROUP_SIZE, sizeof wg, &wg,
                                 NULL) != CL_SUCCESS || wg == 0)
        wg = 1;
    size_t want = (h->dev.type & CL_DEVICE_TYPE_GPU) ? GPU_LOCAL : CPU_LOCAL;
    if (getenv("XLOCAL")) want = (size_t)atoi(getenv("XLOCAL"));
    p->local = 1;
    while (p->local * 2 <= want && p->local * 2 <= wg)
        p->local *= 2;
    p->arity = arity;
    h->nprogs++;
    *out = p;
    return PF_OK;
}

/* ---- buffers ---- */

static void release_slot_buffers(slot *s)
{
    if (s->staged) {
        clWaitForEvents(1, &s->staged);
        clReleaseEvent(s->staged);
        s->staged = NULL;
    }
    if (s->pinned_ptr) {
        clEnqueueUnmapMemObject(s->q, s->pinned, s->pinned_ptr, 0, NULL, NULL);
        clFinish(s->q);
        s->pinned_ptr = NULL;
    }
    if (s->pinned)
        clReleaseMemObject(s->pinned);
    if (s->in)
        clReleaseMemObject(s->in);
    s->pinned = s->in = NULL;
    s->in_cap = 0;
}

/* Input staging and device input of at least `bytes`, output of at least `out_bytes`. */
static pf_status ensure_slot(cl_hasher *h, slot *s, size_t bytes, size_t out_bytes, pf_error *err)
{
    cl_int rc;
    if (s->in_cap < bytes) {
        release_slot_buffers(s);
        s->pinned = clCreateBuffer(h->ctx, CL_MEM_READ_WRITE | CL_MEM_ALLOC_HOST_PTR, bytes, NULL,
                                   &rc);
        if (rc != CL_SUCCESS)
            return cl_fail(h, err, "allocating pinned host staging memory", rc);
        s->pinned_ptr = clEnqueueMapBuffer(s->q, s->pinned, CL_TRUE, CL_MAP_WRITE, 0, bytes, 0,
                                           NULL, NULL, &rc);
        if (rc != CL_SUCCESS) {
            s->pinned_ptr = NULL;
            release_slot_buffers(s);
            return cl_fail(h, err, "mapping pinned host staging memory", rc);
        }
        s->in = clCreateBuffer(h->ctx, CL_MEM_READ_ONLY, bytes, NULL, &rc);
        if (rc != CL_SUCCESS) {
            release_slot_buffers(s);
            return cl_fail(h, err, "allocating device input memory", rc);
        }
        s->in_cap = bytes;
    }
    if (s->out_cap < out_bytes) {
        if (s->out)
            clReleaseMemObject(s->out);
        s->out_cap = 0;
        s->out = clCreateBuffer(h->ctx, CL_MEM_WRITE_ONLY, out_bytes, NULL, &rc);
        if (rc != CL_SUCCESS) {
            s->out = NULL;
            return cl_fail(h, err, "allocating device output memory", rc);
        }
        s->out_cap = out_bytes;
    }
    return PF_OK;
}

static pf_status ensure_bads(cl_hasher *h, size_t n, pf_error *err)
{
    if (h->bads_cap >= n)
        return PF_OK;
    cl_uint *b = realloc(h->bads, sizeof *b * n);
    if (!b)
        return fail(err, PF_ENOMEM, "out of memory for OpenCL batch bookkeeping");
    h->bads = b;
    h->bads_cap = n;
    return PF_OK;
}

static pf_status ensure_tree(cl_hasher *h, size_t bytes, pf_error *err)
{
    if (h->tree_cap >= bytes)
        return PF_OK;
    if (h->tree)
        clReleaseMemObject(h->tree);
    h->tree_cap = 0;
    cl_int rc;
    h->tree = clCreateBuffer(h->ctx, CL_MEM_READ_WRITE, bytes, NULL, &rc);
    if (rc != CL_SUCCESS) {
        h->tree = NULL;
        return cl_fail(h, err, "allocating device tree memory", rc);
    }
    h->tree_cap = bytes;
    return PF_OK;
}

/* Waits until the slot's staging buffer may be overwritten. */
static pf_status wait_staged(cl_hasher *h, slot *s, pf_error *err)
{
    if (!s->staged)
        return PF_OK;
    cl_int rc = clWaitForEvents(1, &s->staged);
    clReleaseEvent(s->staged);
    s->staged = NULL;
    return rc == CL_SUCCESS ? PF_OK : cl_fail(h, err, "uploading a batch", rc);
}

/* ---- kernels ---- */

typedef struct launch {
    cl_mem in;
    cl_ulong in_off, hash_stride, elem_stride;
    cl_uint count;
    cl_mem out;
    cl_ulong out_off;
    cl_mem bad;
} launch;

static pf_status run_kernel(cl_hasher *h, arity_prog *p, cl_command_queue q, const launch *l,
                            pf_error *err)
{
    cl_kernel k = p->kernel;
    cl_int rc = 0;
    rc |= clSetKernelArg(k, 0, sizeof(cl_mem), &l->in);
    rc |= clSetKernelArg(k, 1, sizeof(cl_ulong), &l->in_off);
    rc |= clSetKernelArg(k, 2, sizeof(cl_ulong), &l->hash_stride);
    rc |= clSetKernelArg(k, 3, sizeof(cl_ulong), &l->elem_stride);
    rc |= clSetKernelArg(k, 4, sizeof(cl_uint), &l->count);
    rc |= clSetKernelArg(k, 5, sizeof(cl_mem), &l->out);
    rc |= clSetKernelArg(k, 6, sizeof(cl_ulong), &l->out_off);
    rc |= clSetKernelArg(k, 7, sizeof(cl_mem), &l->bad);
    rc |= clSetKernelArg(k, 8, sizeof(cl_ulong) * 4, p->tag);
    rc |= clSetKernelArg(k, 9, sizeof(cl_mem), &p->consts);
    if (rc != CL_SUCCESS)
        return fail(err, PF_EDEVICE, "OpenCL device %d (%s): setting Poseidon kernel arguments "
                    "failed", h->dev.index, h->dev.name);
    size_t local = p->local;
    size_t global = ((size_t)l->count + local - 1) / local * local;
    rc = clEnqueueNDRangeKernel(q, k, 1, NULL, &global, &local, 0, NULL, NULL);
    return rc == CL_SUCCESS ? PF_OK : cl_fail(h, err, "running the Poseidon kernel", rc);
}

static pf_status reset_bad(cl_hasher *h, cl_command_queue q, cl_mem bad, pf_error *err)
{
    static const cl_uint ones = 0xffffffffu;
    cl_int rc = clEnqueueFillBuffer(q, bad, &ones, sizeof ones, 0, sizeof ones, 0, NULL, NULL);
    return rc == CL_SUCCESS ? PF_OK : cl_fail(h, err, "clearing the bad-input flag", rc);
}

/* ---- streaming ---- */

typedef struct stream {
    int arity;
    const uint8_t *const *cols;  /* columns, or NULL for nodes */
    const uint8_t *in;           /* nodes: count * arity elements */
    size_t count;
    uint8_t *out;                /* host output, or NULL: ... */
    cl_mem out_dev;              /* ... device output at element out_dev_off */
    size_t out_dev_off;
} stream;

static void stage(const stream *j, size_t pos, size_t n, uint8_t *dst)
{
    if (j->cols) {
        for (int l = 0; l < j->arity; l++)
            memcpy(dst + (size_t)l * n * 32, j->cols[l] + pos * 32, n * 32);
    } else {
        memcpy(dst, j->in + pos * (size_t)j->arity * 32, n * (size_t)j->arity * 32);
    }
}

static pf_status enqueue_batch(cl_hasher *h, arity_prog *p, const stream *j, size_t k, size_t pos,
                               size_t n, pf_error *err)
{
    slot *s = &h->slots[k & 1];
    size_t in_bytes = n * (size_t)j->arity * 32;
    /* sized for this call's batches, not the maximum: small calls stay small */
    size_t most = j->count < h->batch ? j->count : h->batch;
    pf_status st = ensure_slot(h, s, most * (size_t)j->arity * 32, j->out ? most * 32 : 0, err);
    if (st || (st = wait_staged(h, s, err)))
        return st;
    stage(j, pos, n, s->pinned_ptr);
    cl_int rc = clEnqueueWriteBuffer(s->q, s->in, CL_FALSE, 0, in_bytes, s->pinned_ptr, 0, NULL,
                                     &s->staged);
    if (rc != CL_SUCCESS)
        return cl_fail(h, err, "uploading a batch", rc);
    if ((st = reset_bad(h, s->q, s->bad, err)))
        return st;
    launch l = { s->in, 0, j->cols ? 1 : (cl_ulong)j->arity, j->cols ? (cl_ulong)n : 1,
                 (cl_uint)n, j->out ? s->out : j->out_dev,
                 j->out ? 0 : (cl_ulong)(j->out_dev_off + pos), s->bad };
    if ((st = run_kernel(h, p, s->q, &l, err)))
        return st;
    if (j->out) {
        rc = clEnqueueReadBuffer(s->q, s->out, CL_FALSE, 0, n * 32, j->out + pos * 32, 0, NULL,
                                 NULL);
        if (rc != CL_SUCCESS)
            return cl_fail(h, err, "downloading hashes", rc);
    }
    rc = clEnqueueReadBuffer(s->q, s->bad, CL_FALSE, 0, sizeof(cl_uint), &h->bads[k], 0, NULL, NULL);
    if (rc == CL_SUCCESS)
        rc = clFlush(s->q);   /* submit now: the other slot's host work overlaps this batch */
    return rc == CL_SUCCESS ? PF_OK : cl_fail(h, err, "downloading the bad-input flag", rc);
}

static pf_status bad_input(long index, long *bad, pf_error *err)
{
    if (bad)
        *bad = index;
    return fail(err, PF_ECORRUPT, "Poseidon input %ld is not a field element", index);
}

static pf_status run_stream(cl_hasher *h, const stream *j, long *bad, pf_error *err)
{
    arity_prog *p;
    pf_status st = get_prog(h, j->arity, &p, err);
    if (st)
        return st;
    size_t batches = (j->count + h->batch - 1) / h->batch;
    if ((st = ensure_bads(h, batches, err)))
        return st;
    for (size_t k = 0, pos = 0; k < batches; k++, pos += h->batch) {
        size_t n = j->count - pos < h->batch ? j->count - pos : h->batch;
        if ((st = enqueue_batch(h, p, j, k, pos, n, err))) {
            drain(h);
            return st;
        }
    }
    for (int s = 0; s < 2; s++) {
        cl_int rc = clFinish(h->slots[s].q);
        if (rc != CL_SUCCESS) {
            drain(h);
            return cl_fail(h, err, "finishing a batch", rc);
        }
    }
    for (size_t k = 0; k < batches; k++)
        if (h->bads[k] != 0xffffffffu)
            return bad_input((long)(k * h->batch * (size_t)j->arity + h->bads[k]), bad, err);
    return PF_OK;
}

static pf_status check_arity(int arity, pf_error *err)
{
    if (arity < 1 || arity > PF_POSEIDON_MAX_ARITY)
        return fail(err, PF_EINVAL, "Poseidon arity %d is not supported (1..%d)", arity,
                    PF_POSEIDON_MAX_ARITY);
    return PF_OK;
}

static pf_status ocl_columns(pf_hasher *hb, int layers, const uint8_t *const *cols, size_t count,
                             uint8_t *out, long *bad, pf_error *err)
{
    pf_status st = check_arity(layers, err);
    if (st || count == 0)
        return st;
    stream j = { layers, cols, NULL, count, out, NULL, 0 };
    return run_stream((cl_hasher *)hb, &j, bad, err);
}

static pf_status ocl_nodes(pf_hasher *hb, int arity, const uint8_t *in, size_t count, uint8_t *out,
                           long *bad, pf_error *err)
{
    pf_status st = check_arity(arity, err);
    if (st || count == 0)
        return st;
    stream j = { arity, NULL, in, count, out, NULL, 0 };
    return run_stream((cl_hasher *)hb, &j, bad, err);
}

/* ---- rows on the device ---- */

/* Nodes in rows 0..rows over `leaves`; 0 when a row would not divide evenly. */
static uint64_t tree_nodes(uint64_t leaves, int arity, int rows)
{
    uint64_t total = 0, w = leaves;
    for (int r = 0; r <= rows; r++) {
        total += w;
        if (r < rows && w % (uint64_t)arity)
            return 0;
        w /= (uint64_t)arity;
    }
    return total;
}

static int fits_device(cl_hasher *h, uint64_t bytes)
{
    return bytes <= h->dev.max_alloc && bytes <= h->dev.global_mem / 2;
}

/* Uploads bytes from host memory into dst at byte offset off, through the pinned slots. */
static pf_status upload(cl_hasher *h, cl_mem dst, size_t off, const uint8_t *src, size_t bytes,
                        pf_error *err)
{
    size_t piece = h->batch * 8 * 32;
    if (piece > bytes)
        piece = bytes;
    for (size_t k = 0, pos = 0; pos < bytes; k++, pos += piece) {
        slot *s = &h->slots[k & 1];
        size_t n = bytes - pos < piece ? bytes - pos : piece;
        pf_status st = ensure_slot(h, s, piece, 0, err);
        if (st || (st = wait_staged(h, s, err)))
            return st;
        memcpy(s->pinned_ptr, src + pos, n);
        cl_int rc = clEnqueueWriteBuffer(s->q, dst, CL_FALSE, off + pos, n, s->pinned_ptr, 0, NULL,
                                         &s->staged);
        if (rc == CL_SUCCESS)
            rc = clFlush(s->q);
        if (rc != CL_SUCCESS)
            return cl_fail(h, err, "uploading tree leaves", rc);
    }
    return PF_OK;
}

/* Rows 1..rows of the tree whose row 0 is already in h->tree, then all of rows from..rows
 * back into out (out = row `from`). */
static pf_status device_rows(cl_hasher *h, int arity, uint64_t leaves, int rows, int from,
                             uint8_t *out, long *bad, pf_error *err)
{
    arity_prog *p;
    pf_status st = get_prog(h, arity, &p, err);
    if (st)
        return st;
    slot *s = &h->slots[0];
    for (int i = 0; i < 2; i++) {
        cl_int rc = clFinish(h->slots[i].q);
        if (rc != CL_SUCCESS)
            return cl_fail(h, err, "uploading tree leaves", rc);
    }
    if ((st = reset_bad(h, s->q, s->bad, err)))
        return st;
    uint64_t off = 0, w = leaves;
    for (int r = 0; r < rows; r++) {
        launch l = { h->tree, off, (cl_ulong)arity, 1, (cl_uint)(w / (uint64_t)arity), h->tree,
                     off + w, s->bad };
        if ((st = run_kernel(h, p, s->q, &l, err)))
            return st;
        off += w;
        w /= (uint64_t)arity;
    }
    uint64_t first = from ? leaves : 0;
    uint64_t total = tree_nodes(leaves, arity, rows);
    cl_uint b = 0xffffffffu;
    cl_int rc = clEnqueueReadBuffer(s->q, h->tree, CL_TRUE, first * 32, (total - first) * 32, out,
                                    0, NULL, NULL);
    if (rc == CL_SUCCESS)
        rc = clEnqueueReadBuffer(s->q, s->bad, CL_TRUE, 0, sizeof b, &b, 0, NULL, NULL);
    if (rc != CL_SUCCESS)
        return cl_fail(h, err, "downloading tree rows", rc);
    if (b != 0xffffffffu)   /* only row 0 comes from outside: b indexes a leaf */
        return bad_input((long)b, bad, err);
    return PF_OK;
}

static pf_status check_rows(uint64_t leaves, int arity, int rows, uint64_t *total, pf_error *err)
{
    pf_status st = check_arity(arity, err);
    if (st)
        return st;
    if (rows < 0 || leaves == 0 || leaves >= (1ULL << 32) / (uint64_t)arity ||
        !(*total = tree_nodes(leaves, arity, rows)))
        return fail(err, PF_EINVAL, "tree rows: %llu leaves do not make %d rows of arity %d "
                    "(need a multiple of %d^%d, below 2^32 / arity)", (unsigned long long)leaves,
                    rows, arity, arity, rows);
    return PF_OK;
}

pf_status pf_hasher_opencl_rows(pf_hasher *hb, int arity, uint8_t *buf, uint64_t leaves, int rows,
                                long *bad, pf_error *err)
{
    cl_hasher *h = (cl_hasher *)hb;
    uint64_t total = 0;
    pf_status st = check_rows(leaves, arity, rows, &total, err);
    if (st || rows == 0)
        return st;
    if (!fits_device(h, total * 32)) {
        /* too big for one device buffer: row by row through the streaming path */
        uint64_t off = 0, w = leaves;
        for (int r = 0; r < rows; r++) {
            if ((st = ocl_nodes(hb, arity, buf + off * 32, w / (uint64_t)arity,
                                buf + (off + w) * 32, bad, err)))
                return st;
            off += w;
            w /= (uint64_t)arity;
        }
        return PF_OK;
    }
    if ((st = ensure_tree(h, total * 32, err)) ||
        (st = upload(h, h->tree, 0, buf, leaves * 32, err)) ||
        (st = device_rows(h, arity, leaves, rows, 1, buf + leaves * 32, bad, err))) {
        drain(h);
        return st;
    }
    return PF_OK;
}

pf_status pf_hasher_opencl_column_rows(pf_hasher *hb, int layers, const uint8_t *const *cols,
                                       uint64_t leaves, int arity, int rows, uint8_t *out,
                                       long *bad, pf_error *err)
{
    cl_hasher *h = (cl_hasher *)hb;
    uint64_t total = 0;
    pf_status st = check_arity(layers, err);
    if (st || (st = check_rows(leaves, arity, rows, &total, err)))
        return st;
    if (!fits_device(h, total * 32)) {
        if ((st = ocl_columns(hb, layers, cols, leaves, out, bad, err)))
            return st;
        return pf_hasher_opencl_rows(hb, arity, out, leaves, rows, bad, err);
    }
    if ((st = ensure_tree(h, total * 32, err)))
        return st;
    stream j = { layers, cols, NULL, leaves, NULL, h->tree, 0 };
    if ((st = run_stream(h, &j, bad, err)))
        return st;
    if ((st = device_rows(h, arity, leaves, rows, 0, out, bad, err))) {
        drain(h);
        if (st == PF_ECORRUPT)   /* the rows' inputs came from the device: cannot happen */
            return fail(err, PF_EINTERNAL, "OpenCL device %d (%s): a column hash is not a field "
                        "element: kernel bug or faulty device", h->dev.index, h->dev.name);
        return st;
    }
    return PF_OK;
}

/* ---- lifetime ---- */

static void ocl_destroy(pf_hasher *hb)
{
    cl_hasher *h = (cl_hasher *)hb;
    if (!h)
        return;
    drain(h);
    for (int s = 0; s < 2; s++) {
        slot *sl = &h->slots[s];
        if (sl->q)
            release_slot_buffers(sl);
        if (sl->out)
            clReleaseMemObject(sl->out);
        if (sl->bad)
            clReleaseMemObject(sl->bad);
        if (sl->q)
            clReleaseCommandQueue(sl->q);
    }
    for (int i = 0; i < h->nprogs; i++) {
        clReleaseKernel(h->progs[i].kernel);
        clReleaseMemObject(h->progs[i].consts);
    }
    if (h->tree)
        clReleaseMemObject(h->tree);
    free(h->bads);
    free(h);
}

static size_t default_batch(const pf_cl_device *d)
{
    size_t b = (d->type & CL_DEVICE_TYPE_GPU) ? GPU_BATCH : CPU_BATCH;
    /* two slots of up to 12 inputs + 1 output per hash: keep within a quarter of the memory
     * and under the largest single allocation */
    while (b > 1024 && ((uint64_t)b * 13 * 32 * 2 > d->global_mem / 4 ||
                        (uint64_t)b * 12 * 32 > d->max_alloc))
        b /= 2;
    return b;
}

pf_status pf_hasher_opencl_new_opts(const char *device_spec, const pf_hasher_opencl_options *opt,
                                    pf_hasher **out, pf_error *err)
{
    *out = NULL;
    cl_hasher *h = calloc(1, sizeof *h);
    if (!h)
        return fail(err, PF_ENOMEM, "out of memory creating the OpenCL hasher");
    pf_status st = pf_cl_select(device_spec, &h->dev, err);
    if (st || (st = pf_cl_context(&h->dev, &h->ctx, err)))
        goto fail;
    h->limbs = opt && opt->limb_bits ? opt->limb_bits : pf_cl_default_limbs(&h->dev);
    if (h->limbs != 32 && h->limbs != 64) {
        st = fail(err, PF_EINVAL, "OpenCL hasher: limb width %d (32 or 64)", h->limbs);
        goto fail;
    }
    h->global_constants = opt && opt->global_constants;
    h->unroll = opt && opt->unroll ? opt->unroll > 0 : (h->dev.type & CL_DEVICE_TYPE_GPU) != 0;
    h->batch = opt && opt->batch ? opt->batch : default_batch(&h->dev);
    if (h->batch > (1u << 24))
        h->batch = 1u << 24;   /* bad indices are 32-bit: batch * arity < 2^32 */
    for (int s = 0; s < 2; s++) {
        cl_int rc;
        h->slots[s].q = clCreateCommandQueue(h->ctx, h->dev.id, 0, &rc);
        if (rc != CL_SUCCESS) {
            h->slots[s].q = NULL;
            st = cl_fail(h, err, "creating a command queue", rc);
            goto fail;
        }
        h->slots[s].bad = clCreateBuffer(h->ctx, CL_MEM_READ_WRITE, sizeof(cl_uint), NULL, &rc);
        if (rc != CL_SUCCESS) {
            h->slots[s].bad = NULL;
            st = cl_fail(h, err, "allocating device memory", rc);
            goto fail;
        }
    }
    snprintf(h->name, sizeof h->name, "opencl:%d:%s", h->dev.index, h->dev.name);
    h->base.name = h->name;
    h->base.columns = ocl_columns;
    h->base.nodes = ocl_nodes;
    h->base.rows = pf_hasher_opencl_rows;
    h->base.column_rows = pf_hasher_opencl_column_rows;
    h->base.destroy = ocl_destroy;
    *out = &h->base;
    return PF_OK;
fail:
    ocl_destroy(&h->base);
    return st;
}

pf_status pf_hasher_opencl_new(const char *device_spec, pf_hasher **out, pf_error *err)
{
    return pf_hasher_opencl_new_opts(device_spec, NULL, out, err);
}

int pf_hasher_is_opencl(const pf_hasher *h)
{
    return h && h->destroy == ocl_destroy;
}

const pf_cl_device *pf_hasher_opencl_device(const pf_hasher *h)
{
    return &((const cl_hasher *)h)->dev;
}

int pf_hasher_opencl_limbs(const pf_hasher *h)
{
    return ((const cl_hasher *)h)->limbs;
}

size_t pf_hasher_opencl_batch(const pf_hasher *h)
{
    return ((const cl_hasher *)h)->batch;
}

/* ---- backend choice and rows on any backend ---- */

pf_status pf_hasher_select(const char *gpu, int threads, pf_hasher **out, pf_error *err)
{
    if (!gpu) {
        const char *env = getenv(PF_CL_ENV_DEVICE);
        if (!env || !*env)
            return pf_hasher_cpu_new(threads, out, err);
        return pf_hasher_opencl_new(env, out, err);
    }
    if (strcasecmp(gpu, "cpu") == 0)
        return pf_hasher_cpu_new(threads, out, err);
    return pf_hasher_opencl_new(gpu, out, err);
}

uint64_t pf_hasher_preferred_chunk(const pf_hasher *h)
{
    if (!pf_hasher_is_opencl(h))
        return 0;
    return (pf_hasher_opencl_device(h)->type & CL_DEVICE_TYPE_GPU) ? 1ULL << 21 : 1ULL << 15;
}

pf_status pf_hasher_rows(pf_hasher *h, int arity, uint8_t *buf, uint64_t leaves, int rows,
                         long *bad, pf_error *err)
{
    if (h->rows)
        return h->rows(h, arity, buf, leaves, rows, bad, err);
    uint64_t total = 0;
    pf_status st = check_rows(leaves, arity, rows, &total, err);
    uint64_t off = 0, w = leaves;
    for (int r = 0; !st && r < rows; r++) {
        st = h->nodes(h, arity, buf + off * 32, (size_t)(w / (uint64_t)arity), buf + (off + w) * 32,
                      bad, err);
        off += w;
        w /= (uint64_t)arity;
    }
    return st;
}

pf_status pf_hasher_column_rows(pf_hasher *h, int layers, const uint8_t *const *cols,
                                uint64_t leaves, int arity, int rows, uint8_t *out, long *bad,
                                pf_error *err)
{
    if (h->column_rows)
        return h->column_rows(h, layers, cols, leaves, arity, rows, out, bad, err);
    uint64_t total = 0;
    pf_status st = check_rows(leaves, arity, rows, &total, err);
    if (st || (st = h->columns(h, layers, cols, (size_t)leaves, out, bad, err)))
        return st;
    return pf_hasher_rows(h, arity, out, leaves, rows, bad, err);
}
