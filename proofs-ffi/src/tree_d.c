/* tree_d.c — the binary SHA-256 tree of PoRep data: node hashing (batched, SHA-NI with
 * eight hashes in flight), the zero-commitment table, the chunked streaming tree builder
 * shared by CommP / add_piece / tree_d, and the tree_d file (sc-02-data-tree-d.dat):
 * building it crash-safely and reading roots, nodes and inclusion paths from it.
 *
 * A node is trim(SHA256(left || right)): one compression of the 64-byte pair plus one of
 * the constant padding block (0x80, zeros, bit length 512), whose message schedule is
 * precomputed.  The dependent sha256rnds2 chain of one hash leaves the unit idle most of
 * the time, so independent pairs of a tree level are hashed eight at a time. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "data_internal.h"
#include "sealproofs.h"
#include "sha256.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define HAVE_X86_NI 1
#endif

/* ---- immutable tables, built once ---- */

/* The second block of SHA256(64 bytes). */
static const uint8_t PAD_BLOCK[64] = { [0] = 0x80, [62] = 0x02 };

static struct {
    pthread_once_t once;
    uint32_t pad_wk[64];                          /* W[i] + K[i] of PAD_BLOCK */
    uint8_t zero[PF_ZERO_COMM_MAX_LEVEL + 1][32]; /* Z(0..) */
} tables = { .once = PTHREAD_ONCE_INIT };

#define ROR32(x, n) (((x) >> (n)) | ((x) << (32 - (n))))

static void hash_pairs_portable(const uint8_t *in, uint8_t *out, size_t npairs)
{
    for (size_t i = 0; i < npairs; i++) {
        uint32_t st[8];
        memcpy(st, pf_sha256_iv, sizeof st);
        pf_sha256_compress(st, in + 64 * i, 1);
        pf_sha256_compress(st, PAD_BLOCK, 1);
        pf_sha256_state_to_bytes(st, out + 32 * i);
        out[32 * i + 31] &= 0x3f;
    }
}

