/* test_metrics.c — sp_metrics: counters, gauges, histograms, label escaping, exact
 * Prometheus text output (format 0.0.4 as documented at
 * https://prometheus.io/docs/instrumenting/exposition_formats/), thread safety, limits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <cmocka.h>

#include "sp_log.h"
#include "sp_metrics.h"

static char *render(sp_metrics *m)
{
    char *text = NULL;
    size_t len = 0;
    sp_err err;
    assert_int_equal(sp_metrics_render(m, &text, &len, &err), SP_OK);
    assert_int_equal(strlen(text), len);
    return text;
}

static void test_counter_and_gauge_text(void **state)
{
    (void)state;
    sp_metrics *m;
    sp_err err;
    assert_int_equal(sp_metrics_new(&m, &err), SP_OK);
    sp_metric *reqs, *up, *temp;
    assert_int_equal(sp_metrics_counter(m, "rpc_requests_total", "RPC calls.", "method,code",
                                        &reqs, &err), SP_OK);
    assert_int_equal(sp_metrics_gauge(m, "up", "Is it up?\nSecond line \\ here.", NULL, &up, &err),
                     SP_OK);
    assert_int_equal(sp_metrics_gauge(m, "temp_celsius", "T.", "zone", &temp, &err), SP_OK);
    sp_metric_add(reqs, SP_LABELS("Alloc", "0"), 1);
    sp_metric_add(reqs, SP_LABELS("Alloc", "0"), 2);
    sp_metric_add(reqs, SP_LABELS("Ping", "-32601"), 1);
    sp_metric_add(reqs, SP_LABELS("Ping", "-32601"), -5); /* counters never go down */
    sp_metric_set(up, NULL, 1);
    sp_metric_set(temp, SP_LABELS("a\"b\\c\nd"), -2.5);
    sp_metric_add(temp, SP_LABELS("x"), 0.125);
    assert_true(sp_metric_get(reqs, SP_LABELS("Alloc", "0")) == 3);
    assert_true(sp_metric_get(reqs, SP_LABELS("Nope", "0")) == 0);
    char *text = render(m);
    assert_string_equal(text,
                        "# HELP rpc_requests_total RPC calls.\n"
                        "# TYPE rpc_requests_total counter\n"
                        "rpc_requests_total{method=\"Alloc\",code=\"0\"} 3\n"
                        "rpc_requests_total{method=\"Ping\",code=\"-32601\"} 1\n"
                        "# HELP up Is it up?\\nSecond line \\\\ here.\n"
                        "# TYPE up gauge\n"
                        "up 1\n"
                        "# HELP temp_celsius T.\n"
                        "# TYPE temp_celsius gauge\n"
                        "temp_celsius{zone=\"a\\\"b\\\\c\\nd\"} -2.5\n"
                        "temp_celsius{zone=\"x\"} 0.125\n");
    free(text);
    sp_metric_reset(temp);
    sp_metric_set(temp, SP_LABELS("y"), 7);
    text = render(m);
    assert_non_null(strstr(text, "# TYPE temp_celsius gauge\ntemp_celsius{zone=\"y\"} 7\n"));
    assert_null(strstr(text, "zone=\"x\""));
    free(text);
    sp_metrics_free(m);
}

