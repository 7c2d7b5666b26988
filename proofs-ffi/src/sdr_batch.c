/* sdr_batch.c — pf_pc1_batch: PC1 of several sectors of one proof together.
 * For now each sector runs pf_pc1 in turn (same files, resume and errors); the
 * interleaved multi-buffer labeler replaces the loop. */
#include <stdio.h>
#include <string.h>

#include "sealproofs.h"

pf_status pf_pc1_batch(int proof_id, pf_pc1_batch_sector *sectors, int n,
                       const char *parent_cache_dir, const pf_sdr_options *opts, pf_error *err)
{
    if (!sectors || n < 1 || n > PF_PC1_BATCH_MAX) {
        if (err) {
            err->status = PF_EINVAL;
            snprintf(err->msg, sizeof err->msg, "pc1 batch: %d sectors (1..%d)", n,
                     PF_PC1_BATCH_MAX);
        }
        return PF_EINVAL;
    }
    pf_status first = PF_OK;
    for (int i = 0; i < n; i++) {
        pf_pc1_batch_sector *s = &sectors[i];
        pf_sdr_options o = opts ? *opts : (pf_sdr_options){ 0 };
        if (s->cancel)
            o.cancel = s->cancel;
        memset(&s->err, 0, sizeof s->err);
        s->status = pf_pc1(proof_id, s->cache_dir, s->sector_id, s->prover_id, s->ticket,
                           s->comm_d, parent_cache_dir, &o, &s->out, &s->err);
        if (s->status != PF_OK && first == PF_OK) {
            first = s->status;
            if (err) {
                err->status = first;
                snprintf(err->msg, sizeof err->msg, "pc1 batch: sector %d (%.100s): %.300s", i,
                         s->cache_dir ? s->cache_dir : "?", s->err.msg);
            }
        }
    }
    return first;
}
