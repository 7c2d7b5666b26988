/* test_c1.c — PoRep challenges and commit phase 1: the upstream synthetic-challenge vector,
 * interactive and NI challenges against an independent computation (OpenSSL SHA-256 and
 * BIGNUM), C1 on sealed 2KiB sectors (zeros and a pattern; interactive, synthetic, NI),
 * the vanilla proofs' content, the C1 output codec (round trip, strict rejection of
 * truncated/oversized/altered input) and clear errors for wrong inputs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <openssl/bn.h>
#include <openssl/sha.h>

#include "commit_internal.h"
#include "seal_fixture.h"

/* ---- challenges ---- */

/* storage-proofs-porep/src/stacked/vanilla/challenges.rs test_synth_challenges_against_hardcoded
 * (rust-fil-proofs 87348a7): nodes 2^10, replica_id = Fr(55), comm_r = Fr(101),
 * 21 synthetic challenges, 10 porep challenges for rand = [1; 32]. */
static void test_synth_vector(void **state)
{
    (void)state;
    static const uint64_t want_synth[21] = { 178, 297, 869, 211, 875, 477, 94, 781, 124, 332, 856,
                                             801, 176, 692, 429, 691, 290, 204, 986, 210, 973 };
    static const uint64_t want_porep[10] = { 176, 781, 801, 986, 290, 211, 692, 856, 986, 332 };
    uint8_t replica_id[32] = { 55 }, comm_r[32] = { 101 }, rand[32];
    memset(rand, 1, sizeof rand);
    uint64_t synth[21];
    pf_synth_challenges(1 << 10, replica_id, comm_r, 0, 21, synth);
    assert_memory_equal(synth, want_synth, sizeof synth);
    /* seeking: each challenge alone */
    for (uint64_t i = 0; i < 21; i++) {
        uint64_t one;
        pf_synth_challenges(1 << 10, replica_id, comm_r, i, 1, &one);
        assert_int_equal(one, want_synth[i]);
    }
    uint64_t idx[10];
    pf_synth_select(21, replica_id, rand, 10, 0, idx);
    for (int i = 0; i < 10; i++)
        assert_int_equal(synth[idx[i]], want_porep[i]);
    /* partitions: partition k of 2 x 5 is the k-th half of one partition of 10 */
    uint64_t half[5];
    pf_synth_select(21, replica_id, rand, 5, 1, half);
    assert_memory_equal(half, idx + 5, sizeof half);
    assert_int_equal(pf_synth_challenge_count(64), 64);
    assert_int_equal(pf_synth_challenge_count(1ULL << 30), 1ULL << 18);
}

/* (LE256(SHA256(prefix || LE32(j))) mod (nodes - 1)) + 1 with OpenSSL. */
static uint64_t ref_challenge(const uint8_t *prefix, size_t plen, uint32_t j, uint64_t nodes)
{
    uint8_t msg[200], h[32];
    memcpy(msg, prefix, plen);
    for (int i = 0; i < 4; i++)
        msg[plen + i] = (uint8_t)(j >> (8 * i));
    SHA256(msg, plen + 4, h);
    BIGNUM *bn = BN_lebin2bn(h, 32, NULL);
    uint64_t r = BN_mod_word(bn, (BN_ULONG)(nodes - 1)) + 1;
    BN_free(bn);
    return r;
}

