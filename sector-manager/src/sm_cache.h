/* sm_cache.h — the block caches in front of the stores, keyed by a block's multihash:
 *
 *   L1  memory, bounded by bytes (data + a fixed per-entry overhead), least recently used
 *       evicted first.  get() hands out a copy, so an entry evicted meanwhile is harmless.
 *   L2  a directory of files <dir>/<hh>/<hex of the multihash> (names are hex only: no
 *       request string ever becomes a path), bounded by bytes with two watermarks: a put
 *       that would pass the bound is skipped; the owner calls sm_l2_evict() when
 *       sm_l2_needs_eviction() says the high watermark was passed, which removes least
 *       recently used files until the low watermark.  The index lives in memory and is
 *       rebuilt from the directory at open (oldest modification first); files are written
 *       to a temporary name and renamed, never fsynced (a cache may lose entries in a
 *       crash; the reader checks every block's hash anyway).
 *
 * Both are thread-safe (one mutex each; disk I/O of L2 happens outside it) and count
 * hits, misses, insertions and evictions.  Neither checks hashes: the retrieval path
 * verifies what it reads and calls sm_l2_remove() on a file that does not match.
 */
#ifndef SM_CACHE_H
#define SM_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sp_err.h"

#define SM_CACHE_KEY_MAX 96
#define SM_CACHE_ENTRY_OVERHEAD 128 /* bytes counted per entry besides its data */

typedef struct sm_cache_stats {
    uint64_t hits, misses, inserts, evictions, skipped;
    uint64_t bytes, entries, max_bytes;
} sm_cache_stats;

/* ---- the LRU index both caches use (exposed for tests) ---- */

typedef struct sm_lru_entry {
    struct sm_lru_entry *hnext;        /* hash chain */
    struct sm_lru_entry *newer, *older;
    uint64_t hash;
    uint64_t cost;                     /* bytes counted against the bound */
    size_t klen;
    uint8_t key[SM_CACHE_KEY_MAX];
    uint8_t *data;                     /* L1: the block; L2: NULL */
    size_t len;
} sm_lru_entry;

typedef struct sm_lru {
    sm_lru_entry **tab;
    size_t tab_cap, n;
    sm_lru_entry *newest, *oldest;
    uint64_t cost;
} sm_lru;

uint64_t sm_lru_hash(const uint8_t *key, size_t klen);
sm_lru_entry *sm_lru_find(sm_lru *l, const uint8_t *key, size_t klen);
/* Links a new entry as the newest (the key must not be there); false when out of memory. */
bool sm_lru_add(sm_lru *l, sm_lru_entry *e);
void sm_lru_touch(sm_lru *l, sm_lru_entry *e);
/* Unlinks (does not free) the entry. */
void sm_lru_unlink(sm_lru *l, sm_lru_entry *e);
void sm_lru_free_all(sm_lru *l);

/* ---- L1 ---- */

typedef struct sm_l1 sm_l1;

/* max_bytes 0 makes a cache that stores nothing (every get misses). */
sp_code sm_l1_new(uint64_t max_bytes, sm_l1 **out, sp_err *err);
void sm_l1_free(sm_l1 *c);
/* true and a malloc'd copy in *data on a hit. */
bool sm_l1_get(sm_l1 *c, const uint8_t *key, size_t klen, uint8_t **data, size_t *len);
/* Copies the block in, evicting the least recently used entries to make room; a block
 * larger than an eighth of the bound is not cached.  Replaces an existing entry. */
void sm_l1_put(sm_l1 *c, const uint8_t *key, size_t klen, const void *data, size_t len);
void sm_l1_remove(sm_l1 *c, const uint8_t *key, size_t klen);
void sm_l1_stats(sm_l1 *c, sm_cache_stats *out);
/* Keys from the oldest to the newest (tests): up to max, returns how many. */
size_t sm_l1_keys(sm_l1 *c, uint8_t (*keys)[SM_CACHE_KEY_MAX], size_t *klens, size_t max);

/* ---- L2 ---- */

typedef struct sm_l2 sm_l2;

/* Opens (creating) the directory and indexes what it holds.  high_pct/low_pct are
 * percentages of max_bytes (low < high <= 100).  max_bytes 0: a cache that stores
 * nothing. */
sp_code sm_l2_open(const char *dir, uint64_t max_bytes, unsigned high_pct, unsigned low_pct,
                   sm_l2 **out, sp_err *err);
void sm_l2_close(sm_l2 *c);
/* *hit false on a miss (not an error); on a hit *data is malloc'd.  A file that vanished
 * counts as a miss and leaves the index. */
sp_code sm_l2_get(sm_l2 *c, const uint8_t *key, size_t klen, uint8_t **data, size_t *len,
                  bool *hit, sp_err *err);
/* Writes the block (temporary name, rename).  Skipped (SP_OK, counted) when it would pass
 * the bound; a failed write is an error the caller may log and ignore. */
sp_code sm_l2_put(sm_l2 *c, const uint8_t *key, size_t klen, const void *data, size_t len,
                  sp_err *err);
/* Drops a file (it failed its hash check). */
void sm_l2_remove(sm_l2 *c, const uint8_t *key, size_t klen);
bool sm_l2_needs_eviction(sm_l2 *c);
/* Removes least recently used files until the low watermark; returns how many. */
size_t sm_l2_evict(sm_l2 *c);
void sm_l2_stats(sm_l2 *c, sm_cache_stats *out);
const char *sm_l2_dir(const sm_l2 *c);

#endif
