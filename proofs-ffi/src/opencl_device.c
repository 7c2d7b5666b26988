/* opencl_device.c — OpenCL platforms and devices: enumeration with a global numbering,
 * the properties `sealproof devices` prints (PCI bus id from the NVIDIA, AMD or KHR
 * extension), selection from a spec or SEALPIPE_OPENCL_DEVICE, and OpenCL error names. */
#include "opencl.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CL/cl_ext.h>

/* cl_nv_device_attribute_query values the headers do not always carry */
#define NV_PCI_BUS_ID 0x4008
#define NV_PCI_SLOT_ID 0x4009
#define NV_PCI_DOMAIN_ID 0x400A
#define AMD_TOPOLOGY 0x4037
#define KHR_PCI_BUS_INFO 0x410F

#define MAX_PLATFORMS 32
#define MAX_DEVICES_PER_PLATFORM 64

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

const char *pf_cl_error_name(cl_int code)
{
    static const struct {
        cl_int code;
        const char *name;
    } names[] = {
        { 0, "CL_SUCCESS" },
        { -1, "CL_DEVICE_NOT_FOUND" },
        { -2, "CL_DEVICE_NOT_AVAILABLE" },
        { -3, "CL_COMPILER_NOT_AVAILABLE" },
        { -4, "CL_MEM_OBJECT_ALLOCATION_FAILURE" },
        { -5, "CL_OUT_OF_RESOURCES" },
        { -6, "CL_OUT_OF_HOST_MEMORY" },
        { -7, "CL_PROFILING_INFO_NOT_AVAILABLE" },
        { -8, "CL_MEM_COPY_OVERLAP" },
        { -9, "CL_IMAGE_FORMAT_MISMATCH" },
        { -10, "CL_IMAGE_FORMAT_NOT_SUPPORTED" },
        { -11, "CL_BUILD_PROGRAM_FAILURE" },
        { -12, "CL_MAP_FAILURE" },
        { -13, "CL_MISALIGNED_SUB_BUFFER_OFFSET" },
        { -14, "CL_EXEC_STATUS_ERROR_FOR_EVENTS_IN_WAIT_LIST" },
        { -15, "CL_COMPILE_PROGRAM_FAILURE" },
        { -16, "CL_LINKER_NOT_AVAILABLE" },
        { -17, "CL_LINK_PROGRAM_FAILURE" },
        { -18, "CL_DEVICE_PARTITION_FAILED" },
        { -19, "CL_KERNEL_ARG_INFO_NOT_AVAILABLE" },
        { -30, "CL_INVALID_VALUE" },
        { -31, "CL_INVALID_DEVICE_TYPE" },
        { -32, "CL_INVALID_PLATFORM" },
        { -33, "CL_INVALID_DEVICE" },
        { -34, "CL_INVALID_CONTEXT" },
        { -35, "CL_INVALID_QUEUE_PROPERTIES" },
        { -36, "CL_INVALID_COMMAND_QUEUE" },
        { -37, "CL_INVALID_HOST_PTR" },
        { -38, "CL_INVALID_MEM_OBJECT" },
        { -39, "CL_INVALID_IMAGE_FORMAT_DESCRIPTOR" },
        { -40, "CL_INVALID_IMAGE_SIZE" },
        { -41, "CL_INVALID_SAMPLER" },
        { -42, "CL_INVALID_BINARY" },
        { -43, "CL_INVALID_BUILD_OPTIONS" },
        { -44, "CL_INVALID_PROGRAM" },
        { -45, "CL_INVALID_PROGRAM_EXECUTABLE" },
        { -46, "CL_INVALID_KERNEL_NAME" },
        { -47, "CL_INVALID_KERNEL_DEFINITION" },
        { -48, "CL_INVALID_KERNEL" },
        { -49, "CL_INVALID_ARG_INDEX" },
        { -50, "CL_INVALID_ARG_VALUE" },
        { -51, "CL_INVALID_ARG_SIZE" },
        { -52, "CL_INVALID_KERNEL_ARGS" },
        { -53, "CL_INVALID_WORK_DIMENSION" },
        { -54, "CL_INVALID_WORK_GROUP_SIZE" },
        { -55, "CL_INVALID_WORK_ITEM_SIZE" },
        { -56, "CL_INVALID_GLOBAL_OFFSET" },
        { -57, "CL_INVALID_EVENT_WAIT_LIST" },
        { -58, "CL_INVALID_EVENT" },
        { -59, "CL_INVALID_OPERATION" },
        { -60, "CL_INVALID_GL_OBJECT" },
        { -61, "CL_INVALID_BUFFER_SIZE" },
        { -62, "CL_INVALID_MIP_LEVEL" },
        { -63, "CL_INVALID_GLOBAL_WORK_SIZE" },
        { -64, "CL_INVALID_PROPERTY" },
        { -65, "CL_INVALID_IMAGE_DESCRIPTOR" },
        { -66, "CL_INVALID_COMPILER_OPTIONS" },
        { -67, "CL_INVALID_LINKER_OPTIONS" },
        { -68, "CL_INVALID_DEVICE_PARTITION_COUNT" },
        { -69, "CL_INVALID_PIPE_SIZE" },
        { -70, "CL_INVALID_DEVICE_QUEUE" },
        { -71, "CL_INVALID_SPEC_ID" },
        { -72, "CL_MAX_SIZE_RESTRICTION_EXCEEDED" },
        { -1001, "CL_PLATFORM_NOT_FOUND_KHR" },
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (names[i].code == code)
            return names[i].name;
    return "unknown OpenCL error";
}

const char *pf_cl_type_name(cl_device_type type)
{
    if (type & CL_DEVICE_TYPE_GPU)
        return "GPU";
    if (type & CL_DEVICE_TYPE_CPU)
        return "CPU";
    if (type & CL_DEVICE_TYPE_ACCELERATOR)
        return "accelerator";
    if (type & CL_DEVICE_TYPE_CUSTOM)
        return "custom";
    if (type & CL_DEVICE_TYPE_DEFAULT)
        return "default";
    return "other";
}

/* ---- properties ---- */

static void info_str(cl_device_id d, cl_device_info what, char *buf, size_t len)
{
    buf[0] = 0;
    if (clGetDeviceInfo(d, what, len, buf, NULL) != CL_SUCCESS)
        buf[0] = 0;
    buf[len - 1] = 0;
    /* drivers pad some names with spaces */
    size_t n = strlen(buf);
    while (n && isspace((unsigned char)buf[n - 1]))
        buf[--n] = 0;
}

static uint64_t info_u64(cl_device_id d, cl_device_info what)
{
    cl_ulong v = 0;
    return clGetDeviceInfo(d, what, sizeof v, &v, NULL) == CL_SUCCESS ? (uint64_t)v : 0;
}

static unsigned info_uint(cl_device_id d, cl_device_info what)
{
    cl_uint v = 0;
    return clGetDeviceInfo(d, what, sizeof v, &v, NULL) == CL_SUCCESS ? (unsigned)v : 0;
}

static int has_extension(const char *extensions, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = extensions; (p = strstr(p, name)) != NULL; p += n)
        if ((p == extensions || p[-1] == ' ') && (p[n] == ' ' || p[n] == 0))
            return 1;
    return 0;
}