static void test_interactive_ni_reference(void **state)
{
    (void)state;
    uint8_t replica_id[32], seed[32], comm_r[32], prefix[200];
    for (int i = 0; i < 32; i++) {
        replica_id[i] = (uint8_t)(i * 11 + 3);
        seed[i] = (uint8_t)(255 - i);
        comm_r[i] = (uint8_t)(i * 5);
    }
    replica_id[31] &= 0x3f;
    const uint64_t sizes[] = { 64, 1ULL << 18, 1ULL << 30, 1ULL << 31 };
    for (size_t s = 0; s < 4; s++) {
        uint64_t out[18];
        for (uint32_t k = 0; k < 3; k++) {
            pf_interactive_challenges(sizes[s], replica_id, seed, 18, k, out);
            memcpy(prefix, replica_id, 32);
            memcpy(prefix + 32, seed, 32);
            for (uint32_t i = 0; i < 18; i++) {
                assert_int_equal(out[i], ref_challenge(prefix, 64, 18 * k + i, sizes[s]));
                assert_true(out[i] >= 1 && out[i] < sizes[s]);
            }
            pf_ni_challenges(sizes[s], replica_id, comm_r, 18, k, out);
            static const char tag[] = "filecoin.io|PoRep|1|NonInteractive|1";
            memcpy(prefix, tag, sizeof tag - 1);
            memcpy(prefix + sizeof tag - 1, replica_id, 32);
            memcpy(prefix + sizeof tag - 1 + 32, comm_r, 32);
            for (uint32_t i = 0; i < 18; i++)
                assert_int_equal(out[i], ref_challenge(prefix, sizeof tag - 1 + 64, 18 * k + i,
                                                       sizes[s]));
        }
    }
    /* by proof id: 32GiB V1_1 partition 9 = interactive k = 9 */
    uint64_t a[18], b[18];
    pf_error err;
    assert_int_equal(pf_porep_challenges(8, replica_id, seed, comm_r, 9, a, NULL, &err), PF_OK);
    pf_interactive_challenges(1ULL << 30, replica_id, seed, 18, 9, b);
    assert_memory_equal(a, b, sizeof a);
    assert_int_equal(pf_porep_challenges(8, replica_id, seed, comm_r, 10, a, NULL, &err), PF_EINVAL);
    assert_int_equal(pf_porep_challenges(20, replica_id, seed, comm_r, 0, a, NULL, &err), PF_EINVAL);
    /* synthetic by id: the selected synthetic challenges */
    uint64_t idx[2];
    assert_int_equal(pf_porep_challenges(10, replica_id, seed, comm_r, 0, a, idx, &err), PF_OK);
    for (int i = 0; i < 2; i++) {
        pf_synth_challenges(64, replica_id, comm_r, idx[i], 1, b);
        assert_int_equal(a[i], b[0]);
    }
}

/* ---- C1 on sealed sectors ---- */

typedef struct c1_state {
    fx_sector zero, pattern;
} c1_state;

static int setup(void **state)
{
    c1_state *s = calloc(1, sizeof *s);
    if (!s || fx_seal(&s->zero, 5, FX_ZERO, 1, 1) || fx_seal(&s->pattern, 5, FX_PATTERN, 77, 2))
        return -1;
    *state = s;
    return 0;
}

static int teardown(void **state)
{
    c1_state *s = *state;
    fx_free(&s->zero);
    fx_free(&s->pattern);
    free(s);
    return 0;
}

static pf_status run_c1(const fx_sector *x, int proof_id, pf_c1_output *o, pf_error *err)
{
    return pf_c1(proof_id, x->cache, x->sealed, x->sector_id, x->prover_id, x->ticket, x->seed,
                 x->comm_d, x->comm_r, NULL, 0, o, err);
}

