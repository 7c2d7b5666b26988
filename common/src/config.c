/* config.c — loading libconfig files with `inherit`, merging the chain, and saying
 * where a setting came from (key paths, "FILE:LINE: key: ..." errors, lookups).
 *
 * The chain is read child first (each file names its parent), then merged from the
 * oldest ancestor down into one fresh config_t owned by the sp_config.  libconfig keeps
 * file names in the config_t that parsed them, so every setting's `file` is re-pointed to
 * a copy interned in the sp_config before that config_t is destroyed.
 */
#include "sp_config.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "sp_fs.h"

struct sp_config {
    config_t lc;              /* merged result; never moves (settings point back at it) */
    char **files;             /* interned file names, owned */
    size_t nfiles, cap_files;
    char *path;               /* the file loaded, as given */
    char *chain;              /* "child.cfg -> parent.cfg" */
};

/* One file of the chain while loading. */
typedef struct chain_link {
    config_t *lc;                      /* parsed, not yet merged */
    const char *path;                  /* interned display path */
    bool has_id;                       /* false for text without a file behind it */
    dev_t dev;
    ino_t ino;
    const config_setting_t *inherit;   /* its inherit key, NULL for the oldest */
} chain_link;

typedef struct loader {
    sp_config *cfg;
    chain_link links[SP_CONFIG_MAX_DEPTH];
    int n;
} loader;

/* ---------------------------------------------------------------------------------- */
/* interned file names */

static const char *intern(sp_config *cfg, const char *name)
{
    for (size_t i = 0; i < cfg->nfiles; i++)
        if (strcmp(cfg->files[i], name) == 0)
            return cfg->files[i];
    if (cfg->nfiles == cfg->cap_files) {
        size_t cap = cfg->cap_files ? cfg->cap_files * 2 : 8;
        char **f = realloc(cfg->files, cap * sizeof *f);
        if (!f)
            return NULL;
        cfg->files = f;
        cfg->cap_files = cap;
    }
    char *copy = strdup(name);
    if (!copy)
        return NULL;
    cfg->files[cfg->nfiles++] = copy;
    return copy;
}

/* Points every setting's `file` at an interned copy; settings read from memory have no
 * file and get `name`. */
static bool intern_tree(sp_config *cfg, config_setting_t *s, const char *name)
{
    const char *f = intern(cfg, s->file ? s->file : name);
    if (!f)
        return false;
    s->file = f;
    if (config_setting_is_aggregate(s)) {
        int n = config_setting_length(s);
        for (int i = 0; i < n; i++)
            if (!intern_tree(cfg, config_setting_get_elem(s, (unsigned)i), name))
                return false;
    }
    return true;
}

/* ---------------------------------------------------------------------------------- */
/* key paths and errors */

static size_t key_path_into(const config_setting_t *s, char *buf, size_t len)
{
    if (!s || !s->parent)
        return 0;
    size_t at = key_path_into(s->parent, buf, len);
    int w;
    if (s->parent->type == CONFIG_TYPE_GROUP)
        w = snprintf(buf + at, len - at, "%s%s", s->parent->parent ? "." : "",
                     s->name ? s->name : "?");
    else
        w = snprintf(buf + at, len - at, "[%d]", config_setting_index(s));
    if (w < 0)
        return at;
    return at + (size_t)w < len ? at + (size_t)w : len - 1;
}

char *sp_config_key_path(const config_setting_t *s, char *buf, size_t len)
{
    if (!len)
        return buf;
    buf[0] = 0;
    key_path_into(s, buf, len);
    return buf;
}

char *sp_config_quote(const char *v, char *buf, size_t len)
{
    size_t at = 0, max = len > 0 ? len - 1 : 0;
    bool cut = false;
    if (!len)
        return buf;
    if (!v)
        v = "";
    /* Room for the closing quote and "..." is kept back. */
    if (at < max)
        buf[at++] = '"';
    for (size_t i = 0; v[i]; i++) {
        char esc[5];
        unsigned char c = (unsigned char)v[i];
        if (c == '"' || c == '\\')
            snprintf(esc, sizeof esc, "\\%c", c);
        else if (c == '\n')
            snprintf(esc, sizeof esc, "\\n");
        else if (c == '\t')
            snprintf(esc, sizeof esc, "\\t");
        else if (c < 0x20 || c == 0x7f)
            snprintf(esc, sizeof esc, "\\x%02x", c);
        else
            snprintf(esc, sizeof esc, "%c", c);
        size_t n = strlen(esc);
        if (i >= 60 || at + n + 4 > max) {
            cut = v[i] != 0;
            break;
        }
        memcpy(buf + at, esc, n);
        at += n;
    }
    const char *tail = cut ? "...\"" : "\"";
    for (size_t i = 0; tail[i] && at < max; i++)
        buf[at++] = tail[i];
    buf[at] = 0;
    return buf;
}

