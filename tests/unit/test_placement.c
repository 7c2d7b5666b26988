/* test_placement.c — topology loading, GPU discovery, processor placement and binding
 * (worker/src/topology.c, gpu.c, placement.c, bind.c).
 *
 * Topologies are real machines' hwloc XML exports from hwloc's test suite
 * (tests/vectors/topologies/README.md), synthetic descriptions, and this machine.  The
 * expected CPU numbers were read off the files with hwloc's own tools, independently of
 * this code, e.g. `hwloc-calc -i 96em64t-4n4d3ca2co-pci.xml --po -I pu core:6-9` prints
 * 1,5,9,13 and `lstopo-no-graphics -i power8gpudistances.xml` shows cuda0, opencl0d0 and
 * nvml0 under PCI 0002:01:00.0 on NUMA node 0.
 */
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include <cjson/cJSON.h>

#include "sp_fs.h"
#include "wk_bind.h"
#include "wk_config.h"
#include "wk_placement.h"
#include "wk_topology.h"

/* libconfig 1.5 leaks a token on syntax errors, and the OpenCL ICD loader and PoCL keep
 * process-lifetime allocations; neither is sealpipe's to free. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
    return "leak:strbuf_append\nleak:libOpenCL.so\nleak:libpocl.so\n";
}

/* ---- fixtures ----------------------------------------------------------------------- */

/* Every config starts with these 3 lines, so processors start on line 4. */
#define BASE                                                                         \
    "sector_manager = { url = \"http://127.0.0.1:1789\"; token = \"t\"; };\n"          \
    "sealing_thread = ( { location = \"/tmp/sealpipe-test-t1\"; } );\n"               \
    "attached = ( { name = \"s\"; location = \"/tmp/sealpipe-test-s\"; } );\n"

typedef struct fx {
    wk_config cfg;
    wk_topology t;
    wk_plan plan;
    sp_code rc;
    wk_diags cdiags;
} fx;

static const char *vectors(void)
{
    static char dir[4096];
    const char *tests = getenv("SP_TESTS");
    snprintf(dir, sizeof dir, "%s/vectors/topologies", tests && tests[0] ? tests : "tests");
    return dir;
}

static void load_topo(wk_topology *t, const char *what)
{
    wk_topo_source src = { 0 };
    char path[4200];
    if (strncmp(what, "syn:", 4) == 0) {
        src.kind = WK_TOPO_SYNTHETIC;
        src.arg = what + 4;
    } else if (strcmp(what, "live") == 0) {
        src.kind = WK_TOPO_LIVE;
    } else {
        snprintf(path, sizeof path, "%s/%s", vectors(), what);
        src.kind = WK_TOPO_XML;
        src.arg = path;
    }
    sp_err err;
    sp_code rc = wk_topology_load(t, &src, &err);
    if (rc != SP_OK)
        fail_msg("loading %s: %s", what, err.msg);
}

/* Loads BASE + procs as "test.cfg" and places it on topology `topo`. */
static void place(fx *f, const char *topo, const char *procs)
{
    memset(f, 0, sizeof *f);
    char *text = NULL;
    assert_true(asprintf(&text, BASE "%s", procs) > 0);
    sp_err err;
    sp_code rc = wk_config_load_string(text, "test.cfg", &f->cfg, &f->cdiags, &err);
    free(text);
    if (rc != SP_OK)
        fail_msg("config: %s", err.msg);
    load_topo(&f->t, topo);
    f->rc = wk_plan_build(&f->cfg, &f->t, &f->plan, &err);
}

static void fx_free(fx *f)
{
    wk_plan_free(&f->plan);
    wk_topology_free(&f->t);
    wk_config_free(&f->cfg);
    wk_diags_free(&f->cdiags);
}

static const wk_placed *placed(const fx *f, wk_stage s, int i)
{
    const wk_placed *p = wk_plan_find(&f->plan, s, i);
    if (!p)
        fail_msg("no processor %s[%d] in the plan", wk_stage_name(s), i);
    return p;
}

static void assert_cpus(const wk_placed *p, const char *want)
{
    char got[1024];
    wk_cpulist_format(p->cpuset, got, sizeof got);
    if (strcmp(got, want) != 0)
        fail_msg("%s[%d]: CPUs %s, want %s", wk_stage_name(p->proc->stage), p->proc->index, got, want);
}

static void assert_cores(const wk_placed *p, const int *want, int n)
{
    assert_int_equal(p->ncores, n);
    for (int i = 0; i < n; i++)
        assert_int_equal(p->cores[i], want[i]);
}

static bool has_msg(char **v, int n, const char *needle)
{
    for (int i = 0; i < n; i++)
        if (strstr(v[i], needle))
            return true;
    return false;
}

static void assert_warning(const fx *f, const char *needle)
{
    if (!has_msg(f->plan.diags.warnings, f->plan.diags.nwarnings, needle)) {
        for (int i = 0; i < f->plan.diags.nwarnings; i++)
            print_message("warning: %s\n", f->plan.diags.warnings[i]);
        fail_msg("no warning contains \"%s\"", needle);
    }
}

static void assert_error(const fx *f, const char *needle)
{
    if (!has_msg(f->plan.diags.errors, f->plan.diags.nerrors, needle)) {
        for (int i = 0; i < f->plan.diags.nerrors; i++)
            print_message("error: %s\n", f->plan.diags.errors[i]);
        fail_msg("no error contains \"%s\"", needle);
    }
}

static void assert_no_errors(const fx *f)
{
    for (int i = 0; i < f->plan.diags.nerrors; i++)
        print_message("error: %s\n", f->plan.diags.errors[i]);
    assert_int_equal(f->plan.diags.nerrors, 0);
    assert_int_equal(f->rc, SP_OK);
}

/* ---- CPU lists ---------------------------------------------------------------------- */

