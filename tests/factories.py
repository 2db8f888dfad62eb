"""Small builders for test data. Each returns saved objects with sensible defaults."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.utils import timezone

from salesos.models import Account, SalesProfile
from territories.locks import lock_set, locked_territory_id
from territories.models import RepAssignment, Territory, TerritoryPlan

User = get_user_model()
_seq = itertools.count(1)


def make_user(
    role: str = SalesProfile.Role.REP,
    *,
    username: str | None = None,
    manager=None,
    password: str = "pw-Secret-123",
    **profile,
):
    n = next(_seq)
    username = username or f"{role}{n}"
    user = User.objects.create_user(
        username=username,
        email=f"{username}@example.com",
        password=password,
        first_name=username.capitalize(),
        last_name="Tester",
    )
    SalesProfile.objects.create(user=user, role=role, manager=manager, **profile)
    return user


def make_plan(*, name: str | None = None, status: str = TerritoryPlan.Status.ACTIVE, **kw) -> TerritoryPlan:
    return TerritoryPlan.objects.create(
        name=name or f"Plan {next(_seq)}",
        status=status,
        effective_date=kw.pop("effective_date", dt.date(2026, 2, 1)),
        **kw,
    )


def make_territory(plan: TerritoryPlan, *, code: str | None = None, parent: Territory | None = None, **kw) -> Territory:
    n = next(_seq)
    return Territory.objects.create(
        plan=plan, code=code or f"T{n}", name=kw.pop("name", f"Territory {n}"), parent=parent, **kw
    )


def assign(territory: Territory, user, slot: str = RepAssignment.Slot.PRIMARY, **kw) -> RepAssignment:
    from territories.grants import grants_sync

    assignment = RepAssignment.objects.create(territory=territory, user=user, slot=slot, **kw)
    grants_sync(territories=[territory])  # as the assignment services do
    return assignment


def place(account: Account, territory: Territory, *, source: str = "manual", **kw):
    """Puts ``account`` in ``territory`` as the product records it: a current primary
    ``AccountTerritory`` row in the territory's plan (what ``accounts_route_manually`` writes,
    without its checks or history). Its owner is then the territory's owner (``assign``)."""
    from territories.models import AccountTerritory

    return AccountTerritory.objects.create(
        account=account, territory=territory, plan_id=territory.plan_id, is_primary=True, source=source, **kw
    )


def make_account(*, territory: Territory | None = None, locked_territory: Territory | None = None, **kw) -> Account:
    """An account; with ``territory``, placed there (``place``); with ``locked_territory``, locked
    to it (``lock``, no re-route). Owners are not set on accounts: an account's owner is its
    territory's owner."""
    n = next(_seq)
    defaults = dict(
        name=f"Account {n}",
        country="US",
        region="AMER",
        state="US-CA",
        city="San Francisco",
        postal_code="94105",
        employees=250,
        annual_revenue=Decimal("25000000"),
        created_at=timezone.now(),
    )
    defaults.update(kw)
    account = Account.objects.create(**defaults)
    if locked_territory is not None:
        lock(account, locked_territory)
    if territory is not None:
        place(account, territory)
    return account


def lock(account: Account | int, territory: Territory | None) -> None:
    """Sets (None: removes) an account's lock row directly, without re-routing it."""
    lock_set(account=account.pk if isinstance(account, Account) else account,
             territory_id=territory.pk if territory is not None else None)


def lock_of(account: Account | int) -> int | None:
    return locked_territory_id(account)


def make_opportunity(account: Account, *, amount: Decimal | int | str = Decimal("10000"), **kw):
    """A deal on ``account``, by default in the account's current primary territory (in the
    active plan when it has one there)."""
    from salesos.models import Opportunity
    from territories.models import AccountTerritory

    n = next(_seq)
    close = kw.pop("close_date", dt.date.today() + dt.timedelta(days=60))
    if "territory" in kw:
        territory = kw.pop("territory")
    else:
        rows = AccountTerritory.objects.filter(account=account, is_primary=True, valid_to__isnull=True)
        row = min(rows.select_related("territory", "plan"), key=lambda r: r.plan.status != "active", default=None)
        territory = row.territory if row is not None else None
    return Opportunity.objects.create(account=account, name=kw.pop("name", f"Deal {n}"), amount=Decimal(amount),
                                      territory=territory,
                                      created_date=kw.pop("created_date", dt.date.today()), close_date=close, **kw)


def make_leave(user, *, start: dt.date | None = None, days: int = 5, **kw):
    from salesos.models import Leave

    start = start or dt.date.today()
    return Leave.objects.create(user=user, start=start, end=start + dt.timedelta(days=days), **kw)


def make_fiscal_year(name: str = "FY2026", *, start: dt.date = dt.date(2026, 2, 1)):
    """A fiscal year of four quarters of three months each."""
    from planning.models import FiscalPeriod, FiscalYear

    def add_months(day: dt.date, months: int) -> dt.date:
        month = day.month - 1 + months
        return dt.date(day.year + month // 12, month % 12 + 1, 1)

    year = FiscalYear.objects.create(name=name, start_date=start, end_date=add_months(start, 12) - dt.timedelta(days=1))
    for q in range(4):
        FiscalPeriod.objects.create(fiscal_year=year, name=f"Q{q + 1}", start_date=add_months(start, 3 * q),
                                    end_date=add_months(start, 3 * q + 3) - dt.timedelta(days=1))
    return year


def assert_db_refuses(fn) -> None:
    """The database itself rejects what ``fn`` writes (a constraint, not Python validation)."""
    import pytest
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        fn()
