/* test_pc2.c — tree shapes, tree_c / tree_r_last / comm_r and PC2 against a brute-force
 * recomputation that uses only the straightforward Poseidon permutation: a 2KiB sector
 * (8-0-0) from fabricated layers, small synthetic 8-8-0 and 8-8-2 sectors with 2 and 11
 * layers, every file byte for byte (tree-c rows, the LC rows of tree-r-last, the sealed
 * replica, p_aux), inclusion paths, the level-cache layout rust-fil-proofs writes, errors
 * that name the bad file, and PC2 interrupted at every chunk and every rename then re-run. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "pc2_hasher.h"
#include "poseidon.h"
#include "sealproofs.h"
#include "tree_poseidon.h"

/* ---- brute force ---- */

static void bf_hash(int arity, const uint8_t *in, uint8_t out[32])
{
    pf_fr x[PF_POSEIDON_MAX_ARITY], h;
    for (int i = 0; i < arity; i++)
        assert_int_equal(pf_fr_from_bytes(&x[i], in + 32 * i), 0);
    pf_poseidon_hash_correct(pf_poseidon_get(arity), x, &h);
    pf_fr_to_bytes(out, &h);
}

/* All rows of an arity-a tree over n leaves, bottom up; returns the node count. */
static size_t bf_rows(int a, const uint8_t *leaves, size_t n, uint8_t *rows)
{
    memcpy(rows, leaves, n * 32);
    size_t off = 0, width = n, total = n;
    while (width > 1) {
        for (size_t i = 0; i < width / (size_t)a; i++)
            bf_hash(a, rows + 32 * (off + (size_t)a * i), rows + 32 * (off + width + i));
        off += width;
        width /= (size_t)a;
        total += width;
    }
    return total;
}

typedef struct sector {
    char dir[256];
    char staged[300], sealed[300];
    pf_tree_shape shape;
    int layers;
    uint8_t *labels;     /* layers * nodes * 32 */
    uint8_t *data;       /* nodes * 32 (zeros past the staged length) */
    size_t staged_len;
} sector;

static uint64_t rng = 777;
static uint64_t rnd64(void)
{
    uint64_t z = (rng += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static void rnd_nodes(uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n * 32; i++)
        p[i] = (uint8_t)rnd64();
    for (size_t i = 0; i < n; i++)
        p[32 * i + 31] &= 0x3f;   /* like trimmed labels and fr32 data */
}

static void write_file(const char *path, const void *buf, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(buf, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

static uint8_t *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *buf = malloc(n > 0 ? (size_t)n : 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return buf;
}

static void make_sector(sector *s, uint64_t nodes, int base, int sub, int top, int layers,
                        size_t staged_len)
{
    memset(s, 0, sizeof *s);
    const char *tmp = getenv("TMPDIR");
    snprintf(s->dir, sizeof s->dir, "%s/test_pc2.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    assert_non_null(mkdtemp(s->dir));
    snprintf(s->staged, sizeof s->staged, "%s/staged", s->dir);
    snprintf(s->sealed, sizeof s->sealed, "%s/sealed", s->dir);
    assert_int_equal(pf_tree_shape_make(nodes, base, sub, top, &s->shape, NULL), PF_OK);
    s->layers = layers;
    s->labels = malloc((size_t)layers * nodes * 32);
    s->data = calloc(nodes, 32);
    assert_non_null(s->labels);
    assert_non_null(s->data);
    rnd_nodes(s->labels, (size_t)layers * nodes);
    rnd_nodes(s->data, nodes);
    memset(s->data + staged_len, 0, nodes * 32 - staged_len);
    s->staged_len = staged_len;
    for (int l = 0; l < layers; l++) {
        char p[400];
        snprintf(p, sizeof p, "%s/sc-02-data-layer-%d.dat", s->dir, l + 1);
        write_file(p, s->labels + (size_t)l * nodes * 32, nodes * 32);
    }
    write_file(s->staged, s->data, staged_len);
}

static void free_sector(sector *s)
{
    DIR *d = opendir(s->dir);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d))) {
            if (e->d_name[0] == '.')
                continue;
            char p[600];
            snprintf(p, sizeof p, "%s/%s", s->dir, e->d_name);
            unlink(p);
        }
        closedir(d);
    }
    rmdir(s->dir);
    free(s->labels);
    free(s->data);
}

