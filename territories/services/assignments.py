"""Rep assignment writes: add (one primary at a time, overlay splits up to 100 %), end (the end
date is inclusive), and the dry run of an end that shows what it would leave uncovered."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max, Sum
from django.utils import timezone

from territories import coverage
from territories.models import RepAssignment, Territory
from territories.services.common import (
    grants_refresh,
    person_name,
    plan_changed,
    refuse_locked,
    refuse_retired,
    stamp,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import User as AuthUser

User = get_user_model()
Slot = RepAssignment.Slot

# --- assignments -------------------------------------------------------------------------------


def overlay_total(*, territory: Territory, exclude: RepAssignment | None = None) -> int:
    current = coverage.open_assignments().filter(territory=territory, slot=Slot.OVERLAY)
    if exclude is not None:
        current = current.exclude(pk=exclude.pk)
    return int(current.aggregate(total=Sum("split_percent"))["total"] or 0)


def primary_last_ends(*, territory_ids: Iterable[int]) -> dict[int, dt.date]:
    """The last end date of each territory's ended primaries (one query; territories never
    handed over are absent)."""
    rows = (
        coverage.ended_assignments().filter(territory_id__in=list(territory_ids), slot=Slot.PRIMARY)
        .values("territory_id")
        .annotate(last=Max("end_date"))
        .values_list("territory_id", "last")
    )
    return dict(rows)


def assignment_default_start(*, slot: str, last_primary_end: dt.date | None) -> dt.date:
    """When an assignment given no start date starts: today, except that end dates are inclusive,
    so a primary ended today still covers today and the next primary starts the day after."""
    start = timezone.localdate()
    if slot == Slot.PRIMARY and last_primary_end is not None and last_primary_end >= start:
        start = last_primary_end + dt.timedelta(days=1)
    return start


@transaction.atomic
def assignment_add(
    *,
    territory: Territory,
    user: AuthUser,
    slot: str,
    split_percent: int | None = None,
    start_date: dt.date | None = None,
    by: AbstractBaseUser | None,
) -> RepAssignment:

    """Puts a rep on a territory. One current primary per territory (end the current one first);
    overlay splits of a territory add up to at most 100; a primary carries 100 and a backup 0."""
    if slot not in Slot.values:
        raise ValidationError({"slot": f"Unknown slot {slot!r}: use primary, overlay or backup."})
    # Lock the territory row so two concurrent adds cannot both pass the checks below.
    locked = Territory.objects.select_for_update().filter(pk=territory.pk).first()
    refuse_locked(territory.plan_id)
    refuse_retired(locked or territory)
    current = coverage.open_assignments().filter(territory=territory)
    if start_date is None:
        last_end = primary_last_ends(territory_ids=[territory.pk]).get(territory.pk) if slot == Slot.PRIMARY else None
        start_date = assignment_default_start(slot=slot, last_primary_end=last_end)
    if slot == Slot.PRIMARY:
        split = 100
        holder = current.filter(slot=Slot.PRIMARY).select_related("user").first()
        if holder is not None:
            raise ValidationError(
                {"user": f"{territory.code} already has a primary owner ({person_name(holder.user)}); end that first."}
            )
    elif slot == Slot.BACKUP:
        split = 0
    else:
        split = 0 if split_percent is None else int(split_percent)
        if not 0 <= split <= 100:
            raise ValidationError({"split_percent": "A split is between 0 and 100 percent."})
        total = overlay_total(territory=territory)
        if total + split > 100:
            raise ValidationError(
                {"split_percent": f"Overlay splits of {territory.code} would total {total + split}% (max 100%; "
                                  f"{total}% already given)."}
            )
    if current.filter(user=user, slot=slot).exists():
        raise ValidationError({"user": f"{person_name(user)} already holds the {slot} slot of {territory.code}."})
    assignment = RepAssignment(territory=territory, user=user, slot=slot, split_percent=split, start_date=start_date)
    assignment.full_clean()
    stamp(assignment, by=by, reason=f"Assigned as {slot}")
    try:
        with transaction.atomic():
            assignment.save()
    except IntegrityError as exc:  # a concurrent add won the race past the checks
        raise ValidationError(f"{territory.code} changed meanwhile; reload and try again.") from exc
    grants_refresh(territories=[territory], users=[user])
    plan_changed(plan_id=territory.plan_id)
    return assignment


@transaction.atomic
def assignment_end(*, assignment: RepAssignment, end_date: dt.date | None = None,
                   by: AbstractBaseUser | None) -> RepAssignment:
    """Ends an assignment on ``end_date`` (today by default). Rows are never deleted: the ended
    row is the record of who covered the territory when."""
    assignment = RepAssignment.objects.select_for_update().select_related("territory__plan").get(pk=assignment.pk)
    refuse_locked(assignment.territory.plan_id)
    if not coverage.is_open(assignment):
        raise ValidationError("This assignment has already ended.")
    # End dates are inclusive (``territories.coverage``): the rep still covers ``end_date``.
    # Ending before it began means it never applied: close it on its first day.
    assignment.end_date = max(end_date or timezone.localdate(), assignment.start_date)
    stamp(assignment, by=by, reason="Assignment ended")
    assignment.save(update_fields=["end_date"])
    grants_refresh(territories=[assignment.territory], users=[assignment.user])
    plan_changed(plan_id=assignment.territory.plan_id)
    return assignment


@dataclass(frozen=True)
class EndImpact:
    """What ending an assignment on ``end_date`` leaves on ``day_after`` (a dry run)."""

    end_date: dt.date  # the last day the rep covers (inclusive)
    day_after: dt.date
    vacant: bool  # the territory is vacant on ``day_after`` (``coverage.vacant_on``)
    primary: Any  # the primary in force on ``day_after`` (a user), if any
    owner: Any  # who owns the territory's accounts on ``day_after`` (``coverage.pick_owner``)
    backups: list[Any]


class _DryRun(Exception):
    """Rolls back a dry run."""


def assignment_end_impact(*, assignment: RepAssignment, end_date: dt.date | None = None,
                          by: AbstractBaseUser | None) -> EndImpact:
    """What ``assignment_end`` would leave the day after: a dry run of ``assignment_end`` itself
    inside a savepoint that is rolled back, read through ``territories.coverage``."""
    try:
        with transaction.atomic():  # a savepoint when called inside a transaction
            ended = assignment_end(assignment=assignment, end_date=end_date, by=by)
            last = cast(dt.date, ended.end_date)
            day_after = last + dt.timedelta(days=1)
            territory = ended.territory
            held = coverage.owners_on(territory_ids=[territory.pk], on=day_after).get(territory.pk, coverage.Owners())
            vacant = coverage.vacant_on(territory.plan, day_after, territory_ids=[territory.pk]).exists()
            raise _DryRun
    except _DryRun:
        pass
    people = User.objects.in_bulk([u for u in (held.primary, held.owner, *held.backups) if u is not None])
    return EndImpact(end_date=last, day_after=day_after, vacant=vacant, primary=people.get(held.primary or 0),
                     owner=people.get(held.owner or 0), backups=[people[b] for b in held.backups])
