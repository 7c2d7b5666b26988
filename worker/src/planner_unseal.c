/* planner_unseal.c — the unseal plan's handlers (issue 8): a thread with plan = "unseal"
 * recovers unsealed copies of deal data for retrieval.  The manager does not hand out
 * unseal tasks yet (no AllocateUnsealSector in docs/rpc.md), so an Empty unseal thread
 * waits; the stage itself (wk_stages.h "unseal") is ready for when it does. */
#include "wk_thread.h"

static void unseal_exec(wk_task *t, wk_step *st)
{
    if (t->s->state == WK_ST_EMPTY) {
        wk_task_activity(t, "the manager hands out no unseal tasks yet");
        wk_step_idle(st, t->tcfg->sealing.rpc_polling_interval_ms);
        return;
    }
    wk_step_fail(st, WK_LEVEL_PERMANENT, "the unseal plan cannot run state %s yet; resume with "
                 "--state Aborted to drop the record", wk_state_name(t->s->state));
}

const wk_planner wk_planner_unseal = { "unseal", WK_PLAN_UNSEAL, unseal_exec };
