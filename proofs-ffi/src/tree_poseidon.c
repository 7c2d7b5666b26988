/* tree_poseidon.c — Poseidon trees as rust-fil-proofs builds tree_c and tree_r_last: the
 * shape of a sector's trees (base/sub/top arities, rows_to_discard), file names and row
 * layouts, combining base roots, comm_r, and inclusion paths read back from the files
 * (tree_r_last's discarded rows rebuilt from the replica) with their verification. */
#include "tree_poseidon.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "poseidon.h"

/* ---- I/O ---- */

long long pf_tree_pread(int fd, void *buf, size_t len, uint64_t off)
{
    size_t done = 0;
    while (done < len) {
        ssize_t n = pread(fd, (uint8_t *)buf + done, len - done, (off_t)(off + done));
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        if (n == 0)
            break;
        done += (size_t)n;
    }
    return (long long)done;
}

int pf_tree_pwrite(int fd, const void *buf, size_t len, uint64_t off)
{
    size_t done = 0;
    while (done < len) {
        ssize_t n = pwrite(fd, (const uint8_t *)buf + done, len - done, (off_t)(off + done));
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        done += (size_t)n;
    }
    return 0;
}

pf_status pf_tree_io_status(int errnum)
{
    return errnum == ENOSPC || errnum == EDQUOT ? PF_ENOSPC : PF_EIO;
}

/* ---- shape ---- */

static int is_pow2(uint64_t v)
{
    return v && !(v & (v - 1));
}

static int log2_u64(uint64_t v)
{
    return 63 - __builtin_clzll(v);
}

/* rust-fil-proofs storage-proofs-core util.rs default_rows_to_discard with the default
 * setting (2) */
static int default_rows_to_discard(int rows, int arity)
{
    if (rows <= 2)
        return 0;
    if (rows == 3)
        return 1;
    int max = rows - 2;
    int cap = arity == 2 ? 7 : arity == 4 ? 5 : 2;
    return max < cap ? max : cap;
}

pf_status pf_tree_shape_make(uint64_t nodes, int base_arity, int sub_arity, int top_arity,
                             pf_tree_shape *out, pf_error *err)
{
    if (base_arity < 2 || base_arity > PF_TREE_PATH_MAX_ARITY || !is_pow2((uint64_t)base_arity))
        return pf_tree_fail(err, PF_EINVAL, "tree base arity %d: must be a power of two in 2..%d",
                            base_arity, PF_TREE_PATH_MAX_ARITY);
    if (sub_arity < 0 || sub_arity == 1 || sub_arity > PF_TREE_PATH_MAX_ARITY ||
        top_arity < 0 || top_arity == 1 || top_arity > PF_TREE_PATH_MAX_ARITY)
        return pf_tree_fail(err, PF_EINVAL, "tree sub/top arity %d/%d: each must be 0 or 2..%d",
                            sub_arity, top_arity, PF_TREE_PATH_MAX_ARITY);
    if (top_arity && !sub_arity)
        return pf_tree_fail(err, PF_EINVAL, "tree shape %d-0-%d: a top arity needs a sub arity",
                            base_arity, top_arity);
    int count = sub_arity ? (top_arity ? sub_arity * top_arity : sub_arity) : 1;
    if (!nodes || nodes % (uint64_t)count)
        return pf_tree_fail(err, PF_EINVAL,
                            "%llu nodes do not split into %d equal base trees (shape %d-%d-%d)",
                            (unsigned long long)nodes, count, base_arity, sub_arity, top_arity);
    uint64_t leaves = nodes / (uint64_t)count;
    int lb = log2_u64((uint64_t)base_arity);
    if (!is_pow2(leaves) || log2_u64(leaves) % lb || leaves < (uint64_t)base_arity)
        return pf_tree_fail(err, PF_EINVAL,
                            "base trees of %llu leaves: need a power of the base arity %d",
                            (unsigned long long)leaves, base_arity);
    memset(out, 0, sizeof *out);
    out->nodes = nodes;
    out->base_arity = base_arity;
    out->sub_arity = sub_arity;
    out->top_arity = top_arity;
    out->base_count = count;
    out->base_leaves = leaves;
    out->base_rows = log2_u64(leaves) / lb + 1;
    out->rows_to_discard = default_rows_to_discard(out->base_rows, base_arity);
    pf_tree_ok(err);
    return PF_OK;
}

