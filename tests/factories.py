"""Small builders for test data. Each returns saved objects with sensible defaults."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.utils import timezone

from salesos.models import Account, SalesProfile
from territories.models import RepAssignment, Territory, TerritoryPlan

User = get_user_model()
_seq = itertools.count(1)


def make_user(
    role: str = SalesProfile.Role.REP, *, username: str | None = None, manager=None, password: str = "pw-Secret-123", **profile
):
    n = next(_seq)
    username = username or f"{role}{n}"
    user = User.objects.create_user(username=username, email=f"{username}@example.com", password=password,
                                    first_name=username.capitalize(), last_name="Tester")
    SalesProfile.objects.create(user=user, role=role, manager=manager, **profile)
    return user


def make_plan(*, name: str | None = None, status: str = TerritoryPlan.Status.ACTIVE, **kw) -> TerritoryPlan:
    return TerritoryPlan.objects.create(name=name or f"Plan {next(_seq)}", status=status,
                                        effective_date=kw.pop("effective_date", dt.date(2026, 2, 1)), **kw)


def make_territory(plan: TerritoryPlan, *, code: str | None = None, parent: Territory | None = None, **kw) -> Territory:
    n = next(_seq)
    return Territory.objects.create(plan=plan, code=code or f"T{n}", name=kw.pop("name", f"Territory {n}"),
                                    parent=parent, **kw)


def assign(territory: Territory, user, slot: str = RepAssignment.Slot.PRIMARY, **kw) -> RepAssignment:
    return RepAssignment.objects.create(territory=territory, user=user, slot=slot, **kw)


def make_account(**kw) -> Account:
    n = next(_seq)
    defaults = dict(name=f"Account {n}", country="US", region="AMER", state="US-CA", city="San Francisco",
                    postal_code="94105", employees=250, annual_revenue=Decimal("25000000"),
                    created_at=timezone.now())
    defaults.update(kw)
    return Account.objects.create(**defaults)
