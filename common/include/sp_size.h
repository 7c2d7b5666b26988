/* sp_size.h — sizes ("2KiB", "32GiB", "4096") and durations ("30s", "5min", "1h30m").
 *
 * Sizes: a non-negative integer, optional spaces, and an optional unit, case-insensitive:
 *   B, KiB, MiB, GiB, TiB, PiB (powers of 1024) or KB, MB, GB, TB, PB (powers of 1000),
 *   K/M/G/T/P alone mean the binary units.  Anything else, a sign, or a value that does
 *   not fit in 64 bits is an error with a message naming the input.
 * Durations: one or more <integer><unit> terms, units ms, s, m or min, h, d; "0" alone is
 *   allowed.  Results are milliseconds.
 */
#ifndef SP_SIZE_H
#define SP_SIZE_H

#include <stddef.h>
#include <stdint.h>

#include "sp_err.h"

sp_code sp_parse_size(const char *s, uint64_t *out, sp_err *err);
sp_code sp_parse_duration_ms(const char *s, uint64_t *out_ms, sp_err *err);

/* Exact form: the largest binary unit that divides the value ("32GiB", "2KiB",
 * "1000B" stays "1000"). Returns buf. */
char *sp_format_size(uint64_t bytes, char *buf, size_t len);
/* Rounded human form with one decimal ("1.5 GiB", "512 B"). Returns buf. */
char *sp_format_size_human(uint64_t bytes, char *buf, size_t len);
/* "1h30m", "45s", "250ms", "0s". Returns buf. */
char *sp_format_duration(uint64_t ms, char *buf, size_t len);

#endif
