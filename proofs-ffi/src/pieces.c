/* pieces.c — piece alignment (rust-fil-proofs pieces.rs) and add_piece: writing a piece's
 * fr32-padded bytes, with alignment zeros, to the end of a staged sector file while
 * computing its CommP in the same pass (filecoin-ffi write_with_alignment /
 * write_without_alignment).  A failed write truncates the staged file back. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "data_internal.h"
#include "sealproofs.h"

pf_piece_alignment pf_get_piece_alignment(uint64_t written_unpadded, uint64_t piece_unpadded)
{
    uint64_t needed = 127;
    while (needed < piece_unpadded)
        needed *= 2;
    uint64_t encroaching = written_unpadded % needed;
    pf_piece_alignment a = {
        .left = encroaching ? needed - encroaching : 0,
        .right = needed - piece_unpadded,
    };
    return a;
}

uint64_t pf_sum_piece_bytes_with_alignment(const uint64_t *piece_unpadded, size_t n)
{
    uint64_t acc = 0;
    for (size_t i = 0; i < n; i++) {
        pf_piece_alignment a = pf_get_piece_alignment(acc, piece_unpadded[i]);
        acc += a.left + piece_unpadded[i] + a.right;
    }
    return acc;
}

uint64_t pf_get_piece_start_byte(const uint64_t *piece_unpadded, size_t n, uint64_t piece_unpadded_new)
{
    uint64_t last = pf_sum_piece_bytes_with_alignment(piece_unpadded, n);
    return last + pf_get_piece_alignment(last, piece_unpadded_new).left;
}

/* ---- add_piece ---- */

#define RAW_CHUNK ((size_t)127 * 8192)

typedef struct add_ctx {
    int src, dst;
    const char *what;            /* "add_piece" or "write_without_alignment" */
    uint64_t payload, piece;     /* raw bytes to read; unpadded piece size (payload + zero fill) */
    uint8_t *raw;                /* RAW_CHUNK */
    pf_sha_tree tree;
    pf_error *err;
} add_ctx;

static pf_status write_fully(add_ctx *a, const uint8_t *p, size_t len)
{
    while (len) {
        ssize_t w = write(a->dst, p, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            int e = w < 0 ? errno : ENOSPC;
            int full = e == ENOSPC || e == EDQUOT || e == EFBIG;
            return pf_data_fail(a->err, full ? PF_ENOSPC : PF_EIO,
                                "%s: writing the staged sector: %s%s", a->what, strerror(e),
                                full ? " (free space on the sealing disk; the partial piece "
                                       "was removed)" : "");
        }
        p += w;
        len -= (size_t)w;
    }
    return PF_OK;
}

/* fr32 padding of zero bytes is zero bytes, so alignment is plain zeros. */
static pf_status write_zeros(add_ctx *a, uint64_t padded_bytes)
{
    memset(a->raw, 0, RAW_CHUNK);
    while (padded_bytes) {
        size_t n = padded_bytes < RAW_CHUNK ? (size_t)padded_bytes : RAW_CHUNK;
        pf_status st = write_fully(a, a->raw, n);
        if (st)
            return st;
        padded_bytes -= n;
    }
    return PF_OK;
}

