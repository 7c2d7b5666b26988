/* sp_log.h — leveled, timestamped logging to stderr (journald picks it up).
 *
 * One line per call, written with a single write(2) so lines from threads and child
 * processes never interleave.  Format:
 *   2026-11-21T14:10:00.123Z INFO  sector-manager: listening on 127.0.0.1:1789
 * The level comes from sp_log_init() or the SEALPIPE_LOG environment variable
 * (error|warn|info|debug|trace).  Never log secrets: tokens are passed through
 * sp_log_redact() by the code that prints requests.
 */
#ifndef SP_LOG_H
#define SP_LOG_H

typedef enum sp_log_level {
    SP_LOG_ERROR = 0,
    SP_LOG_WARN,
    SP_LOG_INFO,
    SP_LOG_DEBUG,
    SP_LOG_TRACE,
} sp_log_level;

/* Sets the program name shown on every line and the level (SEALPIPE_LOG overrides it
 * when set).  May be called again, e.g. by a processor child to rename itself. */
void sp_log_init(const char *name, sp_log_level level);
void sp_log_set_level(sp_log_level level);
sp_log_level sp_log_get_level(void);
/* Parses "error", "warn", "info", "debug", "trace"; returns -1 if unknown. */
int sp_log_parse_level(const char *s);

void sp_log(sp_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define SP_ERROR(...) sp_log(SP_LOG_ERROR, __VA_ARGS__)
#define SP_WARN(...)  sp_log(SP_LOG_WARN, __VA_ARGS__)
#define SP_INFO(...)  sp_log(SP_LOG_INFO, __VA_ARGS__)
#define SP_DEBUG(...) do { if (sp_log_get_level() >= SP_LOG_DEBUG) sp_log(SP_LOG_DEBUG, __VA_ARGS__); } while (0)
#define SP_TRACE(...) do { if (sp_log_get_level() >= SP_LOG_TRACE) sp_log(SP_LOG_TRACE, __VA_ARGS__); } while (0)

#endif
