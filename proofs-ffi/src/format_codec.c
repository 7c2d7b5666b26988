/* format_codec.c — the two serde encodings rust-fil-proofs uses, as an encoder and a
 * strict decoder driven by the structure walkers (format_internal.h):
 *  - bincode 1.x as bincode::serialize configures it: little endian, fixed-width integers,
 *    u64 lengths, u32 enum variant indices, Option as a u8 tag, unit values as nothing;
 *  - JSON as serde_json writes it (compact, declaration order) and reads it (any field
 *    order, whitespace, exact integers, no trailing data).
 * Bounds are checked before every read; lengths taken from the input are limited by the
 * caller's maximum and by what the rest of the input can hold. */
#include "format_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- output buffer ---- */

static int fb_reserve(fmt_buf *b, size_t n)
{
    if (b->oom)
        return -1;
    if (b->cap - b->len >= n)
        return 0;
    size_t cap = b->cap ? b->cap : 256;
    while (cap - b->len < n) {
        if (cap > SIZE_MAX / 2) {
            b->oom = 1;
            return -1;
        }
        cap *= 2;
    }
    uint8_t *p = realloc(b->p, cap);
    if (!p) {
        b->oom = 1;
        return -1;
    }
    b->p = p;
    b->cap = cap;
    return 0;
}

void fb_put(fmt_buf *b, const void *data, size_t n)
{
    if (n && !fb_reserve(b, n)) {
        memcpy(b->p + b->len, data, n);
        b->len += n;
    }
}

void fb_byte(fmt_buf *b, uint8_t c)
{
    if (!fb_reserve(b, 1))
        b->p[b->len++] = c;
}

void fb_le32(fmt_buf *b, uint32_t v)
{
    uint8_t t[4];
    pf_put_le32(t, v);
    fb_put(b, t, 4);
}

void fb_le64(fmt_buf *b, uint64_t v)
{
    uint8_t t[8];
    pf_put_le64(t, v);
    fb_put(b, t, 8);
}

void fb_dec(fmt_buf *b, uint64_t v)
{
    char t[24];
    int n = 0;
    do {
        t[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    if (fb_reserve(b, (size_t)n))
        return;
    while (n)
        b->p[b->len++] = (uint8_t)t[--n];
}

void fb_free(fmt_buf *b)
{
    free(b->p);
    memset(b, 0, sizeof *b);
}

/* ---- encoder ---- */

void fe_init(fmt_enc *e, fmt_syntax syn, size_t reserve)
{
    memset(e, 0, sizeof *e);
    e->syn = syn;
    if (reserve)
        fb_reserve(&e->b, reserve);
}

static void fe_open(fmt_enc *e, uint8_t c)
{
    fb_byte(&e->b, c);
    if (e->depth + 1 < FMT_MAX_DEPTH)
        e->first[++e->depth] = 1;
    else
        e->b.oom = 1;   /* cannot happen with rust's structures; never write garbage */
}

static void fe_close(fmt_enc *e, uint8_t c)
{
    fb_byte(&e->b, c);
    if (e->depth > 0)
        e->depth--;
}

static void fe_sep(fmt_enc *e)
{
    if (!e->first[e->depth])
        fb_byte(&e->b, ',');
    e->first[e->depth] = 0;
}

static void fe_quoted(fmt_enc *e, const char *s)
{
    fb_byte(&e->b, '"');
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            fb_byte(&e->b, '\\');
            fb_byte(&e->b, c);
        } else if (c < 0x20) {
            char t[8];
            snprintf(t, sizeof t, "\\u%04x", c);
            fb_put(&e->b, t, 6);
        } else {
            fb_byte(&e->b, c);
        }
    }
    fb_byte(&e->b, '"');
}

void fe_struct_begin(fmt_enc *e)
{
    if (e->syn == FMT_JSON)
        fe_open(e, '{');
}

void fe_field(fmt_enc *e, const char *name)
{
    if (e->syn != FMT_JSON)
        return;
    fe_sep(e);
    fe_quoted(e, name);
    fb_byte(&e->b, ':');
}

