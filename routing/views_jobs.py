"""Batch re-route pages (sales ops admins only; anyone else gets the same 404 as a missing page):
the list of recent jobs with a form to start one, and a job's page, which polls its progress
fragment every second while the job is queued or running and shows the diff when it is done."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from routing.batch.jobs import reroute_job_start
from routing.models import RoutingJob
from salesos.http import HtmxHttpRequest
from salesos.roles import is_admin
from territories.models import Territory, TerritoryPlan

RECENT_JOBS = 30
MAX_IDS = 10_000


def _admin_only(request: HttpRequest) -> None:
    if not is_admin(request.user):
        raise Http404("No such page")


class RerouteForm(forms.Form):
    """Territories are picked by code and name from the active plan (never typed as database
    ids); accounts by their ids (as in their page addresses)."""

    scope = forms.ChoiceField(choices=RoutingJob.Scope.choices, initial=RoutingJob.Scope.FULL)
    territories = forms.MultipleChoiceField(
        required=False,
        label="Territories",
        help_text="For the territories scope: each one chosen is re-routed with everything under it.",
        error_messages={"invalid_choice": "%(value)s is not a territory of the active plan."},
    )
    ids = forms.CharField(
        required=False,
        max_length=200_000,
        label="Account ids",
        help_text="For the accounts scope: comma- or space-separated, as in each account's address (/accounts/<id>/).",
    )
    dry_run = forms.BooleanField(required=False, initial=True, label="Dry run (show what would change, write nothing)")

    def __init__(self, *args, plan: TerritoryPlan | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.plan_territories = (
            list(Territory.objects.filter(plan=plan).order_by("code").values_list("pk", "code", "name"))
            if plan is not None else []
        )
        field: Any = self.fields["territories"]
        field.choices = [(code, f"{code} {name}") for _, code, name in self.plan_territories]

    def clean_ids(self) -> list[int]:
        text = self.cleaned_data.get("ids") or ""
        parts = [p for p in text.replace(",", " ").split() if p]
        if not all(p.isascii() and p.isdigit() and len(p) < 19 for p in parts):
            raise forms.ValidationError("Ids are whole numbers separated by commas or spaces.")
        if len(parts) > MAX_IDS:
            raise forms.ValidationError(f"At most {MAX_IDS:,} ids at a time.")
        return sorted({int(p) for p in parts})

    def clean_territories(self) -> list[int]:
        """The chosen codes as the territories' ids."""
        codes = set(self.cleaned_data.get("territories") or [])
        return sorted(pk for pk, code, _ in self.plan_territories if code in codes)

    def clean(self) -> dict:
        data = super().clean()
        if data is None:  # Form.clean() returns cleaned_data; the stubs allow None for overrides
            raise TypeError("Form.clean() returned None")
        scope = data.get("scope")
        if scope == RoutingJob.Scope.TERRITORIES and data.get("territories") == []:
            self.add_error("territories", "Pick at least one territory for this scope.")
        if scope == RoutingJob.Scope.ACCOUNTS and data.get("ids") == []:
            self.add_error("ids", "Give at least one account id for this scope.")
        return data


def _list_context(form: RerouteForm) -> dict:
    return {
        "jobs": RoutingJob.objects.select_related("plan", "created_by").order_by("-created_at", "-pk")[:RECENT_JOBS],
        "plan": TerritoryPlan.active(),
        "form": form,
    }


@require_GET
@login_required
def jobs(request: HttpRequest) -> HttpResponse:
    _admin_only(request)
    return render(request, "routing/jobs.html", _list_context(RerouteForm(plan=TerritoryPlan.active())))


@require_POST
@login_required
def job_start(request: HttpRequest) -> HttpResponse:
    _admin_only(request)
    plan = TerritoryPlan.active()
    form = RerouteForm(request.POST, plan=plan)
    if form.is_valid() and plan is None:
        form.add_error(None, "There is no active plan to re-route.")
    if not form.is_valid() or plan is None:  # no plan: the form has the error just added
        return render(request, "routing/jobs.html", _list_context(form), status=400)
    data = form.cleaned_data
    job = reroute_job_start(
        plan=plan,
        scope=data["scope"],
        territory_ids=data["territories"] if data["scope"] == RoutingJob.Scope.TERRITORIES else None,
        account_ids=data["ids"] if data["scope"] == RoutingJob.Scope.ACCOUNTS else None,
        dry_run=data["dry_run"],
        by=request.user,
    )
    return redirect("routing:job", pk=job.pk)


@require_GET
@login_required
def job(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    _admin_only(request)
    found = RoutingJob.objects.select_related("plan", "created_by").filter(pk=pk).first()
    if found is None:
        raise Http404("No such job")
    template = "routing/job.html#progress" if request.htmx else "routing/job.html"
    context: dict[str, Any] = {"job": found, "polling": found.status in _LIVE, "shards": list(found.shards.all())}
    if not request.htmx and found.params.get("territory_ids"):
        context["scope_territories"] = list(
            Territory.objects.filter(pk__in=found.params["territory_ids"]).order_by("code").only("pk", "code", "name")
        )
    return render(request, template, context)


_LIVE = (RoutingJob.Status.QUEUED, RoutingJob.Status.RUNNING)