static pf_status read_fully(add_ctx *a, uint8_t *p, size_t len, uint64_t at, size_t *got)
{
    *got = 0;
    while (*got < len) {
        ssize_t r = read(a->src, p + *got, len - *got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return pf_data_fail(a->err, PF_EIO, "%s: reading the piece at byte %llu: %s", a->what,
                                (unsigned long long)(at + *got), strerror(errno));
        if (r == 0)
            break;
        *got += (size_t)r;
    }
    return PF_OK;
}

/* Pads raw blocks into the tree chunk, writes them to the staged file, then hashes. */
static pf_status pad_write_hash(add_ctx *a, const uint8_t *raw, size_t nblocks)
{
    while (nblocks) {
        size_t avail;
        uint8_t *dst = pf_sha_tree_space(&a->tree, &avail);
        size_t n = avail / 128 < nblocks ? avail / 128 : nblocks;
        pf_fr32_pad_blocks(raw, n, dst);
        pf_status st = write_fully(a, dst, 128 * n);
        if (st || (st = pf_sha_tree_commit(&a->tree, 128 * n, a->err)))
            return st;
        raw += 127 * n;
        nblocks -= n;
    }
    return PF_OK;
}

static pf_status copy_piece(add_ctx *a, uint8_t comm_p[32])
{
    pf_status st;
    uint64_t done = 0;
    while (done < a->piece) {
        size_t n = a->piece - done < RAW_CHUNK ? (size_t)(a->piece - done) : RAW_CHUNK;
        size_t want = done >= a->payload ? 0 : a->payload - done < n ? (size_t)(a->payload - done) : n;
        size_t got;
        if ((st = read_fully(a, a->raw, want, done, &got)))
            return st;
        if (got < want)
            return pf_data_fail(a->err, PF_EIO,
                                "%s: the piece ended after %llu of %llu bytes (truncated source "
                                "or wrong size given)", a->what,
                                (unsigned long long)(done + got), (unsigned long long)a->payload);
        memset(a->raw + want, 0, n - want);
        if ((st = pad_write_hash(a, a->raw, n / 127)))
            return st;
        done += n;
    }
    /* rust reads the source to EOF and rejects a length mismatch */
    uint8_t extra;
    size_t got;
    if ((st = read_fully(a, &extra, 1, done, &got)))
        return st;
    if (got)
        return pf_data_fail(a->err, PF_EINVAL,
                            "%s: the piece source has more than the %llu bytes given as its size",
                            a->what, (unsigned long long)a->payload);
    return pf_sha_tree_finish(&a->tree, pf_piece_padded_size(a->piece) / 32, comm_p, a->err);
}

static pf_status add_piece_impl(int proof_id, int src_fd, uint64_t payload, uint64_t piece,
                                int dst_fd, int aligned, const uint64_t *existing,
                                size_t n_existing, pf_add_piece_result *out, pf_error *err)
{
    add_ctx a = { .src = src_fd, .dst = dst_fd, .payload = payload, .piece = piece, .err = err,
                  .what = aligned ? "add_piece" : "write_without_alignment" };
    const pf_seal_proof_info *proof = pf_seal_proof(proof_id);
    if (!proof)
        return pf_data_fail(err, PF_EINVAL, "%s: unknown seal proof id %d", a.what, proof_id);
    if (!pf_piece_size_valid(piece))
        return pf_data_fail(err, PF_EINVAL,
                            "%s: piece size %llu is not 127*2^k bytes (127, 254, 508, 1016, ...); "
                            "zero-fill the piece to %llu bytes first", a.what,
                            (unsigned long long)piece,
                            (unsigned long long)pf_piece_unpadded_for_payload(piece));
    if (!out || (n_existing && !existing))
        return pf_data_fail(err, PF_EINVAL, "%s: missing result or piece-size argument", a.what);

    uint64_t written = aligned ? pf_sum_piece_bytes_with_alignment(existing, n_existing) : 0;
    pf_piece_alignment al = pf_get_piece_alignment(written, piece);
    uint64_t max_user = pf_max_user_bytes(proof->sector_size);
    if (written > max_user || al.left + piece + al.right > max_user - written)
        return pf_data_fail(err, PF_EINVAL,
                            "%s: a %llu-byte piece after %llu bytes (+%llu alignment) does not fit "
                            "in a %llu-byte sector (%llu user bytes)", a.what,
                            (unsigned long long)piece, (unsigned long long)written,
                            (unsigned long long)al.left,
                            (unsigned long long)proof->sector_size, (unsigned long long)max_user);

    off_t start = lseek(dst_fd, 0, SEEK_END);
    int seekable = start >= 0;
    if (!seekable && errno != ESPIPE)
        return pf_data_fail(err, PF_EIO, "%s: staged sector file descriptor: %s", a.what,
                            strerror(errno));
    if (seekable && aligned && (uint64_t)start != pf_fr32_to_padded_bytes(written))
        return pf_data_fail(err, PF_EINVAL,
                            "%s: the staged sector holds %lld bytes but the %zu existing pieces "
                            "take %llu padded bytes; pass the sizes of the pieces already in it",
                            a.what, (long long)start, n_existing,
                            (unsigned long long)pf_fr32_to_padded_bytes(written));

    pf_status st;
    a.raw = malloc(RAW_CHUNK);
    if (!a.raw)
        return pf_data_fail(err, PF_ENOMEM, "%s: out of memory", a.what);
    if ((st = pf_sha_tree_init(&a.tree, pf_piece_padded_size(piece) / 32, -1, "piece", err))) {
        free(a.raw);
        return st;
    }
    if ((st = write_zeros(&a, pf_fr32_to_padded_bytes(al.left))) ||
        (st = copy_piece(&a, out->comm_p)) ||
        (st = write_zeros(&a, pf_fr32_to_padded_bytes(al.right))))
        goto fail;
    out->piece_size = piece;
    out->padded_size = pf_piece_padded_size(piece);
    out->left_alignment = al.left;
    out->total_write = al.left + piece + al.right;
    out->offset = (seekable ? (uint64_t)start : 0) + pf_fr32_to_padded_bytes(al.left);
    pf_data_ok(err);
fail:
    if (st && seekable) {
        /* leave the staged file as it was */
        if (ftruncate(dst_fd, start) == 0)
            (void)lseek(dst_fd, start, SEEK_SET);
    }
    pf_sha_tree_free(&a.tree);
    free(a.raw);
    return st;
}

pf_status pf_add_piece(int proof_id, int src_fd, uint64_t src_size, int dst_fd,
                       const uint64_t *existing_unpadded, size_t n_existing,
                       pf_add_piece_result *out, pf_error *err)
{
    return add_piece_impl(proof_id, src_fd, src_size, src_size, dst_fd, 1, existing_unpadded,
                          n_existing, out, err);
}

pf_status pf_add_piece_fill(int proof_id, int src_fd, uint64_t payload_size, int dst_fd,
                            const uint64_t *existing_unpadded, size_t n_existing,
                            pf_add_piece_result *out, pf_error *err)
{
    uint64_t piece = pf_piece_unpadded_for_payload(payload_size);
    if (!piece)
        return pf_data_fail(err, PF_EINVAL, "add_piece: payload of %llu bytes is too large",
                            (unsigned long long)payload_size);
    return add_piece_impl(proof_id, src_fd, payload_size, piece, dst_fd, 1, existing_unpadded,
                          n_existing, out, err);
}

pf_status pf_write_without_alignment(int proof_id, int src_fd, uint64_t src_size, int dst_fd,
                                     pf_add_piece_result *out, pf_error *err)
{
    return add_piece_impl(proof_id, src_fd, src_size, src_size, dst_fd, 0, NULL, 0, out, err);
}
