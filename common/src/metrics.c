/* metrics.c — sp_metrics: the Prometheus registry (families, labelled series, rendering).
 *
 * Each family has its own mutex and a chained hash table of series keyed by the label
 * values joined with NUL separators; series also sit on an insertion-ordered list so the
 * output is stable.  The registry mutex only guards the family list and collect hooks.
 */
#include "sp_metrics.h"

#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sp_log.h"

#define MAX_HOOKS 16
#define INITIAL_BUCKETS 64

typedef struct series {
    struct series *hash_next;
    struct series *order_next;
    size_t key_len;
    char *key;          /* label values, each followed by a NUL */
    double value;       /* counter or gauge value; histogram sum */
    uint64_t count;     /* histogram observations */
    uint64_t buckets[SP_METRICS_MAX_BUCKETS]; /* histogram, not cumulative */
} series;

struct sp_metric {
    struct sp_metric *next;
    char *name;
    char *help;
    sp_metric_type type;
    size_t n_labels;
    char *label_names[SP_METRICS_MAX_LABELS];
    size_t n_bounds;
    double bounds[SP_METRICS_MAX_BUCKETS];
    pthread_mutex_t mu;
    series **table;
    size_t table_size;
    size_t n_series;
    series *first;
    series **last_next;
    bool overflow_logged;
};

typedef struct hook {
    sp_metrics_collect_fn fn;
    void *ctx;
} hook;

struct sp_metrics {
    pthread_mutex_t mu;
    sp_metric *first;
    size_t n_hooks;
    hook hooks[MAX_HOOKS];
};

static const double default_buckets[] = { 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                          0.1,    0.25,  0.5,    1,     2.5,  5,     10 };

/* ---- names ------------------------------------------------------------------------- */

static bool valid_name(const char *s, bool colon_ok)
{
    if (!s || !*s)
        return false;
    for (size_t i = 0; s[i]; i++) {
        char c = s[i];
        bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
                     (colon_ok && c == ':');
        if (!alpha && !(i > 0 && c >= '0' && c <= '9'))
            return false;
    }
    return true;
}

static void family_free(sp_metric *f)
{
    if (!f)
        return;
    series *s = f->first;
    while (s) {
        series *next = s->order_next;
        free(s->key);
        free(s);
        s = next;
    }
    free(f->table);
    for (size_t i = 0; i < f->n_labels; i++)
        free(f->label_names[i]);
    free(f->name);
    free(f->help);
    pthread_mutex_destroy(&f->mu);
    free(f);
}

/* Splits "a,b" into the family's label names, checking each. */
static sp_code parse_label_names(sp_metric *f, const char *list, sp_err *err)
{
    if (!list || !*list)
        return SP_OK;
    const char *p = list;
    for (;;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        if (f->n_labels == SP_METRICS_MAX_LABELS)
            return sp_fail(err, SP_EINVAL, "metric %s: more than %d labels in \"%s\"", f->name,
                           SP_METRICS_MAX_LABELS, list);
        char *name = strndup(p, len);
        if (!name)
            return sp_fail(err, SP_ENOMEM, "metric %s: out of memory", f->name);
        f->label_names[f->n_labels++] = name;
        if (!valid_name(name, false) || strncmp(name, "__", 2) == 0 ||
            (f->type == SP_METRIC_HISTOGRAM && strcmp(name, "le") == 0))
            return sp_fail(err, SP_EINVAL,
                           "metric %s: label name \"%s\" is not allowed (use [a-zA-Z_][a-zA-Z0-9_]*, "
                           "no \"__\" prefix, no \"le\" on histograms)",
                           f->name, name);
        for (size_t i = 0; i + 1 < f->n_labels; i++)
            if (strcmp(f->label_names[i], name) == 0)
                return sp_fail(err, SP_EINVAL, "metric %s: label \"%s\" named twice", f->name, name);
        if (!comma)
            return SP_OK;
        p = comma + 1;
    }
}

