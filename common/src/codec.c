/* codec.c — sp_codec: hex and base64 encoders/decoders. */
#include "sp_codec.h"

#include <stdlib.h>
#include <string.h>

static const char hexdig[] = "0123456789abcdef";

void sp_hex_encode(const uint8_t *in, size_t len, char *out)
{
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = hexdig[in[i] >> 4];
        out[2 * i + 1] = hexdig[in[i] & 15];
    }
    out[2 * len] = 0;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static const char *skip_0x(const char *hex)
{
    if (hex[0] == '0' && (hex[1] == 'x' || hex[1] == 'X'))
        return hex + 2;
    return hex;
}

static sp_code decode_digits(const char *h, size_t n, uint8_t *out, sp_err *err)
{
    for (size_t i = 0; i < n; i++) {
        int a = hexval(h[2 * i]), b = hexval(h[2 * i + 1]);
        if (a < 0 || b < 0)
            return sp_fail(err, SP_EINVAL, "hex: invalid character at position %zu",
                           2 * i + (a < 0 ? 0 : 1));
        out[i] = (uint8_t)(a << 4 | b);
    }
    return SP_OK;
}

sp_code sp_hex_decode(const char *hex, uint8_t *out, size_t want, sp_err *err)
{
    if (!hex)
        return sp_fail(err, SP_EINVAL, "hex: missing value");
    const char *h = skip_0x(hex);
    size_t n = strlen(h);
    if (n != 2 * want)
        return sp_fail(err, SP_EINVAL, "hex: expected %zu hex digits (%zu bytes), got %zu",
                       2 * want, want, n);
    return decode_digits(h, want, out, err);
}

sp_code sp_hex_decode_alloc(const char *hex, uint8_t **out, size_t *out_len, sp_err *err)
{
    if (!hex)
        return sp_fail(err, SP_EINVAL, "hex: missing value");
    const char *h = skip_0x(hex);
    size_t n = strlen(h);
    if (n % 2)
        return sp_fail(err, SP_EINVAL, "hex: odd number of digits (%zu)", n);
    uint8_t *buf = malloc(n / 2 + 1);
    if (!buf)
        return sp_fail(err, SP_ENOMEM, "hex: out of memory");
    sp_code rc = decode_digits(h, n / 2, buf, err);
    if (rc) {
        free(buf);
        return rc;
    }
    *out = buf;
    *out_len = n / 2;
    return SP_OK;
}

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t sp_base64_encoded_len(size_t len) { return (len + 2) / 3 * 4; }

void sp_base64_encode(const uint8_t *in, size_t len, char *out)
{
    size_t o = 0, i = 0;
    for (; i + 2 < len; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        out[o++] = b64[v >> 18];
        out[o++] = b64[(v >> 12) & 63];
        out[o++] = b64[(v >> 6) & 63];
        out[o++] = b64[v & 63];
    }
    if (i < len) {
        uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < len ? (uint32_t)in[i + 1] << 8 : 0);
        out[o++] = b64[v >> 18];
        out[o++] = b64[(v >> 12) & 63];
        out[o++] = i + 1 < len ? b64[(v >> 6) & 63] : '=';
        out[o++] = '=';
    }
    out[o] = 0;
}

static int b64val(char c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

sp_code sp_base64_decode_alloc(const char *text, uint8_t **out, size_t *out_len, sp_err *err)
{
    if (!text)
        return sp_fail(err, SP_EINVAL, "base64: missing value");
    size_t n = strlen(text);
    while (n > 0 && text[n - 1] == '=')
        n--;
    if (strlen(text) - n > 2 || n % 4 == 1)
        return sp_fail(err, SP_EINVAL, "base64: invalid length or padding");
    uint8_t *buf = malloc(n * 3 / 4 + 3);
    if (!buf)
        return sp_fail(err, SP_ENOMEM, "base64: out of memory");
    size_t o = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        int v = b64val(text[i]);
        if (v < 0) {
            free(buf);
            return sp_fail(err, SP_EINVAL, "base64: invalid character at position %zu", i);
        }
        acc = acc << 6 | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            buf[o++] = (uint8_t)(acc >> bits);
        }
    }
    *out = buf;
    *out_len = o;
    return SP_OK;
}

sp_code sp_base64_decode(const char *text, uint8_t *out, size_t want, sp_err *err)
{
    uint8_t *buf;
    size_t len;
    sp_code rc = sp_base64_decode_alloc(text, &buf, &len, err);
    if (rc)
        return rc;
    if (len != want) {
        free(buf);
        return sp_fail(err, SP_EINVAL, "base64: expected %zu bytes, got %zu", want, len);
    }
    memcpy(out, buf, len);
    free(buf);
    return SP_OK;
}
