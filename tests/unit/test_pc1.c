/* test_pc1.c — PC1 end to end in the library: layer files of 2KiB and 8MiB sectors
 * against in-memory labeling, single vs multi-core files, resume after a simulated crash
 * (and no reuse when the inputs change), cancel, a full disk, the per-directory lock, and
 * the pf_pc1_output binary form (round trip and rejection of every kind of bad input). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <fcntl.h>
#include <sched.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sealproofs.h"
#include "sp_fs.h"
#include "sha256.h"

typedef struct fixture {
    char root[64];
    char pcache[128];    /* parent caches, shared by all tests of this program */
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    snprintf(f->root, sizeof f->root, "/tmp/test_pc1.XXXXXX");
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

static void inputs(uint8_t prover[32], uint8_t ticket[32], uint8_t comm_d[32], uint8_t seed)
{
    memset(prover, 0, 32);
    prover[0] = 0xe8;   /* t01000 */
    prover[1] = 0x07;
    for (int i = 0; i < 32; i++)
        ticket[i] = (uint8_t)(seed + i);
    /* CommD of an empty 2KiB sector (porep.md §3.3); PC1 only hashes it into replica_id. */
    static const uint8_t z2k[32] = { 0xfc, 0x7e, 0x92, 0x82, 0x96, 0xe5, 0x16, 0xfa, 0xad, 0xe9, 0x86,
                                     0xb2, 0x8f, 0x92, 0xd4, 0x4a, 0x4f, 0x24, 0xb9, 0x35, 0x48, 0x52,
                                     0x23, 0x37, 0x6a, 0x79, 0x90, 0x27, 0xbc, 0x18, 0xf8, 0x33 };
    memcpy(comm_d, z2k, 32);
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

static void layer_file(const char *dir, int layer, char *path)
{
    assert_int_equal(pf_layer_path(dir, layer, path, 4096), 0);
}

typedef struct progress_log {
    int calls, resumed, last_layer;
    volatile int *cancel_after_first;
} progress_log;

static void on_progress(void *ctx, const pf_progress_event *ev)
{
    progress_log *p = ctx;
    p->calls++;
    p->resumed += ev->resumed;
    p->last_layer = ev->layer;
    if (p->cancel_after_first)
        *p->cancel_after_first = 1;
}

/* Runs PC1 and checks every layer file against in-memory labeling of the same replica. */
static void run_and_check(fixture *f, int proof, const char *sub, int multicore, uint8_t seed)
{
    char dir[256], path[4096];
    snprintf(dir, sizeof dir, "%s/%s", f->root, sub);
    uint8_t prover[32], ticket[32], comm_d[32];
    inputs(prover, ticket, comm_d, seed);
    pf_sdr_options o = { .multicore = multicore, .hugepages = 1 };
    pf_pc1_output out;
    pf_error err;
    pf_status st = pf_pc1(proof, dir, 77, prover, ticket, comm_d, f->pcache, &o, &out, &err);
    if (st != PF_OK)
        fail_msg("pc1: %s", err.msg);
    const pf_seal_proof_info *info = pf_seal_proof(proof);
    uint8_t rid[32];
    pf_replica_id(prover, 77, ticket, comm_d, info->porep_id, rid);
    assert_memory_equal(out.replica_id, rid, 32);
    assert_int_equal(out.proof_id, proof);
    assert_true(out.sector_id == 77);
    assert_memory_equal(out.comm_d, comm_d, 32);

    pf_graph g;
    pf_graph_init_proof(&g, proof, NULL);
    uint8_t last[11][32];
    assert_int_equal(pf_sdr_last_labels(&g, rid, info->layers, NULL, last, &err), PF_OK);
    for (int l = 1; l <= info->layers; l++) {
        layer_file(dir, l, path);
        size_t len;
        uint8_t *b = read_file(path, &len);
        assert_non_null(b);
        assert_int_equal(len, info->sector_size);
        assert_memory_equal(b + len - 32, last[l - 1], 32);
        free(b);
        char tmp[4200];
        snprintf(tmp, sizeof tmp, "%s.tmp", path);
        assert_int_not_equal(access(tmp, F_OK), 0);
    }
}

static int files_equal(const char *a, const char *b)
{
    size_t la, lb;
    uint8_t *x = read_file(a, &la), *y = read_file(b, &lb);
    int eq = x && y && la == lb && memcmp(x, y, la) == 0;
    free(x);
    free(y);
    return eq;
}

static void test_pc1_2kib(void **state)
{
    fixture *f = *state;
    run_and_check(f, 5, "s2k", 0, 1);
    run_and_check(f, 5, "s2k-multi", 1, 1);
    char a[4096], b[4096], da[256], db[256];
    snprintf(da, sizeof da, "%s/s2k", f->root);
    snprintf(db, sizeof db, "%s/s2k-multi", f->root);
    for (int l = 1; l <= 2; l++) {
        layer_file(da, l, a);
        layer_file(db, l, b);
        assert_true(files_equal(a, b));
    }
    /* API 1.0 proof of the same size: different graph, still consistent */
    run_and_check(f, 0, "s2k-v1", 0, 2);
}

static void test_pc1_8mib_single_vs_multi(void **state)
{
    fixture *f = *state;
    run_and_check(f, 6, "s8m", 0, 3);
    run_and_check(f, 6, "s8m-multi", 1, 3);
    char a[4096], b[4096], da[256], db[256];
    snprintf(da, sizeof da, "%s/s8m", f->root);
    snprintf(db, sizeof db, "%s/s8m-multi", f->root);
    for (int l = 1; l <= 2; l++) {
        layer_file(da, l, a);
        layer_file(db, l, b);
        assert_true(files_equal(a, b));
    }
    sp_remove_tree(da, NULL);
    sp_remove_tree(db, NULL);
}

static void test_pc1_resume(void **state)
{
    fixture *f = *state;
    char dir[256], l1[4096], l2[4096], tmp[4200];
    snprintf(dir, sizeof dir, "%s/resume", f->root);
    run_and_check(f, 5, "resume", 0, 4);
    layer_file(dir, 1, l1);
    layer_file(dir, 2, l2);
    size_t len1, len2;
    uint8_t *want1 = read_file(l1, &len1), *want2 = read_file(l2, &len2);
    struct stat before;
    assert_int_equal(stat(l1, &before), 0);

    /* A crash during layer 2: its file never got its final name, a temporary is left. */
    unlink(l2);
    snprintf(tmp, sizeof tmp, "%s.tmp", l2);
    FILE *t = fopen(tmp, "w");
    fputs("partial", t);
    fclose(t);
    uint8_t prover[32], ticket[32], comm_d[32];
    inputs(prover, ticket, comm_d, 4);
    progress_log log = { 0 };
    pf_sdr_options o = { .progress = on_progress, .progress_ctx = &log };
    pf_pc1_output out;
    pf_error err;
    assert_int_equal(pf_pc1(5, dir, 77, prover, ticket, comm_d, f->pcache, &o, &out, &err), PF_OK);
    assert_int_equal(log.calls, 2);
    assert_int_equal(log.resumed, 1);    /* layer 1 reused */
    struct stat after;
    assert_int_equal(stat(l1, &after), 0);
    assert_true(before.st_ino == after.st_ino);   /* not rewritten */
    size_t n;
    uint8_t *got = read_file(l2, &n);
    assert_int_equal(n, len2);
    assert_memory_equal(got, want2, n);
    free(got);
    assert_int_not_equal(access(tmp, F_OK), 0);

    /* Everything complete: nothing recomputed. */
    memset(&log, 0, sizeof log);
    assert_int_equal(pf_pc1(5, dir, 77, prover, ticket, comm_d, f->pcache, &o, &out, &err), PF_OK);
    assert_int_equal(log.resumed, 2);

    /* Other inputs (ticket): the old layers are not reused. */
    inputs(prover, ticket, comm_d, 5);
    memset(&log, 0, sizeof log);
    assert_int_equal(pf_pc1(5, dir, 77, prover, ticket, comm_d, f->pcache, &o, &out, &err), PF_OK);
    assert_int_equal(log.resumed, 0);
    got = read_file(l1, &n);
    assert_memory_not_equal(got, want1, n);
    free(got);
    free(want1);
    free(want2);
}

static void test_pc1_cancel_then_resume(void **state)
{
    fixture *f = *state;
    char dir[256], l1[4096], l2[4096];
    snprintf(dir, sizeof dir, "%s/cancel", f->root);
    uint8_t prover[32], ticket[32], comm_d[32];
    inputs(prover, ticket, comm_d, 6);
    volatile int cancel = 0;
    progress_log log = { .cancel_after_first = &cancel };
    for (int multi = 0; multi < 2; multi++) {
        cancel = 0;
        memset(&log, 0, sizeof log);
        log.cancel_after_first = &cancel;
        pf_sdr_options o = { .multicore = multi, .cancel = &cancel, .progress = on_progress,
                             .progress_ctx = &log };
        pf_pc1_output out;
        pf_error err;
        sp_remove_tree(dir, NULL);
        assert_int_equal(pf_pc1(6, dir, 9, prover, ticket, comm_d, f->pcache, &o, &out, &err),
                         PF_EINTERRUPTED);
        layer_file(dir, 1, l1);
        layer_file(dir, 2, l2);
        /* Layer 1 was finished and written before the cancel took effect; layer 2 not. */
        struct stat sb;
        assert_int_equal(stat(l1, &sb), 0);
        assert_int_equal(sb.st_size, 8 << 20);
        assert_int_not_equal(access(l2, F_OK), 0);
        cancel = 0;
        log.cancel_after_first = NULL;
        log.calls = log.resumed = 0;
        assert_int_equal(pf_pc1(6, dir, 9, prover, ticket, comm_d, f->pcache, &o, &out, &err), PF_OK);
        assert_int_equal(log.resumed, 1);
        assert_int_equal(stat(l2, &sb), 0);
    }
    sp_remove_tree(dir, NULL);
}

static void test_pc1_full_disk(void **state)
{
    fixture *f = *state;
    if (geteuid() != 0)
        skip();
    /* In a child with its own mount namespace: a 4 MiB tmpfs holds no layer of an 8MiB
     * sector (the failed write of layer 1 stops the labeling of layer 2), 12 MiB holds
     * layer 1 but not layer 2, 40 MiB all. */
    char dir[256];
    snprintf(dir, sizeof dir, "%s/full", f->root);
    mkdir(dir, 0755);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        if (unshare(CLONE_NEWNS) != 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0 ||
            mount("tmpfs", dir, "tmpfs", 0, "size=4m") != 0)
            _exit(77);
        uint8_t prover[32], ticket[32], comm_d[32];
        inputs(prover, ticket, comm_d, 7);
        pf_pc1_output out;
        pf_error err;
        char l1[4096], l2[4096], tmp[4200], tmp1[4200];
        pf_layer_path(dir, 1, l1, sizeof l1);
        pf_layer_path(dir, 2, l2, sizeof l2);
        snprintf(tmp, sizeof tmp, "%s.tmp", l2);
        snprintf(tmp1, sizeof tmp1, "%s.tmp", l1);
        pf_status st = pf_pc1(6, dir, 1, prover, ticket, comm_d, f->pcache, NULL, &out, &err);
        if (st != PF_ENOSPC || !strstr(err.msg, "layer-1"))
            _exit(6);
        if (access(l1, F_OK) == 0 || access(tmp1, F_OK) == 0)
            _exit(7);
        if (mount(NULL, dir, NULL, MS_REMOUNT, "size=12m") != 0)
            _exit(77);
        st = pf_pc1(6, dir, 1, prover, ticket, comm_d, f->pcache, NULL, &out, &err);
        if (st != PF_ENOSPC || !strstr(err.msg, "space"))
            _exit(1);
        struct stat sb;
        if (stat(l1, &sb) != 0 || sb.st_size != 8 << 20)
            _exit(2);
        if (access(l2, F_OK) == 0 || access(tmp, F_OK) == 0)
            _exit(3);
        /* With space again the run finishes from layer 1. */
        if (mount(NULL, dir, NULL, MS_REMOUNT, "size=40m") != 0)
            _exit(77);
        if (pf_pc1(6, dir, 1, prover, ticket, comm_d, f->pcache, NULL, &out, &err) != PF_OK)
            _exit(4);
        if (stat(l2, &sb) != 0 || sb.st_size != 8 << 20)
            _exit(5);
        _exit(0);
    }
    int ws;
    assert_int_equal(waitpid(pid, &ws, 0), pid);
    assert_true(WIFEXITED(ws));
    if (WEXITSTATUS(ws) == 77)
        skip();
    assert_int_equal(WEXITSTATUS(ws), 0);
}

