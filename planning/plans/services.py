"""The plan lifecycle's writes: share a draft, submit it for review through the approval engine
(a "plan" policy), decide on it, comment on its territories, send it back to draft, and schedule
its activation. Each is keyword-only, atomic and takes the plan's row lock; each transition is
logged with who and why (``TerritoryPlan``'s state machine). Activation is ``activate.py``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from planning.approvals.errors import ApprovalError
from planning.approvals.resolve import ApprovalFacts
from planning.approvals.services import Outcome, approval_decide, approval_round_close, approval_round_open
from planning.models import ApprovalPolicy, ApprovalPolicyStep, PlanComment, Subject
from planning.plans.checks import plan_problems
from planning.plans.errors import PlanError
from salesos.models import SalesProfile
from salesos.roles import opens_any_plan, role_of
from territories.models import Territory, TerritoryPlan

User = get_user_model()
Status = TerritoryPlan.Status
COMMENT_MAX = 2000


def _locked(plan: TerritoryPlan) -> TerritoryPlan:
    return TerritoryPlan.objects.select_for_update().get(pk=plan.pk)


def _save(plan: TerritoryPlan, *fields: str) -> None:
    # Only the lifecycle's own fields: the version stamp moves on its own (``plan_touch``).
    plan.save(update_fields=["status", *fields])


def _refuse_unless_planner(by) -> None:
    if not opens_any_plan(by):
        raise PlanError("Only sales ops admins and directors manage plans.")


@transaction.atomic
def plan_share(*, plan: TerritoryPlan, user_ids: Iterable[int], by) -> list[int]:
    """Sets the managers a draft is shared with (admins and directors open every plan; reps never
    open a draft). Returns the ids shared with. Anyone who is not a manager is refused."""
    _refuse_unless_planner(by)
    plan = _locked(plan)
    if plan.status not in (Status.DRAFT, Status.REVIEW):
        raise PlanError(f"{plan.name} is {plan.get_status_display().lower()}: only drafts and plans in review "
                        "are shared.")
    wanted = {int(pk) for pk in user_ids}
    managers = set(SalesProfile.objects.filter(user_id__in=wanted, role=SalesProfile.Role.MANAGER,
                                               user__is_active=True).values_list("user_id", flat=True))
    if wanted - managers:
        raise PlanError("Drafts are shared with managers only (admins and directors see every plan).")
    plan.shared_with.set(sorted(managers))
    return sorted(managers)


DEFAULT_POLICY = "Default: a sales ops admin approves the plan"


def plan_policy_ensure() -> None:
    """The organisation's first plan review creates the default "plan" policy when there is none
    (active or not): a sales ops admin approves, the submitting admin included, as the annual plan is
    the sales ops team's own work. Edit it on the policies page to ask someone else."""
    if ApprovalPolicy.objects.filter(subject=Subject.PLAN).exists():
        return
    policy = ApprovalPolicy.objects.create(
        name=DEFAULT_POLICY, subject=Subject.PLAN, order=1000, allow_admin_self_approval=True,
        description="Any sales ops admin approves a plan submitted for review.")
    ApprovalPolicyStep.objects.create(policy=policy, order=1, name="Sales ops admin",
                                      relation=ApprovalPolicyStep.Relation.ANY_ADMIN,
                                      mode=ApprovalPolicyStep.Mode.ANY)


def _facts(plan: TerritoryPlan, by) -> ApprovalFacts:
    territories = frozenset(Territory.objects.filter(plan=plan).values_list("pk", flat=True))
    return ApprovalFacts(kind="plan", initiator_id=by.pk, initiator_role=role_of(by) or "",
                         giving_territory_ids=frozenset(), receiving_territory_ids=territories,
                         moved_accounts=0, moved_deals=0, moved_pipeline=Decimal(0))


@transaction.atomic
def plan_submit(*, plan: TerritoryPlan, by, note: str = "", on: dt.date | None = None) -> TerritoryPlan:
    """Draft -> review: the plan is locked against edits and an approval round opens under the
    first "plan" policy that applies. When nothing needs approving it is staged at once."""
    _refuse_unless_planner(by)
    plan = _locked(plan)
    if not plan.is_draft:
        raise PlanError(f"{plan.name} is {plan.get_status_display().lower()}: only a draft is submitted for review.")
    plan.submit(by=by, description=note.strip()[:500] or "Submitted for review")
    _save(plan, "approved_at")
    plan_policy_ensure()
    try:
        tasks = approval_round_open(plan=plan, facts=_facts(plan, by), on=on or timezone.localdate())
    except ApprovalError as exc:
        raise PlanError(str(exc)) from None
    if not tasks:
        plan.stage(by=by, description="No approval needed under the plan policies")
        _save(plan, "approved_at")
    return plan


