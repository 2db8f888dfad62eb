"""The fiscal settings page (sales ops admins only): the fiscal year's start month, the planning
thresholds, and the fiscal years with their quarters and months."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from planning import services
from planning.forms import FiscalYearForm, PlanningSettingsForm
from planning.models import FiscalYear
from planning.selectors import fiscal_calendar
from salesos.roles import is_admin


def _admin_only(request: HttpRequest) -> None:
    if not is_admin(request.user):
        raise Http404


def _page(request: HttpRequest, *, settings_form=None, year_form=None, status: int = 200) -> HttpResponse:
    cal = fiscal_calendar(today=timezone.localdate())
    context = {
        "calendar": cal,
        "settings_form": settings_form or PlanningSettingsForm.for_settings(cal.settings),
        "year_form": year_form or FiscalYearForm(initial={"end_year": cal.next_end_year}),
    }
    return render(request, "planning/fiscal.html", context, status=status)


@require_GET
@login_required
def fiscal_settings(request: HttpRequest) -> HttpResponse:
    _admin_only(request)
    return _page(request)


@require_POST
@login_required
def fiscal_settings_save(request: HttpRequest) -> HttpResponse:
    _admin_only(request)
    form = PlanningSettingsForm(request.POST)
    if form.is_valid():
        try:
            services.planning_settings_update(**form.cleaned_data)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, "Planning settings saved.")
            return redirect("planning:fiscal")
    return _page(request, settings_form=form, status=400)


@require_POST
@login_required
def fiscal_year_add(request: HttpRequest) -> HttpResponse:
    _admin_only(request)
    form = FiscalYearForm(request.POST)
    if form.is_valid():
        try:
            year = services.fiscal_year_create(end_year=form.cleaned_data["end_year"])
        except ValidationError as exc:
            form.add_error("end_year", exc)
        else:
            messages.success(request, f"{year.name} created with its 4 quarters and 12 months "
                                      f"({year.start_date:%b %-d, %Y} – {year.end_date:%b %-d, %Y}).")
            return redirect("planning:fiscal")
    return _page(request, year_form=form, status=400)


@require_POST
@login_required
def fiscal_periods_add(request: HttpRequest, pk: int) -> HttpResponse:
    _admin_only(request)
    year = get_object_or_404(FiscalYear, pk=pk)
    try:
        added = services.fiscal_periods_fill(fiscal_year=year)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"{year.name}: {added} period{'s' if added != 1 else ''} added."
                         if added else f"{year.name} already has all its quarters and months.")
    return redirect("planning:fiscal")
