"""The approvals inbox: what waits for my decision, and the decision itself (over htmx, or as a
plain form post without JavaScript)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from planning.approvals.errors import ApprovalError
from planning.approvals.selectors import (
    approval_subject_for_user,
    inbox,
    plan_inbox,
    recent_decisions,
    waiting_count,
)
from planning.forms_approvals import DecisionForm
from planning.reassignments.errors import ReassignmentError
from planning.reassignments.services import reassignment_decide
from salesos.http import HtmxHttpRequest
from salesos.roles import is_admin

DONE = {
    "approve": "You approved “{title}”.",
    "reject": "You rejected “{title}”.",
    "request_changes": "You asked for changes to “{title}”.",
}


def _page(request: HtmxHttpRequest, *, error: str = "", error_pk: int | None = None, status: int = 200) -> HttpResponse:
    context = {
        "items": inbox(request.user),
        "plan_items": plan_inbox(request.user),
        "recent": recent_decisions(request.user),
        "error": error,
        "error_pk": error_pk,
        "is_policy_admin": is_admin(request.user),
    }
    return render(request, "planning/approvals/inbox.html", context, status=status)


@login_required
@require_GET
def approvals_inbox(request: HtmxHttpRequest) -> HttpResponse:
    return _page(request)


@login_required
@require_POST
def approval_decide_view(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    reassignment = approval_subject_for_user(request.user, pk)
    if reassignment is None:
        raise Http404("No such proposal waiting for you")
    form = DecisionForm(request.POST)
    error = ""
    if not form.is_valid():
        error = form.first_error()
    else:
        try:
            reassignment_decide(
                by=request.user,
                reassignment=reassignment,
                decision=form.cleaned_data["decision"],
                comment=form.cleaned_data["comment"],
            )
        except ApprovalError as exc:
            error = exc.message
        except ReassignmentError as exc:
            error = " ".join(m for texts in exc.messages.values() for m in texts)
    if request.htmx:
        context = {
            "reassignment": reassignment,
            "error": error,
            "decided": "" if error else DONE[form.cleaned_data["decision"]].format(title=reassignment.title),
            "comment": request.POST.get("comment", "")[:2000],
            "approvals_waiting": waiting_count(request.user),
        }
        return render(request, "planning/approvals/inbox.html#outcome", context)
    if error:
        return _page(request, error=error, error_pk=reassignment.pk, status=400)
    messages.success(request, DONE[form.cleaned_data["decision"]].format(title=reassignment.title))
    return redirect("approvals:inbox")
