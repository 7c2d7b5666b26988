/* fuzz_http_range.c — sp_http_parse_range, the Range header of piece and block downloads.
 *
 * Input: bytes 0..7 the entity size (little endian), the rest the header value.
 * Invariants: the only answers are 206, 416 and 400 (200 is for a missing header); a 206
 * range is non-empty and lies inside the entity; a 206 for "bytes=A-B" (digits only)
 * starts at A, and a well-formed suffix range "bytes=-N" ends at the entity's end. */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "sp_http.h"

static uint64_t le64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

/* The number the digits at s give, when they fit; -1 otherwise. */
static int digits(const char *s, size_t n, uint64_t *out)
{
    uint64_t v = 0;
    if (n == 0 || n > 19)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    *out = v;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 8)
        return 0;
    uint64_t entity = le64(data);
    char *h = fuzz_strndup(data + 8, size - 8);
    if (!h)
        return 0;
    sp_http_range r;
    sp_err err;
    unsigned st = sp_http_parse_range(h, entity, &r, &err);
    if (st == 206) {
        if (r.length == 0 || r.start >= entity || r.length > entity - r.start)
            abort();
        /* plain "bytes=A-B" / "bytes=-N" with small numbers: the obvious answer */
        const char *dash = strchr(h, '-');
        uint64_t a, b;
        if (strncmp(h, "bytes=", 6) == 0 && dash) {
            size_t na = (size_t)(dash - h - 6), nb = strlen(dash + 1);
            if (na && digits(h + 6, na, &a) == 0 && r.start != a)
                abort();
            if (!na && digits(dash + 1, nb, &b) == 0 && r.start + r.length != entity)
                abort();
            if (na && digits(h + 6, na, &a) == 0 && digits(dash + 1, nb, &b) == 0 &&
                r.length != (b - a + 1 < entity - a ? b - a + 1 : entity - a))
                abort();
        }
    } else if (st != 416 && st != 400) {
        abort();
    }
    (void)sp_http_parse_range(NULL, entity, &r, NULL);
    if (r.start != 0 || r.length != entity)
        abort();
    free(h);
    return 0;
}