char *sp_config_describe(const config_setting_t *s, char *buf, size_t len)
{
    if (!s) {
        snprintf(buf, len, "nothing");
        return buf;
    }
    switch (s->type) {
    case CONFIG_TYPE_INT:
        snprintf(buf, len, "an integer %d", s->value.ival);
        break;
    case CONFIG_TYPE_INT64:
        snprintf(buf, len, "an integer %lld", s->value.llval);
        break;
    case CONFIG_TYPE_FLOAT:
        snprintf(buf, len, "a float %g", s->value.fval);
        break;
    case CONFIG_TYPE_BOOL:
        snprintf(buf, len, "a boolean %s", s->value.ival ? "true" : "false");
        break;
    case CONFIG_TYPE_STRING: {
        /* Long values are cut: the message must keep room for the advice after it. */
        char q[96];
        snprintf(buf, len, "a string %s", sp_config_quote(s->value.sval, q, sizeof q));
        break;
    }
    case CONFIG_TYPE_GROUP:
        snprintf(buf, len, "a group");
        break;
    case CONFIG_TYPE_LIST:
        snprintf(buf, len, "a list");
        break;
    case CONFIG_TYPE_ARRAY:
        snprintf(buf, len, "an array");
        break;
    default:
        snprintf(buf, len, "an empty value");
        break;
    }
    return buf;
}

