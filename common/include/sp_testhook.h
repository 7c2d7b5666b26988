/* sp_testhook.h — test-only pause points, so end-to-end tests can kill a daemon or a
 * processor child at a known moment instead of racing a timer.  The points themselves are
 * listed where each program documents them (wk_testhook.h, sm_testhook.h).
 *
 * Off unless both variables are set in the environment of the process that reaches the
 * point (the worker passes its environment on to processor children):
 *   SEALPIPE_TEST_PAUSE=pc1,finalize   points to pause at (comma-separated)
 *   SEALPIPE_TEST_PAUSE_DIR=/tmp/x     where the hook keeps its marker files
 * The first time a process reaches a listed point it creates <dir>/<point>.paused holding
 * its pid, logs "test pause at <point>", and waits until <dir>/<point>.resume exists or
 * *stop becomes non-zero.  A point whose .paused file already exists never pauses again,
 * so a restarted program with the same environment runs through.  With the variables
 * unset the hook only reads the environment and returns.
 */
#ifndef SP_TESTHOOK_H
#define SP_TESTHOOK_H

/* Pauses at `point` when the environment asks for it.  stop may be NULL. */
void sp_test_pause(const char *point, const volatile int *stop);

#endif