static void build_tables(void)
{
    uint32_t w[64];
    for (int i = 0; i < 16; i++)
        w[i] = (uint32_t)PAD_BLOCK[4 * i] << 24 | (uint32_t)PAD_BLOCK[4 * i + 1] << 16 |
               (uint32_t)PAD_BLOCK[4 * i + 2] << 8 | PAD_BLOCK[4 * i + 3];
    for (int i = 16; i < 64; i++) {
        uint32_t s0 = ROR32(w[i - 15], 7) ^ ROR32(w[i - 15], 18) ^ (w[i - 15] >> 3);
        uint32_t s1 = ROR32(w[i - 2], 17) ^ ROR32(w[i - 2], 19) ^ (w[i - 2] >> 10);
        w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    for (int i = 0; i < 64; i++)
        tables.pad_wk[i] = w[i] + pf_sha256_k[i];
    /* Z(k+1) = node(Z(k), Z(k)), with the portable path so the table never depends on
     * the accelerated code it is used to check. */
    memset(tables.zero[0], 0, 32);
    for (int k = 0; k < PF_ZERO_COMM_MAX_LEVEL; k++) {
        uint8_t pair[64];
        memcpy(pair, tables.zero[k], 32);
        memcpy(pair + 32, tables.zero[k], 32);
        hash_pairs_portable(pair, tables.zero[k + 1], 1);
    }
}

static void ensure_tables(void)
{
    pthread_once(&tables.once, build_tables);
}

/* ---- SHA-NI pair hashing ---- */

#ifdef HAVE_X86_NI
#define NI_TARGET __attribute__((target("sha,sse4.1,ssse3")))

/* Hashes `ways` consecutive pairs; all inputs are loaded before any output is stored so
 * out may overlap in (in-place level reduction). */
NI_TARGET static inline __attribute__((always_inline)) void
ni_pairs(const uint8_t *in, uint8_t *out, const uint32_t *pad_wk, const int ways)
{
    const __m128i bswap_w = _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL);
    const __m128i iv_abef = _mm_set_epi32(0x6a09e667, (int)0xbb67ae85, 0x510e527f, (int)0x9b05688c);
    const __m128i iv_cdgh = _mm_set_epi32(0x3c6ef372, (int)0xa54ff53a, 0x1f83d9ab, 0x5be0cd19);
    const __m128i trim = _mm_set_epi32(0x3fffffff, -1, -1, -1);
    __m128i s0[8], s1[8], m[8][4];

    for (int j = 0; j < ways; j++) {
        s0[j] = iv_abef;
        s1[j] = iv_cdgh;
        for (int i = 0; i < 4; i++)
            m[j][i] = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(in + 64 * j + 16 * i)),
                                       bswap_w);
    }
    for (int r = 0; r < 16; r++) {
        __m128i k = _mm_loadu_si128((const __m128i *)&pf_sha256_k[4 * r]);
        for (int j = 0; j < ways; j++) {
            __m128i wk = _mm_add_epi32(m[j][r & 3], k);
            s1[j] = _mm_sha256rnds2_epu32(s1[j], s0[j], wk);
            s0[j] = _mm_sha256rnds2_epu32(s0[j], s1[j], _mm_shuffle_epi32(wk, 0x0E));
            if (r < 12) {
                __m128i nx = _mm_sha256msg1_epu32(m[j][r & 3], m[j][(r + 1) & 3]);
                nx = _mm_add_epi32(nx, _mm_alignr_epi8(m[j][(r + 3) & 3], m[j][(r + 2) & 3], 4));
                m[j][r & 3] = _mm_sha256msg2_epu32(nx, m[j][(r + 3) & 3]);
            }
        }
    }
    __m128i mid0[8], mid1[8];
    for (int j = 0; j < ways; j++) {
        mid0[j] = s0[j] = _mm_add_epi32(s0[j], iv_abef);
        mid1[j] = s1[j] = _mm_add_epi32(s1[j], iv_cdgh);
    }
    /* padding block: the schedule is constant, only the rounds remain */
    for (int r = 0; r < 16; r++) {
        __m128i wk = _mm_loadu_si128((const __m128i *)&pad_wk[4 * r]);
        __m128i wk_hi = _mm_shuffle_epi32(wk, 0x0E);
        for (int j = 0; j < ways; j++) {
            s1[j] = _mm_sha256rnds2_epu32(s1[j], s0[j], wk);
            s0[j] = _mm_sha256rnds2_epu32(s0[j], s1[j], wk_hi);
        }
    }
    const __m128i bswap_d = _mm_set_epi8(12, 13, 14, 15, 8, 9, 10, 11, 4, 5, 6, 7, 0, 1, 2, 3);
    for (int j = 0; j < ways; j++) {
        __m128i abef = _mm_add_epi32(s0[j], mid0[j]), cdgh = _mm_add_epi32(s1[j], mid1[j]);
        __m128i feba = _mm_shuffle_epi32(abef, 0x1B), dchg = _mm_shuffle_epi32(cdgh, 0xB1);
        __m128i dcba = _mm_blend_epi16(feba, dchg, 0xF0), hgfe = _mm_alignr_epi8(dchg, feba, 8);
        _mm_storeu_si128((__m128i *)(out + 32 * j), _mm_shuffle_epi8(dcba, bswap_d));
        _mm_storeu_si128((__m128i *)(out + 32 * j + 16),
                         _mm_and_si128(_mm_shuffle_epi8(hgfe, bswap_d), trim));
    }
}

NI_TARGET static void hash_pairs_ni(const uint8_t *in, uint8_t *out, size_t npairs)
{
    const uint32_t *wk = tables.pad_wk;
    size_t i = 0;
    /* Group i reads pairs [i, i+8) = bytes [64i, 64i+512) and writes [32i, 32i+256): in
     * place, later groups' inputs (>= 64(i+8)) are never overwritten early. */
    for (; i + 8 <= npairs; i += 8)
        ni_pairs(in + 64 * i, out + 32 * i, wk, 8);
    for (; i + 2 <= npairs; i += 2)
        ni_pairs(in + 64 * i, out + 32 * i, wk, 2);
    for (; i < npairs; i++)
        ni_pairs(in + 64 * i, out + 32 * i, wk, 1);
}
#endif