sp_code sp_config_vfail_at(sp_err *err, const config_setting_t *s, const char *fmt,
                           va_list ap)
{
    if (!err)
        return SP_ECONFIG;
    char what[SP_ERR_MSG_MAX], path[256];
    vsnprintf(what, sizeof what, fmt, ap);
    /* One message is one line, whatever text (a parser's echo of a value) went into it. */
    for (char *p = what; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = ' ';
    if (!s)
        return sp_fail(err, SP_ECONFIG, "%s", what);
    const char *file = s->file ? s->file : "(config)";
    sp_config_key_path(s, path, sizeof path);
    if (!path[0])
        return sp_fail(err, SP_ECONFIG, "%s: %s", file, what);
    if (!s->line)
        return sp_fail(err, SP_ECONFIG, "%s: %s: %s", file, path, what);
    return sp_fail(err, SP_ECONFIG, "%s:%u: %s: %s", file, s->line, path, what);
}

sp_code sp_config_fail_at(sp_err *err, const config_setting_t *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    sp_code rc = sp_config_vfail_at(err, s, fmt, ap);
    va_end(ap);
    return rc;
}

/* ---------------------------------------------------------------------------------- */
/* lookup */

const config_setting_t *sp_config_lookup(const config_setting_t *base, const char *path)
{
    const char *p = path;
    if (!base || !path)
        return NULL;
    while (*p) {
        if (*p == '[') {
            char *end;
            errno = 0;
            long idx = strtol(p + 1, &end, 10);
            if (end == p + 1 || *end != ']' || idx < 0 || errno ||
                !config_setting_is_aggregate(base) || base->type == CONFIG_TYPE_GROUP)
                return NULL;
            base = config_setting_get_elem(base, (unsigned)idx);
            p = end + 1;
        } else {
            size_t n = strcspn(p, ".[");
            char name[128];
            if (n == 0 || n >= sizeof name)
                return NULL;
            memcpy(name, p, n);
            name[n] = 0;
            base = config_setting_get_member(base, name);
            p += n;
        }
        if (!base)
            return NULL;
        if (*p == '.') {
            p++;
            if (!*p || *p == '.' || *p == '[')
                return NULL;
        }
    }
    return base;
}

/* ---------------------------------------------------------------------------------- */
/* merging */

/* Moves the last element of group g to position idx (libconfig only appends). */
static void move_last_to(config_setting_t *g, unsigned idx)
{
    config_list_t *list = g->value.list;
    config_setting_t *last = list->elements[list->length - 1];
    memmove(&list->elements[idx + 1], &list->elements[idx],
            (list->length - 1 - idx) * sizeof *list->elements);
    list->elements[idx] = last;
}

/* Appends a deep copy of src to dst_parent, keeping src's file and line. */
static config_setting_t *copy_setting(config_setting_t *dst_parent,
                                      const config_setting_t *src)
{
    config_setting_t *n = config_setting_add(dst_parent, src->name, src->type);
    if (!n)
        return NULL;
    n->line = src->line;
    n->file = src->file;
    n->format = src->format;
    int ok = CONFIG_TRUE;
    switch (src->type) {
    case CONFIG_TYPE_INT:
        ok = config_setting_set_int(n, src->value.ival);
        break;
    case CONFIG_TYPE_INT64:
        ok = config_setting_set_int64(n, src->value.llval);
        break;
    case CONFIG_TYPE_FLOAT:
        ok = config_setting_set_float(n, src->value.fval);
        break;
    case CONFIG_TYPE_BOOL:
        ok = config_setting_set_bool(n, src->value.ival);
        break;
    case CONFIG_TYPE_STRING:
        ok = config_setting_set_string(n, src->value.sval ? src->value.sval : "");
        break;
    case CONFIG_TYPE_GROUP:
    case CONFIG_TYPE_LIST:
    case CONFIG_TYPE_ARRAY: {
        int len = config_setting_length(src);
        for (int i = 0; i < len && ok; i++)
            ok = copy_setting(n, config_setting_get_elem(src, (unsigned)i)) != NULL;
        break;
    }
    default:
        break;
    }
    return ok ? n : NULL;
}

/* Merges group src over group dst: groups recurse, everything else replaces in place.
 * skip_inherit drops the top-level `inherit` key. */
static bool merge_group(config_setting_t *dst, const config_setting_t *src,
                        bool skip_inherit)
{
    int len = config_setting_length(src);
    for (int i = 0; i < len; i++) {
        const config_setting_t *m = config_setting_get_elem(src, (unsigned)i);
        if (skip_inherit && strcmp(m->name, "inherit") == 0)
            continue;
        config_setting_t *d = config_setting_get_member(dst, m->name);
        if (d && d->type == CONFIG_TYPE_GROUP && m->type == CONFIG_TYPE_GROUP) {
            if (!merge_group(d, m, false))
                return false;
            continue;
        }
        int idx = d ? config_setting_index(d) : -1;
        if (d && !config_setting_remove(dst, m->name))
            return false;
        if (!copy_setting(dst, m))
            return false;
        if (idx >= 0)
            move_last_to(dst, (unsigned)idx);
    }
    return true;
}

/* ---------------------------------------------------------------------------------- */
/* loading the chain */

static void free_links(loader *ld)
{
    for (int i = 0; i < ld->n; i++) {
        if (ld->links[i].lc) {
            config_destroy(ld->links[i].lc);
            free(ld->links[i].lc);
        }
    }
    ld->n = 0;
}

/* "a.cfg -> b.cfg -> c.cfg" for the links so far, plus `extra` when non-NULL. */
static void chain_text(const loader *ld, const char *extra, char *buf, size_t len)
{
    size_t at = 0;
    buf[0] = 0;
    for (int i = 0; i < ld->n && at < len; i++) {
        int w = snprintf(buf + at, len - at, "%s%s", i ? " -> " : "", ld->links[i].path);
        at = w < 0 ? at : at + (size_t)w;
    }
    if (extra && at < len)
        snprintf(buf + at, len - at, " -> %s", extra);
}

/* ---------------------------------------------------------------------------------- */
/* integer literals libconfig 1.5 would wrap */

/* strchr() also finds the terminator; the scanner must not step over the end. */
static bool in_set(char c, const char *set)
{
    return c && strchr(set, c);
}

/* libconfig 1.5 (Debian 12) stores a decimal literal without the L suffix in 32 bits and
 * silently wraps it (5000000000 reads as 705032704), and a hex literal beyond 32 bits
 * reads as -1.  The text is scanned after a successful parse for such literals, skipping
 * strings, comments and names exactly as libconfig's scanner does. */
static const char *skip_number(const char *p, unsigned line, const char *file, sp_err *err,
                               sp_code *rc)
{
    const char *start = p;
    bool hex = false;
    if (*p == '+' || *p == '-')
        p++;
    if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
        hex = true;
        p += 2;
        while (isxdigit((unsigned char)*p))
            p++;
    } else {
        while (isdigit((unsigned char)*p))
            p++;
        if (*p == '.' || *p == 'e' || *p == 'E') {       /* a float: libconfig keeps it */
            while (isdigit((unsigned char)*p) || in_set(*p, ".eE+-"))
                p++;
            return p;
        }
    }
    if (*p == 'L') {                                    /* 64-bit literal: fine */
        while (*p == 'L')
            p++;
        return p;
    }
    char lit[64];
    snprintf(lit, sizeof lit, "%.*s", (int)(p - start), start);
    errno = 0;
    bool fits;
    if (hex) {
        unsigned long long v = strtoull(lit, NULL, 16);
        fits = errno == 0 && v <= 0xffffffffULL;
    } else {
        long long v = strtoll(lit, NULL, 10);
        fits = errno == 0 && v >= INT32_MIN && v <= INT32_MAX;
    }
    if (!fits)
        *rc = sp_fail(err, SP_EPARSE, "%s:%u: syntax error: integer %s does not fit in 32 "
                      "bits; write %sL for a 64-bit integer (or a size string such as "
                      "\"32GiB\")", file, line, lit, lit);
    return p;
}

