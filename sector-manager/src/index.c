/* index.c — the indexing job: pieces whose block index is pending are read from the
 * piece store's file, else from an unsealed replica, and indexed (sm_blocks.h). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sm_blocks.h"
#include "sm_jobs.h"
#include "sm_objects.h"
#include "sm_pieces.h"
#include "sp_json.h"
#include "sp_log.h"

/* Indexes one piece from the first readable copy with the recorded size. */
static sp_code index_one(sm_job_ctx *ctx, const char *cid, sp_err *err)
{
    sm_piece p;
    sp_code rc = sm_pieces_get(ctx->db, cid, &p, err);
    if (rc)
        return rc;
    sm_source src[8];
    size_t n = 0;
    int64_t oid = 0;
    if ((rc = sm_piece_sources(ctx->db, ctx->conf->piece_dir, cid, src, 8, &n, &oid, err)))
        return rc;
    cJSON *item = cJSON_CreateObject();
    cJSON_AddItemToArray(sm_jobs_list(ctx, "Pieces"), item);
    sp_json_add_str(item, "PieceCID", cid, NULL);
    for (size_t i = 0; i < n; i++) {
        int fd = open(src[i].path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        struct stat st;
        if (fd < 0)
            continue;
        if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || (uint64_t)st.st_size != p.payload_size) {
            close(fd);
            continue;
        }
        sm_index_info info;
        sp_err e;
        rc = sm_blocks_index_fd(ctx->db, cid, fd, p.payload_size, ctx->conf->storage.max_block,
                                ctx->stop, &info, &e);
        close(fd);
        if (rc == SP_EBUSY)
            return rc;
        sp_json_add_str(item, "Source", src[i].piece_store ? "piece store" : src[i].store, NULL);
        sp_json_add_str(item, "Kind", info.kind, NULL);
        sp_json_add_u64(item, "Blocks", info.blocks, NULL);
        sp_json_add_str(item, "State", info.state, NULL);
        if (rc) {
            sp_json_add_str(item, "Error", e.msg, NULL);
            SP_WARN("index of piece %s failed: %s", cid, e.msg);
        } else {
            SP_INFO("piece %s indexed: %s, %" PRIu64 " blocks", cid, info.kind, info.blocks);
        }
        return SP_OK;
    }
    sp_json_add_str(item, "State", "failed", NULL);
    sp_json_add_str(item, "Error", "no readable copy with the recorded size", NULL);
    SP_WARN("index of piece %s: no readable copy of its %" PRIu64 " bytes", cid, p.payload_size);
    return sm_blocks_set_failed(ctx->db, cid, "no readable copy of the piece with its recorded size "
                                "(check `pieces show`; `index rebuild` retries)", err);
}

sp_code sm_job_index(sm_job_ctx *ctx, const sm_job_req *req, sp_err *err)
{
    (void)req;
    for (;;) {
        if (ctx->stop && *ctx->stop)
            return SP_EBUSY;
        char cids[8][PF_COMMCID_STR_MAX];
        size_t n = 0;
        sp_code rc = sm_blocks_pending(ctx->db, cids, 8, &n, err);
        if (rc)
            return rc;
        if (n == 0)
            return SP_OK;
        for (size_t i = 0; i < n; i++)
            if ((rc = index_one(ctx, cids[i], err)))
                return rc;
    }
}
