/* test_filcrypto.c — the filcrypto backend loader and calls, against shared objects this
 * test builds from tests/unit/fake_filcrypto.c (the real libfilcrypto cannot be obtained
 * here, so no Groth16 proof is produced or checked): a missing file, a file that is not a
 * shared object, a missing symbol, an older ABI (missing marker), a wrong version, the
 * library from $SEALPIPE_FILCRYPTO, and a good fake whose canned results show that every
 * argument is marshalled with filecoin-ffi's struct shapes and that results, errors,
 * faulty sectors and the destroy_* and alloc_boxed_slice ownership follow the ABI's conventions.
 * Also the per-stage backend configuration. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <dlfcn.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sealproofs.h"

typedef struct f_state {
    char dir[128];
    char good[256], no_verify[256], no_marker[256], wrong_version[256], text[256];
    void *probe;                        /* the good fake opened again to read its records */
    const char *(*last_call)(void);
    long (*live_boxes)(void);
} f_state;

static int build(const char *dir, const char *name, const char *defs, char *out, size_t len)
{
    const char *root = getenv("SP_ROOT") ? getenv("SP_ROOT") : ".";
    const char *cc = getenv("CC") ? getenv("CC") : "cc";
    snprintf(out, len, "%s/%s.so", dir, name);
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "%s -std=c11 -D_GNU_SOURCE -O1 -shared -fPIC -fvisibility=hidden %s "
             "-I%s/proofs-ffi/src -o %s %s/tests/unit/fake_filcrypto.c", cc, defs, root, out, root);
    return system(cmd);
}

static int setup(void **state)
{
    f_state *s = calloc(1, sizeof *s);
    *state = s;
    snprintf(s->dir, sizeof s->dir, "/tmp/sealpipe-fc.XXXXXX");
    if (!mkdtemp(s->dir))
        return -1;
    if (build(s->dir, "good", "", s->good, sizeof s->good) ||
        build(s->dir, "noverify", "-DFAKE_NO_VERIFY_SEAL", s->no_verify, sizeof s->no_verify) ||
        build(s->dir, "nomarker", "-DFAKE_NO_MARKER", s->no_marker, sizeof s->no_marker) ||
        build(s->dir, "wrongver", "-DFAKE_WRONG_VERSION", s->wrong_version,
              sizeof s->wrong_version)) {
        fprintf(stderr, "cannot compile the fake libfilcrypto (needs cc)\n");
        return -1;
    }
    snprintf(s->text, sizeof s->text, "%s/notalib.so", s->dir);
    FILE *f = fopen(s->text, "w");
    fputs("this is not an ELF file\n", f);
    fclose(f);
    s->probe = dlopen(s->good, RTLD_NOW | RTLD_LOCAL);
    if (!s->probe)
        return -1;
    *(void **)&s->last_call = dlsym(s->probe, "fake_last_call");
    *(void **)&s->live_boxes = dlsym(s->probe, "fake_live_boxes");
    return s->last_call && s->live_boxes ? 0 : -1;
}

static int teardown(void **state)
{
    f_state *s = *state;
    if (s->probe)
        dlclose(s->probe);
    const char *names[] = { s->good, s->no_verify, s->no_marker, s->wrong_version, s->text };
    for (int i = 0; i < 5; i++)
        if (names[i][0])
            unlink(names[i]);
    rmdir(s->dir);
    free(s);
    return 0;
}

#define ALL_STAGES ((1u << PF_STAGE_COUNT) - 1)