static sp_code check_int_literals(const char *text, const char *file, sp_err *err)
{
    unsigned line = 1;
    sp_code rc = SP_OK;
    const char *p = text;
    while (*p && rc == SP_OK) {
        if (*p == '\n') {
            line++;
            p++;
        } else if (*p == '#' || (p[0] == '/' && p[1] == '/')) {
            p += strcspn(p, "\n");
        } else if (p[0] == '/' && p[1] == '*') {
            for (p += 2; *p && !(p[0] == '*' && p[1] == '/'); p++)
                line += *p == '\n';
            p += *p ? 2 : 0;
        } else if (*p == '"') {
            for (p++; *p && *p != '"'; p++) {
                if (*p == '\\' && p[1])
                    p++;
                line += *p == '\n';
            }
            p += *p ? 1 : 0;
        } else if (isalpha((unsigned char)*p) || *p == '*' || *p == '@') {
            for (p++; isalnum((unsigned char)*p) || in_set(*p, "-_*"); p++)
                ;
        } else if (isdigit((unsigned char)*p) ||
                   ((*p == '+' || *p == '-') && isdigit((unsigned char)p[1]))) {
            p = skip_number(p, line, file, err, &rc);
        } else if (*p == '.' && isdigit((unsigned char)p[1])) {
            for (p++; isdigit((unsigned char)*p) || in_set(*p, ".eE+-"); p++)
                ;
        } else {
            p++;
        }
    }
    return rc;
}

/* ---------------------------------------------------------------------------------- */
/* parsing one file */

/* Larger than any real config; keeps a wrong path (a sealed sector) from being slurped. */
#define CONFIG_FILE_MAX (16u << 20)

/* Reads a config file's text; refuses what is not a regular text file. */
static sp_code read_text(const char *path, chain_link *link, char **out, sp_err *err)
{
    struct stat st;
    size_t len;
    if (stat(path, &st) != 0)
        return sp_fail_errno(err, errno, "%s: cannot open the config file", path);
    /* A fifo or device could block or never end. */
    if (!S_ISREG(st.st_mode))
        return sp_fail(err, SP_EINVAL, "%s: not a regular file; name a config file", path);
    link->has_id = true;
    link->dev = st.st_dev;
    link->ino = st.st_ino;
    sp_code rc = sp_read_file(path, CONFIG_FILE_MAX, out, &len, err);
    if (rc)
        return rc;
    if (memchr(*out, 0, len)) {
        free(*out);
        *out = NULL;
        return sp_fail(err, SP_EPARSE, "%s: contains a NUL byte; this is not a config file",
                       path);
    }
    return SP_OK;
}

