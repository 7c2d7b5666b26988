/* topology.c — loads the machine (live, hwloc XML or synthetic) and flattens it into the
 * core / NUMA node / cache-domain / GPU tables of wk_topology.h.  Only allowed hardware
 * threads ever enter the tables, so nothing downstream can place work on an offline or
 * forbidden CPU. */
#include "wk_topology.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "sp_size.h"

/* ---- CPU lists ---------------------------------------------------------------------- */

static const char *skip_spaces(const char *p)
{
    while (*p == ' ' || *p == '\t')
        p++;
    return p;
}

static bool parse_cpu_number(const char **pp, long *out)
{
    const char *p = *pp;
    if (*p < '0' || *p > '9')
        return false;
    long v = 0;
    while (*p >= '0' && *p <= '9') {
        v = v * 10 + (*p - '0');
        if (v > 1L << 20)
            return false;   /* no machine has a million CPUs; this is a typo */
        p++;
    }
    *pp = p;
    *out = v;
    return true;
}

sp_code wk_cpulist_parse(const char *text, hwloc_bitmap_t *out, sp_err *err)
{
    *out = NULL;
    hwloc_bitmap_t set = hwloc_bitmap_alloc();
    if (!set)
        return sp_fail(err, SP_ENOMEM, "out of memory parsing a CPU list");
    const char *p = skip_spaces(text ? text : "");
    if (!*p) {
        hwloc_bitmap_free(set);
        return sp_fail(err, SP_EINVAL, "empty CPU list; write OS CPU numbers such as \"0-7,32-39\"");
    }
    while (*p) {
        const char *item = p;
        long lo, hi;
        if (!parse_cpu_number(&p, &lo))
            goto bad;
        hi = lo;
        p = skip_spaces(p);
        if (*p == '-') {
            p = skip_spaces(p + 1);
            if (!parse_cpu_number(&p, &hi))
                goto bad;
            if (hi < lo) {
                hwloc_bitmap_free(set);
                return sp_fail(err, SP_EINVAL, "CPU range \"%.*s\" runs backwards; write it as %ld-%ld",
                               (int)(p - item), item, hi, lo);
            }
            p = skip_spaces(p);
        }
        hwloc_bitmap_set_range(set, (unsigned)lo, (int)hi);
        if (*p == ',') {
            p = skip_spaces(p + 1);
            if (!*p)
                goto bad;
        } else if (*p) {
            goto bad;
        }
        continue;
    bad:
        hwloc_bitmap_free(set);
        return sp_fail(err, SP_EINVAL,
                       "CPU list \"%s\" is malformed near \"%.20s\"; write OS CPU numbers and "
                       "ranges separated by commas, such as \"0-7,32-39\"", text, item);
    }
    *out = set;
    return SP_OK;
}

char *wk_cpulist_format(hwloc_const_bitmap_t set, char *buf, size_t len)
{
    if (!buf || len == 0)
        return buf;
    buf[0] = 0;
    if (set && !hwloc_bitmap_iszero(set))
        hwloc_bitmap_list_snprintf(buf, len, set);
    return buf;
}

/* ---- loading ------------------------------------------------------------------------ */

sp_code wk_topo_source_from_args(wk_topo_source *src, const char *xml, const char *synthetic,
                                 sp_err *err)
{
    memset(src, 0, sizeof *src);
    if (xml && synthetic)
        return sp_fail(err, SP_EINVAL, "--topology and --synthetic both given; pick one");
    if (xml) {
        src->kind = WK_TOPO_XML;
        src->arg = xml;
    } else if (synthetic) {
        src->kind = WK_TOPO_SYNTHETIC;
        src->arg = synthetic;
    } else {
        src->kind = WK_TOPO_LIVE;
    }
    return SP_OK;
}

/* Splits a synthetic description into hwloc's part and the NUMA nodes of "gpus:a,b,...".
 * *gpus is malloc'd (NULL when none). */
