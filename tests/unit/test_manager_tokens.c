/* test_manager_tokens.c — HS256 bearer tokens: the public JWT example, scopes, a wrong
 * scope set, tampering, "alg":"none", expiry, and the secret file's permissions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "sm_tokens.h"
#include "sp_fs.h"

/* The example token of RFC 7519's HS256 profile as published on jwt.io (secret
 * "your-256-bit-secret"); the signature was also recomputed with Python's hmac. */
static void test_jwt_known_answer(void **state)
{
    (void)state;
    char *t = NULL;
    const char *key = "your-256-bit-secret";
    assert_int_equal(sm_jwt_hs256((const uint8_t *)key, strlen(key), "{\"alg\":\"HS256\",\"typ\":\"JWT\"}",
                                  "{\"sub\":\"1234567890\",\"name\":\"John Doe\",\"iat\":1516239022}",
                                  &t, NULL), SP_OK);
    assert_string_equal(t, "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
                           "eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ."
                           "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c");
    free(t);
}

static void test_b64url(void **state)
{
    (void)state;
    char out[16];
    uint8_t back[16];
    /* RFC 4648 section 10 vectors, in the URL alphabet without padding */
    const char *in[] = { "", "f", "fo", "foo", "foob", "fooba", "foobar" };
    const char *want[] = { "", "Zg", "Zm8", "Zm9v", "Zm9vYg", "Zm9vYmE", "Zm9vYmFy" };
    for (int i = 0; i < 7; i++) {
        sm_b64url_encode((const uint8_t *)in[i], strlen(in[i]), out);
        assert_string_equal(out, want[i]);
        long n = sm_b64url_decode(want[i], strlen(want[i]), back, sizeof back);
        assert_int_equal(n, (long)strlen(in[i]));
        assert_memory_equal(back, in[i], (size_t)n);
    }
    uint8_t ff[2] = { 0xfb, 0xff };
    sm_b64url_encode(ff, 2, out);
    assert_string_equal(out, "-_8");
    assert_int_equal(sm_b64url_decode("Zm9v=", 5, back, sizeof back), -1);
    assert_int_equal(sm_b64url_decode("Z", 1, back, sizeof back), -1);
    assert_int_equal(sm_b64url_decode("Zh", 2, back, sizeof back), -1); /* non-zero spare bits */
    assert_int_equal(sm_b64url_decode("a+b/", 4, back, sizeof back), -1);
}

static sm_tokens key_of(uint8_t fill)
{
    sm_tokens t;
    memset(t.secret, fill, sizeof t.secret);
    return t;
}

static void test_scopes_and_expiry(void **state)
{
    (void)state;
    sm_tokens k = key_of(7);
    char *w = NULL, *a = NULL, *e = NULL;
    uint32_t scopes = 0;
    sp_err err;
    assert_int_equal(sm_token_create(&k, SM_SCOPE_WORKER, 0, &w, NULL), SP_OK);
    assert_int_equal(sm_token_create(&k, SM_SCOPE_ADMIN, 0, &a, NULL), SP_OK);
    assert_int_equal(sm_token_create(&k, SM_SCOPE_WORKER, 2000, &e, NULL), SP_OK);
    assert_int_equal(sm_token_verify(&k, w, 1000, &scopes, &err), SP_OK);
    assert_int_equal(scopes, SM_SCOPE_WORKER);
    assert_int_equal(sm_token_verify(&k, a, 1000, &scopes, &err), SP_OK);
    assert_int_equal(scopes, SM_SCOPE_ADMIN);
    /* expiry: valid before exp, refused at and after it */
    assert_int_equal(sm_token_verify(&k, e, 1999, &scopes, &err), SP_OK);
    assert_int_equal(sm_token_verify(&k, e, 2000, &scopes, &err), SP_EAUTH);
    assert_non_null(strstr(err.msg, "expired"));
    assert_int_equal(scopes, 0);
    /* another home's secret */
    sm_tokens other = key_of(8);
    assert_int_equal(sm_token_verify(&other, w, 1000, &scopes, &err), SP_EAUTH);
    assert_non_null(strstr(err.msg, "signature"));
    assert_int_equal(sm_token_create(&k, 0, 0, &e + 0, &err) == SP_EINVAL, 1);
    free(w);
    free(a);
    free(e);
    assert_int_equal(sm_scope_parse("worker"), SM_SCOPE_WORKER);
    assert_int_equal(sm_scope_parse("admin"), SM_SCOPE_ADMIN);
    assert_int_equal(sm_scope_parse("root"), 0);
}