void fe_struct_end(fmt_enc *e)
{
    if (e->syn == FMT_JSON)
        fe_close(e, '}');
}

void fe_seq_begin(fmt_enc *e, uint64_t n)
{
    if (e->syn == FMT_JSON)
        fe_open(e, '[');
    else
        fb_le64(&e->b, n);
}

void fe_elem(fmt_enc *e)
{
    if (e->syn == FMT_JSON)
        fe_sep(e);
}

void fe_seq_end(fmt_enc *e)
{
    if (e->syn == FMT_JSON)
        fe_close(e, ']');
}

void fe_variant_begin(fmt_enc *e, uint32_t index, const char *name)
{
    if (e->syn == FMT_JSON) {
        fb_byte(&e->b, '{');
        fe_quoted(e, name);
        fb_byte(&e->b, ':');
    } else {
        fb_le32(&e->b, index);
    }
}

void fe_variant_end(fmt_enc *e)
{
    if (e->syn == FMT_JSON)
        fb_byte(&e->b, '}');
}

void fe_unit_variant(fmt_enc *e, uint32_t index, const char *name)
{
    if (e->syn == FMT_JSON)
        fe_quoted(e, name);
    else
        fb_le32(&e->b, index);
}

void fe_u32(fmt_enc *e, uint32_t v)
{
    if (e->syn == FMT_JSON)
        fb_dec(&e->b, v);
    else
        fb_le32(&e->b, v);
}

void fe_u64(fmt_enc *e, uint64_t v)
{
    if (e->syn == FMT_JSON)
        fb_dec(&e->b, v);
    else
        fb_le64(&e->b, v);
}

void fe_domain(fmt_enc *e, const uint8_t v[32])
{
    if (e->syn != FMT_JSON) {
        fb_put(&e->b, v, 32);
        return;
    }
    /* at most "255," per byte plus the brackets */
    if (fb_reserve(&e->b, 32 * 4 + 2))
        return;
    uint8_t *o = e->b.p + e->b.len;
    *o++ = '[';
    for (int i = 0; i < 32; i++) {
        unsigned c = v[i];
        if (c >= 100)
            *o++ = (uint8_t)('0' + c / 100);
        if (c >= 10)
            *o++ = (uint8_t)('0' + c / 10 % 10);
        *o++ = (uint8_t)('0' + c % 10);
        *o++ = i < 31 ? ',' : ']';
    }
    e->b.len = (size_t)(o - e->b.p);
}

void fe_unit(fmt_enc *e)
{
    if (e->syn == FMT_JSON)
        fb_put(&e->b, "null", 4);
}

void fe_string(fmt_enc *e, const char *s)
{
    if (e->syn == FMT_JSON) {
        fe_quoted(e, s);
    } else {
        size_t n = strlen(s);
        fb_le64(&e->b, n);
        fb_put(&e->b, s, n);
    }
}

void fe_option_u64(fmt_enc *e, int present, uint64_t v)
{
    if (e->syn == FMT_JSON) {
        if (present)
            fb_dec(&e->b, v);
        else
            fb_put(&e->b, "null", 4);
    } else {
        fb_byte(&e->b, present ? 1 : 0);
        if (present)
            fb_le64(&e->b, v);
    }
}

pf_status fe_finish(fmt_enc *e, uint8_t **buf, size_t *len, pf_error *err)
{
    if (e->b.oom) {
        fb_free(&e->b);
        return pf_cm_fail(err, PF_ENOMEM, "out of memory while encoding");
    }
    *buf = e->b.p ? e->b.p : malloc(1);
    *len = e->b.len;
    memset(&e->b, 0, sizeof e->b);
    if (!*buf)
        return pf_cm_fail(err, PF_ENOMEM, "out of memory while encoding");
    pf_cm_ok(err);
    return PF_OK;
}

/* ---- decoder core ---- */

void fd_init(fmt_dec *d, fmt_syntax syn, const uint8_t *buf, size_t len, const char *what,
             pf_error *err)
{
    memset(d, 0, sizeof *d);
    d->syn = syn;
    d->start = d->p = buf;
    d->end = buf + len;
    d->what = what;
    d->err = err;
    pf_cm_ok(err);
}

