/* poseidon.c — Poseidon constants (Grain LFSR round constants, Cauchy MDS matrix, the
 * compressed constants and sparse factorization of the optimized form), the straightforward
 * permutation, and dispatch of the optimized batch functions to the portable or MULX/ADX
 * build of poseidon_perm.h.  See poseidon.h for the conventions. */
#include "poseidon.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* ---- round numbers ---- */

int pf_poseidon_partial_rounds(int width)
{
    /* neptune round_numbers.rs / parameters/round_numbers.txt: 128-bit security, 256-bit
     * field size, x^5, "Standard" strength (with the security margin) */
    if (width < 2)
        return -1;
    if (width <= 3)
        return 55;
    if (width <= 7)
        return 56;
    if (width <= 15)
        return 57;
    if (width <= 31)
        return 59;
    if (width <= 63)
        return 60;
    return -1;
}

uint64_t pf_poseidon_mults_per_hash(int arity)
{
    uint64_t t = (uint64_t)arity + 1;
    int rp = pf_poseidon_partial_rounds((int)t);
    if (rp < 0)
        return 0;
    /* S-box = 3 products; full rounds (pre-sparse included) are dense t x t mixes; partial
     * rounds are sparse mixes of 2t - 1 products */
    return 3 * (t * PF_POSEIDON_RF + (uint64_t)rp) + PF_POSEIDON_RF * t * t +
           (uint64_t)rp * (2 * t - 1);
}

/* ---- Grain LFSR (the Poseidon reference script's round constant generator) ---- */

typedef struct grain {
    uint8_t bits[80];    /* circular: bits[pos] is the oldest */
    int pos;
} grain;

static int grain_step(grain *g)
{
    /* b[i+80] = b[i+62] ^ b[i+51] ^ b[i+38] ^ b[i+23] ^ b[i+13] ^ b[i] */
    const uint8_t *b = g->bits;
    int p = g->pos;
    int nb = b[(p + 62) % 80] ^ b[(p + 51) % 80] ^ b[(p + 38) % 80] ^ b[(p + 23) % 80] ^
             b[(p + 13) % 80] ^ b[p];
    g->bits[p] = (uint8_t)nb;
    g->pos = (p + 1) % 80;
    return nb;
}

static void grain_init(grain *g, int width, int rf, int rp)
{
    /* 2 bits field (1 = prime), 4 bits S-box (1 = x^alpha), 12 bits field size (255),
     * 12 bits t, 10 bits RF, 10 bits RP, 30 one bits; each field written MSB first */
    const struct { int nbits; unsigned v; } fields[] = {
        { 2, 1 }, { 4, 1 }, { 12, 255 }, { 12, (unsigned)width }, { 10, (unsigned)rf },
        { 10, (unsigned)rp }, { 30, 0x3fffffffu },
    };
    int n = 0;
    for (size_t f = 0; f < sizeof fields / sizeof fields[0]; f++)
        for (int i = fields[f].nbits - 1; i >= 0; i--)
            g->bits[n++] = (uint8_t)((fields[f].v >> i) & 1);
    g->pos = 0;
    for (int i = 0; i < 160; i++)
        grain_step(g);
}

/* Self-shrinking output: pairs (x, y); y is emitted when x is 1, the pair dropped when 0. */
static int grain_bit(grain *g)
{
    for (;;) {
        int x = grain_step(g);
        int y = grain_step(g);
        if (x)
            return y;
    }
}

/* Next round constant: 255 output bits read most significant first, redrawn until < p. */
static void grain_constant(grain *g, uint64_t v[4])
{
    for (;;) {
        memset(v, 0, 4 * sizeof v[0]);
        for (int i = 254; i >= 0; i--)
            if (grain_bit(g))
                v[i / 64] |= 1ULL << (i % 64);
        uint8_t b[32];
        pf_fr_limbs_to_bytes(b, v);
        if (pf_fr_bytes_valid(b))
            return;
    }
}

/* ---- small dense matrices over Fr (row-major, n x n) ---- */