/* Expected contents computed by brute force. */
typedef struct expect {
    uint8_t comm_c[32], comm_r_last[32], comm_r[32];
    uint8_t *replica;            /* nodes * 32 */
    uint8_t **c_file, **r_file;  /* per base tree: whole file contents */
    size_t c_len, r_len;
} expect;

static void bf_combine(const pf_tree_shape *s, const uint8_t *roots, uint8_t out[32])
{
    if (s->base_count == 1) {
        memcpy(out, roots, 32);
        return;
    }
    uint8_t subs[16 * 32];
    int nsub = s->base_count / s->sub_arity;
    for (int j = 0; j < nsub; j++)
        bf_hash(s->sub_arity, roots + 32 * (size_t)(j * s->sub_arity), subs + 32 * j);
    if (s->top_arity)
        bf_hash(s->top_arity, subs, out);
    else
        memcpy(out, subs, 32);
}

static void compute_expect(const sector *s, expect *e)
{
    const pf_tree_shape *sh = &s->shape;
    uint64_t n = sh->nodes, bl = sh->base_leaves;
    e->replica = malloc(n * 32);
    uint8_t *cols = malloc(n * 32), *column = malloc((size_t)s->layers * 32);
    uint8_t *rows = malloc(bl * 2 * 32);
    uint8_t c_roots[256 * 32], r_roots[256 * 32];
    for (uint64_t v = 0; v < n; v++) {
        for (int l = 0; l < s->layers; l++)
            memcpy(column + 32 * l, s->labels + ((size_t)l * n + v) * 32, 32);
        bf_hash(s->layers, column, cols + 32 * v);
        pf_fr a, b, r;
        const uint8_t *key = s->labels + ((size_t)(s->layers - 1) * n + v) * 32;
        assert_int_equal(pf_fr_from_bytes(&a, key), 0);
        assert_int_equal(pf_fr_from_bytes(&b, s->data + 32 * v), 0);
        pf_fr_add(&r, &a, &b);
        pf_fr_to_bytes(e->replica + 32 * v, &r);
    }
    e->c_len = pf_tree_file_nodes(sh, PF_TREE_C) * 32;
    e->r_len = pf_tree_file_nodes(sh, PF_TREE_R_LAST) * 32;
    e->c_file = calloc((size_t)sh->base_count, sizeof *e->c_file);
    e->r_file = calloc((size_t)sh->base_count, sizeof *e->r_file);
    for (int t = 0; t < sh->base_count; t++) {
        size_t total = bf_rows(sh->base_arity, cols + t * bl * 32, bl, rows);
        assert_int_equal(total * 32, e->c_len);
        e->c_file[t] = malloc(e->c_len);
        memcpy(e->c_file[t], rows, e->c_len);
        memcpy(c_roots + 32 * t, rows + 32 * (total - 1), 32);
        total = bf_rows(sh->base_arity, e->replica + t * bl * 32, bl, rows);
        /* the LC file is the tail of the full tree: rows above rows_to_discard + 1 */
        e->r_file[t] = malloc(e->r_len);
        memcpy(e->r_file[t], rows + total * 32 - e->r_len, e->r_len);
        memcpy(r_roots + 32 * t, rows + 32 * (total - 1), 32);
    }
    bf_combine(sh, c_roots, e->comm_c);
    bf_combine(sh, r_roots, e->comm_r_last);
    uint8_t pair[64];
    memcpy(pair, e->comm_c, 32);
    memcpy(pair + 32, e->comm_r_last, 32);
    bf_hash(2, pair, e->comm_r);
    free(cols);
    free(column);
    free(rows);
}

static void free_expect(const sector *s, expect *e)
{
    for (int t = 0; t < s->shape.base_count; t++) {
        free(e->c_file[t]);
        free(e->r_file[t]);
    }
    free(e->c_file);
    free(e->r_file);
    free(e->replica);
}

