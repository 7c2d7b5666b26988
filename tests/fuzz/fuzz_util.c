/* fuzz_util.c — helpers shared by the fuzz targets (fuzz.h): input copies, a temporary
 * directory removed at exit, quiet logs. */
#include "fuzz.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sp_fs.h"
#include "sp_log.h"

/* Directories to remove at exit: a target makes one or two. */
static struct {
    char dirs[4][256];
    int n;
} cleanup;

static void remove_dirs(void)
{
    for (int i = 0; i < cleanup.n; i++)
        sp_remove_tree(cleanup.dirs[i], NULL);
    cleanup.n = 0;
}

char *fuzz_strndup(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s)
        return NULL;
    if (size)
        memcpy(s, data, size);
    s[size] = 0;
    return s;
}

int fuzz_tmpdir(const char *name, char *out, size_t len)
{
    const char *base = getenv("TMPDIR");
    if (!base || !*base)
        base = "/tmp";
    int n = snprintf(out, len, "%s/sealpipe-%s-XXXXXX", base, name);
    if (n < 0 || (size_t)n >= len || (size_t)cleanup.n >= sizeof cleanup.dirs / sizeof cleanup.dirs[0] ||
        (size_t)n >= sizeof cleanup.dirs[0]) {
        fprintf(stderr, "%s: temporary directory name too long under %s\n", name, base);
        return -1;
    }
    if (!mkdtemp(out)) {
        perror(out);
        return -1;
    }
    if (cleanup.n == 0)
        atexit(remove_dirs);
    snprintf(cleanup.dirs[cleanup.n++], sizeof cleanup.dirs[0], "%s", out);
    return 0;
}

void fuzz_quiet_logs(void)
{
    if (!getenv("SEALPIPE_LOG"))
        sp_log_set_level(SP_LOG_ERROR);
}

int fuzz_verbose(void)
{
    static int v = -1;
    if (v < 0) {
        const char *e = getenv("FUZZ_VERBOSE");
        v = e && *e && strcmp(e, "0") != 0;
    }
    return v;
}

void fuzz_report(const char *what, int status, const char *msg)
{
    if (fuzz_verbose())
        fprintf(stderr, "  %s: %d %s\n", what, status, status ? msg : "ok");
}
