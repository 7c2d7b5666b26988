#!/usr/bin/env bash
# fault_manager_down.sh (long) — tests/e2e/fault_manager_down.sh with the manager stopped
# for 4 minutes (threads back off to recover_interval and keep waiting without counting a
# retry), then frozen with SIGSTOP for 3 minutes while a sector runs C1 and C2 (calls time
# out after 60s instead of being refused).  Six 2KiB sectors end Proving, none lost.
export FAULT_DOWN_S=${FAULT_DOWN_S:-240} FAULT_HANG_S=${FAULT_HANG_S:-180}
exec "$(dirname "$0")/../e2e/fault_manager_down.sh"