static void check_files(const sector *s, const expect *e, const pf_pc2_output *out)
{
    assert_memory_equal(out->comm_c, e->comm_c, 32);
    assert_memory_equal(out->comm_r_last, e->comm_r_last, 32);
    assert_memory_equal(out->comm_r, e->comm_r, 32);
    size_t len;
    uint8_t *buf = read_file(s->sealed, &len);
    assert_non_null(buf);
    assert_int_equal(len, s->shape.nodes * 32);
    assert_memory_equal(buf, e->replica, len);
    free(buf);
    for (int t = 0; t < s->shape.base_count; t++) {
        char p[4096];
        assert_int_equal(pf_tree_file_path(s->dir, &s->shape, PF_TREE_C, t, p, sizeof p), 0);
        buf = read_file(p, &len);
        assert_non_null(buf);
        assert_int_equal(len, e->c_len);
        assert_memory_equal(buf, e->c_file[t], len);
        free(buf);
        assert_int_equal(pf_tree_file_path(s->dir, &s->shape, PF_TREE_R_LAST, t, p, sizeof p), 0);
        buf = read_file(p, &len);
        assert_non_null(buf);
        assert_int_equal(len, e->r_len);
        assert_memory_equal(buf, e->r_file[t], len);
        free(buf);
    }
    uint8_t cc[32], cr[32];
    assert_int_equal(pf_p_aux_read(s->dir, cc, cr, NULL), PF_OK);
    assert_memory_equal(cc, e->comm_c, 32);
    assert_memory_equal(cr, e->comm_r_last, 32);
    /* no temporary file stays behind */
    DIR *d = opendir(s->dir);
    struct dirent *de;
    while ((de = readdir(d)))
        assert_null(strstr(de->d_name, ".tmp"));
    closedir(d);
}

static pf_status run_pc2(const sector *s, uint64_t chunk, int threads, pf_pc2_output *out,
                         pf_error *err)
{
    pf_pc2_options opt = { .threads = threads, .chunk_nodes = chunk };
    return pf_pc2_shaped(&s->shape, s->layers, s->dir, s->staged, s->sealed, &opt, out, err);
}

/* ---- tests ---- */

static void test_shapes(void **state)
{
    (void)state;
    pf_tree_shape s;
    pf_error e;
    /* registered proofs (research/porep.md 1.1 and 7.3) */
    assert_int_equal(pf_tree_shape_for_proof(5, &s, &e), PF_OK);   /* 2KiB */
    assert_int_equal(s.base_count, 1);
    assert_int_equal(s.base_rows, 3);
    assert_int_equal(s.rows_to_discard, 1);
    assert_int_equal(pf_tree_file_nodes(&s, PF_TREE_C), 73);
    assert_int_equal(pf_tree_file_nodes(&s, PF_TREE_R_LAST), 1);
    assert_int_equal(pf_tree_shape_for_proof(6, &s, &e), PF_OK);   /* 8MiB */
    assert_int_equal(s.base_rows, 7);
    assert_int_equal(s.rows_to_discard, 2);
    assert_int_equal(pf_tree_file_nodes(&s, PF_TREE_R_LAST), 512 + 64 + 8 + 1);
    assert_int_equal(pf_tree_shape_for_proof(7, &s, &e), PF_OK);   /* 512MiB */
    assert_int_equal(s.base_rows, 9);
    assert_int_equal(pf_tree_file_nodes(&s, PF_TREE_R_LAST), 32768 + 4096 + 512 + 64 + 8 + 1);
    assert_int_equal(pf_tree_shape_for_proof(8, &s, &e), PF_OK);   /* 32GiB: 8-8-0 */
    assert_int_equal(s.base_count, 8);
    assert_int_equal(s.base_leaves, 1ULL << 27);
    assert_int_equal(s.base_rows, 10);
    assert_int_equal(s.rows_to_discard, 2);
    assert_int_equal(pf_tree_file_nodes(&s, PF_TREE_C), ((1ULL << 30) - 1) / 7);
    assert_int_equal(pf_tree_shape_for_proof(9, &s, &e), PF_OK);   /* 64GiB: 8-8-2 */
    assert_int_equal(s.base_count, 16);
    assert_int_equal(s.top_arity, 2);
    char p[256];
    assert_int_equal(pf_tree_file_path("/c", &s, PF_TREE_R_LAST, 15, p, sizeof p), 0);
    assert_string_equal(p, "/c/sc-02-data-tree-r-last-15.dat");
    assert_int_equal(pf_tree_shape_for_proof(5, &s, &e), PF_OK);
    assert_int_equal(pf_tree_file_path("/c", &s, PF_TREE_C, 0, p, sizeof p), 0);
    assert_string_equal(p, "/c/sc-02-data-tree-c.dat");
    /* tiny trees: nothing to discard below 3 rows */
    assert_int_equal(pf_tree_shape_make(8, 8, 0, 0, &s, &e), PF_OK);
    assert_int_equal(s.rows_to_discard, 0);
    /* bad shapes are refused with a reason */
    assert_int_equal(pf_tree_shape_make(100, 8, 0, 0, &s, &e), PF_EINVAL);
    assert_non_null(strstr(e.msg, "power of the base arity"));
    assert_int_equal(pf_tree_shape_make(512, 8, 0, 2, &s, &e), PF_EINVAL);
    assert_int_equal(pf_tree_shape_make(64 * 7, 8, 7, 0, &s, &e), PF_OK);
    assert_int_equal(pf_tree_shape_for_proof(42, &s, &e), PF_EINVAL);
}

