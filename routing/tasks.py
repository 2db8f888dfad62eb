"""Background tasks (django-q2). Each takes ids or nothing and calls one service."""

from routing import alerts
from routing.batch import jobs, shards


def unassigned_alert_send() -> int:
    return alerts.unassigned_alert_send()


def reroute_job_run(job_id: int) -> str:
    job = jobs.reroute_job_run(job_id=job_id)
    return job.status if job is not None else "missing"


def reroute_shard_run(shard_id: int) -> str:
    shard = shards.reroute_shard_run(shard_id=shard_id)
    return shard.status if shard is not None else "missing"


def reroute_shards_watch() -> int:
    return len(shards.shards_requeue_lost())
