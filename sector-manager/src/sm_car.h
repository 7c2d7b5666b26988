/* sm_car.h — CAR files (content-addressable archives, ipld.io/specs/transport/car): reading
 * CARv1 and CARv2 (its inner CARv1) section by section with each block's position in the
 * file, and writing a one-block CARv1.
 *
 * A CARv1 is varint(header length) + DAG-CBOR header {"roots": [CID...], "version": 1},
 * then sections varint(length) + CID + block data.  A CARv2 starts with the 11-byte pragma
 * (a CARv1 header {"version": 2}), a 40-byte header (characteristics, data offset, data
 * size, index offset; little endian) and holds a CARv1 at [data offset, + data size).
 * A zero-length section ends the data (zero padding after a CAR, as CARv2 allows).
 *
 * The reader takes a read callback so it parses files and memory alike (tests, fuzzing).
 * Limits, for hostile input: header at most SM_CAR_HEADER_MAX bytes and SM_CAR_MAX_ROOTS
 * roots, blocks at most max_block bytes, CBOR nested at most 8 deep; anything else is
 * SP_EPARSE with the offset.  Hashes are not checked here (sm_mh_verify does that with the
 * data sm_car_next loads).
 */
#ifndef SM_CAR_H
#define SM_CAR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sm_cid.h"
#include "sp_err.h"

#define SM_CAR_HEADER_MAX (1u << 20)
#define SM_CAR_MAX_ROOTS 64

/* Reads exactly len bytes at off (*got = len), or fewer at the end of the source. */
typedef sp_code (*sm_car_read_fn)(void *ctx, uint64_t off, void *buf, size_t len, size_t *got,
                                  sp_err *err);

typedef struct sm_car_block {
    sm_cid cid;
    uint64_t section;       /* offset of the section (its length varint) */
    uint64_t offset;        /* offset of the block data in the source */
    uint64_t length;        /* bytes of block data */
    const uint8_t *data;    /* the data, valid until the next call (load_data only) */
} sm_car_block;

typedef struct sm_car_reader {
    sm_car_read_fn read;
    void *ctx;
    uint64_t size;           /* bytes of the source */
    int version;             /* 1, or 2 for a CARv2 wrapper */
    uint64_t data_start;     /* the CARv1 inside: [data_start, data_end) */
    uint64_t data_end;
    uint64_t pos;            /* next section */
    sm_cid roots[SM_CAR_MAX_ROOTS];
    size_t n_roots;
    size_t max_block;
    uint8_t *win;            /* buffered window [win_off, win_off + win_len) */
    size_t win_cap, win_len;
    uint64_t win_off;
} sm_car_reader;

/* Parses the header(s) of a source of `size` bytes.  Fails with SP_EPARSE when it is not
 * a CAR (the caller may then treat it as raw data). */
sp_code sm_car_open(sm_car_reader *r, sm_car_read_fn read, void *ctx, uint64_t size,
                    size_t max_block, sp_err *err);
/* The next block: 1 (b filled; b->data set when load_data), 0 at the end, -1 on error. */
int sm_car_next(sm_car_reader *r, sm_car_block *b, bool load_data, sp_err *err);
void sm_car_close(sm_car_reader *r);

/* A read callback over a file descriptor (ctx points to the int fd). */
sp_code sm_car_read_fd(void *ctx, uint64_t off, void *buf, size_t len, size_t *got, sp_err *err);
/* A read callback over memory (ctx points to an sm_car_mem). */
typedef struct sm_car_mem {
    const uint8_t *data;
    size_t len;
} sm_car_mem;
sp_code sm_car_read_mem(void *ctx, uint64_t off, void *buf, size_t len, size_t *got, sp_err *err);

/* A CARv1 with root `cid` holding that one block; *out is malloc'd. */
sp_code sm_car_single(const sm_cid *cid, const void *data, size_t len, uint8_t **out,
                      size_t *out_len, sp_err *err);

#endif