static void mat_mul(int n, const pf_fr *a, const pf_fr *b, pf_fr *out)
{
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) {
            pf_fr acc = pf_fr_zero, p;
            for (int k = 0; k < n; k++) {
                pf_fr_mul(&p, &a[i * n + k], &b[k * n + j]);
                pf_fr_add(&acc, &acc, &p);
            }
            out[i * n + j] = acc;
        }
}

/* out = m * v (matrix times column vector). */
static void mat_apply(int n, const pf_fr *m, const pf_fr *v, pf_fr *out)
{
    for (int i = 0; i < n; i++) {
        pf_fr acc = pf_fr_zero, p;
        for (int k = 0; k < n; k++) {
            pf_fr_mul(&p, &m[i * n + k], &v[k]);
            pf_fr_add(&acc, &acc, &p);
        }
        out[i] = acc;
    }
}

/* Gauss-Jordan inversion; returns -1 when m is singular.  work holds 2*n*n elements. */
static int mat_inv(int n, const pf_fr *m, pf_fr *out, pf_fr *work)
{
    pf_fr *a = work, *b = work + n * n;
    memcpy(a, m, sizeof(pf_fr) * (size_t)(n * n));
    for (int i = 0; i < n * n; i++)
        b[i] = pf_fr_zero;
    for (int i = 0; i < n; i++)
        b[i * n + i] = pf_fr_one;
    for (int col = 0; col < n; col++) {
        int piv = col;
        while (piv < n && pf_fr_is_zero(&a[piv * n + col]))
            piv++;
        if (piv == n)
            return -1;
        if (piv != col)
            for (int k = 0; k < n; k++) {
                pf_fr t = a[col * n + k];
                a[col * n + k] = a[piv * n + k];
                a[piv * n + k] = t;
                t = b[col * n + k];
                b[col * n + k] = b[piv * n + k];
                b[piv * n + k] = t;
            }
        pf_fr inv;
        pf_fr_inv(&inv, &a[col * n + col]);
        for (int k = 0; k < n; k++) {
            pf_fr_mul(&a[col * n + k], &a[col * n + k], &inv);
            pf_fr_mul(&b[col * n + k], &b[col * n + k], &inv);
        }
        for (int r = 0; r < n; r++) {
            if (r == col || pf_fr_is_zero(&a[r * n + col]))
                continue;
            pf_fr f = a[r * n + col], p;
            for (int k = 0; k < n; k++) {
                pf_fr_mul(&p, &f, &a[col * n + k]);
                pf_fr_sub(&a[r * n + k], &a[r * n + k], &p);
                pf_fr_mul(&p, &f, &b[col * n + k]);
                pf_fr_sub(&b[r * n + k], &b[r * n + k], &p);
            }
        }
    }
    memcpy(out, b, sizeof(pf_fr) * (size_t)(n * n));
    return 0;
}

/* ---- building the constants of one arity ---- */

typedef struct consts_store {
    pf_poseidon_consts c;
    pf_fr *rc, *mds, *mds_inv, *blob;
} consts_store;

static void store_free(consts_store *s)
{
    if (!s)
        return;
    free(s->rc);
    free(s->mds);
    free(s->mds_inv);
    free(s->blob);
    free(s);
}

/* Folds the round constants behind the S-boxes.  Row vector convention: adding k before a
 * mix by M equals adding k*M after it, and M (hence M^-1) is symmetric, so pushing a
 * constant c back through a mix gives M^-1 c.  In the partial rounds only element 0 passes
 * through an S-box, so the other elements are pushed further back, round after round. */