static sp_code split_synthetic(const char *desc, char *hw_desc, size_t len, int **gpus, int *ngpus,
                               sp_err *err)
{
    *gpus = NULL;
    *ngpus = 0;
    hw_desc[0] = 0;
    size_t used = 0;
    const char *p = desc;
    while (*p) {
        while (*p == ' ' || *p == '\t')
            p++;
        if (!*p)
            break;
        const char *tok = p;
        while (*p && *p != ' ' && *p != '\t')
            p++;
        size_t tl = (size_t)(p - tok);
        if (tl > 5 && strncmp(tok, "gpus:", 5) == 0) {
            const char *q = tok + 5;
            while (q < p) {
                char *end;
                errno = 0;
                long v = strtol(q, &end, 10);
                if (end == q || errno || v < 0 || v > INT_MAX || (end < p && *end != ',')) {
                    free(*gpus);
                    *gpus = NULL;
                    return sp_fail(err, SP_EINVAL,
                                   "synthetic topology: \"%.*s\" is malformed; write gpus:N,N,... "
                                   "with the NUMA node (OS index) of each GPU, e.g. gpus:0,1",
                                   (int)tl, tok);
                }
                int *g = realloc(*gpus, (size_t)(*ngpus + 1) * sizeof *g);
                if (!g) {
                    free(*gpus);
                    *gpus = NULL;
                    return sp_fail(err, SP_ENOMEM, "out of memory");
                }
                *gpus = g;
                g[(*ngpus)++] = (int)v;
                q = end < p ? end + 1 : end;
            }
            continue;
        }
        if (used + tl + 2 > len) {
            free(*gpus);
            *gpus = NULL;
            return sp_fail(err, SP_EINVAL, "synthetic topology description is too long");
        }
        if (used)
            hw_desc[used++] = ' ';
        memcpy(hw_desc + used, tok, tl);
        used += tl;
        hw_desc[used] = 0;
    }
    return SP_OK;
}

static sp_code load_hwloc(wk_topology *t, const wk_topo_source *src, int **gpus, int *ngpus,
                          sp_err *err)
{
    if (hwloc_topology_init(&t->hw) != 0) {
        t->hw = NULL;
        return sp_fail_errno(err, errno, "hwloc: cannot initialise a topology");
    }
    if (!src->no_gpus)
        hwloc_topology_set_io_types_filter(t->hw, HWLOC_TYPE_FILTER_KEEP_IMPORTANT);
    switch (src->kind) {
    case WK_TOPO_LIVE:
        snprintf(t->source, sizeof t->source, "this machine");
        break;
    case WK_TOPO_XML:
        snprintf(t->source, sizeof t->source, "file %s", src->arg);
        if (hwloc_topology_set_xml(t->hw, src->arg) != 0)
            return sp_fail_errno(err, errno,
                                 "topology file %s: hwloc cannot read it as XML (export one "
                                 "with `lstopo-no-graphics --of xml FILE`)", src->arg);
        break;
    case WK_TOPO_SYNTHETIC: {
        char desc[1024];
        snprintf(t->source, sizeof t->source, "synthetic \"%s\"", src->arg);
        sp_code rc = split_synthetic(src->arg, desc, sizeof desc, gpus, ngpus, err);
        if (rc != SP_OK)
            return rc;
        if (hwloc_topology_set_synthetic(t->hw, desc) != 0)
            return sp_fail(err, SP_EINVAL,
                           "synthetic topology \"%s\": hwloc rejects it; write levels from the "
                           "top down to pu, e.g. \"pack:2 numa:1 l3:8 core:8 pu:2\" (add gpus:0,1 "
                           "to attach GPUs to NUMA nodes 0 and 1)", desc);
        break;
    }
    default:
        return sp_fail(err, SP_EINVAL, "topology: unknown source kind %d", (int)src->kind);
    }
    if (hwloc_topology_load(t->hw) != 0)
        return sp_fail_errno(err, errno, "topology (%s): hwloc cannot load it", t->source);
    return SP_OK;
}

