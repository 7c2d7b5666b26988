/* car.c — CARv1/CARv2 reading through a buffered window, the header's DAG-CBOR, and a
 * one-block CARv1 writer (contract in sm_car.h). */
#include "sm_car.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CBOR_DEPTH 8
#define WINDOW_MIN (1u << 20)
#define SECTION_HEAD_MAX (9 + SM_CID_BYTES_MAX) /* varint + CID */

static const uint8_t V2_PRAGMA[11] = { 0x0a, 0xa1, 0x67, 0x76, 0x65, 0x72, 0x73,
                                       0x69, 0x6f, 0x6e, 0x02 };

/* ---- read callbacks ---------------------------------------------------------------------- */

sp_code sm_car_read_fd(void *ctx, uint64_t off, void *buf, size_t len, size_t *got, sp_err *err)
{
    int fd = *(int *)ctx;
    size_t done = 0;
    while (done < len) {
        ssize_t n = pread(fd, (uint8_t *)buf + done, len - done, (off_t)(off + done));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return sp_fail_errno(err, errno, "reading at offset %" PRIu64, off + done);
        if (n == 0)
            break;
        done += (size_t)n;
    }
    *got = done;
    return SP_OK;
}

sp_code sm_car_read_mem(void *ctx, uint64_t off, void *buf, size_t len, size_t *got, sp_err *err)
{
    (void)err;
    const sm_car_mem *m = ctx;
    *got = 0;
    if (off >= m->len)
        return SP_OK;
    size_t n = m->len - (size_t)off < len ? m->len - (size_t)off : len;
    memcpy(buf, m->data + off, n);
    *got = n;
    return SP_OK;
}

/* ---- buffered window ---------------------------------------------------------------------- */

/* Makes [off, off + need) available in the window (or what exists of it before limit);
 * *avail gets the bytes available from off. */
static sp_code window(sm_car_reader *r, uint64_t off, size_t need, uint64_t limit,
                      const uint8_t **p, size_t *avail, sp_err *err)
{
    uint64_t have_end = r->win_off + r->win_len;
    if (off < r->win_off || off + need > have_end) {
        if (need > r->win_cap)
            return sp_fail(err, SP_EINTERNAL, "CAR reader: window of %zu bytes asked for %zu",
                           r->win_cap, need);
        size_t want = r->win_cap;
        if (off >= limit)
            want = 0;
        else if (limit - off < want)
            want = (size_t)(limit - off);
        size_t got = 0;
        sp_code rc = want ? r->read(r->ctx, off, r->win, want, &got, err) : SP_OK;
        if (rc)
            return rc;
        r->win_off = off;
        r->win_len = got;
    }
    *p = r->win + (off - r->win_off);
    uint64_t end = r->win_off + r->win_len;
    *avail = end > off ? (size_t)(end - off) : 0;
    return SP_OK;
}

/* ---- DAG-CBOR (just enough for the header) ------------------------------------------------ */

typedef struct cbor {
    const uint8_t *p;
    size_t len, pos;
    uint64_t base;   /* file offset of p[0], for messages */
} cbor;

static sp_code cbor_head(cbor *c, int *major, uint64_t *val, sp_err *err)
{
    if (c->pos >= c->len)
        return sp_fail(err, SP_EPARSE, "CAR header: truncated CBOR at offset %" PRIu64, c->base + c->pos);
    uint8_t b = c->p[c->pos++];
    *major = b >> 5;
    unsigned ai = b & 31;
    if (ai < 24) {
        *val = ai;
        return SP_OK;
    }
    if (ai > 27)
        return sp_fail(err, SP_EPARSE, "CAR header: CBOR item 0x%02x at offset %" PRIu64 " is not "
                       "allowed in DAG-CBOR (indefinite length or reserved)", b, c->base + c->pos - 1);
    size_t n = (size_t)1 << (ai - 24);
    if (c->len - c->pos < n)
        return sp_fail(err, SP_EPARSE, "CAR header: truncated CBOR at offset %" PRIu64, c->base + c->pos);
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v = v << 8 | c->p[c->pos++];
    *val = v;
    return SP_OK;
}