void pf_sha256_hash_pairs(const uint8_t *in, uint8_t *out, size_t npairs)
{
    ensure_tables();
#ifdef HAVE_X86_NI
    if (pf_sha256_using_ni()) {
        hash_pairs_ni(in, out, npairs);
        return;
    }
#endif
    hash_pairs_portable(in, out, npairs);
}

void pf_trim(uint8_t h[32])
{
    h[31] &= 0x3f;
}

void pf_sha256_node(const uint8_t left[32], const uint8_t right[32], uint8_t out[32])
{
    uint8_t pair[64];
    memcpy(pair, left, 32);
    memcpy(pair + 32, right, 32);
    pf_sha256_hash_pairs(pair, out, 1);
}

const uint8_t *pf_zero_comm_level(unsigned level)
{
    if (level > PF_ZERO_COMM_MAX_LEVEL)
        return NULL;
    ensure_tables();
    return tables.zero[level];
}

pf_status pf_zero_comm(uint64_t padded_size, uint8_t out[32], pf_error *err)
{
    if (padded_size < 32 || !pf_is_pow2(padded_size))
        return pf_data_fail(err, PF_EINVAL,
                            "zero commitment: size %llu is not a power of two >= 32 bytes",
                            (unsigned long long)padded_size);
    memcpy(out, pf_zero_comm_level(pf_log2_u64(padded_size) - 5), 32);
    pf_data_ok(err);
    return PF_OK;
}

int pf_data_is_zero(const uint8_t *p, size_t len)
{
    /* OR whole 4 KiB blocks (vectorizes) and stop at the first non-zero block. */
    while (len) {
        size_t n = len < 4096 ? len : 4096;
        uint8_t acc = 0;
        for (size_t i = 0; i < n; i++)
            acc |= p[i];
        if (acc)
            return 0;
        p += n;
        len -= n;
    }
    return 1;
}

/* ---- chunked tree builder ---- */

static size_t chunk_bytes(const pf_sha_tree *t)
{
    return (size_t)t->chunk_leaves * 32;
}

/* Byte offset of level l in a DiskStore file over n leaves: sum of n >> i for i < l. */
static uint64_t level_offset(uint64_t n, unsigned l)
{
    return 32 * (2 * n - 2 * (n >> l));
}

static pf_status write_all_at(pf_sha_tree *t, const uint8_t *p, size_t len, uint64_t off,
                              pf_error *err)
{
    while (len) {
        ssize_t w = pwrite(t->fd, p, len, (off_t)off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            int e = w < 0 ? errno : ENOSPC;
            int full = e == ENOSPC || e == EDQUOT || e == EFBIG;
            return pf_data_fail(err, full ? PF_ENOSPC : PF_EIO, "writing %s at offset %llu: %s%s",
                                t->path, (unsigned long long)off, strerror(e),
                                full ? " (free space in the cache directory)" : "");
        }
        p += w;
        len -= (size_t)w;
        off += (uint64_t)w;
    }
    return PF_OK;
}

/* buf[0 .. count) = Z(level) repeated. */
static void fill_zero_nodes(uint8_t *buf, uint64_t count, unsigned level)
{
    memcpy(buf, pf_zero_comm_level(level), 32);
    uint64_t have = 1;
    while (have < count) {
        uint64_t n = have < count - have ? have : count - have;
        memcpy(buf + 32 * have, buf, 32 * n);
        have += n;
    }
}

