"""What the load test (``scripts/load.sh``, ``scripts/load/locustfile.py``) needs from the
database: who its simulated users sign in as, an integration key for its API clients, the full
re-route it starts while the load runs, and the check of that re-route afterwards.

It lives in planning because it reads every layer below (the demo's users, territories, routing
jobs); nothing in the product imports it."""

from __future__ import annotations

import random
import time
from typing import Any

from axes.utils import reset as axes_reset
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.module_loading import import_string

from routing.batch import plan_reroute
from routing.batch.jobs import reroute_job_start
from routing.bench.measure import verify_sample
from routing.models import IntegrationToken, RoutingJob
from salesos.models import Account, SalesProfile
from territories.models import RepAssignment, Territory, TerritoryPlan

User = get_user_model()
TOKEN_NAME = "load test"
Role = SalesProfile.Role


class LoadRunError(Exception):
    pass


def _usernames(role: str) -> list[str]:
    users = User.objects.filter(is_active=True, sales_profile__role=role).order_by("username")
    return list(users.values_list("username", flat=True))


def _api_records(count: int, seed: int) -> list[dict[str, Any]]:
    """Lead bodies made from real accounts' routable fields, so the API routes them like accounts."""
    rng = random.Random(seed)
    # Drawn from the ids that exist (they need not start at 1 or be dense), so a demo always yields records.
    ids = sorted(Account.objects.values_list("pk", flat=True))
    picks = rng.sample(ids, min(count, len(ids)))
    rows = Account.objects.filter(pk__in=picks).order_by("pk").values(
        "name", "country", "state", "city", "postal_code", "industry_code", "employees"
    )
    records = []
    for row in rows:
        body = {"company": row["name"], "country": row["country"], "state": row["state"], "city": row["city"],
                "postal_code": row["postal_code"], "industry": row["industry_code"], "employees": row["employees"]}
        records.append({key: value for key, value in body.items() if value not in (None, "")})
    return records


def _admin_territories(plan: TerritoryPlan, count: int) -> list[int]:
    """Leaf territories with a rule and a primary, one per simulated admin, so two admins never
    save the same territory (a save against an older version is refused, rightly)."""
    leaves = (
        Territory.objects.filter(plan=plan, is_overlay=False, status=Territory.Status.ACTIVE)
        .annotate(children_count=Count("children"))
        .filter(children_count=0)
        .exclude(rule={})
        .filter(pk__in=RepAssignment.objects.filter(slot=RepAssignment.Slot.PRIMARY).values("territory_id"))
        .order_by("code")
        .values_list("pk", flat=True)
    )
    return list(leaves[:count])


def _signed_in(usernames: list[str], count: int) -> list[list[str]]:
    """``count`` sessions (username, session key), cycling through ``usernames``, each as a sign-in
    would leave it: the simulated users start signed in instead of hashing 45 passwords at once
    inside the measured window (a deliberately slow hash: signing in is not what is measured)."""
    store = import_string(f"{settings.SESSION_ENGINE}.SessionStore")
    users = {u.username: u for u in User.objects.filter(username__in=usernames)}
    sessions = []
    for i in range(count):
        user = users[usernames[i % len(usernames)]]
        session = store()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.create()
        sessions.append([user.username, session.session_key])
    return sessions


