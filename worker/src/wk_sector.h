/* wk_sector.h — a sealing thread's sector: its states and events (damocles' names), the
 * transition table of each plan, and the record a thread keeps in <location>/meta.db.
 *
 * One state machine is shared by every plan; a plan is a table of allowed
 * (state, event) -> next state rows.  The sealer plan (new sectors):
 *   Empty -Allocate-> Allocated -AcquireDeals-> DealsAcquired -AddPiece-> PieceAdded
 *   -BuildTreeD-> TreeDBuilt -AssignTicket-> TicketAssigned -PC1-> PC1Done -PC2-> PC2Done
 *   -SubmitPC-> PCSubmitted -CheckPC-> PCLanded (-ReSubmitPC-> PC2Done)
 *   PCLanded -Persist-> Persisted -SubmitPersistance-> PersistanceSubmitted -AssignSeed->
 *   SeedAssigned -C1-> C1Done -C2-> C2Done -SubmitProof-> ProofSubmitted -Finish-> Finished
 *   (ProofSubmitted -ReSubmitProof-> C2Done)
 *   Every state from PCLanded to ProofSubmitted also has -ReSubmitPC-> PC2Done: a manager
 *   restored from an older backup may have lost the precommit, which is then submitted
 *   again and the rest redone from there.
 * The unseal plan (issue 8): Empty -Allocate-> Allocated -Unseal-> Unsealed
 *   -UploadPieceDone-> Finished.
 * Every plan also allows Abort from any state but Empty and Finished (-> Aborted).
 *
 * The record holds what each stage produced, so a thread that restarts after a crash
 * runs the handler of its stored state again from these inputs.  It is stored as one JSON
 * document (wk_sector_to_json / wk_sector_from_json, versioned); big outputs (C1 output,
 * the proof) live in files under the location and only their names are recorded.
 */
#ifndef WK_SECTOR_H
#define WK_SECTOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "sp_err.h"
#include "wk_config.h"

typedef enum wk_state {
    WK_ST_EMPTY = 0,
    WK_ST_ALLOCATED,
    WK_ST_DEALS_ACQUIRED,
    WK_ST_PIECE_ADDED,
    WK_ST_TREE_D_BUILT,
    WK_ST_TICKET_ASSIGNED,
    WK_ST_PC1_DONE,
    WK_ST_PC2_DONE,
    WK_ST_PC_SUBMITTED,
    WK_ST_PC_LANDED,
    WK_ST_PERSISTED,
    WK_ST_PERSISTANCE_SUBMITTED,
    WK_ST_SEED_ASSIGNED,
    WK_ST_C1_DONE,
    WK_ST_C2_DONE,
    WK_ST_PROOF_SUBMITTED,
    WK_ST_FINISHED,
    WK_ST_ABORTED,
    WK_ST_UNSEALED,
    WK_ST_COUNT
} wk_state;

typedef enum wk_event {
    WK_EV_ALLOCATE = 0,
    WK_EV_ACQUIRE_DEALS,
    WK_EV_ADD_PIECE,
    WK_EV_BUILD_TREE_D,
    WK_EV_ASSIGN_TICKET,
    WK_EV_PC1,
    WK_EV_PC2,
    WK_EV_SUBMIT_PC,
    WK_EV_CHECK_PC,
    WK_EV_RESUBMIT_PC,
    WK_EV_PERSIST,
    WK_EV_SUBMIT_PERSISTANCE,
    WK_EV_ASSIGN_SEED,
    WK_EV_C1,
    WK_EV_C2,
    WK_EV_SUBMIT_PROOF,
    WK_EV_RESUBMIT_PROOF,
    WK_EV_FINISH,
    WK_EV_ABORT,
    WK_EV_UNSEAL,
    WK_EV_UPLOAD_PIECE_DONE,
    WK_EV_COUNT
} wk_event;

/* "Empty", "PC1Done", ... (damocles' spelling, "PersistanceSubmitted" included). */
const char *wk_state_name(wk_state s);
/* The state of a name (exact, case-insensitive), or -1. */
int wk_state_parse(const char *name);
const char *wk_event_name(wk_event e);
int wk_event_parse(const char *name);

/* "sealer", "unseal". */
const char *wk_plan_name(wk_plan_kind p);

/* The state event e leads to from s under plan p, or -1 when the plan has no such row. */
int wk_plan_next(wk_plan_kind p, wk_state s, wk_event e);
/* True when s is a state of plan p (a valid target for `threads resume --state`). */
bool wk_plan_has_state(wk_plan_kind p, wk_state s);
/* The rows of a plan, for tests and docs: *n rows of {from, event, to}. */
typedef struct wk_transition {
    wk_state from;
    wk_event event;
    wk_state to;
} wk_transition;
const wk_transition *wk_plan_table(wk_plan_kind p, int *n);

