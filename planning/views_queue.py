"""Proposing from the unassigned queue: the accounts ticked on the queue page become a draft
proposal to move them into a territory the user may change (instead of routing them by hand at
once). Whoever works the queue and may propose (admins, directors, managers) uses it; the
service checks the accounts and the territory again."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods
from django_htmx.http import HttpResponseClientRedirect

from planning.forms_proposals import ProposeMoveForm
from planning.models import Reassignment, ReassignmentSettings
from planning.reassignments import services as reassignment_services
from planning.reassignments.access import may_propose, proposable_territories
from planning.reassignments.errors import ReassignmentError
from salesos.http import HtmxHttpRequest
from salesos.roles import works_queue
from territories.models import TerritoryPlan
from territories.placement import accounts_unassigned

MAX_FROM_QUEUE = 500  # accounts ticked on the queue's pages (50 a page) travel in the address


def _ids(values: list[str]) -> list[int] | None:
    """Whole-number ids, or None when one is not."""
    if any(not v.isdigit() or len(v) > 11 for v in values):
        return None
    return sorted({int(v) for v in values})


@require_http_methods(["GET", "POST"])
@login_required
def proposal_from_queue(request: HtmxHttpRequest) -> HttpResponse:
    """GET ``?accounts=<id>&…``: the propose form for those queued accounts. POST from the queue
    page (its "Propose a move" button, the queue form's ticked ``accounts``): back here as a GET.
    POST with ``propose``: saves the draft through ``reassignment_propose`` and opens its page."""
    if not (works_queue(request.user) and may_propose(request.user)):
        raise Http404
    plan = TerritoryPlan.active()
    if request.method == "POST" and "propose" not in request.POST:
        ids = _ids(request.POST.getlist("accounts"))
        if not ids:
            messages.error(request, "Tick the queued accounts to propose, then choose “Propose a move”.")
            target = reverse("routing:index")
        else:
            target = f"{reverse('planning:proposal_from_queue')}?{urlencode({'accounts': ids[:MAX_FROM_QUEUE]}, True)}"
        return HttpResponseClientRedirect(target) if request.htmx else redirect(target)
    ids = _ids(request.GET.getlist("accounts"))
    if ids is None:
        raise Http404
    # Only accounts still in the queue are offered; one routed meanwhile drops out, with a word.
    queued = list(accounts_unassigned(plan=plan).filter(pk__in=ids[:MAX_FROM_QUEUE])
                  .only("pk", "name", "city", "state").order_by("name", "pk")) if plan is not None else []
    gone = len(ids[:MAX_FROM_QUEUE]) - len(queued)
    targets = list(proposable_territories(request.user, plan).order_by("code"))
    status = 200
    if request.method == "POST":
        form = ProposeMoveForm(request.POST, targets=targets)
        if form.is_valid() and plan is not None:
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
        ticked = {str(v) for v in request.POST.getlist("accounts")}
    else:
        form = ProposeMoveForm.for_settings(ReassignmentSettings.load(), on=timezone.localdate(), targets=targets)
        ticked = {str(a.pk) for a in queued}
    return render(request, "planning/proposals/new.html", {
        "plan": plan, "form": form, "from_queue": True, "candidates": queued, "total": len(queued),
        "shown": len(queued), "ticked": ticked, "targets": targets, "gone": gone,
        "form_action": f"{reverse('planning:proposal_from_queue')}?{urlencode({'accounts': ids}, True)}",
    }, status=status)