static sp_code cbor_skip(cbor *c, int depth, sp_err *err)
{
    if (depth > CBOR_DEPTH)
        return sp_fail(err, SP_EPARSE, "CAR header: CBOR nested deeper than %d", CBOR_DEPTH);
    int major;
    uint64_t v;
    sp_code rc = cbor_head(c, &major, &v, err);
    if (rc)
        return rc;
    switch (major) {
    case 0:
    case 1:
    case 7:
        return SP_OK; /* the head held the value (simple values and floats included) */
    case 2:
    case 3:
        if (v > c->len - c->pos)
            return sp_fail(err, SP_EPARSE, "CAR header: CBOR string runs past the header");
        c->pos += (size_t)v;
        return SP_OK;
    case 4:
    case 5: {
        uint64_t items = major == 5 ? v * 2 : v;
        if (v > c->len || items > c->len - c->pos)
            return sp_fail(err, SP_EPARSE, "CAR header: CBOR container of %" PRIu64 " items is "
                           "larger than the header", v);
        for (uint64_t i = 0; i < items; i++)
            if ((rc = cbor_skip(c, depth + 1, err)))
                return rc;
        return SP_OK;
    }
    default: /* 6: tag, then its item */
        return cbor_skip(c, depth + 1, err);
    }
}

static sp_code parse_roots(sm_car_reader *r, cbor *c, sp_err *err)
{
    int major;
    uint64_t n;
    sp_code rc = cbor_head(c, &major, &n, err);
    if (rc)
        return rc;
    if (major != 4)
        return sp_fail(err, SP_EPARSE, "CAR header: \"roots\" is not an array");
    if (n > SM_CAR_MAX_ROOTS)
        return sp_fail(err, SP_EPARSE, "CAR header: %" PRIu64 " roots (at most %d)", n, SM_CAR_MAX_ROOTS);
    for (uint64_t i = 0; i < n; i++) {
        uint64_t tag, blen;
        if ((rc = cbor_head(c, &major, &tag, err)))
            return rc;
        if (major != 6 || tag != 42)
            return sp_fail(err, SP_EPARSE, "CAR header: root %" PRIu64 " is not a CID (tag 42)", i);
        if ((rc = cbor_head(c, &major, &blen, err)))
            return rc;
        if (major != 2 || blen < 2 || blen > c->len - c->pos || c->p[c->pos] != 0)
            return sp_fail(err, SP_EPARSE, "CAR header: root %" PRIu64 " is not a CID byte string", i);
        size_t used = 0;
        sp_err e;
        if (sm_cid_decode(c->p + c->pos + 1, (size_t)blen - 1, &r->roots[i], &used, &e) != SP_OK ||
            used != blen - 1)
            return sp_fail(err, SP_EPARSE, "CAR header: root %" PRIu64 ": %s", i,
                           used != blen - 1 && !e.msg[0] ? "extra bytes" : e.msg);
        c->pos += (size_t)blen;
        r->n_roots = (size_t)i + 1;
    }
    return SP_OK;
}

/* Parses a header map; *version gets its "version" (0 when absent). */
static sp_code parse_header(sm_car_reader *r, const uint8_t *p, size_t len, uint64_t base,
                            uint64_t *version, bool *has_roots, sp_err *err)
{
    cbor c = { .p = p, .len = len, .base = base };
    int major;
    uint64_t n;
    *version = 0;
    *has_roots = false;
    sp_code rc = cbor_head(&c, &major, &n, err);
    if (rc)
        return rc;
    if (major != 5)
        return sp_fail(err, SP_EPARSE, "CAR header is not a CBOR map");
    if (n > 16)
        return sp_fail(err, SP_EPARSE, "CAR header has %" PRIu64 " keys", n);
    for (uint64_t i = 0; i < n; i++) {
        uint64_t klen;
        if ((rc = cbor_head(&c, &major, &klen, err)))
            return rc;
        if (major != 3 || klen > c.len - c.pos)
            return sp_fail(err, SP_EPARSE, "CAR header: a key is not a text string");
        const char *key = (const char *)c.p + c.pos;
        c.pos += (size_t)klen;
        if (klen == 5 && memcmp(key, "roots", 5) == 0) {
            if ((rc = parse_roots(r, &c, err)))
                return rc;
            *has_roots = true;
        } else if (klen == 7 && memcmp(key, "version", 7) == 0) {
            if ((rc = cbor_head(&c, &major, version, err)))
                return rc;
            if (major != 0)
                return sp_fail(err, SP_EPARSE, "CAR header: \"version\" is not an unsigned integer");
        } else if ((rc = cbor_skip(&c, 1, err))) {
            return rc;
        }
    }
    if (c.pos != c.len)
        return sp_fail(err, SP_EPARSE, "CAR header: %zu bytes after the header map", c.len - c.pos);
    return SP_OK;
}

