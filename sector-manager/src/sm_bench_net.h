/* sm_bench_net.h — what the manager's load generators share (bench.c: `bench rpc`,
 * bench_retrieval.c: `bench retrieval`, bench_load.c: `bench rpc --method workers`):
 * the target URL split into host and port, a blocking TCP connection to it, sending a
 * whole request, a monotonic clock in nanoseconds, and latency percentiles. */
#ifndef SM_BENCH_NET_H
#define SM_BENCH_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SM_BENCH_HOST_MAX 256
#define SM_BENCH_PORT_MAX 16

/* "http://HOST:PORT[/...]" or "HOST:PORT" into host and port; -1 when there is no port, the
 * host is empty, or either does not fit (the caller says which URL was wrong). */
int sm_bench_split_url(const char *url, char host[SM_BENCH_HOST_MAX], char port[SM_BENCH_PORT_MAX]);

/* A blocking connection with TCP_NODELAY and a 30 s receive timeout, or -1 with err set. */
int sm_bench_dial(const char *host, const char *port, char *err, size_t len);

/* Sends all n bytes (no SIGPIPE); false when the connection failed. */
bool sm_bench_send_all(int fd, const char *p, size_t n);

/* Reads an HTTP/1.x response head into buf (cap bytes, NUL-terminated) and parses it:
 * *status, *content_length (0 when absent), *head (bytes of the head with its blank line)
 * and *have (bytes read, the start of the body included).  -1 on a closed or failed
 * connection, a head that does not fit, or no status line. */
int sm_bench_read_head(int fd, char *buf, size_t cap, size_t *have, size_t *head, int *status,
                       uint64_t *content_length);

uint64_t sm_bench_now_ns(void);

/* qsort comparator of latencies in microseconds, and the p-quantile (0..1) of n sorted
 * ones in milliseconds (0 when n is 0). */
int sm_bench_cmp_u32(const void *a, const void *b);
double sm_bench_pct_ms(const uint32_t *sorted_us, size_t n, double p);

#endif