pf_status pf_tree_shape_for_proof(int proof_id, pf_tree_shape *out, pf_error *err)
{
    const pf_seal_proof_info *info = pf_seal_proof(proof_id);
    if (!info)
        return pf_tree_fail(err, PF_EINVAL, "seal proof id %d is not registered (0..19)",
                            proof_id);
    return pf_tree_shape_make(info->nodes, info->tree_base, info->tree_sub, info->tree_top, out,
                              err);
}

uint64_t pf_tree_row_nodes(const pf_tree_shape *s, int row)
{
    return s->base_leaves >> (log2_u64((uint64_t)s->base_arity) * row);
}

uint64_t pf_tree_row_offset(const pf_tree_shape *s, int row)
{
    uint64_t off = 0;
    for (int r = 0; r < row; r++)
        off += pf_tree_row_nodes(s, r);
    return off;
}

int pf_tree_lc_first_row(const pf_tree_shape *s)
{
    return s->rows_to_discard + 1;
}

uint64_t pf_tree_lc_row_offset(const pf_tree_shape *s, int row)
{
    return pf_tree_row_offset(s, row) - pf_tree_row_offset(s, pf_tree_lc_first_row(s));
}

uint64_t pf_tree_file_nodes(const pf_tree_shape *s, pf_tree_kind kind)
{
    uint64_t all = pf_tree_row_offset(s, s->base_rows);
    return kind == PF_TREE_C ? all : all - pf_tree_row_offset(s, pf_tree_lc_first_row(s));
}

int pf_tree_file_path(const char *cache_dir, const pf_tree_shape *s, pf_tree_kind kind,
                      int index, char *buf, size_t len)
{
    const char *name = kind == PF_TREE_C ? "tree-c" : "tree-r-last";
    int n = s->base_count == 1
                ? snprintf(buf, len, "%s/sc-02-data-%s.dat", cache_dir, name)
                : snprintf(buf, len, "%s/sc-02-data-%s-%d.dat", cache_dir, name, index);
    return n < 0 || (size_t)n >= len ? -1 : 0;
}

int pf_p_aux_path(const char *cache_dir, char *buf, size_t len)
{
    int n = snprintf(buf, len, "%s/p_aux", cache_dir);
    return n < 0 || (size_t)n >= len ? -1 : 0;
}

pf_status pf_p_aux_read(const char *cache_dir, uint8_t comm_c[32], uint8_t comm_r_last[32],
                        pf_error *err)
{
    char path[4096];
    if (pf_p_aux_path(cache_dir, path, sizeof path))
        return pf_tree_fail(err, PF_EINVAL, "cache directory path is too long");
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return pf_tree_fail(err, PF_EIO, "%s: %s (PC2 writes it last; run PC2 first)", path,
                            strerror(errno));
    uint8_t buf[65];
    long long n = pf_tree_pread(fd, buf, sizeof buf, 0);
    int e = errno;
    close(fd);
    if (n < 0)
        return pf_tree_fail(err, PF_EIO, "%s: %s", path, strerror(e));
    if (n != 64)
        return pf_tree_fail(err, PF_ECORRUPT, "%s: %lld bytes, expected 64 (comm_c || comm_r_last); "
                            PF_TREE_RERUN_HINT, path, n);
    memcpy(comm_c, buf, 32);
    memcpy(comm_r_last, buf + 32, 32);
    pf_tree_ok(err);
    return PF_OK;
}

/* ---- hashing ---- */

