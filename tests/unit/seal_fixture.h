/* seal_fixture.h — a sealed sector for the commit-phase tests (test_c1, test_verify,
 * test_post, test_unseal): staged data (zeros, a pattern, or pieces), tree_d, PC1 and PC2
 * through the library, in a temporary directory removed by fx_free.  Header-only (static
 * functions) so that each test program stays self-contained. */
#ifndef SEAL_FIXTURE_H
#define SEAL_FIXTURE_H

#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sealproofs.h"

/* Not every program uses every helper. */
#define FX_FN static __attribute__((unused))

typedef struct fx_sector {
    int proof_id;
    char root[512];             /* temporary directory holding everything below */
    char cache[600];
    char staged[600];
    char sealed[600];
    char parents[600];          /* parent cache directory */
    uint64_t sector_id;
    uint8_t prover_id[32];
    uint8_t ticket[32];
    uint8_t seed[32];
    uint8_t comm_d[32];
    uint8_t comm_r[32];
    uint8_t comm_c[32];
    uint8_t comm_r_last[32];
    uint8_t *unpadded;          /* the sector's user bytes (max_user_bytes) */
    uint64_t unpadded_len;
} fx_sector;

typedef enum fx_data { FX_ZERO = 0, FX_PATTERN = 1 } fx_data;

FX_FN void fx_rm_tree(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        char p[1200];
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        struct stat sb;
        if (lstat(p, &sb) == 0 && S_ISDIR(sb.st_mode))
            fx_rm_tree(p);
        else
            unlink(p);
    }
    closedir(d);
    rmdir(dir);
}

FX_FN void fx_free(fx_sector *s)
{
    if (s->root[0])
        fx_rm_tree(s->root);
    free(s->unpadded);
    memset(s, 0, sizeof *s);
}

/* Deterministic bytes that are not all equal and differ between sectors. */
FX_FN void fx_pattern(uint8_t *b, uint64_t n, uint64_t salt)
{
    for (uint64_t i = 0; i < n; i++)
        b[i] = (uint8_t)((i * 7 + i / 251 + salt * 13) & 0xff);
}

/* Seals a sector whose staged file is the fr32 padding of `unpadded` (max_user_bytes
 * long, or NULL for zeros).  Returns 0, or -1 after printing the library's message. */
FX_FN int fx_seal_bytes(fx_sector *s, int proof_id, const uint8_t *unpadded, uint64_t sector_id,
                         uint8_t salt)
{
    memset(s, 0, sizeof *s);
    const pf_seal_proof_info *info = pf_seal_proof(proof_id);
    if (!info)
        return -1;
    s->proof_id = proof_id;
    s->sector_id = sector_id;
    snprintf(s->root, sizeof s->root, "%s/sealpipe-fx.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(s->root)) {
        s->root[0] = 0;
        return -1;
    }
    snprintf(s->cache, sizeof s->cache, "%s/cache", s->root);
    snprintf(s->staged, sizeof s->staged, "%s/staged", s->root);
    snprintf(s->sealed, sizeof s->sealed, "%s/sealed", s->root);
    snprintf(s->parents, sizeof s->parents, "%s/parents", s->root);
    mkdir(s->cache, 0755);
    mkdir(s->parents, 0755);
    for (int i = 0; i < 32; i++) {
        s->prover_id[i] = 0;
        s->ticket[i] = (uint8_t)(salt + 3 * i + 1);
        s->seed[i] = (uint8_t)(salt * 5 + 7 * i + 2);
    }
    s->prover_id[0] = 0xe8;     /* t01000 */
    s->prover_id[1] = 0x07;
    s->unpadded_len = pf_max_user_bytes(info->sector_size);
    s->unpadded = calloc(1, s->unpadded_len);
    uint8_t *padded = calloc(1, info->sector_size);
    if (!s->unpadded || !padded) {
        free(padded);
        return -1;
    }
    if (unpadded)
        memcpy(s->unpadded, unpadded, s->unpadded_len);
    pf_fr32_pad(s->unpadded, s->unpadded_len, padded);
    int fd = open(s->staged, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0 || write(fd, padded, info->sector_size) != (ssize_t)info->sector_size) {
        free(padded);
        if (fd >= 0)
            close(fd);
        return -1;
    }
    close(fd);
    free(padded);
    pf_error err = { 0, "" };
    pf_pc1_output pc1;
    pf_pc2_output pc2;
    if (pf_tree_d_build(proof_id, s->staged, s->cache, s->comm_d, &err) ||
        pf_pc1(proof_id, s->cache, sector_id, s->prover_id, s->ticket, s->comm_d, s->parents, NULL,
               &pc1, &err) ||
        pf_pc2(&pc1, s->cache, s->staged, s->sealed, NULL, &pc2, &err)) {
        fprintf(stderr, "fixture: sealing failed: %s\n", err.msg);
        return -1;
    }
    memcpy(s->comm_r, pc2.comm_r, 32);
    memcpy(s->comm_c, pc2.comm_c, 32);
    memcpy(s->comm_r_last, pc2.comm_r_last, 32);
    return 0;
}

FX_FN int fx_seal(fx_sector *s, int proof_id, fx_data data, uint64_t sector_id, uint8_t salt)
{
    const pf_seal_proof_info *info = pf_seal_proof(proof_id);
    if (!info)
        return -1;
    uint64_t n = pf_max_user_bytes(info->sector_size);
    uint8_t *b = calloc(1, n);
    if (!b)
        return -1;
    if (data == FX_PATTERN)
        fx_pattern(b, n, salt);
    int rc = fx_seal_bytes(s, proof_id, b, sector_id, salt);
    free(b);
    return rc;
}

/* Reads a whole file into a malloc'd buffer; NULL on error. */
FX_FN uint8_t *fx_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc(n > 0 ? (size_t)n : 1);
    if (b && n > 0 && fread(b, 1, (size_t)n, f) != (size_t)n) {
        free(b);
        b = NULL;
    }
    fclose(f);
    if (b)
        *len = (size_t)n;
    return b;
}

#endif