int fd_fail(fmt_dec *d, const char *fmt, ...)
{
    if (d->failed)
        return -1;
    d->failed = 1;
    if (!d->err)
        return -1;
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    pf_cm_fail(d->err, PF_EINVAL, "%s: byte %zu%s%s: %s", d->what, (size_t)(d->p - d->start),
               d->wlen ? ", " : "", d->wlen ? d->where + (d->where[0] == '.') : "", msg);
    return -1;
}

pf_status fd_status(const fmt_dec *d)
{
    return d->failed ? PF_EINVAL : PF_OK;
}

size_t fd_push(fmt_dec *d, const char *name)
{
    size_t mark = d->wlen;
    int n = snprintf(d->where + d->wlen, sizeof d->where - d->wlen, ".%s", name);
    if (n > 0)
        d->wlen = d->wlen + (size_t)n < sizeof d->where ? d->wlen + (size_t)n
                                                        : sizeof d->where - 1;
    return mark;
}

size_t fd_push_index(fmt_dec *d, uint64_t i)
{
    size_t mark = d->wlen;
    int n = snprintf(d->where + d->wlen, sizeof d->where - d->wlen, "[%llu]",
                     (unsigned long long)i);
    if (n > 0)
        d->wlen = d->wlen + (size_t)n < sizeof d->where ? d->wlen + (size_t)n
                                                        : sizeof d->where - 1;
    return mark;
}

void fd_pop(fmt_dec *d, size_t mark)
{
    if (mark < sizeof d->where) {
        d->wlen = mark;
        d->where[mark] = 0;
    }
}

static int fd_take(fmt_dec *d, size_t n, const uint8_t **out)
{
    *out = d->p;
    if (d->failed)
        return -1;
    if ((size_t)(d->end - d->p) < n)
        return fd_fail(d, "the input ends here, %zu more bytes needed (truncated)",
                       n - (size_t)(d->end - d->p));
    *out = d->p;
    d->p += n;
    return 0;
}

static int fd_enter(fmt_dec *d)
{
    if (d->depth + 1 >= FMT_MAX_DEPTH)
        return fd_fail(d, "nested too deeply");
    d->depth++;
    memset(&d->lvl[d->depth], 0, sizeof d->lvl[d->depth]);
    d->lvl[d->depth].first = 1;
    return 0;
}

static void fd_leave(fmt_dec *d)
{
    if (d->depth > 0)
        d->depth--;
}

/* ---- JSON lexing ---- */

static void js_ws(fmt_dec *d)
{
    while (d->p < d->end && (*d->p == ' ' || *d->p == '\t' || *d->p == '\n' || *d->p == '\r'))
        d->p++;
}

/* Skips whitespace and returns the next character without consuming it, or -1 at the end. */
static int js_peek(fmt_dec *d)
{
    js_ws(d);
    return d->p < d->end ? *d->p : -1;
}

static int js_expect(fmt_dec *d, char c, const char *what)
{
    if (d->failed)
        return -1;
    int n = js_peek(d);
    if (n != c) {
        if (n < 0)
            return fd_fail(d, "the input ends where %s was expected (truncated)", what);
        return fd_fail(d, "expected %s, found '%c'", what, n >= 0x20 && n < 0x7f ? n : '?');
    }
    d->p++;
    return 0;
}

/* A string without escapes into buf (cap includes the NUL); names and keys only. */
static int js_name(fmt_dec *d, char *buf, size_t cap, const char *what)
{
    if (js_expect(d, '"', what))
        return -1;
    size_t n = 0;
    for (;;) {
        if (d->p >= d->end)
            return fd_fail(d, "the input ends inside a string (truncated)");
        uint8_t c = *d->p;
        if (c == '"')
            break;
        if (c == '\\')
            return fd_fail(d, "escaped characters in %s are not used by rust's encoder", what);
        if (c < 0x20)
            return fd_fail(d, "control character in a string");
        if (n + 1 >= cap)
            return fd_fail(d, "%s longer than %zu characters", what, cap - 1);
        buf[n++] = (char)c;
        d->p++;
    }
    d->p++;
    buf[n] = 0;
    return 0;
}

