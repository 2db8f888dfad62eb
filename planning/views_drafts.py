"""Working on a draft proposal before it is submitted: editing its terms (and, for a move, which
accounts it keeps and where they go), and the manual deal grid (stay with the rep or go to the new
owner, deal by deal). Only the initiator edits, and only while the proposal is editable (a draft,
or sent back); a submitted proposal is frozen. Views parse, authorise, call one service, render."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from planning.forms_proposals import EditDraftForm
from planning.models import DealDecision, DealPolicy, Reassignment
from planning.reassignments import services as reassignment_services
from planning.reassignments.access import proposable_territories, reassignment_get_for_user
from planning.reassignments.errors import ReassignmentError
from planning.reassignments.impact import reassignment_impact
from salesos.http import HtmxHttpRequest
from salesos.models import Account

User = get_user_model()
ACCOUNTS_SHOWN = 200  # the edit page lists at most this many of a move's accounts; the rest stay
DEALS_SHOWN = 500  # the grid lists at most this many deals; "all stay" / "all move" reach every one


def _mine(request: HttpRequest, pk: int) -> Reassignment:
    """The proposal, if the user sees it and proposed it; otherwise 404 (missing and forbidden
    alike)."""
    reassignment = reassignment_get_for_user(request.user, pk)
    if reassignment.initiator_id != request.user.pk:
        raise Http404("No such proposal")
    return reassignment


def _frozen(request: HttpRequest, reassignment: Reassignment) -> HttpResponse:
    messages.error(request, f"This proposal is {reassignment.get_status_display().lower()}: it can no longer be "
                            "edited. A submitted proposal is frozen; withdraw it, or wait for changes to be "
                            "requested, to change it.")
    return redirect("planning:proposal", pk=reassignment.pk)


def _refused(form, exc: ReassignmentError) -> None:
    for field, texts in exc.messages.items():
        form.add_error(field if field in form.fields else None, texts)


@require_http_methods(["GET", "POST"])
@login_required
def proposal_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Edit a draft: its terms for every kind; for a move of accounts also the accounts it keeps
    (unticking drops one) and the receiving territory."""
    reassignment = _mine(request, pk)
    if not reassignment.is_editable:
        return _frozen(request, reassignment)
    change = reassignment.change or {}
    is_move = reassignment.kind == Reassignment.Kind.MOVE_ACCOUNTS
    targets = list(proposable_territories(request.user, reassignment.plan).order_by("code")) if is_move else []
    all_ids: list[int] = list(change.get("accounts") or []) if is_move else []
    shown = list(Account.objects.filter(pk__in=all_ids[:ACCOUNTS_SHOWN]).only("pk", "name", "city", "state")
                 .order_by("name", "pk"))
    status = 200
    if request.method == "POST":
        form = EditDraftForm(request.POST, targets=targets)
        if form.is_valid():
            data = form.cleaned_data
            fields: dict[str, Any] = {name: data[name] for name in (
                "title", "reason", "effective_date", "transition_days", "deal_policy", "deal_stage",
                "notify_customers")}
            if is_move:
                shown_ids = {a.pk for a in shown}
                kept = [a for a in data["accounts"] if a in shown_ids] + [a for a in all_ids if a not in shown_ids]
                fields["change"] = {"accounts": kept, "to_territory": data["to_territory"]}
            try:
                reassignment_services.reassignment_update(by=request.user, reassignment=reassignment,
                                                          version=data["version"], **fields)
            except ReassignmentError as exc:
                _refused(form, exc)
            else:
                messages.success(request, "Draft saved: its impact below is computed afresh.")
                return redirect("planning:proposal", pk=reassignment.pk)
        status = 422
        ticked = {str(v) for v in request.POST.getlist("accounts")}
    else:
        form = EditDraftForm.for_proposal(reassignment, targets=targets)
        ticked = {str(a.pk) for a in shown}
    return render(request, "planning/proposals/edit.html", {
        "r": reassignment, "form": form, "is_move": is_move, "targets": targets, "accounts": shown,
        "ticked": ticked, "hidden_accounts": max(0, len(all_ids) - len(shown)),
    }, status=status)


# --- the manual deal grid ------------------------------------------------------------------------


