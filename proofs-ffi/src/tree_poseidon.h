/* tree_poseidon.h — internals shared by the Poseidon tree code (tree_poseidon.c) and PC2
 * (pc2.c): error reporting, whole-buffer file I/O, and the row geometry of base trees and
 * their level-cache files.  The public contract is sealproofs/pc2.h. */
#ifndef PF_TREE_POSEIDON_H
#define PF_TREE_POSEIDON_H

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>

#include "sealproofs.h"

/* Fills err (when non-NULL) and returns status. */
__attribute__((format(printf, 3, 4)))
static inline pf_status pf_tree_fail(pf_error *err, pf_status status, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        err->status = status;
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
    }
    return status;
}

static inline void pf_tree_ok(pf_error *err)
{
    if (err) {
        err->status = PF_OK;
        err->msg[0] = 0;
    }
}

/* Reads up to len bytes at off; returns the bytes read (short only at end of file), or -1
 * with errno set. */
long long pf_tree_pread(int fd, void *buf, size_t len, uint64_t off);
/* Writes exactly len bytes at off; 0 or -1 with errno set. */
int pf_tree_pwrite(int fd, const void *buf, size_t len, uint64_t off);
/* The pf_status an errno from I/O maps to (ENOSPC/EDQUOT -> PF_ENOSPC, else PF_EIO). */
pf_status pf_tree_io_status(int errnum);

/* Row geometry of one base tree (rows 0 = leaves .. base_rows-1 = root). */
uint64_t pf_tree_row_nodes(const pf_tree_shape *s, int row);
/* Node offset of a row in a tree-c file (every row stored). */
uint64_t pf_tree_row_offset(const pf_tree_shape *s, int row);
/* First row a tree-r-last (LC) file stores, and a stored row's node offset in it. */
int pf_tree_lc_first_row(const pf_tree_shape *s);
uint64_t pf_tree_lc_row_offset(const pf_tree_shape *s, int row);

/* Root of the whole tree from the base roots (base_count * 32 bytes): through the sub and
 * top levels of the shape. */
pf_status pf_tree_combine_roots(const pf_tree_shape *s, const uint8_t *base_roots,
                                uint8_t root[32], pf_error *err);

/* The "what to do" part of messages about files written by PC2. */
#define PF_TREE_RERUN_HINT "re-run PC2 to rebuild the trees"

#endif
