/* wk_finalize.h — moving a sealed sector out of its sealing location: copy the sealed file
 * and the proving cache to the persist store the manager reserved, verify the copy, and
 * later clear the location.
 *
 * Store layout (lotus' and the manager's): <store>/sealed/s-t0M-N and
 * <store>/cache/s-t0M-N/{p_aux, t_aux, sc-02-data-tree-r-last[-K].dat}.  Each file is
 * copied to "<name>.tmp" while its SHA-256 is computed, fsynced, read back and hashed
 * again, and renamed only when size and hash match; then the directory is fsynced.  A
 * copy interrupted at any point (crash, kill -9, full disk) leaves at most a .tmp file and
 * can simply be run again; a failed copy removes its .tmp file.
 */
#ifndef WK_FINALIZE_H
#define WK_FINALIZE_H

#include <stdint.h>

#include "sp_err.h"

typedef struct wk_persist_result {
    int files;
    uint64_t bytes;
} wk_persist_result;

/* Stores are never created by the worker.  Before anything is written, the store's root
 * must be a directory holding the sectorstore.json that names it (lotus' file, which the
 * manager writes when it declares the store): an empty mount point, a removed directory
 * or another store's disk is refused.  The root is checked again before and after every
 * file: a store unmounted, removed or replaced during the copy stops it, so nothing is
 * ever written outside the store.  Those refusals are SP_EIO (worth a retry once the store
 * is back) with a message naming the store and its path. */

/* Copies `sealed` and the proving files of `cache_dir` into store `store` (its manager
 * name, for the sectorstore.json check) mounted at store_root, for sector file name
 * `name`.  A missing p_aux or tree-r-last file is SP_ENOTFOUND (the sector's PC2 output is
 * gone).  cancel (may be NULL) stops between chunks. */
sp_code wk_persist_copy(const char *sealed, const char *cache_dir, const char *store,
                        const char *store_root, const char *name, const volatile int *cancel,
                        wk_persist_result *res, sp_err *err);

/* Copies src to <store_root>/<rel> the same way (directories below the root are made as
 * needed, the root never; the checks above). */
sp_code wk_copy_into_store(const char *src, const char *store, const char *store_root,
                           const char *rel, const volatile int *cancel, uint64_t *bytes,
                           sp_err *err);

/* Copies one file as above (tmp, hash, fsync, read back, compare, rename) into an
 * existing directory (it makes none, so a vanished store is never re-created). */
sp_code wk_copy_verified(const char *src, const char *dst, const volatile int *cancel,
                         uint64_t *bytes, sp_err *err);

#endif