static void test_tampered(void **state)
{
    (void)state;
    sm_tokens k = key_of(1);
    uint32_t scopes = 0;
    sp_err err;
    char *w = NULL, *t = NULL;
    assert_int_equal(sm_token_create(&k, SM_SCOPE_WORKER, 0, &w, NULL), SP_OK);
    /* flip one character in each part */
    size_t len = strlen(w);
    char *copy = strdup(w);
    for (size_t i = 0; i < len; i++) {
        if (copy[i] == '.')
            continue;
        char saved = copy[i];
        copy[i] = saved == 'A' ? 'B' : 'A';
        assert_int_equal(sm_token_verify(&k, copy, 0, &scopes, &err), SP_EAUTH);
        assert_null(strstr(err.msg, copy)); /* never echoes the token */
        copy[i] = saved;
    }
    free(copy);
    /* a payload upgraded to admin with the old signature */
    const char *dot2 = strrchr(w, '.');
    char forged[512];
    char *adm = NULL;
    assert_int_equal(sm_token_create(&k, SM_SCOPE_ADMIN, 0, &adm, NULL), SP_OK);
    const char *adm_dot2 = strrchr(adm, '.');
    snprintf(forged, sizeof forged, "%.*s%s", (int)(adm_dot2 - adm), adm, dot2);
    assert_int_equal(sm_token_verify(&k, forged, 0, &scopes, &err), SP_EAUTH);
    free(adm);
    /* alg none, a Lotus-style token without our scopes, malformed shapes */
    assert_int_equal(sm_jwt_hs256(k.secret, 32, "{\"alg\":\"none\"}", "{\"Allow\":[\"admin\"]}", &t,
                                  NULL), SP_OK);
    assert_int_equal(sm_token_verify(&k, t, 0, &scopes, &err), SP_EAUTH);
    assert_non_null(strstr(err.msg, "HS256"));
    free(t);
    assert_int_equal(sm_jwt_hs256(k.secret, 32, "{\"alg\":\"HS256\",\"typ\":\"JWT\"}",
                                  "{\"Allow\":[\"read\",\"write\",\"sign\"]}", &t, NULL), SP_OK);
    assert_int_equal(sm_token_verify(&k, t, 0, &scopes, &err), SP_EAUTH);
    assert_non_null(strstr(err.msg, "no manager scope"));
    free(t);
    assert_int_equal(sm_jwt_hs256(k.secret, 32, "{\"alg\":\"HS256\"}", "[1,2]", &t, NULL), SP_OK);
    assert_int_equal(sm_token_verify(&k, t, 0, &scopes, &err), SP_EAUTH);
    free(t);
    const char *bad[] = { "", "abc", "a.b", "a.b.c.d", "..", "e30.e30.", "!!.e30.AAAA" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(sm_token_verify(&k, bad[i], 0, &scopes, &err), SP_EAUTH);
    char *huge = malloc(10000);
    memset(huge, 'a', 9999);
    huge[9999] = 0;
    assert_int_equal(sm_token_verify(&k, huge, 0, &scopes, &err), SP_EAUTH);
    free(huge);
    free(w);
}

static void test_secret_file(void **state)
{
    (void)state;
    char dir[] = "/tmp/sm-tok-XXXXXX", path[256];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/token.secret", dir);
    sp_err err;
    assert_int_equal(sm_tokens_create_secret(path, &err), SP_OK);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(st.st_size, 65);
    /* never overwritten */
    assert_int_equal(sm_tokens_create_secret(path, &err), SP_EEXIST);
    sm_tokens a, b;
    assert_int_equal(sm_tokens_load(path, &a, &err), SP_OK);
    assert_int_equal(sm_tokens_load(path, &b, &err), SP_OK);
    assert_memory_equal(a.secret, b.secret, 32);
    char *t = NULL;
    uint32_t scopes;
    assert_int_equal(sm_token_create(&a, SM_SCOPE_ADMIN, 0, &t, NULL), SP_OK);
    assert_int_equal(sm_token_verify(&b, t, 0, &scopes, &err), SP_OK);
    free(t);
    /* readable by others: refused with the fix in the message */
    chmod(path, 0644);
    assert_int_equal(sm_tokens_load(path, &a, &err), SP_EAUTH);
    assert_non_null(strstr(err.msg, "chmod 600"));
    chmod(path, 0600);
    /* garbage content */
    unlink(path);
    assert_int_equal(sp_write_file_atomic(path, "xyz\n", 4, 0600, &err), SP_OK);
    assert_int_equal(sm_tokens_load(path, &a, &err), SP_ECORRUPT);
    assert_int_equal(sp_remove_tree(dir, &err), SP_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_jwt_known_answer),
        cmocka_unit_test(test_b64url),
        cmocka_unit_test(test_scopes_and_expiry),
        cmocka_unit_test(test_tampered),
        cmocka_unit_test(test_secret_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
