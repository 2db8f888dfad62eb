"""Every write to reassignment proposals. Keyword-only, typed, atomic, and row-locked on the
proposal: two requests acting on one proposal are serialised, the second sees what the first did.
Bad input raises ``ReassignmentError`` with messages per field and changes nothing.

The workflow (``Reassignment.Status``): a draft is proposed and edited by its initiator, then
submitted (the change, the moves and the impact snapshot are frozen, an approval round opens);
approvers decide; an approved proposal is scheduled for its effective date, when
``reassignment_execute`` applies it (``planning.reassignments.execute``). Changes requested or a
stale snapshot send it back to its initiator, who edits and submits again (a new round).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django_q.tasks import async_task

from planning.approvals.errors import ApprovalError
from planning.approvals.services import Outcome, approval_decide, approval_round_close, approval_round_open
from planning.models import (
    CustomerNotice,
    DealDecision,
    DealPolicy,
    Reassignment,
    ReassignmentMove,
    ReassignmentSettings,
)
from planning.notify import reassignment_notify
from planning.reassignments.access import may_propose
from planning.reassignments.changes import change_validate
from planning.reassignments.daily import customer_notices_send_due, reassignments_execute_due
from planning.reassignments.errors import ReassignmentError
from planning.reassignments.execute import ExecuteResult
from planning.reassignments.execute import reassignment_execute as execute_one
from planning.reassignments.impact import Impact, moves_of, reassignment_impact
from planning.reassignments.notices import notice_context, notices_queue
from salesos.models import Opportunity
from salesos.roles import is_admin
from territories.models import TerritoryPlan

User = get_user_model()
logger = logging.getLogger(__name__)

Kind = Reassignment.Kind
Status = Reassignment.Status

TITLE_MAX = 200
REASON_MAX = 4000
EDIT_FIELDS = frozenset({"title", "reason", "effective_date", "transition_days", "deal_policy", "deal_stage",
                         "notify_customers", "change"})


def _today() -> dt.date:
    return timezone.localdate()


def _default_title(kind: str, change: Mapping[str, Any]) -> str:
    if kind == Kind.MOVE_ACCOUNTS:
        return f"Move {len(change.get('accounts') or [])} accounts"
    return str(Kind(kind).label)


def _check_fields(values: dict[str, Any]) -> dict[str, list[str]]:
    """The plain fields of a proposal (the change is checked by ``changes``)."""
    problems: dict[str, list[str]] = {}

    def add(field: str, message: str) -> None:
        problems.setdefault(field, []).append(message)

    title = values.get("title", "")
    if not isinstance(title, str) or len(title) > TITLE_MAX:
        add("title", f"A title of at most {TITLE_MAX} characters.")
    reason = values.get("reason", "")
    if not isinstance(reason, str) or len(reason) > REASON_MAX:
        add("reason", f"A reason of at most {REASON_MAX} characters.")
    effective = values.get("effective_date")
    if not isinstance(effective, dt.date):
        add("effective_date", "Give the date the change takes effect.")
    elif effective < _today():
        add("effective_date", "The effective date is in the past: choose today or a later day.")
    days = values.get("transition_days")
    if not isinstance(days, int) or isinstance(days, bool) or not 0 <= days <= 365:
        add("transition_days", "A transition window of 0 to 365 days.")
    policy = values.get("deal_policy")
    if policy not in DealPolicy.values:
        add("deal_policy", "Choose what happens to open deals.")
    stage = values.get("deal_stage", "")
    open_stages = [s for s in Opportunity.Stage.values if s not in ("closed_won", "closed_lost")]
    if policy == DealPolicy.STAGE_BASED and stage not in open_stages:
        add("deal_stage", "Choose the stage from which deals stay with their rep.")
    elif stage and stage not in open_stages:
        add("deal_stage", "Choose an open stage.")
    if not isinstance(values.get("notify_customers", False), bool):
        add("notify_customers", "Say whether customers are told.")
    return problems


def _refuse(problems: Mapping[str, list[str]]) -> None:
    if any(problems.values()):
        raise ReassignmentError(problems)


def _locked(reassignment: Reassignment) -> Reassignment:
    """The proposal's row, locked for this transaction and read afresh."""
    found = Reassignment.objects.select_for_update().filter(pk=reassignment.pk).first()
    if found is None:
        raise ReassignmentError("This proposal no longer exists.")
    return found


