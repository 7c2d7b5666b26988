/* unseal.c — filecoin-ffi unseal_range (rust-fil-proofs api/mod.rs unseal_range_inner):
 * regenerate the key (the last layer's labels) from the sector's public inputs, subtract
 * it from the sealed replica over the requested range, and write the fr32-unpadded bytes.
 * Small sectors are labeled in memory; larger ones run PC1 into a temporary directory
 * inside the cache directory, which is removed afterwards. */
#include "commit_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "data_internal.h"
#include "fr.h"
#include "graph.h"
#include "label.h"
#include "sha256.h"
#include "tree_poseidon.h"

/* Sectors up to this many nodes (32 MiB) are labeled in memory. */
#define UNSEAL_MEM_NODES (1ULL << 20)
/* fr32 blocks (128 padded bytes) decoded per step. */
#define UNSEAL_CHUNK_BLOCKS 4096

typedef struct unseal_key {
    uint8_t *mem;                 /* last layer in memory, or NULL */
    int fd;                       /* last layer file when not in memory */
    char tmp_dir[4200];           /* PC1 scratch directory to remove, or "" */
} unseal_key;

static pf_status key_in_memory(int proof_id, const pf_seal_proof_info *info,
                               const uint8_t replica_id[32], unseal_key *k, pf_error *err)
{
    pf_graph g;
    pf_status st = pf_graph_init_proof(&g, proof_id, err);
    if (st)
        return st;
    size_t bytes = (size_t)info->nodes * 32;
    uint32_t *table = malloc((size_t)info->nodes * PF_DEGREE * sizeof *table);
    uint8_t *a = malloc(bytes), *b = malloc(bytes);
    if (!table || !a || !b) {
        st = pf_cm_fail(err, PF_ENOMEM, "unseal: cannot allocate two %zu-byte layers", bytes);
        goto done;
    }
    pf_graph_fill_table(&g, 0, info->nodes, table, 0);
    pf_labeler l;
    memset(&l, 0, sizeof l);
    l.nodes = info->nodes;
    l.parents = table;
    l.use_ni = pf_sha256_using_ni();
    memcpy(l.replica_id, replica_id, 32);
    for (int layer = 1; layer <= info->layers; layer++) {
        l.cur = layer & 1 ? a : b;
        l.prev = layer & 1 ? b : a;
        if ((st = pf_label_layer_single(&l, (uint32_t)layer, err)))
            goto done;
    }
    k->mem = info->layers & 1 ? a : b;
    if (k->mem == a)
        a = NULL;
    else
        b = NULL;
done:
    free(table);
    free(a);
    free(b);
    return st;
}

static void remove_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d))) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
                continue;
            char p[4500];
            snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
            unlink(p);
        }
        closedir(d);
    }
    rmdir(dir);
}

static pf_status key_on_disk(int proof_id, const pf_seal_proof_info *info, const char *cache_dir,
                             uint64_t sector_id, const uint8_t prover_id[32],
                             const uint8_t ticket[32], const uint8_t comm_d[32],
                             const char *parent_cache_dir, unseal_key *k, pf_error *err)
{
    int n = snprintf(k->tmp_dir, sizeof k->tmp_dir, "%s/.unseal-XXXXXX", cache_dir);
    if (n < 0 || (size_t)n >= sizeof k->tmp_dir || !mkdtemp(k->tmp_dir)) {
        pf_status st = pf_cm_fail(err, PF_EIO, "unseal: cannot create a scratch directory in %s: "
                                  "%s", cache_dir, strerror(errno));
        k->tmp_dir[0] = 0;
        return st;
    }
    pf_pc1_output out;
    pf_status st = pf_pc1(proof_id, k->tmp_dir, sector_id, prover_id, ticket, comm_d,
                          parent_cache_dir, NULL, &out, err);
    if (st) {
        pf_cm_prefix(err, "unseal: regenerating the layers");
        return st;
    }
    char path[4400];
    if (pf_layer_path(k->tmp_dir, info->layers, path, sizeof path))
        return pf_cm_fail(err, PF_EINVAL, "unseal: path too long");
    k->fd = open(path, O_RDONLY | O_CLOEXEC);
    if (k->fd < 0)
        return pf_cm_fail(err, PF_EIO, "unseal: %s: %s", path, strerror(errno));
    /* only the open descriptor is needed now: the rest of the scratch space goes early */
    for (int layer = 1; layer < info->layers; layer++)
        if (!pf_layer_path(k->tmp_dir, layer, path, sizeof path))
            unlink(path);
    return PF_OK;
}