static void test_histogram_text(void **state)
{
    (void)state;
    sp_metrics *m;
    sp_err err;
    assert_int_equal(sp_metrics_new(&m, &err), SP_OK);
    sp_metric *h;
    const double b[] = { 0.1, 1, 10 };
    assert_int_equal(sp_metrics_histogram(m, "lat_seconds", "Latency.", "method", b, 3, &h, &err),
                     SP_OK);
    sp_metric_observe(h, SP_LABELS("A"), 0.05);
    sp_metric_observe(h, SP_LABELS("A"), 0.1);  /* upper bounds are inclusive */
    sp_metric_observe(h, SP_LABELS("A"), 0.5);
    sp_metric_observe(h, SP_LABELS("A"), 100);
    assert_true(sp_metric_get(h, SP_LABELS("A")) == 4);
    char *text = render(m);
    assert_string_equal(text,
                        "# HELP lat_seconds Latency.\n"
                        "# TYPE lat_seconds histogram\n"
                        "lat_seconds_bucket{method=\"A\",le=\"0.1\"} 2\n"
                        "lat_seconds_bucket{method=\"A\",le=\"1\"} 3\n"
                        "lat_seconds_bucket{method=\"A\",le=\"10\"} 3\n"
                        "lat_seconds_bucket{method=\"A\",le=\"+Inf\"} 4\n"
                        "lat_seconds_sum{method=\"A\"} 100.65\n"
                        "lat_seconds_count{method=\"A\"} 4\n");
    free(text);
    /* default buckets */
    sp_metric *d;
    assert_int_equal(sp_metrics_histogram(m, "d_seconds", "D.", NULL, NULL, 0, &d, &err), SP_OK);
    sp_metric_observe(d, NULL, 0.003);
    text = render(m);
    assert_non_null(strstr(text, "d_seconds_bucket{le=\"0.0025\"} 0\n"
                                 "d_seconds_bucket{le=\"0.005\"} 1\n"));
    assert_non_null(strstr(text, "d_seconds_bucket{le=\"+Inf\"} 1\nd_seconds_sum 0.003\n"
                                 "d_seconds_count 1\n"));
    free(text);
    sp_metrics_free(m);
}

static void test_registration_rules(void **state)
{
    (void)state;
    sp_metrics *m;
    sp_err err;
    assert_int_equal(sp_metrics_new(&m, &err), SP_OK);
    sp_metric *a, *b, *c;
    assert_int_equal(sp_metrics_counter(m, "x_total", "X.", "k", &a, &err), SP_OK);
    assert_int_equal(sp_metrics_counter(m, "x_total", "X again.", "k", &b, &err), SP_OK);
    assert_ptr_equal(a, b);
    assert_int_equal(sp_metrics_gauge(m, "x_total", "X.", "k", &c, &err), SP_EEXIST);
    assert_int_equal(sp_metrics_counter(m, "x_total", "X.", "k,j", &c, &err), SP_EEXIST);
    assert_int_equal(sp_metrics_counter(m, "9bad", "X.", NULL, &c, &err), SP_EINVAL);
    assert_int_equal(sp_metrics_counter(m, "bad-name", "X.", NULL, &c, &err), SP_EINVAL);
    assert_int_equal(sp_metrics_counter(m, "ok:name_1", "X.", NULL, &c, &err), SP_OK);
    assert_int_equal(sp_metrics_counter(m, "y", "Y.", "__reserved", &c, &err), SP_EINVAL);
    assert_int_equal(sp_metrics_counter(m, "y", "Y.", "a,a", &c, &err), SP_EINVAL);
    assert_non_null(strstr(err.msg, "named twice"));
    assert_int_equal(sp_metrics_counter(m, "y", "Y.", "a,", &c, &err), SP_EINVAL);
    assert_int_equal(sp_metrics_histogram(m, "h", "H.", "le", NULL, 0, &c, &err), SP_EINVAL);
    const double bad[] = { 1, 1 };
    assert_int_equal(sp_metrics_histogram(m, "h", "H.", NULL, bad, 2, &c, &err), SP_EINVAL);
    assert_non_null(strstr(err.msg, "strictly increasing"));
    /* wrong-type updates are ignored, not crashes */
    sp_metric_set(a, SP_LABELS("v"), 5);
    sp_metric_observe(a, SP_LABELS("v"), 5);
    assert_true(sp_metric_get(a, SP_LABELS("v")) == 0);
    sp_metric_add(NULL, NULL, 1);
    sp_metrics_free(m);
}

typedef struct hook_state {
    sp_metric *g;
    int calls;
} hook_state;

static void collect(void *ctx, sp_metrics *m)
{
    (void)m;
    hook_state *hs = ctx;
    hs->calls++;
    sp_metric_set(hs->g, SP_LABELS("sealed"), 10 * hs->calls);
}

