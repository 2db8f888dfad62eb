"""Plan export and import from the plans page (sales ops admins only): download a plan as one
JSON file, upload such a file as a new draft plan."""

from __future__ import annotations

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_GET, require_POST

from planning.forms import PlanImportForm
from planning.transfer import PlanImportError, plan_export, plan_export_filename, plan_import
from planning.views import index_page
from salesos.roles import is_admin
from territories.models import TerritoryPlan


def _admin_only(request: HttpRequest) -> None:
    if not is_admin(request.user):
        raise Http404


@require_GET
@login_required
def plan_export_download(request: HttpRequest, pk: int) -> HttpResponse:
    _admin_only(request)
    plan = TerritoryPlan.objects.select_related("fiscal_year").filter(pk=pk).first()
    if plan is None:
        raise Http404
    response = HttpResponse(json.dumps(plan_export(plan=plan), indent=2, ensure_ascii=False) + "\n",
                            content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{plan_export_filename(plan)}"'
    return response


@require_POST
@login_required
def plan_import_upload(request: HttpRequest) -> HttpResponse:
    _admin_only(request)
    form = PlanImportForm(request.POST, request.FILES)
    if not form.is_valid():
        return index_page(request, import_form=form, status=400)
    try:
        plan = plan_import(document=form.cleaned_data["document"], name=form.cleaned_data["name"] or None,
                           by=request.user)
    except PlanImportError as exc:
        return index_page(request, import_form=form, import_problems=exc.problems, status=400)
    messages.success(request, f"Imported “{plan.name}” as a draft plan with {plan.territories.count()} territories.")
    return redirect("planning:index")