static void key_free(unseal_key *k)
{
    free(k->mem);
    if (k->fd >= 0)
        close(k->fd);
    if (k->tmp_dir[0])
        remove_dir(k->tmp_dir);
}

static pf_status read_key(const unseal_key *k, uint64_t node, size_t count, uint8_t *out,
                          pf_error *err)
{
    if (k->mem) {
        memcpy(out, k->mem + node * 32, count * 32);
        return PF_OK;
    }
    if (pf_tree_pread(k->fd, out, count * 32, node * 32) != (long long)(count * 32))
        return pf_cm_fail(err, PF_EIO, "unseal: reading the regenerated key: %s", strerror(errno));
    return PF_OK;
}

static int write_all(int fd, const uint8_t *b, size_t n)
{
    while (n) {
        ssize_t w = write(fd, b, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        b += w;
        n -= (size_t)w;
    }
    return 0;
}

/* data = replica - key for `count` nodes; the result must be fr32 padding (top two bits
 * clear), which also catches a key regenerated from the wrong public inputs. */
static pf_status decode_nodes(uint8_t *replica, const uint8_t *key, size_t count, uint64_t first,
                              const char *sealed_path, pf_error *err)
{
    for (size_t i = 0; i < count; i++) {
        uint8_t *r = replica + 32 * i;
        if (!pf_cm_fr_valid(r))
            return pf_cm_fail(err, PF_ECORRUPT, "unseal: %s node %llu is not a field element "
                              "(corrupt replica)", sealed_path, (unsigned long long)(first + i));
        pf_fr a, b, d;
        pf_fr_limbs_from_bytes(a.l, r);
        pf_fr_limbs_from_bytes(b.l, key + 32 * i);
        pf_fr_sub(&d, &a, &b);
        pf_fr_limbs_to_bytes(r, d.l);
        if (r[31] & 0xc0)
            return pf_cm_fail(err, PF_EINVAL, "unseal: node %llu does not decode to fr32 data: "
                              "wrong prover_id/sector_id/ticket/comm_d, or a corrupt replica",
                              (unsigned long long)(first + i));
    }
    return PF_OK;
}

pf_status pf_unseal_range(int proof_id, const char *cache_dir, const char *sealed_path,
                          int out_fd, uint64_t sector_id, const uint8_t prover_id[32],
                          const uint8_t ticket[32], const uint8_t comm_d[32], uint64_t offset,
                          uint64_t length, pf_error *err)
{
    return pf_unseal_range_with(proof_id, cache_dir, sealed_path, out_fd, sector_id, prover_id,
                                ticket, comm_d, offset, length, UNSEAL_MEM_NODES, NULL, err);
}

pf_status pf_unseal_range_with(int proof_id, const char *cache_dir, const char *sealed_path,
                               int out_fd, uint64_t sector_id, const uint8_t prover_id[32],
                               const uint8_t ticket[32], const uint8_t comm_d[32],
                               uint64_t offset, uint64_t length, uint64_t mem_nodes,
                               const char *parent_cache_dir, pf_error *err)
{
    const pf_seal_proof_info *info = pf_seal_proof(proof_id);
    if (!info)
        return pf_cm_fail(err, PF_EINVAL, "unseal: seal proof id %d is not registered", proof_id);
    static const uint8_t zero[32];
    if (!memcmp(comm_d, zero, 32))
        return pf_cm_fail(err, PF_EINVAL, "unseal: invalid all-zero commitment (comm_d)");
    if (!pf_cm_fr_valid(comm_d))
        return pf_cm_fail(err, PF_EINVAL, "unseal: comm_d is not a canonical field element");
    uint64_t max = pf_max_user_bytes(info->sector_size);
    if (offset > max || length > max - offset)
        return pf_cm_fail(err, PF_EINVAL, "unseal: range %llu+%llu is outside the sector's %llu "
                          "unpadded bytes", (unsigned long long)offset,
                          (unsigned long long)length, (unsigned long long)max);
    if (!cache_dir || !sealed_path)
        return pf_cm_fail(err, PF_EINVAL, "unseal: cache directory and sealed path are required");
    if (length == 0) {
        pf_cm_ok(err);
        return PF_OK;
    }
    unseal_key k = { NULL, -1, "" };
    uint8_t *replica = malloc((size_t)UNSEAL_CHUNK_BLOCKS * 128);
    uint8_t *key = malloc((size_t)UNSEAL_CHUNK_BLOCKS * 128);
    uint8_t *plain = malloc((size_t)UNSEAL_CHUNK_BLOCKS * 127);
    pf_status st = PF_OK;
    int sfd = open(sealed_path, O_RDONLY | O_CLOEXEC);
    struct stat sb;
    if (!replica || !key || !plain) {
        st = pf_cm_fail(err, PF_ENOMEM, "unseal: out of memory");
        goto done;
    }
    if (sfd < 0 || fstat(sfd, &sb) < 0) {
        st = pf_cm_fail(err, PF_EIO, "unseal: %s: %s", sealed_path, strerror(errno));
        goto done;
    }
    if ((uint64_t)sb.st_size != info->sector_size) {
        st = pf_cm_fail(err, PF_ECORRUPT, "unseal: %s has %lld bytes, a %s replica has %llu",
                        sealed_path, (long long)sb.st_size, info->name,
                        (unsigned long long)info->sector_size);
        goto done;
    }
    uint8_t replica_id[32];
    pf_replica_id(prover_id, sector_id, ticket, comm_d, info->porep_id, replica_id);
    st = info->nodes <= mem_nodes
             ? key_in_memory(proof_id, info, replica_id, &k, err)
             : key_on_disk(proof_id, info, cache_dir, sector_id, prover_id, ticket, comm_d,
                           parent_cache_dir, &k, err);
    if (st)
        goto done;

    uint64_t first = offset / 127, last = (offset + length - 1) / 127;
    for (uint64_t b = first; b <= last; b += UNSEAL_CHUNK_BLOCKS) {
        uint64_t nb = last + 1 - b < UNSEAL_CHUNK_BLOCKS ? last + 1 - b : UNSEAL_CHUNK_BLOCKS;
        size_t nodes = (size_t)nb * 4;
        if (pf_tree_pread(sfd, replica, nodes * 32, b * 128) != (long long)(nodes * 32)) {
            st = pf_cm_fail(err, PF_EIO, "unseal: reading %s at %llu: %s", sealed_path,
                            (unsigned long long)(b * 128), strerror(errno));
            goto done;
        }
        if ((st = read_key(&k, b * 4, nodes, key, err)) ||
            (st = decode_nodes(replica, key, nodes, b * 4, sealed_path, err)))
            goto done;
        for (uint64_t i = 0; i < nb; i++)
            pf_fr32_unpad_block(replica + 128 * i, plain + 127 * i);
        uint64_t lo = b * 127, hi = (b + nb) * 127;
        uint64_t from = offset > lo ? offset : lo, to = offset + length < hi ? offset + length : hi;
        if (write_all(out_fd, plain + (from - lo), (size_t)(to - from))) {
            st = pf_cm_fail(err, pf_tree_io_status(errno), "unseal: writing the output: %s",
                            strerror(errno));
            goto done;
        }
    }
    pf_cm_ok(err);
done:
    if (sfd >= 0)
        close(sfd);
    key_free(&k);
    free(replica);
    free(key);
    free(plain);
    return st;
}