/* An unsigned integer up to max: digits only, no leading zeros, sign, fraction or
 * exponent (serde_json rejects those for unsigned fields). */
static int js_uint(fmt_dec *d, uint64_t max, uint64_t *v)
{
    if (d->failed)
        return -1;
    int c = js_peek(d);
    if (c < 0)
        return fd_fail(d, "the input ends where a number was expected (truncated)");
    if (c < '0' || c > '9')
        return fd_fail(d, "expected an unsigned integer, found '%c'",
                        c >= 0x20 && c < 0x7f ? c : '?');
    uint64_t x = 0;
    const uint8_t *s = d->p;
    while (d->p < d->end && *d->p >= '0' && *d->p <= '9') {
        unsigned dg = (unsigned)(*d->p - '0');
        if (x > (max - dg) / 10) {
            d->p = s;
            return fd_fail(d, "integer larger than %llu", (unsigned long long)max);
        }
        x = x * 10 + dg;
        d->p++;
    }
    if (*s == '0' && d->p - s > 1) {
        d->p = s;
        return fd_fail(d, "integer with a leading zero");
    }
    if (d->p < d->end && (*d->p == '.' || *d->p == 'e' || *d->p == 'E'))
        return fd_fail(d, "expected an unsigned integer, found a fraction or exponent");
    *v = x;
    return 0;
}

/* ---- decoder operations ---- */

int fd_struct_begin(fmt_dec *d, int nfields)
{
    if (d->failed)
        return -1;
    if (nfields > 64)
        return fd_fail(d, "internal: struct of %d fields", nfields);
    if (d->syn == FMT_JSON && js_expect(d, '{', "'{' (a struct)"))
        return -1;
    if (fd_enter(d))
        return -1;
    d->lvl[d->depth].nfields = nfields;
    return 0;
}

int fd_field(fmt_dec *d, const char *const *names, int n)
{
    if (d->failed)
        return -2;
    fmt_level *l = &d->lvl[d->depth];
    if (d->syn == FMT_BIN) {
        if (l->count < (uint64_t)n)
            return (int)l->count++;
        fd_leave(d);
        return -1;
    }
    int c = js_peek(d);
    if (c == '}') {
        for (int i = 0; i < n; i++)
            if (!(l->seen & (1ull << i))) {
                fd_fail(d, "missing field \"%s\"", names[i]);
                return -2;
            }
        d->p++;
        fd_leave(d);
        return -1;
    }
    if (!l->first && js_expect(d, ',', "',' or '}'"))
        return -2;
    l->first = 0;
    char key[64];
    if (js_name(d, key, sizeof key, "a field name"))
        return -2;
    int idx = -1;
    for (int i = 0; i < n && idx < 0; i++)
        if (!strcmp(key, names[i]))
            idx = i;
    if (idx < 0) {
        fd_fail(d, "unknown field \"%s\"", key);
        return -2;
    }
    if (l->seen & (1ull << idx)) {
        fd_fail(d, "duplicate field \"%s\"", key);
        return -2;
    }
    l->seen |= 1ull << idx;
    if (js_expect(d, ':', "':'"))
        return -2;
    return idx;
}

int fd_seq_begin(fmt_dec *d, uint64_t max, size_t min_elem)
{
    if (d->failed)
        return -1;
    uint64_t n = 0;
    if (d->syn == FMT_BIN) {
        const uint8_t *b;
        if (fd_take(d, 8, &b))
            return -1;
        n = pf_get_le64(b);
        if (n > max) {
            d->p -= 8;
            return fd_fail(d, "a sequence of %llu elements, at most %llu allowed",
                           (unsigned long long)n, (unsigned long long)max);
        }
        if (min_elem && n > (uint64_t)(d->end - d->p) / min_elem) {
            d->p -= 8;
            return fd_fail(d, "a sequence of %llu elements does not fit in the %zu bytes left "
                           "(truncated)", (unsigned long long)n, (size_t)(d->end - d->p - 8));
        }
    } else if (js_expect(d, '[', "'[' (a sequence)")) {
        return -1;
    }
    if (fd_enter(d))
        return -1;
    d->lvl[d->depth].remaining = d->syn == FMT_BIN ? n : max;
    return 0;
}

