/* fuzz_car.c — the CAR reader of the sector manager (sm_car.h): CARv1 and CARv2 headers
 * (varints, DAG-CBOR, roots, the v2 pragma and offsets) and sections, over memory.
 *
 * Input: byte 0 bit 0 says whether block data is loaded (and checked against its
 * multihash, as the block index does on import), the rest is the file.
 * Invariants: every block lies inside the CARv1 data range of the source, after the
 * previous one; loaded data is there; the reader never returns more blocks than bytes. */
#include <stdbool.h>
#include <stdlib.h>

#include "fuzz.h"
#include "sm_car.h"
#include "sm_cid.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    bool load = data[0] & 1;
    sm_car_mem mem = { data + 1, size - 1 };
    sm_car_reader r;
    if (sm_car_open(&r, sm_car_read_mem, &mem, mem.len, 1u << 20, NULL) != SP_OK)
        return 0;
    if (r.data_start > r.data_end || r.data_end > mem.len || r.n_roots > SM_CAR_MAX_ROOTS)
        abort();
    uint64_t prev_end = r.data_start;
    size_t blocks = 0;
    sm_car_block b;
    int rc;
    while ((rc = sm_car_next(&r, &b, load, NULL)) == 1) {
        if (b.section < prev_end || b.offset < b.section || b.offset + b.length > r.data_end ||
            ++blocks > mem.len)
            abort();
        if (load) {
            if (b.length && !b.data)
                abort();
            (void)sm_mh_verify(b.cid.mh, b.cid.mh_len, b.data, (size_t)b.length, NULL);
        }
        prev_end = b.offset + b.length;
    }
    if (rc != 0 && rc != -1)
        abort();
    sm_car_close(&r);
    return 0;
}
