#!/usr/bin/env bash
# Runs one set-up step with a time limit and a log of its own, printing a line at least every
# 30 seconds while it runs, so that a first install can neither hang nor go quiet.
# Airlock's own steps (the llama.cpp server, the model) do the same in Swift (SetupStep).
#
# Usage: scripts/setup-step.sh NAME MINUTES RETRY -- COMMAND [ARG...]
#   NAME     what the step does, and its log's name (.airlock/setup/NAME.log, or $AIRLOCK_SETUP_LOGS)
#   MINUTES  the time limit; past it the step and all it started are stopped
#   RETRY    the command a person runs to try again (steps skip what is already done)
set -uo pipefail
[ $# -ge 5 ] && [ "$4" = "--" ] || { echo "usage: $0 NAME MINUTES RETRY -- COMMAND [ARG...]" >&2; exit 2; }
name=$1 minutes=$2 retry=$3
shift 4
logs=${AIRLOCK_SETUP_LOGS:-.airlock/setup}
mkdir -p "$logs"
log="$logs/$name.log"
printf '\n== %s %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*" >>"$log"
echo "$name (log: $log)"
start=$SECONDS
# timeout puts the step in a process group of its own and, at the limit, signals the whole group.
timeout --kill-after=10 "$((minutes * 60))" "$@" >>"$log" 2>&1 </dev/null &
step=$!
while kill -0 "$step" 2>/dev/null; do
  for _ in $(seq 30); do
    sleep 1
    kill -0 "$step" 2>/dev/null || break 2
  done
  elapsed=$((SECONDS - start))
  printf '  still %s: %dm%02ds elapsed\n' "$name" $((elapsed / 60)) $((elapsed % 60))
done
wait "$step"
status=$?
elapsed=$((SECONDS - start))
if [ "$status" -eq 124 ] || [ "$status" -eq 137 ]; then
  reason="it did not finish within $minutes minutes"
elif [ "$status" -ne 0 ]; then
  reason="it exited with status $status"
else
  printf '  done: %s in %dm%02ds\n' "$name" $((elapsed / 60)) $((elapsed % 60))
  exit 0
fi
echo "error: step '$name' failed: $reason; see its log $log (last lines below), then retry with: $retry" >&2
tail -n 20 "$log" | sed 's/^/  | /' >&2
exit 1
