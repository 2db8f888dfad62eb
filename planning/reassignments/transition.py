"""The transition window: from the effective date, for the proposal's ``transition_days``, the
incoming rep owns the moved accounts and the outgoing rep keeps read-only visibility of them.

"Until D" means D is the window's last day, inclusive: a window of N days from the effective
date E covers E .. E + N - 1, and ``Reassignment.transition_ends`` stores that last day
(``window_last_day``). The pages, the visibility (``in_transition``) and the daily run that
closes windows (open while ``transition_ends >= today``) all read it that way.

This is the one place that says which accounts a person sees because of a transition; it is
registered with ``territories.access`` (``account_visibility_extend``, in ``PlanningConfig.ready``)
so every account read (lists, pages, search) includes them. Seeing is not editing: the editable
set (``accounts_editable_by``) is untouched. Without a window, the outgoing rep loses sight of
the accounts on the effective date, as the ownership rows say.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from planning.models import Reassignment, ReassignmentMove
from salesos.models import Account
from salesos.roles import role_of
from territories import coverage
from territories.models import AccountTerritory, RepAssignment

Status = Reassignment.Status


def window_last_day(effective_date: dt.date, days: int) -> dt.date | None:
    """The last day (inclusive) of a transition window of ``days`` days from ``effective_date``;
    None without a window."""
    return effective_date + dt.timedelta(days=days - 1) if days > 0 else None


def in_transition(today: dt.date | None = None) -> QuerySet[Reassignment]:
    """Proposals executed and still inside their window on ``today`` (its last day included)."""
    today = today or timezone.localdate()
    return Reassignment.objects.filter(status=Status.IN_TRANSITION, effective_date__lte=today,
                                       transition_ends__gte=today)


def windows_over(today: dt.date) -> QuerySet[Reassignment]:
    """Proposals in transition whose window's last day is before ``today``."""
    return Reassignment.objects.filter(status=Status.IN_TRANSITION, transition_ends__lt=today)


def outgoing_owner_ids(reassignment: Reassignment) -> dict[int, int]:
    """Giving territory -> the rep who owned it the day before the effective date (for a slot
    change: the territory -> the rep who handed it over)."""
    change = reassignment.change or {}
    if reassignment.kind == Reassignment.Kind.SLOT_CHANGE:
        if change.get("slot") == RepAssignment.Slot.PRIMARY and change.get("from_user"):
            return {int(change["territory"]): int(change["from_user"])}
        return {}
    giving = set(ReassignmentMove.objects.filter(reassignment=reassignment, from_territory__isnull=False)
                 .values_list("from_territory_id", flat=True).distinct())
    day_before = reassignment.effective_date - dt.timedelta(days=1)
    return {t: u for t, u in coverage.owner_ids_on(territory_ids=giving, on=day_before).items() if u is not None}


def transition_account_ids(user: Any, today: dt.date | None = None) -> QuerySet | None:
    """Ids of the accounts ``user`` sees read-only as the outgoing rep of a proposal in its
    window; None when there are none (one query when nothing is in transition)."""
    if not getattr(user, "is_authenticated", False) or role_of(user) is None:
        return None
    scope = Q(pk__in=[])
    found = False
    for reassignment in in_transition(today):
        for territory_id, owner in outgoing_owner_ids(reassignment).items():
            if owner != user.pk:
                continue
            found = True
            if reassignment.kind == Reassignment.Kind.SLOT_CHANGE:
                scope |= Q(pk__in=AccountTerritory.objects.filter(
                    territory_id=territory_id, is_primary=True, valid_to__isnull=True).values("account_id"))
            else:
                scope |= Q(pk__in=ReassignmentMove.objects.filter(
                    reassignment=reassignment, from_territory_id=territory_id).values("account_id"))
    if not found:
        return None
    return Account.objects.filter(scope).values("pk")
