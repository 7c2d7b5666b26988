/* replay.c — the main() of a fuzz target built without libFuzzer: runs saved inputs through
 * LLVMFuzzerTestOneInput, so the corpus and every crash ever found are checked by
 * `make test` under every build (normal, asan, tsan, valgrind).
 *
 *   fuzz_<name>                  replays $SP_TESTS/fuzz/corpus/<name>/ and
 *                                $SP_TESTS/fuzz/regressions/<name>/ (TAP: one case each)
 *   fuzz_<name> FILE|DIR...      replays those (e.g. a crash file from `make fuzz`)
 *
 * A crash ends the program (the sanitizer report names the input last printed on
 * stderr); an input the target rejects is not a failure.  FUZZ_NAME is set by module.mk.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

#ifndef FUZZ_NAME
#error "FUZZ_NAME must name the target"
#endif

#define REPLAY_MAX_INPUT (64u << 20)

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Runs one file; returns 0, or -1 when it cannot be read. */
static int run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        return -1;
    }
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || st.st_size < 0 || (uint64_t)st.st_size > REPLAY_MAX_INPUT) {
        fprintf(stderr, "%s: not a readable input of at most %u bytes\n", path, REPLAY_MAX_INPUT);
        fclose(f);
        return -1;
    }
    size_t size = (size_t)st.st_size;
    /* an exact-size buffer, as libFuzzer gives, so reads past the input are caught */
    uint8_t *buf = malloc(size ? size : 1);
    if (!buf || fread(buf, 1, size, f) != size) {
        fprintf(stderr, "%s: read failed\n", path);
        free(buf);
        fclose(f);
        return -1;
    }
    fclose(f);
    fprintf(stderr, "replay %s (%zu bytes)\n", path, size);
    LLVMFuzzerTestOneInput(buf, size);
    free(buf);
    return 0;
}

/* Runs every regular file of dir in name order; *count gets how many.  A missing
 * directory counts as empty when optional. */
static int run_dir(const char *dir, int optional, int *count)
{
    *count = 0;
    DIR *d = opendir(dir);
    if (!d) {
        if (optional)
            return 0;
        perror(dir);
        return -1;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.' || strcmp(e->d_name, "README.md") == 0)
            continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 64;
            char **nn = realloc(names, cap * sizeof *nn);
            if (!nn) {
                rc = -1;
                break;
            }
            names = nn;
        }
        size_t len = strlen(dir) + strlen(e->d_name) + 2;
        if (!(names[n] = malloc(len))) {
            rc = -1;
            break;
        }
        snprintf(names[n++], len, "%s/%s", dir, e->d_name);
    }
    closedir(d);
    if (n)
        qsort(names, n, sizeof *names, cmp_names);
    for (size_t i = 0; i < n; i++) {
        struct stat st;
        if (rc == 0 && stat(names[i], &st) == 0 && S_ISREG(st.st_mode)) {
            if (run_file(names[i]) != 0)
                rc = -1;
            else
                (*count)++;
        }
        free(names[i]);
    }
    free(names);
    return rc;
}

static int run_arg(const char *path)
{
    struct stat st;
    int count = 0;
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
        return run_dir(path, 0, &count);
    return run_file(path);
}

int main(int argc, char **argv)
{
    if (argc > 1) {
        for (int i = 1; i < argc; i++)
            if (run_arg(argv[i]) != 0)
                return 1;
        return 0;
    }
    const char *tests = getenv("SP_TESTS");
    if (!tests || !*tests)
        tests = "tests";
    char corpus[4096], regress[4096];
    snprintf(corpus, sizeof corpus, "%s/fuzz/corpus/%s", tests, FUZZ_NAME);
    snprintf(regress, sizeof regress, "%s/fuzz/regressions/%s", tests, FUZZ_NAME);
    int nc = 0, nr = 0;
    printf("1..2\n");
    fflush(stdout);
    int rc_c = run_dir(corpus, 0, &nc);
    /* an empty corpus means the target is not exercised at all */
    printf("%sok 1 - %s corpus: %d inputs\n", rc_c == 0 && nc > 0 ? "" : "not ", FUZZ_NAME, nc);
    fflush(stdout);
    int rc_r = run_dir(regress, 1, &nr);
    printf("%sok 2 - %s regressions: %d inputs\n", rc_r == 0 ? "" : "not ", FUZZ_NAME, nr);
    return rc_c == 0 && nc > 0 && rc_r == 0 ? 0 : 1;
}
