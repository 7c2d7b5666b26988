/* sdr_mem.c — SDR layer buffers: anonymous mappings (zero-filled, returned to the kernel
 * on free), backed by explicit 2 MiB HugeTLB pages when asked and available, otherwise
 * advised for transparent hugepages — labeling reads parents at random across a layer, so
 * TLB reach matters. */
#include "label.h"

#include <sys/mman.h>

#define HUGE_2M ((size_t)2 << 20)

static size_t round_up(size_t n, size_t to)
{
    return (n + to - 1) / to * to;
}

void *pf_sdr_alloc(size_t bytes, int hugepages, int *huge)
{
    *huge = 0;
    if (bytes == 0)
        return NULL;
    void *p;
    if (hugepages) {
        p = mmap(NULL, round_up(bytes, HUGE_2M), PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
        if (p != MAP_FAILED) {
            *huge = 2;
            return p;
        }
    }
    p = mmap(NULL, round_up(bytes, HUGE_2M), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
             -1, 0);
    if (p == MAP_FAILED)
        return NULL;
    if (hugepages && madvise(p, round_up(bytes, HUGE_2M), MADV_HUGEPAGE) == 0)
        *huge = 1;
    return p;
}

void pf_sdr_free(void *p, size_t bytes)
{
    if (p)
        munmap(p, round_up(bytes, HUGE_2M));
}
