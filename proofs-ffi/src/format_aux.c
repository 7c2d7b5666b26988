/* format_aux.c — the two auxiliary files of a rust cache directory: p_aux (bincode of
 * PersistentAux {comm_c, comm_r_last}) and t_aux (bincode of TemporaryAux: the
 * StoreConfigs of the layers and of tree_d, tree_r_last and tree_c, as
 * storage-proofs-porep's replicate_phase2 fills them and filecoin-proofs'
 * persist_t_aux / get_t_aux write and read them); and atomic file writes for both. */
#include "format_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- files ---- */

static pf_status io_fail(pf_error *err, const char *what, const char *path)
{
    int e = errno;
    return pf_cm_fail(err, e == ENOSPC || e == EDQUOT ? PF_ENOSPC : PF_EIO, "%s %s: %s", what,
                      path, strerror(e));
}

pf_status fmt_write_file(const char *dir, const char *name, const uint8_t *buf, size_t len,
                         pf_error *err)
{
    char path[4096], tmp[4200];
    if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, name) >= sizeof path)
        return pf_cm_fail(err, PF_EINVAL, "path %s/%s is too long", dir, name);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return io_fail(err, "creating", tmp);
    pf_status st = PF_OK;
    size_t off = 0;
    while (off < len) {
        ssize_t w = write(fd, buf + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            st = io_fail(err, "writing", tmp);
            goto fail;
        }
        off += (size_t)w;
    }
    if (fsync(fd) != 0) {
        st = io_fail(err, "syncing", tmp);
        goto fail;
    }
    close(fd);
    fd = -1;
    if (rename(tmp, path) != 0) {
        st = io_fail(err, "renaming to", path);
        goto fail;
    }
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    pf_cm_ok(err);
    return PF_OK;
fail:
    if (fd >= 0)
        close(fd);
    unlink(tmp);
    return st;
}

pf_status fmt_read_file(const char *path, size_t max, uint8_t **buf, size_t *len, pf_error *err)
{
    *buf = NULL;
    *len = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return io_fail(err, "opening", path);
    struct stat sb;
    pf_status st = PF_OK;
    uint8_t *b = NULL;
    if (fstat(fd, &sb) != 0) {
        st = io_fail(err, "reading", path);
        goto done;
    }
    if ((uint64_t)sb.st_size > max) {
        st = pf_cm_fail(err, PF_ECORRUPT, "%s: %lld bytes, at most %zu expected", path,
                        (long long)sb.st_size, max);
        goto done;
    }
    size_t n = (size_t)sb.st_size, off = 0;
    b = malloc(n ? n : 1);
    if (!b) {
        st = pf_cm_fail(err, PF_ENOMEM, "out of memory reading %s", path);
        goto done;
    }
    while (off < n) {
        ssize_t r = read(fd, b + off, n - off);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            st = r < 0 ? io_fail(err, "reading", path)
                       : pf_cm_fail(err, PF_EIO, "%s shrank while being read", path);
            goto done;
        }
        off += (size_t)r;
    }
    *buf = b;
    *len = n;
    b = NULL;
    pf_cm_ok(err);
done:
    free(b);
    close(fd);
    return st;
}

/* ---- p_aux ---- */

void pf_p_aux_encode(const uint8_t comm_c[32], const uint8_t comm_r_last[32],
                     uint8_t out[PF_P_AUX_LEN])
{
    memcpy(out, comm_c, 32);
    memcpy(out + 32, comm_r_last, 32);
}

pf_status pf_p_aux_decode(const uint8_t *buf, size_t len, uint8_t comm_c[32],
                          uint8_t comm_r_last[32], pf_error *err)
{
    if (len != PF_P_AUX_LEN)
        return pf_cm_fail(err, PF_EINVAL, "p_aux: %zu bytes, a PersistentAux is %d (comm_c, "
                          "comm_r_last)%s", len, PF_P_AUX_LEN,
                          len < PF_P_AUX_LEN ? " (truncated)" : " (oversized)");
    memcpy(comm_c, buf, 32);
    memcpy(comm_r_last, buf + 32, 32);
    pf_cm_ok(err);
    return PF_OK;
}

