import importlib

import pytest
from django.apps import apps
from hypothesis import HealthCheck, settings

from planning.models import ApprovalPolicy
from tests import factories

# Property tests check behaviour, not speed: no per-example deadline (a shared, busy machine
# would fail them for being slow, never for being wrong).
settings.register_profile("salesos", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("salesos")


@pytest.fixture
def make_user(db):
    return factories.make_user


@pytest.fixture
def admin_user(db):  # noqa: F811 - replaces pytest-django's superuser fixture with a SalesOS admin
    return factories.make_user("admin", username="opsadmin")


# Rows that data migrations write (the default approval policy, the task schedules). A
# transactional test empties the database when it ends, and these rows go with it; a test that
# runs after one on the same worker would otherwise start without them. They are put back the way
# the migrations wrote them (each function is idempotent). Only schedules that are still in force:
# routing 0005's owner refresh was removed by later migrations and must not come back.
_DATA_MIGRATIONS = [
    ("territories", "0002_daily_coverage_refresh", "schedule"),
    ("analytics", "0002_daily_coverage_snapshot", "schedule"),
    ("analytics", "0005_figures_refresh_schedule", "schedule"),
    ("planning", "0005_default_approval_policy", "create_default"),
    ("planning", "0006_approval_schedules", "schedule"),
    ("planning", "0007_daily_reassignments_schedule", "schedule"),
    ("planning", "0008_quarterly_rebalancing_schedule", "schedule"),
    ("routing", "0010_lost_shard_watchdog_schedule", "schedule"),
]


@pytest.fixture(autouse=True)
def _rows_from_data_migrations(request):
    uses_db = {"db", "transactional_db", "live_server"} & set(request.fixturenames)
    if not uses_db and request.node.get_closest_marker("django_db") is None:
        return
    transactional = "transactional_db" in request.fixturenames or "live_server" in request.fixturenames
    marker = request.node.get_closest_marker("django_db")
    if marker is not None and (marker.kwargs.get("transaction") or (marker.args and marker.args[0])):
        transactional = True
    request.getfixturevalue("transactional_db" if transactional else "db")
    if ApprovalPolicy.objects.exists():
        return
    for app, migration, function in _DATA_MIGRATIONS:
        module = importlib.import_module(f"{app}.migrations.{migration}")
        getattr(module, function)(apps, None)
