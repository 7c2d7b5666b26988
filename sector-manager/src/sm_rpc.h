/* sm_rpc.h — the manager's JSON-RPC methods (docs/rpc.md is the wire contract) and the
 * JSON shapes they share.
 *
 * Worker scope (damocles' names, "Venus." namespace): rpc_worker.c.
 * Admin scope ("Sealpipe." namespace, backing the CLI): rpc_admin.c.
 * Storage tiers and the block scheduler, both scopes (unseal tasks for workers; jobs,
 * blocks, GC, pins for the admin): rpc_storage.c.
 * Params are positional arrays; extra params, unknown enum values and wrong types are
 * "invalid params" errors that name the parameter.
 */
#ifndef SM_RPC_H
#define SM_RPC_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "sp_err.h"
#include "sp_jsonrpc.h"

extern const sp_rpc_method sm_rpc_worker_methods[];
extern const size_t sm_rpc_worker_count;
extern const sp_rpc_method sm_rpc_admin_methods[];
extern const size_t sm_rpc_admin_count;
extern const sp_rpc_method sm_rpc_storage_methods[];
extern const size_t sm_rpc_storage_count;

/* params must be an array (or absent) of at most max elements. */
sp_code sm_rpc_positional(const cJSON *params, size_t max, sp_err *err);

/* SectorID {"Miner": u64, "Number": u64}. */
sp_code sm_rpc_sector_id(const cJSON *params, int index, const char *name, uint64_t *miner,
                         uint64_t *number, sp_err *err);
cJSON *sm_rpc_sector_id_json(uint64_t miner, uint64_t number);

/* A [32]byte commitment as Go encodes it: an array of 32 numbers 0..255. */
sp_code sm_rpc_get_comm(const cJSON *obj, const char *key, uint8_t out[32], sp_err *err);
cJSON *sm_rpc_comm_json(const uint8_t c[32]);
/* 32 bytes of randomness as standard base64. */
sp_code sm_rpc_get_rand(const cJSON *obj, const char *key, uint8_t out[32], sp_err *err);
/* {"/": cid} */
cJSON *sm_rpc_cid_json(const char *cid);
/* A CID string from {"/": "..."} or a plain string. */
sp_code sm_rpc_get_cid(const cJSON *params, int index, const char *name, const char **out,
                       sp_err *err);

/* A string or JSON null. */
cJSON *sm_rpc_str_or_null(const char *s);

#endif
