/* format_internal.h — internals of the format_*.c files (contract: sealproofs/formats.h).
 *
 * One walker per rust structure serves both serde encodings: fmt_enc writes bincode or
 * JSON, fmt_dec reads them.  A walker calls the same operations in both cases (struct
 * fields, sequences, enum variants, 32-byte domains, integers); the syntax decides the
 * bytes.  Structs are decoded by field index so that JSON may list fields in any order
 * while bincode gives them in declaration order.
 *
 * The decoder keeps the first error and a breadcrumb of where it is
 * ("vanilla_proofs[0][1].comm_d_proofs"), so every message says which byte and which
 * field; after an error every operation is a no-op that fails. */
#ifndef PF_FORMAT_INTERNAL_H
#define PF_FORMAT_INTERNAL_H

#include <stdint.h>
#include <stddef.h>

#include "commit_internal.h"
#include "sealproofs.h"

typedef enum fmt_syntax {
    FMT_BIN = 0,
    FMT_JSON = 1,
} fmt_syntax;

#define FMT_MAX_DEPTH 24
#define FMT_MAX_STRING 4096

/* ---- growable output buffer ---- */

typedef struct fmt_buf {
    uint8_t *p;
    size_t len, cap;
    int oom;                      /* an allocation failed: the buffer is incomplete */
} fmt_buf;

void fb_put(fmt_buf *b, const void *data, size_t n);
void fb_byte(fmt_buf *b, uint8_t c);
void fb_le32(fmt_buf *b, uint32_t v);
void fb_le64(fmt_buf *b, uint64_t v);
void fb_dec(fmt_buf *b, uint64_t v);
void fb_free(fmt_buf *b);

/* ---- encoder ---- */

typedef struct fmt_enc {
    fmt_syntax syn;
    fmt_buf b;
    int depth;
    uint8_t first[FMT_MAX_DEPTH];   /* JSON: nothing written yet at this level */
} fmt_enc;

void fe_init(fmt_enc *e, fmt_syntax syn, size_t reserve);
void fe_struct_begin(fmt_enc *e);
void fe_field(fmt_enc *e, const char *name);
void fe_struct_end(fmt_enc *e);
void fe_seq_begin(fmt_enc *e, uint64_t n);
void fe_elem(fmt_enc *e);
void fe_seq_end(fmt_enc *e);
/* A newtype variant: bincode u32 index; JSON {"name": value}. */
void fe_variant_begin(fmt_enc *e, uint32_t index, const char *name);
void fe_variant_end(fmt_enc *e);
/* A unit variant: bincode u32 index; JSON "name". */
void fe_unit_variant(fmt_enc *e, uint32_t index, const char *name);
void fe_u32(fmt_enc *e, uint32_t v);
void fe_u64(fmt_enc *e, uint64_t v);
/* [u8; 32] / PoseidonDomain / Sha256Domain. */
void fe_domain(fmt_enc *e, const uint8_t v[32]);
/* PhantomData: nothing / null. */
void fe_unit(fmt_enc *e);
void fe_string(fmt_enc *e, const char *s);
/* Option<u64>. */
void fe_option_u64(fmt_enc *e, int present, uint64_t v);
/* Hands the bytes over (malloc'd); PF_ENOMEM when an allocation failed. */
pf_status fe_finish(fmt_enc *e, uint8_t **buf, size_t *len, pf_error *err);

/* ---- decoder ---- */

typedef struct fmt_level {
    uint64_t seen;                /* fields already read (bit per index) */
    uint64_t remaining;           /* bincode sequences: elements left */
    uint64_t count;               /* sequences: elements read so far */
    int first;                    /* JSON: nothing read yet at this level */
    int nfields;
} fmt_level;

typedef struct fmt_dec {
    fmt_syntax syn;
    const uint8_t *start, *p, *end;
    const char *what;             /* "C1 rust-json" */
    pf_error *err;
    int failed;
    int depth;
    fmt_level lvl[FMT_MAX_DEPTH];
    char where[320];
    size_t wlen;
} fmt_dec;

void fd_init(fmt_dec *d, fmt_syntax syn, const uint8_t *buf, size_t len, const char *what,
             pf_error *err);
