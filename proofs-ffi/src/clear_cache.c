/* clear_cache.c — filecoin-ffi clear_cache (rust-fil-proofs stacked/vanilla
 * clear_files.rs clear_cache_dir): after C1 only PoSt's files are needed, so tree_d, the
 * tree_c files and the layer labels go; tree_r_last, p_aux, t_aux and anything unknown
 * stay.  sealpipe's PC1 resume marker and the PC1/PC2 locks go with the files they guard. */
#include "commit_internal.h"

#include <dirent.h>
#include <errno.h>
#include <unistd.h>

/* rust removes "sc-02-data-tree-d.dat" and the globs "sc-02-data-tree-c*" and
 * "sc-02-data-layer*"; leftovers of interrupted writers carry those prefixes too. */
static int removable(const char *name)
{
    static const char *const prefixes[] = { "sc-02-data-tree-c", "sc-02-data-layer",
                                            "sc-02-data-tree-d.dat" };
    for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++)
        if (strncmp(name, prefixes[i], strlen(prefixes[i])) == 0)
            return 1;
    static const char *const sealpipe[] = { "sealpipe-pc1.marker", "sealpipe-pc1.lock",
                                            "sealpipe-pc2.lock" };
    for (size_t i = 0; i < sizeof sealpipe / sizeof sealpipe[0]; i++)
        if (strcmp(name, sealpipe[i]) == 0)
            return 1;
    return 0;
}

pf_status pf_clear_cache(const char *cache_dir, int *removed, pf_error *err)
{
    if (removed)
        *removed = 0;
    if (!cache_dir || !*cache_dir)
        return pf_cm_fail(err, PF_EINVAL, "clear_cache: the cache directory is required");
    DIR *d = opendir(cache_dir);
    if (!d)
        return pf_cm_fail(err, PF_EIO, "clear_cache: %s: %s", cache_dir, strerror(errno));
    pf_status st = PF_OK;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!removable(e->d_name))
            continue;
        if (unlinkat(dirfd(d), e->d_name, 0) && errno != ENOENT) {
            st = pf_cm_fail(err, PF_EIO, "clear_cache: cannot remove %s/%s: %s", cache_dir,
                            e->d_name, strerror(errno));
            break;
        }
        if (removed)
            (*removed)++;
    }
    closedir(d);
    if (!st)
        pf_cm_ok(err);
    return st;
}