static void test_config(void **state)
{
    (void)state;
    pf_backend_config c;
    pf_error err;
    pf_backend_config_default(&c);
    assert_int_equal(pf_backend_filcrypto_stages(&c), 0);
    assert_int_equal(pf_backend_config_parse(&c, "c2=filcrypto, window_post = filcrypto", &err),
                     PF_OK);
    assert_int_equal(pf_backend_filcrypto_stages(&c),
                     (1u << PF_STAGE_C2) | (1u << PF_STAGE_WINDOW_POST));
    assert_int_equal(c.stage[PF_STAGE_C1], PF_BACKEND_NATIVE);
    assert_int_equal(pf_backend_config_parse(&c, "all=filcrypto,unseal=native", &err), PF_OK);
    assert_int_equal(pf_backend_filcrypto_stages(&c), ALL_STAGES & ~(1u << PF_STAGE_UNSEAL));
    assert_int_equal(pf_backend_config_parse(&c, "", &err), PF_OK);
    /* errors leave the configuration as it was */
    pf_backend_config before = c;
    assert_int_equal(pf_backend_config_parse(&c, "c2=native,c9=filcrypto", &err), PF_EINVAL);
    assert_non_null(strstr(err.msg, "c9"));
    assert_memory_equal(&c, &before, sizeof c);
    assert_int_equal(pf_backend_config_parse(&c, "c2=gpu", &err), PF_EINVAL);
    assert_non_null(strstr(err.msg, "gpu"));
    assert_int_equal(pf_backend_config_parse(&c, "c2", &err), PF_EINVAL);
    assert_string_equal(pf_stage_name(PF_STAGE_VANILLA_POST), "vanilla_post");
    assert_string_equal(pf_backend_name(PF_BACKEND_FILCRYPTO), "filcrypto");
}

static void test_load_errors(void **state)
{
    f_state *s = *state;
    pf_filcrypto *fc;
    pf_error err;
    /* missing file: the path and dlopen's reason */
    char missing[300];
    snprintf(missing, sizeof missing, "%s/nope/libfilcrypto.so", s->dir);
    assert_int_equal(pf_filcrypto_open(missing, ALL_STAGES, &fc, &err), PF_EBACKEND);
    assert_non_null(strstr(err.msg, missing));
    assert_null(fc);
    /* not a shared object */
    assert_int_equal(pf_filcrypto_open(s->text, ALL_STAGES, &fc, &err), PF_EBACKEND);
    assert_non_null(strstr(err.msg, s->text));
    /* missing symbol: named, and only when a chosen stage needs it */
    assert_int_equal(pf_filcrypto_open(s->no_verify, ALL_STAGES, &fc, &err), PF_EBACKEND);
    assert_non_null(strstr(err.msg, "verify_seal"));
    assert_non_null(strstr(err.msg, s->no_verify));
    assert_int_equal(pf_filcrypto_open(s->no_verify, 1u << PF_STAGE_C2, &fc, &err), PF_OK);
    assert_false(pf_filcrypto_has_stage(fc, PF_STAGE_VERIFY_SEAL));
    int valid;
    uint8_t z[32] = { 1 };
    assert_int_equal(pf_fc_verify_seal(fc, 5, z, z, z, z, z, 1, z, 32, &valid, &err),
                     PF_EUNSUPPORTED);
    pf_filcrypto_close(fc);
    /* older ABI and wrong version */
    assert_int_equal(pf_filcrypto_open(s->no_marker, 1u << PF_STAGE_C2, &fc, &err), PF_EBACKEND);
    assert_non_null(strstr(err.msg, "seal_commit_phase2_circuit_proofs"));
    assert_non_null(strstr(err.msg, "older"));
    assert_int_equal(pf_filcrypto_open(s->wrong_version, 1u << PF_STAGE_C2, &fc, &err),
                     PF_EBACKEND);
    assert_non_null(strstr(err.msg, "get_seal_version(15)"));
    assert_non_null(strstr(err.msg, "StackedDrg2KiBV1_2_Feat_NonInteractivePoRep"));
    /* nothing configured; then the environment */
    unsetenv(PF_FILCRYPTO_ENV);
    assert_int_equal(pf_filcrypto_open(NULL, 1u << PF_STAGE_C2, &fc, &err), PF_EBACKEND);
    assert_non_null(strstr(err.msg, PF_FILCRYPTO_ENV));
    setenv(PF_FILCRYPTO_ENV, s->good, 1);
    assert_int_equal(pf_filcrypto_open(NULL, 1u << PF_STAGE_C2, &fc, &err), PF_OK);
    assert_string_equal(pf_filcrypto_path(fc), s->good);
    assert_string_equal(pf_filcrypto_version(fc), "StackedDrg2KiBV1_1");
    pf_filcrypto_close(fc);
    unsetenv(PF_FILCRYPTO_ENV);
    assert_int_equal(pf_filcrypto_open(s->good, 1u << PF_STAGE_COUNT, &fc, &err), PF_EINVAL);
}