/* Parses one file (or text when text != NULL) into a new config_t; the link's path is
 * its display name.  Syntax errors are "FILE:LINE: syntax error: ...". */
static sp_code parse_one(loader *ld, const char *path, const char *text, chain_link *link,
                         sp_err *err)
{
    sp_code rc = SP_OK;
    char *owned = NULL;
    config_t *lc = calloc(1, sizeof *lc);
    if (!lc)
        return sp_fail(err, SP_ENOMEM, "%s: out of memory loading the config", path);
    config_init(lc);
    link->lc = lc;
    link->path = intern(ld->cfg, path);
    if (!link->path)
        return sp_fail(err, SP_ENOMEM, "%s: out of memory loading the config", path);

    if (text) {
        struct stat st;
        link->has_id = stat(path, &st) == 0;
        link->dev = link->has_id ? st.st_dev : 0;
        link->ino = link->has_id ? st.st_ino : 0;
    } else {
        rc = read_text(path, link, &owned, err);
        if (rc)
            return rc;
        text = owned;
    }
    if (!config_read_string(lc, text)) {
        const char *f = config_error_file(lc) ? config_error_file(lc) : path;
        rc = sp_fail(err, SP_EPARSE, "%s:%d: syntax error: %s", f, config_error_line(lc),
                     config_error_text(lc) ? config_error_text(lc) : "unknown");
        goto done;
    }
    rc = check_int_literals(text, path, err);
    if (rc)
        goto done;
    if (!intern_tree(ld->cfg, config_root_setting(lc), link->path))
        rc = sp_fail(err, SP_ENOMEM, "%s: out of memory loading the config", path);
done:
    free(owned);
    return rc;
}

/* The parent path named by `value` in the file `child`: absolute as is, else relative
 * to the child's directory.  "./" is not prefixed for a child in the current directory. */
static sp_code resolve_parent(const char *child, const char *value, char *out, size_t len,
                              sp_err *err, const config_setting_t *s)
{
    const char *slash = strrchr(child, '/');
    int w;
    if (value[0] == '/' || !slash)
        w = snprintf(out, len, "%s", value);
    else
        w = snprintf(out, len, "%.*s/%s", (int)(slash - child), child, value);
    if (w < 0 || (size_t)w >= len)
        return sp_config_fail_at(err, s, "parent path too long (%d bytes); use a shorter path",
                                 w);
    return SP_OK;
}

/* Checks the inherit key of the newest link and finds its parent's path. */
static sp_code next_parent(loader *ld, char *parent, size_t len, sp_err *err)
{
    chain_link *child = &ld->links[ld->n - 1];
    const config_setting_t *s = child->inherit;
    char chain[SP_ERR_MSG_MAX / 2], got[96];

    if (s->type != CONFIG_TYPE_STRING || !s->value.sval || !s->value.sval[0])
        return sp_config_fail_at(err, s, "expected the parent's file name as a non-empty "
                                 "string, got %s", sp_config_describe(s, got, sizeof got));
    sp_code rc = resolve_parent(child->path, s->value.sval, parent, len, err, s);
    if (rc)
        return rc;
    chain_text(ld, parent, chain, sizeof chain);
    if (ld->n >= SP_CONFIG_MAX_DEPTH)
        return sp_config_fail_at(err, s, "inheritance chain longer than %d files (%s); "
                                 "inherit from a file nearer the base", SP_CONFIG_MAX_DEPTH,
                                 chain);
    struct stat st;
    if (stat(parent, &st) != 0)
        return sp_config_fail_at(err, s, "parent \"%s\" cannot be read: %s (chain %s); fix "
                                 "the path, which is relative to the directory of %s",
                                 parent, strerror(errno), chain, child->path);
    if (!S_ISREG(st.st_mode))
        return sp_config_fail_at(err, s, "parent \"%s\" is not a regular file (chain %s)",
                                 parent, chain);
    for (int i = 0; i < ld->n; i++)
        if (ld->links[i].has_id && ld->links[i].dev == st.st_dev &&
            ld->links[i].ino == st.st_ino)
            return sp_config_fail_at(err, s, "inheritance cycle: %s; remove one of the "
                                     "inherit keys", chain);
    return SP_OK;
}