static void test_pc1_bad_input_and_lock(void **state)
{
    fixture *f = *state;
    uint8_t prover[32], ticket[32], comm_d[32];
    inputs(prover, ticket, comm_d, 8);
    pf_pc1_output out;
    pf_error err;
    assert_int_equal(pf_pc1(99, f->root, 1, prover, ticket, comm_d, f->pcache, NULL, &out, &err),
                     PF_EINVAL);
    assert_non_null(strstr(err.msg, "99"));
    assert_int_equal(pf_pc1(5, NULL, 1, prover, ticket, comm_d, f->pcache, NULL, &out, &err),
                     PF_EINVAL);
    assert_int_equal(pf_pc1(5, f->root, 1, NULL, ticket, comm_d, f->pcache, NULL, &out, &err),
                     PF_EINVAL);
    /* A second PC1 in the same directory is refused while one holds it. */
    char dir[256], lock[300];
    snprintf(dir, sizeof dir, "%s/locked", f->root);
    mkdir(dir, 0755);
    snprintf(lock, sizeof lock, "%s/sealpipe-pc1.lock", dir);
    int fd = open(lock, O_RDWR | O_CREAT, 0644);
    assert_true(fd >= 0);
    assert_int_equal(flock(fd, LOCK_EX), 0);
    assert_int_equal(pf_pc1(5, dir, 1, prover, ticket, comm_d, f->pcache, NULL, &out, &err),
                     PF_EINVAL);
    assert_non_null(strstr(err.msg, "another PC1"));
    close(fd);
    assert_int_equal(pf_pc1(5, dir, 1, prover, ticket, comm_d, f->pcache, NULL, &out, &err), PF_OK);
}