/* Reduces the full chunk to its root; in file mode writes every level of it. */
static pf_status process_chunk(pf_sha_tree *t, uint8_t root[32], pf_error *err)
{
    uint64_t c = t->chunks;
    int zero = pf_data_is_zero(t->chunk, chunk_bytes(t));
    if (t->fd < 0) {
        if (zero) {
            memcpy(root, pf_zero_comm_level(t->chunk_level), 32);
            return PF_OK;
        }
        for (uint64_t n = t->chunk_leaves; n > 1; n /= 2)
            pf_sha256_hash_pairs(t->chunk, t->chunk, n / 2);
        memcpy(root, t->chunk, 32);
        return PF_OK;
    }
    pf_status st;
    /* The file was created fresh and sized, so zero leaves are already there. */
    if (!zero && (st = write_all_at(t, t->chunk, chunk_bytes(t), c * chunk_bytes(t), err)))
        return st;
    for (unsigned l = 1; l <= t->chunk_level; l++) {
        uint64_t count = t->chunk_leaves >> l;
        if (zero)
            fill_zero_nodes(t->chunk, count, l);
        else
            pf_sha256_hash_pairs(t->chunk, t->chunk, count);
        st = write_all_at(t, t->chunk, 32 * count, level_offset(t->leaves, l) + 32 * c * count, err);
        if (st)
            return st;
    }
    memcpy(root, zero ? pf_zero_comm_level(t->chunk_level) : t->chunk, 32);
    return PF_OK;
}

static void stack_push(pf_sha_tree *t, const uint8_t node[32], unsigned level)
{
    uint8_t acc[32];
    memcpy(acc, node, 32);
    while (t->stack_bits >> level & 1) {
        pf_sha256_node(t->stack[level], acc, acc);
        t->stack_bits &= ~(1ULL << level);
        level++;
    }
    memcpy(t->stack[level], acc, 32);
    t->stack_bits |= 1ULL << level;
}

static pf_status chunk_done(pf_sha_tree *t, pf_error *err)
{
    uint8_t root[32];
    pf_status st = process_chunk(t, root, err);
    if (st)
        return st;
    if (t->fd < 0)
        stack_push(t, root, t->chunk_level);
    else
        memcpy(t->roots + 32 * t->chunks, root, 32);
    t->chunks++;
    t->fill = 0;
    return PF_OK;
}

pf_status pf_sha_tree_init(pf_sha_tree *t, uint64_t leaves, int fd, const char *path, pf_error *err)
{
    memset(t, 0, sizeof *t);
    t->fd = fd;
    t->path = path ? path : "(tree)";
    if (fd >= 0 && (leaves < 1 || !pf_is_pow2(leaves) || leaves > (1ULL << 50)))
        return pf_data_fail(err, PF_EINVAL, "tree of %llu leaves: need a power of two",
                            (unsigned long long)leaves);
    t->chunk_level = PF_SHA_TREE_CHUNK_LEVEL;
    if (leaves && leaves < (1ULL << t->chunk_level)) {
        uint64_t p = 1;
        while (p < leaves)
            p *= 2;
        t->chunk_level = pf_log2_u64(p);
    }
    t->chunk_leaves = 1ULL << t->chunk_level;
    t->leaves = fd >= 0 ? leaves : 0;
    t->chunk = aligned_alloc(64, chunk_bytes(t) < 64 ? 64 : chunk_bytes(t));
    if (fd >= 0)
        t->roots = malloc(32 * (leaves / t->chunk_leaves));
    if (!t->chunk || (fd >= 0 && !t->roots)) {
        pf_sha_tree_free(t);
        return pf_data_fail(err, PF_ENOMEM, "tree builder: out of memory for a %zu-byte chunk",
                            chunk_bytes(t));
    }
    ensure_tables();
    return PF_OK;
}

uint8_t *pf_sha_tree_space(pf_sha_tree *t, size_t *avail)
{
    *avail = chunk_bytes(t) - t->fill;
    return t->chunk + t->fill;
}

