/* wk_daemon.h — `seal-worker daemon` (daemon.c). */
#ifndef WK_DAEMON_H
#define WK_DAEMON_H

/* Runs the worker with the config at path until SIGTERM/SIGINT; returns the exit code
 * (0 after a clean stop, 1 when it could not start). */
int wk_daemon_run(const char *config_path);

#endif
