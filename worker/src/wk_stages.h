/* wk_stages.h — the stage tasks: what each compute stage is asked (a JSON object), which
 * proofs-ffi call runs it, and what it answers (a JSON object).  The same function runs a
 * task inside a processor child (processor_child.c) or, for a stage without processors,
 * inside the worker; the planner builds tasks with the helpers below.
 *
 * Tasks and outputs (32-byte values as 64 hex digits; paths absolute):
 *   add_pieces {proof, staged, pieces:[{file, size, comm_p}]}
 *       writes the staged file (temporary name, fsync, rename): each piece file holds the
 *       piece's `size` unpadded bytes (payload, then zeros), written with alignment; no
 *       pieces = committed capacity, an empty staged file (the rest of a sector is zeros)
 *       -> {pieces:[{comm_p, size, offset}]}  a computed CommP that differs from the
 *       task's is a permanent error naming the piece
 *   tree_d {proof, staged, cache}                        -> {comm_d}
 *   pc1 {proof, cache, sector_id, prover_id, ticket, comm_d, parent_cache?}
 *       -> {pc1out}  (the encoded pf_pc1_output, hex); resumes after the last layer
 *   pc1 batch {proof, parent_cache?, sectors:[{cache, sector_id, prover_id, ticket,
 *       comm_d}, ...]}  (1..128 sectors of that proof, sealed together by pf_pc1_batch)
 *       -> {sectors:[{output:{pc1out}} | {err:{msg, level, code}}, ...]}  in task order;
 *       one sector's failure (bad fields, its disk, its cancel) is its own entry, never
 *       the batch's
 *   pc2 {pc1out, cache, staged, sealed}                  -> {comm_c, comm_r_last, comm_r}
 *   c1 {proof, cache, sealed, sector_id, prover_id, ticket, seed, comm_d, comm_r,
 *       pieces:[{comm_p, size}], out}                    -> {len, sha256}
 *       the C1 output is written to `out` (temporary name, fsync, rename)
 *   c2 {c1, sector_id, prover_id, out}                   -> {len, sha256}
 *       reads the C1 output file, writes the proof to `out`; with the filcrypto backend
 *       the C1 output is converted to filecoin-ffi's JSON (pf_c1_convert) and
 *       libfilcrypto's seal_commit_phase2 makes the (Groth16) proof
 *   unseal {proof, cache, sealed, sector_id, prover_id, ticket, comm_d, offset, length, out}
 *       -> {len}  unpadded bytes [offset, offset+length) written to `out`
 * Every output file is complete and synced before the answer is sent, so a thread that
 * records the answer never records a stage whose files a crash could lose.
 *
 * Errors carry a level: temporary (I/O, no space, no memory, device, cancelled: worth a
 * retry) or permanent (bad input, corrupt or unverifiable data: an operator decides).
 */
#ifndef WK_STAGES_H
#define WK_STAGES_H

#include <stdint.h>

#include <cjson/cJSON.h>

#include "sealproofs/filcrypto.h"
#include "sp_err.h"
#include "wk_config.h"
#include "wk_sector.h"

typedef struct wk_stage_env {
    int slot;                    /* which of the processor's concurrent slots runs it */
    int slots;                   /* the processor's concurrency (>= 1) */
    bool bound;                  /* running in a bound processor child: use its CPUs */
    bool hugepages;              /* PC1 layer buffers from reserved HugeTLB pages */
    wk_backend backend;
    pf_filcrypto *filcrypto;     /* backend filcrypto: the library the processor loaded */
    const volatile int *cancel;  /* non-zero: stop (PC1 and PC2 check it) */
    const volatile int *sector_cancel;  /* pc1 batch: per sector, non-zero stops that one */
    int nsector_cancel;
} wk_stage_env;

/* Runs a task.  On SP_OK *output is the answer (caller frees).  On failure err says what
 * went wrong and *level whether a retry may help. */
sp_code wk_stage_run(wk_stage stage, const cJSON *task, const wk_stage_env *env, cJSON **output,
                     wk_level *level, sp_err *err);

/* The level of a failed stage call with this code (temporary or permanent). */
wk_level wk_stage_level(sp_code code);

/* Default time limit of one task of a stage for a sector size: generous (several times
 * what slow hardware needs), so that only a hung processor reaches it.  The environment
 * variable SEALPIPE_TASK_TIMEOUT ("90s", "2h") replaces it for every stage (tests set it
 * short to exercise hung children). */
uint64_t wk_stage_timeout_ms(wk_stage stage, uint64_t sector_size);
/* The time limit a worker applies: processors.limitation.timeout.<stage> when the config
 * sets it, else wk_stage_timeout_ms(). */
uint64_t wk_task_timeout_ms(const wk_config *cfg, wk_stage stage, uint64_t sector_size);

#endif