pf_status pf_p_aux_write(const char *cache_dir, const uint8_t comm_c[32],
                         const uint8_t comm_r_last[32], pf_error *err)
{
    uint8_t b[PF_P_AUX_LEN];
    pf_p_aux_encode(comm_c, comm_r_last, b);
    return fmt_write_file(cache_dir, PF_P_AUX_FILE, b, sizeof b, err);
}

/* ---- t_aux ---- */

#define T_AUX_MAX_LAYERS 64
#define T_AUX_MAX_BYTES (1u << 20)

static void store_config_free(pf_store_config *c)
{
    free(c->path);
    free(c->id);
    memset(c, 0, sizeof *c);
}

void pf_t_aux_free(pf_t_aux *t)
{
    if (!t)
        return;
    for (size_t i = 0; t->labels && i < t->nlabels; i++)
        store_config_free(&t->labels[i]);
    free(t->labels);
    store_config_free(&t->tree_d);
    store_config_free(&t->tree_r_last);
    store_config_free(&t->tree_c);
    memset(t, 0, sizeof *t);
}

static int store_config_set(pf_store_config *c, const char *path, const char *id,
                            uint64_t size, uint64_t rows_to_discard)
{
    c->path = strdup(path);
    c->id = strdup(id);
    c->has_size = 1;
    c->size = size;
    c->rows_to_discard = rows_to_discard;
    return c->path && c->id ? 0 : -1;
}

/* merkletree get_merkle_tree_len: nodes of a whole tree over `leaves`. */
static uint64_t tree_len(uint64_t leaves, int arity)
{
    uint64_t len = 0;
    for (uint64_t n = leaves; n; n /= (uint64_t)arity)
        len += n;
    return len;
}

pf_status pf_t_aux_make(int proof_id, const char *cache_path, pf_t_aux *out, pf_error *err)
{
    memset(out, 0, sizeof *out);
    const pf_seal_proof_info *info = pf_seal_proof(proof_id);
    if (!info)
        return pf_cm_fail(err, PF_EINVAL, "seal proof id %d is not registered (0..19)", proof_id);
    size_t plen = strlen(cache_path);
    if (plen > FMT_MAX_STRING || !fmt_utf8_valid((const uint8_t *)cache_path, plen))
        return pf_cm_fail(err, PF_EINVAL, "cache path %s: rust stores it as a UTF-8 string of "
                          "at most %d bytes", cache_path, FMT_MAX_STRING);
    pf_tree_shape s;
    pf_status st = pf_tree_shape_for_proof(proof_id, &s, err);
    if (st)
        return st;
    out->labels = calloc((size_t)info->layers, sizeof *out->labels);
    if (!out->labels)
        return pf_cm_fail(err, PF_ENOMEM, "out of memory");
    out->nlabels = (size_t)info->layers;
    int bad = 0;
    for (int l = 0; l < info->layers; l++) {
        char id[32];
        snprintf(id, sizeof id, "layer-%d", l + 1);
        bad |= store_config_set(&out->labels[l], cache_path, id, info->nodes, 0);
    }
    uint64_t base_len = tree_len(s.base_leaves, s.base_arity);
    bad |= store_config_set(&out->tree_d, cache_path, "tree-d", 2 * info->nodes - 1, 0);
    bad |= store_config_set(&out->tree_r_last, cache_path, "tree-r-last", base_len,
                            (uint64_t)s.rows_to_discard);
    bad |= store_config_set(&out->tree_c, cache_path, "tree-c", base_len, 0);
    if (bad) {
        pf_t_aux_free(out);
        return pf_cm_fail(err, PF_ENOMEM, "out of memory");
    }
    pf_cm_ok(err);
    return PF_OK;
}

static void fe_store_config(fmt_enc *e, const pf_store_config *c)
{
    fe_struct_begin(e);
    fe_field(e, "path");
    fe_string(e, c->path ? c->path : "");
    fe_field(e, "id");
    fe_string(e, c->id ? c->id : "");
    fe_field(e, "size");
    fe_option_u64(e, c->has_size, c->size);
    fe_field(e, "rows_to_discard");
    fe_u64(e, c->rows_to_discard);
    fe_struct_end(e);
}

