/* sealproofs/data.h — data commitments: fr32 padding, the binary SHA-256 tree (zero
 * commitments, CommP, CommD, tree_d), piece alignment and add_piece, replica_id and
 * commitment CIDs.  Everything is byte-compatible with rust-fil-proofs / filecoin-ffi.
 *
 * Sizes: "unpadded" counts user bytes, "padded" counts fr32 output bytes (128 per 127).
 * A piece's unpadded size is 127*2^k (k >= 0), its padded size 128*2^k.
 * Tree nodes are 32 bytes; an internal node is trim(SHA256(left || right)) where trim
 * clears the top two bits of byte 31, so every node is a valid BLS12-381 field element.
 */
#ifndef SEALPROOFS_DATA_H
#define SEALPROOFS_DATA_H

#include "../sealproofs.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- fr32 padding: 127 user bytes -> 4 field elements of 254 bits in 128 bytes ---- */

#define PF_FR32_UNPADDED_BLOCK 127
#define PF_FR32_PADDED_BLOCK 128

/* Bytes the streaming padder emits for len input bytes: 128 per whole block, and for a
 * final partial block of r bytes ceil(8r/254) whole 32-byte elements (as rust's Fr32Reader). */
uint64_t pf_fr32_padded_len(uint64_t unpadded_len);
/* rust-fil-proofs' to_padded_bytes / to_unpadded_bytes (bit-exact offsets, ceil / floor). */
uint64_t pf_fr32_to_padded_bytes(uint64_t unpadded);
uint64_t pf_fr32_to_unpadded_bytes(uint64_t padded);

/* Streaming padder: feed any number of bytes in any pieces; output is identical to rust's
 * Fr32Reader over the concatenated input. */
typedef struct pf_fr32_padder {
    uint8_t buf[PF_FR32_PADDED_BLOCK];
    size_t fill;
} pf_fr32_padder;

void pf_fr32_padder_init(pf_fr32_padder *p);
/* Writes the padded form of every block completed by this input into out and returns the
 * byte count (a multiple of 128).  out must hold PF_FR32_PAD_UPDATE_MAX(len) bytes. */
#define PF_FR32_PAD_UPDATE_MAX(len) ((((size_t)(len)) / 127 + 1) * 128)
size_t pf_fr32_padder_update(pf_fr32_padder *p, const void *in, size_t len, uint8_t *out);
/* Emits the final partial block (0..128 bytes, whole 32-byte elements) and resets p. */
size_t pf_fr32_padder_final(pf_fr32_padder *p, uint8_t out[PF_FR32_PADDED_BLOCK]);

/* Whole buffer: writes pf_fr32_padded_len(len) bytes and returns that count. */
size_t pf_fr32_pad(const void *in, size_t len, uint8_t *out);

/* Extracts unpadded bytes [offset, offset+len) from a padded buffer that starts at the
 * first element (like rust's write_unpadded; used for unsealing ranges).  PF_EINVAL when
 * the padded buffer does not hold that many bytes. */
pf_status pf_fr32_unpad(const uint8_t *padded, size_t padded_len, uint64_t offset, uint8_t *out,
                        size_t len, pf_error *err);

/* Streaming unpadder producing exactly `unpadded_len` bytes in total from padded input
 * fed in any pieces; bytes past that length are ignored. */
typedef struct pf_fr32_unpadder {
    uint8_t buf[PF_FR32_PADDED_BLOCK];
    size_t fill;
    uint64_t left;      /* unpadded bytes still to emit; non-zero after final = input too short */
} pf_fr32_unpadder;

void pf_fr32_unpadder_init(pf_fr32_unpadder *u, uint64_t unpadded_len);
/* out must hold ((len + 128) / 128) * 127 bytes; returns the bytes written. */
size_t pf_fr32_unpadder_update(pf_fr32_unpadder *u, const void *in, size_t len, uint8_t *out);
/* Emits what the buffered partial block holds (at most u->left bytes). */
size_t pf_fr32_unpadder_final(pf_fr32_unpadder *u, uint8_t out[PF_FR32_UNPADDED_BLOCK]);

/* ---- binary SHA-256 tree ---- */

/* Clears the two most significant bits of byte 31: a SHA-256 digest made a field element. */
void pf_trim(uint8_t h[32]);
/* trim(SHA256(left || right)): one internal node of tree_d / CommP / CommD. */
void pf_sha256_node(const uint8_t left[32], const uint8_t right[32], uint8_t out[32]);

/* Zero commitments: Z(0) = 32 zero bytes, Z(k+1) = node(Z(k), Z(k)); Z(k) is the root of
 * 2^(k+5) zero bytes.  Computed once.  NULL when level > PF_ZERO_COMM_MAX_LEVEL. */
