/* gpu.c — GPU discovery: hwloc OS devices grouped by PCI device, OpenCL devices matched
 * to them on the live machine, and synthetic GPUs for hardware-class descriptions.
 * The rules (grouping, ordering, display-only and CPU devices) are in wk_gpu.h. */
#include "wk_gpu.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CL_TARGET_OPENCL_VERSION 120
#include <CL/cl.h>
#include <CL/cl_ext.h>

/* cl_nv_device_attribute_query; not in every header release. */
#ifndef CL_DEVICE_PCI_BUS_ID_NV
#define CL_DEVICE_PCI_BUS_ID_NV 0x4008
#endif
#ifndef CL_DEVICE_PCI_SLOT_ID_NV
#define CL_DEVICE_PCI_SLOT_ID_NV 0x4009
#endif
#ifndef CL_DEVICE_PCI_DOMAIN_ID_NV
#define CL_DEVICE_PCI_DOMAIN_ID_NV 0x400A
#endif

/* A device found during the scan, before display-only and CPU devices are sorted out. */
typedef struct gpu_scan {
    wk_gpu_list list;
    bool display_only_seen;
} gpu_scan;

static void gpu_clear(wk_gpu *g)
{
    memset(g, 0, sizeof *g);
    g->index = -1;
    g->cuda_index = -1;
    g->opencl_platform = -1;
    g->opencl_device = -1;
    g->numa = -1;
}

void wk_gpu_list_free(wk_gpu_list *list)
{
    if (!list)
        return;
    for (int i = 0; i < list->n; i++)
        hwloc_bitmap_free(list->v[i].cpuset);
    free(list->v);
    list->v = NULL;
    list->n = 0;
}

static wk_gpu *gpu_append(wk_gpu_list *list, sp_err *err)
{
    wk_gpu *v = realloc(list->v, (size_t)(list->n + 1) * sizeof *v);
    if (!v) {
        sp_fail(err, SP_ENOMEM, "gpu: out of memory listing GPUs");
        return NULL;
    }
    list->v = v;
    wk_gpu *g = &v[list->n++];
    gpu_clear(g);
    return g;
}

static void add_osdev_name(wk_gpu *g, const char *name)
{
    size_t n = strlen(name);
    const char *p = g->osdevs;
    while ((p = strstr(p, name)) != NULL) {
        bool starts = p == g->osdevs || p[-1] == ',';
        if (starts && (p[n] == 0 || p[n] == ','))
            return;   /* already listed */
        p += n;
    }
    size_t used = strlen(g->osdevs);
    snprintf(g->osdevs + used, sizeof g->osdevs - used, "%s%s", used ? "," : "", name);
}

/* The NUMA node (OS index) of a set of nodes when it is exactly one, else -1. */
static int single_node(hwloc_const_nodeset_t nodes)
{
    if (!nodes || hwloc_bitmap_weight(nodes) != 1)
        return -1;
    return hwloc_bitmap_first(nodes);
}

static sp_code set_locality(hwloc_topology_t hw, wk_gpu *g, hwloc_obj_t io, sp_err *err)
{
    hwloc_obj_t anc = io ? hwloc_get_non_io_ancestor_obj(hw, io) : hwloc_get_root_obj(hw);
    if (!anc)
        anc = hwloc_get_root_obj(hw);
    hwloc_bitmap_free(g->cpuset);
    g->cpuset = hwloc_bitmap_dup(anc->cpuset);
    if (!g->cpuset)
        return sp_fail(err, SP_ENOMEM, "gpu: out of memory");
    g->numa = single_node(anc->nodeset);
    return SP_OK;
}

static hwloc_obj_t pci_parent(hwloc_obj_t o)
{
    for (hwloc_obj_t p = o->parent; p; p = p->parent) {
        if (p->type == HWLOC_OBJ_PCI_DEVICE)
            return p;
        if (p->type != HWLOC_OBJ_OS_DEVICE && p->type != HWLOC_OBJ_BRIDGE)
            break;
    }
    return NULL;
}