static bool same_shape(const sp_metric *a, const sp_metric *b)
{
    if (a->type != b->type || a->n_labels != b->n_labels || a->n_bounds != b->n_bounds)
        return false;
    for (size_t i = 0; i < a->n_labels; i++)
        if (strcmp(a->label_names[i], b->label_names[i]) != 0)
            return false;
    for (size_t i = 0; i < a->n_bounds; i++)
        if (a->bounds[i] != b->bounds[i])
            return false;
    return true;
}

static sp_code family_new(sp_metrics *m, sp_metric_type type, const char *name, const char *help,
                          const char *label_names, const double *buckets, size_t n_buckets,
                          sp_metric **out, sp_err *err)
{
    *out = NULL;
    if (!m)
        return sp_fail(err, SP_EINVAL, "metric %s: no registry given", name ? name : "(null)");
    if (!valid_name(name, true))
        return sp_fail(err, SP_EINVAL, "metric name \"%s\" is not valid (use [a-zA-Z_:][a-zA-Z0-9_:]*)",
                       name ? name : "(null)");
    sp_metric *f = calloc(1, sizeof *f);
    if (!f)
        return sp_fail(err, SP_ENOMEM, "metric %s: out of memory", name);
    pthread_mutex_init(&f->mu, NULL);
    f->type = type;
    f->last_next = &f->first;
    f->name = strdup(name);
    f->help = strdup(help ? help : "");
    f->table_size = INITIAL_BUCKETS;
    f->table = calloc(f->table_size, sizeof *f->table);
    sp_code rc = SP_OK;
    if (!f->name || !f->help || !f->table) {
        rc = sp_fail(err, SP_ENOMEM, "metric %s: out of memory", name);
        goto fail;
    }
    if ((rc = parse_label_names(f, label_names, err)) != SP_OK)
        goto fail;
    if (type == SP_METRIC_HISTOGRAM) {
        if (!buckets || n_buckets == 0) {
            buckets = default_buckets;
            n_buckets = sizeof default_buckets / sizeof default_buckets[0];
        }
        if (n_buckets > SP_METRICS_MAX_BUCKETS) {
            rc = sp_fail(err, SP_EINVAL, "metric %s: %zu buckets given, at most %d allowed", name,
                         n_buckets, SP_METRICS_MAX_BUCKETS);
            goto fail;
        }
        for (size_t i = 0; i < n_buckets; i++) {
            if (!isfinite(buckets[i]) || (i > 0 && buckets[i] <= buckets[i - 1])) {
                rc = sp_fail(err, SP_EINVAL,
                             "metric %s: bucket %zu (%g) is not finite and strictly increasing",
                             name, i, buckets[i]);
                goto fail;
            }
            f->bounds[i] = buckets[i];
        }
        f->n_bounds = n_buckets;
    }

    pthread_mutex_lock(&m->mu);
    sp_metric **pp = &m->first;
    for (; *pp; pp = &(*pp)->next) {
        if (strcmp((*pp)->name, name) != 0)
            continue;
        sp_metric *existing = *pp;
        bool ok = same_shape(existing, f);
        pthread_mutex_unlock(&m->mu);
        if (!ok) {
            rc = sp_fail(err, SP_EEXIST,
                         "metric %s is already registered with another type, labels or buckets",
                         name);
            goto fail;
        }
        family_free(f);
        *out = existing;
        return SP_OK;
    }
    *pp = f;
    pthread_mutex_unlock(&m->mu);
    *out = f;
    return SP_OK;
fail:
    family_free(f);
    return rc;
}

sp_code sp_metrics_new(sp_metrics **out, sp_err *err)
{
    *out = calloc(1, sizeof **out);
    if (!*out)
        return sp_fail(err, SP_ENOMEM, "metrics registry: out of memory");
    pthread_mutex_init(&(*out)->mu, NULL);
    return SP_OK;
}

void sp_metrics_free(sp_metrics *m)
{
    if (!m)
        return;
    sp_metric *f = m->first;
    while (f) {
        sp_metric *next = f->next;
        family_free(f);
        f = next;
    }
    pthread_mutex_destroy(&m->mu);
    free(m);
}

