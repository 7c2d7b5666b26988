/* sdr_cores.c — where multi-core SDR runs: parsing a CPU list, choosing one CPU per core
 * inside the L3 domain of this process's first allowed CPU (the hashing thread and its
 * producers exchange every parent label through that cache), and binding threads. */
#include "label.h"

#include <errno.h>
#include <hwloc.h>
#include <pthread.h>
#include <stdarg.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static pf_status bad(pf_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static pf_status bad(pf_error *err, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        err->status = PF_EINVAL;
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
    }
    return PF_EINVAL;
}

pf_status pf_sdr_parse_cpus(const char *s, int *cpus, int max, int *n, pf_error *err)
{
    *n = 0;
    const char *p = s;
    if (!p || !*p)
        return bad(err, "cores: empty CPU list '%s' (use e.g. 0-3 or 0,2,4)", s ? s : "");
    while (*p) {
        char *end;
        errno = 0;
        long a = strtol(p, &end, 10), b = a;
        if (end == p || errno || a < 0 || a > 4095)
            return bad(err, "cores: bad CPU list '%s' (use e.g. 0-3 or 0,2,4)", s);
        p = end;
        if (*p == '-') {
            b = strtol(p + 1, &end, 10);
            if (end == p + 1 || errno || b < a || b > 4095)
                return bad(err, "cores: bad range in CPU list '%s'", s);
            p = end;
        }
        for (long c = a; c <= b; c++) {
            for (int i = 0; i < *n; i++)
                if (cpus[i] == c)
                    return bad(err, "cores: CPU listed twice in '%s'", s);
            if (*n == max)
                return bad(err, "cores: too many CPUs in '%s'", s);
            cpus[(*n)++] = (int)c;
        }
        if (*p == ',')
            p++;
        else if (*p)
            return bad(err, "cores: unexpected character in CPU list '%s'", s);
    }
    return PF_OK;
}

pf_status pf_sdr_core_group(const char *list, int want, int *cpus, int max, int *n, pf_error *err)
{
    if (list)
        return pf_sdr_parse_cpus(list, cpus, max, n, err);
    if (want > max)
        want = max;
    *n = 0;
    hwloc_topology_t topo;
    if (hwloc_topology_init(&topo) != 0)
        goto fallback;
    if (hwloc_topology_load(topo) != 0) {
        hwloc_topology_destroy(topo);
        goto fallback;
    }
    hwloc_bitmap_t allowed = hwloc_bitmap_alloc();
    if (!allowed || hwloc_get_cpubind(topo, allowed, HWLOC_CPUBIND_PROCESS) != 0 ||
        hwloc_bitmap_iszero(allowed))
        hwloc_bitmap_copy(allowed, hwloc_topology_get_allowed_cpuset(topo));
    int first = hwloc_bitmap_first(allowed);
    hwloc_obj_t pu = first >= 0 ? hwloc_get_pu_obj_by_os_index(topo, (unsigned)first) : NULL;
    hwloc_obj_t dom = pu ? hwloc_get_ancestor_obj_by_type(topo, HWLOC_OBJ_L3CACHE, pu) : NULL;
    if (!dom)
        dom = hwloc_get_root_obj(topo);
    /* One PU per core: SMT siblings share the SHA unit with the hashing thread. */
    hwloc_obj_t core = NULL;
    while (*n < want &&
           (core = hwloc_get_next_obj_inside_cpuset_by_type(topo, dom->cpuset, HWLOC_OBJ_CORE,
                                                             core)) != NULL) {
        hwloc_bitmap_t both = hwloc_bitmap_alloc();
        hwloc_bitmap_and(both, core->cpuset, allowed);
        int c = hwloc_bitmap_first(both);
        hwloc_bitmap_free(both);
        if (c >= 0)
            cpus[(*n)++] = c;
    }
    hwloc_bitmap_free(allowed);
    hwloc_topology_destroy(topo);
    if (*n > 0)
        return PF_OK;
fallback:
    cpus[0] = 0;
    *n = 1;
    return PF_OK;
}

int pf_sdr_one_per_core(int *cpus, int n)
{
    hwloc_topology_t topo;
    if (hwloc_topology_init(&topo) != 0)
        return n;
    hwloc_bitmap_t seen = NULL;
    int k = n;
    if (hwloc_topology_load(topo) != 0 || !(seen = hwloc_bitmap_alloc()))
        goto done;
    k = 0;
    for (int i = 0; i < n; i++) {
        hwloc_obj_t pu = hwloc_get_pu_obj_by_os_index(topo, (unsigned)cpus[i]);
        hwloc_obj_t core = pu ? hwloc_get_ancestor_obj_by_type(topo, HWLOC_OBJ_CORE, pu) : NULL;
        if (core) {
            if (hwloc_bitmap_isset(seen, core->logical_index))
                continue;
            hwloc_bitmap_set(seen, core->logical_index);
        }
        cpus[k++] = cpus[i];
    }
done:
    hwloc_bitmap_free(seen);
    hwloc_topology_destroy(topo);
    return k;
}

int pf_sdr_bind_cpu(int cpu)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    return pthread_setaffinity_np(pthread_self(), sizeof set, &set) == 0 ? 0 : -1;
}
