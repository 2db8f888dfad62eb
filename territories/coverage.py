"""Who covers what on a date: the one definition (DESIGN "One definition of each fact").

Pages, grants, routing, the API, proposals and CSV checks all read coverage through this module,
keyed on a date ``on`` (today by default). Nothing else may compare assignment dates
(``tests/test_one_definition.py`` scans the source for it).

The handover rule: both ends of an assignment are INCLUSIVE. An assignment covers every day
from ``start_date`` to ``end_date``, both included; no end date means open-ended. Ending a
primary on day D means its rep still owns the territory on D (the handover day), and the next
primary starts on D+1. So on D the tree page, the grants, routing and the API all name the
outgoing rep, and on D+1 they all name the incoming one.

* ``assignments_on(on)``: the rep assignments in force on a date.
* ``owners_on(...)`` / ``owner_ids_on(...)``: per territory, its primary, overlays and backups on
  a date, and its owner (``pick_owner``: the primary; the first backup not on leave while the
  primary is away).
* ``owners_of(...)``: the same owners as user objects (one more query), for pages.
* ``names_and_owner_on(...)``: territories' code and name plus one territory's owner (username,
  email) in ONE query, for the lead-routing API's latency; the same ``pick_owner`` on the same
  ``in_force_q`` rows, held to ``owner_ids_on`` by a test.
* ``staffed(on)`` (SQL) and ``is_vacant(...)`` (Python, same rule): "vacant" means an active,
  non-overlay territory with no primary on the date, or an active overlay territory with no
  overlay rep. Draft and retired territories own nothing, so they are never vacant.
* ``vacant_on(plan, on)``: the vacant territories of a plan.
* ``open_assignments()``: rows with no end date yet. This is the database's own notion (one
  open primary per territory) that writes check against; it is not "in force": a row starting
  next week is open but not in force today, and a row ending today is in force but not open.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import (
    BooleanField,
    Case,
    Exists,
    ExpressionWrapper,
    FilteredRelation,
    OuterRef,
    Q,
    QuerySet,
    Value,
    When,
)
from django.utils import timezone

from salesos.models import users_on_leave
from territories.models import RepAssignment, Territory, TerritoryPlan

Slot = RepAssignment.Slot
User = get_user_model()


def today() -> dt.date:
    return timezone.localdate()


def in_force_q(on: dt.date | None = None, *, prefix: str = "") -> Q:
    """The condition "this assignment is in force on ``on``" (ends inclusive). ``prefix`` reaches
    the assignment through a relation (``"assignments__"`` from a territory)."""
    on = on or today()
    return Q(**{f"{prefix}start_date__lte": on}) & (
        Q(**{f"{prefix}end_date__isnull": True}) | Q(**{f"{prefix}end_date__gte": on})
    )


def assignments_on(on: dt.date | None = None, qs: QuerySet[RepAssignment] | None = None) -> QuerySet[RepAssignment]:
    """The rep assignments in force on a date (of ``qs`` when given)."""
    return (qs if qs is not None else RepAssignment.objects.all()).filter(in_force_q(on))


def open_assignments(qs: QuerySet[RepAssignment] | None = None) -> QuerySet[RepAssignment]:
    """Assignments not ended yet (no end date), whatever their start: what writes check against."""
    return (qs if qs is not None else RepAssignment.objects.all()).filter(end_date__isnull=True)


def ended_assignments(qs: QuerySet[RepAssignment] | None = None) -> QuerySet[RepAssignment]:
    """Assignments with an end date (past, or ending on a set day)."""
    return (qs if qs is not None else RepAssignment.objects.all()).filter(end_date__isnull=False)


def changes_on(on: dt.date | None = None) -> QuerySet[RepAssignment]:
    """Assignments whose coverage changes on ``on``: they start that day, or their last day was
    the day before (what the daily refresh resynchronises)."""
    on = on or today()
    return RepAssignment.objects.filter(Q(start_date=on) | Q(end_date=on - dt.timedelta(days=1)))


def is_in_force(assignment: RepAssignment, on: dt.date | None = None) -> bool:
    """``in_force_q`` for one loaded row."""
    on = on or today()
    return assignment.start_date <= on and (assignment.end_date is None or assignment.end_date >= on)


def days_covered(
    assignment: RepAssignment, first: dt.date, last: dt.date | None
) -> tuple[dt.date, dt.date | None] | None:
    """The days of ``first`` .. ``last`` (None: open-ended) a loaded row covers, as (first day,
    last day or None), or None when it covers none of them (ends inclusive). For histories such
    as "who owned this account while it sat in territory T"."""
    if (last is not None and assignment.start_date > last) or (
        assignment.end_date is not None and assignment.end_date < first
    ):
        return None
    ends = [d for d in (assignment.end_date, last) if d is not None]
    return max(assignment.start_date, first), (min(ends) if ends else None)


def is_past(assignment: RepAssignment, on: dt.date | None = None) -> bool:
    """Whether a loaded row ended before ``on`` (it covers neither ``on`` nor any later day)."""
    return assignment.end_date is not None and assignment.end_date < (on or today())


def is_open(assignment: RepAssignment) -> bool:
    """Whether a loaded row has no end date yet (``open_assignments`` for one row)."""
    return assignment.end_date is None


def date_flags(on: dt.date | None = None) -> dict[str, ExpressionWrapper]:
    """Annotations for an assignment queryset: ``in_force``, ``upcoming`` (starts after ``on``)
    and ``is_open`` (no end date), so pages show the flags instead of comparing dates."""
    on = on or today()
    flag = BooleanField()
    return {
        "in_force": ExpressionWrapper(in_force_q(on), output_field=flag),
        "upcoming": ExpressionWrapper(Q(start_date__gt=on), output_field=flag),
        "is_open": ExpressionWrapper(Q(end_date__isnull=True), output_field=flag),
    }


def pick_owner[T](primary: T | None, backups: Iterable[T], is_away: Callable[[T], bool]) -> T | None:
    """A territory's owner: its primary, or while the primary is away (or missing) the first
    backup who is not; when nobody can cover, the (away) primary stays the owner."""
    if primary is None or is_away(primary):
        cover = next((b for b in backups if not is_away(b)), None)
        if cover is not None:
            return cover
    return primary


@dataclass
class Owners:
    """Who holds a territory on a date (user ids), and its owner (``pick_owner``)."""

    primary: int | None = None
    overlays: list[int] = field(default_factory=list)
    backups: list[int] = field(default_factory=list)
    owner: int | None = None


def owners_on(
    *, territory_ids: Iterable[int] | None = None, plan: TerritoryPlan | int | None = None, on: dt.date | None = None
) -> dict[int, Owners]:
    """Per territory (of ``territory_ids``, or of ``plan``, or all), who holds it on ``on``.
    Territories nobody holds are absent. Two queries whatever the number of territories."""
    on = on or today()
    rows = assignments_on(on)
    if territory_ids is not None:
        rows = rows.filter(territory_id__in=list(territory_ids))
    elif plan is not None:
        rows = rows.filter(territory__plan=plan)
    away = set(users_on_leave(on).values_list("user_id", flat=True))
    result: dict[int, Owners] = {}
    for territory_id, user_id, slot in rows.order_by("territory_id", "start_date", "id").values_list(
        "territory_id", "user_id", "slot"
    ):
        held = result.setdefault(territory_id, Owners())
        if slot == Slot.PRIMARY:
            held.primary = user_id
        elif slot == Slot.OVERLAY:
            held.overlays.append(user_id)
        else:
            held.backups.append(user_id)
    for held in result.values():
        held.owner = pick_owner(held.primary, held.backups, lambda u: u in away)
    return result


def owner_ids_on(
    *, territory_ids: Iterable[int] | None = None, plan: TerritoryPlan | int | None = None, on: dt.date | None = None
) -> dict[int, int | None]:
    """Owner user id per territory on a date (territories with a primary or a backup)."""
    return {
        pk: held.owner
        for pk, held in owners_on(territory_ids=territory_ids, plan=plan, on=on).items()
        if held.primary is not None or held.backups
    }


def owners_of(territory_ids: Iterable[int], *, on: dt.date | None = None) -> dict[int, Any]:
    """Owner (a user) per territory on a date, for territories that have one (``owner_ids_on``)."""
    ids = owner_ids_on(territory_ids=territory_ids, on=on)
    users = User.objects.in_bulk([u for u in ids.values() if u is not None])
    return {t: users[u] for t, u in ids.items() if u is not None and u in users}


@dataclass(frozen=True, slots=True)
class Named:
    code: str
    name: str


@dataclass(frozen=True, slots=True)
class Person:
    username: str
    email: str


def names_and_owner_on(
    ids: list[int], owner_of: int | None, on: dt.date | None = None
) -> tuple[dict[int, Named], Person | None]:
    """The territories ``ids`` (code, name) and the owner of ``owner_of`` in ONE query: each
    territory left-joined to ``owner_of``'s primary and backup assignments in force
    (``in_force_q``), with the rep's leave; the owner is ``pick_owner`` of them."""
    if not ids:
        return {}, None
    on = on or today()
    current = (
        Q(assignments__territory_id=owner_of or 0)
        & Q(assignments__slot__in=[Slot.PRIMARY, Slot.BACKUP])
        & in_force_q(on, prefix="assignments__")
    )
    away = users_on_leave(on).filter(user_id=OuterRef("rep__user_id"))
    rows = (
        Territory.objects.filter(pk__in=ids)
        .annotate(rep=FilteredRelation("assignments", condition=current))
        .annotate(away=Exists(away))
        .order_by("id", "rep__start_date", "rep__id")
        .values_list("id", "code", "name", "rep__slot", "rep__user__username", "rep__user__email", "away")
    )
    territories: dict[int, Named] = {}
    primary: tuple[Person, bool] | None = None
    backups: list[tuple[Person, bool]] = []
    for t_id, code, name, slot, username, email, is_away in rows:
        territories[t_id] = Named(code, name)
        if slot == Slot.PRIMARY:
            primary = (Person(username, email), is_away)
        elif slot == Slot.BACKUP:
            backups.append((Person(username, email), is_away))
    owner = pick_owner(primary, backups, lambda held: held[1])
    return territories, owner[0] if owner is not None else None


