/* wk_testhook.h — test-only pause points, so end-to-end tests can kill a worker or a
 * processor child at a known moment ("during PC1") instead of racing a timer.
 *
 * Off unless both variables are set in the environment of the process that reaches the
 * point (the daemon passes its environment on to processor children):
 *   SEALPIPE_TEST_PAUSE=pc1,pc2,finalize   points to pause at (comma-separated)
 *   SEALPIPE_TEST_PAUSE_DIR=/tmp/x         where the hook keeps its marker files
 * The first time a process reaches a listed point it creates <dir>/<point>.paused holding
 * its pid, logs "test pause at <point>", and waits until <dir>/<point>.resume exists (or the
 * task is cancelled).  A point whose .paused file already exists never pauses again, so
 * a restarted worker with the same environment runs through.  Points: add_pieces (before
 * the first piece), tree_d, pc1 (after the first layer is written), pc2 (after the first
 * chunk), c1, c2, finalize (after the sealed file is copied, before the cache files).
 * Production daemons never set these variables; with them unset the hook only reads the
 * environment and returns.
 */
#ifndef WK_TESTHOOK_H
#define WK_TESTHOOK_H

#include "sp_testhook.h"

/* sp_test_pause (sp_testhook.h) under this program's name; cancel may be NULL. */
static inline void wk_test_pause(const char *point, const volatile int *cancel)
{
    sp_test_pause(point, cancel);
}

#endif
