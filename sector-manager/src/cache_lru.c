/* cache_lru.c — the least-recently-used index shared by the L1 and L2 block caches: a
 * chained hash table over a doubly linked recency list (contract in sm_cache.h). */
#include <stdlib.h>
#include <string.h>

#include "sm_cache.h"

uint64_t sm_lru_hash(const uint8_t *key, size_t klen)
{
    /* FNV-1a: keys are multihashes, already uniformly distributed in their digest. */
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < klen; i++) {
        h ^= key[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

sm_lru_entry *sm_lru_find(sm_lru *l, const uint8_t *key, size_t klen)
{
    if (!l->tab_cap)
        return NULL;
    uint64_t h = sm_lru_hash(key, klen);
    for (sm_lru_entry *e = l->tab[h & (l->tab_cap - 1)]; e; e = e->hnext)
        if (e->hash == h && e->klen == klen && memcmp(e->key, key, klen) == 0)
            return e;
    return NULL;
}

static bool grow(sm_lru *l)
{
    size_t cap = l->tab_cap ? l->tab_cap * 2 : 256;
    sm_lru_entry **t = calloc(cap, sizeof *t);
    if (!t)
        return false;
    for (size_t i = 0; i < l->tab_cap; i++) {
        sm_lru_entry *e = l->tab[i];
        while (e) {
            sm_lru_entry *next = e->hnext;
            size_t j = e->hash & (cap - 1);
            e->hnext = t[j];
            t[j] = e;
            e = next;
        }
    }
    free(l->tab);
    l->tab = t;
    l->tab_cap = cap;
    return true;
}

bool sm_lru_add(sm_lru *l, sm_lru_entry *e)
{
    if ((l->n + 1) > l->tab_cap && !grow(l))
        return false;
    e->hash = sm_lru_hash(e->key, e->klen);
    size_t j = e->hash & (l->tab_cap - 1);
    e->hnext = l->tab[j];
    l->tab[j] = e;
    e->older = l->newest;
    e->newer = NULL;
    if (l->newest)
        l->newest->newer = e;
    l->newest = e;
    if (!l->oldest)
        l->oldest = e;
    l->n++;
    l->cost += e->cost;
    return true;
}

static void list_unlink(sm_lru *l, sm_lru_entry *e)
{
    if (e->newer)
        e->newer->older = e->older;
    else
        l->newest = e->older;
    if (e->older)
        e->older->newer = e->newer;
    else
        l->oldest = e->newer;
    e->newer = e->older = NULL;
}

void sm_lru_touch(sm_lru *l, sm_lru_entry *e)
{
    if (l->newest == e)
        return;
    list_unlink(l, e);
    e->older = l->newest;
    if (l->newest)
        l->newest->newer = e;
    l->newest = e;
    if (!l->oldest)
        l->oldest = e;
}

void sm_lru_unlink(sm_lru *l, sm_lru_entry *e)
{
    sm_lru_entry **pp = &l->tab[e->hash & (l->tab_cap - 1)];
    while (*pp && *pp != e)
        pp = &(*pp)->hnext;
    if (*pp)
        *pp = e->hnext;
    list_unlink(l, e);
    l->n--;
    l->cost -= e->cost;
}

void sm_lru_free_all(sm_lru *l)
{
    sm_lru_entry *e = l->oldest;
    while (e) {
        sm_lru_entry *next = e->newer;
        free(e->data);
        free(e);
        e = next;
    }
    free(l->tab);
    memset(l, 0, sizeof *l);
}
