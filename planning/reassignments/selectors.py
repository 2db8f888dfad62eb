"""The pages' reads of reassignments, each in a fixed number of queries: a proposal with its
snapshot and timeline, an account's ownership over time, the plan's mid-year changes, and
whether an account is inside a transition window."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet
from django.utils import timezone
from django_fsm_log.models import StateLog

from planning.approvals.services import waiting_approver_ids
from planning.models import ApprovalTask, Reassignment, ReassignmentMove
from planning.reassignments.access import reassignment_get_for_user, reassignments_visible_to
from planning.reassignments.transition import in_transition, outgoing_owner_ids
from salesos.models import Account
from salesos.roles import is_admin
from territories import coverage
from territories.models import AccountTerritory, RepAssignment, Territory, TerritoryPlan
from territories.placement import placement

User = get_user_model()
Status = Reassignment.Status
EXECUTED = (Status.IN_TRANSITION, Status.DONE)


@dataclass(frozen=True)
class TimelineEntry:
    """One line of a proposal's history: a status change or an approver's decision."""

    at: dt.datetime
    who: Any  # a user, or None for the system (schedules, execution)
    what: str
    comment: str = ""
    kind: str = "transition"  # transition | decision
    round: int | None = None


@dataclass(frozen=True)
class ReassignmentDetail:
    reassignment: Reassignment
    impact: dict[str, Any] | None
    timeline: list[TimelineEntry]
    tasks: list[ApprovalTask]  # every round's, in order
    waiting_ids: list[int]  # approvers whose turn it is
    may_edit: bool
    may_withdraw: bool
    may_decide: bool
    stale_difference: dict[str, Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)


_STATE_WORDS = {
    Status.SUBMITTED: "Submitted for approval",
    Status.CHANGES_REQUESTED: "Changes requested",
    Status.APPROVED: "Approved",
    Status.SCHEDULED: "Scheduled",
    Status.IN_TRANSITION: "Executed; transition window open",
    Status.DONE: "Done",
    Status.REJECTED: "Rejected",
    Status.WITHDRAWN: "Withdrawn",
    Status.STALE: "Sent back: it changed since approval",
    Status.FAILED: "Failed",
}


def reassignment_timeline(reassignment: Reassignment) -> tuple[list[TimelineEntry], list[ApprovalTask]]:
    """Every transition (the django-fsm-log ``StateLog``) and every approver's decision, in time
    order: two queries, plus one for the people."""
    entries = [TimelineEntry(at=reassignment.created_at, who=reassignment.initiator, what="Drafted")]
    for log in StateLog.objects.for_(reassignment).select_related("by").order_by("timestamp", "pk"):
        entries.append(TimelineEntry(at=log.timestamp, who=log.by, what=_STATE_WORDS.get(log.state, log.state),
                                     comment=log.description or ""))
    tasks = list(reassignment.approval_tasks.select_related("approver", "delegated_from").order_by(
        "round", "step_order", "pk"))
    for task in tasks:
        if task.decided_at is not None and task.status != ApprovalTask.Status.SUPERSEDED:
            entries.append(TimelineEntry(at=task.decided_at, who=task.approver,
                                         what=f"{task.get_status_display()} ({task.step_name})",
                                         comment=task.comment, kind="decision", round=task.round))
    entries.sort(key=lambda e: (e.at, e.kind != "decision"))
    return entries, tasks


def reassignment_detail(user, pk: int) -> ReassignmentDetail:
    """A proposal as its page shows it: the stored impact snapshot (never recomputed here), the
    timeline, the approval tasks of every round, and what ``user`` may do. 404 when the user may
    not see it."""
    reassignment = reassignment_get_for_user(user, pk)
    timeline, tasks = reassignment_timeline(reassignment)
    waiting = waiting_approver_ids(reassignment=reassignment) if reassignment.status == Status.SUBMITTED else []
    mine = reassignment.initiator_id == user.pk
    return ReassignmentDetail(
        reassignment=reassignment,
        impact=reassignment.impact,
        timeline=timeline,
        tasks=tasks,
        waiting_ids=waiting,
        may_edit=mine and reassignment.is_editable,
        may_withdraw=(mine or is_admin(user)) and reassignment.status in (
            Status.DRAFT, Status.SUBMITTED, Status.CHANGES_REQUESTED, Status.APPROVED, Status.SCHEDULED, Status.STALE),
        may_decide=user.pk in waiting,
        stale_difference=reassignment.stale_difference if reassignment.status == Status.STALE else None,
    )


@dataclass(frozen=True)
class OwnershipSpan:
    """The account sat in ``territory`` from ``start`` to ``end`` (None: still), owned by
    ``owners``: (user, first day, last day) of the territory's primaries over that span."""

    territory: Territory
    start: dt.datetime
    end: dt.datetime | None
    source: str
    owners: list[tuple[Any, dt.date, dt.date | None]]