static void test_cpulist(void **state)
{
    (void)state;
    hwloc_bitmap_t s = NULL;
    sp_err err;
    char buf[128];
    assert_int_equal(wk_cpulist_parse("0-7,32-39", &s, &err), SP_OK);
    assert_string_equal(wk_cpulist_format(s, buf, sizeof buf), "0-7,32-39");
    assert_int_equal(hwloc_bitmap_weight(s), 16);
    hwloc_bitmap_free(s);
    assert_int_equal(wk_cpulist_parse(" 3, 1 - 2 ,9", &s, &err), SP_OK);
    assert_string_equal(wk_cpulist_format(s, buf, sizeof buf), "1-3,9");
    hwloc_bitmap_free(s);
    const char *bad[] = { "", "  ", "a", "1,,2", "1,", "-3", "1-", "1 2", "0x3", "99999999" };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        if (wk_cpulist_parse(bad[i], &s, &err) == SP_OK)
            fail_msg("\"%s\" parsed", bad[i]);
        assert_null(s);
    }
    assert_int_equal(wk_cpulist_parse("7-0", &s, &err), SP_EINVAL);
    assert_non_null(strstr(err.msg, "runs backwards; write it as 0-7"));
}

/* ---- topologies --------------------------------------------------------------------- */

static void test_topology_32em64t(void **state)
{
    (void)state;
    wk_topology t;
    load_topo(&t, "32em64t-2n8c2t-pci-wholeio.xml");
    assert_int_equal(t.ncores, 16);
    assert_int_equal(t.nthreads, 32);
    assert_int_equal(t.nnumas, 2);
    char buf[128];
    assert_string_equal(wk_cpulist_format(t.numas[1].cpuset, buf, sizeof buf), "8-15,24-31");
    /* core L#0 holds PUs P#0 and P#16 (lstopo) */
    assert_string_equal(wk_cpulist_format(t.cores[0].cpuset, buf, sizeof buf), "0,16");
    assert_int_equal(t.cores[0].nthreads, 2);
    /* one GPU although hwloc shows cuda0 and card0 on 84:00.0 and opencl0d1 on 84:00.1 */
    assert_int_equal(t.gpus.n, 1);
    const wk_gpu *g = &t.gpus.v[0];
    assert_string_equal(g->busid, "0000:84:00.0");
    assert_int_equal(g->vendor_id, 0x10de);
    assert_non_null(strstr(g->osdevs, "cuda0"));
    assert_non_null(strstr(g->osdevs, "opencl0d1"));
    assert_non_null(strstr(g->osdevs, "card0"));
    assert_int_equal(g->numa, 1);
    assert_int_equal(g->cuda_index, 0);
    assert_int_equal(g->opencl_platform, 0);
    assert_int_equal(g->opencl_device, 1);
    assert_string_equal(wk_cpulist_format(g->cpuset, buf, sizeof buf), "8-15,24-31");
    wk_topology_free(&t);
}

static void test_topology_cpusets(void **state)
{
    (void)state;
    wk_topology t;
    load_topo(&t, "16amd64-8n2c-cpusets.xml");
    char buf[128];
    /* allowed_cpuset 0x0000f06f, complete 0x0000ffff in the file */
    assert_string_equal(wk_cpulist_format(t.allowed, buf, sizeof buf), "0-3,5-6,12-15");
    assert_string_equal(wk_cpulist_format(t.complete, buf, sizeof buf), "0-15");
    assert_int_equal(t.ncores, 10);
    assert_int_equal(t.nthreads, 10);
    for (int i = 0; i < t.ncores; i++)
        assert_true(hwloc_bitmap_isincluded(t.cores[i].cpuset, t.allowed));
    /* allowed nodeset 0x3e: nodes 1-5; 4 and 5 have memory only */
    assert_int_equal(t.nnumas, 5);
    assert_int_equal(t.numas[0].os_index, 1);
    assert_int_equal(t.numas[0].ncores, 2);
    assert_non_null(wk_topology_numa(&t, 4));
    assert_int_equal(wk_topology_numa(&t, 4)->ncores, 0);
    assert_null(wk_topology_numa(&t, 0));
    assert_null(wk_topology_core_of_cpu(&t, 4));
    assert_int_equal(wk_topology_core_of_cpu(&t, 5)->numa, 2);
    assert_int_equal(wk_topology_core_of_cpu(&t, 0)->numa, -1);   /* package 0 has no node */
    assert_int_equal(t.gpus.n, 0);
    wk_topology_free(&t);
}

static void test_topology_power8_gpus(void **state)
{
    (void)state;
    wk_topology t;
    load_topo(&t, "power8gpudistances.xml");
    /* 4 GPUs, each seen as a CUDA, an OpenCL and an NVML device: 4, not 12 */
    assert_int_equal(t.gpus.n, 4);
    const char *bus[] = { "0002:01:00.0", "0003:01:00.0", "000a:01:00.0", "000b:01:00.0" };
    const int numa[] = { 0, 0, 1, 1 };
    for (int i = 0; i < 4; i++) {
        const wk_gpu *g = &t.gpus.v[i];
        char want[64];
        assert_int_equal(g->index, i);
        assert_string_equal(g->busid, bus[i]);
        assert_int_equal(g->numa, numa[i]);
        snprintf(want, sizeof want, "cuda%d,opencl0d%d,nvml%d", i, i, i);
        assert_string_equal(g->osdevs, want);
        assert_int_equal(g->cuda_index, i);
        assert_int_equal(g->opencl_device, i);
        assert_true(g->compute);
        assert_non_null(strstr(g->model, "Tesla P100"));
    }
    char buf[128];
    assert_string_equal(wk_cpulist_format(t.gpus.v[3].cpuset, buf, sizeof buf),
                        "80-81,88-89,96-97,104-105");
    wk_topology_free(&t);
}

static void test_topology_dgx2_gpus(void **state)
{
    (void)state;
    wk_topology t;
    load_topo(&t, "nvidiaDGX2.xml");
    assert_int_equal(t.gpus.n, 16);
    /* lstopo: nvml0-7 under package 0 (NUMA 0), nvml8-15 under package 1 (NUMA 1) */
    const char *bus[16] = { "0000:34:00.0", "0000:36:00.0", "0000:39:00.0", "0000:3b:00.0",
                            "0000:57:00.0", "0000:59:00.0", "0000:5c:00.0", "0000:5e:00.0",
                            "0000:b7:00.0", "0000:b9:00.0", "0000:bc:00.0", "0000:be:00.0",
                            "0000:e0:00.0", "0000:e2:00.0", "0000:e5:00.0", "0000:e7:00.0" };
    for (int i = 0; i < 16; i++) {
        char name[16];
        snprintf(name, sizeof name, "nvml%d", i);
        assert_string_equal(t.gpus.v[i].busid, bus[i]);
        assert_string_equal(t.gpus.v[i].osdevs, name);
        assert_int_equal(t.gpus.v[i].numa, i < 8 ? 0 : 1);
        assert_int_equal(t.gpus.v[i].cuda_index, i);
    }
    wk_topology_free(&t);
}

