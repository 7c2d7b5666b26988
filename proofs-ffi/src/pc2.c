/* pc2.c — PreCommit phase 2: streams the PC1 layers and the staged data in chunks of
 * whole sub-trees, hashes the columns and encodes the replica, builds tree_c and
 * tree_r_last row by row through a pc2_hasher backend, writes every output under a
 * temporary name, and renames them into place (p_aux last) once all are synced.
 *
 * One chunk is base_arity^c consecutive leaves of one base tree, so the rows 0..c above it
 * are complete inside the chunk and go straight to their offsets in the files; only the
 * chunk roots are kept, and the rows above them are built when the base tree's last chunk
 * is done. */
#include "tree_poseidon.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fr.h"
#include "opencl.h"
#include "pc2_hasher.h"

#define DEFAULT_CHUNK_NODES 32768
#define MAX_LAYERS PF_POSEIDON_ARITY_MAX
#define PATH_LEN 4096

typedef struct out_file {
    char final[PATH_LEN];
    char tmp[PATH_LEN];
    int fd;
} out_file;

typedef struct pc2_ctx {
    const pf_tree_shape *s;
    int layers;
    const char *cache_dir, *staged_path;
    const pf_pc2_options *opt;
    pf_hasher *hasher;
    int own_hasher;              /* 1 when PC2 created the hasher (and destroys it) */
    uint64_t chunk;              /* leaves per chunk */
    int chunk_rows;              /* rows 0..chunk_rows inside a chunk (log_a chunk) */
    int shift;                   /* log2 of the base arity */
    int lc_first;                /* first row a tree-r-last file stores */

    char layer_path[MAX_LAYERS][PATH_LEN];
    int layer_fd[MAX_LAYERS];
    int staged_fd;
    uint64_t staged_size;
    int lock_fd;                 /* flock on <cache_dir>/sealpipe-pc2.lock */

    out_file sealed;
    out_file *tree_c, *tree_r;   /* base_count each */
    out_file p_aux;

    uint8_t *labels;             /* layers * chunk * 32: the chunk being hashed */
    uint8_t *data;               /* chunk * 32 */
    uint8_t *next_labels;        /* the next chunk, read while this one is hashed */
    uint8_t *next_data;
    uint8_t *c_rows, *r_rows;    /* rows 0..chunk_rows of one chunk, bottom up */
    uint8_t *c_tops, *r_tops;    /* chunk roots of the current base tree, then rows above */
    uint8_t *c_roots, *r_roots;  /* base roots */
    uint64_t done;
} pc2_ctx;

static uint64_t rows_nodes(uint64_t leaves, int shift, int rows)
{
    /* nodes in rows 0..rows of a tree over `leaves` leaves */
    uint64_t n = 0;
    for (int r = 0; r <= rows; r++)
        n += leaves >> (shift * r);
    return n;
}

static int cancelled(const pc2_ctx *c, const char *stage, uint64_t done, uint64_t total)
{
    if (c->opt->cancel && __atomic_load_n(c->opt->cancel, __ATOMIC_ACQUIRE))
        return 1;
    return c->opt->progress && c->opt->progress(c->opt->progress_arg, stage, done, total) != 0;
}

/* ---- opening ---- */

/* One PC2 per cache directory at a time: two would write the same temporary files.  The
 * lock goes away with the process, so a crashed PC2 never blocks the next one. */
static pf_status take_lock(pc2_ctx *c, pf_error *err)
{
    char path[PATH_LEN];
    int n = snprintf(path, sizeof path, "%s/sealpipe-pc2.lock", c->cache_dir);
    if (n < 0 || n >= (int)sizeof path)
        return pf_tree_fail(err, PF_EINVAL, "cache directory path is too long");
    c->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (c->lock_fd < 0)
        return pf_tree_fail(err, pf_tree_io_status(errno), "%s: %s (is the cache directory "
                            "writable?)", path, strerror(errno));
    if (flock(c->lock_fd, LOCK_EX | LOCK_NB) != 0)
        return pf_tree_fail(err, PF_EINVAL, "%s: another PC2 is running on this cache "
                            "directory; wait for it or stop it", path);
    return PF_OK;
}