pf_status pf_poseidon_hash(int arity, const uint8_t (*in)[32], uint8_t out[32], pf_error *err)
{
    const pf_poseidon_consts *c = pf_poseidon_get(arity);
    if (!c)
        return pf_tree_fail(err, arity < 1 || arity > PF_POSEIDON_MAX_ARITY ? PF_EINVAL : PF_ENOMEM,
                            "Poseidon arity %d: supported arities are 1..%d", arity,
                            PF_POSEIDON_MAX_ARITY);
    long bad = pf_poseidon_batch_nodes(c, (const uint8_t *)in, 1, out);
    if (bad >= 0)
        return pf_tree_fail(err, PF_EINVAL,
                            "Poseidon input %ld is not a canonical field element (must be < p, "
                            "little-endian)", bad);
    pf_tree_ok(err);
    return PF_OK;
}

pf_status pf_comm_r(const uint8_t comm_c[32], const uint8_t comm_r_last[32], uint8_t comm_r[32],
                    pf_error *err)
{
    uint8_t in[2][32];
    memcpy(in[0], comm_c, 32);
    memcpy(in[1], comm_r_last, 32);
    pf_status st = pf_poseidon_hash(2, (const uint8_t(*)[32])in, comm_r, err);
    if (st == PF_EINVAL && err)
        snprintf(err->msg, sizeof err->msg, "%s is not a canonical field element",
                 strstr(err->msg, "input 0") ? "comm_c" : "comm_r_last");
    return st;
}

static pf_status hash_group(int arity, const uint8_t *in, size_t count, uint8_t *out,
                            const char *what, pf_error *err)
{
    const pf_poseidon_consts *c = pf_poseidon_get(arity);
    if (!c)
        return pf_tree_fail(err, PF_ENOMEM, "out of memory building Poseidon constants");
    long bad = pf_poseidon_batch_nodes(c, in, count, out);
    if (bad >= 0)
        return pf_tree_fail(err, PF_ECORRUPT, "%s: node %ld is not a canonical field element; "
                            PF_TREE_RERUN_HINT, what, bad);
    return PF_OK;
}

pf_status pf_tree_combine_roots(const pf_tree_shape *s, const uint8_t *base_roots,
                                uint8_t root[32], pf_error *err)
{
    if (s->base_count == 1) {
        memcpy(root, base_roots, 32);
        return PF_OK;
    }
    int nsub = s->base_count / s->sub_arity;
    uint8_t subs[PF_TREE_PATH_MAX_ARITY * 32];
    pf_status st = hash_group(s->sub_arity, base_roots, (size_t)nsub, subs, "base tree roots", err);
    if (st)
        return st;
    if (!s->top_arity) {
        memcpy(root, subs, 32);
        return PF_OK;
    }
    return hash_group(s->top_arity, subs, 1, root, "sub tree roots", err);
}

/* ---- paths ---- */

typedef struct tree_file {
    int fd;
    char path[4096];
} tree_file;

static pf_status open_tree(const pf_tree_shape *s, const char *cache_dir, pf_tree_kind kind,
                           int index, tree_file *f, pf_error *err)
{
    f->fd = -1;
    if (pf_tree_file_path(cache_dir, s, kind, index, f->path, sizeof f->path))
        return pf_tree_fail(err, PF_EINVAL, "cache directory path is too long");
    f->fd = open(f->path, O_RDONLY | O_CLOEXEC);
    if (f->fd < 0)
        return pf_tree_fail(err, PF_EIO, "%s: %s (written by PC2; run PC2 first)", f->path,
                            strerror(errno));
    struct stat st;
    uint64_t want = pf_tree_file_nodes(s, kind) * 32;
    if (fstat(f->fd, &st) == 0 && (uint64_t)st.st_size != want) {
        close(f->fd);
        f->fd = -1;
        return pf_tree_fail(err, PF_ECORRUPT, "%s: %llu bytes, expected %llu for this sector "
                            "shape; " PF_TREE_RERUN_HINT, f->path,
                            (unsigned long long)st.st_size, (unsigned long long)want);
    }
    return PF_OK;
}

