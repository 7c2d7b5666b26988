/* parent_cache.c — the SDR parent cache file (rust-fil-proofs stacked/vanilla/cache.rs;
 * research/porep.md §5.3): its name, the digests rust-fil-proofs pins, generation with
 * all cores into a temporary file renamed into place under an flock, verification before
 * use with regeneration of a corrupt file, and the sliding read-only mapping PC1 uses. */
#include "parent_cache.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "graph.h"
#include "sha256.h"

#define DEFAULT_DIR "/var/tmp/filecoin-parents"
#define NODE_BYTES ((size_t)PF_DEGREE * 4)
/* Nodes generated per chunk while writing a table: 3.5 MiB of parents. */
#define GEN_CHUNK_NODES ((uint64_t)1 << 16)

static pf_status fail(pf_error *err, pf_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static pf_status fail(pf_error *err, pf_status st, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        err->status = st;
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
    }
    return st;
}

static pf_status errno_status(int e)
{
    return e == ENOSPC || e == EDQUOT ? PF_ENOSPC : e == ENOMEM ? PF_ENOMEM : PF_EIO;
}

/* The digests pinned in rust-fil-proofs' storage-proofs-porep/parent_cache.json, keyed by
 * the file-name hash (which encodes nodes, porep_id-derived keys and the hasher). */
static const struct pinned {
    const char *name_hash;
    const char *digest;
} PINNED[] = {
    { "3f0eef38bb48af1f48ad65e14eb85b4ebfc167cec18cd81764f6d998836c9899",
      "3da49221e2ed55371b86d0bf3d6526fcf128af61bed904f966428db1b531750d" }, /* 2KiB V1 */
    { "494d91dc80f2df5272c4b9e129bc7ade9405225993af9fe34e6542a39a47554b",
      "840057702eea7652cf97e04306c30fe57174714d90de156a25eddd6075c25b97" }, /* 2KiB V1_1 */
    { "dcdabb0fbe4364bf0ac28b6a18c66de246409fa1a9020a00f33fb3e3053da6dc",
      "a76604f2f59f2744c7151653bbb1d8596b6b57d295e6fa6c1f0c41d725b502ce" }, /* 8MiB V1 */
    { "5eed212119fd91aa6220a27f31a8966444a9381842bceb3a1ea61525bd47a5b5",
      "03cd13565ded97c240a5f52e54295ad127bd0461b57904cb3a4d79b097bbecab" }, /* 8MiB V1_1 */
    { "2aa9c77c3e58259481351cc4be2079cc71e1c9af39700866545c043bfa30fb42",
      "3adcc092423aa76d6a7184016893406da44dd974b219a89cd3ece25e4e3018f5" }, /* 512MiB V1 */
    { "7ba215a1d2345774ab90b8cb1158d296e409d6068819d7b8c7baf0b25d63dc34",
      "b5877d1963793efebc261fd8fde4dd6bc59e6b5c7abf52617a4ee023b8dc173a" }, /* 512MiB V1_1 */
    { "e1fa5d5b811ddbd118be3412c4a8c329156b8b8acc72632bca459455b5a05a13",
      "3c4f9841fcc75aed8c695800e58d08480629f25af3a2aefd81904181d75cc0b6" }, /* 32GiB V1 */
    { "21981246c370f9d76c7a77ab273d94bde0ceb4e938292334960bce05585dc117",
      "93deeac5e3052b6927467d4b2641bb782f05491de18d510147c93eeedd8672da" }, /* 32GiB V1_1 */
    { "8a99e8d6b6be7ab87a56b632e6739ff201c23ea14e99737c74690f0e265574d6",
      "2778a732ad46a7dc18e0564dfdf59fd321dcde74ab476fd6d3c4e6735d7cd89c" }, /* 64GiB V1 */
    { "4905486b7af19558ac3649bc6261411858b6add534438878c4ee3b29d8b9de0b",
      "2698b74eb2606b55b98d8b095e18b6320b47f46e00075956d48640ccd1641b03" }, /* 64GiB V1_1 */
};

static void to_hex(const uint8_t *in, size_t n, char *out)
{
    static const char d[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = d[in[i] >> 4];
        out[2 * i + 1] = d[in[i] & 15];
    }
    out[2 * n] = 0;
}

