/* sp_config.h — libconfig files with `inherit`, strict schema checks, typed getters.
 *
 * Every config file of sealpipe (worker.cfg, manager.cfg, config/hw/<class>.cfg) goes
 * through this module, so every mistake is reported the same way:
 *
 *     FILE:LINE: key.path: what is wrong and what to do
 *     worker.cfg:12: processors.pc1[0].cores: expected an integer, got a string "8"
 *     worker.cfg:3: syntax error: syntax error            (libconfig's own text last)
 *
 * Usage (the worker reads its config like this):
 *
 *     static const char *const backends[] = { "native", "filcrypto", NULL };
 *     static const sp_cfg_field entry[] = {
 *         { .name = "cores", .type = SP_CFG_INT, .min = 1, .max = 4096,
 *           .doc = "whole physical cores to take" },
 *         { .name = "backend", .type = SP_CFG_ENUM, .values = backends, .def = "native",
 *           .doc = "proof implementation" },
 *         { .name = "envs", .type = SP_CFG_MAP,
 *           .children = &(const sp_cfg_field){ .type = SP_CFG_STRING },
 *           .doc = "extra environment of the child" },
 *         { 0 } };
 *     static const sp_cfg_field procs[] = {
 *         { .name = "pc1", .type = SP_CFG_GROUP_LIST, .children = entry, .doc = "PC1" },
 *         { 0 } };
 *     static const sp_cfg_field schema[] = {
 *         { .name = "processors", .type = SP_CFG_GROUP, .flags = SP_CFG_REQUIRED,
 *           .children = procs, .doc = "processor children per stage" },
 *         { 0 } };
 *
 *     sp_config *cfg = NULL;
 *     char *all = NULL;                       // every schema error, for check-config
 *     sp_code rc = sp_config_load(path, &cfg, err);
 *     if (!rc)
 *         rc = sp_config_check(cfg, schema, &all, err);
 *     if (rc)
 *         goto fail;                          // err->msg: "worker.cfg:12: ..."
 *     const config_setting_t *pc1 = sp_config_lookup(sp_config_root(cfg), "processors.pc1");
 *     for (int i = 0; pc1 && i < config_setting_length(pc1); i++) {
 *         const config_setting_t *e = config_setting_get_elem(pc1, (unsigned)i);
 *         int64_t cores;
 *         if ((rc = sp_config_get_int(e, "cores", 0, &cores, err)))
 *             goto fail;
 *         if (cores > numa_cores) {           // a semantic error, same format
 *             rc = sp_config_fail_at(err, sp_config_lookup(e, "cores"),
 *                                    "%" PRId64 " cores requested but ...", cores);
 *             goto fail;
 *         }
 *     }
 *   fail:
 *     free(all);
 *     sp_config_free(cfg);                    // NULL is fine
 *
 * Inheritance: a top-level `inherit = "path.cfg";` names a parent file, resolved relative
 * to the directory of the file that names it (absolute paths are used as they are).  The
 * parent is loaded first and the child merges over it: groups merge key by key,
 * recursively; lists `( ... )`, arrays `[ ... ]` and scalars replace the parent's value
 * whole (a replaced key keeps its place in the group).  A chain holds at most
 * SP_CONFIG_MAX_DEPTH files, the child included.  A cycle, a missing parent, a parent that
 * is not a regular file or has a syntax error is an error at the child's `inherit` line
 * that shows the chain ("hw/a.cfg -> worker.cfg").  `inherit` is not in the merged result.
 * Every merged setting keeps the file and line it was written at (setting->file,
 * setting->line; the strings live as long as the sp_config).
 *
 * libconfig's own `@include "file"` still works (relative to the current directory, as
 * libconfig does it, and without the wide-integer check below); prefer `inherit`, which
 * has the rules above.
 *
 * Integers: libconfig 1.5 silently wraps a decimal literal beyond 32 bits unless it has
 * the L suffix (5000000000 would read as 705032704), so the loader refuses such literals
 * with "FILE:LINE: syntax error: integer 5000000000 does not fit in 32 bits; write
 * 5000000000L ...".  Sizes are better written as strings ("32GiB").
 *
 * Strictness: every function here returns SP_OK or an error code with a message; nothing
 * aborts on bad input.  Load errors are SP_ENOTFOUND/SP_EIO/SP_EAUTH (the top file cannot
 * be read), SP_EINVAL (not a regular file, over 16 MiB), SP_EPARSE (syntax, wide integer
 * literal, NUL byte) or SP_ECONFIG (inherit problems, including a broken parent); schema
 * and getter errors are SP_ECONFIG.  Test programs that feed syntax errors to the loader
 * under LeakSanitizer need "leak:strbuf_append" suppressed (libconfig 1.5 leaks the
 * string token a syntax error stops at; see tests/unit/test_config.c).
 */