def _grid(reassignment: Reassignment) -> dict[str, Any]:
    """Every open deal the proposal touches, with its choice and where it would go: the new owners
    come from the proposal's own dry run (``reassignment_impact``), not a second reading."""
    deals = reassignment_services.open_deals_of(reassignment)
    choices = dict(DealDecision.objects.filter(reassignment=reassignment).values_list("opportunity_id", "choice"))
    impact = reassignment_impact(reassignment=reassignment, with_summary=False)
    to_of = dict(zip(impact.account_ids.tolist(), impact.to_ids.tolist(), strict=True))
    change = reassignment.change or {}
    if reassignment.kind == Reassignment.Kind.SLOT_CHANGE:
        target_of = {d.account_id: change.get("to_user") for d in deals}
    else:
        target_of = {d.account_id: impact.owners_after.get(to_of.get(d.account_id, 0)) for d in deals}
    people = User.objects.in_bulk({u for u in target_of.values() if u})
    rows = [{"deal": d, "choice": choices.get(d.pk, ""), "new_owner": people.get(target_of.get(d.account_id) or 0)}
            for d in deals]
    undecided = sum(1 for row in rows if not row["choice"])
    return {"rows": rows[:DEALS_SHOWN], "total": len(rows), "undecided": undecided,
            "hidden": max(0, len(rows) - DEALS_SHOWN)}


def _posted_choices(request: HttpRequest) -> dict[int, str] | None:
    """``deal-<id>`` fields -> {id: choice}; None when a field name is not a deal id."""
    found: dict[int, str] = {}
    for name in request.POST:
        if not name.startswith("deal-"):
            continue
        raw = name[len("deal-"):]
        if not raw.isdigit() or len(raw) > 11:
            return None
        found[int(raw)] = request.POST.get(name, "")
    return found


@require_http_methods(["GET", "POST"])
@login_required
def proposal_deals(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """The manual deal grid: everyone who sees the proposal sees the choices; its initiator sets
    them while the proposal is editable (htmx: one deal at a time, the row and the count update;
    a plain POST saves the whole grid). "All stay" / "all move" set every deal at once."""
    reassignment = reassignment_get_for_user(request.user, pk)
    manual = reassignment.deal_policy == DealPolicy.MANUAL
    may_edit = manual and reassignment.is_editable and reassignment.initiator_id == request.user.pk
    if request.method == "POST":
        reassignment = _mine(request, pk)
        if not reassignment.is_editable:
            return _frozen(request, reassignment)
        choices = _posted_choices(request)
        trigger = request.htmx.trigger_name or "" if request.htmx else ""
        if choices is not None and trigger.startswith("deal-") and trigger[5:].isdigit():
            # htmx sends the whole grid's values with one radio's change: save (and swap) that deal.
            choices = {int(trigger[5:]): request.POST.get(trigger, "")}
        bulk = request.POST.get("all", "")
        error = ""
        if choices is None or bulk not in ("", *DealDecision.Choice.values):
            error = "Choose stay or move for each deal."
        else:
            if bulk:
                choices = {d.pk: bulk for d in reassignment_services.open_deals_of(reassignment)}
            try:
                left = reassignment_services.reassignment_deal_decisions_set(
                    by=request.user, reassignment=reassignment, choices=choices)
            except ReassignmentError as exc:
                error = " ".join(text for texts in exc.messages.values() for text in texts)
        if request.htmx and (not bulk or error):
            context = {"r": reassignment, "manual": True, "may_edit": True, "error": error, **_grid(reassignment)}
            wanted = set(choices or ())
            context["rows"] = [row for row in context["rows"] if row["deal"].pk in wanted]
            # 200 even when refused: htmx swaps the row back to what is saved and shows the reason.
            return render(request, "planning/proposals/deals.html#changed", context)
        if error:
            messages.error(request, f"Nothing was saved: {error}")
        elif left:
            messages.warning(request, f"Choices saved. {left} open deal{'s' if left != 1 else ''} still "
                                      f"need{'' if left != 1 else 's'} a choice before you can submit.")
        else:
            messages.success(request, "Every deal has a choice: you can submit the proposal.")
        return redirect("planning:proposal_deals", pk=reassignment.pk)
    context = {"r": reassignment, "manual": manual, "may_edit": may_edit, **(_grid(reassignment) if manual else {})}
    return render(request, "planning/proposals/deals.html", context)