/* The vanilla proof holds the sector's actual bytes: the data node, the labels, the replica. */
static void check_proof_content(const fx_sector *x, const pf_porep_vanilla_proof *p)
{
    uint64_t c = p->replica_column_proofs.c_x.index;
    size_t len;
    uint8_t *staged = fx_read_file(x->staged, &len);
    uint8_t *sealed = fx_read_file(x->sealed, &len);
    assert_non_null(staged);
    assert_non_null(sealed);
    assert_memory_equal(p->comm_d_proofs.leaf, staged + 32 * c, 32);
    assert_memory_equal(p->comm_r_last_proof.leaf, sealed + 32 * c, 32);
    assert_int_equal(pf_merkle_proof_node(&p->comm_d_proofs), c);
    assert_int_equal(pf_merkle_proof_node(&p->comm_r_last_proof), c);
    assert_memory_equal(p->comm_d_proofs.root, x->comm_d, 32);
    assert_memory_equal(p->comm_r_last_proof.root, x->comm_r_last, 32);
    assert_memory_equal(p->replica_column_proofs.c_x.inclusion_proof.root, x->comm_c, 32);
    for (uint32_t l = 0; l < p->layers; l++) {
        char path[700];
        snprintf(path, sizeof path, "%s/sc-02-data-layer-%u.dat", x->cache, l + 1);
        uint8_t *layer = fx_read_file(path, &len);
        assert_non_null(layer);
        assert_memory_equal(p->replica_column_proofs.c_x.rows[l], layer + 32 * c, 32);
        for (int i = 0; i < 6; i++)
            assert_memory_equal(p->replica_column_proofs.drg_parents[i].rows[l],
                                layer + 32 * (size_t)p->replica_column_proofs.drg_parents[i].index,
                                32);
        free(layer);
        assert_int_equal(p->labeling_proofs[l].layer_index, l + 1);
        assert_int_equal(p->labeling_proofs[l].node, c);
    }
    /* DRG parent 0 is the predecessor (API >= 1.1) */
    assert_int_equal(p->replica_column_proofs.drg_parents[0].index, c - 1);
    assert_memory_equal(&p->encoding_proof, &p->labeling_proofs[p->layers - 1],
                        sizeof p->encoding_proof);
    free(staged);
    free(sealed);
}

static void test_c1_interactive(void **state)
{
    c1_state *s = *state;
    const fx_sector *xs[2] = { &s->zero, &s->pattern };
    for (int t = 0; t < 2; t++) {
        const fx_sector *x = xs[t];
        pf_c1_output o;
        pf_error err;
        assert_int_equal(run_c1(x, 5, &o, &err), PF_OK);
        assert_int_equal(o.partitions, 1);
        assert_int_equal(o.challenges_per_partition, 2);
        assert_int_equal(o.layers, 2);
        assert_memory_equal(o.comm_c, x->comm_c, 32);
        assert_memory_equal(o.comm_r_last, x->comm_r_last, 32);
        uint8_t rid[32];
        pf_replica_id(x->prover_id, x->sector_id, x->ticket, x->comm_d, pf_seal_proof(5)->porep_id,
                      rid);
        assert_memory_equal(o.replica_id, rid, 32);
        uint64_t ch[2];
        pf_interactive_challenges(64, rid, x->seed, 2, 0, ch);
        for (int i = 0; i < 2; i++) {
            assert_int_equal(o.proofs[i].replica_column_proofs.c_x.index, ch[i]);
            check_proof_content(x, &o.proofs[i]);
        }
        assert_int_equal(pf_c1_output_verify(&o, &err), PF_OK);

        /* codec: exact size, round trip byte-identical */
        uint8_t *buf, *buf2;
        size_t len, len2;
        assert_int_equal(pf_c1_output_encode(&o, &buf, &len, &err), PF_OK);
        assert_int_equal(len, pf_c1_output_size(5));
        assert_int_equal(pf_challenge_record_size(5),
                         8 * 15 + 32 * 7 + 15 * 32 * (2 + 1 + 14) + 32 * 15);
        pf_c1_output d;
        assert_int_equal(pf_c1_output_decode(buf, len, &d, &err), PF_OK);
        assert_int_equal(pf_c1_output_verify(&d, &err), PF_OK);
        assert_memory_equal(&d.pub, &o.pub, sizeof d.pub);
        for (int i = 0; i < 2; i++)
            assert_memory_equal(&d.proofs[i], &o.proofs[i], sizeof d.proofs[i]);
        assert_int_equal(pf_c1_output_encode(&d, &buf2, &len2, &err), PF_OK);
        assert_int_equal(len2, len);
        assert_memory_equal(buf, buf2, len);
        pf_c1_output_free(&d);
        free(buf2);
        free(buf);
        pf_c1_output_free(&o);
    }
}

