/* test_config.c — config loading with inherit, merging, schema checks, getters and
 * documentation (common/src/config*.c).
 *
 * Every test works in a fresh temporary directory (the program chdir()s into it) so
 * file names in messages are short and exact.  libconfig syntax is from its manual
 * (hyperrealm.github.io/libconfig); there are no public known-answer vectors for this
 * module, so the expected messages are the contract of sp_config.h.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "sp_config.h"
#include "sp_fs.h"

/* libconfig 1.5 leaks the string token at which a syntax error is found (its grammar has
 * no %destructor: `x = 1 "abc";` leaks 64 bytes).  Not ours to fix; LeakSanitizer reads
 * this hook when the program defines it. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
    return "leak:strbuf_append\n";
}

/* ---------------------------------------------------------------------------------- */
/* fixtures */

typedef struct tmpdir {
    char path[64];
    char old_cwd[4096];
} tmpdir;

static int setup_dir(void **state)
{
    tmpdir *t = calloc(1, sizeof *t);
    if (!t)
        return -1;
    snprintf(t->path, sizeof t->path, "/tmp/sp-test-config-XXXXXX");
    if (!mkdtemp(t->path) || !getcwd(t->old_cwd, sizeof t->old_cwd) || chdir(t->path) != 0) {
        free(t);
        return -1;
    }
    *state = t;
    return 0;
}

static int teardown_dir(void **state)
{
    tmpdir *t = *state;
    int rc = chdir(t->old_cwd);
    sp_remove_tree(t->path, NULL);
    free(t);
    return rc;
}

