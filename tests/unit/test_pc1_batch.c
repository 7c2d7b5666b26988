/* test_pc1_batch.c — batched PC1 (pf_pc1_batch, issue 11): the multi-buffer SHA-NI node
 * kernel against the portable one for 1-8 lanes; batches of 2, 3, 4 and 9 sectors (2KiB)
 * and of 2 and 4 (8MiB) give, for every sector, layer files and outputs identical to
 * single-sector pf_pc1; one sector cancelled mid-batch stops alone and resumes with
 * pf_pc1; sectors with different complete layers resume together without their complete
 * layers being rewritten; a sector with a bad directory fails alone. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <fcntl.h>
#include <dirent.h>
#include <sched.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <unistd.h>

#include "label.h"
#include "sealproofs.h"
#include "sha256.h"
#include "sha256_mb.h"
#include "sp_fs.h"

#define P2K 5  /* StackedDrg2KiBV1_1 */
#define P8M 6  /* StackedDrg8MiBV1_1 */

typedef struct fixture {
    char root[64];
    char pcache[128];
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    snprintf(f->root, sizeof f->root, "/tmp/test_pc1_batch.XXXXXX");
    if (!mkdtemp(f->root))
        return -1;
    snprintf(f->pcache, sizeof f->pcache, "%s/parents", f->root);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    sp_remove_tree(f->root, NULL);
    free(f);
    return 0;
}

/* Sector i of a test: its own sector id, prover and ticket. */
static void sector_inputs(pf_pc1_batch_sector *s, const char *dir, int i)
{
    memset(s, 0, sizeof *s);
    s->cache_dir = dir;
    s->sector_id = 100 + (uint64_t)i;
    s->prover_id[0] = 0xe8;
    s->prover_id[1] = 0x07;
    for (int k = 0; k < 32; k++) {
        s->ticket[k] = (uint8_t)(31 * i + k);
        s->comm_d[k] = (uint8_t)(7 * i + 3 * k);
    }
    s->comm_d[31] &= 0x3f;
}

static void dir_of(fixture *f, char *buf, size_t len, const char *what, int i)
{
    snprintf(buf, len, "%s/%s-%d", f->root, what, i);
}

static uint8_t *read_file(const char *path, size_t *len)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return NULL;
    struct stat sb;
    fstat(fd, &sb);
    uint8_t *b = malloc((size_t)sb.st_size + 1);
    size_t at = 0;
    while (at < (size_t)sb.st_size) {
        ssize_t r = read(fd, b + at, (size_t)sb.st_size - at);
        if (r <= 0)
            break;
        at += (size_t)r;
    }
    close(fd);
    *len = at;
    return b;
}

/* Single-sector pf_pc1 of sector i into ref-<i> (once per program run). */
static void reference(fixture *f, int proof, int i, pf_pc1_output *out)
{
    char dir[256];
    dir_of(f, dir, sizeof dir, proof == P2K ? "ref2k" : "ref8m", i);
    pf_pc1_batch_sector s;
    sector_inputs(&s, dir, i);
    pf_error err;
    if (pf_pc1(proof, dir, s.sector_id, s.prover_id, s.ticket, s.comm_d, f->pcache, NULL, out,
               &err) != PF_OK)
        fail_msg("reference pc1: %s", err.msg);
}

/* Every layer of sector i in dir equals the reference's, byte for byte. */
static void assert_same_layers(fixture *f, int proof, int i, const char *dir)
{
    char ref[256], a[4096], b[4096];
    dir_of(f, ref, sizeof ref, proof == P2K ? "ref2k" : "ref8m", i);
    const pf_seal_proof_info *info = pf_seal_proof(proof);
    for (int l = 1; l <= info->layers; l++) {
        pf_layer_path(dir, l, a, sizeof a);
        pf_layer_path(ref, l, b, sizeof b);
        size_t la = 0, lb = 0;
        uint8_t *x = read_file(a, &la), *y = read_file(b, &lb);
        assert_non_null(x);
        assert_non_null(y);
        assert_int_equal(la, info->sector_size);
        assert_int_equal(la, lb);
        if (memcmp(x, y, la) != 0)
            fail_msg("sector %d layer %d differs from single-sector PC1", i, l);
        free(x);
        free(y);
        char tmp[4200];
        snprintf(tmp, sizeof tmp, "%s.tmp", a);
        assert_int_not_equal(access(tmp, F_OK), 0);
    }
}