static pf_status open_inputs(pc2_ctx *c, pf_error *err)
{
    uint64_t want = c->s->nodes * 32;
    for (int l = 0; l < c->layers; l++) {
        /* the name pc1.h fixes (pf_layer_path), formatted here so PC2 does not depend on
         * the PC1 objects */
        int n = snprintf(c->layer_path[l], PATH_LEN, "%s/sc-02-data-layer-%d.dat",
                         c->cache_dir, l + 1);
        if (n < 0 || n >= PATH_LEN)
            return pf_tree_fail(err, PF_EINVAL, "cache directory path is too long");
        c->layer_fd[l] = open(c->layer_path[l], O_RDONLY | O_CLOEXEC);
        if (c->layer_fd[l] < 0)
            return pf_tree_fail(err, PF_EIO, "%s: %s (PC1 writes the layers; run PC1 first)",
                                c->layer_path[l], strerror(errno));
        struct stat st;
        if (fstat(c->layer_fd[l], &st) == 0 && (uint64_t)st.st_size != want)
            return pf_tree_fail(err, PF_ECORRUPT, "%s: %llu bytes, expected %llu (%llu nodes); "
                                "PC1 did not finish: re-run PC1", c->layer_path[l],
                                (unsigned long long)st.st_size, (unsigned long long)want,
                                (unsigned long long)c->s->nodes);
    }
    c->staged_fd = open(c->staged_path, O_RDONLY | O_CLOEXEC);
    if (c->staged_fd < 0)
        return pf_tree_fail(err, PF_EIO, "staged file %s: %s", c->staged_path, strerror(errno));
    struct stat st;
    if (fstat(c->staged_fd, &st) != 0)
        return pf_tree_fail(err, PF_EIO, "staged file %s: %s", c->staged_path, strerror(errno));
    if ((uint64_t)st.st_size > want)
        return pf_tree_fail(err, PF_EINVAL, "staged file %s is %llu bytes, larger than the "
                            "sector (%llu): wrong file or proof type", c->staged_path,
                            (unsigned long long)st.st_size, (unsigned long long)want);
    c->staged_size = (uint64_t)st.st_size;
    return PF_OK;
}