#define PF_ZERO_COMM_MAX_LEVEL 58
const uint8_t *pf_zero_comm_level(unsigned level);
/* Root of padded_size zero bytes (a power of two >= 32). */
pf_status pf_zero_comm(uint64_t padded_size, uint8_t out[32], pf_error *err);

/* ---- pieces ---- */

/* 1 when unpadded is 127*2^k (k >= 0), as rust's ensure_piece_size demands. */
int pf_piece_size_valid(uint64_t unpadded);
/* Smallest valid unpadded piece size >= max(payload, 127); 0 if it would overflow. */
uint64_t pf_piece_unpadded_for_payload(uint64_t payload);
/* unpadded * 128 / 127 for a valid piece size. */
uint64_t pf_piece_padded_size(uint64_t unpadded);

/* rust-fil-proofs get_piece_alignment (unpadded bytes). */
typedef struct pf_piece_alignment {
    uint64_t left;
    uint64_t right;
} pf_piece_alignment;
pf_piece_alignment pf_get_piece_alignment(uint64_t written_unpadded, uint64_t piece_unpadded);
/* Unpadded bytes the given pieces take in order, alignment included. */
uint64_t pf_sum_piece_bytes_with_alignment(const uint64_t *piece_unpadded, size_t n);
/* Unpadded offset where a piece of piece_unpadded bytes would start after those pieces. */
uint64_t pf_get_piece_start_byte(const uint64_t *piece_unpadded, size_t n, uint64_t piece_unpadded_new);

/* ---- CommP ---- */

/* Streaming CommP of raw piece data: fr32 padding and the tree are computed as data
 * arrives; only one tree chunk is held in memory.  The payload is zero-filled to the next
 * 127*2^k (minimum 127) before padding, as Lotus does with unpadded pieces. */
typedef struct pf_commp_ctx pf_commp_ctx;
pf_commp_ctx *pf_commp_new(pf_error *err);
void pf_commp_update(pf_commp_ctx *c, const void *data, size_t len);
/* Returns the commitment and the padded piece size (128*2^k); the context may be reused
 * after pf_commp_reset. */
pf_status pf_commp_finish(pf_commp_ctx *c, uint8_t commp[32], uint64_t *payload_size,
                          uint64_t *padded_size, pf_error *err);
void pf_commp_reset(pf_commp_ctx *c);
void pf_commp_free(pf_commp_ctx *c);

/* CommP of a buffer. */
pf_status pf_commp_buf(const void *data, size_t len, uint8_t commp[32], uint64_t *padded_size,
                       pf_error *err);
/* CommP of payload_size bytes read from fd at its current offset (PF_COMMP_TO_EOF reads to
 * end of file).  PF_EIO when the file ends early.  Does not close fd. */
#define PF_COMMP_TO_EOF UINT64_MAX
pf_status pf_commp_fd(int fd, uint64_t payload_size, uint8_t commp[32], uint64_t *payload_read,
                      uint64_t *padded_size, pf_error *err);

/* ---- add_piece (filecoin-ffi write_with_alignment / write_without_alignment) ---- */

typedef struct pf_piece_info {
    uint8_t comm_p[32];
    uint64_t size;                 /* unpadded piece size (PublicPieceInfo.num_bytes) */
} pf_piece_info;

typedef struct pf_add_piece_result {
    uint8_t comm_p[32];
    uint64_t piece_size;           /* unpadded piece size */
    uint64_t padded_size;          /* padded piece size */
    uint64_t left_alignment;       /* unpadded zero bytes written before the piece */
    uint64_t total_write;          /* unpadded bytes written: left + piece + right */
    uint64_t offset;               /* padded offset in the staged file where the piece starts */
} pf_add_piece_result;

/* Reads exactly src_size bytes (127*2^k) from src_fd; like rust, more data before EOF is
 * an error.  Writes the left alignment (fr32 zeros), the padded piece and the right
 * alignment at the end of dst_fd, whose size must match existing_unpadded (the unpadded
 * sizes of the pieces already written, in order).  On any failure the destination is
 * truncated back to its original size.  Neither fd is closed. */
pf_status pf_add_piece(int proof_id, int src_fd, uint64_t src_size, int dst_fd,
                       const uint64_t *existing_unpadded, size_t n_existing,
                       pf_add_piece_result *out, pf_error *err);
/* Same, but src holds payload_size raw bytes that are zero-filled to the next 127*2^k. */
pf_status pf_add_piece_fill(int proof_id, int src_fd, uint64_t payload_size, int dst_fd,
                            const uint64_t *existing_unpadded, size_t n_existing,
                            pf_add_piece_result *out, pf_error *err);
