"""django-q2 on its Redis broker, with real worker processes (`manage.py qcluster`).

A re-route job and scheduled tasks are enqueued through Redis, picked up by a worker and finish;
with two workers running side by side, each schedule runs once per due time.

Everything runs in subprocesses against a scratch database of its own (a SQLite file, or a
PostgreSQL database created and dropped here when DATABASE_URL is set), so the workers see what
the test wrote whatever database the test run uses. Each run names its own queue (`Q_NAME`) so
runs sharing one Redis never take each other's tasks.

Needs Redis at REDIS_TEST_URL (default redis://127.0.0.1:6379/15). Without it the test is skipped
locally and fails in CI (CI=true), as `.ci/run` starts Redis."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import redis
from django.conf import settings

ROOT = Path(__file__).resolve().parents[1]
REDIS_TEST_URL = os.environ.get("REDIS_TEST_URL", "redis://127.0.0.1:6379/15")
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}

pytestmark = [pytest.mark.slow, pytest.mark.redis]


def _redis_or_skip() -> redis.Redis:
    client = redis.Redis.from_url(REDIS_TEST_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        reason = f"Redis is not reachable at {REDIS_TEST_URL} ({exc}); start redis-server to run the broker tests."
        if IN_CI:
            pytest.fail(reason)
        pytest.skip(reason)
    return client


def _scratch_postgres(url: str) -> Iterator[str]:
    """A PostgreSQL database of its own beside the configured one; dropped afterwards."""
    settings_db = settings.DATABASES["default"]
    name = f"salesos_broker_{uuid.uuid4().hex[:10]}"
    admin = dict(host=settings_db["HOST"] or "127.0.0.1", port=settings_db["PORT"] or 5432,
                 user=settings_db["USER"], password=settings_db["PASSWORD"] or None, dbname="postgres")
    with psycopg.connect(**admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield url.rsplit("/", 1)[0] + "/" + name
    finally:
        with psycopg.connect(**admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def broker_env(tmp_path) -> Iterator[dict[str, str]]:
    client = _redis_or_skip()
    queue = f"salesos-test-{uuid.uuid4().hex[:10]}"
    env = {k: v for k, v in os.environ.items()
           if k not in {"DATABASE_URL", "DEBUG", "SALESOS_TESTING", "PYTEST_XDIST_WORKER", "PYTEST_CURRENT_TEST"}}
    env.update({"DEVELOPMENT": "1", "REDIS_URL": REDIS_TEST_URL, "Q_NAME": queue, "Q_WORKERS": "2"})
    database_url = os.environ.get("DATABASE_URL", "")
    scratch = _scratch_postgres(database_url) if database_url else None
    if scratch is not None:
        env["DATABASE_URL"] = next(scratch)
    else:
        env["SQLITE_PATH"] = str(tmp_path / "broker.sqlite3")
    try:
        subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True, timeout=300)
        yield env
    finally:
        for key in client.scan_iter(f"django_q:{queue}:*"):
            client.delete(key)
        if scratch is not None:
            scratch.close()


def _django(env: dict[str, str], code: str) -> dict:
    """Runs ``code`` in a Django shell with ``env``; it prints one JSON object, returned here."""
    done = subprocess.run([sys.executable, "manage.py", "shell", "-c", code], cwd=ROOT, env=env, timeout=120,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


SETUP = """
import datetime as dt, json
from django.db import transaction
from django.utils import timezone
from django_q.brokers import get_broker
from django_q.models import Schedule
from routing.batch import reroute_job_start
from salesos.models import Account
from territories.models import Territory, TerritoryPlan

plan = TerritoryPlan.objects.create(name="Broker plan", status="active", effective_date=dt.date(2026, 2, 1))
west = Territory.objects.create(plan=plan, code="WEST", name="West",
                                rule={"all": [{"field": "state", "op": "in", "value": ["US-CA", "US-OR"]}]})
east = Territory.objects.create(plan=plan, code="EAST", name="East",
                                rule={"all": [{"field": "state", "op": "in", "value": ["US-NY"]}]})
states = ["US-CA", "US-OR", "US-NY", "US-TX"]
Account.objects.bulk_create([Account(name=f"Acct {i}", country="US", state=states[i % 4]) for i in range(40)])
with transaction.atomic():
    job = reroute_job_start(plan=plan, scope="full")