static int compress_constants(const pf_poseidon_consts *c, const pf_fr *rc, const pf_fr *minv,
                              pf_fr *out)
{
    int t = c->width, half = c->rf / 2, rp = c->rp;
    const pf_fr *key = rc;   /* key + r*t = constants of round r */
    pf_fr acc[PF_POSEIDON_MAX_ARITY + 1], inv[PF_POSEIDON_MAX_ARITY + 1];
    pf_fr *partial = malloc(sizeof(pf_fr) * (size_t)rp);
    if (!partial)
        return -1;
    size_t n = 0;
    /* round 0 adds its constants before the first S-box */
    for (int i = 0; i < t; i++)
        out[n++] = key[i];
    /* first full rounds 0..half-2: after the S-box add M^-1 times the next round's */
    for (int r = 0; r < half - 1; r++) {
        mat_apply(t, minv, key + (r + 1) * t, out + n);
        n += (size_t)t;
    }
    /* partial rounds, from the last one back: the constants of the round after it are
     * pushed through its mix; element 0 stays as that round's single post-S-box constant */
    int first_after = half + rp;
    memcpy(acc, key + first_after * t, sizeof(pf_fr) * (size_t)t);
    for (int i = 0; i < rp; i++) {
        mat_apply(t, minv, acc, inv);
        partial[rp - 1 - i] = inv[0];
        inv[0] = pf_fr_zero;
        const pf_fr *prev = key + (first_after - 1 - i) * t;
        for (int j = 0; j < t; j++)
            pf_fr_add(&acc[j], &prev[j], &inv[j]);
    }
    /* what is left (the first partial round's constants plus everything pushed into it)
     * is added after the S-boxes of the last first-half full round */
    mat_apply(t, minv, acc, out + n);
    n += (size_t)t;
    for (int i = 0; i < rp; i++)
        out[n++] = partial[i];
    /* second-half full rounds except the last: M^-1 times the next round's constants */
    for (int r = 1; r < half; r++) {
        mat_apply(t, minv, key + (first_after + r) * t, out + n);
        n += (size_t)t;
    }
    free(partial);
    return n == (size_t)(c->rf * t + rp) ? 0 : -1;
}

/* Factors the partial rounds' M into a dense pre-sparse matrix and one sparse matrix per
 * partial round.  A matrix C splits as C = C' C'' with C' = [[1, 0], [0, C^]] (C^ = C
 * without row and column 0) and C'' = [[c00, v], [w^, I]] where v = C[0][1..],
 * w = C[1..][0] and w^ = C^^-1 w.  C' leaves element 0 alone, so it commutes with a partial
 * round's S-box and constant and moves into the previous round's mix: the last partial
 * round uses M'' of M, the one before it M'' of M*M', and so on; what remains multiplies
 * into the last first-half full round (pre-sparse). */
static int factor_sparse(const pf_poseidon_consts *c, pf_fr *pre_sparse, pf_fr *sparse)
{
    int t = c->width, s = t - 1, rp = c->rp, rc = -1;
    size_t tt = (size_t)(t * t);
    pf_fr *curr = malloc(sizeof(pf_fr) * tt), *next = malloc(sizeof(pf_fr) * tt);
    pf_fr *prime = malloc(sizeof(pf_fr) * tt), *hat = malloc(sizeof(pf_fr) * tt);
    pf_fr *hat_inv = malloc(sizeof(pf_fr) * tt), *work = malloc(sizeof(pf_fr) * 2 * tt);
    if (!curr || !next || !prime || !hat || !hat_inv || !work)
        goto done;
    memcpy(curr, c->mds, sizeof(pf_fr) * tt);
    for (int k = 0; k < rp; k++) {
        for (int i = 0; i < s; i++)
            for (int j = 0; j < s; j++)
                hat[i * s + j] = curr[(i + 1) * t + (j + 1)];
        if (mat_inv(s, hat, hat_inv, work))
            goto done;
        pf_fr w[PF_POSEIDON_MAX_ARITY], w_hat[PF_POSEIDON_MAX_ARITY];
        for (int i = 0; i < s; i++)
            w[i] = curr[(i + 1) * t];
        mat_apply(s, hat_inv, w, w_hat);
        /* rounds are produced last first */
        pf_fr *sp = sparse + (size_t)(rp - 1 - k) * (size_t)(2 * t - 1);
        sp[0] = curr[0];
        for (int i = 0; i < s; i++)
            sp[1 + i] = w_hat[i];
        for (int j = 0; j < s; j++)
            sp[t + j] = curr[j + 1];
        /* C' of curr */
        for (size_t i = 0; i < tt; i++)
            prime[i] = pf_fr_zero;
        prime[0] = pf_fr_one;
        for (int i = 0; i < s; i++)
            for (int j = 0; j < s; j++)
                prime[(i + 1) * t + (j + 1)] = hat[i * s + j];
        mat_mul(t, c->mds, prime, next);
        memcpy(curr, next, sizeof(pf_fr) * tt);
    }
    memcpy(pre_sparse, curr, sizeof(pf_fr) * tt);
    rc = 0;
done:
    free(curr);
    free(next);
    free(prime);
    free(hat);
    free(hat_inv);
    free(work);
    return rc;
}

