/* sm_testhook.h — test-only pause points of the sector-manager, so end-to-end tests can
 * kill it at a known moment ("a tier move with its copy written but not verified").
 *
 * Off unless both variables are set in the daemon's environment:
 *   SEALPIPE_TEST_PAUSE=copy-written,move-switched   points to pause at (comma-separated)
 *   SEALPIPE_TEST_PAUSE_DIR=/tmp/x                   where the hook keeps marker files
 * The first time the process reaches a listed point it creates <dir>/<point>.paused with
 * its pid, logs "test pause at <point>" and waits until <dir>/<point>.resume exists or
 * *stop is set.  A point whose .paused file exists never pauses again, so a restarted
 * daemon with the same environment runs through.  (The same convention as the worker's
 * wk_testhook.h.)
 */
#ifndef SM_TESTHOOK_H
#define SM_TESTHOOK_H

#include "sp_testhook.h"

/* sp_test_pause (sp_testhook.h) under this program's name; stop may be NULL. */
static inline void sm_test_pause(const char *point, const volatile int *stop)
{
    sp_test_pause(point, stop);
}

#endif