static int first_node(hwloc_const_nodeset_t nodes)
{
    if (!nodes || hwloc_bitmap_iszero(nodes))
        return -1;
    return hwloc_bitmap_first(nodes);
}

/* The cache domain object of a core: its L3, else its package, else the machine. */
static hwloc_obj_t domain_obj(hwloc_topology_t hw, hwloc_obj_t core)
{
    hwloc_obj_t o = hwloc_get_ancestor_obj_by_type(hw, HWLOC_OBJ_L3CACHE, core);
    if (!o)
        o = hwloc_get_ancestor_obj_by_type(hw, HWLOC_OBJ_PACKAGE, core);
    if (!o)
        o = hwloc_get_root_obj(hw);
    return o;
}

static const char *domain_kind(hwloc_obj_t o)
{
    return o->type == HWLOC_OBJ_L3CACHE ? "L3" : o->type == HWLOC_OBJ_PACKAGE ? "package" : "machine";
}

static int find_or_add_domain(wk_topology *t, hwloc_obj_t o, sp_err *err)
{
    for (int i = 0; i < t->ndomains; i++)
        if (strcmp(t->domains[i].kind, domain_kind(o)) == 0 && t->domains[i].logical == (int)o->logical_index)
            return i;
    wk_domain *d = realloc(t->domains, (size_t)(t->ndomains + 1) * sizeof *d);
    if (!d) {
        sp_fail(err, SP_ENOMEM, "out of memory indexing the topology");
        return -1;
    }
    t->domains = d;
    wk_domain *nd = &d[t->ndomains];
    nd->index = t->ndomains;
    nd->kind = domain_kind(o);
    nd->logical = (int)o->logical_index;
    hwloc_const_nodeset_t ns = o->nodeset;
    nd->numa = ns && hwloc_bitmap_weight(ns) == 1 ? hwloc_bitmap_first(ns) : -1;
    nd->ncores = 0;
    return t->ndomains++;
}

static sp_code index_cores(wk_topology *t, sp_err *err)
{
    hwloc_obj_type_t type = hwloc_get_nbobjs_by_type(t->hw, HWLOC_OBJ_CORE) > 0 ? HWLOC_OBJ_CORE
                                                                                : HWLOC_OBJ_PU;
    int n = hwloc_get_nbobjs_by_type(t->hw, type);
    t->cores = calloc((size_t)(n > 0 ? n : 1), sizeof *t->cores);
    if (!t->cores)
        return sp_fail(err, SP_ENOMEM, "out of memory indexing the topology");
    for (int i = 0; i < n; i++) {
        hwloc_obj_t o = hwloc_get_obj_by_type(t->hw, type, (unsigned)i);
        hwloc_bitmap_t cpus = hwloc_bitmap_dup(o->cpuset);
        if (!cpus)
            return sp_fail(err, SP_ENOMEM, "out of memory indexing the topology");
        hwloc_bitmap_and(cpus, cpus, t->allowed);
        if (hwloc_bitmap_iszero(cpus)) {
            hwloc_bitmap_free(cpus);
            continue;
        }
        int d = find_or_add_domain(t, domain_obj(t->hw, o), err);
        if (d < 0) {
            hwloc_bitmap_free(cpus);
            return SP_ENOMEM;
        }
        wk_core *c = &t->cores[t->ncores++];
        c->index = (int)o->logical_index;
        c->cpuset = cpus;
        c->nthreads = hwloc_bitmap_weight(cpus);
        c->numa = first_node(o->nodeset);
        c->domain = d;
        t->domains[d].ncores++;
        t->nthreads += c->nthreads;
    }
    return SP_OK;
}