static pf_status read_at(int fd, const char *path, uint64_t node_off, size_t count, uint8_t *buf,
                         pf_error *err)
{
    long long n = pf_tree_pread(fd, buf, count * 32, node_off * 32);
    if (n < 0)
        return pf_tree_fail(err, PF_EIO, "%s: read at byte %llu: %s", path,
                            (unsigned long long)(node_off * 32), strerror(errno));
    if ((size_t)n != count * 32)
        return pf_tree_fail(err, PF_ECORRUPT, "%s: ends before byte %llu; " PF_TREE_RERUN_HINT,
                            path, (unsigned long long)((node_off + count) * 32));
    return PF_OK;
}

/* Appends a level: `group` holds the arity inputs, the running node at `index`. */
static void add_level(pf_tree_path *p, int arity, uint32_t index, const uint8_t *group)
{
    int l = p->levels++;
    p->level[l].arity = arity;
    p->level[l].index = index;
    int k = 0;
    for (int i = 0; i < arity; i++)
        if ((uint32_t)i != index)
            memcpy(p->level[l].siblings[k++], group + 32 * i, 32);
}

/* Base roots of every base tree (the last node of each file) and the sub/top levels. */
static pf_status upper_levels(const pf_tree_shape *s, const char *cache_dir, pf_tree_kind kind,
                              int tree, const uint8_t own_root[32], pf_tree_path *p,
                              pf_error *err)
{
    uint8_t roots[PF_TREE_PATH_MAX_ARITY * PF_TREE_PATH_MAX_ARITY * 32];
    uint64_t last = pf_tree_file_nodes(s, kind) - 1;
    for (int i = 0; i < s->base_count; i++) {
        if (i == tree) {
            memcpy(roots + 32 * i, own_root, 32);
            continue;
        }
        tree_file f;
        pf_status st = open_tree(s, cache_dir, kind, i, &f, err);
        if (st)
            return st;
        st = read_at(f.fd, f.path, last, 1, roots + 32 * i, err);
        close(f.fd);
        if (st)
            return st;
    }
    if (s->base_count > 1) {
        int j = tree / s->sub_arity;
        add_level(p, s->sub_arity, (uint32_t)(tree % s->sub_arity),
                  roots + 32 * (size_t)(j * s->sub_arity));
        if (s->top_arity) {
            uint8_t subs[PF_TREE_PATH_MAX_ARITY * 32];
            pf_status st = hash_group(s->sub_arity, roots, (size_t)s->top_arity, subs,
                                      "base tree roots", err);
            if (st)
                return st;
            add_level(p, s->top_arity, (uint32_t)j, subs);
        }
    }
    return pf_tree_combine_roots(s, roots, p->root, err);
}

static pf_status check_node(const pf_tree_shape *s, uint64_t node, pf_error *err)
{
    if (node >= s->nodes)
        return pf_tree_fail(err, PF_EINVAL, "node %llu is outside the sector (%llu nodes)",
                            (unsigned long long)node, (unsigned long long)s->nodes);
    return PF_OK;
}

pf_status pf_tree_c_path(const pf_tree_shape *s, const char *cache_dir, uint64_t node,
                         pf_tree_path *out, pf_error *err)
{
    pf_status st = check_node(s, node, err);
    if (st)
        return st;
    memset(out, 0, sizeof *out);
    out->node = node;
    int tree = (int)(node / s->base_leaves);
    uint64_t li = node % s->base_leaves;
    tree_file f;
    if ((st = open_tree(s, cache_dir, PF_TREE_C, tree, &f, err)))
        return st;
    uint8_t group[PF_TREE_PATH_MAX_ARITY * 32], own_root[32];
    int a = s->base_arity;
    if ((st = read_at(f.fd, f.path, li, 1, out->leaf, err)))
        goto done;
    for (int r = 0; r + 1 < s->base_rows; r++) {
        uint64_t at = li >> (log2_u64((uint64_t)a) * r);
        uint64_t start = at - at % (uint64_t)a;
        if ((st = read_at(f.fd, f.path, pf_tree_row_offset(s, r) + start, (size_t)a, group, err)))
            goto done;
        add_level(out, a, (uint32_t)(at % (uint64_t)a), group);
    }
    if ((st = read_at(f.fd, f.path, pf_tree_file_nodes(s, PF_TREE_C) - 1, 1, own_root, err)))
        goto done;
    st = upper_levels(s, cache_dir, PF_TREE_C, tree, own_root, out, err);
done:
    close(f.fd);
    if (!st)
        pf_tree_ok(err);
    return st;
}