/* ---- pf_pc1_output ---- */

static void sample_output(pf_pc1_output *o)
{
    memset(o, 0, sizeof *o);
    o->version = PF_PC1_OUTPUT_VERSION;
    o->proof_id = 8;
    o->sector_id = 0x0102030405060708ULL;
    inputs(o->prover_id, o->ticket, o->comm_d, 9);
    pf_replica_id(o->prover_id, o->sector_id, o->ticket, o->comm_d, pf_seal_proof(8)->porep_id,
                  o->replica_id);
}

static void test_output_round_trip(void **state)
{
    (void)state;
    pf_pc1_output o, d;
    sample_output(&o);
    uint8_t buf[PF_PC1_OUTPUT_ENCODED_LEN + 10];
    assert_int_equal(pf_pc1_output_encode(&o, buf, sizeof buf), PF_PC1_OUTPUT_ENCODED_LEN);
    assert_int_equal(pf_pc1_output_encode(&o, buf, PF_PC1_OUTPUT_ENCODED_LEN - 1), 0);
    assert_memory_equal(buf, "SPC1", 4);
    pf_error err;
    assert_int_equal(pf_pc1_output_decode(buf, PF_PC1_OUTPUT_ENCODED_LEN, &d, &err), PF_OK);
    assert_memory_equal(&o, &d, sizeof o);
    /* sector_id little-endian at offset 12 */
    assert_int_equal(buf[12], 0x08);
    assert_int_equal(buf[19], 0x01);
}

