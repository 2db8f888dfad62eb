"""Staffing: proposals for filling vacant territories of the active plan (``coverage.vacant_on``): a
primary from the reps (role rep, not overlay specialists) for a territory with no primary, an
overlay specialist for an overlay territory with no overlay rep.

Every pick prefers the territory's own team: the reps under the manager who holds the nearest
territory above it, then the director's organisation, and only then anyone; the page says which
and why.

* Round-robin: reps in rotation by current load. The rep holding the fewest primary territories
  gets the next vacancy (ties by name), then the next-fewest, and so on; each pick counts.
* Capacity-based: by account count, open deal volume or weighted pipeline (open amount x
  probability). A rep's room is their capacity (``capacity_accounts`` for accounts,
  ``capacity_pipeline`` for the money measures) times their ramp factor, less what their current
  primary territories already carry. Vacancies are placed largest first with the rep who keeps
  the most room after taking it; a vacancy that fits nobody stays open and says so.

Overlay specialists are placed by round-robin on the overlays they hold. Reps on leave today get
nothing. A proposal is shown, then applied only if recomputing it gives
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

from salesos.models import Opportunity, SalesProfile, users_on_leave
from territories import coverage, services
from territories.models import RepAssignment, Territory, TerritoryPlan
from territories.placement import territory_account_counts

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
    slot: str = RepAssignment.Slot.PRIMARY  # overlay territories get an overlay specialist
    why: str = ""  # why this rep: the team preferred, then the method's rule

    @property
    def is_overlay_slot(self) -> bool:
        return self.slot == RepAssignment.Slot.OVERLAY


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
    """The vacancies a proposal fills (``coverage.vacant_on``): primaries, and overlay territories
    with no overlay rep."""
    return coverage.vacant_on(plan, on, territory_ids=territory_ids)


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
    body = json.dumps([method, measure, [(p.territory.pk, p.user.pk if p.user else None, p.slot) for p in picks]])
    return hashlib.sha256(body.encode()).hexdigest()[:32]


def _name(user: Any) -> tuple[str, str]:
    return ((user.get_full_name() or user.username).lower(), user.username)


def _pools(plan: TerritoryPlan, vacancies: list[Territory], on: Any) -> dict[int, list[tuple[set[int] | None, str]]]:
    """Per vacancy, the people it prefers, in order: the reps under the territory's manager (the
    nearest manager holding the primary slot of an ancestor), then those in its director's
    organisation (the director's direct reports and theirs), then anyone (None). Each with the
    reason shown on the page. Three queries."""
    parents = dict(Territory.objects.filter(plan=plan).values_list("pk", "parent_id"))
    codes = dict(Territory.objects.filter(plan=plan).values_list("pk", "code"))
    holders = coverage.owners_on(plan=plan, on=on)
    people = {
        user_id: (role, manager_id, first, last, username)
        for user_id, role, manager_id, first, last, username in SalesProfile.objects.values_list(
            "user_id", "role", "manager_id", "user__first_name", "user__last_name", "user__username"
        )
    }
    reports: dict[int, set[int]] = {}
    for user_id, (_, manager_id, *_) in people.items():
        if manager_id is not None:
            reports.setdefault(manager_id, set()).add(user_id)

    def name(user_id: int) -> str:
        _, _, first, last, username = people[user_id]
        return f"{first} {last}".strip() or username

    pools: dict[int, list[tuple[set[int] | None, str]]] = {}
    for territory in vacancies:
        found: list[tuple[set[int] | None, str]] = []
        manager = director = None
        node = parents.get(territory.pk)
        while node is not None and director is None:
            held = holders.get(node)
            holder = held.primary if held is not None else None
            if holder is None:
                node = parents.get(node)
                continue
            role = people[holder][0] if holder in people else None
            if role == SalesProfile.Role.MANAGER and manager is None:
                manager = holder
                found.append((reports.get(holder, set()), f"in {name(holder)}’s team ({codes[node]})"))
            elif role == SalesProfile.Role.DIRECTOR:
                director = holder
                org = set(reports.get(holder, set()))
                for member in list(org):
                    org |= reports.get(member, set())
                found.append((org, f"in {name(holder)}’s organisation ({codes[node]})"))
            node = parents.get(node)
        found.append((None, "from any team: nobody in the territory’s own team was free" if found
                      else "from any team: no manager or director holds a territory above it"))
        pools[territory.pk] = found
    return pools


def staffing_proposal(
    *, plan: TerritoryPlan, method: str, measure: str = "accounts", territory_ids: list[int] | None = None,
    on: Any = None,
) -> Proposal:
    """The proposal for the vacancies of ``plan`` (all, or ``territory_ids``): primaries from the
    reps (role rep, not specialists), overlay territories from the specialists; each pick prefers
    the territory's own team (``_pools``) and says why it was made."""
    if method not in METHODS:
        raise ValidationError(f"Unknown method {method!r}.")
    if measure not in MEASURES:
        raise ValidationError(f"Unknown measure {measure!r}.")
    on = on or timezone.localdate()
    every = list(coverage.vacant_on(plan, on, territory_ids=territory_ids))
    vacancies = [t for t in every if not t.is_overlay]
    overlays = [t for t in every if t.is_overlay]
    people = sorted(
        User.objects.filter(is_active=True, sales_profile__role=SalesProfile.Role.REP)
        .exclude(pk__in=users_on_leave(on)).select_related("sales_profile"),
        key=_name,
    )
    reps = [u for u in people if not u.sales_profile.specialist]
    specialists = [u for u in people if u.sales_profile.specialist]
    pools = _pools(plan, every, on)

    def candidates(territory: Territory, among: list[Any]) -> list[tuple[list[Any], str]]:
        """The non-empty pools of ``territory`` restricted to ``among``, in preference order."""
        out = []
        for members, why in pools[territory.pk]:
            chosen = [u for u in among if members is None or u.pk in members]
            if chosen:
                out.append((chosen, why))
        return out

    picks: dict[int, Pick] = {}
    if method == ROUND_ROBIN or not reps:
        load = _rep_loads(plan, [r.pk for r in reps], "territories")
        order = {r.pk: i for i, r in enumerate(reps)}
        for territory in vacancies:
            options = candidates(territory, reps)
            if not options:
                picks[territory.pk] = Pick(territory, Decimal(0), None, Decimal(0), Decimal(0), None,
                                           "no rep available")
                continue
            pool, why = options[0]
            rep = min(pool, key=lambda r: (load.get(r.pk, Decimal(0)), order[r.pk]))
            before = load.get(rep.pk, Decimal(0))
            load[rep.pk] = before + 1
            picks[territory.pk] = Pick(territory, Decimal(1), rep, before, before + 1, None,
                                       f"{int(before)} → {int(before) + 1} territories",
                                       why=f"{why}; fewest territories")
    else:
        sizes = _territory_loads([t.pk for t in vacancies], measure)
        used = _rep_loads(plan, [r.pk for r in reps], measure)
        capacity = {}
        for rep in reps:
            profile = rep.sales_profile
            base = Decimal(profile.capacity_accounts) if measure == "accounts" else Decimal(profile.capacity_pipeline)
            capacity[rep.pk] = (base * Decimal(str(profile.ramp_factor(on)))).quantize(Decimal("0.01"))
        order = {r.pk: i for i, r in enumerate(reps)}
        for territory in sorted(vacancies, key=lambda t: (-sizes.get(t.pk, Decimal(0)), t.code)):
            size = sizes.get(territory.pk, Decimal(0))
            rep, why = None, ""
            for pool, pool_why in candidates(territory, reps):
                fits = [r for r in pool if used.get(r.pk, Decimal(0)) + size <= capacity[r.pk] and capacity[r.pk] > 0]
                if fits:
                    rep = max(fits, key=lambda r: (capacity[r.pk] - used.get(r.pk, Decimal(0)) - size, -order[r.pk]))
                    why = f"{pool_why}; most room left after taking it"
                    break
            if rep is None:
                picks[territory.pk] = Pick(territory, size, None, Decimal(0), Decimal(0), None,
                                           "no rep has room for it")
                continue
            before = used.get(rep.pk, Decimal(0))
            used[rep.pk] = before + size
            ramp = rep.sales_profile.ramp_factor(on)
            note = f"ramping at {ramp:.0%}" if ramp < 1 else ""
            picks[territory.pk] = Pick(territory, size, rep, before, before + size, capacity[rep.pk], note, why=why)
    # Overlay territories own no accounts: specialists in rotation by the overlays they hold.
    held = coverage.assignments_on(on).filter(territory__plan=plan, slot=RepAssignment.Slot.OVERLAY)
    overlay_load = {r["user_id"]: Decimal(r["n"]) for r in held.values("user_id").annotate(n=Count("pk"))}
    ranks = {r.pk: i for i, r in enumerate(specialists)}
    for territory in overlays:
        options = candidates(territory, specialists)
        if not options:
            picks[territory.pk] = Pick(territory, Decimal(0), None, Decimal(0), Decimal(0), None,
                                       "no specialist available", slot=RepAssignment.Slot.OVERLAY)
            continue
        pool, why = options[0]
        rep = min(pool, key=lambda r: (overlay_load.get(r.pk, Decimal(0)), ranks[r.pk]))
        before = overlay_load.get(rep.pk, Decimal(0))
        overlay_load[rep.pk] = before + 1
        picks[territory.pk] = Pick(territory, Decimal(0), rep, before, before + 1, None,
                                   f"{int(before)} → {int(before) + 1} overlays", slot=RepAssignment.Slot.OVERLAY,
                                   why=f"specialist {why}; fewest overlays")
    ordered = [picks[t.pk] for t in every]
    return Proposal(method, measure, ordered, proposal_hash(method, measure, ordered))


class StaleProposal(Exception):
    """The recomputed proposal differs from the one the admin saw."""


@transaction.atomic
def staffing_apply(
    *, plan: TerritoryPlan, method: str, measure: str, shown_hash: str, by: Any,
    territory_ids: list[int] | None = None,
) -> Proposal:
    """Recomputes the proposal and, if it is the one shown, assigns every pick (as primary, or as
    overlay for an overlay territory)."""
    # Lock the plan's vacancies against a concurrent apply while recomputing.
    list(Territory.objects.select_for_update().filter(plan=plan).values_list("pk", flat=True))
    proposal = staffing_proposal(plan=plan, method=method, measure=measure, territory_ids=territory_ids)
    if proposal.hash != shown_hash:
        raise StaleProposal("The data changed since the proposal was shown: review it again.")
    for pick in proposal.assigned:
        # ``assigned`` keeps only the picks that have a rep.
        user = cast("AuthUser", pick.user)
        split = 100 if pick.slot == RepAssignment.Slot.OVERLAY else None  # a vacant overlay has no split given
        services.assignment_add(territory=pick.territory, user=user, slot=pick.slot, split_percent=split, by=by)
    return proposal