static void test_small_tree_roots(void **state)
{
    (void)state;
    /* 8-0-0 with 64 leaves: the root through the library's combining equals brute force,
     * and comm_r is Poseidon_2 of the two roots */
    uint8_t leaves[64 * 32], rows[73 * 32];
    rnd_nodes(leaves, 64);
    assert_int_equal(bf_rows(8, leaves, 64, rows), 73);
    uint8_t level1[8 * 32], root[32];
    const pf_poseidon_consts *c8 = pf_poseidon_get(8);
    assert_int_equal(pf_poseidon_batch_nodes(c8, leaves, 8, level1), -1);
    assert_memory_equal(level1, rows + 64 * 32, 8 * 32);
    assert_int_equal(pf_poseidon_batch_nodes(c8, level1, 1, root), -1);
    assert_memory_equal(root, rows + 72 * 32, 32);

    uint8_t cr[32], want[32], pair[64];
    memcpy(pair, root, 32);
    memcpy(pair + 32, leaves, 32);
    assert_int_equal(pf_comm_r(root, leaves, cr, NULL), PF_OK);
    bf_hash(2, pair, want);
    assert_memory_equal(cr, want, 32);
    uint8_t bad[32];
    memset(bad, 0xff, 32);
    pf_error e;
    assert_int_equal(pf_comm_r(bad, leaves, cr, &e), PF_EINVAL);
    assert_non_null(strstr(e.msg, "comm_c"));

    /* combine: 8-8-2 over 16 base roots */
    pf_tree_shape s;
    assert_int_equal(pf_tree_shape_make(16 * 64, 8, 8, 2, &s, NULL), PF_OK);
    uint8_t roots[16 * 32], got[32];
    rnd_nodes(roots, 16);
    assert_int_equal(pf_tree_combine_roots(&s, roots, got, NULL), PF_OK);
    bf_combine(&s, roots, want);
    assert_memory_equal(got, want, 32);
}