sp_code sp_metrics_counter(sp_metrics *m, const char *name, const char *help,
                           const char *label_names, sp_metric **out, sp_err *err)
{
    return family_new(m, SP_METRIC_COUNTER, name, help, label_names, NULL, 0, out, err);
}

sp_code sp_metrics_gauge(sp_metrics *m, const char *name, const char *help,
                         const char *label_names, sp_metric **out, sp_err *err)
{
    return family_new(m, SP_METRIC_GAUGE, name, help, label_names, NULL, 0, out, err);
}

sp_code sp_metrics_histogram(sp_metrics *m, const char *name, const char *help,
                             const char *label_names, const double *buckets, size_t n_buckets,
                             sp_metric **out, sp_err *err)
{
    return family_new(m, SP_METRIC_HISTOGRAM, name, help, label_names, buckets, n_buckets, out,
                      err);
}

sp_code sp_metrics_on_collect(sp_metrics *m, sp_metrics_collect_fn fn, void *ctx, sp_err *err)
{
    pthread_mutex_lock(&m->mu);
    if (m->n_hooks == MAX_HOOKS) {
        pthread_mutex_unlock(&m->mu);
        return sp_fail(err, SP_EINVAL, "metrics: more than %d collect hooks", MAX_HOOKS);
    }
    m->hooks[m->n_hooks++] = (hook){ fn, ctx };
    pthread_mutex_unlock(&m->mu);
    return SP_OK;
}

/* ---- series lookup ----------------------------------------------------------------- */

static uint64_t hash_key(const char *key, size_t len)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)key[i];
        h *= 1099511628211ULL;
    }
    return h;
}

/* A series key is the label values joined with a NUL after each. */
static size_t key_len_of(const sp_metric *f, const char *const *labels)
{
    size_t len = 0;
    for (size_t i = 0; i < f->n_labels; i++)
        len += strlen(labels && labels[i] ? labels[i] : "") + 1;
    return len;
}

static void key_fill(const sp_metric *f, const char *const *labels, char *key)
{
    for (size_t i = 0; i < f->n_labels; i++) {
        const char *v = labels && labels[i] ? labels[i] : "";
        size_t n = strlen(v) + 1;
        memcpy(key, v, n);
        key += n;
    }
}

static void table_grow(sp_metric *f)
{
    size_t size = f->table_size * 2;
    series **table = calloc(size, sizeof *table);
    if (!table)
        return; /* keep the longer chains; lookups stay correct */
    for (series *s = f->first; s; s = s->order_next) {
        size_t b = hash_key(s->key, s->key_len) & (size - 1);
        s->hash_next = table[b];
        table[b] = s;
    }
    free(f->table);
    f->table = table;
    f->table_size = size;
}

/* Finds or (when create) adds the series; caller holds f->mu. */
static series *series_find(sp_metric *f, const char *const *labels, bool create)
{
    size_t len = key_len_of(f, labels);
    char small[512];
    char *key = len <= sizeof small ? small : malloc(len);
    if (!key)
        return NULL;
    key_fill(f, labels, key);
    size_t b = hash_key(key, len) & (f->table_size - 1);
    series *s = f->table[b];
    while (s && !(s->key_len == len && (len == 0 || memcmp(s->key, key, len) == 0)))
        s = s->hash_next;
    if (s || !create)
        goto done;
    if (f->n_series >= SP_METRICS_MAX_SERIES) {
        if (!f->overflow_logged)
            SP_WARN("metric %s: more than %d label sets; further ones are dropped", f->name,
                    SP_METRICS_MAX_SERIES);
        f->overflow_logged = true;
        goto done;
    }
    s = calloc(1, sizeof *s);
    char *copy = len ? malloc(len) : NULL;
    if (!s || (len && !copy)) {
        free(s);
        free(copy);
        s = NULL;
        goto done;
    }
    if (len)
        memcpy(copy, key, len);
    s->key = copy;
    s->key_len = len;
    s->hash_next = f->table[b];
    f->table[b] = s;
    *f->last_next = s;
    f->last_next = &s->order_next;
    if (++f->n_series > 2 * f->table_size)
        table_grow(f);
done:
    if (key != small)
        free(key);
    return s;
}

