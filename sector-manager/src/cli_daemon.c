/* cli_daemon.c — commands that work on the home itself rather than through the daemon:
 * init, run, config default/check, auth create-token. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sm_cli.h"
#include "sm_conf.h"
#include "sm_daemon.h"
#include "sm_home.h"
#include "sm_tokens.h"
#include "sp_size.h"

int sm_cmd_init(int argc, char **argv)
{
    static const struct option opts[] = { { "home", required_argument, NULL, 'H' }, { 0 } };
    const char *home_arg = NULL;
    int o;
    optind = 1;
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (o == 'H')
            home_arg = optarg;
        else
            return sm_cli_usage("init", "unknown option");
    }
    if (optind < argc)
        return sm_cli_usage("init", "unexpected argument \"%s\"", argv[optind]);
    sm_home h;
    sp_err err;
    char *admin = NULL, *worker = NULL;
    if (sm_home_resolve(home_arg, &h, &err) != SP_OK || sm_home_init(&h, &admin, &worker, &err) != SP_OK)
        return sp_cli_fail("init: %s", err.msg);
    printf("initialised the manager home %s\n", h.dir);
    printf("  configuration: %s (add your miners and persist stores, then `sector-manager run`)\n", h.cfg);
    printf("  token secret:  %s (mode 0600)\n", h.secret);
    printf("admin token (also in %s):\n%s\n", h.admin_token, admin);
    printf("worker token (also in %s):\n%s\n", h.worker_token, worker);
    free(admin);
    free(worker);
    return 0;
}

int sm_cmd_run(int argc, char **argv)
{
    static const struct option opts[] = {
        { "home", required_argument, NULL, 'H' }, { "config", required_argument, NULL, 'c' }, { 0 },
    };
    const char *home_arg = NULL, *config = NULL;
    int o;
    optind = 1;
    while ((o = getopt_long(argc, argv, "c:", opts, NULL)) != -1) {
        if (o == 'H')
            home_arg = optarg;
        else if (o == 'c')
            config = optarg;
        else
            return sm_cli_usage("run", "unknown option");
    }
    if (optind < argc)
        return sm_cli_usage("run", "unexpected argument \"%s\"", argv[optind]);
    return sm_daemon_run(home_arg, config);
}

int sm_cmd_config_default(int argc, char **argv)
{
    (void)argv;
    if (argc > 1)
        return sm_cli_usage("config default", "no arguments expected");
    fputs(sm_default_config, stdout);
    return 0;
}

int sm_cmd_config_check(int argc, char **argv)
{
    static const struct option opts[] = {
        { "home", required_argument, NULL, 'H' }, { "config", required_argument, NULL, 'c' }, { 0 },
    };
    const char *home_arg = NULL, *config = NULL;
    int o;
    optind = 1;
    while ((o = getopt_long(argc, argv, "c:", opts, NULL)) != -1) {
        if (o == 'H')
            home_arg = optarg;
        else if (o == 'c')
            config = optarg;
        else
            return sm_cli_usage("config check", "unknown option");
    }
    sm_home h;
    sp_err err;
    if (!config) {
        if (sm_home_resolve(home_arg, &h, &err) != SP_OK)
            return sp_cli_fail("%s", err.msg);
        config = h.cfg;
    }
    sm_conf *conf = NULL;
    char *all = NULL;
    if (sm_conf_load(config, &conf, &all, &err) != SP_OK) {
        fprintf(stderr, "%s\n", all ? all : err.msg);
        /* A semantic error found after the schema check is not in `all`. */
        if (all && !strstr(all, err.msg))
            fprintf(stderr, "%s\n", err.msg);
        free(all);
        return 1;
    }
    printf("%s: valid (%zu miners, %zu persist stores, chain block time %llu ms)\n", config,
           conf->n_miners, conf->n_stores, (unsigned long long)conf->chain_params.block_ms);
    sm_conf_unref(conf);
    return 0;
}

int sm_cmd_auth_create_token(int argc, char **argv)
{
    static const struct option opts[] = {
        { "home", required_argument, NULL, 'H' }, { "scope", required_argument, NULL, 's' },
        { "ttl", required_argument, NULL, 't' }, { 0 },
    };
    const char *home_arg = NULL, *scope = NULL, *ttl = NULL;
    int o;
    optind = 1;
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (o == 'H')
            home_arg = optarg;
        else if (o == 's')
            scope = optarg;
        else if (o == 't')
            ttl = optarg;
        else
            return sm_cli_usage("auth create-token", "unknown option");
    }
    if (optind < argc)
        return sm_cli_usage("auth create-token", "unexpected argument \"%s\"", argv[optind]);
    if (!scope)
        return sm_cli_usage("auth create-token", "--scope worker|admin|retrieval is required");
    uint32_t bits = sm_scope_parse(scope);
    if (!bits)
        return sm_cli_usage("auth create-token", "--scope must be worker or admin (or retrieval), not \"%s\"", scope);
    sp_err err;
    int64_t exp = 0;
    if (ttl) {
        uint64_t ms = 0;
        if (sp_parse_duration_ms(ttl, &ms, &err) != SP_OK)
            return sm_cli_usage("auth create-token", "--ttl: %s", err.msg);
        if (ms == 0)
            return sm_cli_usage("auth create-token", "--ttl must be positive");
        exp = (int64_t)time(NULL) + (int64_t)((ms + 999) / 1000);
    }
    sm_home h;
    sm_tokens t;
    char *token = NULL;
    if (sm_home_resolve(home_arg, &h, &err) != SP_OK || sm_tokens_load(h.secret, &t, &err) != SP_OK ||
        sm_token_create(&t, bits, exp, &token, &err) != SP_OK)
        return sp_cli_fail("auth create-token: %s", err.msg);
    explicit_bzero(&t, sizeof t);
    if (exp) {
        char when[64];
        time_t e = (time_t)exp;
        struct tm tm;
        gmtime_r(&e, &tm);
        strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
        printf("%s token, expires %s:\n", scope, when);
    } else {
        printf("%s token, no expiry:\n", scope);
    }
    printf("%s\n", token);
    free(token);
    return 0;
}