/* The stage a state's handler runs (for status lines): "pc1" for TicketAssigned, ... */
const char *wk_state_stage(wk_plan_kind p, wk_state s);

/* ---- the record ---------------------------------------------------------------------- */

#define WK_SECTOR_VERSION 1
#define WK_MAX_PIECES 64
#define WK_CID_MAX 128
#define WK_NAME_MAX 128
#define WK_ERROR_MAX 512

/* A deal piece in the order it is written into the sector. */
typedef struct wk_piece {
    char cid[WK_CID_MAX];        /* piece CID "baga6ea4sea..." */
    uint8_t comm_p[32];
    uint64_t size;               /* unpadded piece size, 127 * 2^k */
    uint64_t payload_size;       /* bytes of the payload before zero fill */
    uint64_t deal_id;
} wk_piece;

/* Failure levels (damocles failure.rs). */
typedef enum wk_level {
    WK_LEVEL_NONE = 0,
    WK_LEVEL_TEMPORARY,          /* retried max_retries times every recover_interval */
    WK_LEVEL_PERMANENT,          /* the thread pauses until an operator resumes it */
    WK_LEVEL_CRITICAL,           /* the same, for the worker's own faults (disk, config) */
    WK_LEVEL_ABORT,              /* the sector is given up: ReportAborted, clean up */
} wk_level;
const char *wk_level_name(wk_level l);

typedef struct wk_sector {
    int version;
    wk_plan_kind plan;
    wk_state state;
    wk_state prev;
    int retry;                   /* consecutive temporary failures of this state */
    bool paused;                 /* waiting for `threads resume` */
    wk_level error_level;
    char last_error[WK_ERROR_MAX];
    uint64_t updated_ms;         /* wall clock of the last transition */

    /* Allocated */
    uint64_t miner;              /* actor id */
    uint64_t number;
    int proof_id;
    uint64_t sector_size;
    /* DealsAcquired / PieceAdded */
    int npieces;
    wk_piece pieces[WK_MAX_PIECES];
    /* TreeDBuilt */
    bool has_comm_d;
    uint8_t comm_d[32];
    /* TicketAssigned */
    bool has_ticket;
    uint8_t ticket[32];
    int64_t ticket_epoch;
    /* PC1Done: the encoded pf_pc1_output */
    bool has_pc1;
    uint8_t pc1out[160];
    size_t pc1out_len;
    /* PC2Done */
    bool has_pc2;
    uint8_t comm_c[32], comm_r_last[32], comm_r[32];
    bool pc_resubmit;
    /* Persisted: the store the sector was copied to */
    char persist_store[WK_NAME_MAX];
    /* SeedAssigned */
    bool has_seed;
    uint8_t seed[32];
    int64_t seed_epoch;
    /* C1Done / C2Done: sizes and SHA-256 of the files under data/commit/ */
    uint64_t c1_len;
    uint8_t c1_hash[32];
    uint64_t proof_len;
    uint8_t proof_hash[32];
    bool proof_resubmit;
    /* Aborted */
    char abort_reason[WK_ERROR_MAX];
    /* unseal plan, from Venus.AllocateUnsealSector (ticket and comm_d above hold the
     * precommit's): the piece's unpadded range in the sector, the store holding the
     * sealed sector, and the store AcquireUnsealDest chose */
    uint64_t unseal_task;
    char unseal_piece[WK_CID_MAX];
    uint64_t unseal_offset;
    uint64_t unseal_size;
    char unseal_access[WK_NAME_MAX];
    char unseal_dest[WK_NAME_MAX];
} wk_sector;

/* An Empty record of plan p. */
void wk_sector_init(wk_sector *s, wk_plan_kind p);
/* "s-t01000-12": lotus' file name of the sector. */
char *wk_sector_file_name(const wk_sector *s, char *buf, size_t len);
/* True when the record holds an allocated sector (state past Empty). */
bool wk_sector_allocated(const wk_sector *s);

/* Applies event e (whose data the handler has already stored in *s): checks the plan's
 * row, sets prev/state, clears retry and error.  SP_ESTATE naming the state, the event and
 * the plan when the row does not exist. */
sp_code wk_sector_apply(wk_sector *s, wk_event e, sp_err *err);

/* JSON form (the meta.db document; also the `threads list --json` detail). */
cJSON *wk_sector_to_json(const wk_sector *s);
/* Strict: unknown version, bad state names or wrong field types are SP_ECORRUPT. */
sp_code wk_sector_from_json(const cJSON *j, wk_sector *s, sp_err *err);

#endif
