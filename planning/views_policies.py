"""The approval policy pages (sales ops admins only): the policies in the order they are tried,
and one policy's page where its kinds, condition and ordered steps are edited and saved at once
(over htmx, or as a plain form post)."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from planning.approvals.conditions import condition_describe
from planning.approvals.policies import (
    PolicyError,
    approval_policy_create,
    approval_policy_delete,
    approval_policy_move,
    approval_policy_save,
)
from planning.forms_policies import (
    OPERATORS,
    ConditionRows,
    StepRow,
    fact_choices,
    policy_from_post,
    step_rows,
    value_hint,
)
from planning.models import ApprovalPolicy, ApprovalPolicyStep, Reassignment, Subject
from salesos.http import HtmxHttpRequest
from salesos.models import SalesProfile
from salesos.roles import is_admin

User = get_user_model()


def _admin_only(request: HtmxHttpRequest) -> None:
    if not is_admin(request.user):
        raise Http404


def _policies() -> list[dict]:
    rows = []
    for policy in ApprovalPolicy.objects.prefetch_related("steps__user").order_by("subject", "order", "name"):
        kinds = dict(Reassignment.Kind.choices)
        rows.append(
            {
                "policy": policy,
                "kinds": [kinds.get(k, k) for k in policy.kinds],
                "condition": condition_describe(policy.condition),
                "steps": [(s, condition_describe(s.condition)) for s in policy.steps.all()],
            }
        )
    return rows


@login_required
@require_GET
def policies(request: HtmxHttpRequest) -> HttpResponse:
    _admin_only(request)
    return render(request, "planning/approvals/policies.html", {"rows": _policies(), "subjects": Subject.choices})


@login_required
@require_POST
def policy_create(request: HtmxHttpRequest) -> HttpResponse:
    _admin_only(request)
    try:
        policy = approval_policy_create(
            by=request.user, name=request.POST.get("name", ""), subject=request.POST.get("subject", "")
        )
    except PolicyError as exc:
        context = {
            "rows": _policies(),
            "subjects": Subject.choices,
            "create_errors": exc.messages,
            "create_name": request.POST.get("name", "")[:200],
        }
        return render(request, "planning/approvals/policies.html", context, status=400)
    messages.success(request, f"Policy “{policy.name}” created. Add its steps, then switch it on.")
    return redirect("approvals:policy", pk=policy.pk)


def _approvers():
    return User.objects.filter(
        is_active=True,
        sales_profile__role__in=[SalesProfile.Role.ADMIN, SalesProfile.Role.DIRECTOR, SalesProfile.Role.MANAGER],
    ).order_by("first_name", "last_name", "username")


def _edit_context(policy: ApprovalPolicy, **extra) -> dict:
    context = {
        "policy": policy,
        "kinds": Reassignment.Kind.choices,
        "relations": ApprovalPolicyStep.Relation.choices,
        "modes": ApprovalPolicyStep.Mode.choices,
        "facts": fact_choices(),
        "operators": OPERATORS,
        "value_hint": value_hint(),
        "approvers": _approvers(),
        "is_reassignment": policy.subject == Subject.REASSIGNMENT,
    }
    context.update(extra)
    defaults = {
        "selected_kinds": lambda: policy.kinds,
        "policy_condition": lambda: ConditionRows.of("pc", policy.condition),
        "steps": lambda: step_rows(policy),
        "errors": dict,
        "form": lambda: {
            "name": policy.name,
            "description": policy.description,
            "is_active": policy.is_active,
            "allow_admin_self_approval": policy.allow_admin_self_approval,
        },
    }
    for key, make in defaults.items():
        if key not in context:
            context[key] = make()
    return context


@login_required
@require_http_methods(["GET", "POST"])
def policy_edit(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    _admin_only(request)
    policy = get_object_or_404(ApprovalPolicy, pk=pk)
    template = "planning/approvals/policy.html#editor" if request.htmx else "planning/approvals/policy.html"
    if request.method == "GET":
        return render(request, "planning/approvals/policy.html", _edit_context(policy))
    data, rows = policy_from_post(request.POST)
    if request.POST.get("add_step"):
        rows.append(StepRow(key=uuid.uuid4().hex[:8]))
        rows[-1].condition.prefix = f"s-{rows[-1].key}-c"
    saved = False
    errors: dict[str, list[str]] = {}
    if not request.POST.get("add_step"):
        try:
            policy = approval_policy_save(by=request.user, policy=policy, data=data)
            saved = True
        except PolicyError as exc:
            errors = exc.messages
    if saved and not request.htmx:
        messages.success(request, f"Policy “{policy.name}” saved.")
        return redirect("approvals:policy", pk=policy.pk)
    if saved:
        return render(request, template, _edit_context(policy, saved=True))
    for number, row in enumerate(rows, 1):
        row.errors = errors.get(f"step-{number}", [])
    context = _edit_context(
        policy,
        selected_kinds=data.kinds,
        policy_condition=ConditionRows.of("pc", data.condition if "invalid" not in data.condition else {}),
        steps=rows,
        errors=errors,
        form={
            "name": data.name,
            "description": data.description,
            "is_active": data.is_active,
            "allow_admin_self_approval": data.allow_admin_self_approval,
        },
    )
    status = 400 if errors else 200
    return render(request, template, context, status=200 if request.htmx else status)


@login_required
@require_GET
def policy_step_row(request: HtmxHttpRequest) -> HttpResponse:
    """A blank step for the editor (htmx adds it at the end of the steps)."""
    _admin_only(request)
    row = StepRow(key=uuid.uuid4().hex[:8])
    row.condition = ConditionRows.of(f"s-{row.key}-c", None)
    context = _edit_context(ApprovalPolicy(name=""), steps=[])
    context["step"] = row
    return render(request, "planning/approvals/policy.html#step", context)


@login_required
@require_POST
def policy_move(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    _admin_only(request)
    policy = get_object_or_404(ApprovalPolicy, pk=pk)
    try:
        approval_policy_move(by=request.user, policy=policy, direction=request.POST.get("direction", ""))
    except PolicyError as exc:
        messages.error(request, str(exc))
    if request.htmx:
        return render(request, "planning/approvals/policies.html#list", {"rows": _policies()})
    return redirect("approvals:policies")


@login_required
@require_POST
def policy_delete(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    _admin_only(request)
    policy = get_object_or_404(ApprovalPolicy, pk=pk)
    try:
        approval_policy_delete(by=request.user, policy=policy)
    except PolicyError as exc:
        messages.error(request, str(exc))
        return redirect("approvals:policy", pk=policy.pk)
    messages.success(request, f"Policy “{policy.name}” deleted.")
    return redirect("approvals:policies")