static void fill(uint8_t v[32], uint8_t base)
{
    for (int i = 0; i < 32; i++)
        v[i] = (uint8_t)(base + i);
}

static void hex(char *out, const uint8_t *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        sprintf(out + 2 * i, "%02x", b[i]);
}

static void test_seal_calls(void **state)
{
    f_state *s = *state;
    pf_filcrypto *fc;
    pf_error err;
    assert_int_equal(pf_filcrypto_open(s->good, ALL_STAGES, &fc, &err), PF_OK);
    uint8_t comm_r[32], comm_d[32], prover[32], ticket[32], seed[32];
    fill(comm_r, 0x10);
    fill(comm_d, 0x30);
    fill(prover, 0x50);
    fill(ticket, 0x70);
    fill(seed, 0x90);
    char h[5][65], want[1024];
    hex(h[0], comm_r, 32);
    hex(h[1], comm_d, 32);
    hex(h[2], prover, 32);
    hex(h[3], ticket, 32);
    hex(h[4], seed, 32);

    pf_bytes c1;
    pf_piece_info piece = { { 0 }, 1016 };
    assert_int_equal(pf_fc_seal_commit_phase1(fc, 8, comm_r, comm_d, "/cache/dir", "/sealed/f",
                                              123456789012ULL, prover, ticket, seed, &piece, 1,
                                              &c1, &err), PF_OK);
    snprintf(want, sizeof want, "seal_commit_phase1 proof=8 comm_r=%s comm_d=%s cache=/cache/dir "
             "replica=/sealed/f sector=123456789012 prover=%s ticket=%s seed=%s pieces=1 "
             "first=1016", h[0], h[1], h[2], h[3], h[4]);
    assert_string_equal(s->last_call(), want);
    assert_int_equal(c1.len, 13);
    assert_memory_equal(c1.data, "{\"fake\":\"c1\"}", 13);

    pf_bytes proof;
    assert_int_equal(pf_fc_seal_commit_phase2(fc, c1.data, c1.len, 77, prover, &proof, &err),
                     PF_OK);
    snprintf(want, sizeof want, "seal_commit_phase2 len=13 sector=77 prover=%s", h[2]);
    assert_string_equal(s->last_call(), want);
    assert_int_equal(proof.len, 192);
    assert_int_equal(proof.data[0], 77);
    assert_memory_equal(proof.data + 8, prover, 32);
    assert_memory_equal(proof.data + 40, c1.data, 13);
    /* an error comes back with the library's message */
    pf_bytes bad;
    assert_int_equal(pf_fc_seal_commit_phase2(fc, (const uint8_t *)"fail", 4, 77, prover, &bad,
                                              &err), PF_EBACKEND);
    assert_non_null(strstr(err.msg, "not valid JSON"));
    assert_non_null(strstr(err.msg, "status 1"));
    assert_null(bad.data);
    /* an empty input still passes a non-NULL pointer */
    assert_int_equal(pf_fc_seal_commit_phase2(fc, NULL, 0, 1, prover, &bad, &err), PF_OK);
    pf_bytes_free(&bad);

    int valid = -1;
    assert_int_equal(pf_fc_verify_seal(fc, 5, comm_r, comm_d, prover, ticket, seed, 77, proof.data,
                                       proof.len, &valid, &err), PF_OK);
    assert_int_equal(valid, 1);
    snprintf(want, sizeof want, "verify_seal proof=5 comm_r=%s comm_d=%s prover=%s ticket=%s "
             "seed=%s sector=77 len=192", h[0], h[1], h[2], h[3], h[4]);
    assert_string_equal(s->last_call(), want);
    assert_int_equal(pf_fc_verify_seal(fc, 5, comm_r, comm_d, prover, ticket, seed, 78, proof.data,
                                       proof.len, &valid, &err), PF_OK);
    assert_int_equal(valid, 0);
    assert_int_equal(pf_fc_verify_seal(fc, 25, comm_r, comm_d, prover, ticket, seed, 78,
                                       proof.data, proof.len, &valid, &err), PF_EINVAL);

    /* unseal: descriptors are duplicated, the caller's stay open in every case */
    char sealed[200], out[200];
    snprintf(sealed, sizeof sealed, "%s/sealed", s->dir);
    snprintf(out, sizeof out, "%s/out", s->dir);
    FILE *f = fopen(sealed, "w");
    fputs("S", f);
    fclose(f);
    int sfd = open(sealed, O_RDONLY), ofd = open(out, O_RDWR | O_CREAT | O_TRUNC, 0644);
    assert_int_equal(pf_fc_unseal_range(fc, 6, "/c", sfd, ofd, 9, prover, ticket, comm_d, 254,
                                        508, &err), PF_OK);
    assert_int_equal(pf_fc_unseal_range(fc, 6, "/c", sfd, ofd, 9, prover, ticket, comm_d, 0, 0,
                                        &err), PF_EBACKEND);
    assert_true(fcntl(sfd, F_GETFD) >= 0);
    assert_true(fcntl(ofd, F_GETFD) >= 0);
    assert_int_equal(write(ofd, "end\n", 4), 4);
    close(sfd);
    close(ofd);
    size_t n;
    char buf[200];
    f = fopen(out, "r");
    n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    assert_string_equal(buf, "unsealed 254+508 from S\nend\n");

    pf_bytes_free(&c1);
    pf_bytes_free(&proof);
    assert_int_equal(s->live_boxes(), 0);
    pf_filcrypto_close(fc);
}