pf_status pf_tree_r_last_path(const pf_tree_shape *s, const char *cache_dir,
                              const char *sealed_path, uint64_t node, pf_tree_path *out,
                              pf_error *err)
{
    pf_status st = check_node(s, node, err);
    if (st)
        return st;
    memset(out, 0, sizeof *out);
    out->node = node;
    int tree = (int)(node / s->base_leaves);
    uint64_t li = node % s->base_leaves;
    int a = s->base_arity, shift = log2_u64((uint64_t)a), first = pf_tree_lc_first_row(s);
    uint64_t span = 1ULL << (shift * first);   /* leaves under one node of the first stored row */
    uint8_t *rows = malloc(span * 32 * 2);
    if (!rows)
        return pf_tree_fail(err, PF_ENOMEM, "out of memory for %llu replica nodes",
                            (unsigned long long)span);
    tree_file f = { .fd = -1 };
    int sfd = open(sealed_path, O_RDONLY | O_CLOEXEC);
    if (sfd < 0) {
        st = pf_tree_fail(err, PF_EIO, "%s: %s (the sealed replica PC2 wrote)", sealed_path,
                          strerror(errno));
        goto done;
    }
    /* rebuild rows 0 .. first from the replica: row r of the group sits at rows + off[r] */
    uint64_t base = li - li % span;
    if ((st = read_at(sfd, sealed_path, (uint64_t)tree * s->base_leaves + base, span, rows, err)))
        goto done;
    memcpy(out->leaf, rows + 32 * (li - base), 32);
    uint64_t off = 0, width = span;
    for (int r = 0; r < first; r++) {
        uint64_t at = (li - base) >> (shift * r);
        uint64_t start = at - at % (uint64_t)a;
        add_level(out, a, (uint32_t)(at % (uint64_t)a), rows + 32 * (off + start));
        if ((st = hash_group(a, rows + 32 * off, width / (uint64_t)a, rows + 32 * (off + width),
                             sealed_path, err)))
            goto done;
        off += width;
        width /= (uint64_t)a;
    }
    /* the rebuilt node must be the one the LC file stores */
    if ((st = open_tree(s, cache_dir, PF_TREE_R_LAST, tree, &f, err)))
        goto done;
    uint8_t group[PF_TREE_PATH_MAX_ARITY * 32], own_root[32];
    uint64_t at = li >> (shift * first);
    if ((st = read_at(f.fd, f.path, pf_tree_lc_row_offset(s, first) + at, 1, group, err)))
        goto done;
    if (memcmp(group, rows + 32 * off, 32) != 0) {
        st = pf_tree_fail(err, PF_ECORRUPT,
                          "%s does not match %s at nodes %llu..%llu: the replica or the tree "
                          "file changed after PC2; " PF_TREE_RERUN_HINT, sealed_path, f.path,
                          (unsigned long long)((uint64_t)tree * s->base_leaves + base),
                          (unsigned long long)((uint64_t)tree * s->base_leaves + base + span - 1));
        goto done;
    }
    for (int r = first; r + 1 < s->base_rows; r++) {
        uint64_t idx = li >> (shift * r);
        uint64_t start = idx - idx % (uint64_t)a;
        if ((st = read_at(f.fd, f.path, pf_tree_lc_row_offset(s, r) + start, (size_t)a, group,
                          err)))
            goto done;
        add_level(out, a, (uint32_t)(idx % (uint64_t)a), group);
    }
    if ((st = read_at(f.fd, f.path, pf_tree_file_nodes(s, PF_TREE_R_LAST) - 1, 1, own_root, err)))
        goto done;
    st = upper_levels(s, cache_dir, PF_TREE_R_LAST, tree, own_root, out, err);
done:
    if (f.fd >= 0)
        close(f.fd);
    if (sfd >= 0)
        close(sfd);
    free(rows);
    if (!st)
        pf_tree_ok(err);
    return st;
}

