"""Background tasks (django-q2). Each takes ids or nothing and calls one service."""

from routing import alerts
from routing.batch import jobs


def unassigned_alert_send() -> int:
    return alerts.unassigned_alert_send()


def reroute_job_run(job_id: int) -> str:
    job = jobs.reroute_job_run(job_id=job_id)
    return job.status if job is not None else "missing"
