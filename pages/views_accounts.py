"""Account and lead pages: create, edit and detail. Saving goes through
``routing.services.account_create`` / ``account_edit`` (both save through ``account_save``), so an
account is routed the moment it is created or a routable field changes, the page says where it
landed, and a manager or director cannot place it outside the territories they may edit."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from pages import record_lists as lists
from pages.activities import ActivityForm, activity_log
from routing.services import account_create, routable_snapshot
from routing.services import account_edit as account_edit_service
from salesos.forms import AccountForm
from salesos.http import HtmxHttpRequest
from salesos.models import Account, Activity, GeoArea, Industry, Opportunity, SalesProfile
from salesos.roles import EDITOR_ROLES, edits_accounts, role_of
from territories.access import (
    account_get_for_user,
    account_may_edit,
    accounts_visible_to,
    lead_get_for_user,
    sees_everything,
)
from territories.models import AccountTerritory, TerritoryPlan
from territories.placement import Placement, placement

Role = SalesProfile.Role
RECENT_ACTIVITIES = 10
OPEN_DEALS = 20


def _form_context(form: AccountForm, **extra) -> dict:
    # The lists behind the inputs' suggestions: ~250 countries, the chosen country's states,
    # ~200 reference industries (three queries).
    country = (form["country"].value() or "").strip().upper()
    return {
        "form": form,
        "countries": GeoArea.objects.filter(level=GeoArea.Level.COUNTRY).order_by("code").values_list("code", "name"),
        "states": _states_of(country),
        "industries": Industry.objects.order_by("scheme", "code").values_list("code", "title", "scheme"),
        **extra,
    }


def _states_of(country: str):
    if not country:
        return []
    states = GeoArea.objects.filter(level=GeoArea.Level.STATE, country=country)
    return states.order_by("code").values_list("code", "name")


def _landed_message(where: Placement) -> str:
    territory = where.territory
    if territory is None:
        return "No territory matched: it is in the unassigned queue."
    owner = where.owner
    who = f"owner {owner.get_full_name() or owner.username}" if owner else "no owner yet (the territory is vacant)"
    return f"Routed to {territory.code} {territory.name}, {who}."


def _after_save(request: HttpRequest, account: Account, verb: str) -> HttpResponse:
    messages.success(request, f"{verb} {account.name}. {_landed_message(placement(account))}")
    return redirect("accounts:detail", pk=account.pk)


@require_http_methods(["GET", "POST"])
@login_required
def account_new(request: HttpRequest) -> HttpResponse:
    # Reps view accounts and log activities; the service refuses them too.
    if not edits_accounts(request.user):
        raise Http404
    form = AccountForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            # Visible is not editable: the new account must land in a territory the user may edit.
            account = account_create(account=form.save(commit=False), by=request.user)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            return _after_save(request, account, "Created")
    status = 422 if request.method == "POST" else 200
    return render(request, "pages/account_form.html", _form_context(form, creating=True), status=status)


@require_http_methods(["GET", "POST"])
@login_required
def account_edit(request: HttpRequest, pk: int) -> HttpResponse:
    # Visible is not editable (territories.access.accounts_editable_by): an account the user may
    # see but not edit answers 404, like a missing one.
    account = account_get_for_user(user=request.user, pk=pk)
    if not account_may_edit(user=request.user, account=account):
        raise Http404("No such account")
    before = routable_snapshot(account)
    form = AccountForm(request.POST or None, instance=account)
    if request.method == "POST" and form.is_valid():
        try:
            account = account_edit_service(account=form.save(commit=False), before=before, by=request.user)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            return _after_save(request, account, "Saved")
    status = 422 if request.method == "POST" else 200
    return render(
        request, "pages/account_form.html", _form_context(form, creating=False, account=account), status=status
    )


def _detail_context(request: HttpRequest, account: Account, activity_form: ActivityForm | None = None) -> dict:
    overlays = (
        AccountTerritory.objects.filter(account=account, valid_to__isnull=True, is_primary=False, plan__status="active")
        .select_related("territory")
        .order_by("territory__code")
    )
    # Territory, owner and the primary row itself (its source and date): one placements() call.
    where = placement(account)
    deals = list(
        Opportunity.objects.filter(account=account, status=Opportunity.Status.OPEN)
        .select_related("owner")
        .order_by("close_date")[:OPEN_DEALS]
    )
    # Territories and people on the page the user may open (the others are shown without a link).
    options = lists.Options.for_user(request.user, plan=TerritoryPlan.active())
    return {
        "account": account,
        "where": where,
        "primary": where.row,
        "overlays": list(overlays),
        "deals": deals,
        "open_total": sum(d.amount for d in deals),
        "activities": _recent_activities(account),
        "activity_form": activity_form or ActivityForm(initial={"kind": Activity.Kind.CALL}),
        "leads": list(account.leads.order_by("-created_at")[:10]),
        "can_edit": account_may_edit(user=request.user, account=account),
        "sees_everything": sees_everything(request.user),
        "linkable_territories": options.territory_ids,
        "linkable_owners": options.owner_ids,
    }


def _recent_activities(account: Account) -> list[Activity]:
    return list(Activity.objects.filter(account=account).select_related("user").order_by("-at")[:RECENT_ACTIVITIES])


@require_GET
@login_required
def account_detail(request: HttpRequest, pk: int) -> HttpResponse:
    account = account_get_for_user(user=request.user, pk=pk)
    return render(request, "pages/account_detail.html", _detail_context(request, account))


@require_POST
@login_required
def activity_add(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Logs a call, email or meeting on the account. Without JS: redirect back to the account
    (or the page again with the messages, 422). With htmx: the activities card, fresh or with
    its messages."""
    account = account_get_for_user(user=request.user, pk=pk)
    form = ActivityForm(request.POST)
    if form.is_valid():
        try:
            activity_log(user=request.user, account_id=account.pk, kind=form.cleaned_data["kind"],
                         note=form.cleaned_data["note"])
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
    if form.is_valid():
        if request.htmx:
            context = {"account": account, "activities": _recent_activities(account),
                       "activity_form": ActivityForm(initial={"kind": form.cleaned_data["kind"]}), "logged": True}
            return render(request, "pages/account_detail.html#activities", context)
        messages.success(request, f"{Activity.Kind(form.cleaned_data['kind']).label} logged on {account.name}.")
        return redirect(reverse("accounts:detail", args=[account.pk]) + "#activities")
    if request.htmx:
        context = {"account": account, "activities": _recent_activities(account), "activity_form": form}
        return render(request, "pages/account_detail.html#activities", context)
    return render(request, "pages/account_detail.html", _detail_context(request, account, form), status=422)


