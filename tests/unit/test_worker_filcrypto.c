/* test_worker_filcrypto.c — the worker's c2 stage with backend = "filcrypto" against a fake
 * libfilcrypto this test builds from tests/unit/fake_filcrypto.c (the real library cannot
 * be obtained here; the fake's "proof" is 192 bytes: the sector id, the prover id and the
 * first 32 bytes of the C1 input it was given, then 0xab).  A 2KiB sector is sealed through
 * the worker's own stage tasks (add_pieces, tree_d, pc1, pc2, c1 in-process), then:
 *   - the native c2 makes a proof pf_verify_seal accepts (the same C1 file);
 *   - the filcrypto c2 hands libfilcrypto exactly filecoin-ffi's JSON of that C1 output
 *     (pf_c1_convert's bytes: length and first 32 bytes), with the sector and prover id,
 *     and writes what the library returned as the proof, with its length and SHA-256;
 *   - without a loaded library the stage refuses, saying where filcrypto runs;
 *   - a processor child that cannot load its library answers {"fatal"} (see
 *     test_worker_processor) — here, the loader's message for a missing file names it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sealproofs.h"
#include "sealproofs/filcrypto.h"
#include "sealproofs/formats.h"
#include "sp_codec.h"
#include "sp_fs.h"
#include "sp_json.h"
#include "sp_log.h"
#include "wk_stages.h"

typedef struct fx {
    char dir[128];
    char lib[256];
    void *probe;
    const char *(*last_call)(void);
} fx;

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    *state = f;
    sp_log_init("test_worker_filcrypto", SP_LOG_WARN);
    snprintf(f->dir, sizeof f->dir, "/tmp/test_worker_fc.XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    const char *root = getenv("SP_ROOT") ? getenv("SP_ROOT") : ".";
    const char *cc = getenv("CC") ? getenv("CC") : "cc";
    snprintf(f->lib, sizeof f->lib, "%s/fake.so", f->dir);
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "%s -std=c11 -D_GNU_SOURCE -O1 -shared -fPIC -fvisibility=hidden "
             "-I%s/proofs-ffi/src -o %s %s/tests/unit/fake_filcrypto.c", cc, root, f->lib, root);
    if (system(cmd) != 0) {
        fprintf(stderr, "cannot compile the fake libfilcrypto (needs cc)\n");
        return -1;
    }
    /* the same file opened again shares the fake's records with the loader's handle */
    f->probe = dlopen(f->lib, RTLD_NOW | RTLD_LOCAL);
    if (!f->probe)
        return -1;
    *(void **)&f->last_call = dlsym(f->probe, "fake_last_call");
    return f->last_call ? 0 : -1;
}

static int teardown(void **state)
{
    fx *f = *state;
    if (f->probe)
        dlclose(f->probe);
    sp_remove_tree(f->dir, NULL);
    free(f);
    return 0;
}

/* Runs a stage task given as JSON text with %s/%llu fields already filled. */
static cJSON *run(wk_stage stage, const char *json, const wk_stage_env *env)
{
    cJSON *task = cJSON_Parse(json), *out = NULL;
    assert_non_null(task);
    wk_level lv;
    sp_err err;
    if (wk_stage_run(stage, task, env, &out, &lv, &err) != SP_OK)
        fail_msg("%s: %s", wk_stage_name(stage), err.msg);
    cJSON_Delete(task);
    return out;
}

static void hex32(const cJSON *o, const char *key, char out[65], uint8_t bin[32])
{
    const cJSON *v = cJSON_GetObjectItem(o, key);
    assert_true(cJSON_IsString(v) && strlen(v->valuestring) == 64);
    snprintf(out, 65, "%s", v->valuestring);
    if (bin)
        assert_int_equal(sp_hex_decode(out, bin, 32, NULL), SP_OK);
}

