"""The rebalancing page (admins and directors): run the optimiser on the active plan and turn a
suggestion into a reassignment proposal."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from planning import rebalance
from planning.models import PlanningSettings
from planning.quota_page import may_plan
from planning.reassignments.errors import ReassignmentError
from planning.reassignments.services import reassignment_propose
from territories.models import TerritoryPlan


class RebalanceForm(forms.Form):
    metrics = forms.MultipleChoiceField(choices=list(rebalance.METRIC_LABELS.items()), required=False,
                                        widget=forms.CheckboxSelectMultiple, label="Balance")
    tolerance = forms.DecimalField(label="Tolerance (± % of the average)", min_value=0.5, max_value=50,
                                   decimal_places=2)

    def chosen(self) -> tuple[str, ...]:
        picked = self.cleaned_data["metrics"]
        return ("workload",) + (("tam",) if "tam" in picked else ())


class ProposeForm(forms.Form):
    from_territory = forms.IntegerField()
    to_territory = forms.IntegerField()
    accounts = forms.CharField(max_length=200_000)

    def clean_accounts(self) -> list[int]:
        try:
            ids = [int(x) for x in self.cleaned_data["accounts"].split(",") if x.strip()]
        except ValueError:
            raise forms.ValidationError("The account list is not a list of ids.") from None
        if not ids:
            raise forms.ValidationError("The suggestion moves no accounts.")
        return ids


@require_GET
@login_required
def rebalance_page(request: HttpRequest) -> HttpResponse:
    if not may_plan(request.user):
        raise Http404
    plan = TerritoryPlan.active()
    settings = PlanningSettings.load()
    run = None
    if "tolerance" in request.GET:
        form = RebalanceForm(request.GET)
        if form.is_valid() and plan is not None:
            run = rebalance.rebalance_run(user=request.user, plan=plan, metrics=form.chosen(),
                                          tolerance=float(form.cleaned_data["tolerance"]) / 100)
    else:
        form = RebalanceForm(initial={"metrics": ["workload"], "tolerance": settings.balance_tolerance_percent})
    return render(request, "planning/rebalance.html", {"plan": plan, "form": form, "run": run,
                                                        "metric_labels": rebalance.METRIC_LABELS},
                  status=400 if form.errors else 200)


@require_POST
@login_required
def rebalance_propose(request: HttpRequest) -> HttpResponse:
    if not may_plan(request.user):
        raise Http404
    plan = TerritoryPlan.active()
    form = ProposeForm(request.POST)
    back = redirect("planning:rebalance")
    if not form.is_valid() or plan is None:
        messages.error(request, "That suggestion could not be read; run the rebalancing again.")
        return back
    data = form.cleaned_data
    try:
        proposal = reassignment_propose(
            by=request.user, plan=plan, kind="move_accounts",
            change={"accounts": data["accounts"], "to_territory": data["to_territory"]},
            reason="Rebalancing suggestion: brings both territories closer to the average workload.",
            effective_date=timezone.localdate(),
        )
    except ReassignmentError as exc:
        messages.error(request, "Not proposed: " + " ".join(t for texts in exc.messages.values() for t in texts))
        return back
    messages.success(request, f"Proposal “{proposal.title}” created as a draft with {len(data['accounts'])} "
                              "accounts: check its impact and submit it for approval.")
    return redirect("planning:proposal", pk=proposal.pk)
