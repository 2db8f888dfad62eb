"""The quota planning page of a fiscal year (admins and directors), and its CSV export."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from planning import quota_page, quotas, services
from planning.forms import QuotaPlanForm
from planning.models import FiscalYear
from salesos.csv_export import Echo, csv_cell
from salesos.roles import is_admin


def _year_for(request: HttpRequest, pk: int) -> FiscalYear:
    if not quota_page.may_plan(request.user):
        raise Http404
    return get_object_or_404(FiscalYear, pk=pk)


@require_http_methods(["GET", "POST"])
@login_required
def quotas_page(request: HttpRequest, pk: int) -> HttpResponse:
    year = _year_for(request, pk)
    inputs = quota_page.quota_inputs(user=request.user, year=year)
    ids = [leaf.territory.pk for leaf in inputs.leaves]
    status = 200
    error = ""
    if request.method == "POST" and request.POST.get("action") == "preview":
        form = QuotaPlanForm(request.POST, territory_ids=ids)
    elif request.method == "POST":
        form = QuotaPlanForm(request.POST, territory_ids=ids)
        if form.is_valid() and form.cleaned_data["target"] is None:
            form.add_error("target", "Enter the year’s target.")
        if form.is_valid():
            try:
                result = services.quotas_plan_save(user=request.user, fiscal_year=year,
                                                  target=form.cleaned_data["target"], weights=form.weights,
                                                  overrides=form.overrides)
            except ValidationError as exc:
                error = " ".join(exc.messages)
            else:
                messages.success(request, f"Saved the {year.name} quotas of {sum(r.is_leaf for r in result.rows)} "
                                          f"territories: {result.total:,.2f} in all, split over 4 quarters.")
                skip = ("csrfmiddlewaretoken", "action")
                query = {k: v for k, v in request.POST.items() if k not in skip and v != ""}
                return redirect(f"{reverse('planning:quotas', args=[year.pk])}?{urlencode(query)}")
        status = 400
    elif request.GET:
        form = QuotaPlanForm(request.GET, territory_ids=ids)
    else:
        saved = inputs.saved_total
        form = QuotaPlanForm({"target": f"{saved:.2f}" if saved else "",
                              **{f"w_{k}": v for k, v in quotas.DEFAULT_WEIGHTS.items()}}, territory_ids=ids)
    table: quota_page.QuotaTable | None = None
    target = None
    if form.is_valid() and inputs.leaves:
        target = form.cleaned_data["target"]
        try:
            table = quota_page.quota_preview(inputs, target=target, weights=form.weights, overrides=form.overrides)
        except quotas.QuotaError as exc:
            error = error or str(exc)
            status = 400
    elif form.errors:
        status = 400
    context = {
        "year": year, "inputs": inputs, "form": form, "table": table, "target": target, "error": error,
        "metrics": quotas.METRICS, "edits_fiscal_calendar": is_admin(request.user),
    }
    return render(request, "planning/quotas.html", context, status=status)


COLUMNS = ["territory_code", "territory_name", "parent_code", "rep", "period", "period_start", "period_end",
           "quota", "ramp_factor", "quota_after_ramp"]


def _quota_lines(rows) -> Iterator[str]:
    writer = csv.writer(Echo())
    yield writer.writerow(COLUMNS)
    for q in rows.iterator(chunk_size=2000):
        rep = (q.user.get_full_name() or q.user.username) if q.user else ""
        yield writer.writerow([csv_cell(v) for v in (
            q.territory.code, q.territory.name, q.territory.parent.code if q.territory.parent else "", rep,
            q.period.name, q.period.start_date.isoformat(), q.period.end_date.isoformat(), f"{q.amount:.2f}",
            f"{q.ramp_factor:.3f}", f"{q.effective_amount:.2f}")])


@require_GET
@login_required
def quotas_csv(request: HttpRequest, pk: int) -> StreamingHttpResponse:
    year = _year_for(request, pk)
    response = StreamingHttpResponse(_quota_lines(quota_page.quota_export_rows(user=request.user, year=year)),
                                     content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="quotas-{year.name}.csv"'
    return response
