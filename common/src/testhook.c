/* testhook.c — the SEALPIPE_TEST_PAUSE pause points (sp_testhook.h), shared by the
 * worker, its processor children and the manager. */
#include "sp_testhook.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sp_fs.h"
#include "sp_log.h"

static int listed(const char *list, const char *point)
{
    size_t n = strlen(point);
    for (const char *p = list; *p;) {
        size_t len = strcspn(p, ",");
        if (len == n && !strncmp(p, point, n))
            return 1;
        p += len;
        if (*p == ',')
            p++;
    }
    return 0;
}

void sp_test_pause(const char *point, const volatile int *stop)
{
    const char *list = getenv("SEALPIPE_TEST_PAUSE");
    const char *dir = getenv("SEALPIPE_TEST_PAUSE_DIR");
    if (!list || !dir || !*dir || !listed(list, point))
        return;
    char paused[1024], resume[1024];
    if (snprintf(paused, sizeof paused, "%s/%s.paused", dir, point) >= (int)sizeof paused ||
        snprintf(resume, sizeof resume, "%s/%s.resume", dir, point) >= (int)sizeof resume)
        return;
    int fd = open(paused, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) {
        if (errno != EEXIST)
            SP_WARN("test pause at %s: cannot create %s: %s; not pausing", point, paused,
                    strerror(errno));
        return;
    }
    char pid[32];
    int len = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
    if (write(fd, pid, (size_t)len) != len)
        SP_WARN("test pause at %s: cannot write %s", point, paused);
    fsync(fd);
    close(fd);
    SP_WARN("test pause at %s (pid %ld): waiting for %s", point, (long)getpid(), resume);
    while (!sp_path_exists(resume) && !(stop && __atomic_load_n(stop, __ATOMIC_ACQUIRE)))
        sp_sleep_ms(50);
    SP_WARN("test pause at %s: resumed", point);
}