static void test_output_rejects_bad_input(void **state)
{
    (void)state;
    pf_pc1_output o, d;
    sample_output(&o);
    uint8_t good[PF_PC1_OUTPUT_ENCODED_LEN], b[PF_PC1_OUTPUT_ENCODED_LEN + 1];
    pf_pc1_output_encode(&o, good, sizeof good);
    pf_error err;
    /* every truncation */
    for (size_t n = 0; n < sizeof good; n++) {
        assert_int_equal(pf_pc1_output_decode(good, n, &d, &err), PF_EINVAL);
        assert_non_null(strstr(err.msg, "truncated"));
    }
    /* trailing data */
    memcpy(b, good, sizeof good);
    b[sizeof good] = 0;
    assert_int_equal(pf_pc1_output_decode(b, sizeof b, &d, &err), PF_EINVAL);
    assert_non_null(strstr(err.msg, "trailing"));
    /* every single-bit flip is caught (magic, version or checksum) */
    for (size_t i = 0; i < sizeof good; i++) {
        for (int bit = 0; bit < 8; bit++) {
            memcpy(b, good, sizeof good);
            b[i] ^= (uint8_t)(1 << bit);
            assert_int_not_equal(pf_pc1_output_decode(b, sizeof good, &d, &err), PF_OK);
        }
    }
    memcpy(b, good, sizeof good);
    b[0] = 'X';
    assert_int_equal(pf_pc1_output_decode(b, sizeof good, &d, &err), PF_ECORRUPT);
    assert_non_null(strstr(err.msg, "magic"));
    /* a future version */
    memcpy(b, good, sizeof good);
    b[4] = 2;
    assert_int_equal(pf_pc1_output_decode(b, sizeof good, &d, &err), PF_EUNSUPPORTED);
    /* consistent checksum but an unknown proof id, or a replica_id that does not follow
     * from the other fields */
    pf_pc1_output bad = o;
    bad.proof_id = 20;
    pf_pc1_output_encode(&bad, b, sizeof good);
    assert_int_equal(pf_pc1_output_decode(b, sizeof good, &d, &err), PF_EINVAL);
    bad = o;
    bad.replica_id[0] ^= 1;
    pf_pc1_output_encode(&bad, b, sizeof good);
    assert_int_equal(pf_pc1_output_decode(b, sizeof good, &d, &err), PF_ECORRUPT);
    /* random garbage */
    srand(3);
    for (int r = 0; r < 1000; r++) {
        for (size_t i = 0; i < sizeof good; i++)
            b[i] = (uint8_t)rand();
        if (r & 1)
            memcpy(b, "SPC1\x01\0\0\0", 8);
        assert_int_not_equal(pf_pc1_output_decode(b, sizeof good, &d, &err), PF_OK);
    }
    assert_int_equal(pf_pc1_output_decode(NULL, 0, &d, &err), PF_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_output_round_trip),
        cmocka_unit_test(test_output_rejects_bad_input),
        cmocka_unit_test(test_pc1_2kib),
        cmocka_unit_test(test_pc1_8mib_single_vs_multi),
        cmocka_unit_test(test_pc1_resume),
        cmocka_unit_test(test_pc1_cancel_then_resume),
        cmocka_unit_test(test_pc1_full_disk),
        cmocka_unit_test(test_pc1_bad_input_and_lock),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