void sp_metric_add(sp_metric *f, const char *const *labels, double v)
{
    if (!f || isnan(v) || (f->type == SP_METRIC_COUNTER && v < 0) || f->type == SP_METRIC_HISTOGRAM)
        return;
    pthread_mutex_lock(&f->mu);
    series *s = series_find(f, labels, true);
    if (s)
        s->value += v;
    pthread_mutex_unlock(&f->mu);
}

void sp_metric_set(sp_metric *f, const char *const *labels, double v)
{
    if (!f || f->type != SP_METRIC_GAUGE)
        return;
    pthread_mutex_lock(&f->mu);
    series *s = series_find(f, labels, true);
    if (s)
        s->value = v;
    pthread_mutex_unlock(&f->mu);
}

void sp_metric_observe(sp_metric *f, const char *const *labels, double v)
{
    if (!f || f->type != SP_METRIC_HISTOGRAM || isnan(v))
        return;
    size_t b = 0;
    while (b < f->n_bounds && v > f->bounds[b])
        b++;
    pthread_mutex_lock(&f->mu);
    series *s = series_find(f, labels, true);
    if (s) {
        s->value += v;
        s->count++;
        if (b < f->n_bounds)
            s->buckets[b]++;
    }
    pthread_mutex_unlock(&f->mu);
}

void sp_metric_reset(sp_metric *f)
{
    if (!f)
        return;
    pthread_mutex_lock(&f->mu);
    series *s = f->first;
    while (s) {
        series *next = s->order_next;
        free(s->key);
        free(s);
        s = next;
    }
    f->first = NULL;
    f->last_next = &f->first;
    f->n_series = 0;
    memset(f->table, 0, f->table_size * sizeof *f->table);
    pthread_mutex_unlock(&f->mu);
}

double sp_metric_get(sp_metric *f, const char *const *labels)
{
    if (!f)
        return 0;
    pthread_mutex_lock(&f->mu);
    series *s = series_find(f, labels, false);
    double v = !s ? 0 : f->type == SP_METRIC_HISTOGRAM ? (double)s->count : s->value;
    pthread_mutex_unlock(&f->mu);
    return v;
}

/* ---- rendering --------------------------------------------------------------------- */

typedef struct strbuf {
    char *p;
    size_t len, cap;
    bool oom;
} strbuf;

static void sb_reserve(strbuf *b, size_t more)
{
    if (b->oom || b->len + more + 1 <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + more + 1)
        cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p) {
        b->oom = true;
        return;
    }
    b->p = p;
    b->cap = cap;
}

static void sb_put(strbuf *b, const char *s, size_t n)
{
    sb_reserve(b, n);
    if (b->oom)
        return;
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = 0;
}

static void sb_str(strbuf *b, const char *s) { sb_put(b, s, strlen(s)); }

static void sb_printf(strbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(strbuf *b, const char *fmt, ...)
{
    char tmp[128];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n > 0)
        sb_put(b, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

/* Escapes backslash and newline (help) and also the double quote (label values). */
static void sb_escaped(strbuf *b, const char *s, size_t n, bool quote)
{
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '\\')
            sb_put(b, "\\\\", 2);
        else if (c == '\n')
            sb_put(b, "\\n", 2);
        else if (quote && c == '"')
            sb_put(b, "\\\"", 2);
        else
            sb_put(b, &c, 1);
    }
}

/* Shortest text that reads back as the same double ("0.1", not "0.10000000000000001"),
 * as Prometheus' own clients print numbers. */
static void format_double(double v, char *buf, size_t n)
{
    if (isnan(v)) {
        snprintf(buf, n, "NaN");
        return;
    }
    if (isinf(v)) {
        snprintf(buf, n, "%s", v > 0 ? "+Inf" : "-Inf");
        return;
    }
    if (v == floor(v) && fabs(v) < 9007199254740992.0) {
        snprintf(buf, n, "%.0f", v);
        return;
    }
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, n, "%.*g", prec, v);
        if (strtod(buf, NULL) == v)
            return;
    }
}

