/* bind.c — a processor child binding itself (CPUs and memory, verified by reading them
 * back) and the environment that names its GPU.  Contract in wk_bind.h. */
#include "wk_bind.h"

#include <errno.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "sp_fs.h"

/* The calling thread's affinity as the kernel has it, into set. */
static int read_affinity(hwloc_bitmap_t set)
{
    cpu_set_t mask;
    CPU_ZERO(&mask);
    if (sched_getaffinity(0, sizeof mask, &mask) != 0)
        return -1;
    hwloc_bitmap_zero(set);
    for (int c = 0; c < CPU_SETSIZE; c++)
        if (CPU_ISSET(c, &mask))
            hwloc_bitmap_set(set, (unsigned)c);
    return 0;
}

static sp_code bind_cpus(const wk_topology *live, hwloc_const_bitmap_t cpuset, wk_bind_report *rep,
                         sp_err *err)
{
    char want[512], got[512];
    wk_cpulist_format(cpuset, want, sizeof want);
    if (hwloc_bitmap_iszero(cpuset))
        return sp_fail(err, SP_EINVAL, "bind: empty cpuset; the processor has no CPU to run on");
    if (hwloc_set_cpubind(live->hw, cpuset, HWLOC_CPUBIND_PROCESS) != 0)
        return sp_fail_errno(err, errno, "bind: cannot bind the process to CPUs %s (are they "
                             "in this service's allowed CPUs? see `seal-worker info`)", want);
    hwloc_bitmap_t now = hwloc_bitmap_alloc(), thr = hwloc_bitmap_alloc();
    sp_code rc = SP_OK;
    if (!now || !thr) {
        rc = sp_fail(err, SP_ENOMEM, "bind: out of memory");
        goto done;
    }
    if (hwloc_get_cpubind(live->hw, now, HWLOC_CPUBIND_PROCESS) != 0 || read_affinity(thr) != 0) {
        rc = sp_fail_errno(err, errno, "bind: cannot read the CPU binding back");
        goto done;
    }
    wk_cpulist_format(now, got, sizeof got);
    if (!hwloc_bitmap_isequal(now, cpuset) || !hwloc_bitmap_isequal(thr, cpuset)) {
        char t[512];
        rc = sp_fail(err, SP_ESTATE, "bind: asked for CPUs %s but the kernel reports %s for the "
                     "process and %s for this thread; another tool (cgroup cpuset, taskset) "
                     "restricts it", want, got, wk_cpulist_format(thr, t, sizeof t));
        goto done;
    }
    snprintf(rep->cpus, sizeof rep->cpus, "%s", got);
done:
    hwloc_bitmap_free(now);
    hwloc_bitmap_free(thr);
    return rc;
}

static void bind_memory(const wk_topology *live, int numa, bool strict, wk_bind_report *rep)
{
    const struct hwloc_topology_support *sup = hwloc_topology_get_support(live->hw);
    hwloc_bitmap_t nodes = hwloc_bitmap_alloc(), now = hwloc_bitmap_alloc();
    if (!nodes || !now) {
        snprintf(rep->mem, sizeof rep->mem, "not bound: out of memory");
        goto done;
    }
    if (!sup->membind->set_thisthread_membind) {
        snprintf(rep->mem, sizeof rep->mem, "not bound: this system cannot bind memory");
        goto done;
    }
    hwloc_bitmap_only(nodes, (unsigned)numa);
    int flags = HWLOC_MEMBIND_THREAD | HWLOC_MEMBIND_BYNODESET | (strict ? HWLOC_MEMBIND_STRICT : 0);
    if (hwloc_set_membind(live->hw, nodes, HWLOC_MEMBIND_BIND, flags) != 0) {
        snprintf(rep->mem, sizeof rep->mem, "not bound to NUMA node %d: %s", numa, strerror(errno));
        goto done;
    }
    hwloc_membind_policy_t policy;
    if (hwloc_get_membind(live->hw, now, &policy, HWLOC_MEMBIND_THREAD | HWLOC_MEMBIND_BYNODESET) != 0 ||
        !hwloc_bitmap_isequal(now, nodes)) {
        snprintf(rep->mem, sizeof rep->mem, "NUMA node %d requested but the kernel does not "
                 "report it back", numa);
        goto done;
    }
    rep->numa = numa;
    rep->mem_bound = true;
    snprintf(rep->mem, sizeof rep->mem, "NUMA node %d (%s)", numa, strict ? "strict" : "preferred");
done:
    hwloc_bitmap_free(nodes);
    hwloc_bitmap_free(now);
}

sp_code wk_bind_self(const wk_topology *live, hwloc_const_bitmap_t cpuset, int numa, bool strict,
                     wk_bind_report *rep, sp_err *err)
{
    memset(rep, 0, sizeof *rep);
    rep->numa = -1;
    snprintf(rep->mem, sizeof rep->mem, "not bound");
    if (live->kind != WK_TOPO_LIVE)
        return sp_fail(err, SP_EINVAL, "bind: the topology is %s, not this machine; binding "
                       "needs the live topology", live->source);
    sp_code rc = bind_cpus(live, cpuset, rep, err);
    if (rc != SP_OK)
        return rc;
    if (numa >= 0)
        bind_memory(live, numa, strict, rep);
    return SP_OK;
}

