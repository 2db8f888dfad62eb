"""Proposals for filling vacant territories (no current primary) of the active plan with reps.

* Round-robin: reps in rotation by current load. The rep holding the fewest primary territories
  gets the next vacancy (ties by name), then the next-fewest, and so on; each pick counts.
* Capacity-based: by account count, open deal volume or weighted pipeline (open amount x
  probability). A rep's room is their capacity (``capacity_accounts`` for accounts,
  ``capacity_pipeline`` for the money measures) times their ramp factor, less what their current
  primary territories already carry. Vacancies are placed largest first with the rep who keeps
  the most room after taking it; a vacancy that fits nobody stays open and says so.

Reps on leave today get nothing. A proposal is shown, then applied only if recomputing it gives
the same assignments (``proposal_hash``): otherwise the data moved and the admin reviews again.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any, cast

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, DecimalField, ExpressionWrapper, F, Sum
from django.utils import timezone

from routing.placement import territory_account_counts
from salesos.models import Opportunity, SalesProfile, users_on_leave
from territories import coverage, services
from territories.models import RepAssignment, Territory, TerritoryPlan

if TYPE_CHECKING:
    from django.contrib.auth.models import User as AuthUser

User = get_user_model()

ROUND_ROBIN, CAPACITY = "round_robin", "capacity"
METHODS = {ROUND_ROBIN: "Round-robin by current load", CAPACITY: "Capacity-based"}
MEASURES = {"accounts": "Account count", "deals": "Open deal volume", "pipeline": "Weighted pipeline"}


@dataclass
class Pick:
    territory: Territory
    load: Decimal  # what the territory carries in the chosen measure
    user: Any | None
    before: Decimal  # the rep's load before this pick
    after: Decimal
    capacity: Decimal | None  # effective capacity (ramp applied); None for round-robin
    note: str = ""


@dataclass
class Proposal:
    method: str
    measure: str
    picks: list[Pick]
    hash: str

    @property
    def assigned(self) -> list[Pick]:
        return [p for p in self.picks if p.user is not None]


def vacant_territories(plan: TerritoryPlan, territory_ids: list[int] | None = None, on: Any = None):
    """The vacancies a primary fills: ``coverage.vacant_on`` less the overlay territories."""
    return coverage.vacant_on(plan, on, territory_ids=territory_ids).filter(is_overlay=False)


def _territory_loads(territory_ids: list[int], measure: str) -> dict[int, Decimal]:
    """What each territory carries in ``measure``, through its accounts' current primary rows."""
    if measure == "accounts":
        return {t: Decimal(n) for t, n in territory_account_counts(territory_ids).items() if n}
    amount: Any = F("amount")
    if measure == "pipeline":
        amount = ExpressionWrapper(F("amount") * F("probability") / 100,
                                   output_field=DecimalField(max_digits=18, decimal_places=4))
    deal_rows = (
        Opportunity.objects.filter(
            # One filter() call: the three conditions hold for the same routing row.
            account__territory_rows__territory_id__in=territory_ids,
            account__territory_rows__is_primary=True,
            account__territory_rows__valid_to__isnull=True,
            status=Opportunity.Status.OPEN,
        )
        .values(tid=F("account__territory_rows__territory_id")).annotate(v=Sum(amount))
    )
    return {r["tid"]: Decimal(r["v"] or 0) for r in deal_rows}


def _rep_loads(plan: TerritoryPlan, user_ids: list[int], measure: str) -> dict[int, Decimal]:
    held = coverage.assignments_on().filter(territory__plan=plan, slot=RepAssignment.Slot.PRIMARY, user_id__in=user_ids)
    if measure == "territories":
        rows = held.values("user_id").annotate(v=Count("pk"))
        return {r["user_id"]: Decimal(r["v"]) for r in rows}
    by_territory = dict(held.values_list("territory_id", "user_id"))
    loads: dict[int, Decimal] = {}
    for territory_id, value in _territory_loads(list(by_territory), measure).items():
        user_id = by_territory[territory_id]
        loads[user_id] = loads.get(user_id, Decimal(0)) + value
    return loads


def proposal_hash(method: str, measure: str, picks: list[Pick]) -> str:
    body = json.dumps([method, measure, [(p.territory.pk, p.user.pk if p.user else None) for p in picks]])
    return hashlib.sha256(body.encode()).hexdigest()[:32]


