/* http_range.c — sp_http_parse_range: one HTTP byte range (RFC 9110 section 14) against an
 * entity size.  Untrusted input: every byte is checked, numbers saturate instead of
 * overflowing, and the only outcomes are a range, 416 or 400. */
#include "sp_http.h"

#include <stdint.h>
#include <strings.h>

static const char *skip_ows(const char *p)
{
    while (*p == ' ' || *p == '\t')
        p++;
    return p;
}

/* Reads 1+ digits, saturating at UINT64_MAX; returns the end, or NULL when none. */
static const char *read_number(const char *p, uint64_t *out)
{
    if (*p < '0' || *p > '9')
        return NULL;
    uint64_t v = 0;
    for (; *p >= '0' && *p <= '9'; p++) {
        unsigned d = (unsigned)(*p - '0');
        v = v > (UINT64_MAX - d) / 10 ? UINT64_MAX : v * 10 + d;
    }
    *out = v;
    return p;
}

static unsigned malformed(sp_err *err, const char *why)
{
    sp_fail(err, SP_EINVAL, "Range header: %s; send one range as bytes=FIRST-LAST, "
            "bytes=FIRST- or bytes=-SUFFIX", why);
    return 400;
}

static unsigned unsatisfiable(sp_err *err, uint64_t size, const char *why)
{
    sp_fail(err, SP_EINVAL, "Range header: %s (the entity has %llu bytes)", why,
            (unsigned long long)size);
    return 416;
}

unsigned sp_http_parse_range(const char *header, uint64_t size, sp_http_range *out, sp_err *err)
{
    out->start = 0;
    out->length = size;
    if (!header)
        return 200;
    const char *p = skip_ows(header);
    if (strncasecmp(p, "bytes", 5) != 0)
        return malformed(err, "unit is not \"bytes\"");
    p += 5;
    if (*p != '=')
        return malformed(err, "missing \"=\" after \"bytes\"");
    p = skip_ows(p + 1);

    bool suffix = false, open_end = false;
    uint64_t first = 0, last = 0;
    if (*p == '-') {
        suffix = true;
        p = read_number(p + 1, &last);
        if (!p)
            return malformed(err, "suffix range without a length");
    } else {
        p = read_number(p, &first);
        if (!p)
            return malformed(err, "range does not start with a number or \"-\"");
        if (*p != '-')
            return malformed(err, "missing \"-\" in range");
        p++;
        const char *q = read_number(p, &last);
        if (q)
            p = q;
        else
            open_end = true;
    }
    p = skip_ows(p);
    if (*p == ',')
        return malformed(err, "several ranges are not supported");
    if (*p)
        return malformed(err, "unexpected characters after the range");

    if (suffix) {
        if (last == 0 || size == 0)
            return unsatisfiable(err, size, "suffix range selects no bytes");
        uint64_t n = last < size ? last : size;
        out->start = size - n;
        out->length = n;
        return 206;
    }
    if (!open_end && first > last)
        return malformed(err, "first byte position is after the last");
    if (first >= size)
        return unsatisfiable(err, size, "range starts at or past the end");
    uint64_t end = open_end || last >= size ? size - 1 : last;
    out->start = first;
    out->length = end - first + 1;
    return 206;
}
