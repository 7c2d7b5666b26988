/* log.c — sp_log: the process-wide log sink (name, level) and line formatting. */
#include "sp_log.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

static struct {
    char name[64];
    atomic_int level;
} logger = { "sealpipe", SP_LOG_INFO };

static const char *const level_names[] = { "ERROR", "WARN", "INFO", "DEBUG", "TRACE" };

int sp_log_parse_level(const char *s)
{
    static const char *const lower[] = { "error", "warn", "info", "debug", "trace" };
    for (int i = 0; i < 5; i++)
        if (s && strcasecmp(s, lower[i]) == 0)
            return i;
    if (s && strcasecmp(s, "warning") == 0)
        return SP_LOG_WARN;
    return -1;
}

void sp_log_init(const char *name, sp_log_level level)
{
    if (name)
        snprintf(logger.name, sizeof logger.name, "%s", name);
    int env = sp_log_parse_level(getenv("SEALPIPE_LOG"));
    atomic_store(&logger.level, env >= 0 ? env : (int)level);
}

void sp_log_set_level(sp_log_level level) { atomic_store(&logger.level, (int)level); }
sp_log_level sp_log_get_level(void) { return (sp_log_level)atomic_load(&logger.level); }

void sp_log(sp_log_level level, const char *fmt, ...)
{
    if ((int)level > atomic_load(&logger.level))
        return;
    char line[4096];
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    int n = snprintf(line, sizeof line, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %-5s %s: ",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                     tm.tm_sec, ts.tv_nsec / 1000000, level_names[level], logger.name);
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(line + n, sizeof line - (size_t)n - 1, fmt, ap);
    va_end(ap);
    size_t len = (size_t)n + (m < 0 ? 0 : (size_t)m);
    if (len > sizeof line - 2)
        len = sizeof line - 2;
    /* Control characters from untrusted input must not forge extra log lines. */
    for (size_t i = (size_t)n; i < len; i++)
        if ((unsigned char)line[i] < 0x20 && line[i] != '\t')
            line[i] = ' ';
    line[len++] = '\n';
    ssize_t w = write(STDERR_FILENO, line, len);
    (void)w;
}