pf_status pf_sha_tree_commit(pf_sha_tree *t, size_t bytes, pf_error *err)
{
    t->fill += bytes;
    if (t->fd >= 0 && t->chunks * t->chunk_leaves * 32 + t->fill > t->leaves * 32)
        return pf_data_fail(err, PF_EINTERNAL, "tree builder: more than %llu leaves pushed",
                            (unsigned long long)t->leaves);
    if (t->fill == chunk_bytes(t))
        return chunk_done(t, err);
    return PF_OK;
}

pf_status pf_sha_tree_push(pf_sha_tree *t, const void *data, size_t len, pf_error *err)
{
    const uint8_t *p = data;
    while (len) {
        size_t avail;
        uint8_t *dst = pf_sha_tree_space(t, &avail);
        size_t n = len < avail ? len : avail;
        memcpy(dst, p, n);
        pf_status st = pf_sha_tree_commit(t, n, err);
        if (st)
            return st;
        p += n;
        len -= n;
    }
    return PF_OK;
}

uint64_t pf_sha_tree_leaves_pushed(const pf_sha_tree *t)
{
    return t->chunks * t->chunk_leaves + (t->fill + 31) / 32;
}

static pf_status finish_file(pf_sha_tree *t, uint8_t root[32], pf_error *err)
{
    pf_status st;
    uint64_t nchunks = t->leaves / t->chunk_leaves;
    if (t->fill) {
        memset(t->chunk + t->fill, 0, chunk_bytes(t) - t->fill);
        if ((st = chunk_done(t, err)))
            return st;
    }
    while (t->chunks < nchunks) {
        memset(t->chunk, 0, chunk_bytes(t));
        if ((st = chunk_done(t, err)))
            return st;
    }
    unsigned level = t->chunk_level;
    for (uint64_t n = nchunks; n > 1; n /= 2) {
        pf_sha256_hash_pairs(t->roots, t->roots, n / 2);
        level++;
        if ((st = write_all_at(t, t->roots, 32 * (n / 2), level_offset(t->leaves, level), err)))
            return st;
    }
    memcpy(root, t->roots, 32);
    return PF_OK;
}

static pf_status finish_stream(pf_sha_tree *t, uint64_t leaves, uint8_t root[32], pf_error *err)
{
    uint64_t pushed = pf_sha_tree_leaves_pushed(t);
    if (!pf_is_pow2(leaves) || pushed > leaves)
        return pf_data_fail(err, PF_EINTERNAL,
                            "tree builder: cannot complete %llu leaves to %llu",
                            (unsigned long long)pushed, (unsigned long long)leaves);
    if (t->chunks == 0 && leaves <= t->chunk_leaves) {
        memset(t->chunk + t->fill, 0, 32 * leaves - t->fill);
        for (uint64_t n = leaves; n > 1; n /= 2)
            pf_sha256_hash_pairs(t->chunk, t->chunk, n / 2);
        memcpy(root, t->chunk, 32);
        return PF_OK;
    }
    if (t->fill) {
        memset(t->chunk + t->fill, 0, chunk_bytes(t) - t->fill);
        pf_status st = chunk_done(t, err);
        if (st)
            return st;
    }
    /* The stack holds the roots of a prefix; everything after it is zero. */
    unsigned top = pf_log2_u64(leaves);
    uint8_t acc[32];
    int have = 0;
    for (unsigned l = t->chunk_level; l < top; l++) {
        if (t->stack_bits >> l & 1) {
            pf_sha256_node(t->stack[l], have ? acc : pf_zero_comm_level(l), acc);
            have = 1;
        } else if (have) {
            pf_sha256_node(acc, pf_zero_comm_level(l), acc);
        }
    }
    if (have)
        memcpy(root, acc, 32);
    else if (t->stack_bits >> top & 1)
        memcpy(root, t->stack[top], 32);
    else
        memcpy(root, pf_zero_comm_level(top), 32);
    return PF_OK;
}

pf_status pf_sha_tree_finish(pf_sha_tree *t, uint64_t leaves, uint8_t root[32], pf_error *err)
{
    return t->fd >= 0 ? finish_file(t, root, err) : finish_stream(t, leaves, root, err);
}