static void test_post_calls(void **state)
{
    f_state *s = *state;
    pf_filcrypto *fc;
    pf_error err;
    assert_int_equal(pf_filcrypto_open(s->good, (1u << PF_STAGE_WINNING_POST) |
                                                    (1u << PF_STAGE_WINDOW_POST) |
                                                    (1u << PF_STAGE_VANILLA_POST), &fc, &err),
                     PF_OK);
    uint8_t rand[32], prover[32];
    fill(rand, 0x01);
    fill(prover, 0x41);
    pf_fc_replica r[3] = {
        { 13, 1001, { 0 }, "/store/a", "/sealed/a" },
        { 13, 1002, { 0 }, "/store/b", "/sealed/b" },
        { 13, 1003, { 0 }, "/store/c", "/sealed/c" },
    };
    for (int i = 0; i < 3; i++)
        fill(r[i].comm_r, (uint8_t)(0x80 + i));

    pf_fc_post_result res;
    assert_int_equal(pf_fc_generate_window_post(fc, rand, r, 3, prover, &res, &err), PF_OK);
    assert_int_equal(res.nproofs, 3);
    assert_int_equal(res.nfaulty, 0);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(res.proofs[i].post_proof_id, 13);
        assert_int_equal(res.proofs[i].proof.len, 72 + 8);
        assert_int_equal(res.proofs[i].proof.data[0], (uint8_t)(1001 + i));
        assert_memory_equal(res.proofs[i].proof.data + 8, r[i].comm_r, 32);
        assert_memory_equal(res.proofs[i].proof.data + 40, rand, 32);
        assert_memory_equal(res.proofs[i].proof.data + 72, r[i].cache_dir, 8);
    }
    assert_non_null(strstr(s->last_call(), "n=3 [13 1001 /store/a /sealed/a] [13 1002 /store/b "
                                           "/sealed/b] [13 1003 /store/c /sealed/c]"));
    /* the proofs verify through verify_window_post with the same replicas */
    int valid;
    assert_int_equal(pf_fc_verify_post(fc, 0, rand, r, 3, res.proofs, res.nproofs, prover, &valid,
                                       &err), PF_OK);
    assert_int_equal(valid, 1);
    char c[65];
    hex(c, r[2].comm_r, 32);
    assert_non_null(strstr(s->last_call(), c));
    assert_int_equal(pf_fc_verify_post(fc, 0, rand, r, 2, res.proofs, res.nproofs, prover, &valid,
                                       &err), PF_OK);
    assert_int_equal(valid, 0);
    pf_fc_post_result_free(&res);

    /* faulty sectors come back with the error */
    r[1].cache_dir = "/store/bad";
    assert_int_equal(pf_fc_generate_window_post(fc, rand, r, 3, prover, &res, &err), PF_EBACKEND);
    assert_non_null(strstr(err.msg, "faulty"));
    assert_int_equal(res.nfaulty, 1);
    assert_int_equal(res.faulty[0], 1002);
    assert_int_equal(res.nproofs, 0);
    pf_fc_post_result_free(&res);
    r[1].cache_dir = "/store/b";

    /* winning */
    assert_int_equal(pf_fc_generate_winning_post(fc, rand, r, 1, prover, &res, &err), PF_OK);
    assert_int_equal(res.nproofs, 1);
    assert_int_equal(pf_fc_verify_post(fc, 1, rand, r, 1, res.proofs, 1, prover, &valid, &err),
                     PF_OK);
    assert_int_equal(valid, 1);
    assert_non_null(strstr(s->last_call(), "verify_winning_post"));
    pf_fc_post_result_free(&res);

    /* vanilla proofs in, one proof out */
    uint64_t ch[3] = { 5, 1ULL << 40, 7 };
    pf_bytes v[2];
    assert_int_equal(pf_fc_generate_single_vanilla_proof(fc, &r[2], ch, 3, &v[0], &err), PF_OK);
    assert_non_null(strstr(s->last_call(), "proof=13 sector=1003 cache=/store/c replica=/sealed/c "
                                           "challenges=5,1099511627776,7"));
    assert_int_equal(v[0].len, 40);
    assert_int_equal(v[0].data[0], (uint8_t)1003);
    assert_memory_equal(v[0].data + 8, r[2].comm_r, 32);
    assert_int_equal(pf_fc_generate_single_vanilla_proof(fc, &r[0], NULL, 0, &v[1], &err), PF_OK);
    assert_non_null(strstr(s->last_call(), "challenges="));
    assert_int_equal(pf_fc_generate_window_post_with_vanilla(fc, 13, rand, prover, v, 2, &res,
                                                             &err), PF_OK);
    assert_int_equal(res.nproofs, 1);
    assert_int_equal(res.proofs[0].proof.len, 82);
    assert_int_equal(res.proofs[0].proof.data[0], 40);
    assert_memory_equal(res.proofs[0].proof.data + 1, v[0].data, 40);
    assert_memory_equal(res.proofs[0].proof.data + 42, v[1].data, 40);
    pf_fc_post_result_free(&res);
    assert_int_equal(pf_fc_generate_winning_post_with_vanilla(fc, 3, rand, prover, v, 1, &res,
                                                              &err), PF_OK);
    assert_non_null(strstr(s->last_call(), "generate_winning_post_with_vanilla proof=3"));
    pf_fc_post_result_free(&res);
    assert_int_equal(pf_fc_generate_window_post_with_vanilla(fc, 99, rand, prover, v, 2, &res,
                                                             &err), PF_EINVAL);
    pf_bytes_free(&v[0]);
    pf_bytes_free(&v[1]);
    /* a stage not loaded */
    pf_bytes out;
    assert_int_equal(pf_fc_seal_commit_phase2(fc, (const uint8_t *)"x", 1, 1, prover, &out, &err),
                     PF_EUNSUPPORTED);
    assert_non_null(strstr(err.msg, "c2"));
    /* every buffer handed to the library was released by exactly one side */
    assert_int_equal(s->live_boxes(), 0);
    pf_filcrypto_close(fc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config),
        cmocka_unit_test(test_load_errors),
        cmocka_unit_test(test_seal_calls),
        cmocka_unit_test(test_post_calls),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
