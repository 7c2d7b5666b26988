/* c1_synth.c — synthetic PoRep (rust-fil-proofs StackedDrg::write_synth_proofs /
 * read_porep_proofs_from_synth, params.rs SynthProofs): after PC2, prove all
 * min(nodes, 2^18) synthetic challenges into syn-porep-vanilla-proofs.dat (rust's layout:
 * three roots, then one challenge record per synthetic challenge); at C1, select the porep
 * challenges' records from that file by the seed, so the layers can be deleted before the
 * seed is known. */
#include "commit_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tree_poseidon.h"

int pf_synth_proofs_path(const char *cache_dir, char *buf, size_t len)
{
    int n = snprintf(buf, len, "%s/%s", cache_dir, PF_SYNTH_PROOFS_FILE);
    return n < 0 || (size_t)n >= len ? -1 : 0;
}

pf_status pf_synth_proofs_read(const pf_commit_geom *g, const char *cache_dir,
                               const uint8_t replica_id[32], const uint8_t comm_r[32],
                               const uint8_t seed[32], const uint8_t comm_d[32],
                               const uint8_t comm_c[32], const uint8_t comm_r_last[32],
                               pf_porep_vanilla_proof *proofs, pf_error *err)
{
    char path[4096];
    if (pf_synth_proofs_path(cache_dir, path, sizeof path))
        return pf_cm_fail(err, PF_EINVAL, "cache directory path is too long: %s", cache_dir);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return pf_cm_fail(err, PF_EIO, "%s: %s", path, strerror(errno));
    pf_status st = PF_OK;
    uint8_t *rec = malloc(g->record_size);
    uint64_t num = pf_synth_challenge_count(g->nodes);
    struct stat sb;
    uint8_t roots[96];
    if (!rec) {
        st = pf_cm_fail(err, PF_ENOMEM, "out of memory");
        goto done;
    }
    if (fstat(fd, &sb) < 0 || (uint64_t)sb.st_size != 96 + num * g->record_size) {
        st = pf_cm_fail(err, PF_ECORRUPT, "%s: %lld bytes, expected %llu for %llu synthetic "
                        "proofs; regenerate it (generate_synth_proofs)", path,
                        (long long)sb.st_size, (unsigned long long)(96 + num * g->record_size),
                        (unsigned long long)num);
        goto done;
    }
    if (pf_tree_pread(fd, roots, 96, 0) != 96) {
        st = pf_cm_fail(err, PF_EIO, "%s: cannot read the roots", path);
        goto done;
    }
    if (memcmp(roots, comm_d, 32) || memcmp(roots + 32, comm_c, 32) ||
        memcmp(roots + 64, comm_r_last, 32)) {
        st = pf_cm_fail(err, PF_ECORRUPT, "%s: its roots are not this sector's comm_d, comm_c "
                        "and comm_r_last (stale file from another sector?)", path);
        goto done;
    }
    uint64_t idx[64], ch;
    for (uint32_t k = 0; k < g->partitions && !st; k++) {
        pf_synth_select(num, replica_id, seed, g->challenges, k, idx);
        for (uint32_t i = 0; i < g->challenges; i++) {
            char where[64];
            snprintf(where, sizeof where, PF_SYNTH_PROOFS_FILE " record %llu",
                     (unsigned long long)idx[i]);
            uint64_t off = 96 + idx[i] * g->record_size;
            if (pf_tree_pread(fd, rec, g->record_size, off) != (long long)g->record_size) {
                st = pf_cm_fail(err, PF_EIO, "%s: cannot read", where);
                break;
            }
            pf_synth_challenges(g->nodes, replica_id, comm_r, idx[i], 1, &ch);
            if (pf_get_le64(rec) != ch) {
                st = pf_cm_fail(err, PF_ECORRUPT, "%s: proves node %llu, synthetic challenge is "
                                "%llu", where, (unsigned long long)pf_get_le64(rec),
                                (unsigned long long)ch);
                break;
            }
            st = pf_record_decode(g, rec, comm_d, comm_c, comm_r_last,
                                  &proofs[(size_t)k * g->challenges + i], where, err);
            if (st) {
                st = PF_ECORRUPT;
                if (err)
                    err->status = st;
                break;
            }
        }
    }
done:
    free(rec);
    close(fd);
    return st;
}

