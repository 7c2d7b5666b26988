/* sm_retrieval.h — block and piece retrieval over HTTP (a bearer token with the worker,
 * admin or retrieval scope):
 *
 *   GET /ipfs/<cid>[?format=raw|car]   one block, its hash checked before it is sent:
 *        application/vnd.ipld.raw, or a CARv1 holding just that block
 *        (application/vnd.ipld.car; also chosen by an Accept header of that type).
 *        Served from the L1 memory cache, else the L2 disk cache, else an unsealed copy
 *        of a piece that holds the block (healthy stores, hot tier first, then the piece
 *        store's file); what is read from disk goes into both caches.
 *   GET /piece/<piece-cid>             a piece's bytes, with Range (206, 416), from an
 *        unsealed copy straight from the file (sendfile).
 * When no copy can be read the manager queues an unseal task and answers 503 with
 * Retry-After (storage.retrieval.retry_after) until a worker recovered the data; 404
 * when nothing holds the block or piece.  A copy that is missing, has the wrong size or
 * fails its hash is flagged (the replica's state, a finding) and the next copy is tried:
 * a bad copy never wedges a request.  CIDs are parsed strictly (sm_cid.h); no request
 * text is ever used as a path.  Handlers only read the database and the copies; they do
 * no scans.
 */
#ifndef SM_RETRIEVAL_H
#define SM_RETRIEVAL_H

#include "sm_storage.h"
#include "sp_http.h"

/* The routes' shared state: the storage service and the read-ahead thread that keeps a
 * piece read in consecutive Range requests ahead of its readers (sm_prefetch.h). */
typedef struct sm_retrieval sm_retrieval;

/* Adds the /ipfs/ and /piece/ routes and starts the read-ahead thread; *out is released
 * with sm_retrieval_stop once the server has stopped (no handler runs any more). */
sp_code sm_retrieval_start(sm_storage *st, sp_http_server *http, sm_retrieval **out, sp_err *err);
void sm_retrieval_stop(sm_retrieval *rt);


#endif