static void test_c2_through_filcrypto(void **state)
{
    fx *f = *state;
    enum { SECTOR = 7 };
    char staged[300], cache[300], sealed[300], c1[300], proof_n[300], proof_f[300], parents[300];
    snprintf(staged, sizeof staged, "%s/staged", f->dir);
    snprintf(cache, sizeof cache, "%s/cache", f->dir);
    snprintf(sealed, sizeof sealed, "%s/sealed", f->dir);
    snprintf(c1, sizeof c1, "%s/c1.bin", f->dir);
    snprintf(proof_n, sizeof proof_n, "%s/proof.native", f->dir);
    snprintf(proof_f, sizeof proof_f, "%s/proof.filcrypto", f->dir);
    snprintf(parents, sizeof parents, "%s/parents", f->dir);
    uint8_t prover[32], ticket[32], seed[32], comm_d[32], comm_r[32];
    char prover_h[65], ticket_h[65], seed_h[65], comm_d_h[65], comm_r_h[65];
    pf_prover_id_from_actor(1000, prover);
    for (int i = 0; i < 32; i++) {
        ticket[i] = (uint8_t)(i + 1);
        seed[i] = (uint8_t)(100 + i);
    }
    sp_hex_encode(prover, 32, prover_h);
    sp_hex_encode(ticket, 32, ticket_h);
    sp_hex_encode(seed, 32, seed_h);

    char task[4096];
    cJSON *out;
    snprintf(task, sizeof task, "{\"proof\":5,\"staged\":\"%s\",\"pieces\":[]}", staged);
    cJSON_Delete(run(WK_STAGE_ADD_PIECES, task, NULL));
    snprintf(task, sizeof task, "{\"proof\":5,\"staged\":\"%s\",\"cache\":\"%s\"}", staged, cache);
    out = run(WK_STAGE_TREE_D, task, NULL);
    hex32(out, "comm_d", comm_d_h, comm_d);
    cJSON_Delete(out);
    snprintf(task, sizeof task, "{\"proof\":5,\"cache\":\"%s\",\"sector_id\":%d,\"prover_id\":\"%s\","
             "\"ticket\":\"%s\",\"comm_d\":\"%s\",\"parent_cache\":\"%s\"}", cache, SECTOR, prover_h,
             ticket_h, comm_d_h, parents);
    out = run(WK_STAGE_PC1, task, NULL);
    char pc1out[400];
    snprintf(pc1out, sizeof pc1out, "%s", cJSON_GetObjectItem(out, "pc1out")->valuestring);
    cJSON_Delete(out);
    snprintf(task, sizeof task, "{\"pc1out\":\"%s\",\"cache\":\"%s\",\"staged\":\"%s\",\"sealed\":\"%s\"}",
             pc1out, cache, staged, sealed);
    out = run(WK_STAGE_PC2, task, NULL);
    hex32(out, "comm_r", comm_r_h, comm_r);
    cJSON_Delete(out);
    snprintf(task, sizeof task, "{\"proof\":5,\"cache\":\"%s\",\"sealed\":\"%s\",\"out\":\"%s\","
             "\"sector_id\":%d,\"prover_id\":\"%s\",\"ticket\":\"%s\",\"seed\":\"%s\","
             "\"comm_d\":\"%s\",\"comm_r\":\"%s\"}", cache, sealed, c1, SECTOR, prover_h, ticket_h,
             seed_h, comm_d_h, comm_r_h);
    cJSON_Delete(run(WK_STAGE_C1, task, NULL));

    /* native C2: a proof the verifier accepts */
    snprintf(task, sizeof task, "{\"c1\":\"%s\",\"out\":\"%s\",\"sector_id\":%d,\"prover_id\":\"%s\"}",
             c1, proof_n, SECTOR, prover_h);
    cJSON_Delete(run(WK_STAGE_C2, task, NULL));
    char *pn = NULL;
    size_t pn_len = 0;
    assert_int_equal(sp_read_file(proof_n, 1 << 24, &pn, &pn_len, NULL), SP_OK);
    pf_error pe;
    assert_int_equal(pf_verify_seal(5, comm_r, comm_d, prover, ticket, seed, SECTOR,
                                    (const uint8_t *)pn, pn_len, &pe), PF_OK);
    free(pn);

    /* filcrypto C2 on the same native C1 output */
    pf_filcrypto *fc = NULL;
    if (pf_filcrypto_open(f->lib, 1u << PF_STAGE_C2, &fc, &pe) != PF_OK)
        fail_msg("loading the fake: %s", pe.msg);
    wk_stage_env env = { .slots = 1, .backend = WK_BACKEND_FILCRYPTO, .filcrypto = fc };
    snprintf(task, sizeof task, "{\"c1\":\"%s\",\"out\":\"%s\",\"sector_id\":%d,\"prover_id\":\"%s\"}",
             c1, proof_f, SECTOR, prover_h);
    out = run(WK_STAGE_C2, task, &env);
    char *pf = NULL;
    size_t pf_len = 0;
    assert_int_equal(sp_read_file(proof_f, 1 << 24, &pf, &pf_len, NULL), SP_OK);
    assert_int_equal(pf_len, 192);
    uint8_t h[32], want_h[32];
    pf_sha256(pf, pf_len, h);
    char hh[65];
    hex32(out, "sha256", hh, want_h);
    assert_memory_equal(h, want_h, 32);
    assert_int_equal((uint64_t)cJSON_GetObjectItem(out, "len")->valuedouble, 192);
    cJSON_Delete(out);
    /* what the library got: filecoin-ffi's JSON of the C1 output, sector and prover */
    char *c1_bytes = NULL;
    size_t c1_len = 0;
    assert_int_equal(sp_read_file(c1, 1 << 30, &c1_bytes, &c1_len, NULL), SP_OK);
    assert_int_equal(pf_c1_format_detect((const uint8_t *)c1_bytes, c1_len), PF_FORMAT_NATIVE);
    pf_c1_read_args ra = { .proof_id = -1, .sector_id = SECTOR, .prover_id = prover };
    uint8_t *json = NULL;
    size_t json_len = 0;
    assert_int_equal(pf_c1_convert((const uint8_t *)c1_bytes, c1_len, PF_FORMAT_RUST_JSON, &ra, &json,
                                   &json_len, NULL, &pe), PF_OK);
    assert_memory_equal(json, "{\"registered_proof\":\"StackedDrg2", 32);
    uint8_t le[8];
    for (int i = 0; i < 8; i++)
        le[i] = (uint8_t)((uint64_t)SECTOR >> (8 * i));
    assert_memory_equal(pf, le, 8);
    assert_memory_equal(pf + 8, prover, 32);
    assert_memory_equal(pf + 40, json, 32);
    char want_call[256];
    snprintf(want_call, sizeof want_call, "seal_commit_phase2 len=%zu sector=%d prover=%s",
             json_len, SECTOR, prover_h);
    assert_string_equal(f->last_call(), want_call);
    free(json);
    free(c1_bytes);
    free(pf);

    /* the filcrypto backend without a loaded library: refused, saying where it runs */
    env.filcrypto = NULL;
    cJSON *t = cJSON_Parse(task), *o2 = NULL;
    wk_level lv;
    sp_err err;
    assert_int_equal(wk_stage_run(WK_STAGE_C2, t, &env, &o2, &lv, &err), SP_EINVAL);
    assert_non_null(strstr(err.msg, "runs only in a c2 processor"));
    assert_int_equal(lv, WK_LEVEL_PERMANENT);
    cJSON_Delete(t);
    pf_filcrypto_close(fc);
}

/* The loader's message for a library that is not there names the path (the worker prints
 * it when it refuses to start; e2e worker_filcrypto.sh checks the daemon). */
static void test_missing_library_named(void **state)
{
    fx *f = *state;
    char path[300];
    snprintf(path, sizeof path, "%s/no-such/libfilcrypto.so", f->dir);
    pf_filcrypto *fc = NULL;
    pf_error pe;
    assert_int_not_equal(pf_filcrypto_open(path, 1u << PF_STAGE_C2, &fc, &pe), PF_OK);
    assert_null(fc);
    assert_non_null(strstr(pe.msg, path));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_c2_through_filcrypto),
        cmocka_unit_test(test_missing_library_named),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
