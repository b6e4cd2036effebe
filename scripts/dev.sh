#!/usr/bin/env bash
# `npm run dev`: provisions (scripts/bootstrap.sh), then runs the stack (scripts/dev.ts, which stops
# everything it started on a signal). npm hands a SIGTERM to this shell alone, so the bootstrap runs
# as a job with a process group of its own and a signal here stops all of it (apt-get, pip, npm ci,
# vite) instead of leaving it running orphaned; Ctrl-C in a terminal reaches it the same way.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

set -m
bash scripts/bootstrap.sh &
bootstrap=$!
stop() {
  kill -TERM -- "-$bootstrap" 2>/dev/null
  wait "$bootstrap"
  echo "[dev] stopped during the bootstrap" >&2
  # As dev.ts does: a requested stop is a clean one.
  exit 0
}
trap stop INT TERM HUP
wait "$bootstrap"
status=$?
trap - INT TERM HUP
set +m
[ "$status" -eq 0 ] || exit "$status"
exec node --require tsx/cjs scripts/dev.ts "$@"
