"""Rep assignment pages: manual add/end on a territory (a section the territory page includes),
bulk CSV upload (preview, then all-or-nothing apply), and round-robin / capacity proposals for
vacant territories.

Who may: manual changes need ``change_territory`` on the territory; managers may only assign
themselves or their direct reports ("reassign within team"). CSV upload and proposals are bulk
reassignment: admins and directors (directors only on territories they may change).
"""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.formats import date_format
from django.views.decorators.http import require_GET, require_http_methods

from salesos.http import AuthenticatedHttpRequest, HtmxHttpRequest
from salesos.models import SalesProfile
from salesos.roles import bulk_assigns, role_of
from territories import coverage, csv_assign, services, staffing
from territories.access import territory_get_for_user, territory_has_perm
from territories.detail import assign_context
from territories.forms import AssignmentForm
from territories.models import RepAssignment, Territory, TerritoryPlan

User = get_user_model()
Role = SalesProfile.Role
SECTION = "territories/assign_section.html"


def refused_retired(request: HttpRequest, territory: Territory) -> HttpResponse | None:
    """A retired territory is read-only: its edit, delete and assignment pages refuse (a message
    on the territory page; an HTMX request gets the section back with status 409)."""
    if not territory.is_retired:
        return None
    messages.error(request, services.retired_message(territory))
    if getattr(request, "htmx", False):
        return _section(cast(HtmxHttpRequest, request), territory, status=409)
    return redirect(reverse("territories:detail", args=[territory.pk]))