static void check_paths(const sector *s, const expect *e)
{
    const pf_tree_shape *sh = &s->shape;
    uint64_t probes[] = { 0, 1, 7, 8, 63, sh->nodes / 2 + 3, sh->nodes - 1 };
    for (size_t i = 0; i < sizeof probes / sizeof probes[0]; i++) {
        uint64_t v = probes[i] % sh->nodes;
        pf_tree_path p;
        pf_error err;
        assert_int_equal(pf_tree_c_path(sh, s->dir, v, &p, &err), PF_OK);
        assert_memory_equal(p.root, e->comm_c, 32);
        assert_int_equal(pf_tree_path_verify(sh, &p, e->comm_c, &err), PF_OK);
        /* the leaf is the column hash of v */
        uint8_t column[PF_POSEIDON_MAX_ARITY * 32], h[32];
        for (int l = 0; l < s->layers; l++)
            memcpy(column + 32 * l, s->labels + ((size_t)l * sh->nodes + v) * 32, 32);
        bf_hash(s->layers, column, h);
        assert_memory_equal(p.leaf, h, 32);
        /* a wrong sibling or index fails */
        pf_tree_path q = p;
        q.level[0].siblings[0][0] ^= 1;
        assert_int_equal(pf_tree_path_verify(sh, &q, NULL, &err), PF_EVERIFY);
        q = p;
        q.level[0].index = (q.level[0].index + 1) % 8;
        assert_int_equal(pf_tree_path_verify(sh, &q, NULL, &err), PF_EVERIFY);

        assert_int_equal(pf_tree_r_last_path(sh, s->dir, s->sealed, v, &p, &err), PF_OK);
        assert_memory_equal(p.root, e->comm_r_last, 32);
        assert_memory_equal(p.leaf, e->replica + 32 * v, 32);
        assert_int_equal(pf_tree_path_verify(sh, &p, NULL, &err), PF_OK);
    }
    pf_tree_path p;
    pf_error err;
    assert_int_equal(pf_tree_c_path(sh, s->dir, sh->nodes, &p, &err), PF_EINVAL);
}

static void pc2_case(uint64_t nodes, int base, int sub, int top, int layers, size_t staged_len,
                     uint64_t chunk)
{
    sector s;
    expect e;
    make_sector(&s, nodes, base, sub, top, layers, staged_len);
    compute_expect(&s, &e);
    pf_pc2_output out;
    pf_error err;
    assert_int_equal(run_pc2(&s, chunk, 2, &out, &err), PF_OK);
    check_files(&s, &e, &out);
    check_paths(&s, &e);
    /* a different chunk size and thread count gives the same files */
    memset(&out, 0, sizeof out);
    assert_int_equal(run_pc2(&s, chunk == 8 ? 0 : 8, 1, &out, &err), PF_OK);
    check_files(&s, &e, &out);
    free_expect(&s, &e);
    free_sector(&s);
}

static void test_pc2_2kib(void **state)
{
    (void)state;
    /* the registered 2KiB proof through pf_pc2; staged data shorter than the sector and not
     * a whole number of nodes */
    sector s;
    expect e;
    make_sector(&s, 64, 8, 0, 0, 2, 1500);
    compute_expect(&s, &e);
    pf_pc1_output pc1;
    memset(&pc1, 0, sizeof pc1);
    pc1.version = PF_PC1_OUTPUT_VERSION;
    pc1.proof_id = 5;   /* StackedDrg2KiBV1_1 */
    pf_pc2_output out;
    pf_error err;
    assert_int_equal(pf_pc2(&pc1, s.dir, s.staged, s.sealed, NULL, &out, &err), PF_OK);
    check_files(&s, &e, &out);
    check_paths(&s, &e);
    /* the 2KiB tree-r-last file is the root alone (rows_to_discard = 1) */
    char p[4096];
    size_t len;
    pf_tree_file_path(s.dir, &s.shape, PF_TREE_R_LAST, 0, p, sizeof p);
    uint8_t *buf = read_file(p, &len);
    assert_int_equal(len, 32);
    assert_memory_equal(buf, e.comm_r_last, 32);
    free(buf);
    /* a changed replica is caught when a tree_r_last path is rebuilt */
    FILE *f = fopen(s.sealed, "r+b");
    fseek(f, 32 * 5, SEEK_SET);
    fputc(0, f);
    fclose(f);
    pf_tree_path path;
    assert_int_equal(pf_tree_r_last_path(&s.shape, s.dir, s.sealed, 3, &path, &err),
                     PF_ECORRUPT);
    assert_non_null(strstr(err.msg, "does not match"));
    free_expect(&s, &e);
    free_sector(&s);
}