def _refuse_unless_initiator(*, by, reassignment: Reassignment, action: str) -> None:
    if reassignment.initiator_id != by.pk:
        raise ReassignmentError(f"Only {reassignment.initiator} may {action} this proposal.")


@transaction.atomic
def reassignment_propose(
    *,
    by,
    plan: TerritoryPlan,
    kind: str,
    change: Mapping[str, Any],
    title: str = "",
    reason: str = "",
    effective_date: dt.date,
    transition_days: int | None = None,
    deal_policy: str | None = None,
    deal_stage: str = "",
    notify_customers: bool = False,
) -> Reassignment:
    """A new draft proposal by ``by`` on ``plan`` (the active plan). The deal policy, its stage
    and the transition window default to the organisation's ``ReassignmentSettings`` (the
    interface's ``transition_days=0`` reads as "the default" when left as None). Reps may not
    propose; the change must lie within ``proposable_territories(by, plan)``."""
    if not may_propose(by):
        raise ReassignmentError("Reps cannot propose reassignments: ask your manager.")
    if plan is None or plan.status != TerritoryPlan.Status.ACTIVE:
        raise ReassignmentError.one("plan", "Reassignments change the active plan.")
    defaults = ReassignmentSettings.load()
    policy = deal_policy or defaults.deal_policy
    values: dict[str, Any] = {
        "title": (title or "").strip(),
        "reason": (reason or "").strip(),
        "effective_date": effective_date,
        "transition_days": defaults.transition_days if transition_days is None else transition_days,
        "deal_policy": policy,
        "deal_stage": deal_stage or (defaults.deal_stage if policy == DealPolicy.STAGE_BASED else ""),
        "notify_customers": notify_customers,
    }
    problems = _check_fields(values)
    normalised, change_problems = change_validate(by=by, plan=plan, kind=kind, change=change)
    for field, messages in change_problems.items():
        problems.setdefault(field, []).extend(messages)
    _refuse(problems)
    values["title"] = values["title"] or _default_title(kind, normalised)
    return Reassignment.objects.create(plan=plan, kind=kind, change=normalised, initiator=by, **values)


@transaction.atomic
def reassignment_update(*, by, reassignment: Reassignment, version: int, **fields: Any) -> Reassignment:
    """Edits a draft (or a proposal sent back: changes requested, stale). ``version`` is the one
    the edit was made against: if the proposal changed since, nothing is saved. Fields: title,
    reason, effective_date, transition_days, deal_policy, deal_stage, notify_customers, change.
    Changing the change or the deal policy drops manual deal choices that no longer apply."""
    reassignment = _locked(reassignment)
    _refuse_unless_initiator(by=by, reassignment=reassignment, action="edit")
    if not reassignment.is_editable:
        raise ReassignmentError(f"A proposal that is {reassignment.get_status_display().lower()} can no longer be "
                                "edited.")
    if version != reassignment.version:
        raise ReassignmentError("Someone changed this proposal after you opened it, so nothing was saved. Reload "
                                "the page and make your change again.")
    unknown = set(fields) - EDIT_FIELDS
    if unknown:
        raise ReassignmentError(f"These cannot be edited: {', '.join(sorted(unknown))}.")
    values = {name: getattr(reassignment, name) for name in EDIT_FIELDS - {"change"}}
    values.update({k: v for k, v in fields.items() if k != "change"})
    for name in ("title", "reason"):
        values[name] = (values[name] or "").strip()
    if values["deal_policy"] == DealPolicy.STAGE_BASED and not values["deal_stage"]:
        values["deal_stage"] = ReassignmentSettings.load().deal_stage
    problems = _check_fields(values)
    change = reassignment.change
    if "change" in fields:
        change, change_problems = change_validate(by=by, plan=reassignment.plan, kind=reassignment.kind,
                                                  change=fields["change"])
        for field, messages in change_problems.items():
            problems.setdefault(field, []).extend(messages)
    _refuse(problems)
    values["title"] = values["title"] or _default_title(reassignment.kind, change)
    for name, value in values.items():
        setattr(reassignment, name, value)
    reassignment.change = change
    reassignment.version += 1
    reassignment.save()
    if reassignment.deal_policy != DealPolicy.MANUAL:
        reassignment.deal_decisions.all().delete()
    elif "change" in fields:
        keep = [d.pk for d in open_deals_of(reassignment)]
        reassignment.deal_decisions.exclude(opportunity_id__in=keep).delete()
    return reassignment