static void test_c1_decode_strict(void **state)
{
    c1_state *s = *state;
    pf_c1_output o, d;
    pf_error err;
    uint8_t *buf;
    size_t len;
    assert_int_equal(run_c1(&s->pattern, 5, &o, &err), PF_OK);
    assert_int_equal(pf_c1_output_encode(&o, &buf, &len, &err), PF_OK);
    /* every truncation and one extra byte */
    uint8_t *big = malloc(len + 1);
    memcpy(big, buf, len);
    big[len] = 0;
    assert_int_equal(pf_c1_output_decode(big, len + 1, &d, &err), PF_EINVAL);
    assert_non_null(strstr(err.msg, "exactly"));
    for (size_t n = 0; n < len; n += (n < 400 ? 1 : 97))
        assert_int_equal(pf_c1_output_decode(buf, n, &d, &err), PF_EINVAL);
    /* header fields */
    struct { size_t off; uint8_t val; const char *msg; } bad[] = {
        { 0, 'X', "magic" }, { 4, 2, "version" }, { 8, 99, "not registered" },
        { 8, 6, "needs exactly" } /* 8MiB id: other size */, { 276, 2, "partitions" },
        { 284, 3, "layers" }, { 20 + 32 * 3 + 31, 0xff, "comm_d" },
        { 20 + 32 * 7 + 31, 0x80, "comm_r_last" },
        { 288, 0x40, "outside the sector" } /* the first challenge >= nodes */,
        { 288 + 8 * 15 + 31, 0xff, "canonical" } /* leaf_d not a field element */,
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uint8_t saved = buf[bad[i].off];
        buf[bad[i].off] = bad[i].val;
        assert_int_equal(pf_c1_output_decode(buf, len, &d, &err), PF_EINVAL);
        if (!strstr(err.msg, bad[i].msg))
            fail_msg("offset %zu: '%s' does not mention '%s'", bad[i].off, err.msg, bad[i].msg);
        buf[bad[i].off] = saved;
    }
    assert_int_equal(pf_c1_output_decode(buf, len, &d, &err), PF_OK);
    pf_c1_output_free(&d);
    free(big);
    free(buf);
    pf_c1_output_free(&o);
}

static void test_c1_wrong_inputs(void **state)
{
    c1_state *s = *state;
    const fx_sector *x = &s->pattern;
    pf_c1_output o;
    pf_error err;
    uint8_t bad[32];
    memcpy(bad, x->comm_r, 32);
    bad[0] ^= 1;
    assert_int_equal(pf_c1(5, x->cache, x->sealed, x->sector_id, x->prover_id, x->ticket, x->seed,
                           x->comm_d, bad, NULL, 0, &o, &err), PF_EVERIFY);
    assert_non_null(strstr(err.msg, "comm_r"));
    memcpy(bad, x->comm_d, 32);
    bad[0] ^= 1;
    assert_int_equal(pf_c1(5, x->cache, x->sealed, x->sector_id, x->prover_id, x->ticket, x->seed,
                           bad, x->comm_r, NULL, 0, &o, &err), PF_EINVAL);
    assert_non_null(strstr(err.msg, "tree_d"));
    memset(bad, 0xff, 32);
    assert_int_equal(pf_c1(5, x->cache, x->sealed, x->sector_id, x->prover_id, x->ticket, x->seed,
                           bad, x->comm_r, NULL, 0, &o, &err), PF_EINVAL);
    assert_non_null(strstr(err.msg, "canonical"));
    /* a wrong ticket gives another replica_id: the labels no longer verify */
    uint8_t t2[32];
    memcpy(t2, x->ticket, 32);
    t2[5] ^= 1;
    assert_int_equal(pf_c1(5, x->cache, x->sealed, x->sector_id, x->prover_id, t2, x->seed,
                           x->comm_d, x->comm_r, NULL, 0, &o, &err), PF_EVERIFY);
    assert_non_null(strstr(err.msg, "label"));
    /* pieces that do not make comm_d */
    pf_piece_info piece = { { 0 }, 2032 };
    assert_int_equal(pf_c1(5, x->cache, x->sealed, x->sector_id, x->prover_id, x->ticket, x->seed,
                           x->comm_d, x->comm_r, &piece, 1, &o, &err), PF_EINVAL);
    assert_non_null(strstr(err.msg, "pieces"));
    /* missing cache */
    assert_int_equal(pf_c1(5, "/nonexistent", x->sealed, x->sector_id, x->prover_id, x->ticket,
                           x->seed, x->comm_d, x->comm_r, NULL, 0, &o, &err), PF_EIO);
    assert_non_null(strstr(err.msg, "p_aux"));
}