/* write_without_alignment: the padded piece at the end of dst_fd, no alignment. */
pf_status pf_write_without_alignment(int proof_id, int src_fd, uint64_t src_size, int dst_fd,
                                     pf_add_piece_result *out, pf_error *err);

/* ---- CommD ---- */

/* CommD of a sector holding the pieces in order (unpadded sizes), each aligned as
 * add_piece aligns it, zero pieces filling the rest: rust's compute_comm_d stack
 * algorithm, completed to the whole sector as Lotus does.  No pieces -> Z(sector).
 * PF_EINVAL when a size is not 127*2^k or the pieces do not fit. */
pf_status pf_comm_d(uint64_t sector_size, const pf_piece_info *pieces, size_t n,
                    uint8_t comm_d[32], pf_error *err);

/* ---- tree_d: <cache_dir>/sc-02-data-tree-d.dat ---- */

#define PF_TREE_D_FILE "sc-02-data-tree-d.dat"

/* Builds tree_d over the staged (padded) sector file: all 2n-1 nodes, 32 bytes each,
 * leaves first, then each level up to the root, exactly as rust-fil-proofs' DiskStore.
 * A staged file shorter than the sector is zero-extended logically.  Written to a
 * temporary name, fsynced, then renamed.  Returns the root = CommD. */
pf_status pf_tree_d_build(int proof_id, const char *staged_path, const char *cache_dir,
                          uint8_t comm_d[32], pf_error *err);
/* "<cache_dir>/sc-02-data-tree-d.dat"; 0, or -1 when it does not fit in len. */
int pf_tree_d_path_name(const char *cache_dir, char *buf, size_t len);
/* Bytes of a tree_d file over `nodes` leaves: (2*nodes - 1) * 32. */
uint64_t pf_tree_d_file_size(uint64_t nodes);
/* The root stored in an existing tree_d file (checks the file size). */
pf_status pf_tree_d_root(const char *cache_dir, uint64_t nodes, uint8_t root[32], pf_error *err);
/* One node: level 0 = leaves. */
pf_status pf_tree_d_node(const char *cache_dir, uint64_t nodes, unsigned level, uint64_t index,
                         uint8_t out[32], pf_error *err);
/* Inclusion path of a leaf: log2(nodes) siblings, bottom-up (siblings_out[0] is the
 * leaf's neighbour).  The leaf itself is pf_tree_d_node(level 0). */
pf_status pf_tree_d_path(const char *cache_dir, uint64_t nodes, uint64_t leaf_index,
                         uint8_t (*siblings_out)[32], pf_error *err);

/* ---- replica_id and prover_id ---- */

/* trim(SHA256(prover_id || BE64(sector_id) || ticket || comm_d || porep_id)). */
void pf_replica_id(const uint8_t prover_id[32], uint64_t sector_id, const uint8_t ticket[32],
                   const uint8_t comm_d[32], const uint8_t porep_id[32], uint8_t out[32]);
/* Lotus prover id of miner f0<actor_id>: unsigned LEB128 of the id in a zeroed 32 bytes. */
void pf_prover_id_from_actor(uint64_t actor_id, uint8_t out[32]);

/* ---- commitment CIDs (go-fil-commcid), CIDv1 in multibase base32 ('b') ---- */

typedef enum pf_comm_kind {
    PF_COMM_ANY = 0,               /* decode: accept either */
    PF_COMM_UNSEALED = 1,          /* CommD / CommP: fil-commitment-unsealed 0xf101, sha2-256-trunc254-padded 0x1012 */
    PF_COMM_SEALED = 2,            /* CommR: fil-commitment-sealed 0xf102, poseidon-bls12_381-a2-fc1 0xb401 */
} pf_comm_kind;

#define PF_COMMCID_MAX_BYTES 40
#define PF_COMMCID_STR_MAX 72      /* buffer size for the string form, NUL included */

/* Binary CID (39 bytes unsealed, 40 sealed); returns its length. */
size_t pf_commcid_bytes(pf_comm_kind kind, const uint8_t comm[32], uint8_t out[PF_COMMCID_MAX_BYTES]);
/* "baga6ea4sea..." / "bagboea4b5abc..." into out (size >= PF_COMMCID_STR_MAX). */
pf_status pf_commcid_encode(pf_comm_kind kind, const uint8_t comm[32], char *out, size_t out_len,
                            pf_error *err);
/* Parses a CID string; `expect` restricts the kind (PF_COMM_ANY accepts both) and
 * *kind_out (may be NULL) receives what it was.  Names the wrong part on failure. */
pf_status pf_commcid_decode(const char *cid, pf_comm_kind expect, uint8_t comm[32],
                            pf_comm_kind *kind_out, pf_error *err);

#ifdef __cplusplus
}
#endif

#endif
