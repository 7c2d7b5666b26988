/* size.c — sp_size: strict parsing and printing of byte sizes and durations. */
#include "sp_size.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* Reads a decimal unsigned integer; fails on no digits or overflow. */
static int read_uint(const char **p, uint64_t *out)
{
    const char *s = *p;
    uint64_t v = 0;
    if (!isdigit((unsigned char)*s))
        return -1;
    while (isdigit((unsigned char)*s)) {
        unsigned d = (unsigned)(*s - '0');
        if (v > (UINT64_MAX - d) / 10)
            return -2;
        v = v * 10 + d;
        s++;
    }
    *p = s;
    *out = v;
    return 0;
}

static const struct { const char *name; uint64_t mult; } size_units[] = {
    { "", 1 }, { "b", 1 },
    { "k", 1ULL << 10 }, { "kib", 1ULL << 10 }, { "kb", 1000ULL },
    { "m", 1ULL << 20 }, { "mib", 1ULL << 20 }, { "mb", 1000000ULL },
    { "g", 1ULL << 30 }, { "gib", 1ULL << 30 }, { "gb", 1000000000ULL },
    { "t", 1ULL << 40 }, { "tib", 1ULL << 40 }, { "tb", 1000000000000ULL },
    { "p", 1ULL << 50 }, { "pib", 1ULL << 50 }, { "pb", 1000000000000000ULL },
};

sp_code sp_parse_size(const char *s, uint64_t *out, sp_err *err)
{
    if (!s)
        return sp_fail(err, SP_EINVAL, "size: missing value");
    const char *p = s;
    while (isspace((unsigned char)*p))
        p++;
    uint64_t v;
    int r = read_uint(&p, &v);
    if (r == -1)
        return sp_fail(err, SP_EINVAL, "size \"%s\": expected a non-negative number with an "
                       "optional unit, like 2KiB, 512MiB, 32GiB or 4096", s);
    if (r == -2)
        return sp_fail(err, SP_EINVAL, "size \"%s\": number too large", s);
    while (isspace((unsigned char)*p))
        p++;
    const char *u = p;
    size_t ulen = strlen(u);
    while (ulen > 0 && isspace((unsigned char)u[ulen - 1]))
        ulen--;
    for (size_t i = 0; i < sizeof size_units / sizeof size_units[0]; i++) {
        if (strlen(size_units[i].name) == ulen && strncasecmp(u, size_units[i].name, ulen) == 0) {
            if (v != 0 && size_units[i].mult > UINT64_MAX / v)
                return sp_fail(err, SP_EINVAL, "size \"%s\": too large for 64 bits", s);
            *out = v * size_units[i].mult;
            return SP_OK;
        }
    }
    return sp_fail(err, SP_EINVAL, "size \"%s\": unknown unit \"%.*s\" (use B, KiB, MiB, GiB, "
                   "TiB, PiB or KB, MB, GB, TB, PB)", s, (int)ulen, u);
}

static const struct { const char *name; uint64_t ms; } dur_units[] = {
    { "ms", 1 }, { "s", 1000 }, { "sec", 1000 }, { "m", 60000 }, { "min", 60000 },
    { "h", 3600000 }, { "d", 86400000 },
};

sp_code sp_parse_duration_ms(const char *s, uint64_t *out_ms, sp_err *err)
{
    if (!s)
        return sp_fail(err, SP_EINVAL, "duration: missing value");
    const char *p = s;
    while (isspace((unsigned char)*p))
        p++;
    if (strcmp(p, "0") == 0) {
        *out_ms = 0;
        return SP_OK;
    }
    uint64_t total = 0;
    int terms = 0;
    while (*p) {
        uint64_t v;
        int r = read_uint(&p, &v);
        if (r != 0)
            return sp_fail(err, SP_EINVAL, "duration \"%s\": expected <number><unit> terms such "
                           "as 30s, 5min, 1h30m (units ms, s, m/min, h, d)", s);
        const char *u = p;
        while (isalpha((unsigned char)*p))
            p++;
        size_t ulen = (size_t)(p - u);
        uint64_t mult = 0;
        for (size_t i = 0; i < sizeof dur_units / sizeof dur_units[0]; i++)
            if (strlen(dur_units[i].name) == ulen && strncasecmp(u, dur_units[i].name, ulen) == 0)
                mult = dur_units[i].ms;
        if (!mult)
            return sp_fail(err, SP_EINVAL, "duration \"%s\": %s unit \"%.*s\" (use ms, s, m or "
                           "min, h, d)", s, ulen ? "unknown" : "missing", (int)ulen, u);
        if (v != 0 && mult > UINT64_MAX / v)
            return sp_fail(err, SP_EINVAL, "duration \"%s\": too large", s);
        if (total > UINT64_MAX - v * mult)
            return sp_fail(err, SP_EINVAL, "duration \"%s\": too large", s);
        total += v * mult;
        terms++;
        while (isspace((unsigned char)*p))
            p++;
    }
    if (!terms)
        return sp_fail(err, SP_EINVAL, "duration \"%s\": empty", s);
    *out_ms = total;
    return SP_OK;
}

char *sp_format_size(uint64_t bytes, char *buf, size_t len)
{
    static const char *const names[] = { "PiB", "TiB", "GiB", "MiB", "KiB" };
    for (int i = 0; i < 5; i++) {
        uint64_t m = 1ULL << (10 * (5 - i));
        if (bytes != 0 && bytes % m == 0) {
            snprintf(buf, len, "%" PRIu64 "%s", bytes / m, names[i]);
            return buf;
        }
    }
    snprintf(buf, len, "%" PRIu64, bytes);
    return buf;
}

char *sp_format_size_human(uint64_t bytes, char *buf, size_t len)
{
    static const char *const names[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
    double v = (double)bytes;
    int i = 0;
    while (v >= 1024.0 && i < 6) {
        v /= 1024.0;
        i++;
    }
    if (i == 0)
        snprintf(buf, len, "%" PRIu64 " B", bytes);
    else
        snprintf(buf, len, "%.1f %s", v, names[i]);
    return buf;
}

char *sp_format_duration(uint64_t ms, char *buf, size_t len)
{
    if (ms == 0) {
        snprintf(buf, len, "0s");
        return buf;
    }
    static const struct { const char *name; uint64_t ms; } parts[] = {
        { "d", 86400000 }, { "h", 3600000 }, { "m", 60000 }, { "s", 1000 }, { "ms", 1 },
    };
    size_t off = 0;
    buf[0] = 0;
    for (int i = 0; i < 5 && off < len; i++) {
        if (ms >= parts[i].ms) {
            int n = snprintf(buf + off, len - off, "%" PRIu64 "%s", ms / parts[i].ms, parts[i].name);
            if (n < 0)
                break;
            off += (size_t)n;
            ms %= parts[i].ms;
        }
    }
    return buf;
}