static sp_code index_numas(wk_topology *t, sp_err *err)
{
    hwloc_const_nodeset_t allowed_nodes = hwloc_topology_get_allowed_nodeset(t->hw);
    int n = hwloc_get_nbobjs_by_type(t->hw, HWLOC_OBJ_NUMANODE);
    t->numas = calloc((size_t)(n > 0 ? n : 1), sizeof *t->numas);
    if (!t->numas)
        return sp_fail(err, SP_ENOMEM, "out of memory indexing the topology");
    for (int i = 0; i < n; i++) {
        hwloc_obj_t o = hwloc_get_obj_by_type(t->hw, HWLOC_OBJ_NUMANODE, (unsigned)i);
        if (allowed_nodes && !hwloc_bitmap_isset(allowed_nodes, o->os_index))
            continue;
        wk_numa *m = &t->numas[t->nnumas++];
        m->os_index = (int)o->os_index;
        m->memory = o->attr ? o->attr->numanode.local_memory : 0;
        m->cpuset = hwloc_bitmap_dup(o->cpuset);
        if (!m->cpuset)
            return sp_fail(err, SP_ENOMEM, "out of memory indexing the topology");
        hwloc_bitmap_and(m->cpuset, m->cpuset, t->allowed);
        for (int c = 0; c < t->ncores; c++)
            m->ncores += t->cores[c].numa == m->os_index;
    }
    /* sorted by OS index, so listings and "numa = K" lookups read naturally */
    for (int i = 1; i < t->nnumas; i++)
        for (int j = i; j > 0 && t->numas[j - 1].os_index > t->numas[j].os_index; j--) {
            wk_numa tmp = t->numas[j];
            t->numas[j] = t->numas[j - 1];
            t->numas[j - 1] = tmp;
        }
    return SP_OK;
}

static sp_code add_synthetic_gpus(wk_topology *t, const int *gpus, int ngpus, sp_err *err)
{
    for (int i = 0; i < ngpus; i++) {
        sp_code rc = wk_gpu_add_synthetic(t->hw, gpus[i], &t->gpus, err);
        if (rc != SP_OK)
            return rc;
    }
    return SP_OK;
}

sp_code wk_topology_load(wk_topology *t, const wk_topo_source *src, sp_err *err)
{
    memset(t, 0, sizeof *t);
    t->kind = src->kind;
    int *gpus = NULL, ngpus = 0;
    sp_code rc = load_hwloc(t, src, &gpus, &ngpus, err);
    if (rc != SP_OK)
        goto fail;
    t->allowed = hwloc_bitmap_dup(hwloc_topology_get_allowed_cpuset(t->hw));
    t->complete = hwloc_bitmap_dup(hwloc_topology_get_complete_cpuset(t->hw));
    if (!t->allowed || !t->complete) {
        rc = sp_fail(err, SP_ENOMEM, "out of memory indexing the topology");
        goto fail;
    }
    if ((rc = index_cores(t, err)) != SP_OK || (rc = index_numas(t, err)) != SP_OK)
        goto fail;
    if (t->ncores == 0) {
        rc = sp_fail(err, SP_EINVAL, "topology (%s) has no allowed CPU; check the file or the "
                     "process's cpuset (taskset, cgroup)", t->source);
        goto fail;
    }
    if (src->kind == WK_TOPO_SYNTHETIC)
        rc = add_synthetic_gpus(t, gpus, ngpus, err);
    else if (!src->no_gpus)
        rc = wk_gpu_scan(t->hw, src->kind == WK_TOPO_LIVE && !src->no_opencl, &t->gpus, err);
    if (rc != SP_OK) {
        sp_err_prefix(err, "topology (%s)", t->source);
        goto fail;
    }
    free(gpus);
    return SP_OK;
fail:
    free(gpus);
    wk_topology_free(t);
    return rc;
}

void wk_topology_free(wk_topology *t)
{
    if (!t)
        return;
    for (int i = 0; i < t->ncores; i++)
        hwloc_bitmap_free(t->cores[i].cpuset);
    for (int i = 0; i < t->nnumas; i++)
        hwloc_bitmap_free(t->numas[i].cpuset);
    free(t->cores);
    free(t->numas);
    free(t->domains);
    wk_gpu_list_free(&t->gpus);
    hwloc_bitmap_free(t->allowed);
    hwloc_bitmap_free(t->complete);
    if (t->hw)
        hwloc_topology_destroy(t->hw);
    memset(t, 0, sizeof *t);
}