static void test_collect_hook(void **state)
{
    (void)state;
    sp_metrics *m;
    sp_err err;
    assert_int_equal(sp_metrics_new(&m, &err), SP_OK);
    hook_state hs = { 0 };
    assert_int_equal(sp_metrics_gauge(m, "sectors", "Sectors by state.", "state", &hs.g, &err),
                     SP_OK);
    assert_int_equal(sp_metrics_on_collect(m, collect, &hs, &err), SP_OK);
    char *text = render(m);
    assert_non_null(strstr(text, "sectors{state=\"sealed\"} 10\n"));
    free(text);
    text = render(m);
    assert_non_null(strstr(text, "sectors{state=\"sealed\"} 20\n"));
    free(text);
    assert_int_equal(hs.calls, 2);
    sp_metrics_free(m);
}

typedef struct worker_arg {
    sp_metric *c;
    sp_metric *h;
    int id;
} worker_arg;

static void *hammer(void *p)
{
    worker_arg *a = p;
    char label[16];
    snprintf(label, sizeof label, "t%d", a->id % 2);
    for (int i = 0; i < 20000; i++) {
        sp_metric_add(a->c, SP_LABELS(label), 1);
        sp_metric_observe(a->h, SP_LABELS(label), 0.001 * (i % 7));
    }
    return NULL;
}

static void test_threads(void **state)
{
    (void)state;
    sp_metrics *m;
    sp_err err;
    assert_int_equal(sp_metrics_new(&m, &err), SP_OK);
    sp_metric *c, *h;
    assert_int_equal(sp_metrics_counter(m, "n_total", "N.", "t", &c, &err), SP_OK);
    assert_int_equal(sp_metrics_histogram(m, "l_seconds", "L.", "t", NULL, 0, &h, &err), SP_OK);
    pthread_t th[4];
    worker_arg args[4];
    for (int i = 0; i < 4; i++) {
        args[i] = (worker_arg){ c, h, i };
        pthread_create(&th[i], NULL, hammer, &args[i]);
    }
    for (int i = 0; i < 10; i++)
        free(render(m)); /* rendering while others write */
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    assert_true(sp_metric_get(c, SP_LABELS("t0")) == 40000);
    assert_true(sp_metric_get(c, SP_LABELS("t1")) == 40000);
    assert_true(sp_metric_get(h, SP_LABELS("t1")) == 40000);
    sp_metrics_free(m);
}

static void test_series_cap(void **state)
{
    (void)state;
    sp_log_set_level(SP_LOG_ERROR); /* the overflow warning is expected */
    sp_metrics *m;
    sp_err err;
    assert_int_equal(sp_metrics_new(&m, &err), SP_OK);
    sp_metric *c;
    assert_int_equal(sp_metrics_counter(m, "many_total", "Many.", "k", &c, &err), SP_OK);
    char label[16];
    for (int i = 0; i < SP_METRICS_MAX_SERIES + 50; i++) {
        snprintf(label, sizeof label, "v%d", i);
        sp_metric_add(c, SP_LABELS(label), 1);
    }
    assert_true(sp_metric_get(c, SP_LABELS("v0")) == 1);
    assert_true(sp_metric_get(c, SP_LABELS("v9999")) == 1);
    assert_true(sp_metric_get(c, SP_LABELS("v10000")) == 0);
    char *text = render(m);
    size_t lines = 0;
    for (const char *p = text; *p; p++)
        lines += *p == '\n';
    assert_int_equal(lines, SP_METRICS_MAX_SERIES + 2);
    free(text);
    sp_metrics_free(m);
    sp_log_set_level(SP_LOG_INFO);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counter_and_gauge_text),
        cmocka_unit_test(test_histogram_text),
        cmocka_unit_test(test_registration_rules),
        cmocka_unit_test(test_collect_hook),
        cmocka_unit_test(test_threads),
        cmocka_unit_test(test_series_cap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