void pf_sha_tree_reset(pf_sha_tree *t)
{
    t->fill = 0;
    t->chunks = 0;
    t->stack_bits = 0;
}

void pf_sha_tree_free(pf_sha_tree *t)
{
    free(t->chunk);
    free(t->roots);
    t->chunk = NULL;
    t->roots = NULL;
}

/* ---- the tree_d file ---- */

int pf_tree_d_path_name(const char *cache_dir, char *buf, size_t len)
{
    int n = snprintf(buf, len, "%s/%s", cache_dir, PF_TREE_D_FILE);
    return n < 0 || (size_t)n >= len ? -1 : 0;
}

uint64_t pf_tree_d_file_size(uint64_t nodes)
{
    return (2 * nodes - 1) * 32;
}

/* Reads staged bytes into the builder until EOF or the sector is full. */
static pf_status feed_staged(pf_sha_tree *t, int fd, const char *staged, uint64_t max_bytes,
                             pf_error *err)
{
    uint64_t total = 0;
    while (total < max_bytes) {
        size_t avail;
        uint8_t *dst = pf_sha_tree_space(t, &avail);
        if (avail > max_bytes - total)
            avail = (size_t)(max_bytes - total);
        ssize_t r = read(fd, dst, avail);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return pf_data_fail(err, PF_EIO, "reading staged sector %s at offset %llu: %s",
                                staged, (unsigned long long)total, strerror(errno));
        if (r == 0)
            break;
        total += (uint64_t)r;
        pf_status st = pf_sha_tree_commit(t, (size_t)r, err);
        if (st)
            return st;
    }
    if (t->fill % 32)   /* a short file ending inside a node: the rest of it is zero */
        return pf_sha_tree_push(t, (const uint8_t[32]){ 0 }, 32 - t->fill % 32, err);
    return PF_OK;
}

/* Removes temporary tree files a crashed build left in cache_dir (each can be as large as
 * the finished tree).  One sector's cache directory has one builder at a time. */
static void remove_stale_temps(const char *cache_dir)
{
    DIR *d = opendir(cache_dir);
    if (!d)
        return;
    static const char prefix[] = PF_TREE_D_FILE ".tmp-";
    struct dirent *de;
    while ((de = readdir(d)) != NULL)
        if (strncmp(de->d_name, prefix, sizeof prefix - 1) == 0)
            (void)unlinkat(dirfd(d), de->d_name, 0);
    closedir(d);
}

static pf_status sync_dir(const char *dir, pf_error *err)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 || fsync(fd) < 0) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        return pf_data_fail(err, PF_EIO, "syncing directory %s: %s", dir, strerror(e));
    }
    close(fd);
    return PF_OK;
}