static void test_topology_display_only(void **state)
{
    (void)state;
    wk_topology t;
    load_topo(&t, "96em64t-4n4d3ca2co-pci.xml");
    /* the ES1000 VGA is known only as DRM card0: listed, but marked display-only */
    assert_int_equal(t.gpus.n, 1);
    assert_false(t.gpus.v[0].compute);
    assert_string_equal(t.gpus.v[0].osdevs, "card0");
    assert_int_equal(t.ndomains, 16);
    assert_string_equal(t.domains[0].kind, "L3");
    assert_int_equal(t.domains[0].ncores, 6);
    wk_topology_free(&t);
}

/* A hand-made XML (not from a real machine): a BMC's VGA known only as DRM card0, an
 * NVIDIA GPU seen as renderD128 and opencl0d0, and a PoCL-like OpenCL CPU device. */
static const char io_xml_head[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!DOCTYPE topology SYSTEM \"hwloc2.dtd\">\n"
    "<topology version=\"2.0\">\n"
    "<object type=\"Machine\" os_index=\"0\" cpuset=\"0x3\" complete_cpuset=\"0x3\" "
    "allowed_cpuset=\"0x3\" nodeset=\"0x1\" complete_nodeset=\"0x1\" allowed_nodeset=\"0x1\" gp_index=\"1\">\n"
    "<object type=\"Package\" os_index=\"0\" cpuset=\"0x3\" complete_cpuset=\"0x3\" nodeset=\"0x1\" "
    "complete_nodeset=\"0x1\" gp_index=\"2\">\n"
    "<object type=\"NUMANode\" os_index=\"0\" cpuset=\"0x3\" complete_cpuset=\"0x3\" nodeset=\"0x1\" "
    "complete_nodeset=\"0x1\" gp_index=\"3\" local_memory=\"1073741824\"/>\n"
    "<object type=\"Core\" os_index=\"0\" cpuset=\"0x1\" complete_cpuset=\"0x1\" nodeset=\"0x1\" "
    "complete_nodeset=\"0x1\" gp_index=\"4\"><object type=\"PU\" os_index=\"0\" cpuset=\"0x1\" "
    "complete_cpuset=\"0x1\" nodeset=\"0x1\" complete_nodeset=\"0x1\" gp_index=\"5\"/></object>\n"
    "<object type=\"Core\" os_index=\"1\" cpuset=\"0x2\" complete_cpuset=\"0x2\" nodeset=\"0x1\" "
    "complete_nodeset=\"0x1\" gp_index=\"6\"><object type=\"PU\" os_index=\"1\" cpuset=\"0x2\" "
    "complete_cpuset=\"0x2\" nodeset=\"0x1\" complete_nodeset=\"0x1\" gp_index=\"7\"/></object>\n"
    "<object type=\"Bridge\" gp_index=\"20\" bridge_type=\"0-1\" depth=\"0\" bridge_pci=\"0000:[00-ff]\">\n"
    "<object type=\"PCIDev\" gp_index=\"21\" pci_busid=\"0000:03:00.0\" pci_type=\"0300 [1a03:2000] [1a03:2000] 41\">\n"
    "<object type=\"OSDev\" gp_index=\"22\" name=\"card0\" osdev_type=\"1\"/></object>\n";
static const char io_xml_gpu[] =
    "<object type=\"PCIDev\" gp_index=\"23\" pci_busid=\"0000:41:00.0\" pci_type=\"0302 [10de:2330] [10de:16c1] a1\">\n"
    "<object type=\"OSDev\" gp_index=\"24\" name=\"renderD128\" osdev_type=\"1\"/>\n"
    "<object type=\"OSDev\" gp_index=\"25\" name=\"opencl0d0\" subtype=\"OpenCL\" osdev_type=\"5\">"
    "<info name=\"OpenCLDeviceType\" value=\"GPU\"/></object></object>\n";
static const char io_xml_tail[] =
    "</object>\n"
    "<object type=\"OSDev\" gp_index=\"26\" name=\"opencl1d0\" subtype=\"OpenCL\" osdev_type=\"5\">"
    "<info name=\"OpenCLDeviceType\" value=\"CPU\"/></object>\n"
    "</object>\n</object>\n</topology>\n";

static void load_io_xml(wk_topology *t, bool with_gpu)
{
    char path[] = "/tmp/sp-test-io-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    assert_non_null(f);
    fprintf(f, "%s%s%s", io_xml_head, with_gpu ? io_xml_gpu : "", io_xml_tail);
    fclose(f);
    wk_topo_source src = { .kind = WK_TOPO_XML, .arg = path };
    sp_err err;
    sp_code rc = wk_topology_load(t, &src, &err);
    unlink(path);
    if (rc != SP_OK)
        fail_msg("%s", err.msg);
}

static void test_gpu_rules(void **state)
{
    (void)state;
    wk_topology t;
    /* a compute GPU exists: the display-only VGA and the CPU device are not GPUs */
    load_io_xml(&t, true);
    assert_int_equal(t.gpus.n, 1);
    assert_string_equal(t.gpus.v[0].busid, "0000:41:00.0");
    assert_string_equal(t.gpus.v[0].osdevs, "renderD128,opencl0d0");
    assert_true(t.gpus.v[0].compute);
    wk_topology_free(&t);
    /* no compute GPU: the OpenCL CPU device stands in as GPU 0 (the development box) */
    load_io_xml(&t, false);
    assert_int_equal(t.gpus.n, 1);
    assert_true(t.gpus.v[0].cpu_device);
    assert_false(t.gpus.v[0].has_pci);
    assert_string_equal(t.gpus.v[0].osdevs, "opencl1d0");
    assert_int_equal(t.gpus.v[0].opencl_platform, 1);
    assert_int_equal(t.gpus.v[0].numa, 0);
    wk_topology_free(&t);
}

static void test_topology_synthetic(void **state)
{
    (void)state;
    wk_topology t;
    load_topo(&t, "syn:pack:2 numa:2 l3:4 core:8 pu:2 gpus:0,3,3");
    assert_int_equal(t.ncores, 128);
    assert_int_equal(t.nthreads, 256);
    assert_int_equal(t.nnumas, 4);
    assert_int_equal(t.ndomains, 16);
    assert_int_equal(t.gpus.n, 3);
    assert_int_equal(t.gpus.v[0].numa, 0);
    assert_int_equal(t.gpus.v[2].numa, 3);
    char buf[64];
    assert_string_equal(wk_cpulist_format(t.gpus.v[1].cpuset, buf, sizeof buf), "192-255");
    wk_topology_free(&t);

    wk_topo_source src = { .kind = WK_TOPO_SYNTHETIC, .arg = "pack:2 core:2 pu:1 gpus:5" };
    sp_err err;
    assert_int_not_equal(wk_topology_load(&t, &src, &err), SP_OK);
    assert_non_null(strstr(err.msg, "NUMA node 5 does not exist"));
    src.arg = "pack:2 banana:3";
    assert_int_equal(wk_topology_load(&t, &src, &err), SP_EINVAL);
    assert_non_null(strstr(err.msg, "hwloc rejects it"));
    src.arg = "pack:2 core:2 pu:1 gpus:0,x";
    assert_int_equal(wk_topology_load(&t, &src, &err), SP_EINVAL);
    assert_non_null(strstr(err.msg, "gpus:0,x"));
    src = (wk_topo_source){ .kind = WK_TOPO_XML, .arg = "/nonexistent/topo.xml" };
    assert_int_not_equal(wk_topology_load(&t, &src, &err), SP_OK);
    assert_non_null(strstr(err.msg, "/nonexistent/topo.xml"));
    wk_topology_free(&t);   /* safe on a failed load */
}

static void test_topology_live(void **state)
{
    (void)state;
    wk_topology t;
    load_topo(&t, "live");
    long online = sysconf(_SC_NPROCESSORS_ONLN);
    assert_true(t.ncores >= 1);
    assert_true(t.nthreads >= 1 && t.nthreads <= online);
    assert_int_equal(t.kind, WK_TOPO_LIVE);
    /* where PoCL is installed (the development box) it stands in as GPU 0 when no real
     * GPU exists */
    for (int i = 0; i < t.gpus.n; i++)
        if (t.gpus.v[i].cpu_device) {
            assert_int_equal(t.gpus.n, 1);
            assert_true(t.gpus.v[i].opencl_platform >= 0);
        }
    wk_topology_free(&t);
}

/* ---- placement ---------------------------------------------------------------------- */

static void test_whole_cores_smt(void **state)
{
    (void)state;
    fx f;
    place(&f, "32em64t-2n8c2t-pci-wholeio.xml",
          "processors = {\n"
          "  pc1 = ( { cores = 2; numa = 1; concurrent = 4; } );\n"
          "  c2 = ( { cores = 3; near_gpu = 0; } );\n"
          "};\n");
    assert_no_errors(&f);
    const wk_placed *p = placed(&f, WK_STAGE_PC1, 0);
    /* both hardware threads of cores L#8 and L#9: hwloc-calc core:8-9 = 8,24,9,25 */
    assert_cpus(p, "8-9,24-25");
    assert_cores(p, (int[]){ 8, 9 }, 2);
    assert_int_equal(p->numa, 1);
    assert_int_equal(p->nthreads, 4);
    assert_int_equal(p->gpu, -1);
    const wk_placed *c = placed(&f, WK_STAGE_C2, 0);
    assert_cpus(c, "10-12,26-28");
    assert_int_equal(c->gpu, 0);
    assert_int_equal(c->numa, 1);
    assert_warning(&f, "idle cores: 11 of 16 cores");
    fx_free(&f);
}

static void test_smt_split_warning(void **state)
{
    (void)state;
    fx f;
    place(&f, "32em64t-2n8c2t-pci-wholeio.xml",
          "processors = { pc2 = ( { cpuset = \"8-11\"; gpu = 0; } ); };\n");
    assert_no_errors(&f);
    assert_cpus(placed(&f, WK_STAGE_PC2, 0), "8-11");
    assert_warning(&f, "test.cfg:4: processors.pc2[0].cpuset: splits SMT siblings: CPUs 24-27");
    fx_free(&f);
}

static void test_remote_gpu_warning(void **state)
{
    (void)state;
    fx f;
    place(&f, "32em64t-2n8c2t-pci-wholeio.xml",
          "processors = { pc2 = ( { cores = 2; numa = 0; gpu = 0; } ); };\n");
    assert_no_errors(&f);
    assert_cpus(placed(&f, WK_STAGE_PC2, 0), "0-1,16-17");
    assert_warning(&f, "processors.pc2[0].gpu: GPU 0 sits on NUMA node 1 but CPUs 0-1,16-17");
    fx_free(&f);
}

static void test_l3_local(void **state)
{
    (void)state;
    fx f;
    place(&f, "96em64t-4n4d3ca2co-pci.xml",
          "processors = {\n"
          "  pc1 = ( { cores = 4; }, { cores = 4; }, { cores = 2; },\n"
          "          { cores = 16; numa = 1; } );\n"
          "};\n");
    assert_no_errors(&f);
    /* L3 caches hold 6 cores: 4 in L3 L#0 ... */
    const wk_placed *p0 = placed(&f, WK_STAGE_PC1, 0);
    assert_cores(p0, (int[]){ 0, 1, 2, 3 }, 4);
    assert_cpus(p0, "0,4,8,12");
    assert_int_equal(p0->numa, 0);
    /* ... the next 4 do not fit the 2 left there, so a fresh L3 (L#1) */
    const wk_placed *p1 = placed(&f, WK_STAGE_PC1, 1);
    assert_cores(p1, (int[]){ 6, 7, 8, 9 }, 4);
    assert_cpus(p1, "1,5,9,13");
    /* ... and 2 fill L3 L#0 before touching another (hwloc-calc core:4-5 = 16,20) */
    const wk_placed *p2 = placed(&f, WK_STAGE_PC1, 2);
    assert_cores(p2, (int[]){ 4, 5 }, 2);
    assert_cpus(p2, "16,20");
    /* 16 cores on node 1 fit no L3: two whole L3 caches, then 4 from a third */
    const wk_placed *p3 = placed(&f, WK_STAGE_PC1, 3);
    int want[16];
    for (int i = 0; i < 16; i++)
        want[i] = 24 + i;
    assert_cores(p3, want, 16);
    assert_cpus(p3, "24-26,28-30,32-34,36-38,40-41,44-45");
    assert_int_equal(p3->numa, 1);
    assert_warning(&f, "processors.pc1[3].cores: its cores are spread unevenly over 3 caches "
                       "(L3 L#4: 6, L3 L#5: 6, L3 L#6: 4)");
    fx_free(&f);
}

static void test_disallowed_never_used(void **state)
{
    (void)state;
    fx f;
    /* everything the machine allows, and nothing else */
    place(&f, "16amd64-8n2c-cpusets.xml", "processors = { pc1 = ( { cores = 10; } ); };\n");
    assert_no_errors(&f);
    assert_cpus(placed(&f, WK_STAGE_PC1, 0), "0-3,5-6,12-15");
    assert_int_equal(placed(&f, WK_STAGE_PC1, 0)->numa, -1);   /* spans nodes: memory not bound */
    fx_free(&f);

    place(&f, "16amd64-8n2c-cpusets.xml", "processors = { pc1 = ( { cores = 11; } ); };\n");
    assert_int_equal(f.rc, SP_ECONFIG);
    assert_error(&f, "test.cfg:4: processors.pc1[0].cores: 11 cores wanted on this machine, which has only 10");
    fx_free(&f);

    place(&f, "16amd64-8n2c-cpusets.xml",
          "processors = {\n"
          "  pc2 = ( { cpuset = \"3-4\"; } );\n"
          "  c2 = ( { cpuset = \"17\"; } );\n"
          "};\n");
    assert_error(&f, "test.cfg:5: processors.pc2[0].cpuset: CPU 4 is offline or outside this "
                     "process's allowed cpuset");
    assert_error(&f, "test.cfg:6: processors.c2[0].cpuset: CPU 17 does not exist");
    assert_int_equal(f.plan.diags.nerrors, 2);
    assert_cpus(placed(&f, WK_STAGE_PC2, 0), "3");   /* CPU 4 never enters the plan */
    fx_free(&f);

    /* NUMA: a node with CPUs, a memory-only node, a node that does not exist */
    place(&f, "16amd64-8n2c-cpusets.xml",
          "processors = {\n"
          "  pc1 = ( { cores = 2; numa = 1; }, { cores = 1; numa = 4; }, { cores = 1; numa = 0; } );\n"
          "};\n");
    assert_cpus(placed(&f, WK_STAGE_PC1, 0), "2-3");
    assert_int_equal(placed(&f, WK_STAGE_PC1, 0)->numa, 1);
    assert_error(&f, "test.cfg:5: processors.pc1[1].numa: NUMA node 4 has memory but no CPUs");
    assert_error(&f, "processors.pc1[2].numa: NUMA node 0 does not exist on file");
    fx_free(&f);

    /* unscoped requests stay inside one NUMA node when one has room */
    place(&f, "16amd64-8n2c-cpusets.xml", "processors = { pc1 = ( { cores = 2; } ); };\n");
    assert_cpus(placed(&f, WK_STAGE_PC1, 0), "2-3");
    assert_int_equal(placed(&f, WK_STAGE_PC1, 0)->numa, 1);
    fx_free(&f);
}

static void test_many_numa_nodes(void **state)
{
    (void)state;
    fx f;
    place(&f, "192em64t-24n8c2t.xml",
          "processors = { pc1 = ( { cores = 8; numa = 23; }, { cores = 4; numa = 23; } ); };\n");
    /* hwloc-calc node:23 = 184-191,376-383 */
    assert_cpus(placed(&f, WK_STAGE_PC1, 0), "184-191,376-383");
    assert_error(&f, "processors.pc1[1].cores: 4 cores wanted on NUMA node 23, which has 8 but "
                     "only 0 free (the others are taken by processors.pc1[0])");
    fx_free(&f);
}

static void test_gpu_locality_power8(void **state)
{
    (void)state;
    fx f;
    place(&f, "power8gpudistances.xml",
          "processors = {\n"
          "  pc2 = ( { cores = 2; near_gpu = 2; }, { cores = 2; near_gpu = 3; } );\n"
          "  c2 = ( { cores = 1; near_gpu = 0; } );\n"
          "};\n");
    assert_no_errors(&f);
    /* GPUs 2 and 3 are on NUMA node 1: cores L#4-7, CPUs 80-81,88-89,96-97,104-105 */
    assert_cpus(placed(&f, WK_STAGE_PC2, 0), "80-81,88-89");
    assert_int_equal(placed(&f, WK_STAGE_PC2, 0)->gpu, 2);
    assert_int_equal(placed(&f, WK_STAGE_PC2, 0)->numa, 1);
    assert_cpus(placed(&f, WK_STAGE_PC2, 1), "96-97,104-105");
    assert_cpus(placed(&f, WK_STAGE_C2, 0), "0-1");
    assert_int_equal(placed(&f, WK_STAGE_C2, 0)->numa, 0);
    assert_warning(&f, "idle GPU: GPU 1 (0003:01:00.0");
    fx_free(&f);
}

static void test_gpu_locality_dgx2(void **state)
{
    (void)state;
    fx f;
    place(&f, "nvidiaDGX2.xml",
          "processors = {\n"
          "  pc2 = ( { cores = 1; near_gpu = 9; }, { cores = 1; near_gpu = 15; },\n"
          "          { cores = 1; near_gpu = 7; } );\n"
          "  c2 = ( { cores = 1; near_gpu = 8; } );\n"
          "};\n");
    /* 8-15 on NUMA node 1, whose only cores are L#2 (CPU 24) and L#3 (CPU 25) */
    assert_cpus(placed(&f, WK_STAGE_PC2, 0), "24");
    assert_cpus(placed(&f, WK_STAGE_PC2, 1), "25");
    assert_cpus(placed(&f, WK_STAGE_PC2, 2), "0");
    assert_int_equal(placed(&f, WK_STAGE_PC2, 2)->numa, 0);
    assert_error(&f, "test.cfg:7: processors.c2[0].cores: 1 core wanted close to GPU 8 (NUMA node 1), "
                     "which has 2 but only 0 free (the others are taken by processors.pc2[0], "
                     "processors.pc2[1])");
    fx_free(&f);
}

static void test_overlap_and_share(void **state)
{
    (void)state;
    fx f;
    /* CPU 16 is core L#0's second thread: sharing a core, not just a CPU */
    place(&f, "32em64t-2n8c2t-pci-wholeio.xml",
          "processors = {\n"
          "  pc2 = ( { cpuset = \"0-1\"; } );\n"
          "  c2 = ( { cpuset = \"16\"; } );\n"
          "  pc1 = ( { cores = 14; } );\n"
          "};\n");
    assert_int_equal(f.rc, SP_ECONFIG);
    assert_error(&f, "test.cfg:6: processors.c2[0].cpuset: cores L#0 (CPUs 0,16) are also used by "
                     "processors.pc2[0] (test.cfg:5); give each processor its own cores, or set "
                     "share = true");
    /* explicit cpusets go first: the 14 cores skip both */
    assert_cpus(placed(&f, WK_STAGE_PC1, 0), "2-15,18-31");
    fx_free(&f);

    place(&f, "32em64t-2n8c2t-pci-wholeio.xml",
          "processors = {\n"
          "  ext_locks = { gpu0 = 1; };\n"
          "  pc2 = ( { cpuset = \"8-9,24-25\"; gpu = 0; locks = [ \"gpu0\" ]; } );\n"
          "  c2 = ( { cpuset = \"8-9,24-25\"; gpu = 0; locks = [ \"gpu0\" ]; share = true; } );\n"
          "};\n");
    assert_no_errors(&f);
    assert_cpus(placed(&f, WK_STAGE_C2, 0), "8-9,24-25");
    fx_free(&f);
}

static void test_concurrency_and_gpu_errors(void **state)
{
    (void)state;
    fx f;
    place(&f, "32em64t-2n8c2t-pci-wholeio.xml",
          "processors = {\n"
          "  pc1 = ( { cores = 2; concurrent = 5; } );\n"
          "  pc2 = ( { cores = 1; gpu = 1; } );\n"
          "  c2 = ( { cores = 1; near_gpu = 3; } );\n"
          "};\n");
    assert_int_equal(f.rc, SP_ECONFIG);
    assert_error(&f, "test.cfg:5: processors.pc1[0].concurrent: concurrent = 5 but the processor "
                     "has only 4 hardware threads");
    assert_error(&f, "test.cfg:6: processors.pc2[0].gpu: GPU 1 does not exist: file ");
    assert_error(&f, "has 1 GPU, number 0");
    assert_error(&f, "test.cfg:7: processors.c2[0].near_gpu: GPU 3 does not exist");
    assert_int_equal(f.plan.diags.nerrors, 3);
    fx_free(&f);

    place(&f, "192em64t-24n8c2t.xml", "processors = { c2 = ( { cores = 1; gpu = 0; } ); };\n");
    assert_error(&f, "processors.c2[0].gpu: GPU 0 does not exist: no GPU was found on file");
    fx_free(&f);
}

static void test_hardware_classes(void **state)
{
    (void)state;
    char path[4200];
    const char *root = getenv("SP_ROOT");
    struct {
        const char *cfg, *topo;
        int nprocs;
    } cases[] = {
        { "config/hw/dual-64c-2gpu.cfg", "syn:pack:2 numa:1 l3:4 core:8 pu:2 gpus:0,1", 10 },
        { "config/hw/single-32c-1gpu.cfg", "syn:pack:1 numa:1 l3:4 core:8 pu:2 gpus:0", 7 },
        { "config/hw/dev-2c.cfg", "syn:pack:1 numa:1 l3:1 core:2 pu:1 gpus:0", 3 },
        { "config/worker.cfg", "syn:pack:1 core:1 pu:1", 0 },
    };
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        fx f;
        memset(&f, 0, sizeof f);
        snprintf(path, sizeof path, "%s/%s", root && root[0] ? root : ".", cases[c].cfg);
        sp_err err;
        if (wk_config_load(path, &f.cfg, &f.cdiags, &err) != SP_OK)
            fail_msg("%s: %s", path, err.msg);
        load_topo(&f.t, cases[c].topo);
        f.rc = wk_plan_build(&f.cfg, &f.t, &f.plan, &err);
        assert_no_errors(&f);
        assert_int_equal(f.plan.nprocs, cases[c].nprocs);
        if (c == 0) {
            /* NUMA-local: PC1 per socket on whole L3 caches, each GPU's stages beside it */
            assert_cpus(placed(&f, WK_STAGE_PC1, 0), "0-47");
            assert_int_equal(placed(&f, WK_STAGE_PC1, 0)->numa, 0);
            assert_cpus(placed(&f, WK_STAGE_PC1, 1), "64-111");
            assert_int_equal(placed(&f, WK_STAGE_PC1, 1)->numa, 1);
            for (int g = 0; g < 2; g++) {
                assert_int_equal(placed(&f, WK_STAGE_PC2, g)->gpu, g);
                assert_int_equal(placed(&f, WK_STAGE_PC2, g)->numa, g);
                assert_int_equal(placed(&f, WK_STAGE_C2, g)->gpu, g);
                assert_int_equal(placed(&f, WK_STAGE_C2, g)->numa, g);
            }
            assert_int_equal(f.plan.diags.nwarnings, 0);
        }
        fx_free(&f);
    }
}