def open_deals_of(reassignment: Reassignment) -> list[Opportunity]:
    """The open deals the proposal's moves touch, for the manual deal grid."""
    account_ids, _, _ = moves_of(reassignment)
    if reassignment.kind == Kind.SLOT_CHANGE:
        change = reassignment.change or {}
        if not change.get("from_user"):
            return []
        return list(Opportunity.objects.filter(status=Opportunity.Status.OPEN, owner_id=change["from_user"],
                                               account__territory_rows__territory_id=change["territory"],
                                               account__territory_rows__valid_to__isnull=True,
                                               account__territory_rows__is_primary=True)
                    .select_related("account", "owner").order_by("account__name", "pk"))
    return list(Opportunity.objects.filter(status=Opportunity.Status.OPEN, account_id__in=account_ids.tolist())
                .select_related("account", "owner").order_by("account__name", "pk"))


@transaction.atomic
def reassignment_deal_decisions_set(*, by, reassignment: Reassignment, choices: Mapping[int, str]) -> int:
    """Records the manual grid's choices (deal id -> "stay" | "move"; "" clears one). Only deals
    the proposal touches; only while it is editable and under the manual policy. Returns how many
    deals are still undecided."""
    reassignment = _locked(reassignment)
    _refuse_unless_initiator(by=by, reassignment=reassignment, action="edit")
    if not reassignment.is_editable:
        raise ReassignmentError("This proposal can no longer be edited.")
    if reassignment.deal_policy != DealPolicy.MANUAL:
        raise ReassignmentError.one("deal_policy", "Deal-by-deal choices apply under the manual policy only.")
    allowed = {"", *DealDecision.Choice.values}
    bad = [str(c) for c in choices.values() if c not in allowed]
    if bad:
        raise ReassignmentError.one("choices", "Choose stay or move for each deal.")
    deals = {d.pk for d in open_deals_of(reassignment)}
    foreign = [pk for pk in choices if int(pk) not in deals]
    if foreign:
        raise ReassignmentError.one("choices", f"{len(foreign)} of these deals are not part of this proposal.")
    for pk, choice in choices.items():
        DealDecision.objects.update_or_create(reassignment=reassignment, opportunity_id=int(pk),
                                              defaults={"choice": choice})
    decided = set(reassignment.deal_decisions.exclude(choice="").values_list("opportunity_id", flat=True))
    Reassignment.objects.filter(pk=reassignment.pk).update(version=reassignment.version + 1)
    return len(deals - decided)


