/* fuzz.h — what every fuzz target shares: the libFuzzer entry points and small helpers.
 *
 * Each tests/fuzz/fuzz_<name>.c is built twice (tests/fuzz/module.mk):
 *  - with clang and -fsanitize=fuzzer,address,undefined into build-fuzz/fuzz/<name>, run by
 *    `make fuzz` over tests/fuzz/corpus/<name>/;
 *  - with the normal compiler and flags (so also under `make asan`/`tsan`/`valgrind`) linked
 *    with replay.c into $(BUILD)/tests/fuzz_<name>, which `make test` runs: it replays the
 *    checked-in corpus and every crash ever found (tests/fuzz/regressions/<name>/).
 * A target must be deterministic enough that a saved input reproduces its crash, must not
 * leak (LeakSanitizer runs after the replay), and aborts only on a broken invariant.
 *
 * Targets that need files (a database, a home, sealing-thread locations) keep them in one
 * temporary directory made on the first call and removed at exit; this process-wide state
 * is the one exception to "no global mutable state", forced by libFuzzer's entry point.
 */
#ifndef FUZZ_H
#define FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A NUL-terminated malloc'd copy of data[0..size) (NULL when out of memory). */
char *fuzz_strndup(const uint8_t *data, size_t size);

/* Makes a fresh directory under $TMPDIR (or /tmp) named after the target and registers its
 * removal at exit.  Returns 0, or -1 with a message on stderr. */
int fuzz_tmpdir(const char *name, char *out, size_t len);

/* True when FUZZ_VERBOSE is set: targets then print each input's verdict on stderr (to
 * check that seeds reach what they are meant to). */
int fuzz_verbose(void);
/* Prints "what: status message" when verbose. */
void fuzz_report(const char *what, int status, const char *msg);

/* Logs below errors are noise at thousands of runs a second. */
void fuzz_quiet_logs(void);

#endif