static bool name_has_prefix(const char *name, const char *prefix)
{
    return strncmp(name, prefix, strlen(prefix)) == 0;
}

static bool is_display_name(const char *name)
{
    return name_has_prefix(name, "card") || name_has_prefix(name, "renderD") ||
           name_has_prefix(name, "controlD");
}

static void copy_str(char *dst, size_t len, const char *src)
{
    if (src && !dst[0])
        snprintf(dst, len, "%s", src);
}

/* Records what one hwloc OS device says about its GPU. */
static void note_osdev(wk_gpu *g, hwloc_obj_t os, hwloc_obj_t pci)
{
    const char *name = os->name ? os->name : "";
    add_osdev_name(g, name);
    int a, b;
    if (sscanf(name, "cuda%d", &a) == 1) {
        g->cuda_index = a;
    } else if (sscanf(name, "nvml%d", &a) == 1) {
        if (g->cuda_index < 0)
            g->cuda_index = a;   /* NVML counts in PCI order, as CUDA_DEVICE_ORDER=PCI_BUS_ID */
    } else if (sscanf(name, "opencl%dd%d", &a, &b) == 2) {
        g->opencl_platform = a;
        g->opencl_device = b;
    }
    if (!is_display_name(name))
        g->compute = true;
    copy_str(g->vendor, sizeof g->vendor, hwloc_obj_get_info_by_name(os, "GPUVendor"));
    copy_str(g->model, sizeof g->model, hwloc_obj_get_info_by_name(os, "GPUModel"));
    if (pci) {
        copy_str(g->vendor, sizeof g->vendor, hwloc_obj_get_info_by_name(pci, "PCIVendor"));
        copy_str(g->model, sizeof g->model, hwloc_obj_get_info_by_name(pci, "PCIDevice"));
    }
}

static wk_gpu *find_pci(wk_gpu_list *list, unsigned domain, unsigned bus, unsigned dev)
{
    for (int i = 0; i < list->n; i++) {
        wk_gpu *g = &list->v[i];
        if (g->has_pci && g->domain == domain && g->bus == bus && g->dev == dev)
            return g;
    }
    return NULL;
}

static void set_pci(wk_gpu *g, unsigned domain, unsigned bus, unsigned dev, unsigned func)
{
    g->has_pci = true;
    g->domain = domain;
    g->bus = bus;
    g->dev = dev;
    g->func = func;
    snprintf(g->busid, sizeof g->busid, "%04x:%02x:%02x.%x", domain & 0xffff, bus & 0xff,
             dev & 0x1f, func & 0x7);
}

static sp_code scan_hwloc(hwloc_topology_t hw, wk_gpu_list *list, wk_gpu_list *cpus, sp_err *err)
{
    for (hwloc_obj_t os = hwloc_get_next_osdev(hw, NULL); os; os = hwloc_get_next_osdev(hw, os)) {
        hwloc_obj_osdev_type_t type = os->attr->osdev.type;
        if (type != HWLOC_OBJ_OSDEV_GPU && type != HWLOC_OBJ_OSDEV_COPROC)
            continue;
        hwloc_obj_t pci = pci_parent(os);
        const char *cltype = hwloc_obj_get_info_by_name(os, "OpenCLDeviceType");
        if (!pci && cltype && strcmp(cltype, "CPU") == 0) {
            /* an OpenCL CPU device in an exported topology: a stand-in, like PoCL live */
            wk_gpu *c = gpu_append(cpus, err);
            if (!c || set_locality(hw, c, NULL, err) != SP_OK)
                return err ? err->code : SP_ENOMEM;
            c->cpu_device = true;
            note_osdev(c, os, NULL);
            continue;
        }
        wk_gpu *g = NULL;
        if (pci) {
            const struct hwloc_pcidev_attr_s *pa = &pci->attr->pcidev;
            g = find_pci(list, pa->domain, pa->bus, pa->dev);
            if (!g) {
                if (!(g = gpu_append(list, err)))
                    return err ? err->code : SP_ENOMEM;
                set_pci(g, pa->domain, pa->bus, pa->dev, pa->func);
                g->vendor_id = pa->vendor_id;
                if (set_locality(hw, g, pci, err) != SP_OK)
                    return err ? err->code : SP_ENOMEM;
            } else if (pa->func < g->func) {
                /* the lowest function names the device (function 1 may be its audio part) */
                set_pci(g, pa->domain, pa->bus, pa->dev, pa->func);
                g->vendor_id = pa->vendor_id;
            }
        } else {
            if (!(g = gpu_append(list, err)))
                return err ? err->code : SP_ENOMEM;
            if (set_locality(hw, g, os, err) != SP_OK)
                return err ? err->code : SP_ENOMEM;
        }
        note_osdev(g, os, pci);
    }
    return SP_OK;
}

