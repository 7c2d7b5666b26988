/* sdr_mem.c — SDR layer buffers: anonymous mappings (zero-filled, returned to the kernel
 * on free), backed by explicit 2 MiB HugeTLB pages when asked and available, otherwise
 * advised for transparent hugepages — labeling reads parents at random across a layer, so
 * TLB reach matters — and faulted in before use, so that the hashing thread never stops
 * for a page fault (thousands per layer with 4 KiB pages, each costly in a VM). */
#include "label.h"

#include <stdint.h>
#include <sys/mman.h>

#define HUGE_2M ((size_t)2 << 20)

static size_t round_up(size_t n, size_t to)
{
    return (n + to - 1) / to * to;
}

/* Writes every page once (the kernel zero-fills it), in the page size now backing it. */
static void prefault(void *p, size_t bytes)
{
#ifdef MADV_POPULATE_WRITE
    if (madvise(p, bytes, MADV_POPULATE_WRITE) == 0)
        return;
#endif
    volatile uint8_t *b = p;
    for (size_t i = 0; i < bytes; i += 4096)
        b[i] = 0;
}

void *pf_sdr_alloc(size_t bytes, int hugepages, int *huge)
{
    *huge = 0;
    if (bytes == 0)
        return NULL;
    void *p;
    if (hugepages > 0) {
        p = mmap(NULL, round_up(bytes, HUGE_2M), PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
        if (p != MAP_FAILED) {
            *huge = 2;
            prefault(p, round_up(bytes, HUGE_2M));
            return p;
        }
    }
    p = mmap(NULL, round_up(bytes, HUGE_2M), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
             -1, 0);
    if (p == MAP_FAILED)
        return NULL;
    if (hugepages >= 0 && madvise(p, round_up(bytes, HUGE_2M), MADV_HUGEPAGE) == 0)
        *huge = 1;
    prefault(p, round_up(bytes, HUGE_2M));
    return p;
}

void pf_sdr_free(void *p, size_t bytes)
{
    if (p)
        munmap(p, round_up(bytes, HUGE_2M));
}
