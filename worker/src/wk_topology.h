/* wk_topology.h — the machine a worker places its processors on.
 *
 * A wk_topology wraps an hwloc topology loaded from the live machine, an hwloc XML file
 * or a synthetic description, and flattens what placement needs into plain tables:
 * physical cores (with only their *allowed* hardware threads: offline PUs and PUs outside
 * the process's allowed cpuset are never listed), NUMA nodes, cache domains and GPUs.
 *
 * Numbering, as operators see it:
 *   - CPUs (hardware threads) and NUMA nodes use OS indexes (as in /proc/cpuinfo,
 *     numactl, taskset, `cpuset = "0-7,32-39"`, `numa = 1`).
 *   - Cores use hwloc logical indexes (the "Core L#n" of lstopo), which are unique.
 *   - GPUs are numbered 0..n-1 in PCI bus order (see wk_gpu.h).
 *
 * A cache domain is the L3 cache a core sits under; on machines without an L3 it is the
 * package, and without packages the whole machine.  Placement keeps a processor inside
 * one domain when it fits.
 *
 * Synthetic descriptions are hwloc's ("pack:2 numa:1 l3:8 core:8 pu:2") plus one
 * sealpipe token for GPUs, which hwloc cannot synthesize: "gpus:0,0,1" adds three GPUs,
 * GPU i attached to the NUMA node (OS index) named at position i.
 */
#ifndef WK_TOPOLOGY_H
#define WK_TOPOLOGY_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <hwloc.h>

#include "sp_err.h"
#include "wk_gpu.h"

typedef enum wk_topo_kind {
    WK_TOPO_LIVE = 0,   /* this machine (binding works only with this one) */
    WK_TOPO_XML,        /* an hwloc XML export, e.g. from `lstopo --of xml` */
    WK_TOPO_SYNTHETIC,  /* an hwloc synthetic description (+ "gpus:...") */
} wk_topo_kind;

typedef struct wk_topo_source {
    wk_topo_kind kind;
    const char *arg;    /* XML path or synthetic description; unused for LIVE */
    bool no_gpus;       /* skip GPU discovery (a processor child binding itself) */
    bool no_opencl;     /* live machine: do not ask OpenCL for devices */
} wk_topo_source;

typedef struct wk_core {
    int index;              /* hwloc logical index (Core L#n) */
    int numa;               /* OS index of its local NUMA node, -1 when it has none */
    int domain;             /* index into wk_topology.domains */
    int nthreads;           /* allowed hardware threads */
    hwloc_bitmap_t cpuset;  /* its allowed hardware threads (OS indexes) */
} wk_core;

typedef struct wk_numa {
    int os_index;
    int ncores;             /* cores with at least one allowed thread */
    uint64_t memory;        /* local memory in bytes (0 when unknown) */
    hwloc_bitmap_t cpuset;  /* allowed CPUs local to the node */
} wk_numa;

typedef struct wk_domain {
    int index;              /* position in wk_topology.domains */
    const char *kind;       /* "L3", "package" or "machine" */
    int logical;            /* hwloc logical index of that object */
    int numa;               /* OS index of its NUMA node, -1 none or several */
    int ncores;
} wk_domain;

typedef struct wk_topology {
    hwloc_topology_t hw;
    wk_topo_kind kind;
    char source[256];       /* "this machine", "file X", "synthetic \"...\"" */
    hwloc_bitmap_t allowed;   /* allowed CPUs */
    hwloc_bitmap_t complete;  /* every CPU the machine has, online or not */
    wk_core *cores;
    int ncores;
    wk_numa *numas;         /* sorted by OS index */
    int nnumas;
    wk_domain *domains;
    int ndomains;
    int nthreads;           /* allowed CPUs in total */
    wk_gpu_list gpus;
} wk_topology;

/* Loads and indexes a topology.  On error *t is left empty (safe to free). */
sp_code wk_topology_load(wk_topology *t, const wk_topo_source *src, sp_err *err);
void wk_topology_free(wk_topology *t);

/* Parses "--topology FILE" / "--synthetic DESC" style arguments into a source: both
 * NULL means the live machine; both set is an error. */
sp_code wk_topo_source_from_args(wk_topo_source *src, const char *xml, const char *synthetic,
                                 sp_err *err);

/* Lookups; NULL when absent. */
const wk_numa *wk_topology_numa(const wk_topology *t, int os_index);
/* The core owning CPU os_cpu, or NULL when that CPU is not allowed or does not exist. */
const wk_core *wk_topology_core_of_cpu(const wk_topology *t, int os_cpu);

/* Parses a CPU list "0-7,32-39" (OS indexes, ascending ranges, no spaces needed) into
 * *out (allocated).  Errors name the offending part. */
sp_code wk_cpulist_parse(const char *text, hwloc_bitmap_t *out, sp_err *err);
/* Formats a bitmap as "0-3,16-19" (empty set: ""). Returns buf. */
char *wk_cpulist_format(hwloc_const_bitmap_t set, char *buf, size_t len);

/* Writes a short human description: machine, NUMA nodes, domains, cores, threads, GPUs. */
void wk_topology_describe(const wk_topology *t, FILE *f);

#endif