/* Sector i of a batch (in dir) ended as pf_pc1 ends it: PF_OK, the same output, the same
 * layers. */
static void assert_like_pc1(fixture *f, int proof, int i, const pf_pc1_batch_sector *s,
                            const char *dir)
{
    pf_pc1_output ref;
    reference(f, proof, i, &ref);
    assert_int_equal(s->status, PF_OK);
    assert_memory_equal(&s->out, &ref, sizeof ref);
    assert_same_layers(f, proof, i, dir);
}

/* progress from several hashing cores: one event at a time, every group seen */
typedef struct events {
    int inside;             /* set while a call runs: a second call at once would see it */
    int overlapped;
    int calls;
    unsigned groups_seen;   /* bit g: an event of group g */
} events;

static void count_event(void *ctx, const pf_progress_event *ev)
{
    events *e = ctx;
    if (__atomic_exchange_n(&e->inside, 1, __ATOMIC_ACQ_REL))
        e->overlapped = 1;
    e->calls++;
    if (ev->group >= 0 && ev->group < 32)
        e->groups_seen |= 1u << ev->group;
    usleep(2000);           /* widen the window a concurrent call would fall into */
    __atomic_store_n(&e->inside, 0, __ATOMIC_RELEASE);
}

static void run_batch_opts(fixture *f, int proof, int n, const char *tag,
                           const pf_sdr_options *opts)
{
    pf_pc1_batch_sector *s = calloc((size_t)n, sizeof *s);
    char (*dirs)[256] = calloc((size_t)n, sizeof *dirs);
    for (int i = 0; i < n; i++) {
        dir_of(f, dirs[i], sizeof dirs[i], tag, i);
        sector_inputs(&s[i], dirs[i], i);
    }
    pf_error err;
    if (pf_pc1_batch(proof, s, n, f->pcache, opts, &err) != PF_OK)
        fail_msg("pc1 batch of %d: %s", n, err.msg);
    for (int i = 0; i < n; i++) {
        assert_like_pc1(f, proof, i, &s[i], dirs[i]);
        sp_remove_tree(dirs[i], NULL);
    }
    free(dirs);
    free(s);
}

static void run_batch(fixture *f, int proof, int n, const char *tag)
{
    run_batch_opts(f, proof, n, tag, NULL);
}

/* ---- the kernel ---------------------------------------------------------------------- */

/* Every lane count of one build of the kernel against the portable labeler and the
 * single-chain SHA-NI labeler. */
static void check_kernel(pf_mb_isa isa)
{
    enum { ROWS = 14 };
    uint8_t data[ROWS][PF_MB_MAX_LANES * 32];
    for (int r = 0; r < ROWS; r++)
        for (int b = 0; b < PF_MB_MAX_LANES * 32; b++)
            data[r][b] = (uint8_t)(r * 131 + b * 7 + 1);
    const uint8_t *rows[ROWS];
    for (int r = 0; r < ROWS; r++)
        rows[r] = data[(r * 5) % ROWS];   /* repeated rows, as parents repeat */
    for (int lanes = 1; lanes <= PF_MB_MAX_LANES; lanes++) {
        uint32_t st[PF_MB_MAX_LANES][8], off[PF_MB_MAX_LANES];
        uint8_t blocks[PF_MB_MAX_LANES][64];
        for (int l = 0; l < lanes; l++) {
            off[l] = (uint32_t)(32 * ((l + 3) % lanes));   /* lanes in any order */
            for (int b = 0; b < 64; b++)
                blocks[l][b] = (uint8_t)(l * 17 + b);
        }
        /* prefix compressions */
        uint32_t ref[PF_MB_MAX_LANES][8];
        pf_mb_compress_iv_ni(isa, (size_t)lanes, (const uint8_t(*)[64])blocks, st);
        for (int l = 0; l < lanes; l++) {
            memcpy(ref[l], pf_sha256_iv, 32);
            pf_sha256_compress_portable(ref[l], blocks[l], 1);
            assert_memory_equal(st[l], ref[l], 32);
        }
        for (int np = PF_BASE_DEGREE; np <= PF_DEGREE; np += PF_DEGREE - PF_BASE_DEGREE) {
            uint8_t a[PF_MB_MAX_LANES * 32], b[PF_MB_MAX_LANES * 32];
            memset(a, 0xaa, sizeof a);
            memset(b, 0xaa, sizeof b);
            pf_mb_label_node_ni(isa, lanes, (const uint32_t(*)[8])st, rows, np, off, a);
            pf_mb_label_node_portable(lanes, (const uint32_t(*)[8])st, rows, np, off, b);
            assert_memory_equal(a, b, sizeof a);
            /* and lane by lane with the single-chain SHA-NI labeler */
            for (int l = 0; l < lanes; l++) {
                const uint8_t *p[PF_DEGREE];
                uint8_t one[32];
                for (int k = 0; k < np; k++)
                    p[k] = rows[k] + off[l];
                pf_label_node_ni(st[l], p, np, one);
                assert_memory_equal(one, a + off[l], 32);
            }
        }
    }
}

