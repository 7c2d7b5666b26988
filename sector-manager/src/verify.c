/* verify.c — prove-commit verification on the local chain with the proofs library's
 * verifier (pf_verify_seal: the native commit proof, checked completely). */
#include <stdio.h>

#include "sealproofs.h"
#include "sm_commits.h"

sp_code sm_verify_seal(void *ctx, const sm_seal_verify *v, bool *ok, char *why, size_t why_len,
                       sp_err *err)
{
    (void)ctx;
    *ok = false;
    uint8_t prover_id[32];
    pf_prover_id_from_actor(v->miner, prover_id);
    pf_error pe = { 0 };
    pf_status st = pf_verify_seal(v->proof_type, v->comm_r, v->comm_d, prover_id, v->ticket,
                                  v->seed, v->number, v->proof, v->proof_len, &pe);
    if (st == PF_OK) {
        *ok = true;
        return SP_OK;
    }
    /* A proof that does not verify, or public inputs no valid proof could match (a
     * CommR that is not a field element, ...): the submission is refused with the reason.
     * Anything else is the verifier failing, which the caller may retry. */
    if (st == PF_EVERIFY || st == PF_EINVAL) {
        snprintf(why, why_len, "%s", pe.msg[0] ? pe.msg : pf_strerror(st));
        return SP_OK;
    }
    return sp_fail(err, st == PF_ENOMEM ? SP_ENOMEM : SP_EPROOF, "seal verification failed to run: %s",
                   pe.msg[0] ? pe.msg : pf_strerror(st));
}
