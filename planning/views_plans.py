"""The plan pages: a plan's page with its timeline, and the lifecycle's actions (copy into a new
draft, share, submit for review, decide, comment, back to draft, schedule activation, re-activate).
Each action parses, authorises (``plan_get_for_user``; the services refuse what the role may not
do), calls one service and goes back to the plan's page with a message."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST
from django_q.tasks import async_task

from planning.plans import services
from planning.plans.activate import reactivatable
from planning.plans.clone import plan_copy
from planning.plans.errors import PlanError
from planning.plans.selectors import plan_get_for_user, plan_page
from salesos.roles import opens_any_plan
from territories.access import territories_for_user

TEXT_MAX = 2000


def _planner(request: HttpRequest) -> None:
    if not opens_any_plan(request.user):
        raise Http404


def _back(plan_pk: int) -> HttpResponse:
    return redirect("planning:plan", plan_pk)


@require_GET
@login_required
def plan_detail(request: HttpRequest, pk: int) -> HttpResponse:
    plan = plan_get_for_user(user=request.user, pk=pk)
    return render(request, "planning/plan.html", {"page": plan_page(user=request.user, plan=plan)})


@require_POST
@login_required
def plan_copy_view(request: HttpRequest, pk: int) -> HttpResponse:
    source = plan_get_for_user(user=request.user, pk=pk)
    _planner(request)
    try:
        copy = plan_copy(source=source, name=request.POST.get("name", "")[:200], by=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return _back(source.pk)
    messages.success(request, f"{copy.name} is a new draft copied from {source.name}. Edit its territories, "
                              "rules and reps, then submit it for review.")
    return _back(copy.pk)


def _act(request: HttpRequest, pk: int, action, done: str, *, back_to_inbox: bool = False) -> HttpResponse:
    plan = plan_get_for_user(user=request.user, pk=pk)
    try:
        action(plan)
    except PlanError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, done.format(plan=plan.name))
    return redirect("approvals:inbox") if back_to_inbox else _back(plan.pk)


@require_POST
@login_required
def plan_share(request: HttpRequest, pk: int) -> HttpResponse:
    _planner(request)
    ids = [v for v in request.POST.getlist("managers") if v.isdigit()]
    if len(ids) != len(request.POST.getlist("managers")):
        plan = plan_get_for_user(user=request.user, pk=pk)
        messages.error(request, "Choose managers from the list.")
        return _back(plan.pk)
    return _act(request, pk, lambda plan: services.plan_share(plan=plan, user_ids=[int(v) for v in ids],
                                                              by=request.user), "Sharing of {plan} saved.")


@require_POST
@login_required
def plan_submit(request: HttpRequest, pk: int) -> HttpResponse:
    _planner(request)
    note = request.POST.get("note", "")[:TEXT_MAX]
    return _act(request, pk, lambda plan: services.plan_submit(plan=plan, by=request.user, note=note),
                "{plan} is submitted for review: it is locked against edits until it is decided.")


@require_POST
@login_required
def plan_decide(request: HttpRequest, pk: int) -> HttpResponse:
    decision, comment = request.POST.get("decision", ""), request.POST.get("comment", "")[:TEXT_MAX]
    if decision not in ("approve", "reject", "request_changes"):
        plan = plan_get_for_user(user=request.user, pk=pk)
        messages.error(request, "Choose approve, reject or request changes.")
        return _back(plan.pk)
    return _act(request, pk, lambda plan: services.plan_decide(plan=plan, by=request.user, decision=decision,
                                                               comment=comment), "Your decision on {plan} is recorded.",
                back_to_inbox=request.POST.get("back") == "inbox")


@require_POST
@login_required
def plan_back_to_draft(request: HttpRequest, pk: int) -> HttpResponse:
    _planner(request)
    reason = request.POST.get("reason", "")[:TEXT_MAX]
    return _act(request, pk, lambda plan: services.plan_back_to_draft(plan=plan, by=request.user, reason=reason),
                "{plan} is a draft again: edit it, then submit it for review again.")


@require_POST
@login_required
def plan_comment(request: HttpRequest, pk: int) -> HttpResponse:
    plan = plan_get_for_user(user=request.user, pk=pk)
    territory = None
    raw = request.POST.get("territory", "")
    if raw:
        territory = territories_for_user(user=request.user, plan=plan).filter(pk=raw).first() if raw.isdigit() \
            else None
        if territory is None:
            messages.error(request, "Choose a territory of this plan from the list.")
            return _back(plan.pk)
    return _act(request, pk, lambda p: services.plan_comment(plan=p, by=request.user, territory=territory,
                                                             text=request.POST.get("text", "")), "Comment added.")


def _day(raw: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        return None


@require_POST
@login_required
def plan_schedule(request: HttpRequest, pk: int) -> HttpResponse:
    _planner(request)
    on = _day(request.POST.get("on", ""))
    if on is None:
        plan = plan_get_for_user(user=request.user, pk=pk)
        messages.error(request, "Give the activation day as a date (YYYY-MM-DD).")
        return _back(plan.pk)
    confirm = request.POST.get("confirm") == "1"
    return _act(request, pk, lambda plan: services.plan_schedule(plan=plan, on=on, by=request.user, confirm=confirm),
                f"{{plan}} will become active on {on:%d %b %Y} (the daily run activates it on that day).")


@require_POST
@login_required
def plan_unschedule(request: HttpRequest, pk: int) -> HttpResponse:
    _planner(request)
    return _act(request, pk, lambda plan: services.plan_unschedule(plan=plan, by=request.user),
                "{plan} is no longer scheduled; it stays staged.")


@require_POST
@login_required
def plan_reactivate(request: HttpRequest, pk: int) -> HttpResponse:
    """Re-activation runs as a task (it re-routes every account); the page says it has started."""
    plan = plan_get_for_user(user=request.user, pk=pk)
    _planner(request)
    today = timezone.localdate()
    if not reactivatable(plan, today=today):
        messages.error(request, f"{plan.name} can no longer be re-activated.")
        return _back(plan.pk)
    by = request.user.pk
    transaction.on_commit(lambda: async_task("planning.tasks.plan_activate_task", plan.pk, today.isoformat(), by))
    messages.success(request, f"Re-activating {plan.name}: every account is routed through it again. "
                              "The notification bell says when it is done.")
    return _back(plan.pk)