/* ---- binding ------------------------------------------------------------------------ */

/* In a child: binds itself to one CPU (CPU 0, or the first this process may use) and
 * NUMA node, then compares with what the kernel says through sched_getaffinity and
 * /proc/self/status.  Exit status: 0 fine, else which step failed. */
static int child_bind_one_cpu(void)
{
    wk_topology t;
    wk_topo_source src = { .kind = WK_TOPO_LIVE, .no_gpus = true };
    sp_err err;
    if (wk_topology_load(&t, &src, &err) != SP_OK)
        return 10;
    int cpu = hwloc_bitmap_first(t.allowed);
    const wk_core *core = wk_topology_core_of_cpu(&t, cpu);
    hwloc_bitmap_t one = hwloc_bitmap_alloc();
    hwloc_bitmap_only(one, (unsigned)cpu);
    wk_bind_report rep;
    char want[32], line[512];
    snprintf(want, sizeof want, "%d", cpu);
    int rc = 0;
    if (!core) {
        rc = 15;
    } else if (wk_bind_self(&t, one, core->numa, false, &rep, &err) != SP_OK) {
        fprintf(stderr, "bind: %s\n", err.msg);
        rc = 11;
    } else if (strcmp(rep.cpus, want) != 0) {
        rc = 12;
    } else {
        cpu_set_t mask;
        if (sched_getaffinity(0, sizeof mask, &mask) != 0 || CPU_COUNT(&mask) != 1 || !CPU_ISSET(cpu, &mask))
            rc = 13;
        char *status = NULL, expect[64];
        size_t len;
        snprintf(expect, sizeof expect, "Cpus_allowed_list:\t%d\n", cpu);
        if (rc == 0 && (sp_read_file("/proc/self/status", 1 << 20, &status, &len, NULL) != SP_OK ||
                        !strstr(status, expect)))
            rc = 14;
        free(status);
        fprintf(stderr, "child: %s\n", wk_bind_describe(&rep, line, sizeof line));
    }
    hwloc_bitmap_free(one);
    wk_topology_free(&t);
    return rc;
}