def account_ownership_timeline(account: Account, user, plan: TerritoryPlan | None = None) -> list[OwnershipSpan]:
    """Who owned ``account`` when, newest first: its primary rows in the plan (the active one by
    default: effective-dated ``AccountTerritory`` rows are the history) and the primary rep
    assignments of each territory over the row's span. Three queries whatever the history's
    length. ``user`` must already see the account (``account_get_for_user``)."""
    plan = plan or TerritoryPlan.active()
    if plan is None:
        return []
    rows = list(AccountTerritory.objects.filter(account=account, plan=plan, is_primary=True)
                .select_related("territory").order_by("-valid_from"))
    assignments = list(RepAssignment.objects.filter(
        territory_id__in={r.territory_id for r in rows}, slot=RepAssignment.Slot.PRIMARY
    ).select_related("user").order_by("start_date", "pk"))
    spans = []
    for row in rows:
        first = timezone.localdate(row.valid_from)
        last = timezone.localdate(row.valid_to) if row.valid_to else None
        owners = []
        for a in assignments:
            days = coverage.days_covered(a, first, last) if a.territory_id == row.territory_id else None
            if days is not None:
                owners.append((a.user, *days))
        spans.append(OwnershipSpan(territory=row.territory, start=row.valid_from, end=row.valid_to,
                                   source=row.source, owners=owners))
    return spans


def account_owner_on(account: Account, on: dt.date, plan: TerritoryPlan | None = None) -> Any:
    """Who owned ``account`` on ``on``: its primary row in force that day and that territory's
    owner that day (``territories.coverage``). Two queries."""
    plan = plan or TerritoryPlan.active()
    if plan is None:
        return None
    end_of_day = timezone.make_aware(dt.datetime.combine(on + dt.timedelta(days=1), dt.time.min))
    row = (AccountTerritory.objects.filter(account=account, plan=plan, is_primary=True, valid_from__lt=end_of_day)
           .filter(Q(valid_to__isnull=True) | Q(valid_to__gte=end_of_day)).order_by("-valid_from").first())
    if row is None:
        return None
    return coverage.owners_of([row.territory_id], on=on).get(row.territory_id)


def mid_year_changes(plan: TerritoryPlan, user, date_from: dt.date | None = None, date_to: dt.date | None = None,
                     territory: Territory | None = None) -> QuerySet[Reassignment]:
    """The plan's executed proposals (in transition or done) that ``user`` may see, by effective
    date (newest first), optionally between two dates (inclusive) and touching one territory
    (giving, receiving, or the territory a rep, rule, merge or carve changed)."""
    qs = reassignments_visible_to(user).filter(plan=plan, status__in=EXECUTED)
    if date_from is not None:
        qs = qs.filter(effective_date__gte=date_from)
    if date_to is not None:
        qs = qs.filter(effective_date__lte=date_to)
    if territory is not None:
        moved = ReassignmentMove.objects.filter(Q(from_territory=territory) | Q(to_territory=territory)).values(
            "reassignment_id")
        named = (Q(change__territory=territory.pk) | Q(change__into=territory.pk) | Q(change__parent=territory.pk)
                 | Q(change__to_territory=territory.pk))
        qs = qs.filter(Q(pk__in=moved) | named)
    return qs.select_related("initiator").order_by("-effective_date", "-pk")


def in_transition_for_account(account: Account, today: dt.date | None = None) -> tuple[Any, Any, dt.date] | None:
    """(from owner, to owner, until) when ``account`` is inside a transition window on ``today``
    (the outgoing rep still sees it read-only until that day), else None."""
    today = today or timezone.localdate()
    current = in_transition(today)
    if not current.exists():  # one query for almost every account: no window is open
        return None
    move = (ReassignmentMove.objects.filter(reassignment__in=current, account=account)
            .select_related("reassignment").order_by("-reassignment__effective_date").first())
    found: Reassignment | None
    if move is not None:
        found = move.reassignment
        outgoing = outgoing_owner_ids(found).get(move.from_territory_id or 0)
    else:
        where = placement(account)
        here = where.territory.pk if where.territory is not None else None
        found = next((r for r in current.filter(kind=Reassignment.Kind.SLOT_CHANGE)
                      if here is not None and int(r.change.get("territory", 0)) == here), None)
        if found is None or here is None:
            return None
        outgoing = outgoing_owner_ids(found).get(here)
    if found.transition_ends is None:
        return None
    incoming = placement(account).owner
    from_user = User.objects.filter(pk=outgoing).first() if outgoing else None
    return from_user, incoming, found.transition_ends


# --- what the proposal pages add ------------------------------------------------------------


SCOPES = ("mine", "team", "all")


