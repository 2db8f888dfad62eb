#!/usr/bin/env bash
# `make run`: migrate, load reference and demo data when missing, then serve with the task worker.
# Ctrl+C (or SIGTERM) stops the web server and the task worker, with all their children, within
# a few seconds: each runs in its own process group, which gets SIGTERM and, 3 s later, SIGKILL.
set -euo pipefail
cd "$(dirname "$0")/.."
# DEBUG stays off (no technical error pages); DEVELOPMENT gives the local conveniences.
export DEVELOPMENT="${DEVELOPMENT:-1}"
PORT="${PORT:-8000}"
ACCOUNTS="${DEMO_ACCOUNTS:-20000}"
PY=.venv/bin/python

started=$(date +%s)
$PY manage.py migrate --noinput -v 0
$PY manage.py load_reference --if-needed
$PY manage.py seed_demo --accounts "$ACCOUNTS" --if-empty

# Job control: every background job gets its own process group (and keeps SIGINT, which a
# non-interactive shell would otherwise ignore in background jobs).
set -m
pids=()
stopping=0
stop() {
  [ "$stopping" = 1 ] && return
  stopping=1
  trap '' INT TERM
  echo
  echo "  Stopping SalesOS ..."
  for pid in "${pids[@]}"; do kill -TERM -- "-$pid" 2>/dev/null || true; done
  for _ in 1 2 3 4; do  # 2 s of grace, then SIGKILL: the task worker ignores SIGTERM
    alive=0
    for pid in "${pids[@]}"; do kill -0 -- "-$pid" 2>/dev/null && alive=1; done
    [ "$alive" = 0 ] && break
    sleep 0.5
  done
  for pid in "${pids[@]}"; do kill -KILL -- "-$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap 'stop; exit 130' INT
trap 'stop; exit 143' TERM
trap 'stop' EXIT

$PY manage.py qcluster &
pids+=($!)

cat <<MSG

  SalesOS is ready ($(( $(date +%s) - started )) s): http://127.0.0.1:${PORT}/

  Demo logins (password: $($PY -c 'from salesos.settings import SALESOS_DEMO_PASSWORD as p; print(p)')):
    admin     sales ops admin: everything
    director  AMER director: the region's hierarchy
    manager   a manager: the team's territories
    rep       a rep: "my territory"

  The task worker (django-q2) runs beside the web server. Ctrl+C stops both.

MSG
$PY manage.py runserver "127.0.0.1:${PORT}" --noreload &
pids+=($!)
# Whichever stops first (or a signal) ends the run; the EXIT trap stops the other.
wait -n || true