/* PCI address from whichever extension the driver offers (the same order hwloc uses). */
static void pci_bus_id(cl_device_id d, char *buf, size_t len)
{
    buf[0] = 0;
    size_t ext_len = 0;
    if (clGetDeviceInfo(d, CL_DEVICE_EXTENSIONS, 0, NULL, &ext_len) != CL_SUCCESS || !ext_len)
        return;
    char *ext = malloc(ext_len + 1);
    if (!ext)
        return;
    if (clGetDeviceInfo(d, CL_DEVICE_EXTENSIONS, ext_len, ext, NULL) != CL_SUCCESS) {
        free(ext);
        return;
    }
    ext[ext_len] = 0;
    unsigned dom = 0, bus = 0, dev = 0, fn = 0;
    int found = 0;
    if (has_extension(ext, "cl_khr_pci_bus_info")) {
        cl_uint v[4];
        if (clGetDeviceInfo(d, KHR_PCI_BUS_INFO, sizeof v, v, NULL) == CL_SUCCESS) {
            dom = v[0], bus = v[1], dev = v[2], fn = v[3];
            found = 1;
        }
    }
    if (!found && has_extension(ext, "cl_amd_device_attribute_query")) {
        union {
            struct { cl_uint type; cl_uint data[5]; } raw;
            struct { cl_uint type; cl_char unused[17]; cl_char bus, device, function; } pcie;
        } topo;
        if (clGetDeviceInfo(d, AMD_TOPOLOGY, sizeof topo, &topo, NULL) == CL_SUCCESS &&
            topo.raw.type == 1) {
            bus = (unsigned char)topo.pcie.bus;
            dev = (unsigned char)topo.pcie.device;
            fn = (unsigned char)topo.pcie.function;
            found = 1;
        }
    }
    if (!found && has_extension(ext, "cl_nv_device_attribute_query")) {
        cl_uint nb, ns, nd;
        if (clGetDeviceInfo(d, NV_PCI_BUS_ID, sizeof nb, &nb, NULL) == CL_SUCCESS &&
            clGetDeviceInfo(d, NV_PCI_SLOT_ID, sizeof ns, &ns, NULL) == CL_SUCCESS) {
            if (clGetDeviceInfo(d, NV_PCI_DOMAIN_ID, sizeof nd, &nd, NULL) == CL_SUCCESS)
                dom = nd;
            bus = nb & 0xff;
            dev = ns >> 3;   /* slot = device << 3 | function, as hwloc and others read it */
            fn = ns & 7;
            found = 1;
        }
    }
    free(ext);
    if (found)
        snprintf(buf, len, "%04x:%02x:%02x.%x", dom & 0xffff, bus & 0xff, dev & 0x1f, fn & 7);
}