/* A synthetic-PoRep sector: the proofs file, C1 from it, and C1 from the layers agree. */
static void test_c1_synthetic(void **state)
{
    (void)state;
    fx_sector x;
    assert_int_equal(fx_seal(&x, 10, FX_PATTERN, 5, 9), 0);
    pf_error err;
    pf_c1_output from_layers, from_file;
    assert_int_equal(run_c1(&x, 10, &from_layers, &err), PF_OK);
    assert_int_equal(pf_synth_proofs_generate(10, x.cache, x.sealed, x.sector_id, x.prover_id,
                                              x.ticket, x.comm_d, x.comm_r, &err), PF_OK);
    char path[700];
    snprintf(path, sizeof path, "%s/%s", x.cache, PF_SYNTH_PROOFS_FILE);
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal((uint64_t)sb.st_size, 96 + 64 * pf_challenge_record_size(10));
    /* rust's C1 needs only the file once the labels are gone */
    int removed;
    assert_int_equal(pf_clear_cache(x.cache, &removed, &err), PF_OK);
    assert_true(removed >= 4);
    assert_int_equal(run_c1(&x, 10, &from_file, &err), PF_OK);
    for (int i = 0; i < 2; i++)
        assert_memory_equal(&from_file.proofs[i], &from_layers.proofs[i], sizeof from_file.proofs[i]);
    /* another seed selects other records, still valid */
    pf_c1_output other;
    x.seed[0] ^= 0x55;
    assert_int_equal(run_c1(&x, 10, &other, &err), PF_OK);
    pf_c1_output_free(&other);
    /* a file from another sector is refused */
    uint8_t *b;
    size_t len;
    b = fx_read_file(path, &len);
    b[40] ^= 1;   /* root_c */
    FILE *f = fopen(path, "wb");
    fwrite(b, 1, len, f);
    fclose(f);
    free(b);
    assert_int_equal(run_c1(&x, 10, &other, &err), PF_ECORRUPT);
    assert_non_null(strstr(err.msg, "roots"));
    assert_int_equal(pf_clear_synthetic_proofs(x.cache, &err), PF_OK);
    assert_int_equal(stat(path, &sb), -1);
    assert_int_equal(pf_synth_proofs_generate(5, x.cache, x.sealed, x.sector_id, x.prover_id,
                                              x.ticket, x.comm_d, x.comm_r, &err), PF_EINVAL);
    pf_c1_output_free(&from_layers);
    pf_c1_output_free(&from_file);
    fx_free(&x);
}

/* NI PoRep (id 15): 13 partitions of 2 challenges, derived from comm_r. */
static void test_c1_ni(void **state)
{
    (void)state;
    fx_sector x;
    assert_int_equal(fx_seal(&x, 15, FX_PATTERN, 6, 4), 0);
    pf_c1_output o;
    pf_error err;
    assert_int_equal(run_c1(&x, 15, &o, &err), PF_OK);
    assert_int_equal(o.partitions, 13);
    uint64_t ch[2];
    pf_ni_challenges(64, o.replica_id, x.comm_r, 2, 12, ch);
    assert_int_equal(o.proofs[24].replica_column_proofs.c_x.index, ch[0]);
    assert_int_equal(o.proofs[25].replica_column_proofs.c_x.index, ch[1]);
    pf_c1_output_free(&o);
    fx_free(&x);
}