static consts_store *build(int arity)
{
    int t = arity + 1, rp = pf_poseidon_partial_rounds(t), rf = PF_POSEIDON_RF;
    size_t tt = (size_t)(t * t), nrc = (size_t)((rf + rp) * t);
    size_t ncomp = (size_t)(rf * t + rp), nsparse = (size_t)rp * (size_t)(2 * t - 1);
    consts_store *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->rc = malloc(sizeof(pf_fr) * nrc);
    s->mds = malloc(sizeof(pf_fr) * tt);
    s->mds_inv = malloc(sizeof(pf_fr) * tt);
    s->blob = malloc(sizeof(pf_fr) * (ncomp + 2 * tt + nsparse));
    pf_fr *work = malloc(sizeof(pf_fr) * 2 * tt);
    if (!s->rc || !s->mds || !s->mds_inv || !s->blob || !work)
        goto fail;

    pf_poseidon_consts *c = &s->c;
    c->arity = arity;
    c->width = t;
    c->rf = rf;
    c->rp = rp;
    uint64_t tag = arity >= 64 ? ~0ULL : (1ULL << arity) - 1;
    pf_fr_from_u64(&c->tag, tag);

    grain g;
    grain_init(&g, t, rf, rp);
    for (size_t i = 0; i < nrc; i++) {
        uint64_t v[4];
        grain_constant(&g, v);
        pf_fr_to_mont(&s->rc[i], v);
    }
    for (int i = 0; i < t; i++)
        for (int j = 0; j < t; j++) {
            pf_fr x;
            pf_fr_from_u64(&x, (uint64_t)(i + t + j));
            pf_fr_inv(&s->mds[i * t + j], &x);
        }
    if (mat_inv(t, s->mds, s->mds_inv, work))
        goto fail;
    c->round_constants = s->rc;
    c->mds = s->mds;
    c->mds_inv = s->mds_inv;

    pf_fr *comp = s->blob, *mds_copy = comp + ncomp, *pre = mds_copy + tt, *sparse = pre + tt;
    if (compress_constants(c, s->rc, s->mds_inv, comp))
        goto fail;
    memcpy(mds_copy, s->mds, sizeof(pf_fr) * tt);
    if (factor_sparse(c, pre, sparse))
        goto fail;
    c->compressed = comp;
    c->pre_sparse = pre;
    c->sparse = sparse;
    c->blob = s->blob;
    c->blob_len = ncomp + 2 * tt + nsparse;
    free(work);
    return s;
fail:
    free(work);
    store_free(s);
    return NULL;
}

/* One pthread_once per arity: a once routine takes no argument, so each arity gets its own
 * small routine. */
static consts_store *table[PF_POSEIDON_MAX_ARITY + 1];
static pthread_once_t onces[PF_POSEIDON_MAX_ARITY + 1];

#define ONCE_FN(a)                                                                         \
    static void build_##a(void) { table[a] = build(a); }
#define ARITIES(X)                                                                         \
    X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11) X(12) X(13) X(14) X(15) X(16)  \
    X(17) X(18) X(19) X(20) X(21) X(22) X(23) X(24) X(25) X(26) X(27) X(28) X(29) X(30)     \
    X(31) X(32) X(33) X(34) X(35) X(36)