static void test_kernel_lanes(void **state)
{
    (void)state;
    if (!pf_sha256_using_ni())
        skip();
    check_kernel(PF_MB_SSE);
    if (pf_mb_isa_available(PF_MB_AVX512))
        check_kernel(PF_MB_AVX512);
    else
        print_message("no AVX-512VL on this CPU: only the SSE build of the kernel checked\n");
}

/* ---- identical layers -------------------------------------------------------------------- */

static void test_batch_2kib(void **state)
{
    fixture *f = *state;
    run_batch(f, P2K, 2, "b2k2");
    run_batch(f, P2K, 3, "b2k3");
    run_batch(f, P2K, 4, "b2k4");
    run_batch(f, P2K, 9, "b2k9");   /* more than 8 lanes: two groups */
}

static void test_batch_8mib(void **state)
{
    fixture *f = *state;
    run_batch(f, P8M, 2, "b8m2");
    run_batch(f, P8M, 4, "b8m4");
}

/* ---- several hashing cores ------------------------------------------------------------- */

/* Up to two CPUs this test may run on, as a CPU list ("3" or "0,5"). */
static void two_cpus(char *list, size_t len)
{
    cpu_set_t set;
    int got = 0;
    list[0] = 0;
    if (sched_getaffinity(0, sizeof set, &set) == 0)
        for (int c = 0; c < CPU_SETSIZE && got < 2; c++)
            if (CPU_ISSET(c, &set)) {
                size_t used = strlen(list);
                snprintf(list + used, len - used, "%s%d", got++ ? "," : "", c);
            }
    if (!got)
        snprintf(list, len, "0");
}

static void test_batch_layout(void **state)
{
    (void)state;
    int g, lanes, cores;
    pf_error err;
    assert_int_equal(pf_pc1_batch_layout(4, NULL, &g, &lanes, &cores, &err), PF_OK);
    assert_int_equal(g, 1);
    assert_int_equal(lanes, 4);
    assert_int_equal(cores, 1);
    assert_int_equal(pf_pc1_batch_layout(9, NULL, &g, &lanes, &cores, &err), PF_OK);
    assert_int_equal(g, 2);
    assert_int_equal(lanes, 5);
    assert_int_equal(cores, 1);
    assert_int_equal(pf_pc1_batch_layout(4, "2,3", &g, &lanes, &cores, &err), PF_OK);
    assert_int_equal(g, 2);
    assert_int_equal(lanes, 2);
    assert_int_equal(cores, 2);
    assert_int_equal(pf_pc1_batch_layout(8, "0-3", &g, &lanes, &cores, &err), PF_OK);
    assert_int_equal(g, 4);
    assert_int_equal(lanes, 2);
    assert_int_equal(cores, 4);
    assert_int_equal(pf_pc1_batch_layout(20, "0,1", &g, &lanes, &cores, &err), PF_OK);
    assert_int_equal(g, 3);
    assert_int_equal(lanes, 7);
    assert_int_equal(cores, 2);
    assert_int_equal(pf_pc1_batch_layout(2, "0-7", &g, &lanes, &cores, &err), PF_OK);
    assert_int_equal(g, 2);
    assert_int_equal(lanes, 1);
    assert_int_equal(cores, 2);
    /* SMT siblings count once: on this 2-socket, 2-threads-per-core machine CPUs 0 and
     * 16 are one core, 1 and 17 another (tests/vectors/topologies) */
    char xml[4096];
    const char *tests = getenv("SP_TESTS");
    snprintf(xml, sizeof xml, "%s/vectors/topologies/32em64t-2n8c2t-pci-wholeio.xml",
             tests && tests[0] ? tests : "tests");
    assert_int_equal(access(xml, R_OK), 0);
    setenv("HWLOC_XMLFILE", xml, 1);
    assert_int_equal(pf_pc1_batch_layout(8, "0,16,1,17", &g, &lanes, &cores, &err), PF_OK);
    assert_int_equal(g, 2);
    assert_int_equal(lanes, 4);
    assert_int_equal(cores, 2);
    assert_int_equal(pf_pc1_batch_layout(8, "0-3", &g, &lanes, &cores, &err), PF_OK);
    assert_int_equal(cores, 4);
    unsetenv("HWLOC_XMLFILE");
    assert_int_equal(pf_pc1_batch_layout(4, "0-x", &g, &lanes, &cores, &err), PF_EINVAL);
    assert_non_null(strstr(err.msg, "0-x"));
    assert_int_equal(pf_pc1_batch_layout(0, NULL, &g, &lanes, &cores, &err), PF_EINVAL);
}

