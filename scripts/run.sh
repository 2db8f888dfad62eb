#!/usr/bin/env bash
# `make run`: migrate, load reference and demo data when missing, then serve with the task worker.
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBUG="${DEBUG:-1}"
PORT="${PORT:-8000}"
ACCOUNTS="${DEMO_ACCOUNTS:-20000}"
PY=.venv/bin/python

started=$(date +%s)
$PY manage.py migrate --noinput -v 0
$PY manage.py load_reference --if-needed
$PY manage.py seed_demo --accounts "$ACCOUNTS" --if-empty

$PY manage.py qcluster &
worker=$!
trap 'kill $worker 2>/dev/null; wait $worker 2>/dev/null' EXIT INT TERM

cat <<MSG

  SalesOS is ready ($(( $(date +%s) - started )) s): http://127.0.0.1:${PORT}/

  Demo logins (password: $($PY -c 'from salesos.settings import SALESOS_DEMO_PASSWORD as p; print(p)')):
    admin     sales ops admin: everything
    director  AMER director: the region's hierarchy
    manager   a manager: the team's territories
    rep       a rep: "my territory"

  The task worker (django-q2) runs beside the web server. Ctrl+C stops both.

MSG
$PY manage.py runserver "127.0.0.1:${PORT}" --noreload