@transaction.atomic
def reassignment_withdraw(*, by, reassignment: Reassignment, comment: str = "") -> Reassignment:
    """Withdraws a proposal that has not executed: its initiator, or an admin. Open approval
    tasks end (nobody can decide on it any more); queued customer notices are cancelled."""
    reassignment = _locked(reassignment)
    if reassignment.initiator_id != by.pk and not is_admin(by):
        raise ReassignmentError(f"Only {reassignment.initiator} or an admin may withdraw this proposal.")
    if reassignment.status not in (Status.DRAFT, Status.SUBMITTED, Status.CHANGES_REQUESTED, Status.APPROVED,
                                   Status.SCHEDULED, Status.STALE):
        raise ReassignmentError(f"A proposal that is {reassignment.get_status_display().lower()} cannot be "
                                "withdrawn.")
    reassignment.withdraw(by=by, description=(comment or "").strip()[:REASON_MAX])
    reassignment.save()
    _after_withdraw(reassignment)
    return reassignment


def _after_withdraw(reassignment: Reassignment) -> None:
    reassignment.notices.filter(status=CustomerNotice.Status.QUEUED).update(status=CustomerNotice.Status.CANCELLED)
    approval_round_close(reassignment=reassignment)
    reassignment_notify(event="withdrawn", reassignment=reassignment, actor=reassignment.initiator)


# --- submit and decide -----------------------------------------------------------------------------


def _revalidate(*, by, reassignment: Reassignment) -> dict[str, Any]:
    """The change and fields checked again at submit: a target retired meanwhile, a date passed."""
    values = {name: getattr(reassignment, name) for name in EDIT_FIELDS - {"change"}}
    problems = _check_fields(values)
    change, change_problems = change_validate(by=by, plan=reassignment.plan, kind=reassignment.kind,
                                              change=reassignment.change)
    for field, messages in change_problems.items():
        problems.setdefault(field, []).extend(messages)
    _refuse(problems)
    return change


def _freeze_moves(reassignment: Reassignment, impact: Impact) -> None:
    """The moves as approved: execution works from these rows."""
    reassignment.moves.all().delete()
    ReassignmentMove.objects.bulk_create(
        (
            ReassignmentMove(reassignment_id=reassignment.pk, account_id=a, from_territory_id=f or None,
                             to_territory_id=t if t > 0 else None)
            for a, f, t in zip(impact.account_ids.tolist(), impact.from_ids.tolist(), impact.to_ids.tolist(),
                               strict=True)
        ),
        batch_size=5000,
    )


def _undecided(reassignment: Reassignment, impact: Impact) -> int:
    decided = set(reassignment.deal_decisions.exclude(choice="").values_list("opportunity_id", flat=True))
    return sum(1 for d in impact.deals if d.id not in decided)


def _schedule(reassignment: Reassignment) -> None:
    """Approved: scheduled for its effective date; a date already here runs right after commit."""
    reassignment.schedule(by=None, description=f"Scheduled for {reassignment.effective_date.isoformat()}")
    reassignment.save()
    reassignment_notify(event="scheduled", reassignment=reassignment)
    if reassignment.effective_date <= _today():
        pk = reassignment.pk
        transaction.on_commit(lambda: async_task(EXECUTE_TASK, pk, task_name=f"reassignment-{pk}"))


EXECUTE_TASK = "planning.tasks.reassignment_execute_task"


