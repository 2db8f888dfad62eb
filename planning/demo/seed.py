"""Running the demo seed: the public entry points and the order of the steps."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable

from django.contrib.auth import get_user_model
from django.db import models, transaction
from django.utils import timezone

from planning.demo.common import (
    DEMO_EMAIL_DOMAIN,
    SeedError,
    SeedReport,
    _Clock,
    _preroute,
)
from planning.demo.deals import DealSteps
from planning.demo.org import OrgSteps
from planning.demo.plan import PlanSteps
from planning.models import FiscalPeriod, FiscalYear, Quota
from salesos.models import Account, Activity, GeoArea, Industry, Lead, Leave, Opportunity, SalesProfile
from salesos.reference import load_reference
from territories.grants import grants_rebuild
from territories.models import AccountTerritory, RepAssignment, RoutingDecision, Territory, TerritoryPlan

User = get_user_model()

# --------------------------------------------------------------------------------------------
# Public API


def demo_data_exists() -> bool:
    return (
        Account.objects.exists()
        or TerritoryPlan.objects.exists()
        or FiscalYear.objects.exists()
        or User.objects.filter(email__endswith=f"@{DEMO_EMAIL_DOMAIN}").exists()
    )


@transaction.atomic
def reset_demo_data() -> None:
    """Delete what the seed creates: the business data (accounts, leads, deals, activities), the
    territory plans and fiscal calendar, and the demo users. Reference data stays. Children go
    first so that the big tables are single fast DELETEs rather than collected cascades."""
    for model in (Activity, Opportunity, AccountTerritory, RoutingDecision, Lead):
        _wipe(model)
    Quota.objects.all().delete()
    Territory.named_accounts.through.objects.all().delete()
    RepAssignment.objects.all().delete()
    _wipe(Account)
    Territory.objects.all().delete()
    TerritoryPlan.objects.all().delete()
    FiscalPeriod.objects.all().delete()
    FiscalYear.objects.all().delete()
    demo_users = User.objects.filter(email__endswith=f"@{DEMO_EMAIL_DOMAIN}")
    Leave.objects.filter(user__in=demo_users).delete()
    SalesProfile.objects.filter(user__in=demo_users).delete()
    demo_users.delete()


def _wipe(model: type[models.Model]) -> None:
    """Empty a big table with one DELETE when nothing can observe it: no delete signals and no
    rows elsewhere pointing at it (their tables were emptied first). Otherwise, for tables that
    other modules may reference, fall back to Django's collector, which cascades properly."""
    from django.db.models.signals import post_delete, pre_delete

    queryset = model._default_manager.all()
    referenced = any(
        rel.related_model._default_manager.filter(**{f"{rel.field.name}__isnull": False}).exists()
        for rel in model._meta.related_objects
    )
    if referenced or pre_delete.has_listeners(model) or post_delete.has_listeners(model):
        queryset.delete()
    else:
        queryset._raw_delete(queryset.db)


def ensure_reference_data(log: Callable[[str], None] | None = None) -> float | None:
    """Load the reference data if it is missing; return the seconds it took (None if present)."""
    postal = GeoArea.objects.filter(level=GeoArea.Level.POSTAL).exists()
    naics = Industry.objects.filter(scheme=Industry.Scheme.NAICS, level=2).exists()
    if postal and naics:
        return None
    started = time.perf_counter()
    load_reference()
    took = time.perf_counter() - started
    if log:
        log(f"Reference data loaded in {took:.1f} s")
    return took


def seed_demo(
    *,
    accounts: int = 20000,
    seed: int = 42,
    anchor: dt.date | None = None,
    log: Callable[[str], None] | None = None,
) -> SeedReport:
    """Create the demo company. Refuses (SeedError) when data exists; see ``reset_demo_data``."""
    if accounts < 100:
        raise SeedError("Seed at least 100 accounts (the territory plan needs some data to balance).")
    anchor = anchor or timezone.localdate()
    report = SeedReport()
    report.reference_seconds = ensure_reference_data(log)
    if demo_data_exists():
        raise SeedError("Demo data already exists; reset it first (seed_demo --reset).")
    seed_started = time.perf_counter()
    with transaction.atomic():
        clock = _Clock(report, log)
        Seeder(accounts=accounts, seed=seed, anchor=anchor, clock=clock, report=report).run()
        # Visibility is materialised from assignments and the org chart (territories.grants).
        with clock.phase("permission grants"):
            grants_rebuild()
    report.seconds = time.perf_counter() - seed_started
    return report



class Seeder(OrgSteps, PlanSteps, DealSteps):
    """The demo company, built step by step (see the package doc)."""

    def run(self) -> None:
        with self.clock.phase("load reference arrays"):
            self.load_reference_arrays()
        with self.clock.phase("fiscal calendar"):
            self.create_fiscal_calendar()
        with self.clock.phase("generate accounts"):
            self.acc = self.generate_companies(self.rng_acc, self.n)
        with self.clock.phase("design territories"):
            self.design_territories()
        with self.clock.phase("pre-route accounts"):
            self.routing = _preroute(self.terrs, self.acc["cols"], self.n, use_named=True)
        with self.clock.phase("sales org"):
            self.create_org()
        with self.clock.phase("plan and territories"):
            self.create_plan()
        with self.clock.phase("insert accounts"):
            self.insert_accounts()
        with self.clock.phase("route accounts (batch)"):
            self.route_accounts()
        with self.clock.phase("opportunities"):
            self.create_opportunities()
        with self.clock.phase("activities"):
            self.create_activities()
        with self.clock.phase("leads"):
            self.create_leads()
        with self.clock.phase("quotas"):
            self.create_quotas()