/* Five sectors on two hashing cores (groups of 3 and 2, each thread bound to its CPU):
 * the same layers as pf_pc1, progress from both groups and never two calls at once. */
static void test_batch_two_cores(void **state)
{
    fixture *f = *state;
    char cpus[64];
    two_cpus(cpus, sizeof cpus);
    events ev = { 0 };
    pf_sdr_options o = { .cores = cpus, .progress = count_event, .progress_ctx = &ev };
    run_batch_opts(f, P2K, 5, "cores5", &o);
    /* two groups where the two CPUs are two cores, one where they are SMT siblings */
    int groups, lanes, cores;
    pf_error lerr;
    assert_int_equal(pf_pc1_batch_layout(5, cpus, &groups, &lanes, &cores, &lerr), PF_OK);
    assert_int_equal(ev.calls, groups * pf_seal_proof(P2K)->layers);
    assert_int_equal(ev.groups_seen, (1u << groups) - 1);
    assert_false(ev.overlapped);
    /* a bad CPU list fails every sector with a message naming it */
    pf_pc1_batch_sector s[2];
    char dirs[2][256];
    for (int i = 0; i < 2; i++) {
        dir_of(f, dirs[i], sizeof dirs[i], "badcores", i);
        sector_inputs(&s[i], dirs[i], i);
    }
    o.cores = "1-";
    pf_error err;
    assert_int_equal(pf_pc1_batch(P2K, s, 2, f->pcache, &o, &err), PF_EINVAL);
    assert_non_null(strstr(s[1].err.msg, "1-"));
}

/* The CPUs a thread of this process may run on, as /proc lists them ("0-1"). */
static void allowed_list(const char *tid, char *out, size_t len)
{
    char path[128], line[256];
    snprintf(path, sizeof path, "/proc/self/task/%s/status", tid);
    out[0] = 0;
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "Cpus_allowed_list: %63s", out) == 1)
            break;
    fclose(f);
}

typedef struct writer_seen {
    char caller[64];     /* the test thread's CPUs */
    int checked;
    int hasher_bound;    /* the progress call (hashing thread) runs on the one CPU */
    int others_free;     /* threads besides the test's own with the caller's CPUs */
} writer_seen;