@require_GET
@login_required
def state_options(request: HttpRequest) -> HttpResponse:
    """The ``<option>``s of a country's states, for the account form's state suggestions."""
    if role_of(request.user) not in EDITOR_ROLES:
        raise Http404
    country = request.GET.get("country", "").strip().upper()[:2]
    return render(request, "pages/account_form.html#state-options", {"states": _states_of(country)})


@require_GET
@login_required
def lead_detail(request: HttpRequest, pk: int) -> HttpResponse:
    lead = lead_get_for_user(user=request.user, pk=pk)
    options = lists.Options.for_user(request.user, plan=TerritoryPlan.active(), lead_owners=True)
    context = {"lead": lead, "linkable_territories": options.territory_ids, "linkable_owners": options.owner_ids,
               "account_visible": lead.account_id is not None
               and accounts_visible_to(request.user).filter(pk=lead.account_id).exists()}
    return render(request, "pages/lead_detail.html", context)


# --- the lists ---------------------------------------------------------------------------------


def _filters(request: HttpRequest, *, leads: bool) -> tuple[lists.RecordFilterForm, TerritoryPlan | None]:
    plan = TerritoryPlan.active()
    options = lists.Options.for_user(request.user, plan=plan, lead_owners=leads)
    return lists.RecordFilterForm(request.GET, options=options), plan


def _list_page(request: HtmxHttpRequest, template: str, form: lists.RecordFilterForm, qs, rows) -> HttpResponse:
    context: dict = {"form": form, "page": None, "rows": [], "filtered": form.is_valid() and bool(form.querystring)}
    status = 400
    if qs is not None:
        page = lists.page_of(qs, request.GET.get("page"))
        context.update(page=page, rows=rows(page), extra=form.querystring)
        status = 200
    country = form.cleaned_data.get("country", "") if form.is_valid() else ""
    context.update(countries=lists.countries(), states=lists.states_for(country))
    if request.htmx:
        # htmx swaps only 2xx answers: the fragment carries the messages instead of the status.
        return render(request, template + "#results", context)
    return render(request, template, context, status=status)


@require_GET
@login_required
def account_list(request: HtmxHttpRequest) -> HttpResponse:
    """Every account the user may see, searchable and filtered; bad filters answer 400 with the
    form's messages and no rows."""
    form, plan = _filters(request, leads=False)
    qs = lists.accounts_filtered(user=request.user, form=form, plan=plan) if form.is_valid() else None
    return _list_page(request, "pages/account_list.html", form, qs, lambda page: lists.account_rows(page, plan=plan))


@require_GET
@login_required
def account_export(request: HttpRequest) -> HttpResponse | StreamingHttpResponse:
    """The accounts the list shows with the same filters, all pages, as CSV (streamed)."""
    form, plan = _filters(request, leads=False)
    if not form.is_valid():
        return _bad_filters(form)
    qs = lists.accounts_filtered(user=request.user, form=form, plan=plan)
    return _csv_response(lists.accounts_csv(qs, plan=plan), "accounts.csv")


@require_GET
@login_required
def lead_list(request: HtmxHttpRequest) -> HttpResponse:
    form, _ = _filters(request, leads=True)
    qs = lists.leads_filtered(user=request.user, form=form) if form.is_valid() else None
    return _list_page(request, "pages/lead_list.html", form, qs, list)


@require_GET
@login_required
def lead_export(request: HttpRequest) -> HttpResponse | StreamingHttpResponse:
    form, _ = _filters(request, leads=True)
    if not form.is_valid():
        return _bad_filters(form)
    return _csv_response(lists.leads_csv(lists.leads_filtered(user=request.user, form=form)), "leads.csv")


def _bad_filters(form: lists.RecordFilterForm) -> HttpResponse:
    problems = "; ".join(f"{form.fields[f].label if f in form.fields else f}: {' '.join(str(m) for m in e)}"
                         for f, e in form.errors.items())
    return HttpResponse(f"Nothing exported. {problems}\n", status=400, content_type="text/plain; charset=utf-8")


def _csv_response(lines, filename: str) -> StreamingHttpResponse:
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