def prepare(*, reps: int = 28, managers: int = 12, admins: int = 5, api_records: int = 500,
            seed: int = 1, accounts: int | None = None) -> dict[str, Any]:
    """The fixture the locust users read: a signed-in session per simulated user (reps and
    managers each a different demo user while there are enough), one territory per admin, lead
    bodies and a fresh integration key (the previous load-test key is replaced)."""
    plan = TerritoryPlan.active()
    if plan is None:
        raise LoadRunError("There is no active plan: seed the demo first (manage.py seed_demo).")
    if accounts is not None and (have := Account.objects.count()) != accounts:
        raise LoadRunError(f"The database holds {have:,} accounts, not {accounts:,}: seed the demo with that many.")
    axes_reset()  # the simulated users never fail a sign-in; earlier runs' counts go all the same
    token = IntegrationToken.objects.filter(name=TOKEN_NAME).first() or IntegrationToken(name=TOKEN_NAME)
    key = token.issue_key()
    token.revoked_at = None
    token.can_create_leads = True
    token.save()
    pools = {"reps": (_usernames(Role.REP), reps), "managers": (_usernames(Role.MANAGER), managers),
             "admins": (_usernames(Role.ADMIN), admins)}
    missing = [name for name, (names, _) in pools.items() if not names]
    if missing:
        raise LoadRunError(f"The demo has no {', '.join(missing)}: seed it with manage.py seed_demo.")
    fixture = {
        **{name: _signed_in(names, count) for name, (names, count) in pools.items()},
        "session_cookie": settings.SESSION_COOKIE_NAME,
        "admin_territories": _admin_territories(plan, admins),
        "api_key": key,
        "api_records": _api_records(api_records, seed),
        "accounts": Account.objects.count(),
    }
    missing = [name for name in ("admin_territories", "api_records") if not fixture[name]]
    if missing:
        raise LoadRunError(f"The demo has no {', '.join(missing)}: seed it with manage.py seed_demo.")
    return fixture


def reroute_start() -> RoutingJob:
    """The full re-route that runs while the load does (queued for the task workers)."""
    plan = TerritoryPlan.active()
    if plan is None:
        raise LoadRunError("There is no active plan to re-route.")
    admin = User.objects.filter(Q(is_superuser=True) | Q(sales_profile__role=Role.ADMIN)).order_by("pk").first()
    return reroute_job_start(plan=plan, scope=RoutingJob.Scope.FULL, by=admin)


def reroute_verify(*, job_id: int, wait_s: float = 600, sample: int = 2000, seed: int = 1) -> dict[str, Any]:
    """Waits for the job to end, then checks the placements it left: a full dry run over every
    account must find nothing to change, and ``sample`` accounts routed one by one
    (``account_route``, in a rolled-back transaction) must find nothing to write."""
    deadline = time.monotonic() + wait_s
    live = RoutingJob.objects.filter(status__in=(RoutingJob.Status.QUEUED, RoutingJob.Status.RUNNING))
    # The admins' saves queue scoped re-routes too: the check waits for every job to end.
    while live.exists() and time.monotonic() < deadline:
        time.sleep(2)
    job = RoutingJob.objects.get(pk=job_id)
    figures: dict[str, Any] = {
        "job": job.pk,
        "job_status": job.status,
        "job_seconds": round((job.finished_at - job.started_at).total_seconds(), 1)
        if job.finished_at and job.started_at else None,
        "job_processed": job.processed,
        "job_shards": job.shards.count(),
        "job_settled": (job.result or {}).get("counts", {}).get("settled"),
        "other_jobs": RoutingJob.objects.filter(created_at__gte=job.created_at).exclude(pk=job.pk).count(),
        "other_jobs_failed": RoutingJob.objects.filter(created_at__gte=job.created_at, status=RoutingJob.Status.FAILED)
        .exclude(pk=job.pk).count(),
    }
    if job.status != RoutingJob.Status.DONE or live.exists():
        figures["ok"] = False
        return figures
    dry = plan_reroute(plan=job.plan, dry_run=True, now=timezone.now())
    checked = verify_sample(job.plan, sample, seed, from_scratch=False)
    figures.update({
        "dry_run_accounts": dry.total,
        "dry_run_would_change": dry.changed,
        "verify_checked": checked["checked"],
        "verify_mismatches": checked["mismatches"],
    })
    figures["ok"] = dry.changed == 0 and checked["mismatches"] == 0 and figures["other_jobs_failed"] == 0
    return figures