pf_status pf_synth_proofs_generate(int proof_id, const char *cache_dir, const char *sealed_path,
                                   uint64_t sector_id, const uint8_t prover_id[32],
                                   const uint8_t ticket[32], const uint8_t comm_d[32],
                                   const uint8_t comm_r[32], pf_error *err)
{
    pf_commit_geom g;
    pf_porep_prover pr;
    memset(&pr, 0, sizeof pr);
    for (int l = 0; l < PF_MAX_LAYERS; l++)
        pr.layer_fd[l] = -1;
    pf_status st = pf_commit_geom_init(&g, proof_id, err);
    if (st)
        return st;
    if (g.info->feature != PF_FEATURE_SYNTHETIC)
        return pf_cm_fail(err, PF_EINVAL, "%s is not a synthetic PoRep proof (ids 10..14)",
                          g.info->name);
    if (!pf_cm_fr_valid(comm_d) || !pf_cm_fr_valid(comm_r))
        return pf_cm_fail(err, PF_EINVAL, "comm_d or comm_r is not a canonical field element");
    char path[4096], tmp[4200];
    if (pf_synth_proofs_path(cache_dir, path, sizeof path))
        return pf_cm_fail(err, PF_EINVAL, "cache directory path is too long: %s", cache_dir);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    uint8_t replica_id[32];
    pf_replica_id(prover_id, sector_id, ticket, comm_d, g.info->porep_id, replica_id);
    int fd = -1;
    uint8_t *rec = malloc(g.record_size);
    pf_porep_vanilla_proof *p = malloc(sizeof *p);
    if (!rec || !p) {
        st = pf_cm_fail(err, PF_ENOMEM, "out of memory");
        goto done;
    }
    if ((st = pf_porep_prover_open(&pr, &g, cache_dir, sealed_path, err)) ||
        (st = pf_check_comm_r(pr.comm_c, pr.comm_r_last, comm_r, "synthetic proofs: p_aux", err)))
        goto done;
    if (memcmp(pr.comm_d, comm_d, 32) != 0) {
        st = pf_cm_fail(err, PF_EINVAL, "synthetic proofs: tree_d's root is not comm_d");
        goto done;
    }
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        st = pf_cm_fail(err, PF_EIO, "%s: %s", tmp, strerror(errno));
        goto done;
    }
    uint8_t roots[96];
    memcpy(roots, pr.comm_d, 32);
    memcpy(roots + 32, pr.comm_c, 32);
    memcpy(roots + 64, pr.comm_r_last, 32);
    if (pf_tree_pwrite(fd, roots, 96, 0)) {
        st = pf_cm_fail(err, pf_tree_io_status(errno), "%s: %s", tmp, strerror(errno));
        goto done;
    }
    uint64_t num = pf_synth_challenge_count(g.nodes);
    for (uint64_t i = 0; i < num; i++) {
        uint64_t ch;
        pf_synth_challenges(g.nodes, replica_id, comm_r, i, 1, &ch);
        if ((st = pf_porep_prove_challenge(&pr, ch, p, err)))
            goto done;
        if ((st = pf_porep_vanilla_verify(proof_id, &pr.graph, replica_id, comm_d, pr.comm_c,
                                          pr.comm_r_last, ch, p, err))) {
            pf_cm_prefix(err, "synthetic challenge %llu (node %llu) does not verify; the cache "
                         "or replica is corrupt", (unsigned long long)i, (unsigned long long)ch);
            goto done;
        }
        if ((st = pf_record_encode(&g, p, rec, err)))
            goto done;
        if (pf_tree_pwrite(fd, rec, g.record_size, 96 + i * g.record_size)) {
            st = pf_cm_fail(err, pf_tree_io_status(errno), "%s: %s", tmp, strerror(errno));
            goto done;
        }
    }
    if (fsync(fd) || close(fd)) {
        fd = -1;
        st = pf_cm_fail(err, pf_tree_io_status(errno), "%s: %s", tmp, strerror(errno));
        goto done;
    }
    fd = -1;
    if (rename(tmp, path)) {
        st = pf_cm_fail(err, PF_EIO, "rename %s: %s", tmp, strerror(errno));
        goto done;
    }
    pf_cm_ok(err);
done:
    if (fd >= 0)
        close(fd);
    if (st)
        unlink(tmp);
    pf_porep_prover_close(&pr);
    free(rec);
    free(p);
    return st;
}

pf_status pf_clear_synthetic_proofs(const char *cache_dir, pf_error *err)
{
    char path[4096];
    if (!cache_dir || pf_synth_proofs_path(cache_dir, path, sizeof path))
        return pf_cm_fail(err, PF_EINVAL, "cache directory path is missing or too long");
    if (unlink(path) && errno != ENOENT)
        return pf_cm_fail(err, PF_EIO, "%s: %s", path, strerror(errno));
    pf_cm_ok(err);
    return PF_OK;
}