static void test_bind_child_to_cpu0(void **state)
{
    (void)state;
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0)
        _exit(child_bind_one_cpu());
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

static void test_bind_errors(void **state)
{
    (void)state;
    wk_topology t;
    wk_bind_report rep;
    sp_err err;
    hwloc_bitmap_t set = hwloc_bitmap_alloc();
    /* an XML topology cannot bind this process */
    load_topo(&t, "power8gpudistances.xml");
    hwloc_bitmap_only(set, 0);
    assert_int_equal(wk_bind_self(&t, set, -1, false, &rep, &err), SP_EINVAL);
    assert_non_null(strstr(err.msg, "needs the live topology"));
    wk_topology_free(&t);
    /* an empty set, in this process: refused before anything changes */
    wk_topo_source src = { .kind = WK_TOPO_LIVE, .no_gpus = true };
    assert_int_equal(wk_topology_load(&t, &src, &err), SP_OK);
    hwloc_bitmap_zero(set);
    assert_int_equal(wk_bind_self(&t, set, -1, false, &rep, &err), SP_EINVAL);
    wk_topology_free(&t);
    hwloc_bitmap_free(set);
}

static void test_gpu_env(void **state)
{
    (void)state;
    char base[] = "/tmp/sp-test-gpuenv-XXXXXX";
    assert_non_null(mkdtemp(base));
    wk_topology t;
    wk_env env;
    sp_err err;
    char want[128];

    load_topo(&t, "power8gpudistances.xml");
    assert_int_equal(wk_bind_gpu_env(&t.gpus, 2, base, &env, &err), SP_OK);
    assert_string_equal(wk_env_get(&env, "SEALPIPE_GPU"), "2");
    assert_string_equal(wk_env_get(&env, "SEALPIPE_OPENCL_DEVICE"), "0:2");   /* opencl0d2 */
    assert_string_equal(wk_env_get(&env, "CUDA_VISIBLE_DEVICES"), "2");
    assert_string_equal(wk_env_get(&env, "CUDA_DEVICE_ORDER"), "PCI_BUS_ID");
    assert_string_equal(wk_env_get(&env, "GPU_DEVICE_ORDINAL"), "2");
    snprintf(want, sizeof want, "%s/sealpipe-gpu2", base);
    assert_string_equal(wk_env_get(&env, "TMPDIR"), want);
    assert_true(sp_is_dir(want));
    wk_env_free(&env);
    assert_int_equal(wk_bind_gpu_env(&t.gpus, 4, base, &env, &err), SP_ENOTFOUND);
    wk_topology_free(&t);

    /* NVML only: the PCI address names the device for OpenCL */
    load_topo(&t, "nvidiaDGX2.xml");
    assert_int_equal(wk_bind_gpu_env(&t.gpus, 9, base, &env, &err), SP_OK);
    assert_string_equal(wk_env_get(&env, "SEALPIPE_OPENCL_DEVICE"), "0000:b9:00.0");
    assert_string_equal(wk_env_get(&env, "CUDA_VISIBLE_DEVICES"), "9");
    assert_int_equal(wk_env_apply(&env, &err), SP_OK);
    assert_string_equal(getenv("CUDA_VISIBLE_DEVICES"), "9");
    unsetenv("CUDA_VISIBLE_DEVICES");
    unsetenv("CUDA_DEVICE_ORDER");
    unsetenv("SEALPIPE_GPU");
    unsetenv("SEALPIPE_OPENCL_DEVICE");
    unsetenv("GPU_DEVICE_ORDINAL");
    wk_env_free(&env);
    wk_topology_free(&t);

    /* a non-NVIDIA device gets no CUDA variables */
    load_topo(&t, "syn:pack:1 numa:1 core:2 pu:1 gpus:0");
    assert_int_equal(wk_bind_gpu_env(&t.gpus, 0, base, &env, &err), SP_OK);
    assert_null(wk_env_get(&env, "CUDA_VISIBLE_DEVICES"));
    assert_string_equal(wk_env_get(&env, "GPU_DEVICE_ORDINAL"), "0");
    wk_env_free(&env);
    wk_topology_free(&t);
    sp_remove_tree(base, NULL);
}

