/* rpc_util.c — JSON shapes shared by the manager's RPC methods: SectorID, commitments
 * as byte arrays, base64 randomness, CIDs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sm_rpc.h"
#include "sp_json.h"

sp_code sm_rpc_positional(const cJSON *params, size_t max, sp_err *err)
{
    if (params && !cJSON_IsArray(params))
        return sp_fail(err, SP_EINVAL, "params must be a positional array");
    return sp_json_check_params(params, max, NULL, err);
}

sp_code sm_rpc_sector_id(const cJSON *params, int index, const char *name, uint64_t *miner,
                         uint64_t *number, sp_err *err)
{
    const cJSON *o;
    sp_code rc = sp_json_get_object(params, index, name, &o, err);
    if (rc)
        return rc;
    static const char *const keys[] = { "Miner", "Number", NULL };
    if ((rc = sp_json_check_params(o, 0, keys, err)) ||
        (rc = sp_json_get_u64(o, -1, "Miner", 0, INT64_MAX, miner, err)) ||
        (rc = sp_json_get_u64(o, -1, "Number", 0, INT64_MAX, number, err))) {
        sp_err_prefix(err, "param %d (%s)", index, name);
        return rc;
    }
    return SP_OK;
}

cJSON *sm_rpc_sector_id_json(uint64_t miner, uint64_t number)
{
    cJSON *o = cJSON_CreateObject();
    if (!o || sp_json_add_u64(o, "Miner", miner, NULL) || sp_json_add_u64(o, "Number", number, NULL)) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

sp_code sm_rpc_get_comm(const cJSON *obj, const char *key, uint8_t out[32], sp_err *err)
{
    const cJSON *a = cJSON_IsObject(obj) ? cJSON_GetObjectItemCaseSensitive(obj, key) : NULL;
    if (!cJSON_IsArray(a) || cJSON_GetArraySize(a) != 32)
        return sp_fail(err, SP_EINVAL, "%s: expected an array of 32 numbers 0..255", key);
    int i = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, a) {
        if (!cJSON_IsNumber(it) || it->valuedouble < 0 || it->valuedouble > 255 ||
            it->valuedouble != (double)(int)it->valuedouble)
            return sp_fail(err, SP_EINVAL, "%s[%d]: expected a number 0..255", key, i);
        out[i++] = (uint8_t)it->valueint;
    }
    return SP_OK;
}

cJSON *sm_rpc_comm_json(const uint8_t c[32])
{
    int v[32];
    for (int i = 0; i < 32; i++)
        v[i] = c[i];
    return cJSON_CreateIntArray(v, 32);
}

sp_code sm_rpc_get_rand(const cJSON *obj, const char *key, uint8_t out[32], sp_err *err)
{
    uint8_t *b = NULL;
    size_t n = 0;
    sp_code rc = sp_json_get_base64(obj, -1, key, 64, &b, &n, err);
    if (rc)
        return rc;
    if (n != 32) {
        free(b);
        return sp_fail(err, SP_EINVAL, "%s: expected 32 bytes of base64, got %zu bytes", key, n);
    }
    memcpy(out, b, 32);
    free(b);
    return SP_OK;
}

cJSON *sm_rpc_cid_json(const char *cid)
{
    cJSON *o = cJSON_CreateObject();
    if (!o || !cJSON_AddStringToObject(o, "/", cid)) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

sp_code sm_rpc_get_cid(const cJSON *params, int index, const char *name, const char **out,
                       sp_err *err)
{
    const cJSON *v = sp_json_param(params, index, name);
    if (cJSON_IsObject(v))
        return sp_json_get_str(v, -1, "/", 1, 127, out, err);
    return sp_json_get_str(params, index, name, 1, 127, out, err);
}

cJSON *sm_rpc_str_or_null(const char *s)
{
    return s && *s ? cJSON_CreateString(s) : cJSON_CreateNull();
}
