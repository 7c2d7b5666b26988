/* wk_gpu.h — the GPUs of a topology, one entry per physical device.
 *
 * hwloc shows one GPU as several OS devices (CUDA "cuda0", OpenCL "opencl0d1", NVML
 * "nvml0", DRM "card0", ROCm "rsmi0", Level Zero "ze0"), sometimes on different functions
 * of the same PCI device.  wk_gpu groups them by PCI domain:bus:device, so a GPU is
 * counted once.  On the live machine OpenCL is asked as well (PCI bus id from
 * cl_khr_pci_bus_info, or the NVIDIA / AMD topology queries) and its devices are matched
 * to hwloc's PCI devices for locality.
 *
 * Index order: GPUs with a PCI address in bus order first, then the others in discovery
 * order.  Which devices count, best first: devices a compute driver knows (CUDA, OpenCL
 * GPU or accelerator, NVML, ROCm, Level Zero); when there is none, OpenCL CPU devices
 * (PoCL: the development box's "GPU"); when there is none of those either, PCI devices
 * that hwloc knows only as DRM display devices ("card0"; often a server's BMC VGA, so
 * they are flagged as not computing).
 */
#ifndef WK_GPU_H
#define WK_GPU_H

#include <stdbool.h>

#include <hwloc.h>

#include "sp_err.h"

typedef struct wk_gpu {
    int index;
    bool has_pci;
    unsigned domain, bus, dev, func;
    char busid[16];          /* "0000:84:00.0", "" without PCI */
    unsigned vendor_id;      /* PCI vendor (0x10de NVIDIA, 0x1002 AMD, 0x8086 Intel), 0 unknown */
    char vendor[64];
    char model[128];
    char osdevs[160];        /* hwloc / OpenCL names, "cuda0,opencl0d1,card0" */
    int cuda_index;          /* CUDA ordinal (PCI bus order), -1 unknown */
    int opencl_platform;     /* OpenCL platform / device indexes, -1 unknown */
    int opencl_device;
    int numa;                /* OS index of the local NUMA node, -1 unknown or several */
    hwloc_bitmap_t cpuset;   /* CPUs close to it (its non-I/O ancestor's) */
    bool compute;            /* a compute driver knows it */
    bool cpu_device;         /* an OpenCL CPU device (PoCL) standing in for a GPU */
    bool synthetic;          /* from a synthetic "gpus:" token */
} wk_gpu;

typedef struct wk_gpu_list {
    wk_gpu *v;
    int n;
} wk_gpu_list;

/* Finds the GPUs of a loaded hwloc topology; with `opencl` also enumerates OpenCL
 * devices (only meaningful for the live machine).  Replaces *out. */
sp_code wk_gpu_scan(hwloc_topology_t hw, bool opencl, wk_gpu_list *out, sp_err *err);

/* Adds a synthetic GPU attached to NUMA node `numa` (OS index) of hw. */
sp_code wk_gpu_add_synthetic(hwloc_topology_t hw, int numa, wk_gpu_list *list, sp_err *err);

void wk_gpu_list_free(wk_gpu_list *list);

/* One line: "0000:84:00.0 NVIDIA Corporation GeForce GTX 680 (cuda0,opencl0d1,card0)". */
char *wk_gpu_describe(const wk_gpu *g, char *buf, size_t len);

#endif