@transaction.atomic
def plan_decide(*, plan: TerritoryPlan, by, decision: str, comment: str = "") -> TerritoryPlan:
    """An approver's decision on a plan in review: approve (the last approval stages the plan),
    reject or request changes (either sends it back to draft). ``ApprovalError`` when it is not
    their turn."""
    plan = _locked(plan)
    if not plan.is_in_review:
        raise PlanError(f"{plan.name} is {plan.get_status_display().lower()}: there is nothing to decide.")
    try:
        outcome = approval_decide(plan=plan, by=by, decision=decision, comment=comment)
    except ApprovalError as exc:
        raise PlanError(str(exc)) from None
    if outcome == Outcome.APPROVED:
        plan.stage(by=by, description=comment.strip()[:500] or "Approved")
        _save(plan, "approved_at")
    elif outcome in (Outcome.REJECTED, Outcome.CHANGES_REQUESTED):
        word = "Rejected" if outcome == Outcome.REJECTED else "Changes requested"
        plan.back_to_draft(by=by, description=f"{word}: {comment.strip()}"[:500] if comment.strip() else word)
        _save(plan, "approved_at", "activation_date")
    return plan


@transaction.atomic
def plan_back_to_draft(*, plan: TerritoryPlan, by, reason: str = "") -> TerritoryPlan:
    """Review or staged -> draft (to edit it again); its waiting approvals close."""
    _refuse_unless_planner(by)
    plan = _locked(plan)
    if not plan.is_locked:
        raise PlanError(f"{plan.name} is {plan.get_status_display().lower()}: only a plan in review or staged "
                        "goes back to draft.")
    plan.back_to_draft(by=by, description=reason.strip()[:500] or "Back to draft")
    _save(plan, "approved_at", "activation_date")
    approval_round_close(plan=plan)
    return plan


@transaction.atomic
def plan_comment(*, plan: TerritoryPlan, by, text: str, territory: Territory | None = None) -> PlanComment:
    """A review comment on the plan or on one of its territories, while it is a draft or in review."""
    if plan.status not in TerritoryPlan.SHAREABLE:
        raise PlanError(f"{plan.name} is {plan.get_status_display().lower()}: review comments are for drafts and "
                        "plans in review.")
    text = (text or "").strip()
    if not text:
        raise PlanError("Write a comment first.")
    if len(text) > COMMENT_MAX:
        raise PlanError(f"A comment has at most {COMMENT_MAX} characters.")
    if territory is not None and territory.plan_id != plan.pk:
        raise PlanError("That territory is not in this plan.")
    return PlanComment.objects.create(plan=plan, territory=territory, author=by, text=text)


def scheduled_elsewhere(plan: TerritoryPlan) -> TerritoryPlan | None:
    """Another plan already waiting to become active (staged with a date)."""
    return (TerritoryPlan.objects.filter(status=Status.STAGED, activation_date__isnull=False)
            .exclude(pk=plan.pk).order_by("activation_date").first())


@transaction.atomic
def plan_schedule(*, plan: TerritoryPlan, on: dt.date, by, confirm: bool = False) -> TerritoryPlan:
    """Sets the day a staged plan becomes active (the daily run activates it). Refused: a plan not
    staged, a day before its approval, while another plan is already scheduled (two plans cannot
    become active at once), or a plan with problems (``checks.plan_problems`` on that day) unless
    ``confirm``: scheduling with them confirmed is what lets the daily run activate it."""
    _refuse_unless_planner(by)
    plan = _locked(plan)
    if not plan.is_staged:
        raise PlanError(f"{plan.name} is {plan.get_status_display().lower()}: only a staged plan is scheduled.")
    approved = timezone.localdate(plan.approved_at) if plan.approved_at else None
    if approved is None or on < approved:
        raise PlanError(f"{on:%d %b %Y} is before {plan.name} was approved"
                        f"{f' ({approved:%d %b %Y})' if approved else ''}: choose that day or later.")
    other = scheduled_elsewhere(plan)
    if other is not None:
        raise PlanError(f"{other.name} is already scheduled to become active on {other.activation_date:%d %b %Y}: "
                        "only one plan can become active at a time. Unschedule it first.")
    problems = plan_problems(plan=plan, on=on)
    if problems and not confirm:
        raise PlanError(f"{plan.name} has {len(problems)} problem(s): " + "; ".join(p.message for p in problems[:5])
                        + (" …" if len(problems) > 5 else "") + " Confirm to schedule it anyway.")
    plan.activation_date = on
    plan.save(update_fields=["activation_date"])
    return plan


@transaction.atomic
def plan_unschedule(*, plan: TerritoryPlan, by) -> TerritoryPlan:
    """Takes a staged plan's activation day away (it stays staged)."""
    _refuse_unless_planner(by)
    plan = _locked(plan)
    if not plan.is_staged or plan.activation_date is None:
        raise PlanError(f"{plan.name} is not scheduled to become active.")
    plan.activation_date = None
    plan.save(update_fields=["activation_date"])
    return plan
