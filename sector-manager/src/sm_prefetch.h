/* sm_prefetch.h — server-side read-ahead for readers that walk a file in ranges.
 *
 * A client that fetches a piece as consecutive Range requests (or several clients that
 * split it among themselves) has the file opened anew for every request, so the kernel
 * sees unrelated reads at scattered offsets: each request's own readahead (or WILLNEED of
 * its range) starts small and runs interleaved with those of the other requests in
 * flight, and the disk serves many small requests (about 1 MiB on average on the
 * development VM's virtio disk, against 4 MiB for `dd bs=4M`) instead of the few large
 * ones a plain sequential read gets.  sm_prefetch keeps one stream per file being
 * read that way: its own open file description (so the kernel's sequential readahead,
 * with large folios, works for it) and one thread that reads each stream's file into
 * the page cache ahead of the readers with sendfile(2) to /dev/null (no copy), up to a
 * window past the furthest byte asked for.  A reader waits for the first chunk of its
 * range and then finds its pages cached or already on their way: the disk sees one
 * sequential reader per stream, as it does for a plain `dd`.
 *
 * Only the page cache is filled: no byte is ever served from here, so a file that is
 * replaced, truncated or removed while a stream runs can cost a wasted read at worst.
 * A request that is not near an existing stream starts one that reads just its own range;
 * a request that continues a stream (starts at most one window past the furthest byte
 * asked, or at most four windows before it: clients splitting a piece lag each other)
 * extends it by the full window.  Streams idle for idle_ms are closed; when every stream slot is busy a
 * new file gets none (sm_prefetch_note returns false and the caller may fall back to
 * POSIX_FADV_WILLNEED).
 */
#ifndef SM_PREFETCH_H
#define SM_PREFETCH_H

#include <stdbool.h>
#include <stdint.h>

#include "sp_err.h"

typedef struct sm_prefetch sm_prefetch;

typedef struct sm_prefetch_opts {
    uint64_t ahead;       /* bytes read ahead of the furthest request of a stream; 0: 32 MiB */
    uint64_t chunk;       /* bytes per sendfile call; 0: 1 MiB */
    unsigned max_streams; /* files followed at once, 1..64; 0: 8 */
    unsigned idle_ms;     /* a stream nobody asked from for this long is closed; 0: 2000 */
    unsigned wait_ms;     /* the longest sm_prefetch_note waits for a range's first chunk; 0: 100 */
} sm_prefetch_opts;

typedef struct sm_prefetch_stats {
    uint64_t streams_started; /* new streams (a request not near any stream) */
    uint64_t continued;       /* requests that continued a stream */
    uint64_t refused;         /* requests that found every slot busy */
    uint64_t waits_timed_out; /* notes that gave up waiting for their first chunk */
    uint64_t bytes;           /* bytes the thread read into the page cache */
    unsigned open_streams;    /* streams open now */
} sm_prefetch_stats;

/* Starts the read-ahead thread (opts may be NULL for the defaults). */
sp_code sm_prefetch_new(const sm_prefetch_opts *opts, sm_prefetch **out, sp_err *err);
/* Stops the thread and closes every stream; NULL is a no-op. */
void sm_prefetch_free(sm_prefetch *pf);

/* A reader is about to read [start, end) of the regular file open as fd (the caller keeps
 * fd; the stream opens its own description of the same file).  Returns true when a
 * stream reads that range (and, for a continued stream, the window past it), after
 * waiting (at most wait_ms) until the range's first chunk is in the page cache, so that
 * the reader's own reads follow the stream instead of racing it with small requests of
 * their own; false at once when none does (no slot, not a regular file, an empty range,
 * or the file could not be opened again). */
bool sm_prefetch_note(sm_prefetch *pf, int fd, uint64_t start, uint64_t end);

/* Waits until no stream has bytes left to read, at most ms milliseconds; true when idle.
 * For tests. */
bool sm_prefetch_wait_idle(sm_prefetch *pf, unsigned ms);

void sm_prefetch_get_stats(sm_prefetch *pf, sm_prefetch_stats *out);

#endif