/* Sub and top tree levels (shapes 8-8-0 and 8-8-2 as 32/64GiB use, on tiny sectors):
 * every node's tree_c and tree_r_last path read by pc2's code converts to a
 * pf_merkle_proof that encodes the node (mixed radix) and leads to the root. */
static void test_compound_shapes(void **state)
{
    (void)state;
    const int shapes[][3] = { { 8, 8, 0 }, { 8, 8, 2 }, { 8, 2, 0 }, { 8, 0, 0 } };
    const uint64_t nodes[] = { 64, 128, 128, 64 };
    for (int t = 0; t < 4; t++) {
        pf_tree_shape s;
        pf_error err;
        assert_int_equal(pf_tree_shape_make(nodes[t], shapes[t][0], shapes[t][1], shapes[t][2], &s,
                                            &err), PF_OK);
        char dir[] = "/tmp/sealpipe-shape.XXXXXX", path[200];
        assert_non_null(mkdtemp(dir));
        uint8_t *buf = malloc(nodes[t] * 32);
        for (int l = 0; l <= 2; l++) {
            for (uint64_t i = 0; i < nodes[t] * 32; i++)
                buf[i] = (uint8_t)(i * 131 + l * 17 + t);
            for (uint64_t i = 0; i < nodes[t]; i++)
                buf[32 * i + 31] &= 0x3f;
            if (l)
                snprintf(path, sizeof path, "%s/sc-02-data-layer-%d.dat", dir, l);
            else
                snprintf(path, sizeof path, "%s/staged", dir);
            FILE *f = fopen(path, "wb");
            fwrite(buf, 32, nodes[t], f);
            fclose(f);
        }
        char staged[200], sealed[200];
        snprintf(staged, sizeof staged, "%s/staged", dir);
        snprintf(sealed, sizeof sealed, "%s/sealed", dir);
        pf_pc2_output out;
        assert_int_equal(pf_pc2_shaped(&s, 2, dir, staged, sealed, NULL, &out, &err), PF_OK);
        uint32_t levels, hashes;
        pf_shape_path_dims(&s, &levels, &hashes);
        pf_tree_path *tp = malloc(sizeof *tp);
        pf_merkle_proof mp;
        for (uint64_t n = 0; n < nodes[t]; n++) {
            assert_int_equal(pf_tree_c_path(&s, dir, n, tp, &err), PF_OK);
            assert_int_equal(pf_merkle_from_tree_path(&s, tp, &mp, &err), PF_OK);
            assert_int_equal(mp.levels, levels);
            assert_int_equal(mp.kind, shapes[t][2] ? PF_MERKLE_TOP : shapes[t][1] ? PF_MERKLE_SUB
                                                                                 : PF_MERKLE_SINGLE);
            assert_int_equal(pf_merkle_proof_hash_offset(&mp, levels - 1) +
                                 mp.arity[levels - 1] - 1, hashes);
            assert_memory_equal(mp.root, out.comm_c, 32);
            assert_int_equal(pf_merkle_proof_verify(&mp, PF_HASH_POSEIDON, n, "tree_c", &err), PF_OK);
            assert_int_equal(pf_merkle_proof_verify(&mp, PF_HASH_POSEIDON, (n + 1) % nodes[t],
                                                    "tree_c", &err), PF_EVERIFY);
            assert_int_equal(pf_tree_r_last_path(&s, dir, sealed, n, tp, &err), PF_OK);
            assert_int_equal(pf_merkle_from_tree_path(&s, tp, &mp, &err), PF_OK);
            assert_memory_equal(mp.root, out.comm_r_last, 32);
            assert_int_equal(pf_merkle_proof_verify(&mp, PF_HASH_POSEIDON, n, "tree_r", &err), PF_OK);
            mp.hashes[hashes - 1][0] ^= 1;   /* the highest level's sibling */
            assert_int_equal(pf_merkle_proof_verify(&mp, PF_HASH_POSEIDON, n, "tree_r", &err),
                             PF_EVERIFY);
        }
        free(tp);
        free(buf);
        fx_rm_tree(dir);
    }
}