def staffed(on: dt.date | None = None, *, territory_ref: str = "pk") -> Case:
    """SQL: whether the outer territory is staffed on ``on`` (not vacant; see ``is_vacant``)."""

    def holds(slot: str) -> Exists:
        return Exists(assignments_on(on).filter(territory=OuterRef(territory_ref), slot=slot))

    return Case(
        When(~Q(status=Territory.Status.ACTIVE), then=Value(True)),
        When(is_overlay=True, then=holds(Slot.OVERLAY)),
        default=holds(Slot.PRIMARY),
        output_field=BooleanField(),
    )


def is_vacant(*, status: str, is_overlay: bool, has_primary: bool, has_overlay: bool) -> bool:
    """Python: the rule ``staffed`` computes in SQL, for territories already loaded."""
    if status != Territory.Status.ACTIVE:
        return False
    return not has_overlay if is_overlay else not has_primary


def vacant_on(
    plan: TerritoryPlan, on: dt.date | None = None, *, territory_ids: list[int] | None = None
) -> QuerySet[Territory]:
    """The vacant territories of ``plan`` on a date (of ``territory_ids`` when given), by code."""
    qs = Territory.objects.filter(plan=plan).alias(is_staffed=staffed(on)).filter(is_staffed=False).order_by("code")
    return qs.filter(pk__in=territory_ids) if territory_ids is not None else qs


def staffed_on(plan: TerritoryPlan, on: dt.date | None = None) -> QuerySet[Territory]:
    """The staffed territories of ``plan`` on a date."""
    return Territory.objects.filter(plan=plan).alias(is_staffed=staffed(on)).filter(is_staffed=True)
