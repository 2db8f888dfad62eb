"""Which policy applies to a subject and who approves each of its steps on a date.

Relations (``ApprovalPolicyStep.Relation``):

* outgoing / incoming manager: the manager (``SalesProfile.manager``) of the primary owner on
  ``on`` of each giving / receiving territory, read through ``territories.coverage``;
* director over both: the lowest person with the director role above every one of those
  primary owners in the org chart (the ``SalesProfile.manager`` chain);
* a named user; any admin (any one of them approves).

Then, in this order: an approver on leave on ``on`` hands the step to the first manager above
them who is not (``delegated_from`` keeps the named approver); nobody approves their own proposal
(unless the policy allows it for an admin initiator): the initiator's place goes to their own
manager, as a leave would; a step left with nobody goes to any admin; a person already required by
an earlier all-of step is not asked again (a move inside one team asks its manager once).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Q

from planning.approvals.conditions import ConditionError, condition_holds
from planning.approvals.errors import ApprovalError
from planning.models import ApprovalPolicy, ApprovalPolicyStep
from salesos.models import SalesProfile, users_on_leave
from territories.coverage import owners_on

Relation = ApprovalPolicyStep.Relation
Mode = ApprovalPolicyStep.Mode
Role = SalesProfile.Role
User = get_user_model()
# The org chart is shallow; a longer chain means a loop in the data, not a deeper company.
MAX_CHAIN = 20


@dataclass(frozen=True)
class ApprovalFacts:
    """What a policy's conditions and relations read about one proposal (its impact snapshot)."""

    kind: str
    initiator_id: int
    initiator_role: str
    giving_territory_ids: frozenset[int]
    receiving_territory_ids: frozenset[int]
    moved_accounts: int
    moved_deals: int
    moved_pipeline: Decimal

    def as_mapping(self) -> dict[str, Any]:
        """The facts conditions may read (``planning.approvals.conditions``)."""
        data = asdict(self)
        for name in ("initiator_id", "giving_territory_ids", "receiving_territory_ids"):
            data.pop(name)
        return data


@dataclass(frozen=True)
class Approver:
    user_id: int
    # The person the step named, when it went to someone else (leave, own proposal).
    delegated_from_id: int | None = None


@dataclass(frozen=True)
class ResolvedStep:
    """One step as it applies to one proposal: its approvers and whether all or any must agree.
    ``order`` numbers the steps that apply 1, 2, 3... in the policy's order."""

    order: int
    name: str
    mode: str
    approvers: tuple[Approver, ...]
    step_id: int | None = None


def policy_for(*, subject: str, facts: ApprovalFacts) -> ApprovalPolicy | None:
    """The first active policy (by ``order``) for ``subject`` whose kinds include the proposal's
    kind (empty: every kind) and whose condition holds; ``None`` when none does. A policy whose
    stored condition is invalid is skipped (the policy page refuses to save one)."""
    mapping = facts.as_mapping()
    for policy in ApprovalPolicy.objects.filter(subject=subject, is_active=True).order_by("order", "name", "id"):
        if policy.kinds and facts.kind not in policy.kinds:
            continue
        try:
            if condition_holds(policy.condition, mapping):
                return policy
        except ConditionError:
            continue
    return None


class _OrgChart:
    """Managers, roles and leave, loaded once per resolution (one query each)."""

    def __init__(self, on: dt.date) -> None:
        rows = SalesProfile.objects.values_list("user_id", "manager_id", "role")
        self.manager = {user_id: manager_id for user_id, manager_id, _ in rows}
        self.role = {user_id: role for user_id, _, role in rows}
        self.away = set(users_on_leave(on).values_list("user_id", flat=True))
        self.active = set(User.objects.filter(is_active=True).values_list("pk", flat=True))
        self.admins = sorted(
            User.objects.filter(is_active=True)
            .filter(Q(is_superuser=True) | Q(sales_profile__role=Role.ADMIN))
            .values_list("pk", flat=True)
        )

    def chain(self, user_id: int) -> list[int]:
        """The people above ``user_id``, nearest first."""
        above: list[int] = []
        current = self.manager.get(user_id)
        while current is not None and current not in above and current != user_id and len(above) < MAX_CHAIN:
            above.append(current)
            current = self.manager.get(current)
        return above

    def available(self, user_id: int) -> bool:
        return user_id in self.active and user_id not in self.away


def _lowest_common_director(people: Iterable[int], chart: _OrgChart) -> int | None:
    chains = [[u for u in [person, *chart.chain(person)] if chart.role.get(u) == Role.DIRECTOR] for person in people]
    if not chains:
        return None
    shared = set(chains[0]).intersection(*map(set, chains[1:]))
    return next((u for u in chains[0] if u in shared), None)