def _name(user: Any) -> tuple[str, str]:
    return ((user.get_full_name() or user.username).lower(), user.username)


def proposal_build(
    *, plan: TerritoryPlan, method: str, measure: str = "accounts", territory_ids: list[int] | None = None,
    on: Any = None,
) -> Proposal:
    """The proposal for the vacancies of ``plan`` (all, or ``territory_ids``)."""
    if method not in METHODS:
        raise ValidationError(f"Unknown method {method!r}.")
    if measure not in MEASURES:
        raise ValidationError(f"Unknown measure {measure!r}.")
    on = on or timezone.localdate()
    vacancies = list(vacant_territories(plan, territory_ids))
    reps = sorted(
        User.objects.filter(is_active=True, sales_profile__role=SalesProfile.Role.REP)
        .exclude(pk__in=users_on_leave(on)).select_related("sales_profile"),
        key=_name,
    )
    picks: list[Pick] = []
    if not reps:
        picks = [Pick(t, Decimal(0), None, Decimal(0), Decimal(0), None, "no rep available") for t in vacancies]
        return Proposal(method, measure, picks, proposal_hash(method, measure, picks))
    if method == ROUND_ROBIN:
        load = _rep_loads(plan, [r.pk for r in reps], "territories")
        order = {r.pk: i for i, r in enumerate(reps)}
        for territory in vacancies:
            rep = min(reps, key=lambda r: (load.get(r.pk, Decimal(0)), order[r.pk]))
            before = load.get(rep.pk, Decimal(0))
            load[rep.pk] = before + 1
            picks.append(Pick(territory, Decimal(1), rep, before, before + 1, None,
                              f"{int(before)} → {int(before) + 1} territories"))
    else:
        sizes = _territory_loads([t.pk for t in vacancies], measure)
        used = _rep_loads(plan, [r.pk for r in reps], measure)
        capacity = {}
        for rep in reps:
            profile = rep.sales_profile
            base = Decimal(profile.capacity_accounts) if measure == "accounts" else Decimal(profile.capacity_pipeline)
            capacity[rep.pk] = (base * Decimal(str(profile.ramp_factor(on)))).quantize(Decimal("0.01"))
        order = {r.pk: i for i, r in enumerate(reps)}
        by_size = sorted(vacancies, key=lambda t: (-sizes.get(t.pk, Decimal(0)), t.code))
        chosen: dict[int, Pick] = {}
        for territory in by_size:
            size = sizes.get(territory.pk, Decimal(0))
            fits = [r for r in reps if used.get(r.pk, Decimal(0)) + size <= capacity[r.pk] and capacity[r.pk] > 0]
            if not fits:
                chosen[territory.pk] = Pick(territory, size, None, Decimal(0), Decimal(0), None,
                                            "no rep has room for it")
                continue
            rep = max(fits, key=lambda r: (capacity[r.pk] - used.get(r.pk, Decimal(0)) - size, -order[r.pk]))
            before = used.get(rep.pk, Decimal(0))
            used[rep.pk] = before + size
            ramp = rep.sales_profile.ramp_factor(on)
            note = f"ramping at {ramp:.0%}" if ramp < 1 else ""
            chosen[territory.pk] = Pick(territory, size, rep, before, before + size, capacity[rep.pk], note)
        picks = [chosen[t.pk] for t in vacancies]
    return Proposal(method, measure, picks, proposal_hash(method, measure, picks))


class StaleProposal(Exception):
    """The recomputed proposal differs from the one the admin saw."""


@transaction.atomic
def proposal_apply(
    *, plan: TerritoryPlan, method: str, measure: str, shown_hash: str, by: Any,
    territory_ids: list[int] | None = None,
) -> Proposal:
    """Recomputes the proposal and, if it is the one shown, assigns every pick as primary."""
    # Lock the plan's vacancies against a concurrent apply while recomputing.
    list(Territory.objects.select_for_update().filter(plan=plan).values_list("pk", flat=True))
    proposal = proposal_build(plan=plan, method=method, measure=measure, territory_ids=territory_ids)
    if proposal.hash != shown_hash:
        raise StaleProposal("The data changed since the proposal was shown: review it again.")
    for pick in proposal.assigned:
        # ``assigned`` keeps only the picks that have a rep.
        user = cast("AuthUser", pick.user)
        services.assignment_add(territory=pick.territory, user=user, slot=RepAssignment.Slot.PRIMARY, by=by)
    return proposal