static void look_at_threads(void *ctx, const pf_progress_event *ev)
{
    writer_seen *w = ctx;
    if (ev->layer != 1 || w->checked)
        return;
    w->checked = 1;
    char self[32], mine[64], theirs[64];
    snprintf(self, sizeof self, "%ld", (long)syscall(SYS_gettid));
    allowed_list(self, mine, sizeof mine);
    w->hasher_bound = strcmp(mine, w->caller) != 0;
    DIR *d = opendir("/proc/self/task");
    struct dirent *de;
    while (d && (de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.' || strcmp(de->d_name, self) == 0)
            continue;
        allowed_list(de->d_name, theirs, sizeof theirs);
        w->others_free += strcmp(theirs, w->caller) == 0;
    }
    if (d)
        closedir(d);
}

/* With one hashing CPU named, that thread is bound to it, but the writer it starts (layer
 * 1 is being written when its progress event comes) may run on every CPU of the caller:
 * a writer inheriting the binding would take turns with its hashing thread. */
static void test_batch_writer_not_bound(void **state)
{
    fixture *f = *state;
    cpu_set_t set;
    assert_int_equal(sched_getaffinity(0, sizeof set, &set), 0);
    if (CPU_COUNT(&set) < 2)
        skip();
    char one[16];
    for (int c = 0; c < CPU_SETSIZE; c++)
        if (CPU_ISSET(c, &set)) {
            snprintf(one, sizeof one, "%d", c);
            break;
        }
    writer_seen w = { .checked = 0 };
    char self[32];
    snprintf(self, sizeof self, "%ld", (long)syscall(SYS_gettid));
    allowed_list(self, w.caller, sizeof w.caller);
    pf_sdr_options o = { .cores = one, .progress = look_at_threads, .progress_ctx = &w };
    run_batch_opts(f, P8M, 2, "unbound", &o);
    assert_true(w.checked);
    assert_true(w.hasher_bound);
    /* the test's own thread waits in the batch with its CPUs; the writer has them too */
    assert_true(w.others_free >= 2);
}

/* ---- one sector cancelled ---------------------------------------------------------------- */

typedef struct cancel_ctx {
    volatile int *flag;
    int layers_seen;
} cancel_ctx;

static void cancel_after_first_layer(void *ctx, const pf_progress_event *ev)
{
    cancel_ctx *c = ctx;
    c->layers_seen++;
    if (ev->layer == 1)
        __atomic_store_n(c->flag, 1, __ATOMIC_RELEASE);
}

static void resumed_layers(void *ctx, const pf_progress_event *ev)
{
    int *n = ctx;
    *n += ev->resumed;
}

static void test_batch_cancel_one(void **state)
{
    fixture *f = *state;
    pf_pc1_batch_sector s[3];
    char dirs[3][256];
    volatile int flag = 0;
    for (int i = 0; i < 3; i++) {
        dir_of(f, dirs[i], sizeof dirs[i], "cancel", i);
        sector_inputs(&s[i], dirs[i], i);
    }
    s[1].cancel = &flag;
    cancel_ctx c = { .flag = &flag };
    pf_sdr_options o = { .progress = cancel_after_first_layer, .progress_ctx = &c };
    pf_error err;
    assert_int_equal(pf_pc1_batch(P8M, s, 3, f->pcache, &o, &err), PF_EINTERRUPTED);
    assert_non_null(strstr(err.msg, "sector 1"));
    assert_int_equal(s[0].status, PF_OK);
    assert_int_equal(s[2].status, PF_OK);
    assert_int_equal(s[1].status, PF_EINTERRUPTED);
    assert_non_null(strstr(s[1].err.msg, "cancelled in layer 2"));
    for (int i = 0; i < 3; i += 2)
        assert_like_pc1(f, P8M, i, &s[i], dirs[i]);
    /* the cancelled sector kept its first layer and nothing of the second */
    char path[4096];
    pf_layer_path(dirs[1], 1, path, sizeof path);
    assert_int_equal(access(path, F_OK), 0);
    pf_layer_path(dirs[1], 2, path, sizeof path);
    assert_int_not_equal(access(path, F_OK), 0);
    /* pf_pc1 resumes it from its first layer, with the same result */
    int resumed = 0;
    pf_sdr_options r = { .progress = resumed_layers, .progress_ctx = &resumed };
    pf_pc1_output out, ref;
    assert_int_equal(pf_pc1(P8M, dirs[1], s[1].sector_id, s[1].prover_id, s[1].ticket,
                            s[1].comm_d, f->pcache, &r, &out, &err), PF_OK);
    assert_int_equal(resumed, 1);
    reference(f, P8M, 1, &ref);
    assert_memory_equal(&out, &ref, sizeof ref);
    assert_same_layers(f, P8M, 1, dirs[1]);
}

/* ---- mixed resume ------------------------------------------------------------------------ */

static ino_t inode_of(const char *dir, int layer)
{
    char path[4096];
    struct stat sb;
    pf_layer_path(dir, layer, path, sizeof path);
    return stat(path, &sb) == 0 ? sb.st_ino : 0;
}

static void test_batch_resume_mixed(void **state)
{
    fixture *f = *state;
    pf_pc1_batch_sector s[3];
    char dirs[3][256], path[4096];
    for (int i = 0; i < 3; i++) {
        dir_of(f, dirs[i], sizeof dirs[i], "mixed", i);
        sector_inputs(&s[i], dirs[i], i);
    }
    pf_error err;
    pf_pc1_output out;
    /* sector 0 complete, sector 1 with its first layer only, sector 2 fresh */
    for (int i = 0; i < 2; i++)
        assert_int_equal(pf_pc1(P8M, dirs[i], s[i].sector_id, s[i].prover_id, s[i].ticket,
                                s[i].comm_d, f->pcache, NULL, &out, &err), PF_OK);
    pf_layer_path(dirs[1], 2, path, sizeof path);
    assert_int_equal(unlink(path), 0);
    ino_t a1 = inode_of(dirs[0], 1), a2 = inode_of(dirs[0], 2), b1 = inode_of(dirs[1], 1);
    assert_int_equal(pf_pc1_batch(P8M, s, 3, f->pcache, NULL, &err), PF_OK);
    for (int i = 0; i < 3; i++)
        assert_like_pc1(f, P8M, i, &s[i], dirs[i]);
    /* complete layers were kept, not written again */
    assert_true(inode_of(dirs[0], 1) == a1);
    assert_true(inode_of(dirs[0], 2) == a2);
    assert_true(inode_of(dirs[1], 1) == b1);
}

/* ---- a layer that cannot be written ------------------------------------------------------ */

/* Layers are written by a thread while the next layer is labeled: a lane whose layer 1
 * (finished during layer 2) or last layer (finished at the end) cannot be written fails
 * with that write's error, and only that lane. */
static void test_batch_write_fails(void **state)
{
    fixture *f = *state;
    pf_pc1_batch_sector s[3];
    char dirs[3][256], blocker[4200];
    for (int i = 0; i < 3; i++) {
        dir_of(f, dirs[i], sizeof dirs[i], "wfail", i);
        sector_inputs(&s[i], dirs[i], i);
        assert_int_equal(mkdir(dirs[i], 0755), 0);
    }
    /* a directory where the layer's temporary file goes makes its open fail */
    pf_layer_path(dirs[0], 1, blocker, sizeof blocker - 8);
    strcat(blocker, ".tmp");
    assert_int_equal(mkdir(blocker, 0755), 0);
    pf_layer_path(dirs[2], pf_seal_proof(P2K)->layers, blocker, sizeof blocker - 8);
    strcat(blocker, ".tmp");
    assert_int_equal(mkdir(blocker, 0755), 0);
    pf_error err;
    assert_int_not_equal(pf_pc1_batch(P2K, s, 3, f->pcache, NULL, &err), PF_OK);
    for (int i = 0; i < 3; i += 2) {
        assert_int_not_equal(s[i].status, PF_OK);
        assert_non_null(strstr(s[i].err.msg, ".tmp"));
        assert_non_null(strstr(s[i].err.msg, dirs[i]));
    }
    assert_like_pc1(f, P2K, 1, &s[1], dirs[1]);
}

/* ---- a bad directory ----------------------------------------------------------------------- */

static void test_batch_bad_dir(void **state)
{
    fixture *f = *state;
    pf_pc1_batch_sector s[3];
    char dirs[3][256], file[128];
    snprintf(file, sizeof file, "%s/a-file", f->root);
    int fd = open(file, O_WRONLY | O_CREAT, 0644);
    assert_true(fd >= 0);
    close(fd);
    for (int i = 0; i < 3; i++)
        dir_of(f, dirs[i], sizeof dirs[i], "baddir", i);
    snprintf(dirs[1], sizeof dirs[1], "%s/under", file);   /* under a regular file */
    for (int i = 0; i < 3; i++)
        sector_inputs(&s[i], dirs[i], i);
    pf_error err;
    assert_int_not_equal(pf_pc1_batch(P2K, s, 3, f->pcache, NULL, &err), PF_OK);
    assert_non_null(strstr(err.msg, "sector 1"));
    assert_int_not_equal(s[1].status, PF_OK);
    assert_non_null(strstr(s[1].err.msg, "under"));
    for (int i = 0; i < 3; i += 2)
        assert_like_pc1(f, P2K, i, &s[i], dirs[i]);
    /* and bad arguments to the batch itself */
    assert_int_equal(pf_pc1_batch(P2K, s, 0, f->pcache, NULL, &err), PF_EINVAL);
    assert_int_equal(pf_pc1_batch(P2K, s, PF_PC1_BATCH_MAX + 1, f->pcache, NULL, &err), PF_EINVAL);
    assert_int_equal(pf_pc1_batch(77, s, 3, f->pcache, NULL, &err), PF_EINVAL);
    assert_int_equal(s[0].status, PF_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kernel_lanes),
        cmocka_unit_test(test_batch_2kib),
        cmocka_unit_test(test_batch_8mib),
        cmocka_unit_test(test_batch_layout),
        cmocka_unit_test(test_batch_two_cores),
        cmocka_unit_test(test_batch_writer_not_bound),
        cmocka_unit_test(test_batch_cancel_one),
        cmocka_unit_test(test_batch_resume_mixed),
        cmocka_unit_test(test_batch_bad_dir),
        cmocka_unit_test(test_batch_write_fails),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