pf_status pf_tree_d_build_nodes(uint64_t nodes, const char *staged_path, const char *cache_dir,
                                uint8_t comm_d[32], pf_error *err)
{
    pf_status st = PF_OK;
    pf_sha_tree tree = { .fd = -1 };   /* freeing a never-initialized tree is a no-op */
    int in = -1, out = -1, have_tmp = 0;
    char final_path[4096], tmp_path[4096 + 16];

    if (nodes < 2 || !pf_is_pow2(nodes) || nodes > (1ULL << 40))
        return pf_data_fail(err, PF_EINVAL, "tree_d: %llu nodes is not a power of two >= 2",
                            (unsigned long long)nodes);
    if (!staged_path || !cache_dir)
        return pf_data_fail(err, PF_EINVAL, "tree_d: staged path and cache directory are required");
    if (pf_tree_d_path_name(cache_dir, final_path, sizeof final_path) ||
        snprintf(tmp_path, sizeof tmp_path, "%s.tmp-XXXXXX", final_path) >= (int)sizeof tmp_path)
        return pf_data_fail(err, PF_EINVAL, "tree_d: cache directory path too long: %s", cache_dir);

    struct stat sb;
    in = open(staged_path, O_RDONLY | O_CLOEXEC);
    if (in < 0 || fstat(in, &sb) < 0) {
        st = pf_data_fail(err, PF_EIO, "tree_d: cannot open staged sector %s: %s", staged_path,
                          strerror(errno));
        goto fail;
    }
    if (S_ISREG(sb.st_mode) && (uint64_t)sb.st_size > nodes * 32) {
        st = pf_data_fail(err, PF_EINVAL,
                          "tree_d: staged sector %s has %lld bytes, more than the %llu-byte sector",
                          staged_path, (long long)sb.st_size, (unsigned long long)(nodes * 32));
        goto fail;
    }
    (void)posix_fadvise(in, 0, 0, POSIX_FADV_SEQUENTIAL);
    remove_stale_temps(cache_dir);

    out = mkostemp(tmp_path, O_CLOEXEC);
    if (out < 0) {
        int e = errno;
        st = pf_data_fail(err, e == ENOSPC ? PF_ENOSPC : PF_EIO,
                          "tree_d: cannot create a file in cache directory %s: %s", cache_dir,
                          strerror(e));
        goto fail;
    }
    have_tmp = 1;
    (void)fchmod(out, 0644);   /* mkostemp makes 0600; rust's tree files are 0644 */
    uint64_t size = pf_tree_d_file_size(nodes);
    /* Reserve the space up front so a full disk fails now rather than hours in; zero
     * ranges then need no writing.  Filesystems without fallocate just get the size. */
    if (fallocate(out, 0, 0, (off_t)size) < 0 &&
        (errno == ENOSPC || errno == EDQUOT || errno == EFBIG)) {
        st = pf_data_fail(err, PF_ENOSPC,
                          "tree_d: no space for %llu bytes in %s (free space in the cache "
                          "directory)", (unsigned long long)size, cache_dir);
        goto fail;
    }
    if (ftruncate(out, (off_t)size) < 0) {
        int e = errno;
        st = pf_data_fail(err, e == ENOSPC || e == EFBIG ? PF_ENOSPC : PF_EIO,
                          "tree_d: cannot size %s to %llu bytes: %s", tmp_path,
                          (unsigned long long)size, strerror(e));
        goto fail;
    }
    if ((st = pf_sha_tree_init(&tree, nodes, out, tmp_path, err)))
        goto fail;
    if ((st = feed_staged(&tree, in, staged_path, nodes * 32, err)) ||
        (st = pf_sha_tree_finish(&tree, nodes, comm_d, err)))
        goto fail;
    if (fsync(out) < 0) {
        st = pf_data_fail(err, errno == ENOSPC ? PF_ENOSPC : PF_EIO, "tree_d: fsync %s: %s",
                          tmp_path, strerror(errno));
        goto fail;
    }
    if (close(out) < 0) {
        out = -1;
        st = pf_data_fail(err, PF_EIO, "tree_d: closing %s: %s", tmp_path, strerror(errno));
        goto fail;
    }
    out = -1;
    if (rename(tmp_path, final_path) < 0) {
        st = pf_data_fail(err, PF_EIO, "tree_d: renaming %s to %s: %s", tmp_path, final_path,
                          strerror(errno));
        goto fail;
    }
    have_tmp = 0;
    if ((st = sync_dir(cache_dir, err)))
        goto fail;
    pf_data_ok(err);
fail:
    pf_sha_tree_free(&tree);
    if (out >= 0)
        close(out);
    if (have_tmp)
        unlink(tmp_path);
    if (in >= 0)
        close(in);
    return st;
}

pf_status pf_tree_d_build(int proof_id, const char *staged_path, const char *cache_dir,
                          uint8_t comm_d[32], pf_error *err)
{
    const pf_seal_proof_info *p = pf_seal_proof(proof_id);
    if (!p)
        return pf_data_fail(err, PF_EINVAL, "tree_d: unknown seal proof id %d", proof_id);
    return pf_tree_d_build_nodes(p->nodes, staged_path, cache_dir, comm_d, err);
}