@transaction.atomic
def reassignment_submit(*, by, reassignment: Reassignment) -> Reassignment:
    """Submits a draft (or a proposal sent back) for approval: the change is checked again, the
    moves are frozen, the impact snapshot and the hash of what it covers are stored, the manual
    deal grid must be complete, customer notices are rendered and queued for the effective date,
    and an approval round opens (``planning.approvals``). When no approval is needed the proposal
    is approved and scheduled at once."""
    reassignment = _locked(reassignment)
    _refuse_unless_initiator(by=by, reassignment=reassignment, action="submit")
    if reassignment.status == Status.SUBMITTED:
        raise ReassignmentError("This proposal is already submitted and waiting for approval.")
    if not reassignment.is_editable:
        raise ReassignmentError(f"A proposal that is {reassignment.get_status_display().lower()} cannot be "
                                "submitted.")
    _revalidate(by=by, reassignment=reassignment)
    impact = reassignment_impact(reassignment=reassignment)
    if impact.moved_accounts == 0 and reassignment.kind in (Kind.MOVE_ACCOUNTS, Kind.MERGE):
        raise ReassignmentError.one("accounts", "Nothing would move: the accounts are already there.")
    if reassignment.deal_policy == DealPolicy.MANUAL:
        undecided = _undecided(reassignment, impact)
        if undecided:
            many = undecided != 1
            raise ReassignmentError.one(
                "deals", f"{undecided} open deal{'s' if many else ''} still need{'' if many else 's'} a choice "
                "(stay or move) before you submit.")
    _freeze_moves(reassignment, impact)
    reassignment.impact = impact.to_json()
    reassignment.impact_hash = impact.covered_hash()
    reassignment.stale_difference = None
    reassignment.round += 1
    reassignment.submit(by=by, description=reassignment.reason[:200])
    reassignment.save()
    notices_queue(reassignment, impact)
    try:
        tasks = approval_round_open(reassignment=reassignment, facts=impact.facts, on=_today())
    except ApprovalError as exc:
        raise ReassignmentError(exc.message) from exc
    reassignment_notify(event="submitted", reassignment=reassignment, actor=by)
    if not tasks:
        reassignment.approve(by=None, description="No approval needed under the organisation's policies")
        reassignment.save()
        reassignment_notify(event="approved", reassignment=reassignment)
        _schedule(reassignment)
    return reassignment


@transaction.atomic
def reassignment_decide(*, by, reassignment: Reassignment, decision: str, comment: str = "") -> Reassignment:
    """``by`` approves, rejects or requests changes on a submitted proposal, when a task in the
    active step waits for them (``planning.approvals.services.approval_decide`` checks and locks
    the tasks; the proposal's row is locked first, so two approvers are serialised). The last
    approval approves and schedules the proposal; a rejection ends it; a request for changes
    sends it back to its initiator."""
    reassignment = _locked(reassignment)
    comment = (comment or "").strip()
    if len(comment) > REASON_MAX:
        raise ReassignmentError.one("comment", f"A comment of at most {REASON_MAX} characters.")
    try:
        outcome = approval_decide(reassignment=reassignment, by=by, decision=decision, comment=comment)
    except ApprovalError as exc:
        raise ReassignmentError(exc.message) from exc
    if outcome == Outcome.PENDING:
        reassignment_notify(event="decided", reassignment=reassignment, actor=by)
    elif outcome == Outcome.APPROVED:
        reassignment.approve(by=by, description=comment)
        reassignment.save()
        reassignment_notify(event="approved", reassignment=reassignment, actor=by)
        _schedule(reassignment)
    elif outcome == Outcome.REJECTED:
        reassignment.reject(by=by, description=comment)
        reassignment.save()
        reassignment.notices.filter(status=CustomerNotice.Status.QUEUED).update(status=CustomerNotice.Status.CANCELLED)
        reassignment_notify(event="rejected", reassignment=reassignment, actor=by)
    elif outcome == Outcome.CHANGES_REQUESTED:
        reassignment.request_changes(by=by, description=comment)
        reassignment.save()
        reassignment_notify(event="changes_requested", reassignment=reassignment, actor=by)
    return reassignment


# --- execution and the daily run -------------------------------------------------------------------


def reassignment_execute(*, reassignment_id: int, today: dt.date | None = None) -> ExecuteResult:
    """Executes one scheduled proposal on (or after) its effective date: all or nothing,
    idempotent, resumable; a stale one goes back for re-approval (``planning.reassignments.execute``)."""
    return execute_one(reassignment_id=reassignment_id, today=today)


__all__ = [
    "customer_notices_send_due",
    "notice_context",
    "reassignment_decide",
    "reassignment_deal_decisions_set",
    "reassignment_execute",
    "reassignment_propose",
    "reassignment_submit",
    "reassignment_update",
    "reassignment_withdraw",
    "reassignments_execute_due",
]
