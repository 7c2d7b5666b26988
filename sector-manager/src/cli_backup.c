/* cli_backup.c — `backup create FILE` (a consistent snapshot of the home's database, taken
 * while the daemon runs) and `backup restore FILE` (only while it is stopped); see
 * sm_backup.h.  Both work on the database file named by the home's manager.cfg. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "sm_backup.h"
#include "sm_cli.h"
#include "sm_conf.h"
#include "sp_size.h"

static int parse(const char *cmd, int argc, char **argv, const char **home, const char **file)
{
    static const struct option opts[] = { { "home", required_argument, NULL, 'H' }, { 0 } };
    int o;
    optind = 1;
    *home = NULL;
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (o == 'H')
            *home = optarg;
        else
            return sm_cli_usage(cmd, "unknown option");
    }
    if (optind != argc - 1)
        return sm_cli_usage(cmd, "give exactly one FILE");
    *file = argv[optind];
    return 0;
}

/* The database path of the home's configuration. */
static int db_path(const char *home_arg, sm_home *home, char *out, size_t len)
{
    sp_err err;
    sm_conf *conf = NULL;
    if (sm_home_resolve(home_arg, home, &err) != SP_OK || sm_conf_load(home->cfg, &conf, NULL, &err) != SP_OK)
        return sp_cli_fail("%s", err.msg);
    snprintf(out, len, "%s", conf->db_path);
    sm_conf_unref(conf);
    return 0;
}

static void print_info(const char *what, const char *file, const sm_backup_info *i)
{
    char sz[32];
    printf("%s %s: schema %d, %" PRId64 " sectors, %" PRId64 " pieces, %" PRId64 " objects with %" PRId64
           " replicas, %" PRId64 " indexed blocks, %s; integrity_check ok\n", what, file, i->schema_version,
           i->sectors, i->pieces, i->objects, i->replicas, i->blocks, sp_format_size_human(i->bytes, sz, sizeof sz));
}

int sm_cmd_backup_create(int argc, char **argv)
{
    const char *home_arg, *file;
    int bad = parse("backup create", argc, argv, &home_arg, &file);
    if (bad)
        return bad;
    sm_home home;
    char db[4096];
    if (db_path(home_arg, &home, db, sizeof db))
        return 1;
    sm_backup_info info;
    sp_err err;
    if (sm_backup_create(db, file, &info, &err) != SP_OK)
        return sp_cli_fail("backup create: %s", err.msg);
    print_info("backup", file, &info);
    return 0;
}

int sm_cmd_backup_restore(int argc, char **argv)
{
    const char *home_arg, *file;
    int bad = parse("backup restore", argc, argv, &home_arg, &file);
    if (bad)
        return bad;
    sm_home home;
    char db[4096];
    if (db_path(home_arg, &home, db, sizeof db))
        return 1;
    /* The daemon holds this lock while it runs: a restore under it would be overwritten. */
    int lock = open(home.lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (lock < 0)
        return sp_cli_fail("backup restore: %s: %s", home.lock, strerror(errno));
    if (flock(lock, LOCK_EX | LOCK_NB) != 0) {
        close(lock);
        return sp_cli_fail("backup restore: the daemon of %s is running; stop it first (systemctl stop "
                           "sector-manager)", home.dir);
    }
    sm_backup_info info;
    sp_err err;
    int rc = 0;
    if (sm_backup_restore(file, db, &info, &err) != SP_OK)
        rc = sp_cli_fail("backup restore: %s", err.msg);
    else {
        print_info("restored", db, &info);
        printf("the next start continues each miner's sector numbers at the durable limit recorded in "
               "the backup, skipping the block that was in use; if more numbers were handed out after "
               "the backup, raise first_number in manager.cfg above the highest one in use before "
               "starting.  Sectors created after the backup are unknown to the restored database.\n");
    }
    close(lock);
    return rc;
}