static void sb_number(strbuf *b, double v)
{
    char buf[40];
    format_double(v, buf, sizeof buf);
    sb_str(b, buf);
}

/* Writes {a="x",b="y"[,le="..."]}, or nothing when there are no labels at all. */
static void sb_labels(strbuf *b, const sp_metric *f, const series *s, const char *le)
{
    if (f->n_labels == 0 && !le)
        return;
    sb_put(b, "{", 1);
    const char *v = s->key;
    for (size_t i = 0; i < f->n_labels; i++) {
        size_t n = strlen(v);
        if (i)
            sb_put(b, ",", 1);
        sb_str(b, f->label_names[i]);
        sb_put(b, "=\"", 2);
        sb_escaped(b, v, n, true);
        sb_put(b, "\"", 1);
        v += n + 1;
    }
    if (le) {
        if (f->n_labels)
            sb_put(b, ",", 1);
        sb_str(b, "le=\"");
        sb_str(b, le);
        sb_put(b, "\"", 1);
    }
    sb_put(b, "}", 1);
}

static void render_family(strbuf *b, sp_metric *f)
{
    static const char *const type_names[] = { "counter", "gauge", "histogram" };
    pthread_mutex_lock(&f->mu);
    sb_str(b, "# HELP ");
    sb_str(b, f->name);
    sb_put(b, " ", 1);
    sb_escaped(b, f->help, strlen(f->help), false);
    sb_str(b, "\n# TYPE ");
    sb_str(b, f->name);
    sb_put(b, " ", 1);
    sb_str(b, type_names[f->type]);
    sb_put(b, "\n", 1);
    for (const series *s = f->first; s; s = s->order_next) {
        if (f->type != SP_METRIC_HISTOGRAM) {
            sb_str(b, f->name);
            sb_labels(b, f, s, NULL);
            sb_put(b, " ", 1);
            sb_number(b, s->value);
            sb_put(b, "\n", 1);
            continue;
        }
        uint64_t cumulative = 0;
        for (size_t i = 0; i <= f->n_bounds; i++) {
            char le[40];
            if (i < f->n_bounds) {
                cumulative += s->buckets[i];
                format_double(f->bounds[i], le, sizeof le);
            } else {
                cumulative = s->count;
                snprintf(le, sizeof le, "+Inf");
            }
            sb_str(b, f->name);
            sb_str(b, "_bucket");
            sb_labels(b, f, s, le);
            sb_printf(b, " %llu\n", (unsigned long long)cumulative);
        }
        sb_str(b, f->name);
        sb_str(b, "_sum");
        sb_labels(b, f, s, NULL);
        sb_put(b, " ", 1);
        sb_number(b, s->value);
        sb_put(b, "\n", 1);
        sb_str(b, f->name);
        sb_str(b, "_count");
        sb_labels(b, f, s, NULL);
        sb_printf(b, " %llu\n", (unsigned long long)s->count);
    }
    pthread_mutex_unlock(&f->mu);
}

sp_code sp_metrics_render(sp_metrics *m, char **out, size_t *out_len, sp_err *err)
{
    *out = NULL;
    if (out_len)
        *out_len = 0;
    hook hooks[MAX_HOOKS];
    pthread_mutex_lock(&m->mu);
    size_t n_hooks = m->n_hooks;
    memcpy(hooks, m->hooks, n_hooks * sizeof hooks[0]);
    pthread_mutex_unlock(&m->mu);
    for (size_t i = 0; i < n_hooks; i++)
        hooks[i].fn(hooks[i].ctx, m);

    strbuf b = { 0 };
    sb_reserve(&b, 0);
    /* Lock order is always registry, then family. */
    pthread_mutex_lock(&m->mu);
    for (sp_metric *f = m->first; f; f = f->next)
        render_family(&b, f);
    pthread_mutex_unlock(&m->mu);
    if (b.oom) {
        free(b.p);
        return sp_fail(err, SP_ENOMEM, "metrics: out of memory while rendering");
    }
    *out = b.p;
    if (out_len)
        *out_len = b.len;
    return SP_OK;
}
