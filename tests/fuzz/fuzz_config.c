/* fuzz_config.c — libconfig loading (sp_config_load_string: the wide-integer and NUL
 * checks, inherit resolution, merging, FILE:LINE messages) and the schema and semantic
 * checks of both daemons' configs.
 *
 * Input: byte 0 picks the loader, the rest is the config text:
 *   0 wk_config_load_string (worker.cfg: schema, defaults, processors, locks, threads)
 *   1 sm_conf_load_string (manager.cfg: schema, miners, stores, storage policy)
 *   2 sp_config_load_string, then sp_config_check against both schemas with every error
 *     collected, and the typed getters on a few keys of each
 * Invariants: a load that fails says why (a non-empty message); a load that succeeds
 * gives a root group.
 *
 * The text is named "fuzz.cfg" in the current directory: an `inherit` in it reads files
 * relative to there (read-only; nothing is written). */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "sm_conf.h"
#include "sp_config.h"
#include "wk_config.h"

static void worker_config(const char *text)
{
    wk_config c;
    wk_diags d = { 0 };
    sp_err err;
    memset(&c, 0, sizeof c);
    err.msg[0] = 0;
    if (wk_config_load_string(text, "fuzz.cfg", &c, &d, &err) != SP_OK && !err.msg[0])
        abort();
    wk_config_free(&c);
    wk_diags_free(&d);
}

static void manager_config(const char *text)
{
    sm_conf *c = NULL;
    char *all = NULL;
    sp_err err;
    err.msg[0] = 0;
    if (sm_conf_load_string(text, "fuzz.cfg", &c, &all, &err) != SP_OK) {
        if (!err.msg[0] || c)
            abort();
    } else if (!c) {
        abort();
    }
    sm_conf_unref(c);
    free(all);
}

static void generic_config(const char *text)
{
    sp_config *cfg = NULL;
    sp_err err;
    err.msg[0] = 0;
    if (sp_config_load_string(text, "fuzz.cfg", &cfg, &err) != SP_OK) {
        if (!err.msg[0] || cfg)
            abort();
        return;
    }
    const config_setting_t *root = sp_config_root(cfg);
    if (!root)
        abort();
    const sp_cfg_field *schemas[] = { wk_config_schema(), sm_conf_schema };
    for (size_t i = 0; i < 2; i++) {
        char *all = NULL;
        (void)sp_config_check(cfg, schemas[i], &all, &err);
        free(all);
    }
    int64_t n;
    uint64_t bytes, ms;
    const char *s;
    bool b;
    (void)sp_config_get_int(root, "sealing.max_retries", 5, &n, &err);
    (void)sp_config_get_size(root, "api.max_body", 1024, &bytes, &err);
    (void)sp_config_get_duration_ms(root, "sealing.seal_interval", 1000, &ms, &err);
    (void)sp_config_get_string(root, "worker.name", "x", &s, &err);
    (void)sp_config_get_bool(root, "sealing.enable_deals", false, &b, &err);
    (void)sp_config_path(cfg);
    (void)sp_config_chain(cfg);
    sp_config_free(cfg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int quiet;
    if (!quiet) {
        fuzz_quiet_logs();
        quiet = 1;
    }
    if (size < 1)
        return 0;
    char *text = fuzz_strndup(data + 1, size - 1);
    if (!text)
        return 0;
    switch (data[0] % 3) {
    case 0: worker_config(text); break;
    case 1: manager_config(text); break;
    default: generic_config(text); break;
    }
    free(text);
    return 0;
}