/* ---- reading an existing tree_d ---- */

static pf_status open_tree(const char *cache_dir, uint64_t nodes, char *path, size_t path_len,
                           int *fd_out, pf_error *err)
{
    if (nodes < 2 || !pf_is_pow2(nodes) || nodes > (1ULL << 40))
        return pf_data_fail(err, PF_EINVAL, "tree_d: %llu nodes is not a power of two >= 2",
                            (unsigned long long)nodes);
    if (pf_tree_d_path_name(cache_dir, path, path_len))
        return pf_data_fail(err, PF_EINVAL, "tree_d: cache directory path too long: %s", cache_dir);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat sb;
    if (fd < 0 || fstat(fd, &sb) < 0) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        return pf_data_fail(err, PF_EIO, "tree_d: cannot open %s: %s (run tree-d / PC1 first)",
                            path, strerror(e));
    }
    if ((uint64_t)sb.st_size != pf_tree_d_file_size(nodes)) {
        close(fd);
        return pf_data_fail(err, PF_ECORRUPT,
                            "tree_d: %s has %lld bytes, expected %llu for %llu leaves "
                            "(wrong sector size or a damaged file; rebuild it)",
                            path, (long long)sb.st_size,
                            (unsigned long long)pf_tree_d_file_size(nodes),
                            (unsigned long long)nodes);
    }
    *fd_out = fd;
    return PF_OK;
}

static pf_status read_node(int fd, const char *path, uint64_t off, uint8_t out[32], pf_error *err)
{
    size_t got = 0;
    while (got < 32) {
        ssize_t r = pread(fd, out + got, 32 - got, (off_t)(off + got));
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return pf_data_fail(err, PF_EIO, "tree_d: reading %s at offset %llu: %s", path,
                                (unsigned long long)(off + got), r < 0 ? strerror(errno) : "end of file");
        got += (size_t)r;
    }
    return PF_OK;
}

pf_status pf_tree_d_node(const char *cache_dir, uint64_t nodes, unsigned level, uint64_t index,
                         uint8_t out[32], pf_error *err)
{
    char path[4096];
    int fd;
    pf_status st = open_tree(cache_dir, nodes, path, sizeof path, &fd, err);
    if (st)
        return st;
    unsigned top = pf_log2_u64(nodes);
    if (level > top || index >= (nodes >> level))
        st = pf_data_fail(err, PF_EINVAL, "tree_d: no node %llu at level %u of a %llu-leaf tree",
                          (unsigned long long)index, level, (unsigned long long)nodes);
    else
        st = read_node(fd, path, level_offset(nodes, level) + 32 * index, out, err);
    close(fd);
    if (!st)
        pf_data_ok(err);
    return st;
}

pf_status pf_tree_d_root(const char *cache_dir, uint64_t nodes, uint8_t root[32], pf_error *err)
{
    return pf_tree_d_node(cache_dir, nodes, pf_is_pow2(nodes) ? pf_log2_u64(nodes) : 0, 0, root, err);
}

pf_status pf_tree_d_path(const char *cache_dir, uint64_t nodes, uint64_t leaf_index,
                         uint8_t (*siblings_out)[32], pf_error *err)
{
    char path[4096];
    int fd;
    pf_status st = open_tree(cache_dir, nodes, path, sizeof path, &fd, err);
    if (st)
        return st;
    if (leaf_index >= nodes) {
        close(fd);
        return pf_data_fail(err, PF_EINVAL, "tree_d: leaf %llu out of range (%llu leaves)",
                            (unsigned long long)leaf_index, (unsigned long long)nodes);
    }
    unsigned top = pf_log2_u64(nodes);
    for (unsigned l = 0; l < top && !st; l++)
        st = read_node(fd, path, level_offset(nodes, l) + 32 * ((leaf_index >> l) ^ 1),
                       siblings_out[l], err);
    close(fd);
    if (!st)
        pf_data_ok(err);
    return st;
}