pf_status pf_t_aux_encode(const pf_t_aux *t, uint8_t **buf, size_t *len, pf_error *err)
{
    const pf_store_config *all[3] = { &t->tree_d, &t->tree_r_last, &t->tree_c };
    for (size_t i = 0; i < t->nlabels + 3; i++) {
        const pf_store_config *c = i < t->nlabels ? &t->labels[i] : all[i - t->nlabels];
        const char *s[2] = { c->path ? c->path : "", c->id ? c->id : "" };
        for (int k = 0; k < 2; k++)
            if (!fmt_utf8_valid((const uint8_t *)s[k], strlen(s[k])))
                return pf_cm_fail(err, PF_EINVAL, "t_aux: %s is not UTF-8 (rust cannot "
                                  "store it)", s[k]);
    }
    fmt_enc e;
    fe_init(&e, FMT_BIN, 256 * (t->nlabels + 3));
    fe_struct_begin(&e);
    fe_field(&e, "labels");
    fe_struct_begin(&e);
    fe_field(&e, "labels");
    fe_seq_begin(&e, t->nlabels);
    for (size_t i = 0; i < t->nlabels; i++) {
        fe_elem(&e);
        fe_store_config(&e, &t->labels[i]);
    }
    fe_seq_end(&e);
    fe_field(&e, "_h");
    fe_unit(&e);
    fe_struct_end(&e);
    fe_field(&e, "tree_d_config");
    fe_store_config(&e, &t->tree_d);
    fe_field(&e, "tree_r_last_config");
    fe_store_config(&e, &t->tree_r_last);
    fe_field(&e, "tree_c_config");
    fe_store_config(&e, &t->tree_c);
    fe_field(&e, "_g");
    fe_unit(&e);
    fe_struct_end(&e);
    return fe_finish(&e, buf, len, err);
}

static const char *const store_fields[] = { "path", "id", "size", "rows_to_discard" };

static int fd_store_config(fmt_dec *d, pf_store_config *c)
{
    int f;
    if (fd_struct_begin(d, 4))
        return -1;
    while ((f = fd_field(d, store_fields, 4)) >= 0) {
        size_t mark = fd_push(d, store_fields[f]);
        int rc = f == 0   ? fd_string(d, FMT_MAX_STRING, &c->path)
                 : f == 1 ? fd_string(d, FMT_MAX_STRING, &c->id)
                 : f == 2 ? fd_option_u64(d, &c->has_size, &c->size)
                          : fd_u64(d, &c->rows_to_discard);
        if (rc)
            return -1;
        fd_pop(d, mark);
    }
    return f == -1 ? 0 : -1;
}

static const char *const labels_fields[] = { "labels", "_h" };
static const char *const t_aux_fields[] = { "labels", "tree_d_config", "tree_r_last_config",
                                            "tree_c_config", "_g" };

static int fd_labels(fmt_dec *d, pf_t_aux *t)
{
    int f;
    if (fd_struct_begin(d, 2))
        return -1;
    while ((f = fd_field(d, labels_fields, 2)) >= 0) {
        size_t mark = fd_push(d, labels_fields[f]);
        if (f == 1) {
            if (fd_unit(d))
                return -1;
        } else {
            /* a StoreConfig takes at least 2 * 8 (lengths) + 1 (no size) + 8 bytes */
            if (fd_seq_begin(d, T_AUX_MAX_LAYERS, 25))
                return -1;
            t->labels = calloc(T_AUX_MAX_LAYERS, sizeof *t->labels);
            if (!t->labels)
                return fd_fail(d, "out of memory");
            int more;
            while ((more = fd_seq_next(d)) > 0) {
                size_t m2 = fd_push_index(d, t->nlabels);
                if (fd_store_config(d, &t->labels[t->nlabels++]))
                    return -1;
                fd_pop(d, m2);
            }
            if (more < 0)
                return -1;
        }
        fd_pop(d, mark);
    }
    return f == -1 ? 0 : -1;
}

