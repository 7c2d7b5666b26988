/* tokens.c — HS256 JWT bearer tokens with scopes, and the secret file they are signed
 * with (contract in sm_tokens.h). */
#include "sm_tokens.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "sp_codec.h"
#include "sp_fs.h"
#include "sp_json.h"

const char *const sm_scope_names[] = { "worker", "admin", "retrieval", NULL };

#define TOKEN_MAX 4096
#define PART_MAX 1024

static const char B64URL[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

size_t sm_b64url_encode(const uint8_t *in, size_t len, char *out)
{
    size_t o = 0, i = 0;
    for (; i + 3 <= len; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        out[o++] = B64URL[v >> 18];
        out[o++] = B64URL[(v >> 12) & 63];
        out[o++] = B64URL[(v >> 6) & 63];
        out[o++] = B64URL[v & 63];
    }
    if (len - i == 1) {
        uint32_t v = (uint32_t)in[i] << 16;
        out[o++] = B64URL[v >> 18];
        out[o++] = B64URL[(v >> 12) & 63];
    } else if (len - i == 2) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
        out[o++] = B64URL[v >> 18];
        out[o++] = B64URL[(v >> 12) & 63];
        out[o++] = B64URL[(v >> 6) & 63];
    }
    out[o] = 0;
    return o;
}

static int b64url_val(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '-')
        return 62;
    if (c == '_')
        return 63;
    return -1;
}

long sm_b64url_decode(const char *in, size_t len, uint8_t *out, size_t cap)
{
    if (len % 4 == 1)
        return -1;
    size_t o = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < len; i++) {
        int v = b64url_val(in[i]);
        if (v < 0)
            return -1;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (o >= cap)
                return -1;
            out[o++] = (uint8_t)(acc >> bits);
        }
    }
    /* Leftover bits must be zero, so every token has one encoding. */
    if (bits && (acc & ((1u << bits) - 1)))
        return -1;
    return (long)o;
}

static void hs256(const uint8_t *key, size_t key_len, const char *data, size_t len,
                  uint8_t mac[32])
{
    unsigned int n = 32;
    HMAC(EVP_sha256(), key, (int)key_len, (const unsigned char *)data, len, mac, &n);
}

sp_code sm_jwt_hs256(const uint8_t *key, size_t key_len, const char *header_json,
                     const char *payload_json, char **out, sp_err *err)
{
    *out = NULL;
    size_t hl = strlen(header_json), pl = strlen(payload_json);
    if (hl > PART_MAX || pl > PART_MAX)
        return sp_fail(err, SP_EINVAL, "token: header or payload over %d bytes", PART_MAX);
    size_t cap = (hl + pl) * 4 / 3 + 64 + 8;
    char *t = malloc(cap);
    if (!t)
        return sp_fail(err, SP_ENOMEM, "token: out of memory");
    size_t n = sm_b64url_encode((const uint8_t *)header_json, hl, t);
    t[n++] = '.';
    n += sm_b64url_encode((const uint8_t *)payload_json, pl, t + n);
    uint8_t mac[32];
    hs256(key, key_len, t, n, mac);
    t[n++] = '.';
    sm_b64url_encode(mac, sizeof mac, t + n);
    *out = t;
    return SP_OK;
}

uint32_t sm_scope_parse(const char *name)
{
    for (unsigned i = 0; sm_scope_names[i]; i++)
        if (strcmp(name, sm_scope_names[i]) == 0)
            return 1u << i;
    return 0;
}

sp_code sm_token_create(const sm_tokens *t, uint32_t scopes, int64_t exp, char **out,
                        sp_err *err)
{
    char payload[256];
    size_t n = (size_t)snprintf(payload, sizeof payload, "{\"Allow\":[");
    bool first = true;
    for (unsigned i = 0; sm_scope_names[i]; i++) {
        if (!(scopes & (1u << i)))
            continue;
        n += (size_t)snprintf(payload + n, sizeof payload - n, "%s\"%s\"", first ? "" : ",",
                              sm_scope_names[i]);
        first = false;
    }
    if (first)
        return sp_fail(err, SP_EINVAL, "token: no scope given (worker, admin or retrieval)");
    n += (size_t)snprintf(payload + n, sizeof payload - n, "]");
    if (exp > 0)
        n += (size_t)snprintf(payload + n, sizeof payload - n, ",\"exp\":%lld", (long long)exp);
    snprintf(payload + n, sizeof payload - n, "}");
    return sm_jwt_hs256(t->secret, sizeof t->secret, "{\"alg\":\"HS256\",\"typ\":\"JWT\"}",
                        payload, out, err);
}

/* Decodes one base64url part holding a JSON object. */
static sp_code part_json(const char *p, size_t len, const char *what, cJSON **out, sp_err *err)
{
    uint8_t buf[PART_MAX];
    long n = sm_b64url_decode(p, len, buf, sizeof buf);
    if (n < 0)
        return sp_fail(err, SP_EAUTH, "the token's %s is not base64url or is too long", what);
    if (sp_json_parse((const char *)buf, (size_t)n, 4, out, NULL) != SP_OK || !cJSON_IsObject(*out)) {
        cJSON_Delete(*out);
        *out = NULL;
        return sp_fail(err, SP_EAUTH, "the token's %s is not a JSON object", what);
    }
    return SP_OK;
}