static int from_hex32(const char *s, uint8_t out[32])
{
    for (int i = 0; i < 64; i++) {
        char c = s[i];
        int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
        if (v < 0)
            return -1;
        if (i & 1)
            out[i / 2] = (uint8_t)(out[i / 2] << 4 | v);
        else
            out[i / 2] = (uint8_t)v;
    }
    return 0;
}

/* rust: SHA256(H::name() || graph.identifier() || LE64 keys || LE32 nodes). */
static void name_hash(const pf_graph *g, char hex[65])
{
    char id[256];
    int n = snprintf(id, sizeof id,
                     "stacked_graph::StackedGraph{expansion_degree: %d base_graph: "
                     "drgraph::BucketGraph{size: %" PRIu64 "; degree: %d; hasher: poseidon_hasher} }",
                     PF_EXP_DEGREE, g->nodes, PF_BASE_DEGREE);
    pf_sha256_ctx c;
    pf_sha256_init(&c);
    pf_sha256_update(&c, "poseidon_hasher", 15);
    pf_sha256_update(&c, id, (size_t)n);
    for (int i = 0; i < 4; i++) {
        uint8_t k[8];
        for (int b = 0; b < 8; b++)
            k[b] = (uint8_t)(g->feistel_keys[i] >> (8 * b));
        pf_sha256_update(&c, k, 8);
    }
    uint8_t le_nodes[4] = { (uint8_t)g->nodes, (uint8_t)(g->nodes >> 8), (uint8_t)(g->nodes >> 16),
                            (uint8_t)(g->nodes >> 24) };
    pf_sha256_update(&c, le_nodes, 4);
    uint8_t h[32];
    pf_sha256_final(&c, h);
    to_hex(h, 32, hex);
}

const char *pf_parent_cache_dir(const char *dir)
{
    if (dir && *dir)
        return dir;
    const char *env = getenv("FIL_PROOFS_PARENT_CACHE");
    return env && *env ? env : DEFAULT_DIR;
}

int pf_parent_cache_path(const pf_graph *g, const char *dir, char *buf, size_t len)
{
    char hex[65];
    name_hash(g, hex);
    int n = snprintf(buf, len, "%s/v28-sdr-parent-%s.cache", pf_parent_cache_dir(dir), hex);
    return n < 0 || (size_t)n >= len ? -1 : 0;
}

int pf_parent_cache_pinned_digest(const pf_graph *g, uint8_t digest[32])
{
    char hex[65];
    name_hash(g, hex);
    for (size_t i = 0; i < sizeof PINNED / sizeof PINNED[0]; i++)
        if (strcmp(PINNED[i].name_hash, hex) == 0)
            return from_hex32(PINNED[i].digest, digest) == 0;
    return 0;
}

