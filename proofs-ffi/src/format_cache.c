/* format_cache.c — a sector's cache directory as rust-fil-proofs names and sizes it, and a
 * check that a directory holds exactly that: the layer files, tree_d, the tree_c and
 * tree_r_last base-tree files (merkletree StoreConfig::data_path "sc-02-data-<id>.dat",
 * split_config's "-<i>" suffix when there are several base trees), p_aux and t_aux.
 * Sizes follow merkletree's get_merkle_tree_len (DiskStore: the whole tree, leaves
 * first) and get_merkle_tree_cache_size (LevelCacheStore: only the rows above
 * rows_to_discard); the last node of every tree file is its root. */
#include "format_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* merkletree get_merkle_tree_len. */
static uint64_t tree_len(uint64_t leaves, int arity)
{
    uint64_t len = 0;
    for (uint64_t n = leaves; n; n /= (uint64_t)arity)
        len += n;
    return len;
}

/* merkletree get_merkle_tree_cache_size: the tree length less the rows_to_discard + 1
 * lowest rows (the leaves come from the replica through an external reader). */
static uint64_t tree_cache_size(uint64_t leaves, int arity, int rows_to_discard)
{
    int rows = 1;
    for (uint64_t n = leaves; n > 1; n /= (uint64_t)arity)
        rows++;
    uint64_t size = tree_len(leaves, arity), cur = leaves;
    for (int r = rows, base = rows - 1 - rows_to_discard; r > base; r--) {
        size -= cur;
        cur /= (uint64_t)arity;
    }
    return size;
}

static void add_file(pf_cache_file *f, size_t *n, uint64_t bytes, const char *name)
{
    snprintf(f[*n].name, sizeof f[*n].name, "%s", name);
    f[*n].bytes = bytes;
    (*n)++;
}

/* "sc-02-data-<id>.dat", with "-<i>" after the id when the tree is split. */
static void add_tree_file(pf_cache_file *f, size_t *n, uint64_t bytes, const char *id,
                          int count, int i)
{
    char name[64];
    if (count == 1)
        snprintf(name, sizeof name, "sc-02-data-%s.dat", id);
    else
        snprintf(name, sizeof name, "sc-02-data-%s-%d.dat", id, i);
    add_file(f, n, bytes, name);
}

pf_status pf_cache_layout(int proof_id, pf_cache_stage stage, pf_cache_file **files,
                          size_t *n, pf_error *err)
{
    *files = NULL;
    *n = 0;
    const pf_seal_proof_info *info = pf_seal_proof(proof_id);
    if (!info)
        return pf_cm_fail(err, PF_EINVAL, "seal proof id %d is not registered (0..19)", proof_id);
    pf_tree_shape s;
    pf_status st = pf_tree_shape_for_proof(proof_id, &s, err);
    if (st)
        return st;
    pf_cache_file *f = calloc((size_t)info->layers + 2 * (size_t)s.base_count + 4, sizeof *f);
    if (!f)
        return pf_cm_fail(err, PF_ENOMEM, "out of memory");
    size_t k = 0;
    if (stage == PF_CACHE_SEALED) {
        for (int l = 1; l <= info->layers; l++) {
            char id[32];
            snprintf(id, sizeof id, "layer-%d", l);
            add_tree_file(f, &k, info->nodes * 32, id, 1, 0);
        }
        add_tree_file(f, &k, (2 * info->nodes - 1) * 32, "tree-d", 1, 0);
        for (int i = 0; i < s.base_count; i++)
            add_tree_file(f, &k, tree_len(s.base_leaves, s.base_arity) * 32, "tree-c",
                          s.base_count, i);
    }
    for (int i = 0; i < s.base_count; i++)
        add_tree_file(f, &k, tree_cache_size(s.base_leaves, s.base_arity, s.rows_to_discard) * 32,
                      "tree-r-last", s.base_count, i);
    add_file(f, &k, PF_P_AUX_LEN, PF_P_AUX_FILE);
    add_file(f, &k, 0, PF_T_AUX_FILE);
    *files = f;
    *n = k;
    pf_cm_ok(err);
    return PF_OK;
}

/* The last 32 bytes of a file (a tree file's root). */
static pf_status last_node(const char *path, uint64_t size, uint8_t out[32], pf_error *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return pf_cm_fail(err, PF_EIO, "opening %s: %s", path, strerror(errno));
    ssize_t r = pread(fd, out, 32, (off_t)(size - 32));
    close(fd);
    if (r != 32)
        return pf_cm_fail(err, PF_EIO, "reading the root of %s", path);
    return PF_OK;
}

/* Combines base roots as the sub and top levels do; roots holds base_count nodes. */
static pf_status combine_roots(const pf_tree_shape *s, uint8_t (*roots)[32], uint8_t out[32],
                               pf_error *err)
{
    if (s->base_count == 1) {
        memcpy(out, roots[0], 32);
        return PF_OK;
    }
    int subs = s->base_count / s->sub_arity;
    uint8_t sub_roots[PF_TREE_PATH_MAX_ARITY][32];
    pf_status st;
    for (int j = 0; j < subs; j++)
        if ((st = pf_poseidon_hash(s->sub_arity, (const uint8_t(*)[32])roots + j * s->sub_arity,
                                   sub_roots[j], err)))
            return st;
    if (!s->top_arity) {
        memcpy(out, sub_roots[0], 32);
        return PF_OK;
    }
    return pf_poseidon_hash(s->top_arity, (const uint8_t(*)[32])sub_roots, out, err);
}