/* ---- reader ------------------------------------------------------------------------------ */

static uint64_t le64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

/* Reads varint(len) + header at off; *next is where the sections start. */
static sp_code read_v1_header(sm_car_reader *r, uint64_t off, uint64_t limit, uint64_t *version,
                              bool *has_roots, uint64_t *next, sp_err *err)
{
    const uint8_t *p;
    size_t avail;
    sp_code rc = window(r, off, 9, limit, &p, &avail, err);
    if (rc)
        return rc;
    uint64_t hlen;
    int vn = sm_varint_decode(p, avail, &hlen);
    if (vn <= 0)
        return sp_fail(err, SP_EPARSE, "not a CAR: %s header length varint at offset %" PRIu64,
                       vn == 0 ? "truncated" : "oversized", off);
    if (hlen == 0 || hlen > SM_CAR_HEADER_MAX)
        return sp_fail(err, SP_EPARSE, "not a CAR: header length %" PRIu64 " at offset %" PRIu64, hlen, off);
    uint64_t hoff = off + (uint64_t)vn;
    if (hoff + hlen > limit)
        return sp_fail(err, SP_EPARSE, "not a CAR: header of %" PRIu64 " bytes runs past the end", hlen);
    if ((rc = window(r, hoff, (size_t)hlen, limit, &p, &avail, err)))
        return rc;
    if (avail < hlen)
        return sp_fail(err, SP_EPARSE, "not a CAR: truncated header");
    if ((rc = parse_header(r, p, (size_t)hlen, hoff, version, has_roots, err)))
        return rc;
    *next = hoff + hlen;
    return SP_OK;
}

sp_code sm_car_open(sm_car_reader *r, sm_car_read_fn read, void *ctx, uint64_t size,
                    size_t max_block, sp_err *err)
{
    memset(r, 0, sizeof *r);
    r->read = read;
    r->ctx = ctx;
    r->size = size;
    r->max_block = max_block;
    r->win_cap = max_block + SECTION_HEAD_MAX > WINDOW_MIN ? max_block + SECTION_HEAD_MAX : WINDOW_MIN;
    if (r->win_cap < SM_CAR_HEADER_MAX + 16)
        r->win_cap = SM_CAR_HEADER_MAX + 16;
    r->win = malloc(r->win_cap);
    if (!r->win)
        return sp_fail(err, SP_ENOMEM, "CAR reader: out of memory");
    uint64_t version, next;
    bool has_roots;
    sp_code rc = read_v1_header(r, 0, size, &version, &has_roots, &next, err);
    if (rc)
        goto fail;
    if (version == 2) {
        /* The pragma: exactly {"version": 2}, then the fixed v2 header. */
        const uint8_t *p;
        size_t avail;
        if ((rc = window(r, 0, 51, size, &p, &avail, err)))
            goto fail;
        if (avail < 51 || memcmp(p, V2_PRAGMA, sizeof V2_PRAGMA) != 0) {
            rc = sp_fail(err, SP_EPARSE, "CARv2: bad pragma or truncated header");
            goto fail;
        }
        uint64_t doff = le64(p + 27), dsize = le64(p + 35);
        if (doff < 51 || doff > size || dsize > size - doff) {
            rc = sp_fail(err, SP_EPARSE, "CARv2: data [%" PRIu64 ", +%" PRIu64 ") is outside the %"
                         PRIu64 "-byte file", doff, dsize, size);
            goto fail;
        }
        r->version = 2;
        r->data_start = doff;
        r->data_end = doff + dsize;
        if ((rc = read_v1_header(r, doff, r->data_end, &version, &has_roots, &next, err)))
            goto fail;
        if (version != 1) {
            rc = sp_fail(err, SP_EPARSE, "CARv2: the inner CAR has version %" PRIu64, version);
            goto fail;
        }
    } else if (version == 1) {
        r->version = 1;
        r->data_start = 0;
        r->data_end = size;
    } else {
        rc = sp_fail(err, SP_EPARSE, "not a CAR: header version %" PRIu64, version);
        goto fail;
    }
    if (!has_roots) {
        rc = sp_fail(err, SP_EPARSE, "CAR header has no \"roots\"");
        goto fail;
    }
    r->pos = next;
    return SP_OK;
fail:
    sm_car_close(r);
    return rc;
}