int fd_seq_next(fmt_dec *d)
{
    if (d->failed)
        return -1;
    fmt_level *l = &d->lvl[d->depth];
    if (d->syn == FMT_BIN) {
        if (!l->remaining) {
            fd_leave(d);
            return 0;
        }
        l->remaining--;
        l->count++;
        return 1;
    }
    int c = js_peek(d);
    if (c == ']') {
        d->p++;
        fd_leave(d);
        return 0;
    }
    if (!l->first && js_expect(d, ',', "',' or ']'"))
        return -1;
    l->first = 0;
    if (l->count >= l->remaining)
        return fd_fail(d, "more than %llu elements", (unsigned long long)l->remaining);
    l->count++;
    return 1;
}

int fd_variant_begin(fmt_dec *d, const char *const *names, int n)
{
    if (d->failed)
        return -1;
    if (d->syn == FMT_BIN) {
        const uint8_t *b;
        if (fd_take(d, 4, &b))
            return -1;
        uint32_t v = pf_get_le32(b);
        if (v >= (uint32_t)n) {
            d->p -= 4;
            return fd_fail(d, "enum variant %u, expected 0..%d", v, n - 1);
        }
        return (int)v;
    }
    char key[64];
    if (js_expect(d, '{', "'{' (an enum variant)") || js_name(d, key, sizeof key, "a variant"))
        return -1;
    for (int i = 0; i < n; i++)
        if (!strcmp(key, names[i]))
            return js_expect(d, ':', "':'") ? -1 : i;
    return fd_fail(d, "unknown variant \"%s\"", key);
}

int fd_variant_end(fmt_dec *d)
{
    if (d->syn == FMT_JSON)
        return js_expect(d, '}', "'}' closing the enum variant");
    return d->failed ? -1 : 0;
}

int fd_unit_variant(fmt_dec *d, const char *const *names, int n)
{
    if (d->failed)
        return -1;
    if (d->syn == FMT_BIN)
        return fd_variant_begin(d, names, n);
    char key[64];
    if (js_name(d, key, sizeof key, "a variant name"))
        return -1;
    for (int i = 0; i < n; i++)
        if (!strcmp(key, names[i]))
            return i;
    return fd_fail(d, "unknown variant \"%s\"", key);
}

int fd_u32(fmt_dec *d, uint32_t *v)
{
    if (d->syn == FMT_JSON) {
        uint64_t x;
        if (js_uint(d, UINT32_MAX, &x))
            return -1;
        *v = (uint32_t)x;
        return 0;
    }
    const uint8_t *b;
    if (fd_take(d, 4, &b))
        return -1;
    *v = pf_get_le32(b);
    return 0;
}

int fd_u64(fmt_dec *d, uint64_t *v)
{
    if (d->syn == FMT_JSON)
        return js_uint(d, UINT64_MAX, v);
    const uint8_t *b;
    if (fd_take(d, 8, &b))
        return -1;
    *v = pf_get_le64(b);
    return 0;
}

int fd_domain(fmt_dec *d, uint8_t v[32])
{
    if (d->syn == FMT_BIN) {
        const uint8_t *b;
        if (fd_take(d, 32, &b))
            return -1;
        memcpy(v, b, 32);
        return 0;
    }
    if (js_expect(d, '[', "'[' (32 bytes)"))
        return -1;
    for (int i = 0; i < 32; i++) {
        uint64_t x;
        if (js_peek(d) == ']')
            return fd_fail(d, "%d bytes where 32 are needed", i);
        if (i && js_expect(d, ',', "',' (32 bytes)"))
            return -1;
        if (js_uint(d, 255, &x))
            return -1;
        v[i] = (uint8_t)x;
    }
    if (js_peek(d) == ',')
        return fd_fail(d, "more than 32 bytes");
    return js_expect(d, ']', "']' after 32 bytes");
}