typedef struct cache_check {
    const pf_cache_file *files;
    size_t n;
    const pf_tree_shape *s;
    const char *dir;
} cache_check;

static pf_status check_sizes(const cache_check *c, pf_error *err)
{
    for (size_t i = 0; i < c->n; i++) {
        char path[4200];
        snprintf(path, sizeof path, "%s/%s", c->dir, c->files[i].name);
        struct stat sb;
        if (stat(path, &sb) != 0)
            return pf_cm_fail(err, PF_EIO, "%s: %s (rust-fil-proofs reads this file)", path,
                              strerror(errno));
        if (c->files[i].bytes && (uint64_t)sb.st_size != c->files[i].bytes)
            return pf_cm_fail(err, PF_ECORRUPT, "%s: %lld bytes, rust's layout has %llu", path,
                              (long long)sb.st_size, (unsigned long long)c->files[i].bytes);
    }
    return PF_OK;
}

/* The root of the tree whose base files start with `prefix` in the layout. */
static pf_status tree_root(const cache_check *c, const char *prefix, uint8_t root[32],
                           pf_error *err)
{
    uint8_t(*roots)[32] = calloc((size_t)c->s->base_count, 32);
    if (!roots)
        return pf_cm_fail(err, PF_ENOMEM, "out of memory");
    int k = 0;
    pf_status st = PF_OK;
    for (size_t i = 0; i < c->n && !st; i++) {
        if (strncmp(c->files[i].name, prefix, strlen(prefix)) != 0 || k >= c->s->base_count)
            continue;
        char path[4200];
        snprintf(path, sizeof path, "%s/%s", c->dir, c->files[i].name);
        st = last_node(path, c->files[i].bytes, roots[k++], err);
    }
    if (!st)
        st = combine_roots(c->s, roots, root, err);
    free(roots);
    return st;
}

pf_status pf_cache_dir_check(int proof_id, const char *cache_dir, pf_cache_stage stage,
                             const uint8_t comm_d[32], const uint8_t comm_r[32], pf_error *err)
{
    pf_cache_file *files;
    size_t n;
    pf_tree_shape s;
    pf_status st = pf_cache_layout(proof_id, stage, &files, &n, err);
    if (st)
        return st;
    if ((st = pf_tree_shape_for_proof(proof_id, &s, err))) {
        free(files);
        return st;
    }
    cache_check c = { files, n, &s, cache_dir };
    /* t_aux is needed by rust's C1 only; after clear_cache it is checked when present */
    char t_aux_path[4200];
    snprintf(t_aux_path, sizeof t_aux_path, "%s/%s", cache_dir, PF_T_AUX_FILE);
    if (stage == PF_CACHE_CLEARED && access(t_aux_path, F_OK) != 0)
        c.n--;
    uint8_t comm_c[32], comm_r_last[32], root[32];
    pf_t_aux t;
    memset(&t, 0, sizeof t);
    if ((st = check_sizes(&c, err)) || (st = pf_p_aux_read(cache_dir, comm_c, comm_r_last, err)))
        goto done;
    if (comm_r && (st = pf_check_comm_r(comm_c, comm_r_last, comm_r, "p_aux", err))) {
        st = PF_ECORRUPT;
        goto done;
    }
    if ((st = tree_root(&c, "sc-02-data-tree-r-last", root, err)))
        goto done;
    if (memcmp(root, comm_r_last, 32) != 0) {
        st = pf_cm_fail(err, PF_ECORRUPT, "%s: the tree-r-last files' last nodes do not hash "
                        "to p_aux's comm_r_last", cache_dir);
        goto done;
    }
    if (stage == PF_CACHE_SEALED) {
        if ((st = tree_root(&c, "sc-02-data-tree-c", root, err)))
            goto done;
        if (memcmp(root, comm_c, 32) != 0) {
            st = pf_cm_fail(err, PF_ECORRUPT, "%s: the tree-c files' last nodes do not hash to "
                            "p_aux's comm_c", cache_dir);
            goto done;
        }
        char path[4200];
        snprintf(path, sizeof path, "%s/sc-02-data-tree-d.dat", cache_dir);
        const pf_seal_proof_info *info = pf_seal_proof(proof_id);
        if ((st = last_node(path, (2 * info->nodes - 1) * 32, root, err)))
            goto done;
        if (comm_d && memcmp(root, comm_d, 32) != 0) {
            st = pf_cm_fail(err, PF_ECORRUPT, "%s: its last node is not comm_d", path);
            goto done;
        }
    }
    if (access(t_aux_path, F_OK) == 0 &&
        ((st = pf_t_aux_read(cache_dir, &t, err)) || (st = pf_t_aux_check(proof_id, &t, err))))
        goto done;
    pf_cm_ok(err);
done:
    pf_t_aux_free(&t);
    free(files);
    return st;
}