int sm_car_next(sm_car_reader *r, sm_car_block *b, bool load_data, sp_err *err)
{
    memset(b, 0, sizeof *b);
    if (r->pos >= r->data_end)
        return 0;
    const uint8_t *p;
    size_t avail;
    if (window(r, r->pos, SECTION_HEAD_MAX, r->data_end, &p, &avail, err))
        return -1;
    uint64_t slen;
    int vn = sm_varint_decode(p, avail, &slen);
    if (vn <= 0) {
        sp_fail(err, SP_EPARSE, "CAR: %s section length at offset %" PRIu64,
                vn == 0 ? "truncated" : "oversized or non-minimal", r->pos);
        return -1;
    }
    if (slen == 0) { /* zero padding: the data ends here */
        r->pos = r->data_end;
        return 0;
    }
    uint64_t body = r->pos + (uint64_t)vn;
    if (slen > r->data_end - body) {
        sp_fail(err, SP_EPARSE, "CAR: section of %" PRIu64 " bytes at offset %" PRIu64 " runs past "
                "the end of the data (%" PRIu64 ")", slen, r->pos, r->data_end);
        return -1;
    }
    size_t used = 0;
    size_t in_win = avail - (size_t)vn;
    sp_err e;
    if (sm_cid_decode(p + vn, in_win < slen ? in_win : (size_t)slen, &b->cid, &used, &e) != SP_OK) {
        sp_fail(err, SP_EPARSE, "CAR: section at offset %" PRIu64 ": %s", r->pos, e.msg);
        return -1;
    }
    uint64_t dlen = slen - used;
    if (dlen > r->max_block) {
        sp_fail(err, SP_EPARSE, "CAR: block at offset %" PRIu64 " has %" PRIu64 " bytes, more than "
                "the limit of %zu", r->pos, dlen, r->max_block);
        return -1;
    }
    b->section = r->pos;
    b->offset = body + used;
    b->length = dlen;
    if (load_data) {
        if (window(r, b->offset, (size_t)dlen, r->data_end, &p, &avail, err))
            return -1;
        if (avail < dlen) {
            sp_fail(err, SP_EPARSE, "CAR: block at offset %" PRIu64 " is truncated", b->offset);
            return -1;
        }
        b->data = p;
    }
    r->pos = body + slen;
    return 1;
}

void sm_car_close(sm_car_reader *r)
{
    free(r->win);
    r->win = NULL;
    r->win_cap = r->win_len = 0;
}

/* ---- writer ------------------------------------------------------------------------------ */

sp_code sm_car_single(const sm_cid *cid, const void *data, size_t len, uint8_t **out,
                      size_t *out_len, sp_err *err)
{
    uint8_t cbin[SM_CID_BYTES_MAX];
    size_t cn = sm_cid_encode(cid, cbin, sizeof cbin);
    if (cn == 0 || cn > 255)
        return sp_fail(err, SP_EINVAL, "CAR: cannot encode the CID");
    /* {"roots": [42(h'00' || cid)], "version": 1} with map keys in DAG-CBOR order
     * (shorter first). */
    uint8_t hdr[320];
    size_t h = 0;
    hdr[h++] = 0xa2;
    hdr[h++] = 0x65;
    memcpy(hdr + h, "roots", 5);
    h += 5;
    hdr[h++] = 0x81;
    hdr[h++] = 0xd8;
    hdr[h++] = 42;
    if (cn + 1 < 24) {
        hdr[h++] = (uint8_t)(0x40 | (cn + 1));
    } else {
        hdr[h++] = 0x58;
        hdr[h++] = (uint8_t)(cn + 1);
    }
    hdr[h++] = 0x00;
    memcpy(hdr + h, cbin, cn);
    h += cn;
    hdr[h++] = 0x67;
    memcpy(hdr + h, "version", 7);
    h += 7;
    hdr[h++] = 0x01;
    uint8_t v1[9], v2[9];
    size_t n1 = sm_varint_encode(h, v1), n2 = sm_varint_encode(cn + len, v2);
    size_t total = n1 + h + n2 + cn + len;
    uint8_t *buf = malloc(total);
    if (!buf)
        return sp_fail(err, SP_ENOMEM, "CAR: out of memory");
    size_t o = 0;
    memcpy(buf + o, v1, n1);
    o += n1;
    memcpy(buf + o, hdr, h);
    o += h;
    memcpy(buf + o, v2, n2);
    o += n2;
    memcpy(buf + o, cbin, cn);
    o += cn;
    if (len)
        memcpy(buf + o, data, len);
    *out = buf;
    *out_len = total;
    return SP_OK;
}
