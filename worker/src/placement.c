/* placement.c — turns processor entries into cpusets, cores, NUMA nodes and GPUs on a
 * topology (rules in wk_placement.h), and prints the result as a table or JSON. */
#include "wk_placement.h"

#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "sealproofs.h"
#include "sp_size.h"

/* Placement state: which processor first took each core (by position in t->cores). */
typedef struct placer {
    const wk_config *cfg;
    const wk_topology *t;
    wk_plan *plan;
    int *owner;                 /* per core position: index into plan->procs, -1 free */
    hwloc_bitmap_t *coresets;   /* per processor: logical indexes of its cores */
    bool oom;
} placer;

/* ---- messages ----------------------------------------------------------------------- */

static const config_setting_t *key_setting(const wk_proc_cfg *p, const char *key)
{
    const config_setting_t *s = p->setting && key ? sp_config_lookup(p->setting, key) : NULL;
    return s ? s : p->setting;
}

static void fallback_key(const wk_proc_cfg *p, const char *key, char *buf, size_t len)
{
    char base[64];
    wk_proc_key(p, base, sizeof base);
    if (key)
        snprintf(buf, len, "%s.%s", base, key);
    else
        snprintf(buf, len, "%s", base);
}

__attribute__((format(printf, 4, 5)))
static void proc_error(placer *pl, const wk_proc_cfg *p, const char *key, const char *fmt, ...)
{
    char fb[96], msg[SP_ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fallback_key(p, key, fb, sizeof fb);
    wk_diags_error_at(&pl->plan->diags, key_setting(p, key), fb, "%s", msg);
}

__attribute__((format(printf, 4, 5)))
static void proc_warn(placer *pl, const wk_proc_cfg *p, const char *key, const char *fmt, ...)
{
    char fb[96], msg[SP_ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fallback_key(p, key, fb, sizeof fb);
    wk_diags_warn_at(&pl->plan->diags, key_setting(p, key), fb, "%s", msg);
}

/* "processors.pc2[0] (worker.cfg:40)" */
static char *proc_where(const wk_proc_cfg *p, char *buf, size_t len)
{
    char key[64];
    wk_proc_key(p, key, sizeof key);
    const char *file = p->setting ? config_setting_source_file(p->setting) : NULL;
    int line = p->setting ? (int)config_setting_source_line(p->setting) : 0;
    if (file && line > 0) {
        const char *slash = strrchr(file, '/');
        snprintf(buf, len, "%s (%s:%d)", key, slash ? slash + 1 : file, line);
    } else {
        snprintf(buf, len, "%s", key);
    }
    return buf;
}

/* ---- helpers ------------------------------------------------------------------------ */

/* "CPU 4" or "CPUs 4,7" */
static char *cpus_text(hwloc_const_bitmap_t set, char *buf, size_t len)
{
    char list[256];
    snprintf(buf, len, "%s %s", hwloc_bitmap_weight(set) == 1 ? "CPU" : "CPUs",
             wk_cpulist_format(set, list, sizeof list));
    return buf;
}

static hwloc_bitmap_t bitmap_new(placer *pl)
{
    hwloc_bitmap_t b = hwloc_bitmap_alloc();
    if (!b)
        pl->oom = true;
    return b;
}

static void gpu_count_text(const wk_topology *t, char *buf, size_t len)
{
    if (t->gpus.n == 0)
        snprintf(buf, len, "no GPU was found on %s (install the GPU driver and its OpenCL "
                 "ICD, then check `seal-worker info`)", t->source);
    else if (t->gpus.n == 1)
        snprintf(buf, len, "%s has 1 GPU, number 0 (see `seal-worker info`)", t->source);
    else
        snprintf(buf, len, "%s has %d GPUs, numbered 0-%d (see `seal-worker info`)", t->source,
                 t->gpus.n, t->gpus.n - 1);
}

static char *numa_list_text(const wk_topology *t, char *buf, size_t len)
{
    buf[0] = 0;
    for (int i = 0; i < t->nnumas; i++) {
        size_t used = strlen(buf);
        snprintf(buf + used, len - used, "%s%d%s", i ? ", " : "", t->numas[i].os_index,
                 t->numas[i].ncores ? "" : " (no CPUs)");
    }
    if (!buf[0])
        snprintf(buf, len, "none");
    return buf;
}

/* Records the cores of processor i (their positions) and their threads. */
static void take_cores(placer *pl, int i, const int *pos, int n)
{
    wk_placed *pp = &pl->plan->procs[i];
    for (int k = 0; k < n; k++) {
        const wk_core *c = &pl->t->cores[pos[k]];
        hwloc_bitmap_or(pp->cpuset, pp->cpuset, c->cpuset);
        hwloc_bitmap_set(pl->coresets[i], (unsigned)c->index);
        if (pl->owner[pos[k]] < 0)
            pl->owner[pos[k]] = i;
    }
}

static void fill_core_list(placer *pl, int i)
{
    wk_placed *pp = &pl->plan->procs[i];
    int n = hwloc_bitmap_weight(pl->coresets[i]);
    pp->cores = calloc((size_t)(n > 0 ? n : 1), sizeof *pp->cores);
    if (!pp->cores) {
        pl->oom = true;
        return;
    }
    int k = 0, id;
    hwloc_bitmap_foreach_begin(id, pl->coresets[i]) {
        pp->cores[k++] = id;
    } hwloc_bitmap_foreach_end();
    pp->ncores = k;
    pp->nthreads = hwloc_bitmap_weight(pp->cpuset);
}

/* The NUMA node shared by all cores of processor i, or -1. */
static int common_numa(placer *pl, int i)
{
    int numa = -2;
    for (int k = 0; k < pl->t->ncores; k++) {
        const wk_core *c = &pl->t->cores[k];
        if (!hwloc_bitmap_isset(pl->coresets[i], (unsigned)c->index))
            continue;
        if (numa == -2)
            numa = c->numa;
        else if (numa != c->numa)
            return -1;
    }
    return numa < 0 ? -1 : numa;
}

/* ---- explicit cpusets --------------------------------------------------------------- */

static void warn_smt_split(placer *pl, const wk_proc_cfg *p, hwloc_const_bitmap_t usable)
{
    hwloc_bitmap_t left = bitmap_new(pl);
    if (!left)
        return;
    for (int k = 0; k < pl->t->ncores; k++) {
        const wk_core *c = &pl->t->cores[k];
        if (hwloc_bitmap_intersects(c->cpuset, usable) && !hwloc_bitmap_isincluded(c->cpuset, usable)) {
            hwloc_bitmap_t missing = hwloc_bitmap_alloc();
            if (missing) {
                hwloc_bitmap_andnot(missing, c->cpuset, usable);
                hwloc_bitmap_or(left, left, missing);
                hwloc_bitmap_free(missing);
            }
        }
    }
    if (!hwloc_bitmap_iszero(left)) {
        char a[256];
        proc_warn(pl, p, "cpuset", "splits SMT siblings: %s %s physical cores with it but "
                  "%s not in its cpuset, so the threads compete for the same core; list every "
                  "thread of a core, or use cores = N", cpus_text(left, a, sizeof a),
                  hwloc_bitmap_weight(left) == 1 ? "shares" : "share",
                  hwloc_bitmap_weight(left) == 1 ? "is" : "are");
    }
    hwloc_bitmap_free(left);
}

static void check_overlaps(placer *pl, int i)
{
    const wk_proc_cfg *p = pl->plan->procs[i].proc;
    for (int j = 0; j < i; j++) {
        const wk_proc_cfg *q = pl->plan->procs[j].proc;
        if (!hwloc_bitmap_intersects(pl->coresets[i], pl->coresets[j]) || p->share || q->share)
            continue;
        hwloc_bitmap_t both = bitmap_new(pl), cpus = bitmap_new(pl);
        if (both && cpus) {
            hwloc_bitmap_and(both, pl->coresets[i], pl->coresets[j]);
            for (int k = 0; k < pl->t->ncores; k++)
                if (hwloc_bitmap_isset(both, (unsigned)pl->t->cores[k].index))
                    hwloc_bitmap_or(cpus, cpus, pl->t->cores[k].cpuset);
            char a[256], b[256], w[128];
            proc_error(pl, p, "cpuset", "cores L#%s (CPUs %s) are also used by %s; give each "
                       "processor its own cores, or set share = true on one of them when they "
                       "never run at the same time (e.g. both hold the same lock)",
                       wk_cpulist_format(both, a, sizeof a), wk_cpulist_format(cpus, b, sizeof b),
                       proc_where(q, w, sizeof w));
        }
        hwloc_bitmap_free(both);
        hwloc_bitmap_free(cpus);
    }
}

static void place_explicit(placer *pl, int i)
{
    const wk_topology *t = pl->t;
    wk_placed *pp = &pl->plan->procs[i];
    const wk_proc_cfg *p = pp->proc;
    hwloc_bitmap_t set = NULL, bad = bitmap_new(pl);
    sp_err err;
    char a[256], b[256];
    if (!bad || wk_cpulist_parse(p->cpuset, &set, &err) != SP_OK)
        goto done;   /* the config check already reported a malformed list */
    hwloc_bitmap_andnot(bad, set, t->complete);
    if (!hwloc_bitmap_iszero(bad))
        proc_error(pl, p, "cpuset", "%s %s not exist on %s (its CPUs are %s); use OS CPU "
                   "numbers as `seal-worker info` lists them", cpus_text(bad, a, sizeof a),
                   hwloc_bitmap_weight(bad) == 1 ? "does" : "do", t->source,
                   wk_cpulist_format(t->complete, b, sizeof b));
    hwloc_bitmap_and(bad, set, t->complete);
    hwloc_bitmap_andnot(bad, bad, t->allowed);
    if (!hwloc_bitmap_iszero(bad))
        proc_error(pl, p, "cpuset", "%s %s offline or outside this process's allowed "
                   "cpuset, so nothing may run there (usable CPUs: %s)", cpus_text(bad, a, sizeof a),
                   hwloc_bitmap_weight(bad) == 1 ? "is" : "are", wk_cpulist_format(t->allowed, b, sizeof b));
    hwloc_bitmap_and(set, set, t->allowed);
    hwloc_bitmap_copy(pp->cpuset, set);
    for (int k = 0; k < t->ncores; k++) {
        const wk_core *c = &t->cores[k];
        if (!hwloc_bitmap_intersects(c->cpuset, set))
            continue;
        hwloc_bitmap_set(pl->coresets[i], (unsigned)c->index);
        if (pl->owner[k] < 0)
            pl->owner[k] = i;
    }
    warn_smt_split(pl, p, set);
    check_overlaps(pl, i);
done:
    hwloc_bitmap_free(set);
    hwloc_bitmap_free(bad);
}

/* ---- cores = N ---------------------------------------------------------------------- */

/* Picks n of the candidate core positions (ascending): best-fitting domain first, else
 * whole domains largest first.  Returns the number chosen into out. */
static int pick_in_domains(placer *pl, const int *cand, int ncand, int n, int *out)
{
    const wk_topology *t = pl->t;
    int *free_in = calloc((size_t)t->ndomains, sizeof *free_in);
    if (!free_in) {
        pl->oom = true;
        return 0;
    }
    for (int k = 0; k < ncand; k++)
        free_in[t->cores[cand[k]].domain]++;
    int chosen = 0;
    while (chosen < n) {
        int need = n - chosen, best = -1, big = -1;
        for (int d = 0; d < t->ndomains; d++) {
            if (free_in[d] >= need && (best < 0 || free_in[d] < free_in[best]))
                best = d;
            if (free_in[d] > 0 && (big < 0 || free_in[d] > free_in[big]))
                big = d;
        }
        int d = best >= 0 ? best : big;
        if (d < 0)
            break;
        int take = best >= 0 ? need : free_in[d];
        for (int k = 0; k < ncand && take > 0; k++) {
            if (t->cores[cand[k]].domain != d)
                continue;
            bool used = false;
            for (int m = 0; m < chosen; m++)
                used |= out[m] == cand[k];
            if (used)
                continue;
            out[chosen++] = cand[k];
            free_in[d]--;
            take--;
        }
        if (best < 0)
            free_in[d] = 0;
    }
    free(free_in);
    /* ascending positions = ascending logical indexes */
    for (int x = 1; x < chosen; x++)
        for (int y = x; y > 0 && out[y - 1] > out[y]; y--) {
            int tmp = out[y];
            out[y] = out[y - 1];
            out[y - 1] = tmp;
        }
    return chosen;
}

/* Without a NUMA or GPU scope, keeps the request inside one NUMA node when one has room:
 * the one with the fewest free cores that still fits.  Filters cand in place. */
static int prefer_one_numa(const wk_topology *t, int *cand, int ncand, int n)
{
    int best = -2, best_free = 0;
    for (int i = -1; i < t->nnumas; i++) {
        int node = i < 0 ? -1 : t->numas[i].os_index, nfree = 0;
        for (int k = 0; k < ncand; k++)
            nfree += t->cores[cand[k]].numa == node;
        if (nfree >= n && (best == -2 || nfree < best_free || (nfree == best_free && best == -1))) {
            best = node;
            best_free = nfree;
        }
    }
    if (best == -2)
        return ncand;
    int m = 0;
    for (int k = 0; k < ncand; k++)
        if (t->cores[cand[k]].numa == best)
            cand[m++] = cand[k];
    return m;
}

/* Names of the processors holding in-scope cores, for "not enough cores" messages. */
static void holders_text(placer *pl, const bool *in_scope, char *buf, size_t len)
{
    buf[0] = 0;
    int shown = 0;
    for (int i = 0; i < pl->plan->nprocs; i++) {
        bool holds = false;
        for (int k = 0; k < pl->t->ncores; k++)
            holds |= in_scope[k] && pl->owner[k] == i;
        if (!holds)
            continue;
        char key[64];
        size_t used = strlen(buf);
        if (shown++ < 6)
            snprintf(buf + used, len - used, "%s%s", used ? ", " : "",
                     wk_proc_key(pl->plan->procs[i].proc, key, sizeof key));
        else if (shown == 7)
            snprintf(buf + used, len - used, ", ...");
    }
}

static void place_cores(placer *pl, int i)
{
    const wk_topology *t = pl->t;
    wk_placed *pp = &pl->plan->procs[i];
    const wk_proc_cfg *p = pp->proc;
    const wk_gpu *g = NULL;
    const wk_numa *node = NULL;
    char scope[160] = "on this machine", a[256], b[512];
    if (p->numa >= 0) {
        node = wk_topology_numa(t, p->numa);
        if (!node) {
            proc_error(pl, p, "numa", "NUMA node %d does not exist on %s (NUMA nodes: %s)",
                       p->numa, t->source, numa_list_text(t, a, sizeof a));
            return;
        }
        if (node->ncores == 0) {
            proc_error(pl, p, "numa", "NUMA node %d has memory but no CPUs, so no core can be "
                       "picked there; pick one of the nodes with CPUs (NUMA nodes: %s)", p->numa,
                       numa_list_text(t, a, sizeof a));
            return;
        }
        snprintf(scope, sizeof scope, "on NUMA node %d", p->numa);
    } else if (p->near_gpu >= 0) {
        if (p->near_gpu >= t->gpus.n) {
            gpu_count_text(t, b, sizeof b);
            proc_error(pl, p, "near_gpu", "GPU %d does not exist: %s", p->near_gpu, b);
            return;
        }
        g = &t->gpus.v[p->near_gpu];
        if (g->numa >= 0)
            snprintf(scope, sizeof scope, "close to GPU %d (NUMA node %d)", p->near_gpu, g->numa);
        else
            g = NULL;   /* a GPU with no locality: anywhere will do */
    }
    bool *in_scope = calloc((size_t)t->ncores, sizeof *in_scope);
    int *cand = calloc((size_t)t->ncores, sizeof *cand);
    int *out = calloc((size_t)(p->cores > 0 ? p->cores : 1), sizeof *out);
    if (!in_scope || !cand || !out) {
        pl->oom = true;
        goto done;
    }
    int ncand = 0, nscope = 0;
    for (int k = 0; k < t->ncores; k++) {
        const wk_core *c = &t->cores[k];
        in_scope[k] = node ? c->numa == node->os_index :
                      g    ? hwloc_bitmap_intersects(c->cpuset, g->cpuset) : true;
        nscope += in_scope[k];
        if (in_scope[k] && pl->owner[k] < 0)
            cand[ncand++] = k;
    }
    if (ncand < p->cores) {
        char holders[256];
        holders_text(pl, in_scope, holders, sizeof holders);
        if (nscope < p->cores)
            proc_error(pl, p, "cores", "%d core%s wanted %s, which has only %d; lower cores or "
                       "spread the work over more processors", p->cores, p->cores == 1 ? "" : "s",
                       scope, nscope);
        else
            proc_error(pl, p, "cores", "%d core%s wanted %s, which has %d but only %d free (the "
                       "others are taken by %s); lower cores, or move a processor elsewhere",
                       p->cores, p->cores == 1 ? "" : "s", scope, nscope, ncand, holders);
        goto done;
    }
    if (!node && !g)
        ncand = prefer_one_numa(t, cand, ncand, p->cores);
    int got = pick_in_domains(pl, cand, ncand, p->cores, out);
    take_cores(pl, i, out, got);
done:
    free(in_scope);
    free(cand);
    free(out);
}

/* ---- per-processor checks and warnings ---------------------------------------------- */

static void settle_numa(placer *pl, int i)
{
    wk_placed *pp = &pl->plan->procs[i];
    const wk_proc_cfg *p = pp->proc;
    const wk_topology *t = pl->t;
    char a[256];
    pp->numa = common_numa(pl, i);
    if (p->numa >= 0 && p->cpuset) {
        /* an explicit cpuset with a memory node: the node must exist, and should match */
        if (!wk_topology_numa(t, p->numa)) {
            proc_error(pl, p, "numa", "NUMA node %d does not exist on %s (NUMA nodes: %s)",
                       p->numa, t->source, numa_list_text(t, a, sizeof a));
            return;
        }
        if (pp->numa != p->numa && !hwloc_bitmap_iszero(pp->cpuset))
            proc_warn(pl, p, "numa", "memory is bound to NUMA node %d but CPUs %s are not all on "
                      "it, so memory accesses cross nodes; pick CPUs of node %d or change numa",
                      p->numa, wk_cpulist_format(pp->cpuset, a, sizeof a), p->numa);
        pp->numa = p->numa;
    } else if (p->numa >= 0) {
        pp->numa = p->numa;
    } else if (p->near_gpu >= 0 && p->near_gpu < t->gpus.n && t->gpus.v[p->near_gpu].numa >= 0) {
        pp->numa = t->gpus.v[p->near_gpu].numa;
    }
}

static void check_gpu(placer *pl, int i)
{
    wk_placed *pp = &pl->plan->procs[i];
    const wk_proc_cfg *p = pp->proc;
    const wk_topology *t = pl->t;
    char a[512];
    pp->gpu = -1;
    if (p->gpu < 0)
        return;
    if (p->gpu >= t->gpus.n) {
        if (p->near_gpu < 0) {   /* else near_gpu already said so */
            gpu_count_text(t, a, sizeof a);
            proc_error(pl, p, "gpu", "GPU %d does not exist: %s", p->gpu, a);
        }
        return;
    }
    pp->gpu = p->gpu;
    const wk_gpu *g = &t->gpus.v[p->gpu];
    const char *key = p->near_gpu >= 0 ? "near_gpu" : "gpu";
    if (!g->compute)
        proc_warn(pl, p, key, "GPU %d (%s) is known only as a display device; no CUDA or OpenCL "
                  "driver reported it, so it may not compute", p->gpu, wk_gpu_describe(g, a, sizeof a));
    if (g->numa < 0 || hwloc_bitmap_iszero(pp->cpuset))
        return;
    hwloc_bitmap_t remote = bitmap_new(pl);
    if (!remote)
        return;
    hwloc_bitmap_andnot(remote, pp->cpuset, g->cpuset);
    if (!hwloc_bitmap_iszero(remote)) {
        char cpus[256];
        proc_warn(pl, p, key, "GPU %d sits on NUMA node %d but CPUs %s of this processor are on "
                  "another node, so its transfers cross the interconnect; use near_gpu = %d or "
                  "CPUs of node %d", p->gpu, g->numa, wk_cpulist_format(remote, cpus, sizeof cpus),
                  p->gpu, g->numa);
    }
    hwloc_bitmap_free(remote);
}

static void check_concurrency(placer *pl, int i)
{
    const wk_placed *pp = &pl->plan->procs[i];
    const wk_proc_cfg *p = pp->proc;
    char a[256];
    if (pp->nthreads > 0 && p->concurrent > pp->nthreads)
        proc_error(pl, p, "concurrent", "concurrent = %d but the processor has only %d hardware "
                   "thread%s (CPUs %s); lower concurrent or give it more cores", p->concurrent,
                   pp->nthreads, pp->nthreads == 1 ? "" : "s", wk_cpulist_format(pp->cpuset, a, sizeof a));
}

static void warn_uneven_domains(placer *pl, int i)
{
    const wk_topology *t = pl->t;
    const wk_placed *pp = &pl->plan->procs[i];
    int *count = calloc((size_t)t->ndomains, sizeof *count);
    if (!count) {
        pl->oom = true;
        return;
    }
    for (int k = 0; k < t->ncores; k++)
        if (hwloc_bitmap_isset(pl->coresets[i], (unsigned)t->cores[k].index))
            count[t->cores[k].domain]++;
    int used = 0, first = -1;
    bool uneven = false;
    char text[256] = "";
    for (int d = 0; d < t->ndomains; d++) {
        if (!count[d])
            continue;
        used++;
        if (first < 0)
            first = count[d];
        uneven |= count[d] != first;
        size_t l = strlen(text);
        snprintf(text + l, sizeof text - l, "%s%s L#%d: %d", l ? ", " : "", t->domains[d].kind,
                 t->domains[d].logical, count[d]);
    }
    if (used > 1 && uneven)
        proc_warn(pl, pp->proc, pp->proc->cpuset ? "cpuset" : "cores",
                  "its cores are spread unevenly over %d caches (%s); multicore PC1 wants whole "
                  "L3 caches or equal shares of them", used, text);
    free(count);
}

static void warn_idle(placer *pl)
{
    const wk_topology *t = pl->t;
    if (pl->plan->nprocs == 0)
        return;
    hwloc_bitmap_t cores = bitmap_new(pl), cpus = bitmap_new(pl);
    if (cores && cpus) {
        for (int k = 0; k < t->ncores; k++) {
            if (pl->owner[k] >= 0)
                continue;
            hwloc_bitmap_set(cores, (unsigned)t->cores[k].index);
            hwloc_bitmap_or(cpus, cpus, t->cores[k].cpuset);
        }
        if (!hwloc_bitmap_iszero(cores)) {
            char a[256], b[256];
            wk_diags_warn(&pl->plan->diags, "idle cores: %d of %d cores (L#%s, CPUs %s) are used "
                          "by no processor; only the worker itself and in-process stages run there",
                          hwloc_bitmap_weight(cores), t->ncores, wk_cpulist_format(cores, a, sizeof a),
                          wk_cpulist_format(cpus, b, sizeof b));
        }
    }
    hwloc_bitmap_free(cores);
    hwloc_bitmap_free(cpus);
    for (int gi = 0; gi < t->gpus.n; gi++) {
        const wk_gpu *g = &t->gpus.v[gi];
        bool used = false;
        for (int i = 0; i < pl->plan->nprocs; i++)
            used |= pl->plan->procs[i].gpu == gi;
        if (!used && g->compute && !g->cpu_device) {
            char a[256];
            wk_diags_warn(&pl->plan->diags, "idle GPU: GPU %d (%s) is used by no processor; give "
                          "a pc2 or c2 processor gpu = %d", gi, wk_gpu_describe(g, a, sizeof a), gi);
        }
    }
}

/* ---- the plan ----------------------------------------------------------------------- */

void wk_plan_free(wk_plan *plan)
{
    if (!plan)
        return;
    for (int i = 0; i < plan->nprocs; i++) {
        hwloc_bitmap_free(plan->procs[i].cpuset);
        free(plan->procs[i].cores);
    }
    free(plan->procs);
    wk_diags_free(&plan->diags);
    memset(plan, 0, sizeof *plan);
}

static sp_code setup(placer *pl, sp_err *err)
{
    int n = pl->cfg->nprocs, nc = pl->t->ncores;
    pl->plan->procs = calloc((size_t)(n > 0 ? n : 1), sizeof *pl->plan->procs);
    pl->coresets = calloc((size_t)(n > 0 ? n : 1), sizeof *pl->coresets);
    pl->owner = malloc((size_t)(nc > 0 ? nc : 1) * sizeof *pl->owner);
    if (!pl->plan->procs || !pl->coresets || !pl->owner)
        return sp_fail(err, SP_ENOMEM, "placement: out of memory");
    for (int k = 0; k < nc; k++)
        pl->owner[k] = -1;
    pl->plan->nprocs = n;
    for (int i = 0; i < n; i++) {
        wk_placed *pp = &pl->plan->procs[i];
        pp->proc = &pl->cfg->procs[i];
        pp->numa = -1;
        pp->gpu = -1;
        pp->concurrent = pp->proc->concurrent;
        pp->cpuset = hwloc_bitmap_alloc();
        pl->coresets[i] = hwloc_bitmap_alloc();
        if (!pp->cpuset || !pl->coresets[i])
            return sp_fail(err, SP_ENOMEM, "placement: out of memory");
    }
    return SP_OK;
}

sp_code wk_plan_build(const wk_config *cfg, const wk_topology *t, wk_plan *plan, sp_err *err)
{
    sp_err local;
    if (!err)
        err = &local;
    memset(plan, 0, sizeof *plan);
    plan->cfg = cfg;
    placer pl = { .cfg = cfg, .t = t, .plan = plan };
    sp_code rc = setup(&pl, err);
    if (rc != SP_OK)
        goto done;
    /* entries with wrongly typed values were reported by the config check: skipped */
    for (int i = 0; i < plan->nprocs; i++)
        if (plan->procs[i].proc->cpuset && !plan->procs[i].proc->invalid)
            place_explicit(&pl, i);
    for (int i = 0; i < plan->nprocs; i++)
        if (!plan->procs[i].proc->cpuset && plan->procs[i].proc->cores > 0 && !plan->procs[i].proc->invalid)
            place_cores(&pl, i);
    for (int i = 0; i < plan->nprocs && !pl.oom; i++) {
        fill_core_list(&pl, i);
        if (plan->procs[i].proc->invalid)
            continue;
        settle_numa(&pl, i);
        check_gpu(&pl, i);
        check_concurrency(&pl, i);
        warn_uneven_domains(&pl, i);
    }
    warn_idle(&pl);
    if (pl.oom)
        rc = sp_fail(err, SP_ENOMEM, "placement: out of memory");
    else if (plan->diags.nerrors > 0)
        rc = sp_fail(err, SP_ECONFIG, "%s", plan->diags.errors[0]);
done:
    if (pl.coresets)
        for (int i = 0; i < plan->nprocs; i++)
            hwloc_bitmap_free(pl.coresets[i]);
    free(pl.coresets);
    free(pl.owner);
    return rc;
}

const wk_placed *wk_plan_find(const wk_plan *plan, wk_stage stage, int index)
{
    for (int i = 0; i < plan->nprocs; i++)
        if (plan->procs[i].proc->stage == stage && plan->procs[i].proc->index == index)
            return &plan->procs[i];
    return NULL;
}

/* ---- output ------------------------------------------------------------------------- */

static char *cores_text(const wk_placed *pp, char *buf, size_t len)
{
    hwloc_bitmap_t s = hwloc_bitmap_alloc();
    buf[0] = 0;
    if (!s)
        return buf;
    for (int k = 0; k < pp->ncores; k++)
        hwloc_bitmap_set(s, (unsigned)pp->cores[k]);
    wk_cpulist_format(s, buf, len);
    hwloc_bitmap_free(s);
    return buf;
}

/* ---- the CPUs of one slot ---- */

static int cmp_int(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

int wk_slot_cpus(const wk_topology *t, const int *list, int n, int slot, int slots, int *out,
                 int max)
{
    /* owner[i]: the core (index into t->cores) holding cpus[i], or ncores + i; the CPUs in
     * ascending order, so that a core's threads come lowest first whatever the list's order */
    const size_t len = (size_t)(n > 0 ? n : 1);
    int *cpus = malloc(len * sizeof *cpus), *owner = malloc(len * sizeof *owner);
    int *order = malloc(len * sizeof *order);   /* distinct owners */
    int k = 0, m = 0;
    if (!cpus || !owner || !order)
        goto done;
    memcpy(cpus, list, (size_t)n * sizeof *cpus);
    qsort(cpus, (size_t)n, sizeof *cpus, cmp_int);
    for (int i = 0; i < n; i++) {
        owner[i] = t->ncores + i;
        for (int c = 0; c < t->ncores; c++)
            if (t->cores[c].cpuset && hwloc_bitmap_isset(t->cores[c].cpuset, (unsigned)cpus[i])) {
                owner[i] = c;
                break;
            }
    }
    /* cores in topology order, then the unknown CPUs in list order */
    for (int c = 0; c < t->ncores + n; c++)
        for (int i = 0; i < n; i++)
            if (owner[i] == c) {
                order[m++] = c;
                break;
            }
    if (slots < 1)
        slots = 1;
    int per = m / slots > 0 ? m / slots : 1;
    int first = (slot % slots) * per;
    if (first >= m)
        first = 0;
    int last = first + per < m ? first + per : m;
    /* the first CPU of each core, then the second of each, ... */
    for (int round = 0; k < max; round++) {
        int added = 0;
        for (int j = first; j < last && k < max; j++) {
            int seen = 0;
            for (int i = 0; i < n; i++)
                if (owner[i] == order[j] && seen++ == round) {
                    out[k++] = cpus[i];
                    added = 1;
                    break;
                }
        }
        if (!added)
            break;
    }
done:
    free(cpus);
    free(owner);
    free(order);
    return k;
}

/* ---- PC1 batches -------------------------------------------------------------------- */

#define MAX_BATCH_SIZES 16

/* The sector sizes the config's threads may seal (distinct, ascending); 32GiB and 64GiB
 * when any size is allowed. */
static int batch_sizes(const wk_config *cfg, uint64_t *out)
{
    int n = 0;
    for (int i = -1; cfg && i < cfg->nthreads; i++) {
        const wk_sealing *sc = i < 0 ? &cfg->sealing : &cfg->threads[i].sealing;
        for (int k = 0; k < sc->nallowed_sizes && n < MAX_BATCH_SIZES; k++) {
            uint64_t v = sc->allowed_sizes[k];
            int j = 0;
            while (j < n && out[j] < v)
                j++;
            if (j < n && out[j] == v)
                continue;
            memmove(out + j + 1, out + j, (size_t)(n - j) * sizeof *out);
            out[j] = v;
            n++;
        }
    }
    if (n == 0) {
        out[n++] = 32ull << 30;
        out[n++] = 64ull << 30;
    }
    return n;
}

/* PC1 keeps two layers of every sector of a batch in memory (sealproofs/pc1.h). */
static uint64_t batch_memory(const wk_placed *pp, uint64_t sector_size)
{
    return (uint64_t)pp->proc->batch * 2 * sector_size;
}

/* The physical cores of one slot of a processor: a batch task's hashing cores. */
static int slot_cores(const wk_placed *pp)
{
    int per = pp->concurrent > 0 ? pp->ncores / pp->concurrent : pp->ncores;
    return per > 0 ? per : 1;
}

static bool batches(const wk_placed *pp)
{
    return pp->proc->stage == WK_STAGE_PC1 && pp->proc->batch > 1 && !pp->proc->invalid;
}

static void print_batches(const wk_plan *plan, FILE *f)
{
    uint64_t sizes[MAX_BATCH_SIZES];
    int nsizes = batch_sizes(plan->cfg, sizes);
    bool first = true;
    for (int i = 0; i < plan->nprocs; i++) {
        const wk_placed *pp = &plan->procs[i];
        if (!batches(pp))
            continue;
        char key[64], wait[32], mem[400] = "";
        size_t used = 0;
        for (int k = 0; k < nsizes && used + 64 < sizeof mem; k++) {
            char b[32], sz[32];
            sp_format_size_human(batch_memory(pp, sizes[k]), b, sizeof b);
            sp_format_size(sizes[k], sz, sizeof sz);
            used += (size_t)snprintf(mem + used, sizeof mem - used, "%s%s %s %s sectors",
                                     k ? ", " : "", b, k ? "of" : "per batch of", sz);
        }
        snprintf(key, sizeof key, "%s[%d]", wk_stage_name(pp->proc->stage), pp->proc->index);
        int cores = slot_cores(pp), groups, lanes;
        pf_pc1_batch_split(pp->proc->batch, cores, &groups, &lanes);
        fprintf(f, "%s%-16s batch %d, batch_wait %s: up to %d sectors in PC1 (%d slot%s x %d); "
                "layers in memory: %s\n%-16s each batch hashes on %d core%s: %d group%s of up "
                "to %d sector%s, %d at a time\n",
                first ? "\nPC1 batches (sectors labeled together by one task):\n" : "", key,
                pp->proc->batch, sp_format_duration(pp->proc->batch_wait_ms, wait, sizeof wait),
                pp->concurrent * pp->proc->batch, pp->concurrent,
                pp->concurrent == 1 ? "" : "s", pp->proc->batch, mem, "", cores,
                cores == 1 ? "" : "s", groups, groups == 1 ? "" : "s", lanes,
                lanes == 1 ? "" : "s", cores < groups ? cores : groups);
        first = false;
    }
    int limit = plan->cfg ? plan->cfg->limit_concurrent[WK_STAGE_PC1] : 0;
    if (!first && limit > 0)
        fprintf(f, "limitation.concurrent.pc1 = %d: at most %d batch%s at a time over all pc1 "
                "processors\n", limit, limit, limit == 1 ? "" : "es");
}

static cJSON *batch_json(const wk_plan *plan, const wk_placed *pp)
{
    if (!batches(pp))
        return cJSON_CreateNull();
    uint64_t sizes[MAX_BATCH_SIZES];
    int nsizes = batch_sizes(plan->cfg, sizes);
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    cJSON_AddNumberToObject(o, "size", pp->proc->batch);
    cJSON_AddNumberToObject(o, "wait_ms", (double)pp->proc->batch_wait_ms);
    cJSON_AddNumberToObject(o, "slots", pp->concurrent);
    cJSON_AddNumberToObject(o, "sectors_at_once", pp->concurrent * pp->proc->batch);
    int groups, lanes;
    pf_pc1_batch_split(pp->proc->batch, slot_cores(pp), &groups, &lanes);
    cJSON_AddNumberToObject(o, "hashing_cores", slot_cores(pp));
    cJSON_AddNumberToObject(o, "groups", groups);
    cJSON_AddNumberToObject(o, "max_sectors_per_group", lanes);
    cJSON *mem = cJSON_AddArrayToObject(o, "memory");
    for (int k = 0; mem && k < nsizes; k++) {
        cJSON *m = cJSON_CreateObject();
        if (!m || !cJSON_AddItemToArray(mem, m)) {
            cJSON_Delete(m);
            break;
        }
        cJSON_AddNumberToObject(m, "sector_size", (double)sizes[k]);
        cJSON_AddNumberToObject(m, "bytes", (double)batch_memory(pp, sizes[k]));
    }
    return o;
}

void wk_plan_print(const wk_plan *plan, const wk_topology *t, FILE *f)
{
    fprintf(f, "Placement on %s: %d cores, %d hardware threads, %d NUMA node%s, %d GPU%s\n\n",
            t->source, t->ncores, t->nthreads, t->nnumas, t->nnumas == 1 ? "" : "s", t->gpus.n,
            t->gpus.n == 1 ? "" : "s");
    if (plan->nprocs == 0)
        fprintf(f, "No processors: every stage runs inside the worker, unpinned.\n");
    else
        fprintf(f, "%-16s %-24s %-14s %5s %5s %4s %4s\n", "PROCESSOR", "CPUS", "CORES (L#)",
                "NUMA", "GPU", "CONC", "THR");
    for (int i = 0; i < plan->nprocs; i++) {
        const wk_placed *pp = &plan->procs[i];
        char key[64], cpus[256], cores[256], numa[16] = "-", gpu[16] = "-";
        snprintf(key, sizeof key, "%s[%d]", wk_stage_name(pp->proc->stage), pp->proc->index);
        if (pp->numa >= 0)
            snprintf(numa, sizeof numa, "%d", pp->numa);
        if (pp->gpu >= 0)
            snprintf(gpu, sizeof gpu, "%d", pp->gpu);
        wk_cpulist_format(pp->cpuset, cpus, sizeof cpus);
        cores_text(pp, cores, sizeof cores);
        fprintf(f, "%-16s %-24s %-14s %5s %5s %4d %4d\n", key, cpus[0] ? cpus : "-",
                cores[0] ? cores : "-", numa, gpu, pp->concurrent, pp->nthreads);
    }
    print_batches(plan, f);
    bool first_gpu = true;
    for (int i = 0; i < plan->nprocs; i++) {
        const wk_placed *pp = &plan->procs[i];
        if (pp->gpu < 0)
            continue;
        char key[64], a[256];
        snprintf(key, sizeof key, "%s[%d]", wk_stage_name(pp->proc->stage), pp->proc->index);
        fprintf(f, "%s%-16s GPU %d = %s\n", first_gpu ? "\n" : "", key, pp->gpu,
                wk_gpu_describe(&t->gpus.v[pp->gpu], a, sizeof a));
        first_gpu = false;
    }
    if (plan->diags.nwarnings)
        fprintf(f, "\nWarnings:\n");
    for (int i = 0; i < plan->diags.nwarnings; i++)
        fprintf(f, "  - %s\n", plan->diags.warnings[i]);
    if (plan->diags.nerrors)
        fprintf(f, "\nErrors:\n");
    for (int i = 0; i < plan->diags.nerrors; i++)
        fprintf(f, "  - %s\n", plan->diags.errors[i]);
}

static cJSON *placed_json(const wk_plan *plan, const wk_placed *pp, const wk_topology *t)
{
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    char cpus[1024];
    cJSON_AddStringToObject(o, "stage", wk_stage_name(pp->proc->stage));
    cJSON_AddNumberToObject(o, "index", pp->proc->index);
    cJSON_AddStringToObject(o, "cpuset", wk_cpulist_format(pp->cpuset, cpus, sizeof cpus));
    cJSON *cores = cJSON_AddArrayToObject(o, "cores");
    for (int k = 0; cores && k < pp->ncores; k++)
        cJSON_AddItemToArray(cores, cJSON_CreateNumber(pp->cores[k]));
    if (pp->numa >= 0)
        cJSON_AddNumberToObject(o, "numa", pp->numa);
    else
        cJSON_AddNullToObject(o, "numa");
    if (pp->gpu >= 0) {
        cJSON_AddNumberToObject(o, "gpu", pp->gpu);
        const wk_gpu *g = &t->gpus.v[pp->gpu];
        if (g->has_pci)
            cJSON_AddStringToObject(o, "gpu_pci", g->busid);
    } else {
        cJSON_AddNullToObject(o, "gpu");
    }
    cJSON_AddNumberToObject(o, "concurrent", pp->concurrent);
    cJSON_AddNumberToObject(o, "threads", pp->nthreads);
    cJSON_AddStringToObject(o, "placed_by", pp->proc->cpuset ? "cpuset" : "cores");
    cJSON *b = batch_json(plan, pp);
    if (b)
        cJSON_AddItemToObject(o, "batch", b);
    return o;
}

sp_code wk_plan_json(const wk_plan *plan, const wk_topology *t, char **out, sp_err *err)
{
    *out = NULL;
    cJSON *root = cJSON_CreateObject();
    if (!root)
        return sp_fail(err, SP_ENOMEM, "plan: out of memory");
    cJSON *topo = cJSON_AddObjectToObject(root, "topology");
    if (topo) {
        cJSON_AddStringToObject(topo, "source", t->source);
        cJSON_AddNumberToObject(topo, "cores", t->ncores);
        cJSON_AddNumberToObject(topo, "threads", t->nthreads);
        cJSON_AddNumberToObject(topo, "numa_nodes", t->nnumas);
        cJSON_AddNumberToObject(topo, "gpus", t->gpus.n);
    }
    cJSON *procs = cJSON_AddArrayToObject(root, "processors");
    for (int i = 0; procs && i < plan->nprocs; i++)
        cJSON_AddItemToArray(procs, placed_json(plan, &plan->procs[i], t));
    cJSON *warn = cJSON_AddArrayToObject(root, "warnings");
    for (int i = 0; warn && i < plan->diags.nwarnings; i++)
        cJSON_AddItemToArray(warn, cJSON_CreateString(plan->diags.warnings[i]));
    cJSON *errs = cJSON_AddArrayToObject(root, "errors");
    for (int i = 0; errs && i < plan->diags.nerrors; i++)
        cJSON_AddItemToArray(errs, cJSON_CreateString(plan->diags.errors[i]));
    *out = cJSON_Print(root);
    cJSON_Delete(root);
    if (!*out)
        return sp_fail(err, SP_ENOMEM, "plan: out of memory");
    return SP_OK;
}