def _section(request: HtmxHttpRequest, territory: Territory, form: AssignmentForm | None = None,
             status: int = 200) -> HttpResponse:
    context = assign_context(user=request.user, territory=territory, form=form)
    template = f"{SECTION}#section" if request.htmx else "territories/assign_page.html"
    return render(request, template, context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def assignments(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """GET: the section (a page of its own without HTMX). POST: add an assignment."""
    if request.method == "GET":
        return _section(request, territory_get_for_user(user=request.user, pk=pk))
    territory = territory_get_for_user(user=request.user, pk=pk, perm="change_territory")
    if (refused := refused_retired(request, territory)) is not None:
        return refused
    form = AssignmentForm(request.POST, assigner=request.user)
    if form.is_valid():
        d = form.cleaned_data
        try:
            services.assignment_add(territory=territory, user=d["user"], slot=d["slot"],
                                    split_percent=d.get("split_percent"), start_date=d.get("start_date"),
                                    by=request.user)
        except ValidationError as exc:
            for key, errors in getattr(exc, "error_dict", {None: exc.error_list}).items():
                form.add_error(key if key in form.fields else None, errors)
        else:
            messages.success(request, f"{d['user'].get_full_name() or d['user'].username} assigned as "
                                      f"{RepAssignment.Slot(d['slot']).label.lower()}.")
            if not request.htmx:
                return redirect(reverse("territories:detail", args=[territory.pk]))
            return _section(request, territory)
    return _section(request, territory, form=form, status=422)


@login_required
@require_http_methods(["GET", "POST"])
def assignment_end(request: AuthenticatedHttpRequest, pk: int, aid: int) -> HttpResponse:
    """GET (or a POST without ``confirm``): what ending the assignment on the chosen date does,
    from a dry run (the territory becomes vacant, the backup covers, or the next primary takes
    over). POST with ``confirm=yes``: ends it. Nothing ends in one click."""
    territory = territory_get_for_user(user=request.user, pk=pk, perm="change_territory")
    assignment = coverage.open_assignments(territory.assignments.all()).filter(pk=aid).select_related("user").first()
    if assignment is None:
        raise Http404("No such assignment")
    if role_of(request.user) == Role.MANAGER and assignment.user_id != request.user.pk and not (
        SalesProfile.objects.filter(user=assignment.user, manager=request.user).exists()
    ):
        raise Http404("No such assignment")
    data = request.POST if request.method == "POST" else request.GET
    text = (data.get("end_date") or "").strip()[:20]
    error = ""
    end_date = coverage.today()
    if text:
        try:
            end_date = dt.date.fromisoformat(text)
        except ValueError:
            error = f"“{text}” is not a date like 2026-03-01."
        else:
            if end_date.year == dt.MAXYEAR:  # the day after must exist
                error, end_date = "Choose an end date before the year 9999.", coverage.today()
    name = assignment.user.get_full_name() or assignment.user.username
    if request.method == "POST" and data.get("confirm") == "yes" and not error:
        try:
            services.assignment_end(assignment=assignment, end_date=end_date, by=request.user)
        except ValidationError as exc:
            error = " ".join(exc.messages)
        else:
            messages.success(request, f"Ended {name}’s {assignment.get_slot_display().lower()} assignment "
                                      f"(last day {date_format(end_date, 'M j, Y')}).")
            return redirect(reverse("territories:detail", args=[territory.pk]))
    impact = services.assignment_end_impact(assignment=assignment, end_date=end_date, by=request.user)
    return render(request, "territories/assign_end.html", {
        "territory": territory, "assignment": assignment, "name": name, "impact": impact, "error": error,
        "end_text": text if error else impact.end_date.isoformat(),
    }, status=422 if error else 200)


# --- bulk -------------------------------------------------------------------------------------


def _bulk_user(request: HttpRequest) -> TerritoryPlan:
    if not bulk_assigns(request.user):
        raise Http404("No such page")
    plan = TerritoryPlan.active()
    if plan is None:
        raise Http404("No active plan")
    return plan


def _may_assign(user: Any):
    if role_of(user) == Role.ADMIN:
        return None
    return lambda territory: territory_has_perm(user=user, territory=territory, perm="change_territory")


@login_required
@require_GET
def csv_template(request: HttpRequest) -> HttpResponse:
    _bulk_user(request)
    response = HttpResponse(csv_assign.TEMPLATE, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="rep-assignments-template.csv"'
    return response


@login_required
@require_http_methods(["GET", "POST"])
def csv_upload(request: HttpRequest) -> HttpResponse:
    """Upload shows the preview (nothing written); "Apply" posts the same text back, which is
    checked again and applied all-or-nothing."""
    plan = _bulk_user(request)
    context: dict[str, Any] = {"plan": plan, "max_mb": csv_assign.MAX_BYTES // (1024 * 1024),
                               "columns": csv_assign.REQUIRED + csv_assign.OPTIONAL}
    status = 200
    if request.method == "POST":
        may = _may_assign(request.user)
        if request.POST.get("apply") == "yes":
            checked = csv_assign.csv_apply(data=request.POST.get("content", ""), plan=plan, by=request.user,
                                           may_assign=may)
            if checked.ok:
                messages.success(request, f"{len(checked.rows)} assignment{'s' if len(checked.rows) != 1 else ''} "
                                          "added from the file.")
                return redirect(reverse("territories:csv_upload"))
            context.update(checked=checked, applied_failed=True)
            status = 422
        else:
            upload = request.FILES.get("file")
            if upload is None:
                context["file_error"] = "Choose a CSV file to upload."
                status = 422
            elif upload.size and upload.size > csv_assign.MAX_BYTES:
                checked = csv_assign.Checked(errors=[(0, f"The file is {upload.size / 1024 / 1024:.1f} MB; "
                                                         "the limit is 2 MB.")])
                context.update(checked=checked)
                status = 422
            else:
                checked = csv_assign.csv_check(data=upload.read(csv_assign.MAX_BYTES + 1), plan=plan,
                                               may_assign=may)
                context.update(checked=checked, filename=upload.name)
                status = 200 if checked.ok else 422
    return render(request, "territories/csv_upload.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def propose(request: HttpRequest) -> HttpResponse:
    plan = _bulk_user(request)
    data = request.POST if request.method == "POST" else request.GET
    method = data.get("method") or staffing.ROUND_ROBIN
    measure = data.get("measure") or "accounts"
    if method not in staffing.METHODS or measure not in staffing.MEASURES:
        method, measure = staffing.ROUND_ROBIN, "accounts"
    may = _may_assign(request.user)
    ids = None
    if may is not None:
        ids = [t.pk for t in staffing.vacant_territories(plan) if may(t)] or [0]
    stale = False
    if request.method == "POST" and data.get("apply") == "yes":
        try:
            done = staffing.staffing_apply(plan=plan, method=method, measure=measure,
                                            shown_hash=data.get("hash", ""), by=request.user, territory_ids=ids)
        except staffing.StaleProposal:
            stale = True
        except ValidationError as exc:
            messages.error(request, f"Nothing was assigned: {'; '.join(exc.messages)}")
        else:
            n = len(done.assigned)
            messages.success(request, f"{n} vacant territor{'y' if n == 1 else 'ies'} assigned.")
            return redirect(f"{reverse('territories:propose')}?method={method}&measure={measure}")
    proposal = staffing.staffing_proposal(plan=plan, method=method, measure=measure, territory_ids=ids)
    return render(request, "territories/proposal.html", {
        "plan": plan, "proposal": proposal, "method": method, "measure": measure, "stale": stale,
        "methods": staffing.METHODS, "measures": staffing.MEASURES,
    }, status=409 if stale else 200)