pf_status pf_tree_path_root(const pf_tree_path *p, uint8_t root[32], pf_error *err)
{
    if (p->levels < 0 || p->levels > PF_TREE_PATH_MAX_LEVELS)
        return pf_tree_fail(err, PF_EINVAL, "path has %d levels (at most %d)", p->levels,
                            PF_TREE_PATH_MAX_LEVELS);
    uint8_t cur[32], group[PF_TREE_PATH_MAX_ARITY * 32];
    memcpy(cur, p->leaf, 32);
    for (int l = 0; l < p->levels; l++) {
        int a = p->level[l].arity;
        uint32_t idx = p->level[l].index;
        if (a < 2 || a > PF_TREE_PATH_MAX_ARITY || idx >= (uint32_t)a)
            return pf_tree_fail(err, PF_EINVAL, "path level %d: arity %d, index %u", l, a, idx);
        int k = 0;
        for (int i = 0; i < a; i++)
            memcpy(group + 32 * i, (uint32_t)i == idx ? cur : p->level[l].siblings[k++], 32);
        const pf_poseidon_consts *c = pf_poseidon_get(a);
        if (!c)
            return pf_tree_fail(err, PF_ENOMEM, "out of memory building Poseidon constants");
        long bad = pf_poseidon_batch_nodes(c, group, 1, cur);
        if (bad >= 0)
            return pf_tree_fail(err, PF_EINVAL, "path level %d: input %ld is not a canonical "
                                "field element", l, bad);
    }
    memcpy(root, cur, 32);
    pf_tree_ok(err);
    return PF_OK;
}

pf_status pf_tree_path_verify(const pf_tree_shape *s, const pf_tree_path *p,
                              const uint8_t root[32], pf_error *err)
{
    uint8_t got[32];
    pf_status st = pf_tree_path_root(p, got, err);
    if (st)
        return st;
    if (s) {
        /* the path must be the one of p->node in this shape: arities and indices */
        int want_levels = s->base_rows - 1 + (s->sub_arity ? 1 : 0) + (s->top_arity ? 1 : 0);
        if (p->node >= s->nodes || p->levels != want_levels)
            return pf_tree_fail(err, PF_EVERIFY, "path of node %llu has %d levels, the shape "
                                "needs %d", (unsigned long long)p->node, p->levels, want_levels);
        uint64_t li = p->node % s->base_leaves;
        int tree = (int)(p->node / s->base_leaves), shift = log2_u64((uint64_t)s->base_arity);
        for (int r = 0; r + 1 < s->base_rows; r++)
            if (p->level[r].arity != s->base_arity ||
                p->level[r].index != (uint32_t)((li >> (shift * r)) % (uint64_t)s->base_arity))
                return pf_tree_fail(err, PF_EVERIFY, "path level %d does not lead to node %llu",
                                    r, (unsigned long long)p->node);
        int l = s->base_rows - 1;
        if (s->sub_arity && (p->level[l].arity != s->sub_arity ||
                             p->level[l].index != (uint32_t)(tree % s->sub_arity)))
            return pf_tree_fail(err, PF_EVERIFY, "path sub level does not lead to base tree %d",
                                tree);
        if (s->top_arity && (p->level[l + 1].arity != s->top_arity ||
                             p->level[l + 1].index != (uint32_t)(tree / s->sub_arity)))
            return pf_tree_fail(err, PF_EVERIFY, "path top level does not lead to base tree %d",
                                tree);
    }
    if (memcmp(got, root ? root : p->root, 32) != 0)
        return pf_tree_fail(err, PF_EVERIFY, "path of node %llu does not lead to the root",
                            (unsigned long long)p->node);
    pf_tree_ok(err);
    return PF_OK;
}