/* The decoder never reads out of bounds or accepts junk: random single-byte changes and
 * random lengths of a valid C1 output (run under ASan by `make asan`). */
static void test_c1_decode_mutations(void **state)
{
    c1_state *s = *state;
    pf_c1_output o, d;
    pf_error err;
    uint8_t *buf;
    size_t len;
    assert_int_equal(run_c1(&s->zero, 5, &o, &err), PF_OK);
    assert_int_equal(pf_c1_output_encode(&o, &buf, &len, &err), PF_OK);
    srand(12345);
    for (int i = 0; i < 3000; i++) {
        size_t n = i % 3 == 0 ? (size_t)rand() % (len + 64) : len;
        uint8_t *m = malloc(n ? n : 1);
        memcpy(m, buf, n < len ? n : len);
        if (n > len)
            memset(m + len, 0x5a, n - len);
        size_t at = (size_t)rand() % len;
        if (at < n)
            m[at] ^= (uint8_t)(1 + rand() % 255);
        if (pf_c1_output_decode(m, n, &d, &err) == PF_OK) {
            /* a change that still decodes must not verify (or be in a public input), and
             * the decoder is strict: encoding gives the very same bytes back */
            assert_int_equal(n, len);
            uint8_t *again;
            size_t again_len;
            assert_int_equal(pf_c1_output_encode(&d, &again, &again_len, &err), PF_OK);
            assert_int_equal(again_len, n);
            assert_memory_equal(again, m, n);
            free(again);
            pf_status v = pf_c1_output_verify(&d, &err);
            if (at >= 288)
                assert_int_not_equal(v, PF_OK);
            pf_c1_output_free(&d);
        }
        free(m);
    }
    free(buf);
    pf_c1_output_free(&o);
}

/* API 1.0 (legacy graph, id 0) and NI/synthetic ids all verify through pf_c1_output_verify. */
static void test_c1_legacy(void **state)
{
    (void)state;
    fx_sector x;
    assert_int_equal(fx_seal(&x, 0, FX_PATTERN, 8, 6), 0);
    pf_c1_output o;
    pf_error err;
    assert_int_equal(run_c1(&x, 0, &o, &err), PF_OK);
    /* the legacy graph puts the predecessor last */
    assert_int_equal(o.proofs[0].replica_column_proofs.drg_parents[5].index,
                     o.proofs[0].replica_column_proofs.c_x.index - 1);
    assert_int_equal(pf_c1_output_verify(&o, &err), PF_OK);
    /* the same proof checked as a V1_1 sector fails: another graph */
    o.pub.proof_id = 5;
    assert_int_not_equal(pf_c1_output_verify(&o, &err), PF_OK);
    o.pub.proof_id = 0;
    pf_c1_output_free(&o);
    fx_free(&x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_synth_vector),
        cmocka_unit_test(test_interactive_ni_reference),
        cmocka_unit_test(test_c1_interactive),
        cmocka_unit_test(test_c1_decode_strict),
        cmocka_unit_test(test_c1_wrong_inputs),
        cmocka_unit_test(test_c1_synthetic),
        cmocka_unit_test(test_c1_ni),
        cmocka_unit_test(test_compound_shapes),
        cmocka_unit_test(test_c1_decode_mutations),
        cmocka_unit_test(test_c1_legacy),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