/* ---- OpenCL ------------------------------------------------------------------------ */

static bool cl_has_ext(cl_device_id d, const char *ext)
{
    size_t len = 0;
    if (clGetDeviceInfo(d, CL_DEVICE_EXTENSIONS, 0, NULL, &len) != CL_SUCCESS || len == 0)
        return false;
    char *s = malloc(len + 1);
    if (!s)
        return false;
    bool found = false;
    if (clGetDeviceInfo(d, CL_DEVICE_EXTENSIONS, len, s, NULL) == CL_SUCCESS) {
        s[len] = 0;
        size_t n = strlen(ext);
        for (char *p = strstr(s, ext); p; p = strstr(p + 1, ext)) {
            if ((p == s || p[-1] == ' ') && (p[n] == 0 || p[n] == ' ')) {
                found = true;
                break;
            }
        }
    }
    free(s);
    return found;
}

/* PCI address of an OpenCL device through whichever extension its driver offers. */
static bool cl_pci_address(cl_device_id d, unsigned *domain, unsigned *bus, unsigned *dev,
                           unsigned *func)
{
    if (cl_has_ext(d, "cl_khr_pci_bus_info")) {
        cl_device_pci_bus_info_khr info;
        if (clGetDeviceInfo(d, CL_DEVICE_PCI_BUS_INFO_KHR, sizeof info, &info, NULL) == CL_SUCCESS) {
            *domain = info.pci_domain;
            *bus = info.pci_bus;
            *dev = info.pci_device;
            *func = info.pci_function;
            return true;
        }
    }
    if (cl_has_ext(d, "cl_nv_device_attribute_query")) {
        cl_uint b = 0, slot = 0, dom = 0;
        if (clGetDeviceInfo(d, CL_DEVICE_PCI_BUS_ID_NV, sizeof b, &b, NULL) == CL_SUCCESS &&
            clGetDeviceInfo(d, CL_DEVICE_PCI_SLOT_ID_NV, sizeof slot, &slot, NULL) == CL_SUCCESS) {
            if (clGetDeviceInfo(d, CL_DEVICE_PCI_DOMAIN_ID_NV, sizeof dom, &dom, NULL) != CL_SUCCESS)
                dom = 0;
            *domain = dom;
            *bus = b;
            *dev = slot >> 3;
            *func = slot & 7;
            return true;
        }
    }
    if (cl_has_ext(d, "cl_amd_device_attribute_query")) {
        cl_device_topology_amd topo;
        if (clGetDeviceInfo(d, CL_DEVICE_TOPOLOGY_AMD, sizeof topo, &topo, NULL) == CL_SUCCESS &&
            topo.raw.type == CL_DEVICE_TOPOLOGY_TYPE_PCIE_AMD) {
            *domain = 0;
            *bus = (unsigned char)topo.pcie.bus;
            *dev = (unsigned char)topo.pcie.device;
            *func = (unsigned char)topo.pcie.function;
            return true;
        }
    }
    return false;
}

static void cl_string(cl_device_id d, cl_device_info what, char *buf, size_t len)
{
    buf[0] = 0;
    if (clGetDeviceInfo(d, what, len - 1, buf, NULL) != CL_SUCCESS)
        buf[0] = 0;
    buf[len - 1] = 0;
}