const wk_numa *wk_topology_numa(const wk_topology *t, int os_index)
{
    for (int i = 0; i < t->nnumas; i++)
        if (t->numas[i].os_index == os_index)
            return &t->numas[i];
    return NULL;
}

const wk_core *wk_topology_core_of_cpu(const wk_topology *t, int os_cpu)
{
    if (os_cpu < 0)
        return NULL;
    for (int i = 0; i < t->ncores; i++)
        if (hwloc_bitmap_isset(t->cores[i].cpuset, (unsigned)os_cpu))
            return &t->cores[i];
    return NULL;
}

/* ---- description -------------------------------------------------------------------- */

/* "0-7,12" for the logical indexes of the cores matching (numa, domain); -1 = any. */
static char *core_list(const wk_topology *t, int numa, int domain, bool by_numa, char *buf, size_t len)
{
    hwloc_bitmap_t s = hwloc_bitmap_alloc();
    buf[0] = 0;
    if (!s)
        return buf;
    for (int i = 0; i < t->ncores; i++) {
        const wk_core *c = &t->cores[i];
        if ((by_numa && c->numa == numa) || (!by_numa && c->domain == domain))
            hwloc_bitmap_set(s, (unsigned)c->index);
    }
    wk_cpulist_format(s, buf, len);
    hwloc_bitmap_free(s);
    return buf;
}

void wk_topology_describe(const wk_topology *t, FILE *f)
{
    char a[512], b[512];
    fprintf(f, "Topology: %s\n", t->source);
    fprintf(f, "  %d cores, %d hardware threads allowed (CPUs %s)", t->ncores, t->nthreads,
            wk_cpulist_format(t->allowed, a, sizeof a));
    hwloc_bitmap_t unused = hwloc_bitmap_alloc();
    if (unused) {
        hwloc_bitmap_andnot(unused, t->complete, t->allowed);
        if (!hwloc_bitmap_iszero(unused))
            fprintf(f, "; never used: CPUs %s (offline or outside this process's cpuset)",
                    wk_cpulist_format(unused, b, sizeof b));
        hwloc_bitmap_free(unused);
    }
    fputc('\n', f);
    for (int i = 0; i < t->nnumas; i++) {
        const wk_numa *m = &t->numas[i];
        char mem[32];
        fprintf(f, "  NUMA node %d: %s, ", m->os_index,
                m->memory ? sp_format_size_human(m->memory, mem, sizeof mem) : "memory unknown");
        if (m->ncores)
            fprintf(f, "%d core%s (L#%s), CPUs %s\n", m->ncores, m->ncores == 1 ? "" : "s",
                    core_list(t, m->os_index, -1, true, a, sizeof a),
                    wk_cpulist_format(m->cpuset, b, sizeof b));
        else
            fprintf(f, "no CPUs (memory only)\n");
    }
    for (int i = 0; i < t->ndomains; i++) {
        const wk_domain *d = &t->domains[i];
        fprintf(f, "  %s L#%d: %d core%s (L#%s)", d->kind, d->logical, d->ncores,
                d->ncores == 1 ? "" : "s", core_list(t, -1, i, false, a, sizeof a));
        if (d->numa >= 0)
            fprintf(f, ", NUMA node %d", d->numa);
        fputc('\n', f);
    }
    if (t->gpus.n == 0)
        fprintf(f, "  no GPU found\n");
    for (int i = 0; i < t->gpus.n; i++) {
        const wk_gpu *g = &t->gpus.v[i];
        fprintf(f, "  GPU %d: %s", i, wk_gpu_describe(g, a, sizeof a));
        if (g->numa >= 0)
            fprintf(f, ", NUMA node %d", g->numa);
        fprintf(f, ", near CPUs %s\n", wk_cpulist_format(g->cpuset, b, sizeof b));
    }
}