static void fill_device(pf_cl_device *o, int index, int pi, cl_platform_id p, const char *pname,
                        cl_device_id d)
{
    memset(o, 0, sizeof *o);
    o->index = index;
    o->platform_index = pi;
    o->platform = p;
    o->id = d;
    snprintf(o->platform_name, sizeof o->platform_name, "%s", pname);
    info_str(d, CL_DEVICE_NAME, o->name, sizeof o->name);
    info_str(d, CL_DEVICE_VENDOR, o->vendor, sizeof o->vendor);
    info_str(d, CL_DEVICE_VERSION, o->version, sizeof o->version);
    info_str(d, CL_DRIVER_VERSION, o->driver, sizeof o->driver);
    cl_device_type t = 0;
    if (clGetDeviceInfo(d, CL_DEVICE_TYPE, sizeof t, &t, NULL) == CL_SUCCESS)
        o->type = t;
    o->global_mem = info_u64(d, CL_DEVICE_GLOBAL_MEM_SIZE);
    o->max_alloc = info_u64(d, CL_DEVICE_MAX_MEM_ALLOC_SIZE);
    o->max_constant = info_u64(d, CL_DEVICE_MAX_CONSTANT_BUFFER_SIZE);
    o->compute_units = info_uint(d, CL_DEVICE_MAX_COMPUTE_UNITS);
    o->little_endian = info_uint(d, CL_DEVICE_ENDIAN_LITTLE) != 0;
    o->available = info_uint(d, CL_DEVICE_AVAILABLE) && info_uint(d, CL_DEVICE_COMPILER_AVAILABLE);
    pci_bus_id(d, o->pci_bus_id, sizeof o->pci_bus_id);
}

pf_status pf_cl_devices(pf_cl_device **out, int *count, pf_error *err)
{
    *out = NULL;
    *count = 0;
    cl_platform_id plats[MAX_PLATFORMS];
    cl_uint np = 0;
    cl_int rc = clGetPlatformIDs(MAX_PLATFORMS, plats, &np);
    if (rc == CL_PLATFORM_NOT_FOUND_KHR || (rc == CL_SUCCESS && np == 0))
        return PF_OK;   /* no ICD installed: no devices, not an error */
    if (rc != CL_SUCCESS)
        return fail(err, PF_EDEVICE, "OpenCL: listing platforms failed: %s (%d)",
                    pf_cl_error_name(rc), rc);
    if (np > MAX_PLATFORMS)
        np = MAX_PLATFORMS;
    pf_cl_device *all = NULL;
    int n = 0;
    for (cl_uint pi = 0; pi < np; pi++) {
        cl_device_id devs[MAX_DEVICES_PER_PLATFORM];
        cl_uint nd = 0;
        rc = clGetDeviceIDs(plats[pi], CL_DEVICE_TYPE_ALL, MAX_DEVICES_PER_PLATFORM, devs, &nd);
        if (rc == CL_DEVICE_NOT_FOUND || nd == 0)
            continue;
        if (rc != CL_SUCCESS) {
            free(all);
            return fail(err, PF_EDEVICE, "OpenCL platform %u: listing devices failed: %s (%d)",
                        pi, pf_cl_error_name(rc), rc);
        }
        if (nd > MAX_DEVICES_PER_PLATFORM)
            nd = MAX_DEVICES_PER_PLATFORM;
        char pname[128] = "";
        if (clGetPlatformInfo(plats[pi], CL_PLATFORM_NAME, sizeof pname, pname, NULL) != CL_SUCCESS)
            pname[0] = 0;
        pname[sizeof pname - 1] = 0;
        pf_cl_device *grown = realloc(all, sizeof *all * (size_t)(n + (int)nd));
        if (!grown) {
            free(all);
            return fail(err, PF_ENOMEM, "out of memory listing OpenCL devices");
        }
        all = grown;
        for (cl_uint di = 0; di < nd; di++, n++)
            fill_device(&all[n], n, (int)pi, plats[pi], pname, devs[di]);
    }
    *out = all;
    *count = n;
    return PF_OK;
}

/* ---- selection ---- */

static int parse_index(const char *s, int *out)
{
    if (!*s)
        return 0;
    long v = 0;
    for (const char *p = s; *p; p++) {
        if (!isdigit((unsigned char)*p))
            return 0;
        v = v * 10 + (*p - '0');
        if (v > 1000000)
            return 0;
    }
    *out = (int)v;
    return 1;
}

