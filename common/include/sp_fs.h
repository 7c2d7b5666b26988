/* sp_fs.h — small file-system helpers with crash-safe writes.
 *
 * sp_write_file_atomic() writes a temporary file in the same directory, fsyncs it,
 * renames it over the target and fsyncs the directory: after a crash the target holds
 * either the old or the new content, never a mix.
 */
#ifndef SP_FS_H
#define SP_FS_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "sp_err.h"

sp_code sp_mkdir_p(const char *path, mode_t mode, sp_err *err);
/* Reads a whole file (at most max bytes, else SP_EINVAL); adds a NUL after the data. */
sp_code sp_read_file(const char *path, size_t max, char **out, size_t *out_len, sp_err *err);
sp_code sp_write_file_atomic(const char *path, const void *data, size_t len, mode_t mode,
                             sp_err *err);
sp_code sp_fsync_dir(const char *dir, sp_err *err);
/* Removes a file or a whole directory tree; a missing path is not an error. */
sp_code sp_remove_tree(const char *path, sp_err *err);
int sp_path_exists(const char *path);
int sp_is_dir(const char *path);
/* Size of a regular file, or -1. */
int64_t sp_file_size(const char *path);
/* snprintf-style join "a/b"; returns 0 or -1 when truncated. */
int sp_path_join(char *out, size_t len, const char *a, const char *b);
/* Copies src to dst (tmp + fsync + rename), returns the bytes copied in *copied. */
sp_code sp_copy_file(const char *src, const char *dst, uint64_t *copied, sp_err *err);

/* Monotonic and wall clocks in milliseconds; sleep that resumes after signals. */
uint64_t sp_now_ms(void);
uint64_t sp_wall_ms(void);
void sp_sleep_ms(uint64_t ms);
/* Waits on cv (created with a CLOCK_MONOTONIC condattr, so a wall-clock jump changes
 * nothing) for at most ms milliseconds; mu is held on entry and on return. */
void sp_cond_wait_ms(pthread_cond_t *cv, pthread_mutex_t *mu, uint64_t ms);

#endif