def reassignments_list(
    user, *, scope: str = "mine", status: str = "", kind: str = "", q: str = ""
) -> QuerySet[Reassignment]:
    """The proposals of the list page: ``mine`` (initiated by the user), otherwise everything
    the user may see (``reassignments_visible_to``: their team's, the ones touching their
    territories, the ones they approve; admins all), filtered by status, kind and title."""
    proposals = reassignments_visible_to(user)
    if scope == "mine":
        proposals = proposals.filter(initiator=user)
    if status:
        proposals = proposals.filter(status=status)
    if kind:
        proposals = proposals.filter(kind=kind)
    if q:
        proposals = proposals.filter(title__icontains=q)
    return proposals.select_related("initiator", "plan").order_by("-created_at", "-id")


@dataclass(frozen=True)
class ApprovalStep:
    """One step of a round: its approvers' tasks and where it stands."""

    order: int
    name: str
    mode: str
    tasks: list[ApprovalTask]

    @property
    def state(self) -> str:
        S = ApprovalTask.Status
        statuses = {t.status for t in self.tasks}
        for final in (S.REJECTED, S.CHANGES_REQUESTED):
            if final in statuses:
                return final
        if S.APPROVED in statuses and (self.mode == "any" or S.WAITING not in statuses):
            return S.APPROVED
        return S.WAITING if S.WAITING in statuses else S.SUPERSEDED


def approval_steps(tasks: list[ApprovalTask], round: int) -> list[ApprovalStep]:
    """The steps of one round from ``ReassignmentDetail.tasks`` (already in step order)."""
    steps: list[ApprovalStep] = []
    for task in tasks:
        if task.round != round:
            continue
        if not steps or steps[-1].order != task.step_order:
            steps.append(ApprovalStep(order=task.step_order, name=task.step_name, mode=task.mode, tasks=[]))
        steps[-1].tasks.append(task)
    return steps


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def change_territory_ids(change: dict) -> set[int]:
    """The territory ids a change names, whatever its kind."""
    return {i for i in (_int(change.get(k)) for k in ("territory", "to_territory", "into", "parent")) if i}


def change_lines(reassignment: Reassignment) -> list[tuple[str, str]]:
    """The change in words, as (label, value) lines for the proposal's page. Two queries."""
    change = reassignment.change if isinstance(reassignment.change, dict) else {}
    territories = Territory.objects.in_bulk(change_territory_ids(change))
    users = User.objects.in_bulk(
        {i for i in (_int(change.get(k)) for k in ("from_user", "to_user", "primary_user")) if i}
    )

    def territory(key: str) -> str:
        t = territories.get(_int(change.get(key)) or 0)
        return f"{t.code} · {t.name}" if t is not None else "—"

    def person(key: str) -> str:
        u = users.get(_int(change.get(key)) or 0)
        return (u.get_full_name() or u.username) if u is not None else "nobody"

    Kind = Reassignment.Kind
    kind = reassignment.kind
    if kind == Kind.MOVE_ACCOUNTS:
        return [("Accounts", f"{len(change.get('accounts') or []):,}"), ("Move to", territory("to_territory"))]
    if kind == Kind.SLOT_CHANGE:
        slot = str(change.get("slot") or "primary")
        lines = [("Territory", territory("territory")), ("Slot", slot.capitalize()),
                 ("From", person("from_user")), ("To", person("to_user"))]
        if slot == RepAssignment.Slot.OVERLAY and change.get("split_percent") is not None:
            lines.append(("Split", f"{change.get('split_percent')}%"))
        return lines
    if kind == Kind.RULE_CHANGE:
        lines = [("Territory", territory("territory"))]
        if change.get("priority") is not None:
            lines.append(("Priority", str(change.get("priority"))))
        return lines
    if kind == Kind.MERGE:
        return [("Merge", territory("territory")), ("Into", territory("into"))]
    if kind == Kind.CARVE:
        return [("Carve out of", territory("parent")),
                ("New territory", f"{change.get('code', '')} · {change.get('name', '')}"),
                ("Primary rep", person("primary_user"))]
    return []


@dataclass(frozen=True)
class MidYearRow:
    reassignment: Reassignment
    territories: list[Territory]
    moved_accounts: int


def mid_year_rows(changes: QuerySet[Reassignment], *, limit: int = 500) -> list[MidYearRow]:
    """``mid_year_changes`` as the log's rows: each proposal with the territories it touched and
    the number of accounts it moved. Three queries."""
    found = list(changes[:limit])
    counts: dict[int, int] = {}
    touched: dict[int, set[int]] = {r.pk: change_territory_ids(r.change if isinstance(r.change, dict) else {})
                                    for r in found}
    for rid, from_id, to_id in ReassignmentMove.objects.filter(reassignment__in=[r.pk for r in found]).values_list(
        "reassignment_id", "from_territory_id", "to_territory_id"
    ):
        counts[rid] = counts.get(rid, 0) + 1
        touched[rid].update(t for t in (from_id, to_id) if t)
    names = Territory.objects.in_bulk({t for ids in touched.values() for t in ids})
    return [
        MidYearRow(r, sorted((names[t] for t in touched[r.pk] if t in names), key=lambda t: t.code),
                   counts.get(r.pk, 0))
        for r in found
    ]
