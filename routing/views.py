"""Routing pages: the unassigned queue with bulk manual routing, a record's routing explanation,
the conflicts list, and account locks. Objects come through the access functions, so a record a
user may not see, or an action a role may not take, answers 404 like a missing one."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from routing import explain, selectors
from routing.forms import BulkRouteForm, LockForm, QueueFilterForm
from routing.services import account_lock, accounts_route_manually
from salesos.http import HtmxHttpRequest
from salesos.roles import is_admin, works_queue
from territories import placement
from territories.access import account_get_for_user, lead_get_for_user, sees_everything
from territories.filters import Options
from territories.locks import locked_territory_id


def _queue_context(request: HttpRequest, *, filter_data: QueryDict, form: BulkRouteForm | None = None, **extra) -> dict:
    filter_form = QueueFilterForm(filter_data)
    filters = filter_form.filters()
    plan = selectors.active_plan()
    targets = selectors.route_targets(user=request.user, plan=plan)
    page = selectors.unassigned_queue(filters=filters, page=filter_data.get("page"), plan=plan)
    if form is None:
        form = BulkRouteForm(territories=targets, queue=selectors.unassigned_accounts(plan=plan))
    total = page.paginator.count if not filters.active else selectors.unassigned_accounts(plan=plan).count()
    return {
        "page": page,
        "unassigned_total": total,
        "can_open": sees_everything(request.user),
        "plan": plan,
        "filter_form": filter_form,
        "filters": filters,
        "form": form,
        "targets": selectors.territory_options(targets, limit=selectors.TARGET_OPTIONS_LIMIT) if plan else [],
        "selected": set(filter_data.getlist("accounts")) if form.is_bound else set(),
        **extra,
    }


@require_GET
@login_required
def index(request: HtmxHttpRequest) -> HttpResponse:
    if not works_queue(request.user):
        return render(request, "routing/index.html", {"page": None})
    context = _queue_context(request, filter_data=request.GET)
    # Filtering and paging swap only the queue when htmx asks.
    template = "routing/index.html#queue" if request.htmx else "routing/index.html"
    return render(request, template, context)


@require_POST
@login_required
def route(request: HtmxHttpRequest) -> HttpResponse:
    """Routes the selected queue accounts to one territory by hand, with a reason."""
    if not works_queue(request.user):
        raise Http404
    plan = selectors.active_plan()
    form = BulkRouteForm(
        request.POST,
        territories=selectors.route_targets(user=request.user, plan=plan),
        queue=selectors.unassigned_accounts(plan=plan),
    )
    template = "routing/index.html#queue" if request.htmx else "routing/index.html"
    filters = QueueFilterForm(request.POST).filters()
    if not form.is_valid():
        return render(request, template, _queue_context(request, filter_data=request.POST, form=form))
    territory = form.cleaned_data["territory"]
    count = accounts_route_manually(
        account_ids=form.cleaned_data["accounts"], territory=territory, by=request.user,
        reason=form.cleaned_data["reason"],
    )
    notice = f"Routed {count} account{'s' if count != 1 else ''} to {territory.code} {territory.name}."
    if request.htmx:
        return render(request, template, _queue_context(request, filter_data=request.POST, notice=notice))
    messages.success(request, notice)
    query = filters.querystring
    return redirect(reverse("routing:index") + (f"?{query}" if query else ""))


@require_GET
@login_required
def territory_options(request: HttpRequest) -> HttpResponse:
    """``<option>``s for the searchable territory inputs (route and lock)."""
    plan = selectors.active_plan()
    if request.GET.get("purpose") == "lock":
        if not is_admin(request.user):
            raise Http404
        territories = selectors.lock_targets(plan=plan)
    else:
        if not works_queue(request.user):
            raise Http404
        territories = selectors.route_targets(user=request.user, plan=plan)
    term = request.GET.get("territory", "") or request.GET.get("q", "")
    options = selectors.territory_options(territories, term=term)
    return render(request, "routing/index.html#territory-options", {"targets": options})


def _explain_context(request: HttpRequest, account, lock_form: LockForm | None = None) -> dict:
    # Every territory on the page comes shown as the user may see it (routing.traces.TerritoryMask).
    explanation = explain.account_explanation(account=account, user=request.user)
    context = {"x": explanation, "account": account, "can_lock": is_admin(request.user)}
    if context["can_lock"]:
        territories = selectors.lock_targets(plan=explanation.plan)
        context["lock_form"] = lock_form or LockForm(territories=territories)
        context["targets"] = selectors.territory_options(territories, limit=selectors.TARGET_OPTIONS_LIMIT)
    return context


@require_GET
@login_required
def account_explain(request: HttpRequest, pk: int) -> HttpResponse:
    account = account_get_for_user(user=request.user, pk=pk)
    return render(request, "routing/explain.html", _explain_context(request, account))


@require_POST
@login_required
def account_lock_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Locks an account to a territory whatever the rules say, or unlocks it (admins only)."""
    if not is_admin(request.user):
        raise Http404
    account = account_get_for_user(user=request.user, pk=pk)
    if request.POST.get("action") == "unlock":
        if locked_territory_id(account) is None:
            messages.info(request, "The account was not locked.")
        else:
            account_lock(account=account, territory=None, by=request.user)
            messages.success(request, _landed("Unlocked; the rules decide again.", account))
        return redirect("routing:account_explain", pk=account.pk)
    form = LockForm(request.POST, territories=selectors.lock_targets(plan=selectors.active_plan()))
    if not form.is_valid():
        return render(request, "routing/explain.html", _explain_context(request, account, form))
    territory = form.cleaned_data["territory"]
    account_lock(account=account, territory=territory, by=request.user)
    messages.success(request, _landed(f"Locked to {territory.code} {territory.name}.", account))
    return redirect("routing:account_explain", pk=account.pk)


def _landed(prefix: str, account) -> str:
    """Where the account sits now, for the message after a lock or an unlock."""
    where = placement.placement(account)
    if where.territory is None:
        return f"{prefix} No territory matched: it is in the unassigned queue."
    owner = (where.owner.get_full_name() or where.owner.username) if where.owner else "no owner yet"
    return f"{prefix} Now in {where.territory.code} {where.territory.name}, owner {owner}."


@require_GET
@login_required
def lead_explain(request: HttpRequest, pk: int) -> HttpResponse:
    lead = lead_get_for_user(user=request.user, pk=pk)
    x = explain.lead_explanation(lead=lead, user=request.user)
    # Link the owner only where the user may open their leads (as the lead page does); territories
    # come shown as the user may see them (routing.traces.TerritoryMask).
    options = Options.for_user(request.user, plan=x.plan, lead_owners=True)
    return render(request, "routing/lead_explain.html", {"x": x, "lead": lead, "linkable_owners": options.owner_ids})


@require_GET
@login_required
def conflicts(request: HtmxHttpRequest) -> HttpResponse:
    if not works_queue(request.user):
        raise Http404
    plan, page = selectors.conflicts_page(user=request.user, page=request.GET.get("page"))
    template = "routing/conflicts.html#conflicts" if request.htmx else "routing/conflicts.html"
    return render(request, template, {"plan": plan, "page": page})
