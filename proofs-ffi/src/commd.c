/* commd.c — CommD of a sector from its pieces' commitments: rust-fil-proofs'
 * compute_comm_d stack algorithm (pieces.rs), completed with zero pieces to the whole
 * sector as Lotus' GenerateUnsealedCID does, so the result always equals the tree_d root
 * of the staged sector that add_piece lays out. */
#include <string.h>

#include "data_internal.h"
#include "sealproofs.h"

typedef struct stack_el {
    uint8_t comm[32];
    uint64_t padded;
} stack_el;

typedef struct comm_stack {
    stack_el el[PF_SHA_TREE_MAX_LEVEL + 2];
    int len;
} comm_stack;

/* Merges equal-sized neighbours on top of the stack. */
static void reduce(comm_stack *s)
{
    while (s->len >= 2 && s->el[s->len - 1].padded == s->el[s->len - 2].padded) {
        stack_el *l = &s->el[s->len - 2], *r = &s->el[s->len - 1];
        pf_sha256_node(l->comm, r->comm, l->comm);
        l->padded *= 2;
        s->len--;
    }
}

static void shift_reduce(comm_stack *s, const uint8_t comm[32], uint64_t padded)
{
    memcpy(s->el[s->len].comm, comm, 32);
    s->el[s->len].padded = padded;
    s->len++;
    reduce(s);
}

static void shift_zero(comm_stack *s, uint64_t padded)
{
    shift_reduce(s, pf_zero_comm_level(pf_log2_u64(padded) - 5), padded);
}

pf_status pf_comm_d(uint64_t sector_size, const pf_piece_info *pieces, size_t n,
                    uint8_t comm_d[32], pf_error *err)
{
    if (sector_size < 128 || !pf_is_pow2(sector_size) || sector_size > (1ULL << 50))
        return pf_data_fail(err, PF_EINVAL, "CommD: sector size %llu is not a power of two >= 128",
                            (unsigned long long)sector_size);
    if (n == 0)
        return pf_zero_comm(sector_size, comm_d, err);
    if (!pieces)
        return pf_data_fail(err, PF_EINVAL, "CommD: %zu pieces but no piece array", n);

    uint64_t total = 0;
    for (size_t i = 0; i < n; i++) {
        if (!pf_piece_size_valid(pieces[i].size))
            return pf_data_fail(err, PF_EINVAL,
                                "CommD: piece %zu has unpadded size %llu, not 127*2^k (padded "
                                "sizes are powers of two >= 128)",
                                i, (unsigned long long)pieces[i].size);
        uint64_t padded = pf_piece_padded_size(pieces[i].size);
        if (padded > sector_size || total > sector_size - padded)
            return pf_data_fail(err, PF_EINVAL,
                                "CommD: pieces up to %zu take more than the %llu-byte sector", i,
                                (unsigned long long)sector_size);
        total += padded;
    }

    comm_stack s = { .len = 0 };
    for (size_t i = 0; i < n; i++) {
        uint64_t padded = pf_piece_padded_size(pieces[i].size);
        /* Before a larger piece, the smaller ones are padded to its alignment. */
        while (s.len && s.el[s.len - 1].padded < padded)
            shift_zero(&s, s.el[s.len - 1].padded);
        shift_reduce(&s, pieces[i].comm_p, padded);
        if (s.el[0].padded > sector_size)
            break;
    }
    while (s.el[0].padded <= sector_size && (s.len > 1 || s.el[0].padded < sector_size))
        shift_zero(&s, s.el[s.len - 1].padded);
    if (s.len != 1 || s.el[0].padded != sector_size)
        return pf_data_fail(err, PF_EINVAL,
                            "CommD: with alignment the pieces need more than the %llu-byte sector "
                            "(order pieces from largest to smallest)",
                            (unsigned long long)sector_size);
    memcpy(comm_d, s.el[0].comm, 32);
    pf_data_ok(err);
    return PF_OK;
}
