/* sm_daemon.h — `sector-manager run`: the daemon's life from start to clean stop. */
#ifndef SM_DAEMON_H
#define SM_DAEMON_H

/* Serves until SIGTERM/SIGINT; returns the process exit code (0 after a clean stop).
 * home may be NULL (environment, then ~/.sealpipe-manager); config defaults to
 * <home>/manager.cfg. */
int sm_daemon_run(const char *home, const char *config);

#endif
