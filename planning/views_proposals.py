"""The proposal pages: the list of proposals, a proposal's page (its change, impact snapshot,
approval steps and timeline), the plan's log of executed mid-year changes, and the organisation's
reassignment settings (admins). Views parse, authorise, make one service or selector call and
render."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template import TemplateDoesNotExist, TemplateSyntaxError
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRedirect

from planning import services
from planning.forms_proposals import MidYearFilterForm, NoticePreviewForm, ProposalFilterForm, ReassignmentSettingsForm
from planning.models import ReassignmentSettings
from planning.reassignments import services as reassignment_services
from planning.reassignments.access import reassignment_get_for_user
from planning.reassignments.errors import ReassignmentError
from planning.reassignments.notices import VARIABLES, notice_sample
from planning.reassignments.selectors import (
    approval_steps,
    change_lines,
    mid_year_changes,
    mid_year_rows,
    reassignment_detail,
    reassignments_list,
)
from salesos.http import HtmxHttpRequest
from salesos.roles import is_admin
from territories.access import territories_for_user
from territories.models import TerritoryPlan

PAGE_SIZE = 25


def _admin_only(request: HttpRequest) -> None:
    if not is_admin(request.user):
        raise Http404


@require_GET
@login_required
def proposal_list(request: HtmxHttpRequest) -> HttpResponse:
    """Mine (default), my team's and my territories' (everything the user may see), or all
    (admins); filtered by status, kind and title."""
    form = ProposalFilterForm(request.GET)
    data = form.cleaned_data if form.is_valid() else {}
    scope = data.get("scope") or "mine"
    if scope == "all" and not is_admin(request.user):
        scope = "team"
    proposals = reassignments_list(
        request.user, scope=scope, status=data.get("status", ""), kind=data.get("kind", ""), q=data.get("q", "")
    )
    page = Paginator(proposals, PAGE_SIZE).get_page(request.GET.get("page"))
    extra = request.GET.copy()
    extra.pop("page", None)
    context = {
        "page": page,
        "form": form,
        "scope": scope,
        "scopes": [("mine", "Mine"), ("team", "My team's and territories'")]
        + ([("all", "All")] if is_admin(request.user) else []),
        "extra": extra.urlencode(),
        "filtered": any(data.get(k) for k in ("status", "kind", "q")),
    }
    template = "planning/proposals/list.html#results" if request.htmx else "planning/proposals/list.html"
    return render(request, template, context)


@require_GET
@login_required
def proposal_detail(request: HttpRequest, pk: int) -> HttpResponse:
    detail = reassignment_detail(request.user, pk)
    r = detail.reassignment
    context = {
        "detail": detail,
        "r": r,
        "steps": approval_steps(detail.tasks, r.round),
        "change_lines": change_lines(r),
        "moves": r.moves.count(),
    }
    return render(request, "planning/proposals/detail.html", context)


@require_GET
@login_required
def changes_log(request: HttpRequest) -> HttpResponse:
    """The active plan's executed mid-year changes, filterable by effective date and territory."""
    plan = TerritoryPlan.active()
    territories = list(territories_for_user(user=request.user, plan=plan).order_by("code")) if plan else []
    form = MidYearFilterForm(request.GET)
    changes: list = []
    territory = None
    if form.is_valid() and plan is not None:
        pk = form.cleaned_data.get("territory")
        if pk:
            territory = next((t for t in territories if t.pk == pk), None)
            if territory is None:
                form.add_error(None, "Choose one of your territories.")
        if form.is_valid():
            changes = mid_year_rows(mid_year_changes(
                plan, request.user, form.cleaned_data.get("date_from"), form.cleaned_data.get("date_to"), territory
            ))
    context = {"plan": plan, "form": form, "changes": changes, "territories": territories, "territory": territory}
    return render(request, "planning/proposals/changes.html", context, status=200 if form.is_valid() else 400)


def _settings_page(request: HttpRequest, form: ReassignmentSettingsForm, status: int = 200) -> HttpResponse:
    return render(
        request,
        "planning/proposals/settings.html",
        {"form": form, "variables": VARIABLES, "preview": _preview(form.data or form.initial)},
        status=status,
    )


def _preview(data) -> dict:
    """The notice as a customer would read it, with sample values; or the template's error."""
    subject, body = data.get("notice_subject", ""), data.get("notice_body", "")
    try:
        notice = notice_sample(subject=subject, body=body, on=timezone.localdate())
    except (TemplateSyntaxError, TemplateDoesNotExist) as exc:
        return {"error": f"The template does not render: {exc}"}
    return {"subject": notice.subject, "body": notice.body}


@require_GET
@login_required
def settings_page(request: HttpRequest) -> HttpResponse:
    _admin_only(request)
    return _settings_page(request, ReassignmentSettingsForm.for_settings(ReassignmentSettings.load()))


@require_POST
@login_required
def settings_save(request: HtmxHttpRequest) -> HttpResponse:
    _admin_only(request)
    form = ReassignmentSettingsForm(request.POST)
    if form.is_valid():
        try:
            services.reassignment_settings_update(**form.cleaned_data)
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            messages.success(request, "Reassignment settings saved.")
            if request.htmx:
                return HttpResponseClientRedirect(request.path)
            return redirect("planning:proposal_settings")
    return _settings_page(request, form, status=400)


@require_POST
@login_required
def settings_preview(request: HttpRequest) -> HttpResponse:
    """The notice rendered from the posted (unsaved) template: the settings page's live preview."""
    _admin_only(request)
    form = NoticePreviewForm(request.POST)
    data = form.cleaned_data if form.is_valid() else {}
    return render(request, "planning/proposals/settings.html#preview", {"preview": _preview(data)})



def _act(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """Submit or withdraw, then back to the proposal's page with what happened (a refused action
    says why and changes nothing)."""
    reassignment = reassignment_get_for_user(request.user, pk)
    try:
        if action == "submit":
            reassignment_services.reassignment_submit(by=request.user, reassignment=reassignment)
            messages.success(request, "Submitted: the approvers have been asked.")
        else:
            reassignment_services.reassignment_withdraw(
                by=request.user, reassignment=reassignment, comment=request.POST.get("comment", "")[:1000]
            )
            messages.success(request, "Withdrawn: nothing will change.")
    except ReassignmentError as exc:
        for texts in exc.messages.values():
            for text in texts:
                messages.error(request, text)
    return redirect("planning:proposal", pk=pk)


@require_POST
@login_required
def proposal_submit(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(request, pk, "submit")


@require_POST
@login_required
def proposal_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(request, pk, "withdraw")