static void test_plan_json(void **state)
{
    (void)state;
    fx f;
    place(&f, "32em64t-2n8c2t-pci-wholeio.xml",
          "processors = { pc2 = ( { cores = 2; near_gpu = 0; concurrent = 2; } ); };\n");
    char *json = NULL;
    sp_err err;
    assert_int_equal(wk_plan_json(&f.plan, &f.t, &json, &err), SP_OK);
    cJSON *root = cJSON_Parse(json);
    assert_non_null(root);
    cJSON *p = cJSON_GetArrayItem(cJSON_GetObjectItem(root, "processors"), 0);
    assert_string_equal(cJSON_GetObjectItem(p, "stage")->valuestring, "pc2");
    assert_int_equal(cJSON_GetObjectItem(p, "index")->valueint, 0);
    assert_string_equal(cJSON_GetObjectItem(p, "cpuset")->valuestring, "8-9,24-25");
    cJSON *cores = cJSON_GetObjectItem(p, "cores");
    assert_int_equal(cJSON_GetArraySize(cores), 2);
    assert_int_equal(cJSON_GetArrayItem(cores, 1)->valueint, 9);
    assert_int_equal(cJSON_GetObjectItem(p, "numa")->valueint, 1);
    assert_int_equal(cJSON_GetObjectItem(p, "gpu")->valueint, 0);
    assert_string_equal(cJSON_GetObjectItem(p, "gpu_pci")->valuestring, "0000:84:00.0");
    assert_int_equal(cJSON_GetObjectItem(p, "concurrent")->valueint, 2);
    assert_true(cJSON_IsArray(cJSON_GetObjectItem(root, "warnings")));
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(root, "errors")), 0);
    cJSON_Delete(root);
    free(json);
    fx_free(&f);
}