#ifndef SP_CONFIG_H
#define SP_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <libconfig.h>

#include "sp_err.h"

/* Files in one inheritance chain, the child included. */
#define SP_CONFIG_MAX_DEPTH 8
/* sp_config_check() collects at most this many messages. */
#define SP_CONFIG_MAX_ERRORS 20

typedef struct sp_config sp_config;

/* Loads `path` and its inherit chain into a new *out (free with sp_config_free).
 * On error *out stays NULL. */
sp_code sp_config_load(const char *path, sp_config **out, sp_err *err);

/* Same for text in memory, reported as file `name` (e.g. "worker.cfg").  The text
 * behaves as if it were the content of a file at `name`: an `inherit` in it is resolved
 * relative to the directory part of `name` (the current directory when `name` has no
 * '/'), and its parents are read from disk. */
sp_code sp_config_load_string(const char *text, const char *name, sp_config **out,
                              sp_err *err);

void sp_config_free(sp_config *cfg);

/* The merged top-level group. Never NULL for a loaded config. */
const config_setting_t *sp_config_root(const sp_config *cfg);
/* The file that was loaded, as given, and the chain "child.cfg -> parent.cfg -> ..."
 * (for logs). */
const char *sp_config_path(const sp_config *cfg);
const char *sp_config_chain(const sp_config *cfg);

/* --- where a setting is and how errors are reported ------------------------------- */

/* The key path of s: "processors.pc1[0].cores"; "" for the root.  Always
 * NUL-terminated (truncated when len is too small).  Returns buf. */
char *sp_config_key_path(const config_setting_t *s, char *buf, size_t len);

/* What a setting holds, for "got ..." in messages: `a string "8"`, `an integer 8`,
 * `a float 1.5`, `a boolean true`, `a group`, `a list`, `an array`.  Returns buf. */
char *sp_config_describe(const config_setting_t *s, char *buf, size_t len);

/* A string value for messages: quoted, with \", \\, \n, \t and \xNN escapes, cut after
 * 60 characters with "...".  Returns buf. */
char *sp_config_quote(const char *value, char *buf, size_t len);

/* Fills err with "FILE:LINE: key.path: <message>" for setting s and returns SP_ECONFIG.
 * The root group has no line: "FILE: <message>".  s == NULL gives the message alone.
 * Control characters in the message become spaces: a message is always one line. */
