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
from planning.forms_proposals import (
    MidYearFilterForm,
    NoticePreviewForm,
    ProposalFilterForm,
    ProposeMoveForm,
    ReassignmentSettingsForm,
)
from planning.models import Reassignment, ReassignmentSettings
from planning.reassignments import services as reassignment_services
from planning.reassignments.access import may_propose, proposable_territories, reassignment_get_for_user
from planning.reassignments.errors import ReassignmentError
from planning.reassignments.impact import reassignment_impact
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
from territories.access import account_get_for_user, territories_for_user
from territories.models import TerritoryPlan
from territories.placement import accounts_in, placement

PAGE_SIZE = 25
ACCOUNTS_SHOWN = 200  # the propose form lists at most this many of a territory's accounts (filter for more)


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
        # A draft has no snapshot yet: its initiator sees what it would do if executed now.
        "preview": reassignment_impact(reassignment=r).to_json()
        if detail.impact is None and detail.may_edit else None,
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


def _propose_source(request: HttpRequest, plan: TerritoryPlan | None, proposable):
    """The territory the accounts leave and the single account asked for (if any), from
    ``?territory=`` or ``?account=``: both must be the user's to change, otherwise 404."""
    raw_t, raw_a = request.GET.get("territory", ""), request.GET.get("account", "")
    account = None
    if raw_a:
        if not raw_a.isdigit() or len(raw_a) > 11:
            raise Http404
        account = account_get_for_user(user=request.user, pk=int(raw_a))
        where = placement(account, plan=plan).territory
        territory_id = where.pk if where else None
    elif raw_t:
        if not raw_t.isdigit() or len(raw_t) > 11:
            raise Http404
        territory_id = int(raw_t)
    else:
        return None, None
    territory = proposable.filter(pk=territory_id).first() if territory_id else None
    if territory is None or plan is None:
        raise Http404
    return territory, account


@login_required
def proposal_new(request: HttpRequest) -> HttpResponse:
    """"Propose a move": accounts of one of the user's territories (or one account) to another
    territory they may change; a draft on the active plan, then its page (impact, submit).
    Without ?territory= the page lists the territories to start from."""
    if request.method not in ("GET", "POST"):
        return HttpResponse(status=405)
    if not may_propose(request.user):
        raise Http404
    plan = TerritoryPlan.active()
    proposable = proposable_territories(request.user, plan)
    territory, account = _propose_source(request, plan, proposable)
    if territory is None or plan is None:
        if request.method == "POST":
            raise Http404
        return render(request, "planning/proposals/new.html", {
            "plan": plan, "sources": list(proposable.order_by("code")[:500]),
        })
    targets = list(proposable.exclude(pk=territory.pk).order_by("code"))
    q = request.GET.get("q", "").strip()[:100]
    status = 200
    if request.method == "POST":
        form = ProposeMoveForm(request.POST, targets=targets)
        if form.is_valid():
            data = form.cleaned_data
            try:
                proposal = reassignment_services.reassignment_propose(
                    by=request.user, plan=plan, kind=Reassignment.Kind.MOVE_ACCOUNTS,
                    change={"accounts": data["accounts"], "to_territory": data["to_territory"]},
                    title=data["title"], reason=data["reason"], effective_date=data["effective_date"],
                    transition_days=data["transition_days"], deal_policy=data["deal_policy"],
                    deal_stage=data["deal_stage"], notify_customers=data["notify_customers"],
                )
            except ReassignmentError as exc:
                for field, texts in exc.messages.items():
                    form.add_error(field if field in form.fields else None, texts)
            else:
                messages.success(request, "Draft saved: check its impact, then submit it for approval.")
                return redirect("planning:proposal", pk=proposal.pk)
        status = 422
    else:
        form = ProposeMoveForm.for_settings(ReassignmentSettings.load(), on=timezone.localdate(), targets=targets)
    if account is not None:
        candidates, total = [account], 1
    else:
        qs = accounts_in([territory.pk]).order_by("name", "pk")
        if q:
            qs = qs.filter(name__icontains=q)
        total = qs.count()
        candidates = list(qs.only("pk", "name", "city", "state")[:ACCOUNTS_SHOWN])
    ticked = {str(v) for v in (request.POST.getlist("accounts") if form.is_bound else [])}
    if account is not None and not form.is_bound:
        ticked = {str(account.pk)}
    return render(request, "planning/proposals/new.html", {
        "plan": plan, "form": form, "territory": territory, "account": account, "candidates": candidates,
        "total": total, "shown": len(candidates), "q": q, "ticked": ticked, "targets": targets,
    }, status=status)