static void test_pc2_shapes(void **state)
{
    (void)state;
    pc2_case(512, 8, 8, 0, 2, 512 * 32, 0);        /* 8-8-0, base trees of 64 */
    pc2_case(1024, 8, 8, 2, 2, 700 * 32, 8);       /* 8-8-2 in chunks of 8 leaves */
    pc2_case(4096, 8, 0, 0, 11, 4096 * 32, 64);    /* 11 layers, 4 rows, rows_to_discard 2 */
    pc2_case(128, 8, 8, 2, 11, 0, 0);              /* 8-8-2 with 8-leaf base trees */
}

typedef struct cancel_at {
    const char *stage;
    uint64_t at;
    int fired;
} cancel_at;

static int cancel_cb(void *arg, const char *stage, uint64_t done, uint64_t total)
{
    (void)total;
    cancel_at *c = arg;
    if (!c->fired && strcmp(stage, c->stage) == 0 && done >= c->at) {
        c->fired = 1;
        return 1;
    }
    return 0;
}

static void test_pc2_interrupted(void **state)
{
    (void)state;
    sector s;
    expect e;
    make_sector(&s, 1024, 8, 8, 2, 2, 1024 * 32);
    compute_expect(&s, &e);
    pf_pc2_output out;
    pf_error err;
    /* interrupted after chunks, and between renames (a crash half-way through moving the
     * outputs into place leaves some final files new and others missing) */
    const cancel_at points[] = {
        { "pc2", 8, 0 }, { "pc2", 512, 0 }, { "pc2", 1024, 0 },
        { "rename", 0, 0 }, { "rename", 1, 0 }, { "rename", 17, 0 }, { "rename", 33, 0 },
    };
    for (size_t i = 0; i < sizeof points / sizeof points[0]; i++) {
        cancel_at c = points[i];
        pf_pc2_options opt = { .threads = 2, .chunk_nodes = 8, .progress = cancel_cb,
                               .progress_arg = &c };
        assert_int_equal(pf_pc2_shaped(&s.shape, 2, s.dir, s.staged, s.sealed, &opt, &out, &err),
                         PF_EINTERRUPTED);
        assert_true(c.fired);
        /* inputs untouched, no temporary file left, p_aux not yet written */
        size_t len;
        uint8_t *buf = read_file(s.staged, &len);
        assert_memory_equal(buf, s.data, len);
        free(buf);
        DIR *d = opendir(s.dir);
        struct dirent *de;
        while ((de = readdir(d)))
            assert_null(strstr(de->d_name, ".tmp"));
        closedir(d);
        if (i == 0) {
            char p[4096];
            pf_p_aux_path(s.dir, p, sizeof p);
            assert_int_equal(access(p, F_OK), -1);
        }
        /* the re-run gives the expected files */
        memset(&out, 0, sizeof out);
        assert_int_equal(run_pc2(&s, 8, 2, &out, &err), PF_OK);
        check_files(&s, &e, &out);
    }
    /* the cancel flag stops it too */
    volatile int flag = 1;
    pf_pc2_options opt = { .threads = 1, .cancel = &flag };
    assert_int_equal(pf_pc2_shaped(&s.shape, 2, s.dir, s.staged, s.sealed, &opt, &out, &err),
                     PF_EINTERRUPTED);
    assert_non_null(strstr(err.msg, "cancelled"));
    /* earlier complete outputs are still there and still right */
    memset(&out, 0, sizeof out);
    memcpy(out.comm_c, e.comm_c, 32);
    memcpy(out.comm_r_last, e.comm_r_last, 32);
    memcpy(out.comm_r, e.comm_r, 32);
    check_files(&s, &e, &out);
    free_expect(&s, &e);
    free_sector(&s);
}

