"""The full re-route through real task workers (``bench_routing --workers N``): a django-q2
cluster of N worker processes started beside the benchmark on the Redis broker, the re-route
split into shards (``routing.batch.shards``) that the workers take, timed until its job is done.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django_q.status import Stat

from routing.batch.shards import shards_start
from routing.models import RoutingJob, RoutingJobShard
from territories.models import TerritoryPlan

from .marks import BenchRefused

ROOT = Path(settings.BASE_DIR)
STARTUP_S = 300.0  # importing the app in every worker process takes minutes on a busy machine


def start_cluster(workers: int) -> subprocess.Popen:
    """``manage.py qcluster`` with ``workers`` processes, on the configured Redis and queue name."""
    if not settings.REDIS_URL:
        raise BenchRefused("--workers runs the re-route through real workers on the Redis broker: set REDIS_URL "
                           "(and a Q_NAME of its own when the Redis is shared).")
    env = {**os.environ, "Q_WORKERS": str(workers)}
    before = {stat.cluster_id for stat in Stat.get_all()}
    cluster = subprocess.Popen([sys.executable, str(ROOT / "manage.py"), "qcluster"], cwd=ROOT, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + STARTUP_S
    while time.monotonic() < deadline:
        if cluster.poll() is not None:
            raise BenchRefused("The task worker (manage.py qcluster) stopped at start.")
        ready = [s for s in Stat.get_all() if s.cluster_id not in before and len(s.workers) >= workers]
        if ready:
            return cluster
        time.sleep(0.5)
    stop_cluster(cluster)
    raise BenchRefused(f"The task worker did not start within {STARTUP_S:.0f} s.")


def stop_cluster(cluster: subprocess.Popen) -> None:
    if cluster.poll() is None:
        os.killpg(cluster.pid, signal.SIGTERM)
        try:
            cluster.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(cluster.pid, signal.SIGKILL)
            cluster.wait(timeout=10)


def reroute_through_workers(*, plan: TerritoryPlan, shard_size: int, timeout_s: float = 3600) -> dict[str, Any]:
    """A sharded full re-route taken by the running workers, timed from queueing the shards to the
    job's end. Returns the benchmark's keys for it."""
    job = RoutingJob.objects.create(plan=plan, scope=RoutingJob.Scope.FULL, status=RoutingJob.Status.RUNNING)
    quiet = logging.getLogger("django-q")
    level = quiet.level
    quiet.setLevel(logging.WARNING)  # one line per queued shard otherwise, on the JSON's stdout
    started = time.perf_counter()
    try:
        shards_start(job=job, size=shard_size)
    finally:
        quiet.setLevel(level)
    deadline = time.monotonic() + timeout_s
    while True:
        job.refresh_from_db(fields=["status", "error", "result", "processed", "changed", "total"])
        if job.status != RoutingJob.Status.RUNNING:
            break
        if time.monotonic() > deadline:
            raise BenchRefused(f"The sharded re-route did not finish within {timeout_s:.0f} s.")
        time.sleep(0.1)
    elapsed = time.perf_counter() - started
    if job.status != RoutingJob.Status.DONE:
        raise BenchRefused(f"The sharded re-route failed: {job.error}")
    seconds = [s or 0.0 for s in RoutingJobShard.objects.filter(job=job).order_by("number")
               .values_list("seconds", flat=True)]
    return {
        "reroute_full_s": round(elapsed, 3),
        "reroute_full": job.result["counts"],
        "shards": len(seconds),
        "shard_size": shard_size,
        "per_shard_s": round(sum(seconds) / len(seconds), 3) if seconds else 0.0,
        "per_shard_max_s": round(max(seconds), 3) if seconds else 0.0,
    }
