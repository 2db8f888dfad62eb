#!/usr/bin/env bash
# `make load`: the whole stack under load, on this machine (README "Load test").
#
# gunicorn (4 workers) + PostgreSQL + a qcluster (2 workers, Redis broker when Redis answers), a
# 100,000-account demo in its own database, 50 locust users (28 reps, 12 managers, 5 admins and 5
# API clients routing 20 leads a second) for LOAD_SECONDS; a full re-route job is started
# LOAD_REROUTE_AFTER seconds in and checked afterwards. Prints one JSON line.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python

export DATABASE_URL="${LOAD_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/salesos_load}"
ACCOUNTS="${LOAD_ACCOUNTS:-100000}"
SECONDS_RUN="${LOAD_SECONDS:-300}"
REROUTE_AFTER="${LOAD_REROUTE_AFTER:-30}"
PORT="${LOAD_PORT:-8765}"
HOST="http://127.0.0.1:${PORT}"
WORK="$(mktemp -d /tmp/salesos-load.XXXXXX)"

# The load run's settings: production mode (DEBUG and DEVELOPMENT off) over plain HTTP on the
# loopback address. Every simulated client comes from 127.0.0.1, so the API's per-address and
# per-token limits are raised above the 20 requests a second the clients send (a real deployment
# sees its clients' own addresses); logins are correct, so the login throttle counts nothing, and
# its counts are cleared before the run. Full re-routes of 50,000 accounts or more run as shards
# of 25,000, so the job under load spreads over the task workers.
export DEVELOPMENT=0 DEBUG=0
export SECRET_KEY="${SECRET_KEY:-load-test-only-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')}"
export ALLOWED_HOSTS=127.0.0.1 SECURE_SSL_REDIRECT=0 SESSION_COOKIE_SECURE=0 CSRF_COOKIE_SECURE=0 SECURE_HSTS_SECONDS=0
export STATIC_ROOT="${STATIC_ROOT:-$PWD/staticfiles}"
export API_RATE_LIMIT_PER_ADDRESS="${API_RATE_LIMIT_PER_ADDRESS:-6000/minute}"
export API_RATE_LIMIT_PER_TOKEN="${API_RATE_LIMIT_PER_TOKEN:-6000/minute}"
export ROUTING_SHARD_FROM="${ROUTING_SHARD_FROM:-50000}" ROUTING_SHARD_SIZE="${ROUTING_SHARD_SIZE:-25000}"
export Q_WORKERS="${Q_WORKERS:-2}" Q_NAME="${Q_NAME:-salesos-load-$$}"
if [ -z "${REDIS_URL+x}" ] && (exec 3<>/dev/tcp/127.0.0.1/6379) 2>/dev/null; then
  export REDIS_URL=redis://127.0.0.1:6379/13
fi
export LOAD_FIXTURE="$WORK/fixture.json"

log() { echo "load: $*" >&2; }
pids=()
stop() {
  for pid in "${pids[@]}"; do kill -TERM -- "-$pid" 2>/dev/null || true; done
  sleep 2
  for pid in "${pids[@]}"; do kill -KILL -- "-$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap stop EXIT
set -m  # each background job in its own process group, stopped as a whole

log "database ${DATABASE_URL##*/}, ${ACCOUNTS} accounts, ${SECONDS_RUN} s, broker ${REDIS_URL:-database}; logs in $WORK"
# The load database is created on first use (a fresh machine has only PostgreSQL's own databases).
$PY - <<'PYEOF'
import os
from urllib.parse import urlsplit

import psycopg

url = urlsplit(os.environ["DATABASE_URL"])
name = url.path.lstrip("/")
with psycopg.connect(url._replace(path="/postgres").geturl(), autocommit=True) as conn:
    if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
        conn.execute(f'CREATE DATABASE "{name}"')
PYEOF
$PY manage.py migrate --noinput -v 0
$PY manage.py load_reference --if-needed >/dev/null
# collectstatic compresses every file: only when a static file is newer than the last run's manifest.
manifest="$STATIC_ROOT/staticfiles.json"
if [ ! -f "$manifest" ] || [ -n "$(find static -type f -newer "$manifest" | head -1)" ]; then
  $PY manage.py collectstatic --noinput -v 0
fi
# prepare also clears the login-throttle counts; it refuses a database without exactly $ACCOUNTS
# accounts, which is then seeded first.
if ! $PY manage.py load_support prepare --accounts "$ACCOUNTS" --out "$LOAD_FIXTURE" >&2 2>"$WORK/prepare.log"; then
  log "seeding the demo with $ACCOUNTS accounts"
  $PY manage.py seed_demo --accounts "$ACCOUNTS" --seed 1 --reset >"$WORK/seed.log" 2>&1
  $PY manage.py load_support prepare --accounts "$ACCOUNTS" --out "$LOAD_FIXTURE" >&2
fi

# --preload: the app is imported once, before the workers fork. --timeout 120: a worker's first
# routing call compiles the plan, which on a busy 2-core machine took longer than the default 30 s.
.venv/bin/gunicorn salesos.wsgi --workers 4 --preload --timeout 120 --bind "127.0.0.1:${PORT}" --access-logfile - \
  >"$WORK/gunicorn.log" 2>&1 &
pids+=($!)
$PY manage.py qcluster >"$WORK/qcluster.log" 2>&1 &
pids+=($!)
for _ in $(seq 300); do  # the first start on a busy machine can take minutes
  curl -fs "$HOST/healthz" >/dev/null 2>&1 && break
  sleep 1
done
curl -fs "$HOST/healthz" >/dev/null || { log "gunicorn did not answer /healthz"; exit 1; }
# Warm-up, not measured: each web process builds its compiled plan on its first routing call.
key=$($PY -c 'import json, os; print(json.load(open(os.environ["LOAD_FIXTURE"]))["api_key"])')
warm=()
for _ in $(seq 12); do
  curl -s -o /dev/null -X POST "$HOST/api/v1/route" -H "Authorization: Bearer $key" \
    -H "Content-Type: application/json" -d '{"country": "US"}' &
  warm+=($!)
done
wait "${warm[@]}" || true

.venv/bin/locust -f scripts/load/locustfile.py --headless --host "$HOST" --users 50 --spawn-rate 10 \
  --run-time "${SECONDS_RUN}s" --stop-timeout 10 --only-summary >"$WORK/locust.log" 2>&1 &
locust_pid=$!
pids+=($locust_pid)
sleep "$REROUTE_AFTER"
job=$($PY manage.py load_support reroute)
log "full re-route job $job queued ${REROUTE_AFTER} s into the run"
wait "$locust_pid" || true
pids=("${pids[@]/$locust_pid}")

status=0
verify=$($PY manage.py load_support verify --job "$job") || status=1
result=$(grep '^LOAD_RESULT ' "$WORK/locust.log" | tail -1 | cut -d' ' -f2-)
[ -n "$result" ] || { log "locust printed no result; see $WORK/locust.log"; exit 1; }
$PY - "$result" "$verify" <<'PY'
import json
import sys

figures = json.loads(sys.argv[1])
figures["reroute"] = json.loads(sys.argv[2] or "{}")
print(json.dumps(figures))
PY
exit "$status"