static void test_pc2_errors(void **state)
{
    (void)state;
    sector s;
    make_sector(&s, 64, 8, 0, 0, 2, 64 * 32);
    pf_pc2_output out;
    pf_error err;
    /* the staged file is never the output */
    assert_int_equal(pf_pc2_shaped(&s.shape, 2, s.dir, s.staged, s.staged, NULL, &out, &err),
                     PF_EINVAL);
    assert_non_null(strstr(err.msg, "staged"));
    /* chunk sizes must be powers of the arity */
    assert_int_equal(run_pc2(&s, 10, 1, &out, &err), PF_EINVAL);
    /* a label >= p names the layer file and the node */
    char layer2[400];
    snprintf(layer2, sizeof layer2, "%s/sc-02-data-layer-2.dat", s.dir);
    uint8_t ff[32];
    memset(ff, 0xff, 32);
    FILE *f = fopen(layer2, "r+b");
    fseek(f, 32 * 9, SEEK_SET);
    fwrite(ff, 1, 32, f);
    fclose(f);
    assert_int_equal(run_pc2(&s, 0, 2, &out, &err), PF_ECORRUPT);
    assert_non_null(strstr(err.msg, "sc-02-data-layer-2.dat"));
    assert_non_null(strstr(err.msg, "node 9"));
    write_file(layer2, s.labels + 64 * 32, 64 * 32);
    /* a staged node >= p: the data is not fr32-padded */
    uint8_t *bad = malloc(64 * 32);
    memcpy(bad, s.data, 64 * 32);
    memset(bad + 32 * 17, 0xff, 32);
    write_file(s.staged, bad, 64 * 32);
    assert_int_equal(run_pc2(&s, 0, 2, &out, &err), PF_EINVAL);
    assert_non_null(strstr(err.msg, "node 17"));
    /* a staged file larger than the sector */
    write_file(s.staged, bad, 64 * 32);
    f = fopen(s.staged, "ab");
    fputc(0, f);
    fclose(f);
    assert_int_equal(run_pc2(&s, 0, 2, &out, &err), PF_EINVAL);
    assert_non_null(strstr(err.msg, "larger than the sector"));
    free(bad);
    /* a missing or short layer */
    unlink(layer2);
    assert_int_equal(run_pc2(&s, 0, 2, &out, &err), PF_EIO);
    assert_non_null(strstr(err.msg, "run PC1"));
    write_file(layer2, s.labels, 100);
    assert_int_equal(run_pc2(&s, 0, 2, &out, &err), PF_ECORRUPT);
    /* a second PC2 on the same cache directory is refused while the first holds the lock */
    {
        char lock[400];
        snprintf(lock, sizeof lock, "%s/sealpipe-pc2.lock", s.dir);
        int fd = open(lock, O_RDWR | O_CREAT, 0644);
        assert_true(fd >= 0);
        assert_int_equal(flock(fd, LOCK_EX), 0);
        write_file(layer2, s.labels + 64 * 32, 64 * 32);
        write_file(s.staged, s.data, 64 * 32);
        assert_int_equal(run_pc2(&s, 0, 1, &out, &err), PF_EINVAL);
        assert_non_null(strstr(err.msg, "another PC2"));
        close(fd);
        assert_int_equal(run_pc2(&s, 0, 1, &out, &err), PF_OK);
        unlink(lock);
        unlink(s.sealed);
        char p[4096];
        pf_tree_file_path(s.dir, &s.shape, PF_TREE_C, 0, p, sizeof p);
        unlink(p);
        pf_tree_file_path(s.dir, &s.shape, PF_TREE_R_LAST, 0, p, sizeof p);
        unlink(p);
        pf_p_aux_path(s.dir, p, sizeof p);
        unlink(p);
    }
    /* a PC1 output of an unknown version or proof */
    pf_pc1_output pc1;
    memset(&pc1, 0, sizeof pc1);
    pc1.version = 99;
    assert_int_equal(pf_pc2(&pc1, s.dir, s.staged, s.sealed, NULL, &out, &err), PF_EINVAL);
    pc1.version = PF_PC1_OUTPUT_VERSION;
    pc1.proof_id = 77;
    assert_int_equal(pf_pc2(&pc1, s.dir, s.staged, s.sealed, NULL, &out, &err), PF_EINVAL);
    /* nothing was left behind by the failures */
    DIR *d = opendir(s.dir);
    struct dirent *de;
    while ((de = readdir(d))) {
        assert_null(strstr(de->d_name, ".tmp"));
        assert_null(strstr(de->d_name, "tree"));
    }
    closedir(d);
    free_sector(&s);
}

