/* bench_net.c — connection, clock and percentile helpers of the load generators
 * (sm_bench_net.h). */
#include "sm_bench_net.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

int sm_bench_split_url(const char *url, char host[SM_BENCH_HOST_MAX], char port[SM_BENCH_PORT_MAX])
{
    const char *p = strncmp(url, "http://", 7) == 0 ? url + 7 : url;
    size_t n = strcspn(p, "/");
    const char *colon = NULL;
    for (size_t i = 0; i < n; i++)
        if (p[i] == ':')
            colon = p + i;
    if (!colon || colon == p)
        return -1;
    size_t hl = (size_t)(colon - p), pl = n - hl - 1;
    if (hl >= SM_BENCH_HOST_MAX || pl >= SM_BENCH_PORT_MAX)
        return -1;
    memcpy(host, p, hl);
    host[hl] = 0;
    memcpy(port, colon + 1, pl);
    port[pl] = 0;
    return 0;
}

int sm_bench_dial(const char *host, const char *port, char *err, size_t len)
{
    struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res = NULL;
    int rc = getaddrinfo(host, port, &hints, &res);
    if (rc) {
        snprintf(err, len, "%.128s:%.15s: %s", host, port, gai_strerror(rc));
        return -1;
    }
    int fd = -1;
    for (struct addrinfo *a = res; a; a = a->ai_next) {
        fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
        if (fd < 0)
            continue;
        if (connect(fd, a->ai_addr, a->ai_addrlen) == 0)
            break;
        snprintf(err, len, "connecting to %.128s:%.15s: %s", host, port, strerror(errno));
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd >= 0) {
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        struct timeval tv = { 30, 0 };
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    }
    return fd;
}

bool sm_bench_send_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return false;
        p += w;
        n -= (size_t)w;
    }
    return true;
}

int sm_bench_read_head(int fd, char *buf, size_t cap, size_t *have, size_t *head, int *status,
                       uint64_t *content_length)
{
    size_t n = 0;
    char *hdr_end = NULL;
    while (!hdr_end) {
        if (n + 1 >= cap)
            return -1;
        ssize_t r = recv(fd, buf + n, cap - 1 - n, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        n += (size_t)r;
        buf[n] = 0;
        hdr_end = strstr(buf, "\r\n\r\n");
    }
    *status = 0;
    if (sscanf(buf, "HTTP/1.%*d %d", status) != 1)
        return -1;
    *content_length = 0;
    for (char *line = strstr(buf, "\r\n"); line && line < hdr_end; line = strstr(line + 2, "\r\n"))
        if (strncasecmp(line + 2, "Content-Length:", 15) == 0)
            *content_length = strtoull(line + 17, NULL, 10);
    *have = n;
    *head = (size_t)(hdr_end + 4 - buf);
    return 0;
}

uint64_t sm_bench_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

int sm_bench_cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

double sm_bench_pct_ms(const uint32_t *sorted_us, size_t n, double p)
{
    if (!n)
        return 0;
    size_t i = (size_t)(p * (double)(n - 1) + 0.5);
    return sorted_us[i] / 1000.0;
}
