"""Approval rounds and decisions, for reassignment proposals and plans under review.

A round is opened by the subject's submit service (which has locked the subject row and counted
the round); it creates one ``ApprovalTask`` per approver per step. Steps are sequential: the step
with the lowest ``step_order`` that is not complete is the active one, and only its waiting tasks
may be decided. An all-of step completes when every task approves, an any-of step with the first
approval (the others are then "no longer needed"). A rejection or a request for changes ends the
round at once.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections import defaultdict
from collections.abc import Iterable

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from planning.approvals.errors import ApprovalError
from planning.approvals.resolve import ApprovalFacts, policy_for, resolve_steps
from planning.models import ApprovalPolicyStep, ApprovalTask, Reassignment, Subject
from territories.models import TerritoryPlan

Status = ApprovalTask.Status
Mode = ApprovalPolicyStep.Mode


class Outcome(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    CHANGES_REQUESTED = "changes_requested"


class Decision(enum.StrEnum):
    APPROVE = "approve"
    REJECT = "reject"
    REQUEST_CHANGES = "request_changes"


DECISION_STATUS = {
    Decision.APPROVE: Status.APPROVED,
    Decision.REJECT: Status.REJECTED,
    Decision.REQUEST_CHANGES: Status.CHANGES_REQUESTED,
}


def _subject_filter(reassignment: Reassignment | None, plan: TerritoryPlan | None) -> dict:
    if (reassignment is None) == (plan is None):
        raise ValueError("pass exactly one of reassignment= and plan=")
    return {"reassignment": reassignment} if reassignment is not None else {"plan": plan}


def step_is_complete(tasks: Iterable[ApprovalTask]) -> bool:
    """Whether one step's tasks (of one round) have approved it, by the step's mode."""
    tasks = list(tasks)
    approved = [t for t in tasks if t.status == Status.APPROVED]
    if not tasks:
        return True
    if tasks[0].mode == Mode.ANY:
        return bool(approved)
    return all(t.status in (Status.APPROVED, Status.SUPERSEDED) for t in tasks) and bool(approved)


def active_step(tasks: Iterable[ApprovalTask]) -> list[ApprovalTask]:
    """The tasks of the active step among one round's tasks (empty when every step is complete
    or the round ended with a rejection or a request for changes)."""
    by_step: dict[int, list[ApprovalTask]] = defaultdict(list)
    for task in tasks:
        by_step[task.step_order].append(task)
    for order in sorted(by_step):
        step = by_step[order]
        if any(t.status in (Status.REJECTED, Status.CHANGES_REQUESTED) for t in step):
            return []
        if not step_is_complete(step):
            return step
    return []


def _round_of(reassignment: Reassignment | None, plan: TerritoryPlan | None) -> int:
    if reassignment is not None:
        return reassignment.round
    latest = ApprovalTask.objects.filter(plan=plan).order_by("-round").values_list("round", flat=True).first()
    return (latest or 0) + 1


@transaction.atomic
def approval_round_open(
    *,
    reassignment: Reassignment | None = None,
    plan: TerritoryPlan | None = None,
    facts: ApprovalFacts,
    on: dt.date,
) -> list[ApprovalTask]:
    """Opens an approval round for the subject and returns its tasks; an empty list means nothing
    needs approving (no policy applies, or none of its steps does) and the caller approves at
    once. The caller has locked the subject row and, for a reassignment, incremented its
    ``round`` (a plan's round is counted from its tasks). Waiting tasks of earlier rounds are
    closed. The reassignment's ``policy`` is set to the policy applied. Raises ``ApprovalError``
    when a step has nobody who could approve it."""
    where = _subject_filter(reassignment, plan)
    subject = Subject.REASSIGNMENT if reassignment is not None else Subject.PLAN
    now = timezone.now()
    ApprovalTask.objects.filter(**where, status=Status.WAITING).update(status=Status.SUPERSEDED, decided_at=now)
    policy = policy_for(subject=subject, facts=facts)
    if reassignment is not None:
        reassignment.policy = policy
        Reassignment.objects.filter(pk=reassignment.pk).update(policy=policy)
    if policy is None:
        return []
    round_number = _round_of(reassignment, plan)
    tasks = [
        ApprovalTask(
            **where,
            policy=policy,
            round=round_number,
            step_order=step.order,
            step_name=step.name[:120],
            mode=step.mode,
            approver_id=approver.user_id,
            delegated_from_id=approver.delegated_from_id,
            created_at=now,
        )
        for step in resolve_steps(policy=policy, facts=facts, on=on)
        for approver in step.approvers
    ]
    return ApprovalTask.objects.bulk_create(tasks)


def _locked_round(where: dict) -> list[ApprovalTask]:
    """The latest round's tasks, row-locked so two approvers acting at once are serialised."""
    locked = list(ApprovalTask.objects.select_for_update().filter(**where).order_by("round", "step_order", "id"))
    latest = max((t.round for t in locked), default=None)
    return [t for t in locked if t.round == latest]


@transaction.atomic
def approval_decide(
    *,
    reassignment: Reassignment | None = None,
    plan: TerritoryPlan | None = None,
    by,
    decision: str,
    comment: str = "",
) -> Outcome:
    """Records ``by``'s decision ("approve", "reject" or "request_changes", with an optional
    comment) on their waiting task in the active step, and answers where the round stands:
    PENDING (more approvals needed), APPROVED (every step complete), REJECTED or
    CHANGES_REQUESTED (the round ends; the other waiting tasks are closed). Raises
    ``ApprovalError`` with a clear message when ``by`` has no waiting task in the active step (not
    their turn, already decided, the proposal withdrawn or decided meanwhile) or the decision is
    unknown. The round's tasks are row-locked for the whole decision."""
    try:
        choice = Decision(decision)
    except ValueError:
        raise ApprovalError("Choose approve, reject or request changes.") from None
    where = _subject_filter(reassignment, plan)
    if reassignment is not None and reassignment.status != Reassignment.Status.SUBMITTED:
        raise ApprovalError(
            f"This proposal is {reassignment.get_status_display().lower()}: there is nothing to decide."
        )
    tasks = _locked_round(where)
    step = active_step(tasks)
    mine = next((t for t in step if t.approver_id == by.pk and t.status == Status.WAITING), None)
    if mine is None:
        mine_anywhere = [t for t in tasks if t.approver_id == by.pk]
        if any(t.status != Status.WAITING for t in mine_anywhere):
            raise ApprovalError("You have already decided on this, or your decision is no longer needed.")
        if mine_anywhere:
            raise ApprovalError("It is not your turn yet: an earlier approval step is still open.")
        raise ApprovalError("There is no approval waiting for you here.")
    now = timezone.now()
    mine.status, mine.comment, mine.decided_at = DECISION_STATUS[choice], comment.strip(), now
    mine.save(update_fields=["status", "comment", "decided_at"])
    if choice != Decision.APPROVE:
        _close([t for t in tasks if t.status == Status.WAITING], now)
        return Outcome.REJECTED if choice == Decision.REJECT else Outcome.CHANGES_REQUESTED
    if step_is_complete(step):
        _close([t for t in step if t.status == Status.WAITING], now)
    return Outcome.PENDING if active_step(tasks) else Outcome.APPROVED


def _close(tasks: list[ApprovalTask], now: dt.datetime) -> None:
    ApprovalTask.objects.filter(pk__in=[t.pk for t in tasks]).update(status=Status.SUPERSEDED, decided_at=now)
    for task in tasks:
        task.status, task.decided_at = Status.SUPERSEDED, now


@transaction.atomic
def approval_round_close(*, reassignment: Reassignment | None = None, plan: TerritoryPlan | None = None) -> int:
    """Closes the subject's waiting tasks (on withdrawal or staleness) so they leave every inbox;
    returns how many were closed."""
    where = _subject_filter(reassignment, plan)
    waiting: QuerySet[ApprovalTask] = ApprovalTask.objects.filter(**where, status=Status.WAITING)
    return waiting.update(status=Status.SUPERSEDED, decided_at=timezone.now())


def waiting_approver_ids(*, reassignment: Reassignment | None = None, plan: TerritoryPlan | None = None) -> list[int]:
    """The approvers whose turn it is (waiting tasks of the active step of the latest round)."""
    tasks = list(ApprovalTask.objects.filter(**_subject_filter(reassignment, plan)).order_by("round", "step_order"))
    latest = max((t.round for t in tasks), default=None)
    return [t.approver_id for t in active_step(t for t in tasks if t.round == latest) if t.status == Status.WAITING]