pf_status pf_t_aux_decode(const uint8_t *buf, size_t len, pf_t_aux *out, pf_error *err)
{
    memset(out, 0, sizeof *out);
    fmt_dec d;
    fd_init(&d, FMT_BIN, buf, len, "t_aux", err);
    int f;
    if (!fd_struct_begin(&d, 5)) {
        while ((f = fd_field(&d, t_aux_fields, 5)) >= 0) {
            size_t mark = fd_push(&d, t_aux_fields[f]);
            int rc = f == 0   ? fd_labels(&d, out)
                     : f == 1 ? fd_store_config(&d, &out->tree_d)
                     : f == 2 ? fd_store_config(&d, &out->tree_r_last)
                     : f == 3 ? fd_store_config(&d, &out->tree_c)
                              : fd_unit(&d);
            if (rc)
                break;
            fd_pop(&d, mark);
        }
    }
    pf_status st = fd_finish(&d);
    if (st)
        pf_t_aux_free(out);
    return st;
}

static pf_status check_config(const pf_store_config *c, const char *id, uint64_t size,
                              uint64_t rows_to_discard, pf_error *err)
{
    if (!c->id || strcmp(c->id, id) != 0)
        return pf_cm_fail(err, PF_EUNSUPPORTED, "t_aux: store \"%s\" where \"%s\" is expected",
                          c->id ? c->id : "", id);
    if (!c->has_size || c->size != size)
        return pf_cm_fail(err, PF_EUNSUPPORTED, "t_aux: %s has size %llu, sealpipe's layout "
                          "has %llu", id, c->has_size ? (unsigned long long)c->size : 0ULL,
                          (unsigned long long)size);
    if (c->rows_to_discard != rows_to_discard)
        return pf_cm_fail(err, PF_EUNSUPPORTED, "t_aux: %s has rows_to_discard %llu, sealpipe "
                          "reads it with %llu (was the sector sealed with "
                          "FIL_PROOFS_ROWS_TO_DISCARD set? reseal, or keep proving it with "
                          "rust)", id, (unsigned long long)c->rows_to_discard,
                          (unsigned long long)rows_to_discard);
    return PF_OK;
}

pf_status pf_t_aux_check(int proof_id, const pf_t_aux *t, pf_error *err)
{
    pf_t_aux want;
    pf_status st = pf_t_aux_make(proof_id, "", &want, err);
    if (st)
        return st;
    if (t->nlabels != want.nlabels) {
        st = pf_cm_fail(err, PF_EUNSUPPORTED, "t_aux: %zu layers, %s has %zu", t->nlabels,
                        pf_seal_proof(proof_id)->name, want.nlabels);
        goto done;
    }
    for (size_t i = 0; i < t->nlabels && !st; i++)
        st = check_config(&t->labels[i], want.labels[i].id, want.labels[i].size, 0, err);
    if (!st)
        st = check_config(&t->tree_d, "tree-d", want.tree_d.size, 0, err);
    if (!st)
        st = check_config(&t->tree_r_last, "tree-r-last", want.tree_r_last.size,
                          want.tree_r_last.rows_to_discard, err);
    if (!st)
        st = check_config(&t->tree_c, "tree-c", want.tree_c.size, 0, err);
    if (!st)
        pf_cm_ok(err);
done:
    pf_t_aux_free(&want);
    return st;
}

pf_status pf_t_aux_write(int proof_id, const char *cache_dir, pf_error *err)
{
    pf_t_aux t;
    pf_status st = pf_t_aux_make(proof_id, cache_dir, &t, err);
    if (st)
        return st;
    uint8_t *buf;
    size_t len;
    if (!(st = pf_t_aux_encode(&t, &buf, &len, err))) {
        st = fmt_write_file(cache_dir, PF_T_AUX_FILE, buf, len, err);
        free(buf);
    }
    pf_t_aux_free(&t);
    return st;
}

pf_status pf_t_aux_read(const char *cache_dir, pf_t_aux *out, pf_error *err)
{
    memset(out, 0, sizeof *out);
    char path[4096];
    if ((size_t)snprintf(path, sizeof path, "%s/%s", cache_dir, PF_T_AUX_FILE) >= sizeof path)
        return pf_cm_fail(err, PF_EINVAL, "cache path %s is too long", cache_dir);
    uint8_t *buf;
    size_t len;
    pf_status st = fmt_read_file(path, T_AUX_MAX_BYTES, &buf, &len, err);
    if (st)
        return st;
    st = pf_t_aux_decode(buf, len, out, err);
    free(buf);
    if (st)
        pf_cm_prefix(err, "%s", path);
    return st;
}