static int contains_nocase(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    for (const char *p = hay; *p; p++)
        if (strncasecmp(p, needle, n) == 0)
            return 1;
    return n == 0;
}

/* "bb:dd.f" matches "dddd:bb:dd.f" of domain 0; full ids match exactly (case-insensitive). */
static int pci_matches(const char *id, const char *spec)
{
    if (!id[0])
        return 0;
    if (strcasecmp(id, spec) == 0)
        return 1;
    return strncmp(id, "0000:", 5) == 0 && strcasecmp(id + 5, spec) == 0;
}

static int looks_like_pci(const char *s)
{
    unsigned a, b, c, d;
    char tail;
    return sscanf(s, "%x:%x:%x.%x%c", &a, &b, &c, &d, &tail) == 4 ||
           sscanf(s, "%x:%x.%x%c", &a, &b, &c, &tail) == 3;
}

/* "P:D": platform P's device D, the form seal-worker uses for a GPU OpenCL knows. */
static int parse_platform_device(const char *s, int *plat, int *dev)
{
    const char *colon = strchr(s, ':');
    if (!colon || strchr(colon + 1, ':'))
        return 0;
    char a[16];
    size_t la = (size_t)(colon - s);
    if (la == 0 || la >= sizeof a)
        return 0;
    memcpy(a, s, la);
    a[la] = 0;
    return parse_index(a, plat) && parse_index(colon + 1, dev);
}

/* "0: NAME (TYPE), 1: ..." for messages */
static void list_names(const pf_cl_device *all, int n, char *buf, size_t len)
{
    size_t used = 0;
    buf[0] = 0;
    for (int i = 0; i < n && used < len; i++) {
        int w = snprintf(buf + used, len - used, "%s%d: %s (%s%s%s)", i ? ", " : "", all[i].index,
                         all[i].name, pf_cl_type_name(all[i].type), all[i].pci_bus_id[0] ? " " : "",
                         all[i].pci_bus_id);
        if (w < 0)
            break;
        used += (size_t)w;
    }
}

pf_status pf_cl_select(const char *spec, pf_cl_device *out, pf_error *err)
{
    const char *from = "argument";
    if (!spec || !*spec) {
        spec = getenv(PF_CL_ENV_DEVICE);
        from = PF_CL_ENV_DEVICE;
        if (!spec || !*spec) {
            spec = "0";
            from = "default";
        }
    }
    pf_cl_device *all;
    int n;
    pf_status st = pf_cl_devices(&all, &n, err);
    if (st)
        return st;
    if (n == 0)
        return fail(err, PF_EDEVICE, "no OpenCL device found (no ICD or no platform: install the "
                    "GPU driver's OpenCL ICD, or pocl-opencl-icd for a CPU device), so device "
                    "\"%s\" (%s) cannot be used; use the CPU path instead", spec, from);
    int pick = -1, idx, plat, dev;
    if (parse_index(spec, &idx)) {
        if (idx < n)
            pick = idx;
    } else if (parse_platform_device(spec, &plat, &dev)) {
        for (int i = 0, k = 0; i < n && pick < 0; i++)
            if (all[i].platform_index == plat && k++ == dev)
                pick = i;
    } else if (looks_like_pci(spec)) {
        for (int i = 0; i < n && pick < 0; i++)
            if (pci_matches(all[i].pci_bus_id, spec))
                pick = i;
    } else {
        for (int i = 0; i < n && pick < 0; i++)
            if (contains_nocase(all[i].name, spec))
                pick = i;
    }
    if (pick < 0) {
        char names[PF_ERROR_MSG_MAX];
        list_names(all, n, names, sizeof names);
        free(all);
        return fail(err, PF_EINVAL, "OpenCL device \"%s\" (%s) not found: give an index 0..%d, "
                    "PLATFORM:DEVICE, a PCI bus id or part of a name; devices: %s", spec, from, n - 1, names);
    }
    *out = all[pick];
    free(all);
    if (!out->available)
        return fail(err, PF_EDEVICE, "OpenCL device %d (%s) is not available or has no compiler",
                    out->index, out->name);
    if (!out->little_endian)
        return fail(err, PF_EDEVICE, "OpenCL device %d (%s) is big-endian; the kernels need a "
                    "little-endian device", out->index, out->name);
    return PF_OK;
}

int pf_cl_default_limbs(const pf_cl_device *dev)
{
    const char *e = getenv(PF_CL_ENV_LIMBS);
    if (e && strcmp(e, "32") == 0)
        return 32;
    if (e && strcmp(e, "64") == 0)
        return 64;
    return (dev->type & CL_DEVICE_TYPE_GPU) ? 32 : 64;
}
