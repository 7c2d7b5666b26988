/* commp.c — piece commitments (CommP): raw piece bytes are zero-filled to the next
 * 127*2^k, fr32-padded straight into the tree builder's chunk and hashed chunk by chunk,
 * so a piece of any size streams through one chunk of memory.  Also the piece size rules
 * (rust's ensure_piece_size). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "data_internal.h"
#include "sealproofs.h"

struct pf_commp_ctx {
    pf_fr32_padder pad;
    pf_sha_tree tree;
    uint64_t payload;
    pf_status failed;       /* a tree error seen during update, reported by finish */
    pf_error err;
};

int pf_piece_size_valid(uint64_t unpadded)
{
    return unpadded >= 127 && unpadded % 127 == 0 && pf_is_pow2(unpadded / 127);
}

uint64_t pf_piece_unpadded_for_payload(uint64_t payload)
{
    uint64_t size = 127;
    while (size < payload) {
        if (size > UINT64_MAX / 256)
            return 0;
        size *= 2;
    }
    return size;
}

uint64_t pf_piece_padded_size(uint64_t unpadded)
{
    return unpadded / 127 * 128;
}

pf_commp_ctx *pf_commp_new(pf_error *err)
{
    pf_commp_ctx *c = calloc(1, sizeof *c);
    if (!c) {
        pf_data_fail(err, PF_ENOMEM, "CommP: out of memory");
        return NULL;
    }
    if (pf_sha_tree_init(&c->tree, 0, -1, "CommP", err)) {
        free(c);
        return NULL;
    }
    pf_fr32_padder_init(&c->pad);
    return c;
}

void pf_commp_reset(pf_commp_ctx *c)
{
    pf_fr32_padder_init(&c->pad);
    pf_sha_tree_reset(&c->tree);
    c->payload = 0;
    c->failed = PF_OK;
}

void pf_commp_free(pf_commp_ctx *c)
{
    if (!c)
        return;
    pf_sha_tree_free(&c->tree);
    free(c);
}

/* Pads whole blocks from src directly into the tree's chunk (a multiple of 128 bytes). */
static void feed_blocks(pf_commp_ctx *c, const uint8_t *src, size_t nblocks)
{
    while (nblocks && !c->failed) {
        size_t avail;
        uint8_t *dst = pf_sha_tree_space(&c->tree, &avail);
        size_t n = avail / 128 < nblocks ? avail / 128 : nblocks;
        pf_fr32_pad_blocks(src, n, dst);
        c->failed = pf_sha_tree_commit(&c->tree, 128 * n, &c->err);
        src += 127 * n;
        nblocks -= n;
    }
}

void pf_commp_update(pf_commp_ctx *c, const void *data, size_t len)
{
    const uint8_t *p = data;
    if (len == 0)
        return;
    c->payload += len;
    if (c->pad.fill) {
        size_t take = 127 - c->pad.fill < len ? 127 - c->pad.fill : len;
        memcpy(c->pad.buf + c->pad.fill, p, take);
        c->pad.fill += take;
        p += take;
        len -= take;
        if (c->pad.fill < 127)
            return;
        feed_blocks(c, c->pad.buf, 1);
        c->pad.fill = 0;
    }
    feed_blocks(c, p, len / 127);
    p += len / 127 * 127;
    len %= 127;
    memcpy(c->pad.buf, p, len);
    c->pad.fill = len;
}

pf_status pf_commp_finish(pf_commp_ctx *c, uint8_t commp[32], uint64_t *payload_size,
                          uint64_t *padded_size, pf_error *err)
{
    if (c->failed) {
        if (err)
            *err = c->err;
        return c->failed;
    }
    uint64_t unpadded = pf_piece_unpadded_for_payload(c->payload);
    if (!unpadded)
        return pf_data_fail(err, PF_EINVAL, "CommP: payload of %llu bytes is too large",
                            (unsigned long long)c->payload);
    if (c->pad.fill) {
        /* the zero fill: the last raw block completed with zeros */
        memset(c->pad.buf + c->pad.fill, 0, 127 - c->pad.fill);
        feed_blocks(c, c->pad.buf, 1);
        c->pad.fill = 0;
        if (c->failed) {
            if (err)
                *err = c->err;
            return c->failed;
        }
    }
    uint64_t padded = pf_piece_padded_size(unpadded);
    pf_status st = pf_sha_tree_finish(&c->tree, padded / 32, commp, err);
    if (st)
        return st;
    if (payload_size)
        *payload_size = c->payload;
    if (padded_size)
        *padded_size = padded;
    pf_data_ok(err);
    return PF_OK;
}

pf_status pf_commp_buf(const void *data, size_t len, uint8_t commp[32], uint64_t *padded_size,
                       pf_error *err)
{
    pf_commp_ctx *c = pf_commp_new(err);
    if (!c)
        return err ? err->status : PF_ENOMEM;
    pf_commp_update(c, data, len);
    pf_status st = pf_commp_finish(c, commp, NULL, padded_size, err);
    pf_commp_free(c);
    return st;
}

/* 8192 blocks of 127 bytes: about 1 MiB of raw data per read. */
#define READ_BYTES ((size_t)127 * 8192)

pf_status pf_commp_fd(int fd, uint64_t payload_size, uint8_t commp[32], uint64_t *payload_read,
                      uint64_t *padded_size, pf_error *err)
{
    pf_status st = PF_OK;
    uint8_t *buf = malloc(READ_BYTES);
    pf_commp_ctx *c = pf_commp_new(err);
    if (!buf || !c) {
        st = c ? pf_data_fail(err, PF_ENOMEM, "CommP: out of memory") : err ? err->status : PF_ENOMEM;
        goto fail;
    }
    (void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    uint64_t total = 0;
    int to_eof = payload_size == PF_COMMP_TO_EOF;
    while (to_eof || total < payload_size) {
        size_t want = READ_BYTES;
        if (!to_eof && payload_size - total < want)
            want = (size_t)(payload_size - total);
        size_t got = 0;
        while (got < want) {
            ssize_t r = read(fd, buf + got, want - got);
            if (r < 0 && errno == EINTR)
                continue;
            if (r < 0) {
                st = pf_data_fail(err, PF_EIO, "CommP: reading piece data at byte %llu: %s",
                                  (unsigned long long)(total + got), strerror(errno));
                goto fail;
            }
            if (r == 0)
                break;
            got += (size_t)r;
        }
        pf_commp_update(c, buf, got);
        total += got;
        if (got < want) {
            if (to_eof)
                break;
            st = pf_data_fail(err, PF_EIO,
                              "CommP: piece data ended after %llu of %llu bytes (file truncated "
                              "or wrong size given)", (unsigned long long)total,
                              (unsigned long long)payload_size);
            goto fail;
        }
    }
    st = pf_commp_finish(c, commp, payload_read, padded_size, err);
fail:
    pf_commp_free(c);
    free(buf);
    return st;
}
