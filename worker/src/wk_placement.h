/* wk_placement.h — where each processor of a config runs on a topology.
 *
 * wk_plan_build() places every `processors.<stage>` entry of a wk_config on a
 * wk_topology, deterministically:
 *   1. entries with an explicit `cpuset`, in config order: the CPUs must exist and be
 *      allowed, and no physical core may be used by two processors unless one of them
 *      says `share = true`;
 *   2. entries with `cores = N`, in config order: N whole free cores (every allowed
 *      hardware thread of each), on NUMA node `numa`, or close to GPU `near_gpu`, or
 *      anywhere (then inside one NUMA node when one has room).  Inside that scope the
 *      cores come from one cache domain (L3) when one has room, choosing the fullest
 *      domain that still fits, so one L3 fills before the next; a request that fits no
 *      domain takes whole domains, largest first, then the rest from the best-fitting one.
 * Then `gpu` indexes are checked, concurrency is checked against the threads a processor
 * got, and warnings are added: SMT siblings split by an explicit cpuset, a GPU on another
 * NUMA node than its processor, a processor spread unevenly over L3 caches, idle cores,
 * GPUs no processor uses.
 *
 * Messages are "FILE:LINE: processors.pc1[0].cores: ..." like the config's own.
 */
#ifndef WK_PLACEMENT_H
#define WK_PLACEMENT_H

#include <stdio.h>

#include <hwloc.h>

#include "sp_err.h"
#include "wk_config.h"
#include "wk_topology.h"

typedef struct wk_placed {
    const wk_proc_cfg *proc;    /* stage, index, settings */
    hwloc_bitmap_t cpuset;      /* every hardware thread it is bound to (OS indexes) */
    int *cores;                 /* logical indexes of its physical cores, ascending */
    int ncores;
    int nthreads;
    int numa;                   /* NUMA node its memory is bound to, -1: not bound */
    int gpu;                    /* GPU index, -1: none */
    int concurrent;
} wk_placed;

typedef struct wk_plan {
    const wk_config *cfg;       /* the config placed (must outlive the plan's printing) */
    wk_placed *procs;           /* in config order, like wk_config.procs */
    int nprocs;
    wk_diags diags;             /* errors and warnings */
} wk_plan;

/* Places every processor.  Returns SP_OK (warnings may be present), or SP_ECONFIG with
 * the first error in err and all of them in plan->diags.  plan must be freed either way. */
sp_code wk_plan_build(const wk_config *cfg, const wk_topology *t, wk_plan *plan, sp_err *err);
void wk_plan_free(wk_plan *plan);

/* The placed processor for processors.<stage>[index], or NULL. */
const wk_placed *wk_plan_find(const wk_plan *plan, wk_stage stage, int index);

/* The CPUs of slot `slot` of `slots` in a processor bound to cpus[0..n) (OS indexes):
 * whole physical cores, the cores split evenly among the slots in topology order, listed
 * one CPU per core first and SMT siblings after (a multicore PC1 hashes on the first and
 * puts producers on the next; a PC1 batch hashes on one CPU per core).  Two slots never
 * share a core while each can have one.  CPUs the topology does not know count as cores of
 * their own.  Returns how many were written to out (at most max). */
int wk_slot_cpus(const wk_topology *t, const int *cpus, int n, int slot, int slots, int *out,
                 int max);

/* Human table: one row per processor, then the PC1 batches (a pc1 entry with batch > 1:
 * batch size, batch_wait, sectors in PC1 at once = concurrency x batch, and the layers
 * each batch holds in memory, batch x 2 x sector size, for each allowed sector size, or
 * 32GiB and 64GiB when the config allows any), then the warnings. */
void wk_plan_print(const wk_plan *plan, const wk_topology *t, FILE *f);
/* {"processors":[{"stage","index","cpuset","cores":[...],"numa","gpu","concurrent",...,
 *  "batch":null | {"size","wait_ms","slots","sectors_at_once",
 *                  "memory":[{"sector_size","bytes"}]}}], "warnings":[...]};
 * *out is malloc'd text. */
sp_code wk_plan_json(const wk_plan *plan, const wk_topology *t, char **out, sp_err *err);

#endif