/* ---- the CPUs of a slot ---------------------------------------------------------------- */

static void assert_slot(const int *got, int n, const int *want, int wn)
{
    assert_int_equal(n, wn);
    for (int i = 0; i < n; i++)
        if (got[i] != want[i])
            fail_msg("cpu %d of the slot: %d, expected %d", i, got[i], want[i]);
}

/* A processor on 8 cores with 2 threads each (CPU i and i+16 are one core): its slots get
 * whole cores, never siblings of another slot's cores, one CPU per core listed first.  The
 * numeric split this replaced gave slot 1 the siblings of slot 0's cores (16..23). */
static void test_slot_cpus(void **state)
{
    (void)state;
    wk_topology t;
    load_topo(&t, "32em64t-2n8c2t-pci-wholeio.xml");
    int cpus[16], out[32], n = 0;
    for (int i = 0; i < 8; i++)
        cpus[n++] = i;
    for (int i = 16; i < 24; i++)
        cpus[n++] = i;
    static const int s0[] = { 0, 1, 2, 3, 16, 17, 18, 19 }, s1[] = { 4, 5, 6, 7, 20, 21, 22, 23 };
    assert_slot(out, wk_slot_cpus(&t, cpus, n, 0, 2, out, 32), s0, 8);
    assert_slot(out, wk_slot_cpus(&t, cpus, n, 1, 2, out, 32), s1, 8);
    /* one slot: every core's first thread, then the siblings */
    static const int all[] = { 0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23 };
    assert_slot(out, wk_slot_cpus(&t, cpus, n, 0, 1, out, 32), all, 16);
    /* 3 slots of 8 cores: 2 cores each, the last two cores unused */
    static const int s2[] = { 4, 5, 20, 21 };
    assert_slot(out, wk_slot_cpus(&t, cpus, n, 2, 3, out, 32), s2, 4);
    /* the list's order does not matter; max bounds the answer */
    int rev[16];
    for (int i = 0; i < n; i++)
        rev[i] = cpus[n - 1 - i];
    assert_slot(out, wk_slot_cpus(&t, rev, n, 0, 2, out, 3), s0, 3);
    /* more slots than cores: one core each while they last, then the first again */
    static const int c0[] = { 0, 16 }, one[] = { 1 }, zero[] = { 0 };
    assert_slot(out, wk_slot_cpus(&t, cpus, 2, 1, 4, out, 32), one, 1);
    assert_slot(out, wk_slot_cpus(&t, cpus, 2, 3, 4, out, 32), zero, 1);
    int pair[] = { 0, 16 };
    assert_slot(out, wk_slot_cpus(&t, pair, 2, 0, 1, out, 32), c0, 2);
    /* a CPU the topology does not know is a core of its own, after the known ones */
    int odd[] = { 200, 16, 0 };
    static const int o0[] = { 0, 200, 16 };
    assert_slot(out, wk_slot_cpus(&t, odd, 3, 0, 1, out, 32), o0, 3);
    wk_topology_free(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cpulist),
        cmocka_unit_test(test_topology_32em64t),
        cmocka_unit_test(test_topology_cpusets),
        cmocka_unit_test(test_topology_power8_gpus),
        cmocka_unit_test(test_topology_dgx2_gpus),
        cmocka_unit_test(test_topology_display_only),
        cmocka_unit_test(test_gpu_rules),
        cmocka_unit_test(test_topology_synthetic),
        cmocka_unit_test(test_topology_live),
        cmocka_unit_test(test_whole_cores_smt),
        cmocka_unit_test(test_smt_split_warning),
        cmocka_unit_test(test_remote_gpu_warning),
        cmocka_unit_test(test_l3_local),
        cmocka_unit_test(test_disallowed_never_used),
        cmocka_unit_test(test_many_numa_nodes),
        cmocka_unit_test(test_gpu_locality_power8),
        cmocka_unit_test(test_gpu_locality_dgx2),
        cmocka_unit_test(test_overlap_and_share),
        cmocka_unit_test(test_concurrency_and_gpu_errors),
        cmocka_unit_test(test_hardware_classes),
        cmocka_unit_test(test_bind_child_to_cpu0),
        cmocka_unit_test(test_bind_errors),
        cmocka_unit_test(test_gpu_env),
        cmocka_unit_test(test_plan_json),
        cmocka_unit_test(test_slot_cpus),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
