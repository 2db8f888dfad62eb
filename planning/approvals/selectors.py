"""What the approval pages read: the inbox (proposals and territory plans waiting for the user's
decision now), the nav badge's count, and the user's recent decisions. A task is "waiting for you
now" when it is waiting, its proposal awaits approval (or its plan is in review), and no earlier
step of its round still waits (steps are sequential: the first step with a waiting task is the
active one)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Q, QuerySet

from planning.approvals.snapshot import ImpactSummary, impact_summary
from planning.models import ApprovalTask, Reassignment
from planning.notify import proposal_url
from territories.models import TerritoryPlan

Status = ApprovalTask.Status


def _active_waiting(tasks: QuerySet[ApprovalTask]) -> QuerySet[ApprovalTask]:
    earlier = ApprovalTask.objects.filter(
        reassignment_id=OuterRef("reassignment_id"),
        round=OuterRef("round"),
        step_order__lt=OuterRef("step_order"),
        status=Status.WAITING,
    )
    return tasks.filter(status=Status.WAITING, reassignment__status=Reassignment.Status.SUBMITTED).exclude(
        Exists(earlier)
    )


def _plans_waiting(tasks: QuerySet[ApprovalTask]) -> QuerySet[ApprovalTask]:
    earlier = ApprovalTask.objects.filter(
        plan_id=OuterRef("plan_id"), round=OuterRef("round"), step_order__lt=OuterRef("step_order"),
        status=Status.WAITING,
    )
    return tasks.filter(status=Status.WAITING, plan__status=TerritoryPlan.Status.REVIEW).exclude(Exists(earlier))


def waiting_count(user) -> int:
    """How many proposals and plans wait for ``user``'s decision now (one query; the nav badge)."""
    if not getattr(user, "is_authenticated", False):
        return 0
    earlier = ApprovalTask.objects.filter(
        Q(reassignment_id=OuterRef("reassignment_id")) | Q(plan_id=OuterRef("plan_id")),
        round=OuterRef("round"), step_order__lt=OuterRef("step_order"), status=Status.WAITING,
    )
    return (
        ApprovalTask.objects.filter(approver=user, status=Status.WAITING)
        .filter(Q(reassignment__status=Reassignment.Status.SUBMITTED) | Q(plan__status=TerritoryPlan.Status.REVIEW))
        .exclude(Exists(earlier))
        .count()
    )


@dataclass
class StepView:
    order: int
    name: str
    mode: str
    tasks: list[ApprovalTask]

    @property
    def state(self) -> str:
        statuses = {t.status for t in self.tasks}
        if Status.REJECTED in statuses or Status.CHANGES_REQUESTED in statuses:
            return "stopped"
        if Status.WAITING in statuses:
            return "waiting"
        return "done" if Status.APPROVED in statuses else "skipped"


@dataclass
class InboxItem:
    task: ApprovalTask
    reassignment: Reassignment
    steps: list[StepView]
    impact: ImpactSummary
    url: str = ""


def steps_of(tasks: list[ApprovalTask]) -> list[StepView]:
    """One round's tasks grouped into its steps, in order."""
    grouped: dict[int, list[ApprovalTask]] = defaultdict(list)
    for task in tasks:
        grouped[task.step_order].append(task)
    return [
        StepView(order=order, name=rows[0].step_name, mode=rows[0].mode, tasks=rows)
        for order, rows in sorted(grouped.items())
    ]


def inbox(user) -> list[InboxItem]:
    """The proposals waiting for ``user``'s decision now, oldest first, each with its approval
    chain (the round's steps and who decided what) and its impact snapshot. Three queries."""
    tasks = list(
        _active_waiting(ApprovalTask.objects.filter(approver=user))
        .select_related("reassignment__initiator", "reassignment__plan", "delegated_from")
        .order_by("created_at", "pk")
    )
    rounds: dict[tuple[int | None, int], list[ApprovalTask]] = defaultdict(list)
    if tasks:
        chain = ApprovalTask.objects.filter(reassignment_id__in=[t.reassignment_id for t in tasks]).select_related(
            "approver", "delegated_from"
        )
        for row in chain.order_by("step_order", "pk"):
            rounds[(row.reassignment_id, row.round)].append(row)
    return [
        InboxItem(
            task=task,
            reassignment=task.reassignment,
            steps=steps_of(rounds[(task.reassignment_id, task.round)]),
            impact=impact_summary(task.reassignment.impact),
            url=proposal_url(task.reassignment),
        )
        for task in tasks
        if task.reassignment is not None
    ]


@dataclass
class PlanInboxItem:
    task: ApprovalTask
    plan: TerritoryPlan
    steps: list[StepView]


def plan_inbox(user) -> list[PlanInboxItem]:
    """The territory plans in review waiting for ``user``'s decision now, oldest first, each with
    its round's steps. Two queries."""
    tasks = list(
        _plans_waiting(ApprovalTask.objects.filter(approver=user))
        .select_related("plan", "plan__fiscal_year", "policy", "delegated_from")
        .order_by("created_at", "pk")
    )
    rounds: dict[tuple[int | None, int], list[ApprovalTask]] = defaultdict(list)
    if tasks:
        chain = ApprovalTask.objects.filter(plan_id__in=[t.plan_id for t in tasks]).select_related(
            "approver", "delegated_from"
        )
        for row in chain.order_by("step_order", "pk"):
            rounds[(row.plan_id, row.round)].append(row)
    return [
        PlanInboxItem(task=task, plan=task.plan, steps=steps_of(rounds[(task.plan_id, task.round)]))
        for task in tasks
        if task.plan is not None
    ]


def recent_decisions(user, *, limit: int = 10) -> list[ApprovalTask]:
    """The user's latest decisions (approved, rejected, changes requested), newest first."""
    return list(
        ApprovalTask.objects.filter(
            approver=user,
            reassignment__isnull=False,
            status__in=[Status.APPROVED, Status.REJECTED, Status.CHANGES_REQUESTED],
        )
        .select_related("reassignment")
        .order_by("-decided_at", "-pk")[:limit]
    )


def approval_subject_for_user(user, pk: int) -> Reassignment | None:
    """The proposal ``pk`` if ``user`` holds an approval task on it (any round), else ``None``:
    approvers act only on proposals that ask them."""
    return (
        Reassignment.objects.filter(pk=pk, approval_tasks__approver=user)
        .select_related("initiator", "plan")
        .distinct()
        .first()
    )