static sp_code note_cl_device(hwloc_topology_t hw, cl_device_id d, int p, int i,
                              wk_gpu_list *list, wk_gpu_list *cpus, sp_err *err)
{
    cl_device_type type = 0;
    if (clGetDeviceInfo(d, CL_DEVICE_TYPE, sizeof type, &type, NULL) != CL_SUCCESS)
        return SP_OK;
    unsigned dom, bus, dev, func;
    bool has_pci = cl_pci_address(d, &dom, &bus, &dev, &func);
    wk_gpu *g = has_pci ? find_pci(list, dom, bus, dev) : NULL;
    if (!g) {
        wk_gpu_list *into = (type & CL_DEVICE_TYPE_CPU) && !has_pci ? cpus : list;
        if (!(g = gpu_append(into, err)))
            return err ? err->code : SP_ENOMEM;
        hwloc_obj_t pci = NULL;
        if (has_pci) {
            set_pci(g, dom, bus, dev, func);
            pci = hwloc_get_pcidev_by_busid(hw, dom, bus, dev, func);
            if (pci)
                g->vendor_id = pci->attr->pcidev.vendor_id;
        }
        if (set_locality(hw, g, pci, err) != SP_OK)
            return err ? err->code : SP_ENOMEM;
        g->cpu_device = (type & CL_DEVICE_TYPE_CPU) != 0;
    }
    char name[32];
    snprintf(name, sizeof name, "opencl%dd%d", p, i);
    add_osdev_name(g, name);
    g->opencl_platform = p;
    g->opencl_device = i;
    g->compute = true;
    if (!g->vendor[0])
        cl_string(d, CL_DEVICE_VENDOR, g->vendor, sizeof g->vendor);
    if (!g->model[0])
        cl_string(d, CL_DEVICE_NAME, g->model, sizeof g->model);
    return SP_OK;
}

/* Asks every OpenCL platform for its devices.  No ICD or no platform is not an error:
 * the machine simply has no OpenCL devices. */
static sp_code scan_opencl(hwloc_topology_t hw, wk_gpu_list *list, wk_gpu_list *cpus, sp_err *err)
{
    cl_uint np = 0;
    if (clGetPlatformIDs(0, NULL, &np) != CL_SUCCESS || np == 0)
        return SP_OK;
    cl_platform_id *plats = calloc(np, sizeof *plats);
    cl_device_id *devs = NULL;
    sp_code rc = SP_OK;
    if (!plats) {
        rc = sp_fail(err, SP_ENOMEM, "gpu: out of memory listing OpenCL platforms");
        goto done;
    }
    if (clGetPlatformIDs(np, plats, NULL) != CL_SUCCESS)
        goto done;
    for (cl_uint p = 0; p < np && rc == SP_OK; p++) {
        cl_uint nd = 0;
        if (clGetDeviceIDs(plats[p], CL_DEVICE_TYPE_ALL, 0, NULL, &nd) != CL_SUCCESS || nd == 0)
            continue;
        free(devs);
        devs = calloc(nd, sizeof *devs);
        if (!devs) {
            rc = sp_fail(err, SP_ENOMEM, "gpu: out of memory listing OpenCL devices");
            break;
        }
        if (clGetDeviceIDs(plats[p], CL_DEVICE_TYPE_ALL, nd, devs, NULL) != CL_SUCCESS)
            continue;
        for (cl_uint i = 0; i < nd && rc == SP_OK; i++)
            rc = note_cl_device(hw, devs[i], (int)p, (int)i, list, cpus, err);
    }
done:
    free(devs);
    free(plats);
    return rc;
}

/* ---- ordering and filtering ---------------------------------------------------------- */

static int cmp_gpu(const void *a, const void *b)
{
    const wk_gpu *x = a, *y = b;
    if (x->has_pci != y->has_pci)
        return x->has_pci ? -1 : 1;
    if (x->has_pci) {
        if (x->domain != y->domain)
            return x->domain < y->domain ? -1 : 1;
        if (x->bus != y->bus)
            return x->bus < y->bus ? -1 : 1;
        if (x->dev != y->dev)
            return x->dev < y->dev ? -1 : 1;
    }
    return x->index < y->index ? -1 : x->index > y->index;
}