def _named(step: ApprovalPolicyStep, facts: ApprovalFacts, primaries: Mapping[int, int], chart: _OrgChart) -> list[int]:
    def managers(territory_ids: Iterable[int]) -> list[int]:
        found = [chart.manager.get(primaries[t]) for t in sorted(territory_ids) if t in primaries]
        return [u for u in found if u is not None]

    if step.relation == Relation.OUTGOING_MANAGER:
        return managers(facts.giving_territory_ids)
    if step.relation == Relation.INCOMING_MANAGER:
        return managers(facts.receiving_territory_ids)
    if step.relation == Relation.DIRECTOR:
        people = [
            primaries[t] for t in sorted(facts.giving_territory_ids | facts.receiving_territory_ids) if t in primaries
        ]
        director = _lowest_common_director(people, chart)
        return [director] if director is not None else []
    if step.relation == Relation.NAMED_USER:
        return [step.user_id] if step.user_id is not None else []
    return list(chart.admins)


def _stand_in(user_id: int, *, initiator_id: int, chart: _OrgChart) -> int | None:
    """The first person above ``user_id`` who is available and not the initiator."""
    return next((u for u in chart.chain(user_id) if chart.available(u) and u != initiator_id), None)


def resolve_steps(*, policy: ApprovalPolicy, facts: ApprovalFacts, on: dt.date) -> list[ResolvedStep]:
    """The steps of ``policy`` whose condition holds for ``facts``, each with its approvers on
    ``on`` (see the module docstring for the relations and the stand-in rules). Raises
    ``ApprovalError`` when a step has nobody at all who could approve (no admin in the org)."""
    mapping = facts.as_mapping()
    chart = _OrgChart(on)
    territory_ids = facts.giving_territory_ids | facts.receiving_territory_ids
    # Whoever holds each territory on the day: its primary (the backup when it has none).
    primaries: dict[int, int] = {}
    for pk, held in owners_on(territory_ids=territory_ids, on=on).items():
        holder = held.primary if held.primary is not None else held.owner
        if holder is not None:
            primaries[pk] = holder
    initiator = facts.initiator_id
    self_ok = policy.allow_admin_self_approval and chart.role.get(initiator) == Role.ADMIN
    required: set[int] = set()
    steps: list[ResolvedStep] = []
    for step in policy.steps.all().order_by("order", "id"):
        try:
            if not condition_holds(step.condition, mapping):
                continue
        except ConditionError:
            continue
        is_admin_step = step.relation == Relation.ANY_ADMIN
        approvers: list[Approver] = []
        for user_id in _named(step, facts, primaries, chart):
            approver: Approver | None = Approver(user_id)
            if user_id == initiator and not self_ok:
                # Admins-at-large just leave the initiator out; a named role goes up the chart.
                approver = None if is_admin_step else _up(user_id, initiator, chart)
            elif not chart.available(user_id):
                approver = None if is_admin_step else _up(user_id, initiator, chart)
            if approver is not None and approver.user_id not in {a.user_id for a in approvers}:
                approvers.append(approver)
        mode = Mode.ANY if is_admin_step else step.mode
        if not approvers:
            admins = [u for u in chart.admins if (u != initiator or self_ok) and chart.available(u)]
            admins = admins or [u for u in chart.admins if u != initiator or self_ok]
            if not admins:
                raise ApprovalError(
                    f"Nobody can approve the step “{step.name or step.get_relation_display()}”: "
                    "there is no other sales ops admin to take it."
                )
            approvers, mode = [Approver(u) for u in admins], Mode.ANY
        approvers = [a for a in approvers if a.user_id not in required]
        if not approvers:
            continue  # everyone here already approves in an earlier all-of step
        if mode == Mode.ALL or len(approvers) == 1:
            required.update(a.user_id for a in approvers)
        steps.append(
            ResolvedStep(
                order=len(steps) + 1,
                name=step.name or step.get_relation_display(),
                mode=mode,
                approvers=tuple(approvers),
                step_id=step.pk,
            )
        )
    return steps


def _up(user_id: int, initiator: int, chart: _OrgChart) -> Approver | None:
    stand_in = _stand_in(user_id, initiator_id=initiator, chart=chart)
    return Approver(stand_in, delegated_from_id=user_id) if stand_in is not None else None


def stand_in_for(user_id: int, *, initiator_id: int, on: dt.date, exclude: Iterable[int] = ()) -> int | None:
    """Who takes ``user_id``'s approval when it escalates: the first manager above them who is
    available on ``on``, is not the initiator and is not already in the step (``exclude``); when
    nobody above qualifies, the first such admin; ``None`` when there is nobody at all."""
    chart = _OrgChart(on)
    excluded = {initiator_id, user_id, *exclude}
    above = [u for u in chart.chain(user_id) if chart.available(u) and u not in excluded]
    admins = [u for u in chart.admins if chart.available(u) and u not in excluded]
    return next(iter(above or admins), None)