static pf_status create_out(out_file *f, uint64_t size, pf_error *err)
{
    int n = snprintf(f->tmp, PATH_LEN, "%s.tmp", f->final);
    if (n < 0 || n >= PATH_LEN)
        return pf_tree_fail(err, PF_EINVAL, "output path %s is too long", f->final);
    f->fd = open(f->tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (f->fd < 0)
        return pf_tree_fail(err, pf_tree_io_status(errno), "%s: %s", f->tmp, strerror(errno));
    if (size && ftruncate(f->fd, (off_t)size) != 0)
        return pf_tree_fail(err, pf_tree_io_status(errno), "%s: sizing to %llu bytes: %s",
                            f->tmp, (unsigned long long)size, strerror(errno));
    return PF_OK;
}

static pf_status open_outputs(pc2_ctx *c, const char *sealed_path, pf_error *err)
{
    const pf_tree_shape *s = c->s;
    snprintf(c->sealed.final, PATH_LEN, "%s", sealed_path);
    pf_status st = create_out(&c->sealed, s->nodes * 32, err);
    if (st)
        return st;
    for (int i = 0; i < s->base_count; i++) {
        if (pf_tree_file_path(c->cache_dir, s, PF_TREE_C, i, c->tree_c[i].final, PATH_LEN) ||
            pf_tree_file_path(c->cache_dir, s, PF_TREE_R_LAST, i, c->tree_r[i].final, PATH_LEN))
            return pf_tree_fail(err, PF_EINVAL, "cache directory path is too long");
        if ((st = create_out(&c->tree_c[i], pf_tree_file_nodes(s, PF_TREE_C) * 32, err)) ||
            (st = create_out(&c->tree_r[i], pf_tree_file_nodes(s, PF_TREE_R_LAST) * 32, err)))
            return st;
    }
    if (pf_p_aux_path(c->cache_dir, c->p_aux.final, PATH_LEN))
        return pf_tree_fail(err, PF_EINVAL, "cache directory path is too long");
    return PF_OK;
}

/* ---- one chunk ---- */

static pf_status read_chunk(const pc2_ctx *c, uint64_t node0, uint8_t *labels, uint8_t *data,
                            pf_error *err)
{
    size_t bytes = (size_t)c->chunk * 32;
    for (int l = 0; l < c->layers; l++) {
        long long n = pf_tree_pread(c->layer_fd[l], labels + (size_t)l * bytes, bytes,
                                    node0 * 32);
        if (n < 0)
            return pf_tree_fail(err, PF_EIO, "%s: read at byte %llu: %s", c->layer_path[l],
                                (unsigned long long)(node0 * 32), strerror(errno));
        if ((size_t)n != bytes)
            return pf_tree_fail(err, PF_ECORRUPT, "%s: ends before byte %llu; re-run PC1",
                                c->layer_path[l], (unsigned long long)(node0 * 32 + bytes));
    }
    memset(data, 0, bytes);
    if (node0 * 32 < c->staged_size) {
        long long n = pf_tree_pread(c->staged_fd, data, bytes, node0 * 32);
        if (n < 0)
            return pf_tree_fail(err, PF_EIO, "staged file %s: read at byte %llu: %s",
                                c->staged_path, (unsigned long long)(node0 * 32),
                                strerror(errno));
    }
    return PF_OK;
}

static int below_p(const uint8_t *b)
{
    uint64_t l[4];
    memcpy(l, b, 32);   /* little-endian host, as poseidon_perm.h */
    for (int i = 3; i >= 0; i--)
        if (l[i] != pf_fr_modulus[i])
            return l[i] < pf_fr_modulus[i];
    return 0;
}

/* replica = label_L + data mod p, into r_rows row 0; also the sealed file. */
static pf_status encode_chunk(pc2_ctx *c, uint64_t node0, pf_error *err)
{
    const uint8_t *last = c->labels + (size_t)(c->layers - 1) * c->chunk * 32;
    for (uint64_t i = 0; i < c->chunk; i++) {
        const uint8_t *k = last + 32 * i, *d = c->data + 32 * i;
        if (!below_p(d))
            return pf_tree_fail(err, PF_EINVAL, "staged file %s: node %llu (byte %llu) is not a "
                                "field element; the staged data must be fr32-padded",
                                c->staged_path, (unsigned long long)(node0 + i),
                                (unsigned long long)((node0 + i) * 32));
        if (!below_p(k))
            return pf_tree_fail(err, PF_ECORRUPT, "%s: label of node %llu is not a field "
                                "element; the layer is corrupt: re-run PC1",
                                c->layer_path[c->layers - 1], (unsigned long long)(node0 + i));
        pf_fr a, b, r;
        memcpy(a.l, k, 32);
        memcpy(b.l, d, 32);
        pf_fr_add(&r, &a, &b);   /* on canonical limbs: representation does not matter */
        memcpy(c->r_rows + 32 * i, r.l, 32);
    }
    if (pf_tree_pwrite(c->sealed.fd, c->r_rows, (size_t)c->chunk * 32, node0 * 32))
        return pf_tree_fail(err, pf_tree_io_status(errno), "%s: write at byte %llu: %s",
                            c->sealed.tmp, (unsigned long long)(node0 * 32), strerror(errno));
    return PF_OK;
}

/* Column hashes of the chunk into c_rows row 0 and, when the backend can do both in one
 * go, the tree rows above them too (*rows_done = 1). */
static pf_status hash_columns(pc2_ctx *c, uint64_t node0, int *rows_done, pf_error *err)
{
    const uint8_t *cols[MAX_LAYERS];
    for (int l = 0; l < c->layers; l++)
        cols[l] = c->labels + (size_t)l * c->chunk * 32;
    long bad = -1;
    pf_status st;
    *rows_done = 0;
    if (c->hasher->column_rows && c->chunk_rows > 0) {
        st = c->hasher->column_rows(c->hasher, c->layers, cols, c->chunk, c->s->base_arity,
                                    c->chunk_rows, c->c_rows, &bad, err);
        *rows_done = 1;
    } else {
        st = c->hasher->columns(c->hasher, c->layers, cols, (size_t)c->chunk, c->c_rows, &bad,
                                err);
    }
    if (st == PF_ECORRUPT && bad >= 0) {
        int l = (int)(bad % c->layers);
        uint64_t node = node0 + (uint64_t)bad / (uint64_t)c->layers;
        return pf_tree_fail(err, PF_ECORRUPT, "%s: label of node %llu (byte %llu) is not a field "
                            "element; the layer is corrupt: re-run PC1", c->layer_path[l],
                            (unsigned long long)node, (unsigned long long)(node * 32));
    }
    return st;
}

/* Rows 1..rows over `leaves` nodes at buf (row r follows row r-1). */
static pf_status build_rows(pc2_ctx *c, uint8_t *buf, uint64_t leaves, int rows, pf_error *err)
{
    int a = c->s->base_arity;
    if (rows > 0 && c->hasher->rows) {
        long bad = -1;
        pf_status st = c->hasher->rows(c->hasher, a, buf, leaves, rows, &bad, err);
        if (st == PF_ECORRUPT)
            return pf_tree_fail(err, PF_EINTERNAL, "a tree node PC2 computed is not a field "
                                "element (input %ld): this is a bug", bad);
        return st;
    }
    uint64_t off = 0, width = leaves;
    for (int r = 0; r < rows; r++) {
        long bad = -1;
        pf_status st = c->hasher->nodes(c->hasher, a, buf + 32 * off, (size_t)(width / (uint64_t)a),
                                        buf + 32 * (off + width), &bad, err);
        if (st == PF_ECORRUPT)
            return pf_tree_fail(err, PF_EINTERNAL, "a tree node PC2 computed is not a field "
                                "element (row %d, input %ld): this is a bug", r, bad);
        if (st)
            return st;
        off += width;
        width /= (uint64_t)a;
    }
    return PF_OK;
}

/* Writes the rows of a sub-tree held in buf (rows 0..rows, bottom up, `leaves` nodes at
 * the bottom) whose bottom row is tree row row0, starting at index `first` of that row.
 * A level-cache file (lc) gets only the rows it stores. */
static pf_status write_rows(pc2_ctx *c, out_file *f, int lc, const uint8_t *buf, uint64_t leaves,
                            int rows, int row0, uint64_t first, pf_error *err)
{
    uint64_t off = 0;
    for (int i = 0; i <= rows; i++) {
        int r = row0 + i;
        uint64_t count = leaves >> (c->shift * i), index = first >> (c->shift * i);
        if (!lc || r >= c->lc_first) {
            uint64_t at = (lc ? pf_tree_lc_row_offset(c->s, r) : pf_tree_row_offset(c->s, r)) + index;
            if (pf_tree_pwrite(f->fd, buf + 32 * off, (size_t)count * 32, at * 32))
                return pf_tree_fail(err, pf_tree_io_status(errno), "%s: write at byte %llu: %s",
                                    f->tmp, (unsigned long long)(at * 32), strerror(errno));
        }
        off += count;
    }
    return PF_OK;
}

/* Hashes the chunk in c->labels / c->data and writes its rows. */
static pf_status do_chunk(pc2_ctx *c, int tree, uint64_t k, pf_error *err)
{
    uint64_t node0 = (uint64_t)tree * c->s->base_leaves + k * c->chunk;
    pf_status st;
    int c_rows_done = 0;
    if ((st = hash_columns(c, node0, &c_rows_done, err)) ||
        (st = encode_chunk(c, node0, err)) ||
        (!c_rows_done && (st = build_rows(c, c->c_rows, c->chunk, c->chunk_rows, err))) ||
        (st = build_rows(c, c->r_rows, c->chunk, c->chunk_rows, err)) ||
        (st = write_rows(c, &c->tree_c[tree], 0, c->c_rows, c->chunk, c->chunk_rows, 0,
                         k * c->chunk, err)) ||
        (st = write_rows(c, &c->tree_r[tree], 1, c->r_rows, c->chunk, c->chunk_rows, 0,
                         k * c->chunk, err)))
        return st;
    /* keep the chunk roots for the rows above */
    uint64_t root_at = rows_nodes(c->chunk, c->shift, c->chunk_rows) - 1;
    memcpy(c->c_tops + 32 * k, c->c_rows + 32 * root_at, 32);
    memcpy(c->r_tops + 32 * k, c->r_rows + 32 * root_at, 32);
    return PF_OK;
}

/* The read of the next chunk, on its own thread while the current one is hashed. */
typedef struct prefetch {
    const pc2_ctx *c;
    uint64_t node0;
    uint8_t *labels, *data;
    pf_status st;
    pf_error err;
    pthread_t tid;
    int running;
} prefetch;

static void *prefetch_main(void *arg)
{
    prefetch *p = arg;
    p->st = read_chunk(p->c, p->node0, p->labels, p->data, &p->err);
    return NULL;
}

static void prefetch_start(prefetch *p, const pc2_ctx *c, uint64_t node0)
{
    memset(p, 0, sizeof *p);
    p->c = c;
    p->node0 = node0;
    p->labels = c->next_labels;
    p->data = c->next_data;
    p->running = pthread_create(&p->tid, NULL, prefetch_main, p) == 0;
    if (!p->running)
        prefetch_main(p);   /* no thread: read now, nothing overlaps */
}

static pf_status prefetch_finish(prefetch *p, pf_error *err)
{
    if (p->running)
        pthread_join(p->tid, NULL);
    p->running = 0;
    if (p->st && err)
        *err = p->err;
    return p->st;
}

static void swap_buffers(pc2_ctx *c)
{
    uint8_t *t = c->labels;
    c->labels = c->next_labels;
    c->next_labels = t;
    t = c->data;
    c->data = c->next_data;
    c->next_data = t;
}

static pf_status do_tree(pc2_ctx *c, int tree, pf_error *err)
{
    const pf_tree_shape *s = c->s;
    uint64_t chunks = s->base_leaves / c->chunk, base = (uint64_t)tree * s->base_leaves;
    pf_status st = read_chunk(c, base, c->labels, c->data, err);
    if (st)
        return st;
    for (uint64_t k = 0; k < chunks; k++) {
        prefetch pf;
        int more = k + 1 < chunks;
        if (more)
            prefetch_start(&pf, c, base + (k + 1) * c->chunk);
        st = do_chunk(c, tree, k, err);
        if (more) {
            /* joined on every path: the reader writes into buffers freed on failure */
            pf_status rst = prefetch_finish(&pf, st ? NULL : err);
            if (!st)
                st = rst;
            swap_buffers(c);
        }
        if (st)
            return st;
        c->done += c->chunk;
        if (cancelled(c, "pc2", c->done, s->nodes))
            return pf_tree_fail(err, PF_EINTERRUPTED, "PC2 cancelled after %llu of %llu nodes",
                                (unsigned long long)c->done, (unsigned long long)s->nodes);
    }
    int top_rows = s->base_rows - 1 - c->chunk_rows;
    if (top_rows > 0) {
        if ((st = build_rows(c, c->c_tops, chunks, top_rows, err)) ||
            (st = build_rows(c, c->r_tops, chunks, top_rows, err)) ||
            (st = write_rows(c, &c->tree_c[tree], 0, c->c_tops, chunks, top_rows,
                             c->chunk_rows, 0, err)) ||
            (st = write_rows(c, &c->tree_r[tree], 1, c->r_tops, chunks, top_rows,
                             c->chunk_rows, 0, err)))
            return st;
    }
    uint64_t root_at = rows_nodes(chunks, c->shift, top_rows) - 1;
    memcpy(c->c_roots + 32 * tree, c->c_tops + 32 * root_at, 32);
    memcpy(c->r_roots + 32 * tree, c->r_tops + 32 * root_at, 32);
    return PF_OK;
}

/* ---- finishing ---- */

static pf_status sync_file(out_file *f, pf_error *err)
{
    if (fsync(f->fd) != 0)
        return pf_tree_fail(err, pf_tree_io_status(errno), "%s: fsync: %s", f->tmp,
                            strerror(errno));
    return PF_OK;
}

static pf_status rename_out(out_file *f, pf_error *err)
{
    if (rename(f->tmp, f->final) != 0)
        return pf_tree_fail(err, PF_EIO, "renaming %s to %s: %s", f->tmp, f->final,
                            strerror(errno));
    f->tmp[0] = 0;   /* nothing left to remove */
    return PF_OK;
}

static void sync_dir_of(const char *path)
{
    char copy[PATH_LEN];
    snprintf(copy, sizeof copy, "%s", path);
    int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
}

static pf_status finish(pc2_ctx *c, const pf_pc2_output *out, pf_error *err)
{
    const pf_tree_shape *s = c->s;
    pf_status st;
    if ((st = sync_file(&c->sealed, err)))
        return st;
    for (int i = 0; i < s->base_count; i++)
        if ((st = sync_file(&c->tree_c[i], err)) || (st = sync_file(&c->tree_r[i], err)))
            return st;
    uint8_t aux[64];
    memcpy(aux, out->comm_c, 32);
    memcpy(aux + 32, out->comm_r_last, 32);
    if ((st = create_out(&c->p_aux, 0, err)))
        return st;
    if (pf_tree_pwrite(c->p_aux.fd, aux, sizeof aux, 0))
        return pf_tree_fail(err, pf_tree_io_status(errno), "%s: %s", c->p_aux.tmp,
                            strerror(errno));
    if ((st = sync_file(&c->p_aux, err)))
        return st;
    /* everything is on disk under temporary names: move them into place, p_aux last, so
     * its presence means the other files are complete */
    uint64_t total = 2 * (uint64_t)s->base_count + 2, done = 0;
    for (int i = 0; i < s->base_count; i++) {
        if (cancelled(c, "rename", done, total))
            return pf_tree_fail(err, PF_EINTERRUPTED, "PC2 cancelled while renaming outputs");
        if ((st = rename_out(&c->tree_c[i], err)))
            return st;
        done++;
        if (cancelled(c, "rename", done, total))
            return pf_tree_fail(err, PF_EINTERRUPTED, "PC2 cancelled while renaming outputs");
        if ((st = rename_out(&c->tree_r[i], err)))
            return st;
        done++;
    }
    if (cancelled(c, "rename", done, total))
        return pf_tree_fail(err, PF_EINTERRUPTED, "PC2 cancelled while renaming outputs");
    if ((st = rename_out(&c->sealed, err)))
        return st;
    done++;
    sync_dir_of(c->sealed.final);
    if (cancelled(c, "rename", done, total))
        return pf_tree_fail(err, PF_EINTERRUPTED, "PC2 cancelled while renaming outputs");
    sync_dir_of(c->tree_c[0].final);
    if ((st = rename_out(&c->p_aux, err)))
        return st;
    sync_dir_of(c->p_aux.final);
    return PF_OK;
}

/* ---- setup and teardown ---- */

static void close_out(out_file *f)
{
    if (f->fd >= 0)
        close(f->fd);
    f->fd = -1;
    if (f->tmp[0])
        unlink(f->tmp);   /* an unfinished output never stays behind */
    f->tmp[0] = 0;
}

static void release(pc2_ctx *c)
{
    if (c->lock_fd >= 0)
        close(c->lock_fd);   /* drops the flock */
    for (int l = 0; l < c->layers; l++)
        if (c->layer_fd[l] >= 0)
            close(c->layer_fd[l]);
    if (c->staged_fd >= 0)
        close(c->staged_fd);
    close_out(&c->sealed);
    close_out(&c->p_aux);
    for (int i = 0; c->tree_c && i < c->s->base_count; i++) {
        close_out(&c->tree_c[i]);
        close_out(&c->tree_r[i]);
    }
    free(c->tree_c);
    free(c->tree_r);
    free(c->labels);
    free(c->data);
    free(c->next_labels);
    free(c->next_data);
    free(c->c_rows);
    free(c->r_rows);
    free(c->c_tops);
    free(c->r_tops);
    free(c->c_roots);
    free(c->r_roots);
    if (c->hasher && c->own_hasher)
        c->hasher->destroy(c->hasher);
}

/* 1 when both paths name the same existing file. */
static int same_file(const char *a, const char *b)
{
    struct stat sa, sb;
    if (strcmp(a, b) == 0)
        return 1;
    return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
           sa.st_ino == sb.st_ino;
}

static pf_status check_args(const pf_tree_shape *s, int layers, const char *cache_dir,
                            const char *staged_path, const char *sealed_path,
                            const pf_pc2_options *opt, pf_error *err)
{
    if (!s || !cache_dir || !staged_path || !sealed_path)
        return pf_tree_fail(err, PF_EINVAL, "pc2: shape, cache directory, staged and sealed "
                            "paths are required");
    if (layers < 1 || layers > MAX_LAYERS)
        return pf_tree_fail(err, PF_EINVAL, "pc2: %d layers (supported 1..%d)", layers,
                            MAX_LAYERS);
    if (same_file(staged_path, sealed_path))
        return pf_tree_fail(err, PF_EINVAL, "pc2: the sealed path %s is the staged file; PC2 "
                            "never modifies the staged data: give another sealed path",
                            sealed_path);
    uint64_t chunk = opt && opt->chunk_nodes ? opt->chunk_nodes : DEFAULT_CHUNK_NODES;
    uint64_t a = (uint64_t)s->base_arity, x = 1;
    while (x < chunk)
        x *= a;
    if (x != chunk)
        return pf_tree_fail(err, PF_EINVAL, "pc2: chunk of %llu nodes is not a power of the "
                            "tree arity %llu", (unsigned long long)chunk,
                            (unsigned long long)a);
    return PF_OK;
}

pf_status pf_pc2_shaped(const pf_tree_shape *shape, int layers, const char *cache_dir,
                        const char *staged_path, const char *sealed_path,
                        const pf_pc2_options *opt, pf_pc2_output *out, pf_error *err)
{
    static const pf_pc2_options defaults = { 0 };
    pf_status st = check_args(shape, layers, cache_dir, staged_path, sealed_path, opt, err);
    if (st)
        return st;
    if (!opt)
        opt = &defaults;
    /* on the heap: the path buffers are too big for a small thread stack */
    pc2_ctx *c = calloc(1, sizeof *c);
    if (!c)
        return pf_tree_fail(err, PF_ENOMEM, "pc2: out of memory");
    c->s = shape;
    c->layers = layers;
    c->cache_dir = cache_dir;
    c->staged_path = staged_path;
    c->opt = opt;
    c->staged_fd = -1;
    c->lock_fd = -1;
    c->sealed.fd = c->p_aux.fd = -1;
    for (int l = 0; l < MAX_LAYERS; l++)
        c->layer_fd[l] = -1;
    c->shift = __builtin_ctz((unsigned)shape->base_arity);
    /* The backend is chosen first: a GPU wants larger chunks than the CPU. */
    if (opt->hasher) {
        c->hasher = opt->hasher;
    } else {
        if ((st = pf_hasher_select(opt->device, opt->threads, &c->hasher, err))) {
            free(c);
            return st;
        }
        c->own_hasher = 1;
    }
    uint64_t preferred = pf_hasher_preferred_chunk(c->hasher);
    c->chunk = opt->chunk_nodes ? opt->chunk_nodes : preferred ? preferred : DEFAULT_CHUNK_NODES;
    if (c->chunk > shape->base_leaves)
        c->chunk = shape->base_leaves;
    c->chunk_rows = __builtin_ctzll(c->chunk) / c->shift;
    c->lc_first = pf_tree_lc_first_row(shape);

    uint64_t chunks = shape->base_leaves / c->chunk;
    size_t bc = (size_t)shape->base_count;
    c->tree_c = calloc(bc, sizeof *c->tree_c);
    c->tree_r = calloc(bc, sizeof *c->tree_r);
    c->labels = malloc((size_t)layers * (size_t)c->chunk * 32);
    c->data = malloc((size_t)c->chunk * 32);
    c->next_labels = malloc((size_t)layers * (size_t)c->chunk * 32);
    c->next_data = malloc((size_t)c->chunk * 32);
    c->c_rows = malloc((size_t)rows_nodes(c->chunk, c->shift, c->chunk_rows) * 32);
    c->r_rows = malloc((size_t)rows_nodes(c->chunk, c->shift, c->chunk_rows) * 32);
    c->c_tops = malloc((size_t)rows_nodes(chunks, c->shift, shape->base_rows) * 32);
    c->r_tops = malloc((size_t)rows_nodes(chunks, c->shift, shape->base_rows) * 32);
    c->c_roots = malloc(bc * 32);
    c->r_roots = malloc(bc * 32);
    if (!c->tree_c || !c->tree_r || !c->labels || !c->data || !c->next_labels ||
        !c->next_data || !c->c_rows || !c->r_rows ||
        !c->c_tops || !c->r_tops || !c->c_roots || !c->r_roots) {
        st = pf_tree_fail(err, PF_ENOMEM, "pc2: out of memory for chunks of %llu nodes",
                          (unsigned long long)c->chunk);
        goto done;
    }
    for (size_t i = 0; i < bc; i++)
        c->tree_c[i].fd = c->tree_r[i].fd = -1;
    if ((st = take_lock(c, err)) || (st = open_inputs(c, err)) ||
        (st = open_outputs(c, sealed_path, err)))
        goto done;
    for (int t = 0; t < shape->base_count; t++)
        if ((st = do_tree(c, t, err)))
            goto done;
    pf_pc2_output res;
    if ((st = pf_tree_combine_roots(shape, c->c_roots, res.comm_c, err)) ||
        (st = pf_tree_combine_roots(shape, c->r_roots, res.comm_r_last, err)) ||
        (st = pf_comm_r(res.comm_c, res.comm_r_last, res.comm_r, err)))
        goto done;
    if ((st = finish(c, &res, err)))
        goto done;
    if (out)
        *out = res;
    pf_tree_ok(err);
done:
    release(c);
    free(c);
    return st;
}

pf_status pf_pc2(const pf_pc1_output *pc1, const char *cache_dir, const char *staged_path,
                 const char *sealed_path, const pf_pc2_options *opt, pf_pc2_output *out,
                 pf_error *err)
{
    if (!pc1)
        return pf_tree_fail(err, PF_EINVAL, "pc2: the PC1 output is required");
    if (pc1->version != PF_PC1_OUTPUT_VERSION)
        return pf_tree_fail(err, PF_EINVAL, "pc2: PC1 output version %u, this library reads %d; "
                            "re-run PC1 with this version", pc1->version, PF_PC1_OUTPUT_VERSION);
    const pf_seal_proof_info *info = pf_seal_proof(pc1->proof_id);
    if (!info)
        return pf_tree_fail(err, PF_EINVAL, "pc2: PC1 output names seal proof %d, which is not "
                            "registered", pc1->proof_id);
    pf_tree_shape shape;
    pf_status st = pf_tree_shape_for_proof(pc1->proof_id, &shape, err);
    if (st)
        return st;
    if ((st = pf_pc2_shaped(&shape, info->layers, cache_dir, staged_path, sealed_path, opt, out,
                            err)))
        return st;
    /* rust's seal_commit_phase1 reads t_aux (sealproofs/formats.h); rust writes it after
     * p_aux too, and a rerun of PC2 rewrites both */
    return pf_t_aux_write(pc1->proof_id, cache_dir, err);
}