/* A backend with the optional rows/column_rows calls, built on the CPU one, counting how
 * PC2 uses it: PC2 must give the same files through them. */
typedef struct rows_hasher {
    pf_hasher base;
    pf_hasher *cpu;
    int rows_calls, column_rows_calls, destroyed;
} rows_hasher;

static pf_status rh_columns(pf_hasher *h, int layers, const uint8_t *const *cols, size_t count,
                            uint8_t *out, long *bad, pf_error *err)
{
    rows_hasher *r = (rows_hasher *)h;
    return r->cpu->columns(r->cpu, layers, cols, count, out, bad, err);
}

static pf_status rh_nodes(pf_hasher *h, int arity, const uint8_t *in, size_t count, uint8_t *out,
                          long *bad, pf_error *err)
{
    rows_hasher *r = (rows_hasher *)h;
    return r->cpu->nodes(r->cpu, arity, in, count, out, bad, err);
}

static pf_status rh_rows(pf_hasher *h, int arity, uint8_t *buf, uint64_t leaves, int rows,
                         long *bad, pf_error *err)
{
    rows_hasher *r = (rows_hasher *)h;
    r->rows_calls++;
    uint64_t off = 0, width = leaves;
    for (int i = 0; i < rows; i++) {
        pf_status st = r->cpu->nodes(r->cpu, arity, buf + 32 * off, width / (uint64_t)arity,
                                     buf + 32 * (off + width), bad, err);
        if (st)
            return st;
        off += width;
        width /= (uint64_t)arity;
    }
    return PF_OK;
}

static pf_status rh_column_rows(pf_hasher *h, int layers, const uint8_t *const *cols,
                                uint64_t leaves, int arity, int rows, uint8_t *out, long *bad,
                                pf_error *err)
{
    rows_hasher *r = (rows_hasher *)h;
    r->column_rows_calls++;
    pf_status st = r->cpu->columns(r->cpu, layers, cols, (size_t)leaves, out, bad, err);
    if (st)
        return st;
    r->rows_calls--;   /* count only PC2's own rows() calls */
    return rh_rows(h, arity, out, leaves, rows, bad, err);
}

static void rh_destroy(pf_hasher *h)
{
    ((rows_hasher *)h)->destroyed = 1;
}

static void test_pc2_backend_rows(void **state)
{
    (void)state;
    sector s;
    expect e;
    make_sector(&s, 1024, 8, 8, 2, 2, 1024 * 32);
    compute_expect(&s, &e);
    rows_hasher rh;
    memset(&rh, 0, sizeof rh);
    assert_int_equal(pf_hasher_cpu_new(2, &rh.cpu, NULL), PF_OK);
    rh.base.name = "test-rows";
    rh.base.columns = rh_columns;
    rh.base.nodes = rh_nodes;
    rh.base.rows = rh_rows;
    rh.base.column_rows = rh_column_rows;
    rh.base.destroy = rh_destroy;
    pf_pc2_options opt = { .hasher = &rh.base, .chunk_nodes = 8 };
    pf_pc2_output out;
    pf_error err;
    assert_int_equal(pf_pc2_shaped(&s.shape, 2, s.dir, s.staged, s.sealed, &opt, &out, &err),
                     PF_OK);
    check_files(&s, &e, &out);
    /* 128 chunks of 8 leaves: one column_rows and one rows (replica) call each, plus the
     * rows above the chunk roots of each of the 16 base trees (both trees) */
    assert_int_equal(rh.column_rows_calls, 128);
    assert_int_equal(rh.rows_calls, 128 + 2 * 16);
    assert_int_equal(rh.destroyed, 0);   /* a caller's backend stays the caller's */
    rh.cpu->destroy(rh.cpu);
    free_expect(&s, &e);
    free_sector(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shapes),
        cmocka_unit_test(test_small_tree_roots),
        cmocka_unit_test(test_pc2_2kib),
        cmocka_unit_test(test_pc2_shapes),
        cmocka_unit_test(test_pc2_interrupted),
        cmocka_unit_test(test_pc2_errors),
        cmocka_unit_test(test_pc2_backend_rows),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