static void put(const char *path, const char *text)
{
    const char *slash = strrchr(path, '/');
    if (slash) {
        char dir[256];
        snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
        assert_int_equal(sp_mkdir_p(dir, 0755, NULL), SP_OK);
    }
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(fputs(text, f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
}

static sp_config *load_ok(const char *path)
{
    sp_config *cfg = NULL;
    sp_err e = { 0 };
    if (sp_config_load(path, &cfg, &e))
        fail_msg("load %s: %s", path, e.msg);
    assert_non_null(cfg);
    return cfg;
}

/* Loads a file that must fail with `code` and exactly `msg`. */
static void load_fails(const char *path, sp_code code, const char *msg)
{
    sp_config *cfg = (sp_config *)1;
    sp_err e = { 0 };
    sp_code rc = sp_config_load(path, &cfg, &e);
    if (rc != code || strcmp(e.msg, msg) != 0)
        fail_msg("load %s: got code %d \"%s\"\n  want code %d \"%s\"", path, rc, e.msg, code,
                 msg);
    assert_null(cfg);
}

static int64_t get_int(const sp_config *cfg, const char *path)
{
    int64_t v = -12345;
    sp_err e = { 0 };
    if (sp_config_get_int(sp_config_root(cfg), path, -1, &v, &e))
        fail_msg("get %s: %s", path, e.msg);
    return v;
}

static const char *get_str(const sp_config *cfg, const char *path)
{
    const char *v = NULL;
    sp_err e = { 0 };
    if (sp_config_get_string(sp_config_root(cfg), path, "(absent)", &v, &e))
        fail_msg("get %s: %s", path, e.msg);
    return v;
}

/* "file:line" of the setting at path. */
static const char *where(const sp_config *cfg, const char *path)
{
    static char buf[256];
    const config_setting_t *s = sp_config_lookup(sp_config_root(cfg), path);
    if (!s)
        fail_msg("no setting %s", path);
    snprintf(buf, sizeof buf, "%s:%u", s->file, s->line);
    return buf;
}

/* ---------------------------------------------------------------------------------- */
/* inheritance */

static void test_three_level_chain(void **state)
{
    (void)state;
    put("base.cfg",
        "# base\n"
        "a = 1;\n"
        "b = 2;\n"
        "c = 3;\n"
        "name = \"base\";\n");
    put("mid.cfg",
        "inherit = \"base.cfg\";\n"
        "b = 20;\n"
        "d = 40;\n");
    put("top.cfg",
        "inherit = \"mid.cfg\";\n"
        "\n"
        "c = 300;\n"
        "d = 400;\n");
    sp_config *cfg = load_ok("top.cfg");
    assert_int_equal(get_int(cfg, "a"), 1);
    assert_int_equal(get_int(cfg, "b"), 20);
    assert_int_equal(get_int(cfg, "c"), 300);
    assert_int_equal(get_int(cfg, "d"), 400);
    assert_string_equal(get_str(cfg, "name"), "base");
    /* Every setting remembers where it was written. */
    assert_string_equal(where(cfg, "a"), "base.cfg:2");
    assert_string_equal(where(cfg, "b"), "mid.cfg:2");
    assert_string_equal(where(cfg, "c"), "top.cfg:3");
    assert_string_equal(where(cfg, "d"), "top.cfg:4");
    assert_string_equal(where(cfg, "name"), "base.cfg:5");
    /* inherit is resolved, not kept. */
    assert_null(sp_config_lookup(sp_config_root(cfg), "inherit"));
    assert_int_equal(config_setting_length(sp_config_root(cfg)), 5);
    /* Replaced keys keep the parent's order. */
    const char *order[] = { "a", "b", "c", "name", "d" };
    for (unsigned i = 0; i < 5; i++)
        assert_string_equal(config_setting_get_elem(sp_config_root(cfg), i)->name, order[i]);
    assert_string_equal(sp_config_path(cfg), "top.cfg");
    assert_string_equal(sp_config_chain(cfg), "top.cfg -> mid.cfg -> base.cfg");
    sp_config_free(cfg);
}

static void test_group_merge_key_by_key(void **state)
{
    (void)state;
    put("base.cfg",
        "worker = {\n"
        "  name = \"base\";\n"
        "  listen = \"0.0.0.0:17890\";\n"
        "  nested = { a = 1; b = 2; };\n"
        "};\n"
        "sealing = { max_retries = 3; };\n");
    put("child.cfg",
        "inherit = \"base.cfg\";\n"
        "worker = {\n"
        "  name = \"child\";\n"
        "  nested = { b = 22; c = 33; };\n"
        "};\n");
    sp_config *cfg = load_ok("child.cfg");
    assert_string_equal(get_str(cfg, "worker.name"), "child");
    assert_string_equal(get_str(cfg, "worker.listen"), "0.0.0.0:17890");
    assert_int_equal(get_int(cfg, "worker.nested.a"), 1);
    assert_int_equal(get_int(cfg, "worker.nested.b"), 22);
    assert_int_equal(get_int(cfg, "worker.nested.c"), 33);
    assert_int_equal(get_int(cfg, "sealing.max_retries"), 3);
    assert_string_equal(where(cfg, "worker.name"), "child.cfg:3");
    assert_string_equal(where(cfg, "worker.listen"), "base.cfg:3");
    assert_string_equal(where(cfg, "worker.nested.a"), "base.cfg:4");
    assert_string_equal(where(cfg, "worker.nested.b"), "child.cfg:4");
    assert_string_equal(where(cfg, "sealing.max_retries"), "base.cfg:6");
    /* A merged group stays where the parent defined it. */
    assert_string_equal(where(cfg, "worker"), "base.cfg:1");
    const config_setting_t *w = sp_config_lookup(sp_config_root(cfg), "worker");
    assert_int_equal(config_setting_length(w), 3);
    assert_string_equal(config_setting_get_elem(w, 0)->name, "name");
    assert_string_equal(config_setting_get_elem(w, 1)->name, "listen");
    assert_string_equal(config_setting_get_elem(w, 2)->name, "nested");
    sp_config_free(cfg);
}

static void test_lists_and_arrays_replace(void **state)
{
    (void)state;
    put("base.cfg",
        "processors = {\n"
        "  pc1 = ( { cores = 1; }, { cores = 2; }, { cores = 3; } );\n"
        "  pc2 = ( { cores = 4; } );\n"
        "};\n"
        "miners = [ 1000, 1001, 1002 ];\n"
        "mode = { a = 1; };\n"
        "flag = 5;\n");
    put("child.cfg",
        "inherit = \"base.cfg\";\n"
        "processors = {\n"
        "  pc1 = ( { cores = 8; numa = 1; } );\n"
        "};\n"
        "miners = [ 2000 ];\n"
        "mode = \"scalar replaces a group\";\n"
        "flag = { now = \"a group\"; };\n");
    sp_config *cfg = load_ok("child.cfg");
    const config_setting_t *pc1 = sp_config_lookup(sp_config_root(cfg), "processors.pc1");
    assert_non_null(pc1);
    assert_int_equal(config_setting_length(pc1), 1);
    assert_int_equal(get_int(cfg, "processors.pc1[0].cores"), 8);
    assert_int_equal(get_int(cfg, "processors.pc1[0].numa"), 1);
    assert_null(sp_config_lookup(sp_config_root(cfg), "processors.pc1[1]"));
    assert_int_equal(get_int(cfg, "processors.pc2[0].cores"), 4);
    assert_string_equal(where(cfg, "processors.pc1[0].cores"), "child.cfg:3");
    assert_string_equal(where(cfg, "processors.pc2[0].cores"), "base.cfg:3");
    const config_setting_t *m = sp_config_lookup(sp_config_root(cfg), "miners");
    assert_int_equal(config_setting_type(m), CONFIG_TYPE_ARRAY);
    assert_int_equal(config_setting_length(m), 1);
    assert_int_equal(get_int(cfg, "miners[0]"), 2000);
    assert_string_equal(get_str(cfg, "mode"), "scalar replaces a group");
    assert_string_equal(get_str(cfg, "flag.now"), "a group");
    sp_config_free(cfg);
}

static void test_relative_parent_from_other_directory(void **state)
{
    (void)state;
    put("config/worker.cfg", "base = 1;\nsize = \"32GiB\";\n");
    put("config/hw/amd.cfg", "inherit = \"../worker.cfg\";\nsize = \"64GiB\";\n");
    put("config/hw/amd-big.cfg", "inherit = \"amd.cfg\";\nbig = true;\n");
    sp_config *cfg = load_ok("config/hw/amd-big.cfg");
    assert_int_equal(get_int(cfg, "base"), 1);
    assert_string_equal(get_str(cfg, "size"), "64GiB");
    assert_string_equal(where(cfg, "base"), "config/hw/../worker.cfg:1");
    assert_string_equal(where(cfg, "size"), "config/hw/amd.cfg:2");
    assert_string_equal(sp_config_chain(cfg),
                        "config/hw/amd-big.cfg -> config/hw/amd.cfg -> config/hw/../worker.cfg");
    sp_config_free(cfg);

    /* An absolute parent is used as written. */
    char cwd[4096], text[4200];
    assert_non_null(getcwd(cwd, sizeof cwd));
    snprintf(text, sizeof text, "inherit = \"%s/config/worker.cfg\";\nx = 2;\n", cwd);
    put("elsewhere/abs.cfg", text);
    cfg = load_ok("elsewhere/abs.cfg");
    assert_int_equal(get_int(cfg, "base"), 1);
    assert_int_equal(get_int(cfg, "x"), 2);
    sp_config_free(cfg);
}

static void test_cycle_detected(void **state)
{
    (void)state;
    put("a.cfg", "inherit = \"b.cfg\";\nx = 1;\n");
    put("b.cfg", "y = 2;\ninherit = \"c.cfg\";\n");
    put("c.cfg", "\n\ninherit = \"a.cfg\";\n");
    load_fails("a.cfg", SP_ECONFIG,
               "c.cfg:3: inherit: inheritance cycle: a.cfg -> b.cfg -> c.cfg -> a.cfg; remove "
               "one of the inherit keys");
    put("self.cfg", "inherit = \"./self.cfg\";\n");
    load_fails("self.cfg", SP_ECONFIG,
               "self.cfg:1: inherit: inheritance cycle: self.cfg -> ./self.cfg; remove one of "
               "the inherit keys");
    /* The same file under another name is still the same file. */
    put("sub/d.cfg", "inherit = \"../e.cfg\";\n");
    put("e.cfg", "inherit = \"sub/d.cfg\";\n");
    load_fails("e.cfg", SP_ECONFIG,
               "sub/d.cfg:1: inherit: inheritance cycle: e.cfg -> sub/d.cfg -> sub/../e.cfg; "
               "remove one of the inherit keys");
}

static void test_missing_and_broken_parent(void **state)
{
    (void)state;
    put("child.cfg", "# a child\ninherit = \"nope.cfg\";\n");
    load_fails("child.cfg", SP_ECONFIG,
               "child.cfg:2: inherit: parent \"nope.cfg\" cannot be read: No such file or "
               "directory (chain child.cfg -> nope.cfg); fix the path, which is relative to "
               "the directory of child.cfg");
    /* A missing grandparent names the middle file and the whole chain. */
    put("hw/top.cfg", "inherit = \"mid.cfg\";\n");
    put("hw/mid.cfg", "a = 1;\ninherit = \"../gone.cfg\";\n");
    load_fails("hw/top.cfg", SP_ECONFIG,
               "hw/mid.cfg:2: inherit: parent \"hw/../gone.cfg\" cannot be read: No such file "
               "or directory (chain hw/top.cfg -> hw/mid.cfg -> hw/../gone.cfg); fix the path, "
               "which is relative to the directory of hw/mid.cfg");
    /* A parent with a syntax error. */
    put("bad.cfg", "a = 1;\nb = ;\n");
    put("uses-bad.cfg", "inherit = \"bad.cfg\";\n");
    load_fails("uses-bad.cfg", SP_ECONFIG,
               "uses-bad.cfg:1: inherit: cannot load parent (chain uses-bad.cfg -> bad.cfg): "
               "bad.cfg:2: syntax error: syntax error");
    /* A directory is not a config file. */
    assert_int_equal(sp_mkdir_p("adir.cfg", 0755, NULL), SP_OK);
    put("uses-dir.cfg", "inherit = \"adir.cfg\";\n");
    load_fails("uses-dir.cfg", SP_ECONFIG,
               "uses-dir.cfg:1: inherit: parent \"adir.cfg\" is not a regular file (chain "
               "uses-dir.cfg -> adir.cfg)");
    /* inherit must be a non-empty string. */
    put("num.cfg", "inherit = 5;\n");
    load_fails("num.cfg", SP_ECONFIG,
               "num.cfg:1: inherit: expected the parent's file name as a non-empty string, got "
               "an integer 5");
    put("empty.cfg", "x = 1;\ninherit = \"\";\n");
    load_fails("empty.cfg", SP_ECONFIG,
               "empty.cfg:2: inherit: expected the parent's file name as a non-empty string, "
               "got a string \"\"");
}

static void test_top_file_errors(void **state)
{
    (void)state;
    load_fails("missing.cfg", SP_ENOTFOUND,
               "missing.cfg: cannot open the config file: No such file or directory");
    assert_int_equal(sp_mkdir_p("dir.cfg", 0755, NULL), SP_OK);
    load_fails("dir.cfg", SP_EINVAL, "dir.cfg: not a regular file; name a config file");
    put("syntax.cfg", "a = 1;\n\nb = { c = 2;\n");
    load_fails("syntax.cfg", SP_EPARSE, "syntax.cfg:4: syntax error: syntax error");
    put("dup.cfg", "a = 1;\na = 2;\n");
    load_fails("dup.cfg", SP_EPARSE, "dup.cfg:2: syntax error: duplicate setting name");
    sp_config *cfg = (sp_config *)1;
    assert_int_equal(sp_config_load("", &cfg, NULL), SP_EINVAL);
    assert_null(cfg);
    cfg = (sp_config *)1;
    assert_int_equal(sp_config_load(NULL, &cfg, NULL), SP_EINVAL);
    assert_null(cfg);
    assert_int_equal(sp_config_load("x.cfg", NULL, NULL), SP_EINVAL);
    /* A sealed sector named by mistake is not read whole (sparse, so cheap here). */
    FILE *f = fopen("huge.cfg", "w");
    assert_non_null(f);
    assert_int_equal(ftruncate(fileno(f), 17 << 20), 0);
    assert_int_equal(fclose(f), 0);
    sp_err e = { 0 };
    assert_int_equal(sp_config_load("huge.cfg", &cfg, &e), SP_EINVAL);
    assert_non_null(strstr(e.msg, "huge.cfg"));
    sp_config_free(NULL);
}

/* libconfig 1.5 silently wraps decimal literals beyond 32 bits; the loader refuses them. */
static void test_wide_integer_literals(void **state)
{
    (void)state;
    put("wide.cfg", "a = 1;\n\ncapacity = 5000000000;\n");
    load_fails("wide.cfg", SP_EPARSE,
               "wide.cfg:3: syntax error: integer 5000000000 does not fit in 32 bits; write "
               "5000000000L for a 64-bit integer (or a size string such as \"32GiB\")");
    put("hex.cfg", "mask = 0x1FFFFFFFF;\n");
    load_fails("hex.cfg", SP_EPARSE,
               "hex.cfg:1: syntax error: integer 0x1FFFFFFFF does not fit in 32 bits; write "
               "0x1FFFFFFFFL for a 64-bit integer (or a size string such as \"32GiB\")");
    put("neg.cfg", "g = { l = ( 1, -2147483649 ); };\n");
    load_fails("neg.cfg", SP_EPARSE,
               "neg.cfg:1: syntax error: integer -2147483649 does not fit in 32 bits; write "
               "-2147483649L for a 64-bit integer (or a size string such as \"32GiB\")");
    put("huge.cfg", "/* multi\nline */ x = [ 99999999999999999999 ];\n");
    load_fails("huge.cfg", SP_EPARSE,
               "huge.cfg:2: syntax error: integer 99999999999999999999 does not fit in 32 "
               "bits; write 99999999999999999999L for a 64-bit integer (or a size string such "
               "as \"32GiB\")");
    /* Digits in strings, comments, names, floats and 64-bit literals are fine. */
    put("fine.cfg",
        "s = \"5000000000 \\\" 6000000000\";  # 5000000000\n"
        "// 5000000000\n"
        "/* 5000000000 */ y = 5000000000L;\n"
        "z = 1e12; w = 5000000000.0; v = .5e10; gpu5000000000 = 1;\n"
        "h = 0xFFFFFFFF; n = -2147483648; p = +2147483647; hl = 0x1FFFFFFFFL;\n");
    sp_config *cfg = load_ok("fine.cfg");
    assert_int_equal(get_int(cfg, "y"), 5000000000LL);
    assert_int_equal(get_int(cfg, "n"), INT32_MIN);
    assert_int_equal(get_int(cfg, "p"), INT32_MAX);
    assert_int_equal(get_int(cfg, "hl"), 0x1FFFFFFFFLL);
    assert_string_equal(get_str(cfg, "s"), "5000000000 \" 6000000000");
    sp_config_free(cfg);
    /* Literals at the very end of the text. */
    sp_err e = { 0 };
    const char *ends[] = { "x = 1.5", "x = 1", "x = 0x10", "x = 1e5", "x = 5L", "x = \"a",
                           "x = 1; # c", "x = 1; /* c", "gpu-a_b*", "x = .5" };
    for (size_t i = 0; i < sizeof ends / sizeof *ends; i++) {
        cfg = NULL;
        sp_code rc = sp_config_load_string(ends[i], "end.cfg", &cfg, &e);
        assert_true(rc == SP_OK || rc == SP_EPARSE);
        sp_config_free(cfg);
    }
    assert_int_equal(sp_config_load_string("x = 3000000000", "end.cfg", &cfg, &e), SP_EPARSE);
    /* A NUL byte would end libconfig's reading early. */
    FILE *f = fopen("nul.cfg", "w");
    assert_non_null(f);
    assert_int_equal(fwrite("a = 1;\0b = 2;\n", 1, 15, f), 15);
    assert_int_equal(fclose(f), 0);
    load_fails("nul.cfg", SP_EPARSE, "nul.cfg: contains a NUL byte; this is not a config file");
}

/* Builds a chain of n files l1.cfg -> l2.cfg -> ... -> l<n>.cfg. */
static void make_chain(int n)
{
    for (int i = 1; i <= n; i++) {
        char name[32], text[128];
        snprintf(name, sizeof name, "l%d.cfg", i);
        if (i < n)
            snprintf(text, sizeof text, "inherit = \"l%d.cfg\";\nv%d = %d;\nlast = %d;\n", i + 1,
                     i, i, i);
        else
            snprintf(text, sizeof text, "v%d = %d;\nlast = %d;\n", i, i, i);
        put(name, text);
    }
}

static void test_depth_limit(void **state)
{
    (void)state;
    make_chain(SP_CONFIG_MAX_DEPTH);
    sp_config *cfg = load_ok("l1.cfg");
    for (int i = 1; i <= SP_CONFIG_MAX_DEPTH; i++) {
        char key[16];
        snprintf(key, sizeof key, "v%d", i);
        assert_int_equal(get_int(cfg, key), i);
    }
    assert_int_equal(get_int(cfg, "last"), 1);
    assert_string_equal(where(cfg, "last"), "l1.cfg:3");
    assert_string_equal(where(cfg, "v8"), "l8.cfg:1");
    sp_config_free(cfg);

    make_chain(SP_CONFIG_MAX_DEPTH + 1);
    load_fails("l1.cfg", SP_ECONFIG,
               "l8.cfg:1: inherit: inheritance chain longer than 8 files (l1.cfg -> l2.cfg -> "
               "l3.cfg -> l4.cfg -> l5.cfg -> l6.cfg -> l7.cfg -> l8.cfg -> l9.cfg); inherit "
               "from a file nearer the base");
}

static void test_load_string(void **state)
{
    (void)state;
    put("cfgdir/base.cfg", "a = 1;\nb = 2;\n");
    sp_config *cfg = NULL;
    sp_err e = { 0 };
    assert_int_equal(sp_config_load_string("inherit = \"base.cfg\";\nb = 3;\n",
                                           "cfgdir/inline.cfg", &cfg, &e), SP_OK);
    assert_int_equal(get_int(cfg, "a"), 1);
    assert_int_equal(get_int(cfg, "b"), 3);
    assert_string_equal(where(cfg, "b"), "cfgdir/inline.cfg:2");
    assert_string_equal(where(cfg, "a"), "cfgdir/base.cfg:1");
    sp_config_free(cfg);

    cfg = (sp_config *)1;
    assert_int_equal(sp_config_load_string("x = 1;\ny = [1, \"a\"];\n", "mem.cfg", &cfg, &e),
                     SP_EPARSE);
    assert_null(cfg);
    assert_string_equal(e.msg, "mem.cfg:2: syntax error: mismatched element type in array");
    assert_int_equal(sp_config_load_string(NULL, "mem.cfg", &cfg, &e), SP_EINVAL);

    /* An empty text is an empty config. */
    assert_int_equal(sp_config_load_string("", "empty.cfg", &cfg, &e), SP_OK);
    assert_int_equal(config_setting_length(sp_config_root(cfg)), 0);
    sp_config_free(cfg);
}

/* ---------------------------------------------------------------------------------- */
/* key paths and errors */

static void test_key_paths_and_fail_at(void **state)
{
    (void)state;
    put("worker.cfg",
        "processors = {\n"
        "  pc1 = (\n"
        "    { cores = 4; },\n"
        "    { cores = 8;\n"
        "      envs = { CUDA_VISIBLE_DEVICES = \"0\"; };\n"
        "      cpus = [ 1, 2, 3 ]; }\n"
        "  );\n"
        "};\n");
    sp_config *cfg = load_ok("worker.cfg");
    const config_setting_t *root = sp_config_root(cfg);
    char buf[128];
    const config_setting_t *s = sp_config_lookup(root, "processors.pc1[1].cores");
    assert_non_null(s);
    assert_string_equal(sp_config_key_path(s, buf, sizeof buf), "processors.pc1[1].cores");
    s = sp_config_lookup(root, "processors.pc1[1].envs.CUDA_VISIBLE_DEVICES");
    assert_string_equal(sp_config_key_path(s, buf, sizeof buf),
                        "processors.pc1[1].envs.CUDA_VISIBLE_DEVICES");
    s = sp_config_lookup(root, "processors.pc1[1].cpus[2]");
    assert_string_equal(sp_config_key_path(s, buf, sizeof buf), "processors.pc1[1].cpus[2]");
    assert_int_equal(s->line, 6);
    assert_string_equal(sp_config_key_path(root, buf, sizeof buf), "");
    /* Truncation keeps a terminated prefix. */
    char small[10];
    assert_string_equal(sp_config_key_path(s, small, sizeof small), "processor");
    /* Malformed and missing paths. */
    assert_null(sp_config_lookup(root, "processors.pc1[9]"));
    assert_null(sp_config_lookup(root, "processors.pc1[x]"));
    assert_null(sp_config_lookup(root, "processors.pc1[-1]"));
    assert_null(sp_config_lookup(root, "processors..pc1"));
    assert_null(sp_config_lookup(root, "processors."));
    assert_null(sp_config_lookup(root, "processors[0]"));
    assert_null(sp_config_lookup(root, "nope"));
    assert_null(sp_config_lookup(NULL, "processors"));
    assert_true(sp_config_lookup(root, "") == root);

    sp_err e;
    s = sp_config_lookup(root, "processors.pc1[1].cores");
    assert_int_equal(sp_config_fail_at(&e, s, "%d cores requested but NUMA node %d has %d",
                                       8, 0, 4), SP_ECONFIG);
    assert_int_equal(e.code, SP_ECONFIG);
    assert_string_equal(e.msg, "worker.cfg:4: processors.pc1[1].cores: 8 cores requested but "
                               "NUMA node 0 has 4");
    sp_config_fail_at(&e, sp_config_lookup(root, "processors.pc1[0]"), "overlaps pc1[1]");
    assert_string_equal(e.msg, "worker.cfg:3: processors.pc1[0]: overlaps pc1[1]");
    sp_config_fail_at(&e, root, "no processors at all");
    assert_string_equal(e.msg, "worker.cfg: no processors at all");
    sp_config_fail_at(&e, NULL, "plain");
    assert_string_equal(e.msg, "plain");
    assert_int_equal(sp_config_fail_at(NULL, s, "x"), SP_ECONFIG);

    assert_string_equal(sp_config_describe(s, buf, sizeof buf), "an integer 8");
    assert_string_equal(sp_config_quote("a\"b\\c\nd\te\x01", buf, sizeof buf),
                        "\"a\\\"b\\\\c\\nd\\te\\x01\"");
    char longv[100];
    memset(longv, 'x', 99);
    longv[99] = 0;
    assert_string_equal(sp_config_quote(longv, buf, sizeof buf),
                        "\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx...\"");
    assert_string_equal(sp_config_quote(longv, small, sizeof small), "\"xxxx...\"");
    assert_string_equal(sp_config_quote(NULL, small, sizeof small), "\"\"");
    sp_config_fail_at(&e, s, "two\nlines");
    assert_string_equal(e.msg, "worker.cfg:4: processors.pc1[1].cores: two lines");
    assert_string_equal(sp_config_describe(sp_config_lookup(root, "processors"), buf,
                                           sizeof buf), "a group");
    assert_string_equal(sp_config_describe(sp_config_lookup(root, "processors.pc1"), buf,
                                           sizeof buf), "a list");
    assert_string_equal(sp_config_describe(sp_config_lookup(root, "processors.pc1[1].cpus"),
                                           buf, sizeof buf), "an array");
    sp_config_free(cfg);
}

/* ---------------------------------------------------------------------------------- */
/* schema */

static const char *const backends[] = { "native", "filcrypto", NULL };
static const char *const stages[] = { "pc1", "pc2", "c2", NULL };

static const sp_cfg_field proc_fields[] = {
    { .name = "cores", .type = SP_CFG_INT, .min = 1, .max = 256,
      .doc = "whole physical cores to take" },
    { .name = "numa", .type = SP_CFG_INT, .min = 0, .max = INT64_MAX, .doc = "NUMA node" },
    { .name = "cpuset", .type = SP_CFG_STRING, .doc = "OS CPU indexes, \"0-7,32-39\"" },
    { .name = "backend", .type = SP_CFG_ENUM, .values = backends, .def = "native",
      .doc = "proof implementation" },
    { .name = "share", .type = SP_CFG_BOOL, .def = "false", .doc = "may share cores" },
    { .name = "hugepages", .type = SP_CFG_SIZE, .max = 1LL << 40, .doc = "huge page memory" },
    { .name = "envs", .type = SP_CFG_MAP,
      .children = &(const sp_cfg_field){ .type = SP_CFG_STRING },
      .doc = "extra environment" },
    { .name = "locks", .type = SP_CFG_STRING_ARRAY, .doc = "ext_locks taken" },
    { 0 },
};

static const sp_cfg_field processors_fields[] = {
    { .name = "ext_locks", .type = SP_CFG_MAP,
      .children = &(const sp_cfg_field){ .type = SP_CFG_INT, .min = 1, .max = 64 },
      .doc = "named locks and how many holders each allows" },
    { .name = "pc1", .type = SP_CFG_GROUP_LIST, .children = proc_fields, .doc = "PC1 children" },
    { .name = "pc2", .type = SP_CFG_GROUP_LIST, .children = proc_fields, .doc = "PC2 children" },
    { 0 },
};

static const sp_cfg_field sealing_fields[] = {
    { .name = "allowed_miners", .type = SP_CFG_INT_ARRAY, .min = 1000, .max = INT64_MAX,
      .doc = "actor ids this worker seals for" },
    { .name = "allowed_stages", .type = SP_CFG_STRING_ARRAY, .values = stages,
      .doc = "stages run here" },
    { .name = "max_retries", .type = SP_CFG_INT, .def = "3", .doc = "temporary error retries" },
    { .name = "recover_interval", .type = SP_CFG_DURATION, .min = 1000, .max = 3600000,
      .def = "60s", .doc = "wait between retries" },
    { .name = "weight", .type = SP_CFG_FLOAT, .doc = "placement weight" },
    { 0 },
};

static const sp_cfg_field manager_fields[] = {
    { .name = "url", .type = SP_CFG_STRING, .flags = SP_CFG_REQUIRED, .doc = "manager RPC URL" },
    { .name = "token", .type = SP_CFG_STRING, .doc = "worker token" },
    { 0 },
};

static const sp_cfg_field test_schema[] = {
    { .name = "sector_manager", .type = SP_CFG_GROUP, .flags = SP_CFG_REQUIRED,
      .children = manager_fields, .doc = "where the manager is" },
    { .name = "sealing", .type = SP_CFG_GROUP, .children = sealing_fields,
      .doc = "sealing policy" },
    { .name = "processors", .type = SP_CFG_GROUP, .children = processors_fields,
      .doc = "processor children per stage" },
    { 0 },
};

static const char good_cfg[] =
    "sector_manager = { url = \"http://127.0.0.1:1789/rpc/v0\"; };\n"
    "sealing = {\n"
    "  allowed_miners = [ 1000, 1001 ];\n"
    "  allowed_stages = ( \"pc1\", \"c2\" );\n"
    "  max_retries = 5;\n"
    "  recover_interval = \"1min\";\n"
    "  weight = 2;\n"
    "};\n"
    "processors = {\n"
    "  ext_locks = { gpu0 = 1; gpu1 = 2; };\n"
    "  pc1 = ( { cores = 8; numa = 0; hugepages = \"64GiB\"; backend = \"filcrypto\"; },\n"
    "          { cpuset = \"0-7\"; share = true; envs = { CUDA_VISIBLE_DEVICES = \"0\"; };\n"
    "            locks = [ \"gpu0\" ]; hugepages = 4096; } );\n"
    "  pc2 = [];\n"
    "};\n";

/* Checks text against test_schema; returns the all-problems text (caller frees) and
 * fills *first.  NULL when the config passes. */
static char *check_text(const char *text, sp_err *first)
{
    sp_config *cfg = NULL;
    sp_err e = { 0 };
    if (sp_config_load_string(text, "worker.cfg", &cfg, &e))
        fail_msg("load: %s", e.msg);
    char *all = (char *)1;
    sp_code rc = sp_config_check(cfg, test_schema, &all, first);
    sp_config_free(cfg);
    if (rc == SP_OK) {
        assert_null(all);
        return NULL;
    }
    assert_int_equal(rc, SP_ECONFIG);
    assert_int_equal(first->code, SP_ECONFIG);
    assert_non_null(all);
    return all;
}

/* One wrong line added to the good config gives exactly `msg`. */
static void check_one(const char *text, const char *msg)
{
    sp_err first = { 0 };
    char *all = check_text(text, &first);
    if (!all)
        fail_msg("config passed, want \"%s\"", msg);
    if (strcmp(all, msg) != 0 || strcmp(first.msg, msg) != 0)
        fail_msg("got \"%s\"\nwant \"%s\"", all, msg);
    free(all);
}

/* Same for problems whose tail is sp_parse_size/duration's own text (size.c owns it). */
static void check_prefix(const char *text, const char *prefix)
{
    sp_err first = { 0 };
    char *all = check_text(text, &first);
    if (!all)
        fail_msg("config passed, want \"%s...\"", prefix);
    if (strncmp(all, prefix, strlen(prefix)) != 0 || strchr(all, '\n') ||
        strcmp(first.msg, all) != 0)
        fail_msg("got \"%s\"\nwant \"%s...\"", all, prefix);
    free(all);
}

static void test_schema_accepts_good(void **state)
{
    (void)state;
    sp_err e = { 0 };
    char *all = check_text(good_cfg, &e);
    if (all)
        fail_msg("good config rejected: %s", all);
}

#define MGR "sector_manager = { url = \"u\"; };\n"

static void test_schema_unknown_and_wrong_type(void **state)
{
    (void)state;
    check_one(MGR "procesors = {};\n",
              "worker.cfg:2: procesors: unknown key; did you mean \"processors\"?");
    check_one(MGR "processors = {\n  pc1 = ( { cores = 1; numa_node = 0; } );\n};\n",
              "worker.cfg:3: processors.pc1[0].numa_node: unknown key; did you mean \"numa\"?");
    check_one(MGR "zzz = 1;\n",
              "worker.cfg:2: zzz: unknown key; remove it or use one of: sector_manager, "
              "sealing, processors");
    check_one(MGR "processors = {\n  pc1 = ( { cores = \"8\"; } );\n};\n",
              "worker.cfg:3: processors.pc1[0].cores: expected an integer, got a string \"8\"; "
              "write the number without quotes");
    check_one(MGR "processors = {\n  pc1 = ( {\n cores = \"eight\"; } );\n};\n",
              "worker.cfg:4: processors.pc1[0].cores: expected an integer, got a string "
              "\"eight\"");
    check_one(MGR "processors = { pc1 = ( { share = \"true\"; } ); };\n",
              "worker.cfg:2: processors.pc1[0].share: expected a boolean (true or false), got "
              "a string \"true\"; write true without quotes");
    check_one(MGR "processors = { pc1 = { cores = 1; }; };\n",
              "worker.cfg:2: processors.pc1: expected a list of groups ( { ... }, { ... } ), "
              "got a group");
    check_one(MGR "processors = { pc1 = ( { cores = 1; }, 5 ); };\n",
              "worker.cfg:2: processors.pc1[1]: expected a group { ... }, got an integer 5");
    check_one(MGR "processors = 1.5;\n",
              "worker.cfg:2: processors: expected a group { ... }, got a float 1.5");
    check_one(MGR "sealing = { weight = \"heavy\"; };\n",
              "worker.cfg:2: sealing.weight: expected a number, got a string \"heavy\"");
    check_one(MGR "processors = { pc1 = ( { cpuset = 7; } ); };\n",
              "worker.cfg:2: processors.pc1[0].cpuset: expected a string, got an integer 7");
    check_one(MGR "sealing = { allowed_miners = 1000; };\n",
              "worker.cfg:2: sealing.allowed_miners: expected an array of integers [ 1, 2 ], "
              "got an integer 1000");
    check_one(MGR "sealing = { allowed_miners = [ \"f01000\" ]; };\n",
              "worker.cfg:2: sealing.allowed_miners[0]: expected an integer, got a string "
              "\"f01000\"");
    check_one(MGR "sealing = { allowed_stages = ( \"pc1\", 2 ); };\n",
              "worker.cfg:2: sealing.allowed_stages[1]: expected one of \"pc1\", \"pc2\", \"c2\", "
              "got an integer 2");
}

static void test_schema_missing_required(void **state)
{
    (void)state;
    check_one("sealing = {};\n",
              "worker.cfg: missing required key \"sector_manager\": where the manager is; add "
              "it");
    check_one("\nsector_manager = {\n token = \"t\"; };\n",
              "worker.cfg:2: sector_manager: missing required key \"url\": manager RPC URL; "
              "add it");
}

static void test_schema_enum_range_size_duration(void **state)
{
    (void)state;
    check_one(MGR "processors = { pc1 = ( { backend = \"cuda\"; } ); };\n",
              "worker.cfg:2: processors.pc1[0].backend: \"cuda\" is not allowed; use one of "
              "\"native\", \"filcrypto\"");
    check_one(MGR "processors = { pc1 = ( { backend = 1; } ); };\n",
              "worker.cfg:2: processors.pc1[0].backend: expected one of \"native\", "
              "\"filcrypto\", got an integer 1");
    check_one(MGR "sealing = { allowed_stages = [ \"pc1\", \"tree_d\" ]; };\n",
              "worker.cfg:2: sealing.allowed_stages[1]: \"tree_d\" is not allowed; use one of "
              "\"pc1\", \"pc2\", \"c2\"");
    check_one(MGR "processors = { pc1 = ( { cores = 0; } ); };\n",
              "worker.cfg:2: processors.pc1[0].cores: 0 is out of range; use a value from 1 to "
              "256");
    check_one(MGR "processors = { pc1 = ( { cores = 257; } ); };\n",
              "worker.cfg:2: processors.pc1[0].cores: 257 is out of range; use a value from 1 "
              "to 256");
    check_one(MGR "processors = { pc1 = ( { numa = -1; } ); };\n",
              "worker.cfg:2: processors.pc1[0].numa: -1 is out of range; use a value from 0 to "
              "9223372036854775807");
    check_one(MGR "sealing = { allowed_miners = [ 1000, 999 ]; };\n",
              "worker.cfg:2: sealing.allowed_miners[1]: 999 is out of range; use a value from "
              "1000 to 9223372036854775807");
    /* int64 values (libconfig's "L" suffix). */
    check_one(MGR "processors = { pc1 = ( { cores = 5000000000L; } ); };\n",
              "worker.cfg:2: processors.pc1[0].cores: 5000000000 is out of range; use a value "
              "from 1 to 256");
    check_prefix(MGR "processors = { pc1 = ( { hugepages = \"12XB\"; } ); };\n",
                 "worker.cfg:2: processors.pc1[0].hugepages: size \"12XB\": unknown unit");
    check_one(MGR "processors = { pc1 = ( { hugepages = \"2TiB\"; } ); };\n",
              "worker.cfg:2: processors.pc1[0].hugepages: size 2TiB is out of range; use a "
              "size from 0 to 1TiB");
    check_one(MGR "processors = { pc1 = ( { hugepages = -5; } ); };\n",
              "worker.cfg:2: processors.pc1[0].hugepages: size -5 is negative; write a size "
              "such as \"32GiB\" or a number of bytes");
    check_one(MGR "processors = { pc1 = ( { hugepages = true; } ); };\n",
              "worker.cfg:2: processors.pc1[0].hugepages: expected a size such as \"32GiB\" or "
              "a number of bytes, got a boolean true");
    check_prefix(MGR "sealing = { recover_interval = \"soon\"; };\n",
                 "worker.cfg:2: sealing.recover_interval: duration \"soon\": expected");
    check_one(MGR "sealing = { recover_interval = 30; };\n",
              "worker.cfg:2: sealing.recover_interval: expected a duration string such as "
              "\"30s\", \"5min\" or \"1h\", got an integer 30");
    check_one(MGR "sealing = { recover_interval = \"500ms\"; };\n",
              "worker.cfg:2: sealing.recover_interval: duration 500ms is out of range; use a "
              "duration from 1s to 1h");
}

static void test_schema_maps(void **state)
{
    (void)state;
    check_one(MGR "processors = { ext_locks = { gpu0 = \"1\"; }; };\n",
              "worker.cfg:2: processors.ext_locks.gpu0: expected an integer, got a string "
              "\"1\"; write the number without quotes");
    check_one(MGR "processors = { ext_locks = { gpu0 = 1; gpu1 = 65; }; };\n",
              "worker.cfg:2: processors.ext_locks.gpu1: 65 is out of range; use a value from 1 "
              "to 64");
    check_one(MGR "processors = { ext_locks = ( 1 ); };\n",
              "worker.cfg:2: processors.ext_locks: expected a group of name = value pairs "
              "{ ... }, got a list");
    check_one(MGR "processors = { pc1 = ( { envs = { CUDA_VISIBLE_DEVICES = 0; }; } ); };\n",
              "worker.cfg:2: processors.pc1[0].envs.CUDA_VISIBLE_DEVICES: expected a string, "
              "got an integer 0");
    /* Any key is fine in a map. */
    sp_err e;
    char *all = check_text(MGR "processors = { ext_locks = { anything-goes = 3; x_y = 1; }; };\n",
                           &e);
    assert_null(all);
}

static void test_schema_all_errors_and_parent_lines(void **state)
{
    (void)state;
    /* Problems in a parent file are reported at the parent's lines. */
    put("base.cfg",
        "sector_manager = { url = \"u\"; };\n"
        "processors = {\n"
        "  pc1 = ( { cores = \"4\"; } );\n"
        "  pc2 = ( { core = 2; } );\n"
        "};\n");
    put("hw/child.cfg",
        "inherit = \"../base.cfg\";\n"
        "sealing = { max_retries = \"x\";\n"
        "  recover_interval = \"1parsec\"; };\n");
    sp_config *cfg = load_ok("hw/child.cfg");
    char *all = NULL;
    sp_err e = { 0 };
    assert_int_equal(sp_config_check(cfg, test_schema, &all, &e), SP_ECONFIG);
    assert_non_null(all);
    assert_string_equal(e.msg, "hw/../base.cfg:3: processors.pc1[0].cores: expected an integer, "
                               "got a string \"4\"; write the number without quotes");
    /* The last line ends in sp_parse_duration_ms's own words. */
    const char *want =
        "hw/../base.cfg:3: processors.pc1[0].cores: expected an integer, got a string \"4\"; "
        "write the number without quotes\n"
        "hw/../base.cfg:4: processors.pc2[0].core: unknown key; did you mean \"cores\"?\n"
        "hw/child.cfg:2: sealing.max_retries: expected an integer, got a string \"x\"\n"
        "hw/child.cfg:3: sealing.recover_interval: duration \"1parsec\": ";
    if (strncmp(all, want, strlen(want)) != 0 || strchr(all + strlen(want), '\n'))
        fail_msg("got \"%s\"\nwant \"%s...\"", all, want);
    free(all);
    /* all may be NULL: only the first problem is returned. */
    assert_int_equal(sp_config_check(cfg, test_schema, NULL, &e), SP_ECONFIG);
    assert_string_equal(e.msg, "hw/../base.cfg:3: processors.pc1[0].cores: expected an integer, "
                               "got a string \"4\"; write the number without quotes");
    assert_int_equal(sp_config_check(NULL, test_schema, NULL, &e), SP_EINVAL);
    sp_config_free(cfg);

    /* More than SP_CONFIG_MAX_ERRORS problems: the list is capped and says so. */
    char text[4096] = MGR;
    for (int i = 0; i < SP_CONFIG_MAX_ERRORS + 5; i++) {
        char line[40];
        snprintf(line, sizeof line, "bad%d = 1;\n", i);
        strcat(text, line);
    }
    all = check_text(text, &e);
    assert_non_null(all);
    assert_string_equal(e.msg, "worker.cfg:2: bad0: unknown key; remove it or use one of: "
                               "sector_manager, sealing, processors");
    int lines = 1;
    for (const char *p = all; *p; p++)
        lines += *p == '\n';
    assert_int_equal(lines, SP_CONFIG_MAX_ERRORS + 1);
    assert_non_null(strstr(all, "\n... and 5 more problems"));
    assert_int_equal(all[strlen(all) - 1], 's');
    free(all);
}

/* Mutated configs never crash the loader or the checks, and every message names the
 * file (run under `make asan` this also checks memory use on all the error paths). */
static void test_mutations_are_reported_not_fatal(void **state)
{
    (void)state;
    static const char alphabet[] = "\"{}()[];=,.\n#/*0123456789Lx-+aeE_@ \\";
    uint32_t rng = 0x9e3779b9u;
    size_t base_len = strlen(good_cfg);
    unsigned loaded = 0, rejected = 0;
    for (int iter = 0; iter < 3000; iter++) {
        char text[sizeof good_cfg + 64];
        memcpy(text, good_cfg, base_len + 1);
        size_t len = base_len;
        int edits = 1 + iter % 4;
        for (int k = 0; k < edits; k++) {
            rng = rng * 1664525u + 1013904223u;
            size_t at = (rng >> 8) % len;
            switch ((rng >> 4) % 3) {
            case 0:
                text[at] = alphabet[(rng >> 16) % (sizeof alphabet - 1)];
                break;
            case 1:
                memmove(text + at, text + at + 1, len - at);
                len--;
                break;
            default:
                if (len + 1 < sizeof text) {
                    memmove(text + at + 1, text + at, len - at + 1);
                    text[at] = alphabet[(rng >> 16) % (sizeof alphabet - 1)];
                    len++;
                }
                break;
            }
        }
        /* The last edits sometimes cut the text short, ending in the middle of a token. */
        if (iter % 7 == 0)
            text[(rng >> 12) % len] = 0;
        sp_config *cfg = NULL;
        sp_err e = { 0 };
        if (sp_config_load_string(text, "worker.cfg", &cfg, &e)) {
            assert_null(cfg);
            if (strncmp(e.msg, "worker.cfg", 10) != 0)
                fail_msg("load message without the file: \"%s\" for:\n%s", e.msg, text);
            rejected++;
            continue;
        }
        loaded++;
        char *all = NULL;
        if (sp_config_check(cfg, test_schema, &all, &e)) {
            assert_non_null(all);
            for (const char *line = all; line; line = strchr(line, '\n')) {
                line += *line == '\n';
                if (strncmp(line, "worker.cfg", 10) != 0 && strncmp(line, "...", 3) != 0)
                    fail_msg("check message without the file: \"%s\"", line);
            }
        }
        free(all);
        sp_config_free(cfg);
    }
    /* Both paths were exercised. */
    assert_true(loaded > 100);
    assert_true(rejected > 100);
}

/* ---------------------------------------------------------------------------------- */
/* getters */

static void test_getters(void **state)
{
    (void)state;
    sp_config *cfg = NULL;
    sp_err e = { 0 };
    assert_int_equal(sp_config_load_string(
        "i = 42;\n"
        "big = 9000000000L;\n"
        "neg = -3;\n"
        "b = true;\n"
        "f = 2.5;\n"
        "s = \"text\";\n"
        "size = \"32GiB\";\n"
        "size_n = 2048;\n"
        "dur = \"1h30m\";\n"
        "mode = \"filcrypto\";\n"
        "g = { list = ( { v = 7; } ); };\n", "get.cfg", &cfg, &e), SP_OK);
    const config_setting_t *r = sp_config_root(cfg);
    int64_t i;
    bool b;
    double f;
    const char *s;
    uint64_t u;
    int en;

    assert_int_equal(sp_config_get_int(r, "i", 0, &i, &e), SP_OK);
    assert_int_equal(i, 42);
    assert_int_equal(sp_config_get_int(r, "big", 0, &i, &e), SP_OK);
    assert_int_equal(i, 9000000000LL);
    assert_int_equal(sp_config_get_int(r, "neg", 0, &i, &e), SP_OK);
    assert_int_equal(i, -3);
    assert_int_equal(sp_config_get_int(r, "g.list[0].v", 0, &i, &e), SP_OK);
    assert_int_equal(i, 7);
    assert_int_equal(sp_config_get_int(r, "absent", 99, &i, &e), SP_OK);
    assert_int_equal(i, 99);
    assert_int_equal(sp_config_get_int(NULL, "i", 5, &i, &e), SP_OK);
    assert_int_equal(i, 5);
    i = 1;
    assert_int_equal(sp_config_get_int(r, "s", 0, &i, &e), SP_ECONFIG);
    assert_int_equal(i, 1);
    assert_string_equal(e.msg, "get.cfg:6: s: expected an integer, got a string \"text\"");
    /* "" reads the base itself. */
    const config_setting_t *v = sp_config_lookup(r, "g.list[0].v");
    assert_int_equal(sp_config_get_int(v, "", 0, &i, &e), SP_OK);
    assert_int_equal(i, 7);

    assert_int_equal(sp_config_get_bool(r, "b", false, &b, &e), SP_OK);
    assert_true(b);
    assert_int_equal(sp_config_get_bool(r, "absent", true, &b, &e), SP_OK);
    assert_true(b);
    assert_int_equal(sp_config_get_bool(r, "i", false, &b, &e), SP_ECONFIG);
    assert_string_equal(e.msg,
                        "get.cfg:1: i: expected a boolean (true or false), got an integer 42");

    assert_int_equal(sp_config_get_float(r, "f", 0, &f, &e), SP_OK);
    assert_true(f == 2.5);
    assert_int_equal(sp_config_get_float(r, "i", 0, &f, &e), SP_OK);
    assert_true(f == 42.0);
    assert_int_equal(sp_config_get_float(r, "b", 0, &f, &e), SP_ECONFIG);
    assert_string_equal(e.msg, "get.cfg:4: b: expected a number, got a boolean true");

    assert_int_equal(sp_config_get_string(r, "s", NULL, &s, &e), SP_OK);
    assert_string_equal(s, "text");
    assert_int_equal(sp_config_get_string(r, "absent", "dflt", &s, &e), SP_OK);
    assert_string_equal(s, "dflt");
    assert_int_equal(sp_config_get_string(r, "g", NULL, &s, &e), SP_ECONFIG);
    assert_string_equal(e.msg, "get.cfg:11: g: expected a string, got a group");

    assert_int_equal(sp_config_get_size(r, "size", 0, &u, &e), SP_OK);
    assert_int_equal(u, 32ULL << 30);
    assert_int_equal(sp_config_get_size(r, "size_n", 0, &u, &e), SP_OK);
    assert_int_equal(u, 2048);
    assert_int_equal(sp_config_get_size(r, "absent", 512, &u, &e), SP_OK);
    assert_int_equal(u, 512);
    assert_int_equal(sp_config_get_size(r, "dur", 0, &u, &e), SP_ECONFIG);
    const char *size_msg = "get.cfg:9: dur: size \"1h30m\": ";
    assert_int_equal(strncmp(e.msg, size_msg, strlen(size_msg)), 0);
    assert_int_equal(sp_config_get_size(r, "neg", 0, &u, &e), SP_ECONFIG);

    assert_int_equal(sp_config_get_duration_ms(r, "dur", 0, &u, &e), SP_OK);
    assert_int_equal(u, 90ULL * 60 * 1000);
    assert_int_equal(sp_config_get_duration_ms(r, "absent", 30000, &u, &e), SP_OK);
    assert_int_equal(u, 30000);
    assert_int_equal(sp_config_get_duration_ms(r, "size", 0, &u, &e), SP_ECONFIG);
    assert_int_equal(sp_config_get_duration_ms(r, "i", 0, &u, &e), SP_ECONFIG);

    assert_int_equal(sp_config_get_enum(r, "mode", backends, 0, &en, &e), SP_OK);
    assert_int_equal(en, 1);
    assert_int_equal(sp_config_get_enum(r, "absent", backends, 0, &en, &e), SP_OK);
    assert_int_equal(en, 0);
    assert_int_equal(sp_config_get_enum(r, "s", backends, 0, &en, &e), SP_ECONFIG);
    assert_string_equal(e.msg, "get.cfg:6: s: \"text\" is not allowed; use one of \"native\", "
                               "\"filcrypto\"");
    /* err may be NULL. */
    assert_int_equal(sp_config_get_int(r, "s", 0, &i, NULL), SP_ECONFIG);
    sp_config_free(cfg);
}

/* ---------------------------------------------------------------------------------- */
/* documentation */

static void collect_path(const char *path, const sp_cfg_field *f, void *arg)
{
    (void)f;
    char *buf = arg;
    strcat(buf, path);
    strcat(buf, "\n");
}

static void test_render_doc_and_walk(void **state)
{
    (void)state;
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    assert_non_null(out);
    sp_err e;
    assert_int_equal(sp_config_render_doc(test_schema, out, &e), SP_OK);
    assert_int_equal(fclose(out), 0);
    assert_non_null(strstr(text, "# where the manager is\n# group, required\n"
                                 "sector_manager = {\n  # manager RPC URL\n"
                                 "  # string, required\n  #url = \"\";\n"));
    assert_non_null(strstr(text, "      # proof implementation\n"
                                 "      # one of \"native\" | \"filcrypto\", default native\n"
                                 "      #backend = \"native\";\n"));
    assert_non_null(strstr(text, "  # wait between retries\n"
                                 "  # duration (\"30s\", \"5min\", \"1h\"), from 1000 to 3600000, "
                                 "default 60s\n  #recover_interval = \"60s\";\n"));
    assert_non_null(strstr(text, "  pc1 = (\n    {\n"));
    assert_non_null(strstr(text, "  # map of name = value, values: integer, from 1 to 64\n"
                                 "  ext_locks = {\n    #name = 0;\n  };\n"));
    /* The rendered template is itself valid libconfig and passes the unknown-key checks
     * (leaf keys are commented out, so only required leaves are missing). */
    sp_config *cfg = NULL;
    assert_int_equal(sp_config_load_string(text, "doc.cfg", &cfg, &e), SP_OK);
    char *all = NULL;
    assert_int_equal(sp_config_check(cfg, test_schema, &all, &e), SP_ECONFIG);
    assert_string_equal(all, "doc.cfg:3: sector_manager: missing required key \"url\": manager "
                             "RPC URL; add it");
    free(all);
    sp_config_free(cfg);
    free(text);

    char paths[2048] = "";
    sp_config_schema_walk(test_schema, collect_path, paths);
    assert_non_null(strstr(paths, "sector_manager\nsector_manager.url\nsector_manager.token\n"
                                  "sealing\nsealing.allowed_miners\n"));
    assert_non_null(strstr(paths, "processors.ext_locks\nprocessors.ext_locks.*\n"
                                  "processors.pc1\nprocessors.pc1[].cores\n"));
    assert_non_null(strstr(paths, "processors.pc1[].envs\nprocessors.pc1[].envs.*\n"
                                  "processors.pc1[].locks\nprocessors.pc2\n"));
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup_dir, teardown_dir)
    const struct CMUnitTest tests[] = {
        T(test_three_level_chain),
        T(test_group_merge_key_by_key),
        T(test_lists_and_arrays_replace),
        T(test_relative_parent_from_other_directory),
        T(test_cycle_detected),
        T(test_missing_and_broken_parent),
        T(test_top_file_errors),
        T(test_wide_integer_literals),
        T(test_depth_limit),
        T(test_load_string),
        T(test_key_paths_and_fail_at),
        T(test_schema_accepts_good),
        T(test_schema_unknown_and_wrong_type),
        T(test_schema_missing_required),
        T(test_schema_enum_range_size_duration),
        T(test_schema_maps),
        T(test_schema_all_errors_and_parent_lines),
        T(test_mutations_are_reported_not_fatal),
        T(test_getters),
        T(test_render_doc_and_walk),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