/* Records the first error (with offset and breadcrumb) and returns -1. */
int fd_fail(fmt_dec *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Breadcrumb: appends ".name" (or "[i]" with fd_push_index); pop restores `mark`. */
size_t fd_push(fmt_dec *d, const char *name);
size_t fd_push_index(fmt_dec *d, uint64_t i);
void fd_pop(fmt_dec *d, size_t mark);

int fd_struct_begin(fmt_dec *d, int nfields);
/* The next field: its index in names[0..n), or -1 after the last one (the struct is
 * closed; JSON checks that every field was present), or -2 on error.  JSON rejects
 * unknown and repeated fields. */
int fd_field(fmt_dec *d, const char *const *names, int n);
/* Opens a sequence of at most max elements; min_elem is the fewest bytes one element
 * takes in bincode (a length larger than the input can hold is rejected at once). */
int fd_seq_begin(fmt_dec *d, uint64_t max, size_t min_elem);
/* 1 when another element follows, 0 at the end (the sequence is closed), -1 on error. */
int fd_seq_next(fmt_dec *d);
/* A newtype variant: its index in names, or -1. */
int fd_variant_begin(fmt_dec *d, const char *const *names, int n);
int fd_variant_end(fmt_dec *d);
/* A unit variant: its index, or -1. */
int fd_unit_variant(fmt_dec *d, const char *const *names, int n);
int fd_u32(fmt_dec *d, uint32_t *v);
int fd_u64(fmt_dec *d, uint64_t *v);
int fd_domain(fmt_dec *d, uint8_t v[32]);
int fd_unit(fmt_dec *d);
/* A UTF-8 string of at most max bytes, malloc'd and NUL-terminated. */
int fd_string(fmt_dec *d, size_t max, char **out);
int fd_option_u64(fmt_dec *d, int *present, uint64_t *v);
/* Nothing may follow the value (JSON: whitespace may).  PF_OK or the recorded error. */
pf_status fd_finish(fmt_dec *d);
/* The recorded status (PF_OK when none). */
pf_status fd_status(const fmt_dec *d);

/* 1 when the bytes are valid UTF-8 (what rust's str::from_utf8 accepts). */
int fmt_utf8_valid(const uint8_t *s, size_t n);

/* ---- shared walkers ---- */

/* The expected shape of a Merkle proof. */
typedef struct fmt_tree {
    pf_merkle_kind kind;
    uint32_t base_levels;
    uint8_t base_arity, sub_arity, top_arity;
} fmt_tree;

void fmt_tree_d(uint64_t nodes, fmt_tree *t);
void fmt_tree_of_shape(const pf_tree_shape *s, fmt_tree *t);
/* Fewest bincode bytes one MerkleProof of this shape takes. */
size_t fmt_merkle_bin_size(const fmt_tree *t);

/* MerkleProof.  The encoder returns PF_EINVAL (naming `what`) when p does not have the
 * shape t. */
pf_status fe_merkle(fmt_enc *e, const fmt_tree *t, const pf_merkle_proof *p, const char *what,
                    pf_error *err);
int fd_merkle(fmt_dec *d, const fmt_tree *t, pf_merkle_proof *p);

/* stacked::Proof of a seal proof geometry. */
pf_status fe_porep_proof(fmt_enc *e, const pf_commit_geom *g, const pf_porep_vanilla_proof *p,
                         const char *what, pf_error *err);
int fd_porep_proof(fmt_dec *d, const pf_commit_geom *g, pf_porep_vanilla_proof *p);
/* Fewest bincode bytes of one stacked::Proof. */
size_t fmt_porep_proof_bin_size(const pf_commit_geom *g);

/* Writes a file atomically: <dir>/<name>.tmp, fsync, rename, fsync of the directory. */
pf_status fmt_write_file(const char *dir, const char *name, const uint8_t *buf, size_t len,
                         pf_error *err);
/* Reads a whole file (at most max bytes) into a malloc'd buffer. */
pf_status fmt_read_file(const char *path, size_t max, uint8_t **buf, size_t *len,
                        pf_error *err);

#endif
