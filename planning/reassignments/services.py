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
from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.utils import timezone

from planning.models import DealPolicy, Reassignment, ReassignmentSettings
from planning.reassignments.access import may_propose
from planning.reassignments.changes import change_validate
from planning.reassignments.errors import ReassignmentError
from salesos.models import Opportunity
from salesos.roles import is_admin
from territories.models import TerritoryPlan

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
    return reassignment


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
    reassignment.notices.filter(status="queued").update(status="cancelled")
