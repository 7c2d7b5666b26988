/* filcrypto_config.c — which backend (native or filcrypto) each proving stage uses:
 * stage names and the "stage=backend,..." form operators write in configs and flags. */
#include "commit_internal.h"

#include <ctype.h>

static const char *const stage_names[PF_STAGE_COUNT] = {
    [PF_STAGE_C1] = "c1",
    [PF_STAGE_C2] = "c2",
    [PF_STAGE_VERIFY_SEAL] = "verify_seal",
    [PF_STAGE_WINNING_POST] = "winning_post",
    [PF_STAGE_WINDOW_POST] = "window_post",
    [PF_STAGE_VANILLA_POST] = "vanilla_post",
    [PF_STAGE_UNSEAL] = "unseal",
};

const char *pf_stage_name(pf_stage s)
{
    return (unsigned)s < PF_STAGE_COUNT ? stage_names[s] : "unknown";
}

const char *pf_backend_name(pf_backend b)
{
    return b == PF_BACKEND_FILCRYPTO ? "filcrypto" : b == PF_BACKEND_NATIVE ? "native" : "unknown";
}

void pf_backend_config_default(pf_backend_config *c)
{
    for (int i = 0; i < PF_STAGE_COUNT; i++)
        c->stage[i] = PF_BACKEND_NATIVE;
}

unsigned pf_backend_filcrypto_stages(const pf_backend_config *c)
{
    unsigned m = 0;
    for (int i = 0; i < PF_STAGE_COUNT; i++)
        if (c->stage[i] == PF_BACKEND_FILCRYPTO)
            m |= 1u << i;
    return m;
}

/* Copies [s, e) without surrounding blanks into out; 0, or -1 when it does not fit. */
static int token(const char *s, const char *e, char *out, size_t len)
{
    while (s < e && isspace((unsigned char)*s))
        s++;
    while (e > s && isspace((unsigned char)e[-1]))
        e--;
    if ((size_t)(e - s) >= len)
        return -1;
    memcpy(out, s, (size_t)(e - s));
    out[e - s] = 0;
    return 0;
}

pf_status pf_backend_config_parse(pf_backend_config *c, const char *spec, pf_error *err)
{
    pf_backend_config next = *c;
    const char *p = spec ? spec : "";
    while (*p) {
        const char *end = strchr(p, ',');
        if (!end)
            end = p + strlen(p);
        const char *eq = memchr(p, '=', (size_t)(end - p));
        char stage[32], backend[32];
        if (!eq || token(p, eq, stage, sizeof stage) || token(eq + 1, end, backend, sizeof backend))
            return pf_cm_fail(err, PF_EINVAL, "backend item '%.*s': expected stage=native or "
                              "stage=filcrypto", (int)(end - p), p);
        pf_backend b;
        if (!strcmp(backend, "native"))
            b = PF_BACKEND_NATIVE;
        else if (!strcmp(backend, "filcrypto"))
            b = PF_BACKEND_FILCRYPTO;
        else
            return pf_cm_fail(err, PF_EINVAL, "backend '%s' for stage '%s': use native or "
                              "filcrypto", backend, stage);
        int found = 0;
        for (int i = 0; i < PF_STAGE_COUNT; i++)
            if (!strcmp(stage, "all") || !strcmp(stage, stage_names[i])) {
                next.stage[i] = b;
                found = 1;
            }
        if (!found)
            return pf_cm_fail(err, PF_EINVAL, "unknown stage '%s' (stages: c1, c2, verify_seal, "
                              "winning_post, window_post, vanilla_post, unseal, all)", stage);
        p = *end ? end + 1 : end;
    }
    *c = next;
    pf_cm_ok(err);
    return PF_OK;
}