int fd_unit(fmt_dec *d)
{
    if (d->failed)
        return -1;
    if (d->syn == FMT_BIN)
        return 0;
    js_ws(d);
    size_t left = (size_t)(d->end - d->p);
    if (left < 4 && memcmp(d->p, "null", left) == 0)
        return fd_fail(d, "the input ends inside null (truncated)");
    if (left < 4 || memcmp(d->p, "null", 4) != 0)
        return fd_fail(d, "expected null");
    d->p += 4;
    return 0;
}

int fmt_utf8_valid(const uint8_t *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        uint8_t c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t len;
        uint32_t cp, min;
        if ((c & 0xe0) == 0xc0) {
            len = 2, cp = c & 0x1f, min = 0x80;
        } else if ((c & 0xf0) == 0xe0) {
            len = 3, cp = c & 0x0f, min = 0x800;
        } else if ((c & 0xf8) == 0xf0) {
            len = 4, cp = c & 0x07, min = 0x10000;
        } else {
            return 0;
        }
        if (n - i < len)
            return 0;
        for (size_t k = 1; k < len; k++) {
            if ((s[i + k] & 0xc0) != 0x80)
                return 0;
            cp = (cp << 6) | (s[i + k] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return 0;
        i += len;
    }
    return 1;
}

int fd_string(fmt_dec *d, size_t max, char **out)
{
    *out = NULL;
    if (d->failed)
        return -1;
    const uint8_t *b;
    size_t n;
    if (d->syn == FMT_BIN) {
        uint64_t len;
        if (fd_u64(d, &len))
            return -1;
        if (len > max) {
            d->p -= 8;
            return fd_fail(d, "a string of %llu bytes, at most %zu allowed",
                           (unsigned long long)len, max);
        }
        if (fd_take(d, (size_t)len, &b))
            return -1;
        n = (size_t)len;
    } else {
        if (js_expect(d, '"', "a string"))
            return -1;
        b = d->p;
        while (d->p < d->end && *d->p != '"') {
            if (*d->p == '\\' || *d->p < 0x20)
                return fd_fail(d, "escaped or control characters in a string");
            d->p++;
        }
        if (d->p >= d->end)
            return fd_fail(d, "the input ends inside a string (truncated)");
        n = (size_t)(d->p - b);
        d->p++;
        if (n > max)
            return fd_fail(d, "a string of %zu bytes, at most %zu allowed", n, max);
    }
    if (!fmt_utf8_valid(b, n))
        return fd_fail(d, "a string that is not valid UTF-8");
    if (memchr(b, 0, n))
        return fd_fail(d, "a string with a NUL byte");
    char *s = malloc(n + 1);
    if (!s) {
        fd_fail(d, "out of memory");
        if (d->err)
            d->err->status = PF_ENOMEM;
        return -1;
    }
    memcpy(s, b, n);
    s[n] = 0;
    *out = s;
    return 0;
}

int fd_option_u64(fmt_dec *d, int *present, uint64_t *v)
{
    *present = 0;
    *v = 0;
    if (d->failed)
        return -1;
    if (d->syn == FMT_JSON) {
        if (js_peek(d) == 'n')
            return fd_unit(d);
        *present = 1;
        return js_uint(d, UINT64_MAX, v);
    }
    const uint8_t *b;
    if (fd_take(d, 1, &b))
        return -1;
    if (*b > 1) {
        d->p--;
        return fd_fail(d, "Option tag %u, expected 0 or 1", *b);
    }
    if (*b == 0)
        return 0;
    *present = 1;
    return fd_u64(d, v);
}

pf_status fd_finish(fmt_dec *d)
{
    if (d->failed)
        return d->err && d->err->status ? d->err->status : PF_EINVAL;
    if (d->syn == FMT_JSON)
        js_ws(d);
    if (d->p != d->end) {
        fd_fail(d, "%zu more bytes after the end of the structure (oversized input)",
                (size_t)(d->end - d->p));
        return PF_EINVAL;
    }
    pf_cm_ok(d->err);
    return PF_OK;
}