ARITIES(ONCE_FN)
#define ONCE_REF(a) [a] = build_##a,
static void (*const builders[PF_POSEIDON_MAX_ARITY + 1])(void) = { ARITIES(ONCE_REF) };

__attribute__((constructor)) static void init_onces(void)
{
    /* PTHREAD_ONCE_INIT is not guaranteed to be zero, so set every slot explicitly */
    for (int i = 0; i <= PF_POSEIDON_MAX_ARITY; i++) {
        pthread_once_t o = PTHREAD_ONCE_INIT;
        onces[i] = o;
    }
}

const pf_poseidon_consts *pf_poseidon_get(int arity)
{
    if (arity < 1 || arity > PF_POSEIDON_MAX_ARITY)
        return NULL;
    pthread_once(&onces[arity], builders[arity]);
    return table[arity] ? &table[arity]->c : NULL;
}

/* ---- the straightforward permutation ---- */

static void sbox(pf_fr *x)
{
    pf_fr x2, x4;
    pf_fr_mul(&x2, x, x);
    pf_fr_mul(&x4, &x2, &x2);
    pf_fr_mul(x, x, &x4);
}

static void mix_dense(int t, const pf_fr *m, pf_fr *s)
{
    pf_fr out[PF_POSEIDON_MAX_ARITY + 1];
    for (int j = 0; j < t; j++) {
        pf_fr acc = pf_fr_zero, p;
        for (int i = 0; i < t; i++) {
            pf_fr_mul(&p, &s[i], &m[i * t + j]);
            pf_fr_add(&acc, &acc, &p);
        }
        out[j] = acc;
    }
    memcpy(s, out, sizeof(pf_fr) * (size_t)t);
}

void pf_poseidon_hash_correct(const pf_poseidon_consts *c, const pf_fr *in, pf_fr *out)
{
    int t = c->width, half = c->rf / 2;
    pf_fr s[PF_POSEIDON_MAX_ARITY + 1];
    s[0] = c->tag;
    memcpy(s + 1, in, sizeof(pf_fr) * (size_t)c->arity);
    const pf_fr *k = c->round_constants;
    for (int r = 0; r < c->rf + c->rp; r++, k += t) {
        int full = r < half || r >= half + c->rp;
        for (int i = 0; i < t; i++)
            pf_fr_add(&s[i], &s[i], &k[i]);
        if (full)
            for (int i = 0; i < t; i++)
                sbox(&s[i]);
        else
            sbox(&s[0]);
        mix_dense(t, c->mds, s);
    }
    *out = s[1];
}

/* ---- dispatch of the optimized form ---- */

static struct {
    pthread_once_t once;
    int adx;
} path = { PTHREAD_ONCE_INIT, 0 };

static void choose_path(void)
{
    path.adx = pf_fr_using_adx();
}

void pf_poseidon_hash_mont(const pf_poseidon_consts *c, const pf_fr *in, pf_fr *out)
{
    pthread_once(&path.once, choose_path);
    if (path.adx)
        pf_poseidon_hash_mont_adx(c, in, out);
    else
        pf_poseidon_hash_mont_portable(c, in, out);
}

long pf_poseidon_batch_nodes(const pf_poseidon_consts *c, const uint8_t *in, size_t count,
                             uint8_t *out)
{
    pthread_once(&path.once, choose_path);
    return path.adx ? pf_poseidon_batch_nodes_adx(c, in, count, out)
                    : pf_poseidon_batch_nodes_portable(c, in, count, out);
}

long pf_poseidon_batch_columns(const pf_poseidon_consts *c, const uint8_t *const *cols,
                               size_t count, uint8_t *out)
{
    pthread_once(&path.once, choose_path);
    return path.adx ? pf_poseidon_batch_columns_adx(c, cols, count, out)
                    : pf_poseidon_batch_columns_portable(c, cols, count, out);
}