due = timezone.now() - dt.timedelta(seconds=5)
Schedule.objects.create(name="alert-once", func="routing.tasks.unassigned_alert_send",
                        schedule_type=Schedule.ONCE, next_run=due)
Schedule.objects.create(name="alert-every-10-min", func="routing.tasks.unassigned_alert_send",
                        schedule_type=Schedule.MINUTES, minutes=10, next_run=due)
print(json.dumps({"job": job.pk, "broker": type(get_broker()).__name__, "west": west.pk, "east": east.pk}))
"""

STATE = """
import json
from django.db.models import Count
from django_q.models import OrmQ, Task
from routing.models import RoutingJob
from territories.models import AccountTerritory
job = RoutingJob.objects.get(pk={job})
current = AccountTerritory.objects.filter(plan=job.plan, valid_to__isnull=True, is_primary=True)
placed = dict(current.values("territory__code").annotate(n=Count("id")).values_list("territory__code", "n"))
runs = {{}}
for group, ok in Task.objects.values_list("group", "success"):
    runs.setdefault(group or "", []).append(ok)
print(json.dumps({{"status": job.status, "error": job.error, "changed": job.changed, "placed": placed,
                  "runs": runs, "orm_queue": OrmQ.objects.count()}}))
"""


def _start_worker(env: dict[str, str], log: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "manage.py", "qcluster"], cwd=ROOT, env=env,
                            stdout=log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True)


def _stop(worker: subprocess.Popen) -> None:
    if worker.poll() is None:
        worker.terminate()  # qcluster stops its pool on SIGTERM
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, 9)
            worker.wait(timeout=10)


def test_two_redis_workers_run_a_reroute_job_and_each_schedule_once(broker_env, tmp_path):
    made = _django(broker_env, SETUP)
    assert made["broker"] == "Redis"
    workers = [_start_worker(broker_env, tmp_path / f"qcluster-{i}.log") for i in range(2)]
    started = time.monotonic()
    try:
        state: dict = {}
        # Each cluster's scheduler first runs 30 s after it starts, then every 30 s: wait for
        # both to have looked at the due schedules at least once, and for the job to finish.
        while time.monotonic() - started < 150:
            time.sleep(3)
            for worker in workers:
                assert worker.poll() is None, (tmp_path / "qcluster-0.log").read_text()
            state = _django(broker_env, STATE.format(job=made["job"]))
            both_schedulers_looked = time.monotonic() - started > 45
            if state["status"] in ("done", "failed") and "alert-once" in state["runs"] and both_schedulers_looked:
                break
    finally:
        for worker in workers:
            _stop(worker)
    logs = "\n".join(p.read_text(errors="replace") for p in sorted(tmp_path.glob("qcluster-*.log")))
    assert state.get("status") == "done", (state, logs)
    assert state["placed"] == {"WEST": 20, "EAST": 10}  # CA, OR -> West; NY -> East; TX unassigned
    assert state["changed"] == 30
    # Once per due time: each schedule made exactly one task, run successfully, whichever worker took it.
    assert state["runs"].get("alert-once") == [True], (state, logs)
    assert state["runs"].get("alert-every-10-min") == [True], (state, logs)
    assert state["orm_queue"] == 0  # the tasks went through Redis, not the database queue


def test_bench_runs_a_sharded_full_reroute_through_two_real_workers(broker_env):
    """``bench_routing --workers 2``: the full re-route split into shards that two qcluster worker
    processes take from Redis; the result is checked against routing accounts one by one."""
    done = subprocess.run(
        [sys.executable, "manage.py", "bench_routing", "--json", "--accounts", "2000", "--territories", "50",
         "--engine-sample", "100", "--api-requests", "10", "--verify", "100", "--no-again",
         "--workers", "2", "--shard-size", "500"],
        cwd=ROOT, env=broker_env, capture_output=True, text=True, timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    assert figures["workers"] == 2 and figures["shards"] == 4 and figures["per_shard_s"] > 0
    assert figures["reroute_full"]["total"] == figures["reroute_full"]["processed"] == 2000
    assert figures["verify_checked"] > 0 and figures["verify_mismatches"] == 0