sp_code sp_config_fail_at(sp_err *err, const config_setting_t *s, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
sp_code sp_config_vfail_at(sp_err *err, const config_setting_t *s, const char *fmt,
                           va_list ap) __attribute__((format(printf, 3, 0)));

/* The setting at `path` below base: names separated by '.', list and array elements as
 * "[N]" ("processors.pc1[0].cores"); "" is base itself.  NULL when base is NULL, a part
 * is missing or the path is malformed. */
const config_setting_t *sp_config_lookup(const config_setting_t *base, const char *path);

/* --- schema ----------------------------------------------------------------------- */

typedef enum sp_cfg_type {
    SP_CFG_INT,          /* integer in int64 range; min/max apply */
    SP_CFG_BOOL,         /* true / false */
    SP_CFG_FLOAT,        /* float; an integer is accepted too */
    SP_CFG_STRING,       /* any string */
    SP_CFG_ENUM,         /* a string among .values */
    SP_CFG_SIZE,         /* "32GiB" (sp_parse_size) or a non-negative integer of bytes;
                            min/max apply to the bytes */
    SP_CFG_DURATION,     /* "30s", "5min" (sp_parse_duration_ms); min/max apply to ms */
    SP_CFG_GROUP,        /* { ... } with the keys in .children */
    SP_CFG_GROUP_LIST,   /* ( { ... }, { ... } ): every element has the keys in .children */
    SP_CFG_INT_ARRAY,    /* [ 1, 2 ] or ( 1, 2 ); min/max apply to each element */
    SP_CFG_STRING_ARRAY, /* [ "a", "b" ] or ( "a", "b" ); .values, when set, limit them */
    SP_CFG_MAP,          /* { any_name = value; ... }: free keys, every value described by
                            the single field *children (its name is ignored) */
} sp_cfg_type;

#define SP_CFG_REQUIRED 0x1u

typedef struct sp_cfg_field {
    const char *name;                     /* NULL ends a table */
    sp_cfg_type type;
    unsigned flags;                       /* SP_CFG_REQUIRED */
    const struct sp_cfg_field *children;  /* GROUP, GROUP_LIST: table; MAP: one field */
    const char *const *values;            /* ENUM, STRING_ARRAY: NULL-terminated */
    int64_t min, max;                     /* inclusive; checked when either is non-zero
                                             (INT64_MAX: no upper bound) */
    const char *def;                      /* default, as text, for the documentation */
    const char *doc;                      /* one line */
} sp_cfg_field;

/* Checks the whole config against `schema` (the top-level keys): unknown keys (with a
 * "did you mean" hint), wrong types, missing required keys, enum values, ranges, sizes
 * and durations.  Returns SP_OK, or SP_ECONFIG with the first problem in err.  When
 * `all` is non-NULL it receives NULL on success, else a malloc'd text with every problem
 * found (at most SP_CONFIG_MAX_ERRORS, then "... and N more problems"), one per line
 * without a final newline, in the order of the merged config; the caller frees it. */
sp_code sp_config_check(const sp_config *cfg, const sp_cfg_field *schema, char **all,
                        sp_err *err);

/* Writes the schema as a commented libconfig template: every key with its doc, type,
 * default and limits, leaf keys commented out.  Returns SP_OK or SP_EIO. */
sp_code sp_config_render_doc(const sp_cfg_field *schema, FILE *out, sp_err *err);

/* Calls fn for every field of the schema, depth first, with its key path
 * ("processors.pc1[].cores": "[]" marks a list of groups, "*" a map's values). */
void sp_config_schema_walk(const sp_cfg_field *schema,
                           void (*fn)(const char *path, const sp_cfg_field *f, void *arg),
                           void *arg);

/* --- typed getters ---------------------------------------------------------------- */
/* Each reads the setting at `path` below `base` (see sp_config_lookup; "" reads base
 * itself, handy inside a list).  When base is
 * NULL or the key is absent, *out = def and SP_OK.  A value of the wrong type or one that
 * does not parse is SP_ECONFIG in the usual "FILE:LINE: key.path: ..." form, *out
 * untouched.  Strings point into the config and live as long as it. */
sp_code sp_config_get_int(const config_setting_t *base, const char *path, int64_t def,
                          int64_t *out, sp_err *err);
sp_code sp_config_get_bool(const config_setting_t *base, const char *path, bool def,
                           bool *out, sp_err *err);
sp_code sp_config_get_float(const config_setting_t *base, const char *path, double def,
                            double *out, sp_err *err);
sp_code sp_config_get_string(const config_setting_t *base, const char *path,
                             const char *def, const char **out, sp_err *err);
/* Bytes from "32GiB" or an integer. */
sp_code sp_config_get_size(const config_setting_t *base, const char *path, uint64_t def,
                           uint64_t *out, sp_err *err);
/* Milliseconds from "30s". */
sp_code sp_config_get_duration_ms(const config_setting_t *base, const char *path,
                                  uint64_t def, uint64_t *out, sp_err *err);
/* Index of the string value in the NULL-terminated `values`. */
sp_code sp_config_get_enum(const config_setting_t *base, const char *path,
                           const char *const *values, int def, int *out, sp_err *err);

#endif
