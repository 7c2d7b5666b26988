/* wk_bind.h — what a processor child does to itself before it takes work: bind the whole
 * process to its cpuset, bind its memory to its NUMA node, check both by reading them
 * back from the kernel, and export the environment naming its GPU.
 *
 * Call wk_bind_self() early, before the child starts threads: CPU binding covers every
 * thread of the process, but Linux memory policy is per thread and only threads created
 * afterwards inherit it.  Memory binding is hwloc's BIND policy, which Linux applies as
 * "preferred" for one node (allocations spill to other nodes when the node is full)
 * unless `strict` asks for a hard bind (then a full node fails allocations instead).
 *
 * GPU environment (wk_bind_gpu_env), for GPU index i of the topology:
 *   SEALPIPE_GPU            i
 *   SEALPIPE_OPENCL_DEVICE  "P:D" (OpenCL platform and device index in clGetPlatformIDs /
 *                           clGetDeviceIDs(CL_DEVICE_TYPE_ALL) order) when OpenCL knows
 *                           the GPU, else its PCI address "0000:84:00.0"
 *   CUDA_VISIBLE_DEVICES    its rank among the NVIDIA GPUs in PCI bus order, with
 *   CUDA_DEVICE_ORDER       PCI_BUS_ID so that CUDA counts the same way (NVIDIA only)
 *   GPU_DEVICE_ORDINAL      its rank among the GPUs of its vendor in PCI bus order
 *                           (AMD's runtimes read it; others ignore it)
 *   TMPDIR                  <tmp_base>/sealpipe-gpu<i>, created 0700: GPU libraries keep
 *                           lock files in TMPDIR, one directory per GPU keeps them apart
 */
#ifndef WK_BIND_H
#define WK_BIND_H

#include <stdbool.h>

#include <hwloc.h>

#include "sp_err.h"
#include "wk_gpu.h"
#include "wk_topology.h"

typedef struct wk_bind_report {
    char cpus[512];          /* CPUs the kernel reports for this process after binding */
    int numa;                /* node memory is bound to, -1: not bound */
    bool mem_bound;          /* the kernel confirms the memory binding */
    char mem[256];           /* "NUMA node 1 (preferred)", "not bound", or why it failed */
} wk_bind_report;

/* Binds the calling process to cpuset (OS CPU indexes) and, when numa >= 0, its memory
 * to that NUMA node; reads both back.  `live` must be the live machine's topology.
 * A CPU binding that fails or reads back different is an error; a memory binding the
 * kernel refuses (containers without set_mempolicy) is reported in rep->mem and is not. */
sp_code wk_bind_self(const wk_topology *live, hwloc_const_bitmap_t cpuset, int numa, bool strict,
                     wk_bind_report *rep, sp_err *err);

/* One line for the child's log: "bound to CPUs 0-3; memory on NUMA node 0 (preferred)". */
char *wk_bind_describe(const wk_bind_report *rep, char *buf, size_t len);

typedef struct wk_env {
    char **vars;             /* "NAME=value" */
    int n;
} wk_env;

/* The environment for a processor using GPU `gpu` of `gpus` (see above).  tmp_base NULL:
 * $TMPDIR, else /tmp.  The per-GPU TMPDIR is created. */
sp_code wk_bind_gpu_env(const wk_gpu_list *gpus, int gpu, const char *tmp_base, wk_env *env,
                        sp_err *err);
/* Value of NAME in env, or NULL. */
const char *wk_env_get(const wk_env *env, const char *name);
/* setenv() every variable into the calling process. */
sp_code wk_env_apply(const wk_env *env, sp_err *err);
void wk_env_free(wk_env *env);

#endif