static void drop_display_only(wk_gpu_list *list)
{
    bool any_compute = false;
    for (int i = 0; i < list->n; i++)
        any_compute |= list->v[i].compute;
    if (!any_compute)
        return;
    int k = 0;
    for (int i = 0; i < list->n; i++) {
        if (list->v[i].compute)
            list->v[k++] = list->v[i];
        else
            hwloc_bitmap_free(list->v[i].cpuset);
    }
    list->n = k;
}

static void finish(wk_gpu_list *list)
{
    for (int i = 0; i < list->n; i++)
        list->v[i].index = i;   /* discovery order breaks ties */
    if (list->n > 1)
        qsort(list->v, (size_t)list->n, sizeof *list->v, cmp_gpu);
    for (int i = 0; i < list->n; i++)
        list->v[i].index = i;
}

sp_code wk_gpu_scan(hwloc_topology_t hw, bool opencl, wk_gpu_list *out, sp_err *err)
{
    wk_gpu_list list = { 0 }, cpus = { 0 };
    sp_code rc = scan_hwloc(hw, &list, &cpus, err);
    if (rc == SP_OK && opencl)
        rc = scan_opencl(hw, &list, &cpus, err);
    if (rc != SP_OK)
        goto fail;
    bool any_compute = false;
    for (int i = 0; i < list.n; i++)
        any_compute |= list.v[i].compute;
    if (!any_compute && cpus.n > 0) {
        /* only CPU OpenCL devices (PoCL) compute here: they stand in for GPUs */
        wk_gpu_list display = list;
        list = cpus;
        cpus = display;
    } else {
        drop_display_only(&list);
    }
    finish(&list);
    wk_gpu_list_free(&cpus);
    wk_gpu_list_free(out);
    *out = list;
    return SP_OK;
fail:
    wk_gpu_list_free(&list);
    wk_gpu_list_free(&cpus);
    return rc;
}

sp_code wk_gpu_add_synthetic(hwloc_topology_t hw, int numa, wk_gpu_list *list, sp_err *err)
{
    hwloc_obj_t node = NULL;
    for (hwloc_obj_t o = hwloc_get_next_obj_by_type(hw, HWLOC_OBJ_NUMANODE, NULL); o;
         o = hwloc_get_next_obj_by_type(hw, HWLOC_OBJ_NUMANODE, o))
        if ((int)o->os_index == numa)
            node = o;
    if (!node)
        return sp_fail(err, SP_EINVAL,
                       "synthetic topology: gpus: NUMA node %d does not exist; name NUMA nodes "
                       "by OS index (0..%d)", numa,
                       hwloc_get_nbobjs_by_type(hw, HWLOC_OBJ_NUMANODE) - 1);
    wk_gpu *g = gpu_append(list, err);
    if (!g)
        return err ? err->code : SP_ENOMEM;
    g->index = list->n - 1;
    g->cpuset = hwloc_bitmap_dup(node->cpuset);
    if (!g->cpuset)
        return sp_fail(err, SP_ENOMEM, "gpu: out of memory");
    g->numa = numa;
    g->compute = true;
    g->synthetic = true;
    snprintf(g->model, sizeof g->model, "synthetic GPU");
    snprintf(g->osdevs, sizeof g->osdevs, "gpu%d", g->index);
    return SP_OK;
}

char *wk_gpu_describe(const wk_gpu *g, char *buf, size_t len)
{
    char where[24] = "";
    if (g->has_pci)
        snprintf(where, sizeof where, "%s ", g->busid);
    const char *what = g->cpu_device ? " [OpenCL CPU device]" :
                       !g->compute   ? " [display only: no CUDA/OpenCL driver seen]" : "";
    snprintf(buf, len, "%s%s%s%s (%s)%s", where, g->vendor, g->vendor[0] ? " " : "",
             g->model[0] ? g->model : "unknown model", g->osdevs[0] ? g->osdevs : "-", what);
    return buf;
}