static int write_all(int fd, const void *buf, size_t len)
{
    const uint8_t *p = buf;
    while (len) {
        ssize_t w = write(fd, p, len);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

static pf_status cancelled(pf_error *err, const char *what)
{
    return fail(err, PF_EINTERRUPTED, "parent cache: %s cancelled", what);
}

pf_status pf_parent_table_write(const pf_graph *g, int fd, int threads, uint8_t digest[32],
                                pf_error *err)
{
    return pf_parent_table_write_cancel(g, fd, threads, NULL, digest, err);
}

pf_status pf_parent_table_write_cancel(const pf_graph *g, int fd, int threads,
                                       const volatile int *cancel, uint8_t digest[32],
                                       pf_error *err)
{
    uint64_t chunk = g->nodes < GEN_CHUNK_NODES ? g->nodes : GEN_CHUNK_NODES;
    uint32_t *buf = malloc(chunk * NODE_BYTES);
    if (!buf)
        return fail(err, PF_ENOMEM, "parent table: cannot allocate %" PRIu64 " bytes",
                    (uint64_t)(chunk * NODE_BYTES));
    pf_sha256_ctx c;
    pf_sha256_init(&c);
    pf_status st = PF_OK;
    for (uint64_t at = 0; at < g->nodes; at += chunk) {
        if (cancel && __atomic_load_n(cancel, __ATOMIC_ACQUIRE)) {
            st = cancelled(err, "generation");
            goto done;
        }
        uint64_t n = g->nodes - at < chunk ? g->nodes - at : chunk;
        pf_graph_fill_table(g, at, n, buf, threads);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
        for (uint64_t i = 0; i < n * PF_DEGREE; i++)
            buf[i] = __builtin_bswap32(buf[i]);
#endif
        if (digest)
            pf_sha256_update(&c, buf, n * NODE_BYTES);
        if (fd >= 0 && write_all(fd, buf, n * NODE_BYTES) != 0) {
            int e = errno;
            st = fail(err, errno_status(e), "parent table: write failed at node %" PRIu64 ": %s%s",
                      at, strerror(e), e == ENOSPC ? " (free space in the parent-cache directory)" : "");
            goto done;
        }
    }
    if (digest)
        pf_sha256_final(&c, digest);
done:
    free(buf);
    return st;
}

/* SHA-256 of a whole file read through a fixed buffer (never mapped: keeps RSS flat). */
static pf_status file_digest(int fd, uint64_t expect_len, const volatile int *cancel,
                             uint8_t digest[32], pf_error *err, const char *path)
{
    enum { BUF = 4 << 20 };
    uint8_t *buf = malloc(BUF);
    if (!buf)
        return fail(err, PF_ENOMEM, "parent cache: cannot allocate a read buffer");
    pf_sha256_ctx c;
    pf_sha256_init(&c);
    uint64_t total = 0;
    pf_status st = PF_OK;
    (void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    for (;;) {
        if (cancel && __atomic_load_n(cancel, __ATOMIC_ACQUIRE)) {
            st = cancelled(err, "verification");
            goto done;
        }
        ssize_t r = pread(fd, buf, BUF, (off_t)total);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            st = fail(err, PF_EIO, "parent cache %s: read failed at byte %" PRIu64 ": %s", path,
                      total, strerror(errno));
            goto done;
        }
        if (r == 0)
            break;
        pf_sha256_update(&c, buf, (size_t)r);
        total += (uint64_t)r;
    }
    if (total != expect_len) {
        st = fail(err, PF_ECORRUPT, "parent cache %s: %" PRIu64 " bytes, expected %" PRIu64, path,
                  total, expect_len);
        goto done;
    }
    pf_sha256_final(&c, digest);
done:
    free(buf);
    return st;
}

static int read_side_digest(const char *path, uint8_t digest[32])
{
    char side[4200], text[80] = { 0 };
    snprintf(side, sizeof side, "%s.digest", path);
    FILE *f = fopen(side, "r");
    if (!f)
        return -1;
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    if (n < 64)
        return -1;
    return from_hex32(text, digest);
}

static int fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

static pf_status write_side_digest(const char *path, const char *dir, const uint8_t digest[32],
                                   pf_error *err)
{
    char side[4200], tmp[4300], hex[65];
    snprintf(side, sizeof side, "%s.digest", path);
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", side, (long)getpid());
    to_hex(digest, 32, hex);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return fail(err, errno_status(errno), "parent cache: cannot create %s: %s", tmp,
                    strerror(errno));
    hex[64] = '\n';
    int bad = write_all(fd, hex, 65) != 0 || fsync(fd) != 0;
    int e = errno;
    close(fd);
    if (bad || rename(tmp, side) != 0) {
        e = bad ? e : errno;
        unlink(tmp);
        return fail(err, errno_status(e), "parent cache: cannot write %s: %s", side, strerror(e));
    }
    (void)fsync_dir(dir);
    return PF_OK;
}

/* mkdir -p */
static pf_status make_dirs(const char *dir, pf_error *err)
{
    char p[4096];
    if (snprintf(p, sizeof p, "%s", dir) >= (int)sizeof p)
        return fail(err, PF_EINVAL, "parent cache: directory name too long: %s", dir);
    for (char *s = p + 1;; s++) {
        if (*s == '/' || *s == 0) {
            char c = *s;
            *s = 0;
            if (mkdir(p, 0755) != 0 && errno != EEXIST)
                return fail(err, errno_status(errno),
                            "parent cache: cannot create directory %s: %s (set "
                            "FIL_PROOFS_PARENT_CACHE or pass a writable directory)",
                            p, strerror(errno));
            *s = c;
            if (!c)
                break;
        }
    }
    return PF_OK;
}

enum verdict { GOOD, MISSING, BAD, STOPPED };

/* Checks path against the pinned digest, else against the recorded side digest. */
static enum verdict verify(const pf_graph *g, const char *path, const volatile int *cancel,
                           pf_parent_cache_result *res, pf_error *err)
{
    uint8_t want[32], got[32];
    res->pinned = pf_parent_cache_pinned_digest(g, want);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return MISSING;
    if (!res->pinned && read_side_digest(path, want) != 0) {
        /* Generated elsewhere without a record of its digest: it cannot be trusted. */
        close(fd);
        fail(err, PF_ECORRUPT, "parent cache %s: no pinned or recorded digest", path);
        return BAD;
    }
    pf_status st = file_digest(fd, g->nodes * NODE_BYTES, cancel, got, err, path);
    close(fd);
    if (st != PF_OK)
        return st == PF_EINTERRUPTED ? STOPPED : BAD;
    if (memcmp(got, want, 32) != 0) {
        char a[65], b[65];
        to_hex(got, 32, a);
        to_hex(want, 32, b);
        fail(err, PF_ECORRUPT, "parent cache %s: digest %s, expected %s", path, a, b);
        return BAD;
    }
    memcpy(res->digest, got, 32);
    return GOOD;
}

static pf_status generate(const pf_graph *g, const char *dir, const char *path, int threads,
                          const volatile int *cancel, pf_parent_cache_result *res, pf_error *err)
{
    char tmp[4300];
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return fail(err, errno_status(errno), "parent cache: cannot create %s: %s", tmp,
                    strerror(errno));
    pf_status st;
    uint64_t size = g->nodes * NODE_BYTES;
    /* Reserve the space first so a full disk fails now, not after minutes of hashing. */
    int e = posix_fallocate(fd, 0, (off_t)size);
    if (e != 0 && e != EOPNOTSUPP && e != EINVAL) {
        st = fail(err, errno_status(e), "parent cache: cannot reserve %" PRIu64 " bytes for %s: %s",
                  size, tmp, strerror(e));
        goto fail;
    }
    uint8_t digest[32], pinned[32];
    st = pf_parent_table_write_cancel(g, fd, threads, cancel, digest, err);
    if (st != PF_OK)
        goto fail;
    if (fsync(fd) != 0) {
        st = fail(err, errno_status(errno), "parent cache: fsync %s: %s", tmp, strerror(errno));
        goto fail;
    }
    if (pf_parent_cache_pinned_digest(g, pinned) && memcmp(pinned, digest, 32) != 0) {
        st = fail(err, PF_EINTERNAL,
                  "parent cache: the generated table does not match rust-fil-proofs' pinned "
                  "digest (a bug in the graph code; please report)");
        goto fail;
    }
    if (!res->pinned && (st = write_side_digest(path, dir, digest, err)) != PF_OK)
        goto fail;
    if (rename(tmp, path) != 0) {
        st = fail(err, errno_status(errno), "parent cache: rename %s: %s", tmp, strerror(errno));
        goto fail;
    }
    close(fd);
    (void)fsync_dir(dir);
    memcpy(res->digest, digest, 32);
    res->generated = 1;
    return PF_OK;
fail:
    close(fd);
    unlink(tmp);
    return st;
}

pf_status pf_parent_cache_ensure(const pf_graph *g, const char *dir, int threads,
                                 pf_parent_cache_result *res, pf_error *err)
{
    return pf_parent_cache_ensure_cancel(g, dir, threads, NULL, res, err);
}

pf_status pf_parent_cache_ensure_cancel(const pf_graph *g, const char *dir, int threads,
                                        const volatile int *cancel, pf_parent_cache_result *res,
                                        pf_error *err)
{
    memset(res, 0, sizeof *res);
    dir = pf_parent_cache_dir(dir);
    if (pf_parent_cache_path(g, dir, res->path, sizeof res->path) != 0)
        return fail(err, PF_EINVAL, "parent cache: path too long under %s", dir);
    pf_status st = make_dirs(dir, err);
    if (st != PF_OK)
        return st;
    char lock[4200];
    snprintf(lock, sizeof lock, "%s.lock", res->path);
    int lfd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (lfd < 0)
        return fail(err, errno_status(errno), "parent cache: cannot open lock %s: %s", lock,
                    strerror(errno));
    /* Verify under a shared lock (many readers at once); regenerate under an exclusive one
     * and look again first, since another process may have fixed it meanwhile. */
    pf_error scratch;
    enum verdict v = BAD;
    if (flock(lfd, LOCK_SH) == 0)
        v = verify(g, res->path, cancel, res, &scratch);
    if (v == GOOD)
        goto done;
    if (v == STOPPED) {
        st = cancelled(err, "verification");
        goto done;
    }
    res->was_corrupt = v == BAD;
    if (flock(lfd, LOCK_EX) != 0) {
        st = fail(err, PF_EIO, "parent cache: cannot lock %s: %s", lock, strerror(errno));
        goto done;
    }
    if ((v = verify(g, res->path, cancel, res, &scratch)) == GOOD)
        goto done;
    if (v == STOPPED) {
        st = cancelled(err, "verification");
        goto done;
    }
    st = generate(g, dir, res->path, threads, cancel, res, err);
done:
    close(lfd);   /* releases the lock */
    return st;
}

pf_status pf_pcache_map_open(pf_pcache_map *m, const char *path, const pf_graph *g,
                             pf_error *err)
{
    memset(m, 0, sizeof *m);
    m->fd = open(path, O_RDONLY | O_CLOEXEC);
    if (m->fd < 0)
        return fail(err, PF_EIO, "parent cache %s: %s", path, strerror(errno));
    struct stat sb;
    m->len = g->nodes * NODE_BYTES;
    if (fstat(m->fd, &sb) != 0 || (uint64_t)sb.st_size != m->len) {
        close(m->fd);
        return fail(err, PF_ECORRUPT, "parent cache %s: wrong size (expected %zu bytes)", path,
                    m->len);
    }
    void *p = mmap(NULL, m->len, PROT_READ, MAP_SHARED, m->fd, 0);
    if (p == MAP_FAILED) {
        int e = errno;
        close(m->fd);
        return fail(err, PF_ENOMEM, "parent cache %s: mmap: %s", path, strerror(e));
    }
    (void)madvise(p, m->len, MADV_SEQUENTIAL);
    m->parents = p;
    m->nodes = g->nodes;
    return PF_OK;
}

static void release_range(pf_pcache_map *m, uint64_t from, uint64_t to)
{
    /* Page-align inwards at the start and outwards at the end; a page shared with a node
     * still in use is only dropped when its later node is passed, and a re-read would just
     * fault it in again from the page cache. */
    const uintptr_t page = 4096;
    uintptr_t base = (uintptr_t)m->parents;
    uintptr_t a = (base + from * NODE_BYTES + page - 1) & ~(page - 1);
    uintptr_t b = (base + to * NODE_BYTES) & ~(page - 1);
    if (b > a)
        (void)madvise((void *)a, b - a, MADV_DONTNEED);
}

void pf_pcache_map_advance(pf_pcache_map *m, uint64_t node)
{
    /* Keep one window behind `node` mapped: producers may still be reading it. */
    if (node >= m->released + 2 * PF_PCACHE_WINDOW_NODES) {
        uint64_t to = node - PF_PCACHE_WINDOW_NODES;
        release_range(m, m->released, to);
        m->released = to;
    }
    if (node + PF_PCACHE_WINDOW_NODES > m->advised && m->advised < m->nodes) {
        uint64_t from = m->advised, to = from + 2 * PF_PCACHE_WINDOW_NODES;
        if (to > m->nodes)
            to = m->nodes;
        uintptr_t a = ((uintptr_t)m->parents + from * NODE_BYTES) & ~(uintptr_t)4095;
        (void)madvise((void *)a, (uintptr_t)m->parents + to * NODE_BYTES - a, MADV_WILLNEED);
        m->advised = to;
    }
}

void pf_pcache_map_rewind(pf_pcache_map *m)
{
    release_range(m, 0, m->nodes);
    m->released = 0;
    m->advised = 0;
}

void pf_pcache_map_close(pf_pcache_map *m)
{
    if (m->parents)
        munmap((void *)m->parents, m->len);
    if (m->fd >= 0)
        close(m->fd);
    m->parents = NULL;
    m->fd = -1;
}