char *wk_bind_describe(const wk_bind_report *rep, char *buf, size_t len)
{
    snprintf(buf, len, "bound to CPUs %s; memory: %s", rep->cpus, rep->mem);
    return buf;
}

/* ---- GPU environment ----------------------------------------------------------------- */

static sp_code env_add(wk_env *env, sp_err *err, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static sp_code env_add(wk_env *env, sp_err *err, const char *name, const char *fmt, ...)
{
    char value[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(value, sizeof value, fmt, ap);
    va_end(ap);
    char *var = NULL;
    if (asprintf(&var, "%s=%s", name, value) < 0)
        return sp_fail(err, SP_ENOMEM, "bind: out of memory");
    char **v = realloc(env->vars, (size_t)(env->n + 1) * sizeof *v);
    if (!v) {
        free(var);
        return sp_fail(err, SP_ENOMEM, "bind: out of memory");
    }
    v[env->n++] = var;
    env->vars = v;
    return SP_OK;
}

static bool is_nvidia(const wk_gpu *g)
{
    return g->vendor_id == 0x10de || g->cuda_index >= 0 || strstr(g->vendor, "NVIDIA") != NULL;
}

static bool same_vendor(const wk_gpu *a, const wk_gpu *b)
{
    if (a->vendor_id || b->vendor_id)
        return a->vendor_id == b->vendor_id;
    return strcmp(a->vendor, b->vendor) == 0;
}

sp_code wk_bind_gpu_env(const wk_gpu_list *gpus, int gpu, const char *tmp_base, wk_env *env,
                        sp_err *err)
{
    memset(env, 0, sizeof *env);
    if (gpu < 0 || gpu >= gpus->n)
        return sp_fail(err, SP_ENOTFOUND, "bind: GPU %d does not exist (%d GPUs)", gpu, gpus->n);
    const wk_gpu *g = &gpus->v[gpu];
    int nv_rank = 0, vendor_rank = 0;
    for (int i = 0; i < gpu; i++) {
        nv_rank += is_nvidia(&gpus->v[i]);
        vendor_rank += same_vendor(&gpus->v[i], g);
    }
    if (!tmp_base || !tmp_base[0])
        tmp_base = getenv("TMPDIR");
    if (!tmp_base || !tmp_base[0])
        tmp_base = "/tmp";
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s/sealpipe-gpu%d", tmp_base, gpu) >= (int)sizeof tmp)
        return sp_fail(err, SP_EINVAL, "bind: temporary directory base too long: %s", tmp_base);
    sp_code rc = sp_mkdir_p(tmp, 0700, err);
    if (rc != SP_OK) {
        sp_err_prefix(err, "bind: per-GPU TMPDIR");
        return rc;
    }
    if ((rc = env_add(env, err, "SEALPIPE_GPU", "%d", gpu)) != SP_OK)
        goto fail;
    if (g->opencl_platform >= 0)
        rc = env_add(env, err, "SEALPIPE_OPENCL_DEVICE", "%d:%d", g->opencl_platform, g->opencl_device);
    else if (g->has_pci)
        rc = env_add(env, err, "SEALPIPE_OPENCL_DEVICE", "%s", g->busid);
    if (rc == SP_OK && is_nvidia(g)) {
        rc = env_add(env, err, "CUDA_VISIBLE_DEVICES", "%d", nv_rank);
        if (rc == SP_OK)
            rc = env_add(env, err, "CUDA_DEVICE_ORDER", "PCI_BUS_ID");
    }
    if (rc == SP_OK)
        rc = env_add(env, err, "GPU_DEVICE_ORDINAL", "%d", vendor_rank);
    if (rc == SP_OK)
        rc = env_add(env, err, "TMPDIR", "%s", tmp);
    if (rc != SP_OK)
        goto fail;
    return SP_OK;
fail:
    wk_env_free(env);
    return rc;
}

const char *wk_env_get(const wk_env *env, const char *name)
{
    size_t n = strlen(name);
    for (int i = 0; i < env->n; i++)
        if (strncmp(env->vars[i], name, n) == 0 && env->vars[i][n] == '=')
            return env->vars[i] + n + 1;
    return NULL;
}

sp_code wk_env_apply(const wk_env *env, sp_err *err)
{
    for (int i = 0; i < env->n; i++) {
        const char *eq = strchr(env->vars[i], '=');
        if (!eq)
            continue;
        char name[256];
        snprintf(name, sizeof name, "%.*s", (int)(eq - env->vars[i]), env->vars[i]);
        if (setenv(name, eq + 1, 1) != 0)
            return sp_fail_errno(err, errno, "bind: setenv %s", name);
    }
    return SP_OK;
}

void wk_env_free(wk_env *env)
{
    if (!env)
        return;
    for (int i = 0; i < env->n; i++)
        free(env->vars[i]);
    free(env->vars);
    env->vars = NULL;
    env->n = 0;
}
