"""The plan pages' reads: who may open a plan's page, and the page itself (status, what may be done
next, the approval round, review comments, problems before activation, and the timeline of every
transition, decision and comment)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Q
from django.http import Http404
from django.utils import timezone
from django_fsm_log.models import StateLog

from planning.approvals.services import active_step
from planning.models import ApprovalTask, PlanComment
from planning.plans.activate import grace_days, reactivatable
from planning.plans.checks import Problem, plan_problems
from planning.plans.clone import copy_name_suggest
from salesos.models import SalesProfile
from salesos.roles import opens_any_plan, role_of
from territories.access import sees_everything, territories_for_user
from territories.models import Territory, TerritoryPlan

User = get_user_model()


def may_open_plan_page(user, plan: TerritoryPlan) -> bool:
    """Admins and directors open every plan's page; a manager the drafts shared with them."""
    if opens_any_plan(user):
        return True
    return (role_of(user) == SalesProfile.Role.MANAGER and plan.status in TerritoryPlan.SHAREABLE
            and plan.shared_with.filter(pk=user.pk).exists())


def plan_get_for_user(*, user, pk: int) -> TerritoryPlan:
    plan = TerritoryPlan.objects.select_related("fiscal_year", "source_plan", "created_by").filter(pk=pk).first()
    if plan is None or not user.is_authenticated or not may_open_plan_page(user, plan):
        raise Http404("No such plan")
    return plan


@dataclass(frozen=True)
class Event:
    kind: str  # created | transition | decision | comment
    what: str
    at: dt.datetime
    who: Any = None
    comment: str = ""


@dataclass
class PlanPage:
    plan: TerritoryPlan
    manages: bool  # admins and directors: copy, share, submit, stage, schedule
    timeline: list[Event]
    tasks: list[ApprovalTask]
    my_task: ApprovalTask | None
    comments: list[PlanComment]
    territories: list[Territory]  # what the user may comment on
    problems: list[Problem] = field(default_factory=list)
    problem_day: dt.date | None = None
    managers: list[tuple[Any, bool]] = field(default_factory=list)  # (user, shared) for the share form
    copy_name: str = ""
    fiscal_start: dt.date | None = None
    reactivatable: bool = False
    grace_days: int = 0


def _timeline(plan: TerritoryPlan, tasks: list[ApprovalTask], comments: list[PlanComment]) -> list[Event]:
    events = [Event("created", f"Copied from {plan.source_plan.name}" if plan.source_plan else "Created",
                    plan.created_at, plan.created_by)]
    labels = dict(TerritoryPlan.Status.choices)
    for log in StateLog.objects.for_(plan).select_related("by").order_by("timestamp", "pk"):
        events.append(Event("transition", f"{labels.get(log.source_state, log.source_state)} → "
                                          f"{labels.get(log.state, log.state)}", log.timestamp, log.by,
                            log.description or ""))
    for task in tasks:
        if task.decided_at and task.status != ApprovalTask.Status.SUPERSEDED:
            events.append(Event("decision", f"{task.get_status_display()} ({task.step_name})", task.decided_at,
                                task.approver, task.comment))
    for note in comments:
        about = f" on {note.territory.code} {note.territory.name}" if note.territory else ""
        events.append(Event("comment", f"Comment{about}", note.created_at, note.author, note.text))
    return sorted(events, key=lambda e: e.at)


def plan_page(*, user, plan: TerritoryPlan, today: dt.date | None = None) -> PlanPage:
    today = today or timezone.localdate()
    visible = territories_for_user(user=user, plan=plan)
    tasks = list(ApprovalTask.objects.filter(plan=plan).select_related("approver").order_by("round", "step_order"))
    latest = max((t.round for t in tasks), default=None)
    current = [t for t in tasks if t.round == latest]
    mine = next((t for t in active_step(current) if t.approver_id == user.pk
                 and t.status == ApprovalTask.Status.WAITING), None) if plan.is_in_review else None
    comments = list(PlanComment.objects.filter(plan=plan).filter(Q(territory__isnull=True) | Q(territory__in=visible))
                    .select_related("author", "territory"))
    manages = opens_any_plan(user)
    page = PlanPage(plan=plan, manages=manages, timeline=_timeline(plan, tasks, comments), tasks=current,
                    my_task=mine, comments=comments, territories=list(visible.order_by("code").only("pk", "code",
                                                                                                    "name")))
    if manages:
        if plan.status in (TerritoryPlan.Status.DRAFT, TerritoryPlan.Status.REVIEW, TerritoryPlan.Status.STAGED):
            page.problem_day = plan.activation_date or _fiscal_start(plan, today) or today
            problems = plan_problems(plan=plan, on=page.problem_day)
            if not sees_everything(user):  # a director's own subtrees only
                seen = {t.pk for t in page.territories}
                problems = [p for p in problems if p.territory_id in seen]
            page.problems = problems
        if plan.status in TerritoryPlan.SHAREABLE:
            shared = set(plan.shared_with.values_list("pk", flat=True))
            people = User.objects.filter(sales_profile__role=SalesProfile.Role.MANAGER, is_active=True) \
                .order_by("first_name", "last_name", "username")
            page.managers = [(person, person.pk in shared) for person in people]
        page.copy_name = copy_name_suggest(plan)
        page.fiscal_start = _fiscal_start(plan, today)
        page.reactivatable = reactivatable(plan, today=today)
        page.grace_days = grace_days()
    return page


def _fiscal_start(plan: TerritoryPlan, today: dt.date) -> dt.date | None:
    """The plan's fiscal year's first day, when it is still ahead."""
    start = plan.fiscal_year.start_date if plan.fiscal_year_id and plan.fiscal_year else None
    return start if start is not None and start >= today else None
