/* fuzz_formats.c — the rust-fil-proofs format decoders of proofs-ffi (sealproofs/formats.h):
 * C1 outputs as filecoin-ffi's JSON and as Curio's bincode, vanilla PoSt proofs
 * (FallbackPoStSectorProof) in bincode and JSON, t_aux and p_aux, and format detection with
 * conversion to the native C1 layout.
 *
 * Input: byte 0 picks the decoder, the rest is its input:
 *   0 C1 rust-json: what decodes re-encodes to JSON that decodes and re-encodes to the same
 *     bytes (serde's own output is canonical; the input may have other field orders and
 *     whitespace)
 *   1 C1 curio-bin (proof inferred from the shapes): what decodes re-encodes to the same bytes
 *   2 vanilla PoSt, bincode: byte 1 is the PoSt proof id, bytes 2..33 the randomness, the
 *     rest the proof; what decodes re-encodes to the same bytes and is verified for that
 *     randomness and the proof's own sector id and comm_r
 *   3 vanilla PoSt, JSON: byte 1 the PoSt proof id; decode, encode, decode, encode: stable
 *   4 t_aux: what decodes re-encodes to the same bytes and is checked against the 2KiB and
 *     32GiB proofs; then p_aux on the same bytes
 *   5 pf_c1_convert (detected format) to native: what converts decodes as a native C1 output
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "sealproofs.h"
#include "sealproofs/formats.h"

static void same_bytes(const uint8_t *a, size_t na, const uint8_t *b, size_t nb)
{
    if (na != nb || memcmp(a, b, na) != 0)
        abort();
}

static const pf_c1_read_args c1_args = { .proof_id = -1, .sector_id = 1, .prover_id = NULL };

static void c1_json(const uint8_t *data, size_t size)
{
    pf_c1_output o, o2;
    pf_error err;
    uint8_t *a = NULL, *b = NULL;
    size_t na = 0, nb = 0;
    pf_status st = pf_c1_output_read(data, size, PF_FORMAT_RUST_JSON, &c1_args, &o, &err);
    fuzz_report("c1 rust-json", st, err.msg);
    if (st != PF_OK)
        return;
    if (pf_c1_output_write(&o, PF_FORMAT_RUST_JSON, &a, &na, &err) != PF_OK ||
        pf_c1_output_read(a, na, PF_FORMAT_RUST_JSON, &c1_args, &o2, &err) != PF_OK)
        abort();
    if (pf_c1_output_write(&o2, PF_FORMAT_RUST_JSON, &b, &nb, &err) != PF_OK)
        abort();
    same_bytes(a, na, b, nb);
    free(a);
    free(b);
    pf_c1_output_free(&o);
    pf_c1_output_free(&o2);
}

static void c1_curio(const uint8_t *data, size_t size)
{
    pf_c1_output o;
    pf_error err;
    uint8_t *a = NULL;
    size_t na = 0;
    pf_status st = pf_c1_output_read(data, size, PF_FORMAT_CURIO_BIN, &c1_args, &o, &err);
    fuzz_report("c1 curio-bin", st, err.msg);
    if (st != PF_OK)
        return;
    if (pf_c1_output_write(&o, PF_FORMAT_CURIO_BIN, &a, &na, &err) != PF_OK)
        abort();
    same_bytes(data, size, a, na);
    free(a);
    pf_c1_output_free(&o);
}

static void post_bincode(const uint8_t *data, size_t size)
{
    if (size < 33)
        return;
    int id = data[0];
    const uint8_t *randomness = data + 1;
    data += 32;
    size -= 32;
    pf_post_vanilla_proof p;
    pf_error err;
    uint8_t *a = NULL;
    size_t na = 0;
    pf_status st = pf_post_vanilla_read(id, data + 1, size - 1, PF_FORMAT_RUST_BINCODE, &p, &err);
    fuzz_report("post bincode", st, err.msg);
    if (st != PF_OK)
        return;
    if (pf_post_vanilla_write(id, &p, PF_FORMAT_RUST_BINCODE, &a, &na, &err) != PF_OK)
        abort();
    same_bytes(data + 1, size - 1, a, na);
    free(a);
    pf_post_public_replica pub = { .sector_id = p.sector_id };
    memcpy(pub.comm_r, p.comm_r, 32);
    st = pf_post_vanilla_verify(id, randomness, 0, &pub, &p, &err);
    fuzz_report("post verify", st, err.msg);
    pf_post_vanilla_proof_free(&p);
}

static void post_json(const uint8_t *data, size_t size)
{
    if (size < 1)
        return;
    int id = data[0];
    pf_post_vanilla_proof p, p2;
    pf_error err;
    uint8_t *a = NULL, *b = NULL;
    size_t na = 0, nb = 0;
    pf_status st = pf_post_vanilla_read(id, data + 1, size - 1, PF_FORMAT_RUST_JSON, &p, &err);
    fuzz_report("post json", st, err.msg);
    if (st != PF_OK)
        return;
    if (pf_post_vanilla_write(id, &p, PF_FORMAT_RUST_JSON, &a, &na, &err) != PF_OK ||
        pf_post_vanilla_read(id, a, na, PF_FORMAT_RUST_JSON, &p2, &err) != PF_OK ||
        pf_post_vanilla_write(id, &p2, PF_FORMAT_RUST_JSON, &b, &nb, &err) != PF_OK)
        abort();
    same_bytes(a, na, b, nb);
    free(a);
    free(b);
    pf_post_vanilla_proof_free(&p);
    pf_post_vanilla_proof_free(&p2);
}

static void aux(const uint8_t *data, size_t size)
{
    pf_t_aux t;
    pf_error err;
    pf_status st = pf_t_aux_decode(data, size, &t, &err);
    fuzz_report("t_aux", st, err.msg);
    if (st == PF_OK) {
        uint8_t *a = NULL;
        size_t na = 0;
        if (pf_t_aux_encode(&t, &a, &na, &err) != PF_OK)
            abort();
        same_bytes(data, size, a, na);
        free(a);
        st = pf_t_aux_check(5, &t, &err);   /* StackedDrg2KiBV1_1 */
        fuzz_report("t_aux check 2KiB", st, err.msg);
        (void)pf_t_aux_check(8, &t, &err);   /* StackedDrg32GiBV1_1 */
        pf_t_aux_free(&t);
    }
    uint8_t c[32], r[32];
    st = pf_p_aux_decode(data, size, c, r, &err);
    fuzz_report("p_aux", st, err.msg);
}

static void convert(const uint8_t *data, size_t size)
{
    uint8_t *out = NULL;
    size_t n = 0;
    pf_format from;
    pf_error err;
    pf_status st = pf_c1_convert(data, size, PF_FORMAT_NATIVE, &c1_args, &out, &n, &from, &err);
    fuzz_report("c1 convert", st, err.msg);
    if (st != PF_OK)
        return;
    pf_c1_output o;
    st = pf_c1_output_decode(out, n, &o, &err);
    fuzz_report("c1 convert, native decode", st, err.msg);
    if (from >= PF_FORMAT_COUNT || st != PF_OK)
        abort();
    pf_c1_output_free(&o);
    free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    switch (data[0] % 6) {
    case 0: c1_json(data + 1, size - 1); break;
    case 1: c1_curio(data + 1, size - 1); break;
    case 2: post_bincode(data + 1, size - 1); break;
    case 3: post_json(data + 1, size - 1); break;
    case 4: aux(data + 1, size - 1); break;
    default: convert(data + 1, size - 1); break;
    }
    return 0;
}
