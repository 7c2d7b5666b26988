/* cache_l1.c — the L1 block cache: blocks in memory, bounded by bytes, least recently
 * used evicted first (contract in sm_cache.h). */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "sm_cache.h"

struct sm_l1 {
    pthread_mutex_t mu;
    sm_lru lru;
    uint64_t max;
    uint64_t hits, misses, inserts, evictions, skipped;
};

sp_code sm_l1_new(uint64_t max_bytes, sm_l1 **out, sp_err *err)
{
    sm_l1 *c = calloc(1, sizeof *c);
    if (!c)
        return sp_fail(err, SP_ENOMEM, "L1 cache: out of memory");
    pthread_mutex_init(&c->mu, NULL);
    c->max = max_bytes;
    *out = c;
    return SP_OK;
}

void sm_l1_free(sm_l1 *c)
{
    if (!c)
        return;
    sm_lru_free_all(&c->lru);
    pthread_mutex_destroy(&c->mu);
    free(c);
}

bool sm_l1_get(sm_l1 *c, const uint8_t *key, size_t klen, uint8_t **data, size_t *len)
{
    *data = NULL;
    *len = 0;
    if (klen > SM_CACHE_KEY_MAX)
        return false;
    pthread_mutex_lock(&c->mu);
    sm_lru_entry *e = sm_lru_find(&c->lru, key, klen);
    uint8_t *copy = NULL;
    if (e) {
        copy = malloc(e->len ? e->len : 1);
        if (copy) {
            memcpy(copy, e->data, e->len);
            *len = e->len;
            sm_lru_touch(&c->lru, e);
        }
    }
    if (copy)
        c->hits++;
    else
        c->misses++;
    pthread_mutex_unlock(&c->mu);
    *data = copy;
    return copy != NULL;
}

static void drop(sm_l1 *c, sm_lru_entry *e)
{
    sm_lru_unlink(&c->lru, e);
    free(e->data);
    free(e);
}

void sm_l1_put(sm_l1 *c, const uint8_t *key, size_t klen, const void *data, size_t len)
{
    uint64_t cost = (uint64_t)len + SM_CACHE_ENTRY_OVERHEAD;
    if (klen == 0 || klen > SM_CACHE_KEY_MAX || cost > c->max / 8) {
        pthread_mutex_lock(&c->mu);
        c->skipped++;
        pthread_mutex_unlock(&c->mu);
        return;
    }
    /* Copy before taking the lock: the copy is the slow part. */
    sm_lru_entry *e = calloc(1, sizeof *e);
    uint8_t *d = malloc(len ? len : 1);
    if (!e || !d) {
        free(e);
        free(d);
        return;
    }
    memcpy(d, data, len);
    memcpy(e->key, key, klen);
    e->klen = klen;
    e->data = d;
    e->len = len;
    e->cost = cost;
    pthread_mutex_lock(&c->mu);
    sm_lru_entry *old = sm_lru_find(&c->lru, key, klen);
    if (old)
        drop(c, old);
    while (c->lru.oldest && c->lru.cost + cost > c->max) {
        drop(c, c->lru.oldest);
        c->evictions++;
    }
    if (sm_lru_add(&c->lru, e)) {
        c->inserts++;
        e = NULL;
    }
    pthread_mutex_unlock(&c->mu);
    if (e) {
        free(e->data);
        free(e);
    }
}

void sm_l1_remove(sm_l1 *c, const uint8_t *key, size_t klen)
{
    pthread_mutex_lock(&c->mu);
    sm_lru_entry *e = klen <= SM_CACHE_KEY_MAX ? sm_lru_find(&c->lru, key, klen) : NULL;
    if (e)
        drop(c, e);
    pthread_mutex_unlock(&c->mu);
}

void sm_l1_stats(sm_l1 *c, sm_cache_stats *out)
{
    pthread_mutex_lock(&c->mu);
    out->hits = c->hits;
    out->misses = c->misses;
    out->inserts = c->inserts;
    out->evictions = c->evictions;
    out->skipped = c->skipped;
    out->bytes = c->lru.cost;
    out->entries = c->lru.n;
    out->max_bytes = c->max;
    pthread_mutex_unlock(&c->mu);
}

size_t sm_l1_keys(sm_l1 *c, uint8_t (*keys)[SM_CACHE_KEY_MAX], size_t *klens, size_t max)
{
    size_t n = 0;
    pthread_mutex_lock(&c->mu);
    for (sm_lru_entry *e = c->lru.oldest; e && n < max; e = e->newer) {
        memcpy(keys[n], e->key, e->klen);
        klens[n++] = e->klen;
    }
    pthread_mutex_unlock(&c->mu);
    return n;
}