/* Reads the chain starting at path (or text), child first, into ld->links. */
static sp_code read_chain(loader *ld, const char *path, const char *text, sp_err *err)
{
    char cur[4096], parent[4096];
    snprintf(cur, sizeof cur, "%s", path);
    for (;;) {
        chain_link *link = &ld->links[ld->n++];
        sp_code rc = parse_one(ld, cur, ld->n == 1 ? text : NULL, link, err);
        if (rc) {
            if (ld->n == 1)
                return rc;
            /* The parent itself is broken: say which inherit led there. */
            char chain[SP_ERR_MSG_MAX / 2], inner[SP_ERR_MSG_MAX];
            const config_setting_t *s = ld->links[ld->n - 2].inherit;
            snprintf(inner, sizeof inner, "%s", err->msg);
            chain_text(ld, NULL, chain, sizeof chain);
            sp_config_fail_at(err, s, "cannot load parent (chain %s): %s", chain, inner);
            return rc == SP_ENOMEM ? rc : SP_ECONFIG;
        }
        link->inherit = config_setting_get_member(config_root_setting(link->lc), "inherit");
        if (!link->inherit)
            return SP_OK;
        rc = next_parent(ld, parent, sizeof parent, err);
        if (rc)
            return rc;
        snprintf(cur, sizeof cur, "%s", parent);
    }
}

static sp_code load(const char *path, const char *text, sp_config **out, sp_err *err)
{
    loader ld = { 0 };
    sp_code rc;
    sp_err local;
    if (!err)
        err = &local;
    if (out)
        *out = NULL;
    if (!out || !path || !path[0])
        return sp_fail(err, SP_EINVAL, "config: no file name given");
    sp_config *cfg = calloc(1, sizeof *cfg);
    if (!cfg)
        return sp_fail(err, SP_ENOMEM, "%s: out of memory loading the config", path);
    config_init(&cfg->lc);
    ld.cfg = cfg;
    cfg->path = strdup(path);
    if (!cfg->path) {
        rc = sp_fail(err, SP_ENOMEM, "%s: out of memory loading the config", path);
        goto fail;
    }
    rc = read_chain(&ld, path, text, err);
    if (rc)
        goto fail;

    config_setting_t *root = config_root_setting(&cfg->lc);
    root->file = ld.links[0].path;
    for (int i = ld.n - 1; i >= 0; i--) {
        if (!merge_group(root, config_root_setting(ld.links[i].lc), true)) {
            rc = sp_fail(err, SP_ENOMEM, "%s: out of memory merging the config", path);
            goto fail;
        }
    }
    char chain[2048];
    chain_text(&ld, NULL, chain, sizeof chain);
    cfg->chain = strdup(chain);
    if (!cfg->chain) {
        rc = sp_fail(err, SP_ENOMEM, "%s: out of memory loading the config", path);
        goto fail;
    }
    free_links(&ld);
    *out = cfg;
    return SP_OK;
fail:
    free_links(&ld);
    sp_config_free(cfg);
    return rc;
}

sp_code sp_config_load(const char *path, sp_config **out, sp_err *err)
{
    return load(path, NULL, out, err);
}

sp_code sp_config_load_string(const char *text, const char *name, sp_config **out,
                              sp_err *err)
{
    if (!text) {
        if (out)
            *out = NULL;
        return sp_fail(err, SP_EINVAL, "config: no text given");
    }
    return load(name, text, out, err);
}

void sp_config_free(sp_config *cfg)
{
    if (!cfg)
        return;
    config_destroy(&cfg->lc);
    for (size_t i = 0; i < cfg->nfiles; i++)
        free(cfg->files[i]);
    free(cfg->files);
    free(cfg->path);
    free(cfg->chain);
    free(cfg);
}

const config_setting_t *sp_config_root(const sp_config *cfg)
{
    return cfg ? config_root_setting(&cfg->lc) : NULL;
}

const char *sp_config_path(const sp_config *cfg)
{
    return cfg ? cfg->path : "";
}

const char *sp_config_chain(const sp_config *cfg)
{
    return cfg ? cfg->chain : "";
}