sp_code sm_token_verify(const sm_tokens *t, const char *token, int64_t now, uint32_t *scopes,
                        sp_err *err)
{
    *scopes = 0;
    size_t len = strnlen(token, TOKEN_MAX + 1);
    if (len == 0 || len > TOKEN_MAX)
        return sp_fail(err, SP_EAUTH, "the token is empty or longer than %d bytes", TOKEN_MAX);
    const char *d1 = memchr(token, '.', len);
    const char *d2 = d1 ? memchr(d1 + 1, '.', len - (size_t)(d1 + 1 - token)) : NULL;
    if (!d1 || !d2 || memchr(d2 + 1, '.', len - (size_t)(d2 + 1 - token)))
        return sp_fail(err, SP_EAUTH, "the token is not a JWT (three base64url parts joined by dots)");

    cJSON *hdr = NULL, *pay = NULL;
    sp_code rc = part_json(token, (size_t)(d1 - token), "header", &hdr, err);
    if (rc)
        return rc;
    const cJSON *alg = cJSON_GetObjectItemCaseSensitive(hdr, "alg");
    if (!cJSON_IsString(alg) || strcmp(alg->valuestring, "HS256") != 0) {
        rc = sp_fail(err, SP_EAUTH, "the token's algorithm is not HS256");
        goto out;
    }
    uint8_t mac[32], want[32];
    const char *sig = d2 + 1;
    if (sm_b64url_decode(sig, len - (size_t)(sig - token), mac, sizeof mac) != 32) {
        rc = sp_fail(err, SP_EAUTH, "the token's signature is not 32 bytes of base64url");
        goto out;
    }
    hs256(t->secret, sizeof t->secret, token, (size_t)(d2 - token), want);
    if (CRYPTO_memcmp(mac, want, 32) != 0) {
        rc = sp_fail(err, SP_EAUTH, "bad signature (a token of another manager home, or altered)");
        goto out;
    }
    if ((rc = part_json(d1 + 1, (size_t)(d2 - d1 - 1), "payload", &pay, err)))
        goto out;
    const cJSON *exp = cJSON_GetObjectItemCaseSensitive(pay, "exp");
    if (exp && !cJSON_IsNull(exp)) {
        if (!cJSON_IsNumber(exp)) {
            rc = sp_fail(err, SP_EAUTH, "the token's exp is not a number");
            goto out;
        }
        if ((double)now >= exp->valuedouble) {
            rc = sp_fail(err, SP_EAUTH, "the token expired at %.0f (unix time); create a new one "
                         "with `sector-manager auth create-token`", exp->valuedouble);
            goto out;
        }
    }
    const cJSON *allow = cJSON_GetObjectItemCaseSensitive(pay, "Allow");
    uint32_t bits = 0;
    if (cJSON_IsArray(allow)) {
        const cJSON *it;
        cJSON_ArrayForEach(it, allow)
            if (cJSON_IsString(it))
                bits |= sm_scope_parse(it->valuestring);
    }
    if (!bits) {
        rc = sp_fail(err, SP_EAUTH, "the token grants no manager scope (Allow must list worker, admin or retrieval)");
        goto out;
    }
    *scopes = bits;
out:
    cJSON_Delete(hdr);
    cJSON_Delete(pay);
    return rc;
}

/* ---- secret file ----------------------------------------------------------------------- */

sp_code sm_tokens_create_secret(const char *path, sp_err *err)
{
    uint8_t key[32];
    if (getrandom(key, sizeof key, 0) != (ssize_t)sizeof key)
        return sp_fail_errno(err, errno, "token secret: drawing random bytes");
    char hex[65];
    sp_hex_encode(key, sizeof key, hex);
    hex[64] = '\n';
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        return sp_fail_errno(err, errno, "token secret %s: cannot create it", path);
    ssize_t w = write(fd, hex, 65);
    int saved = errno;
    if (w != 65 || fsync(fd) != 0) {
        close(fd);
        unlink(path);
        return sp_fail_errno(err, w < 0 ? saved : EIO, "token secret %s: write failed", path);
    }
    close(fd);
    return SP_OK;
}

sp_code sm_tokens_load(const char *path, sm_tokens *out, sp_err *err)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return sp_fail_errno(err, errno, "token secret %s", path);
    if (!S_ISREG(st.st_mode))
        return sp_fail(err, SP_EINVAL, "token secret %s is not a regular file", path);
    if (st.st_mode & 077)
        return sp_fail(err, SP_EAUTH, "token secret %s has mode %04o: others may read it; run "
                       "chmod 600 %s", path, (unsigned)(st.st_mode & 07777), path);
    char *text = NULL;
    size_t len = 0;
    sp_code rc = sp_read_file(path, 256, &text, &len, err);
    if (rc)
        return rc;
    while (len && (text[len - 1] == '\n' || text[len - 1] == '\r' || text[len - 1] == ' '))
        text[--len] = 0;
    rc = sp_hex_decode(text, out->secret, sizeof out->secret, NULL);
    explicit_bzero(text, len);
    free(text);
    if (rc)
        return sp_fail(err, SP_ECORRUPT, "token secret %s does not hold 64 hex digits", path);
    return SP_OK;
}
