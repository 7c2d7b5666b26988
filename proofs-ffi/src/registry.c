/* registry.c — registered seal and PoSt proofs: ids, sizes, graph and challenge
 * parameters, porep_id; and the status message table. */
#include "sealproofs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const status_msgs[PF_STATUS_COUNT] = {
    [PF_OK] = "no error",
    [PF_EINVAL] = "invalid argument",
    [PF_EIO] = "I/O error",
    [PF_ENOSPC] = "no space left on device",
    [PF_ENOMEM] = "out of memory",
    [PF_ECORRUPT] = "data corrupt",
    [PF_EUNSUPPORTED] = "not supported",
    [PF_EVERIFY] = "verification failed",
    [PF_EDEVICE] = "device error",
    [PF_EBACKEND] = "backend error",
    [PF_EINTERRUPTED] = "interrupted",
    [PF_EINTERNAL] = "internal error",
};

const char *pf_strerror(pf_status status)
{
    if ((unsigned)status >= PF_STATUS_COUNT)
        return "unknown error";
    return status_msgs[status];
}

enum { KIB2, MIB8, MIB512, GIB32, GIB64, NSIZES };

static const struct size_params {
    const char *label;
    uint64_t bytes;
    int layers, base, sub, top;
    int partitions, challenges;        /* interactive and synthetic PoRep */
    int ni_partitions, ni_challenges;  /* non-interactive PoRep */
    uint64_t window_sectors;           /* Window PoSt sectors per partition */
} sizes[NSIZES] = {
    [KIB2] = { "2KiB", 2048ULL, 2, 8, 0, 0, 1, 2, 13, 2, 2 },
    [MIB8] = { "8MiB", 8ULL << 20, 2, 8, 0, 0, 1, 2, 13, 2, 2 },
    [MIB512] = { "512MiB", 512ULL << 20, 2, 8, 0, 0, 1, 2, 13, 2, 2 },
    [GIB32] = { "32GiB", 32ULL << 30, 11, 8, 8, 0, 10, 18, 126, 18, 2349 },
    [GIB64] = { "64GiB", 64ULL << 30, 11, 8, 8, 2, 10, 18, 126, 18, 2300 },
};

static pf_seal_proof_info seal_table[20];
static pf_post_proof_info post_table[15];
static char seal_names[20][64], post_names[15][64];

/* The tables are pure functions of the constants above; building them at load time keeps
 * them immutable afterwards. */
__attribute__((constructor)) static void build_tables(void)
{
    static const char *const suffix[4] = { "V1", "V1_1", "V1_1_Feat_SyntheticPoRep",
                                           "V1_2_Feat_NonInteractivePoRep" };
    static const int api[4] = { 100, 110, 120, 120 };
    for (int id = 0; id < 20; id++) {
        int group = id / 5, s = id % 5;
        const struct size_params *sp = &sizes[s];
        pf_seal_proof_info *p = &seal_table[id];
        snprintf(seal_names[id], sizeof seal_names[id], "StackedDrg%s%s", sp->label, suffix[group]);
        p->id = id;
        p->name = seal_names[id];
        p->sector_size = sp->bytes;
        p->nodes = sp->bytes / 32;
        p->layers = sp->layers;
        p->api_version = api[group];
        p->feature = group == 2 ? PF_FEATURE_SYNTHETIC : group == 3 ? PF_FEATURE_NI : PF_FEATURE_NONE;
        p->tree_base = sp->base;
        p->tree_sub = sp->sub;
        p->tree_top = sp->top;
        p->partitions = group == 3 ? sp->ni_partitions : sp->partitions;
        p->challenges_per_partition = group == 3 ? sp->ni_challenges : sp->challenges;
        memset(p->porep_id, 0, 32);
        p->porep_id[0] = (uint8_t)id;          /* LE64(id); nonce 0 */
        p->winning_post_id = s;
        p->window_post_id = 10 + s;
    }
    static const char *const post_kind[3] = { "Winning", "Window", "Window" };
    static const char *const post_suffix[3] = { "V1", "V1", "V1_1" };
    for (int id = 0; id < 15; id++) {
        int group = id / 5, s = id % 5;
        pf_post_proof_info *p = &post_table[id];
        char *n = post_names[id];
        snprintf(n, sizeof post_names[id], "StackedDrg%s%s%s", post_kind[group], sizes[s].label,
                 post_suffix[group]);
        p->id = id;
        p->name = n;
        p->sector_size = sizes[s].bytes;
        p->winning = group == 0;
        p->api_version = group == 2 ? 120 : 100;
        p->challenge_count = group == 0 ? 66 : 10;
        p->sector_count = group == 0 ? 1 : sizes[s].window_sectors;
    }
}

const pf_seal_proof_info *pf_seal_proof(int id)
{
    return id >= 0 && id < 20 ? &seal_table[id] : NULL;
}

const pf_post_proof_info *pf_post_proof(int id)
{
    return id >= 0 && id < 15 ? &post_table[id] : NULL;
}

static int parse_id(const char *s, int max)
{
    if (!s || !*s)
        return -1;
    char *end;
    long v = strtol(s, &end, 10);
    if (*end == 0)
        return v >= 0 && v < max ? (int)v : -1;
    return -2;   /* not a number: try names */
}

int pf_seal_proof_parse(const char *s)
{
    int id = parse_id(s, 20);
    if (id != -2)
        return id;
    for (int i = 0; i < 20; i++)
        if (strcmp(seal_table[i].name, s) == 0)
            return i;
    return -1;
}

int pf_post_proof_parse(const char *s)
{
    int id = parse_id(s, 15);
    if (id != -2)
        return id;
    for (int i = 0; i < 15; i++)
        if (strcmp(post_table[i].name, s) == 0)
            return i;
    /* rust-fil-proofs calls the chain's Window V1_1 "V1_2"; accept that spelling too. */
    for (int i = 10; i < 15; i++) {
        char alt[64];
        size_t l = strlen(post_table[i].name);
        memcpy(alt, post_table[i].name, l - 1);
        alt[l - 1] = '2';
        alt[l] = 0;
        if (strcmp(alt, s) == 0)
            return i;
    }
    return -1;
}

int pf_seal_proof_for_size(uint64_t sector_size)
{
    for (int s = 0; s < NSIZES; s++)
        if (sizes[s].bytes == sector_size)
            return 5 + s;
    return -1;
}

uint64_t pf_max_user_bytes(uint64_t sector_size)
{
    return sector_size / 128 * 127;
}
