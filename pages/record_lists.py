"""The accounts and leads lists: filters, one page of rows, and the CSV export of the same rows.

Scope comes from the one definition of what a user may see (``territories.access``:
``accounts_visible_to`` / ``leads_visible_to``), and the filter choices only offer what is in
that scope: the visible territories of the active plan and the people who own them. Every filter
value is validated on the server; a bad one answers the page with the message and no rows.

Where an account sits and who owns it are read through ``territories.placement`` (accounts have no
territory or owner column): the territory filter keeps accounts whose current primary territory
is in the chosen subtree, the owner filter accounts whose territory that person owns today.
"""

from __future__ import annotations

import csv
import itertools
from collections.abc import Iterator
from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.core.paginator import Page, Paginator
from django.db.models import Q, QuerySet

from salesos.csv_export import Echo, csv_cell
from salesos.models import Account, GeoArea, Industry, Lead
from territories.access import accounts_visible_to, leads_visible_to
from territories.filters import Options
from territories.models import TerritoryPlan
from territories.placement import UNASSIGNED as NOWHERE
from territories.placement import Placement, accounts_assigned, accounts_in, accounts_unassigned, placements

User = get_user_model()

PAGE_SIZE = 50
EXPORT_CHUNK = 2000

# Company size by employees: (value, label, lowest, highest or None).
SIZE_BANDS: list[tuple[str, str, int, int | None]] = [
    ("1-49", "1–49 employees", 1, 49),
    ("50-249", "50–249 employees", 50, 249),
    ("250-999", "250–999 employees", 250, 999),
    ("1000-4999", "1,000–4,999 employees", 1000, 4999),
    ("5000+", "5,000+ employees", 5000, None),
]
ASSIGNED, UNASSIGNED = "assigned", "unassigned"


def person(user: Any) -> str:
    return (user.get_full_name() or user.username) if user is not None else ""


class RecordFilterForm(forms.Form):
    q = forms.CharField(required=False, max_length=100, strip=True, label="Name")
    territory = forms.TypedChoiceField(required=False, coerce=int, empty_value=None, label="Territory")
    owner = forms.TypedChoiceField(required=False, coerce=int, empty_value=None, label="Owner")
    industry = forms.ChoiceField(required=False, label="Industry")
    size = forms.ChoiceField(required=False, label="Size", choices=[("", "Any size")] +
                             [(value, label) for value, label, _, _ in SIZE_BANDS])
    country = forms.RegexField(required=False, regex=r"^[A-Za-z]{2}$", max_length=2, label="Country",
                               error_messages={"invalid": "Use a two-letter country code, e.g. US."})
    state = forms.RegexField(required=False, regex=r"^[A-Za-z]{2}-[A-Za-z0-9]{1,3}$", max_length=8, label="State",
                             error_messages={"invalid": "Use an ISO 3166-2 state code, e.g. US-CA."})
    assigned = forms.ChoiceField(required=False, label="Assignment", choices=[
        ("", "Assigned or not"), (ASSIGNED, "Assigned"), (UNASSIGNED, "Unassigned")])

    def __init__(self, data, *, options: Options):
        super().__init__(data)
        self.options = options
        fields: dict[str, Any] = self.fields  # ChoiceFields: their choices are set per user
        fields["territory"].choices = [("", "All territories")] + [
            (str(t.pk), f"{t.code} {t.name}") for t in options.territories
        ]
        self.fields["territory"].error_messages["invalid_choice"] = "Pick a territory from the list."
        fields["owner"].choices = [("", "Any owner")] + [(str(u.pk), person(u)) for u in options.owners]
        self.fields["owner"].error_messages["invalid_choice"] = "Pick an owner from the list."
        industries = Industry.objects.order_by("scheme", "code").values_list("code", "title")
        fields["industry"].choices = [("", "Any industry")] + [(c, f"{c} {t}") for c, t in industries]
        self.fields["industry"].error_messages["invalid_choice"] = "Pick an industry from the list."

    def clean_country(self) -> str:
        return self.cleaned_data["country"].upper()

    def clean_state(self) -> str:
        return self.cleaned_data["state"].upper()

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        country, state = data.get("country"), data.get("state")
        if country and state and not state.startswith(f"{country}-"):
            self.add_error("state", f"{state} is not a state of {country}.")
        return data

    @property
    def querystring(self) -> str:
        """The valid filters as a query string (without the page), for the pager and the export."""
        from urllib.parse import urlencode

        if not self.is_valid():
            return ""
        return urlencode({k: v for k, v in self.data.items() if k in self.fields and self.cleaned_data.get(k)})


def _common(qs: QuerySet, data: dict) -> QuerySet:
    if data.get("industry"):
        qs = qs.filter(industry_code__startswith=data["industry"])
    if data.get("size"):
        _, _, low, high = next(b for b in SIZE_BANDS if b[0] == data["size"])
        qs = qs.filter(employees__gte=low) if high is None else qs.filter(employees__range=(low, high))
    if data.get("country"):
        qs = qs.filter(country=data["country"])
    if data.get("state"):
        qs = qs.filter(state=data["state"])
    return qs


def _subtree(options: Options, territory_id: int) -> list[int]:
    # Only the visible part of the subtree: the choices were the visible territories already.
    root = next(t for t in options.territories if t.pk == territory_id)
    visible = {t.pk for t in options.territories}
    return [pk for pk in root.descendants(include_self=True).values_list("pk", flat=True) if pk in visible]


def accounts_filtered(*, user, form: RecordFilterForm, plan: TerritoryPlan | None) -> QuerySet[Account]:
    """The accounts the user may see that pass the (valid) filters, by name."""
    data = form.cleaned_data
    qs = accounts_visible_to(user)
    if data.get("q"):
        qs = qs.filter(name__icontains=data["q"])
    if data.get("territory"):
        qs = accounts_in(_subtree(form.options, data["territory"]), qs=qs)
    if data.get("owner"):
        owned = form.options.owner_of
        qs = accounts_in([t for t, owner in owned.items() if owner == data["owner"]], qs=qs)
    if data.get("assigned") == ASSIGNED:
        qs = accounts_assigned(qs=qs, plan=plan)
    elif data.get("assigned") == UNASSIGNED:
        qs = accounts_unassigned(qs=qs, plan=plan)
    return _common(qs, data).select_related("industry").order_by("name", "pk")


def leads_filtered(*, user, form: RecordFilterForm) -> QuerySet[Lead]:
    data = form.cleaned_data
    qs = leads_visible_to(user)
    if data.get("q"):
        q = data["q"]
        qs = qs.filter(Q(company__icontains=q) | Q(first_name__icontains=q) | Q(last_name__icontains=q))
    if data.get("territory"):
        qs = qs.filter(territory_id__in=_subtree(form.options, data["territory"]))
    if data.get("owner"):
        qs = qs.filter(owner_id=data["owner"])
    if data.get("assigned") == ASSIGNED:
        qs = qs.filter(territory__isnull=False)
    elif data.get("assigned") == UNASSIGNED:
        qs = qs.filter(territory__isnull=True)
    return _common(qs, data).select_related("territory", "owner", "account").order_by("-created_at", "pk")


def account_rows(accounts, *, plan: TerritoryPlan | None) -> list[tuple[Account, Placement]]:
    accounts = list(accounts)
    if plan is None:
        return [(a, NOWHERE) for a in accounts]
    found = placements([a.pk for a in accounts], plan=plan)
    return [(a, found[a.pk]) for a in accounts]


def page_of(qs: QuerySet, page: str | None) -> Page:
    return Paginator(qs, PAGE_SIZE).get_page(page)


def states_for(country: str):
    if not country:
        return []
    return GeoArea.objects.filter(level=GeoArea.Level.STATE, country=country).order_by("code").values_list(
        "code", "name"
    )


def countries():
    return GeoArea.objects.filter(level=GeoArea.Level.COUNTRY).order_by("code").values_list("code", "name")


# --- CSV ---------------------------------------------------------------------------------------




ACCOUNT_CSV_HEADER = ["id", "name", "domain", "status", "territory_code", "territory_name", "owner", "owner_email",
                   "industry_code", "employees", "annual_revenue", "country", "state", "city"]
LEAD_CSV_HEADER = ["id", "company", "first_name", "last_name", "email", "status", "source", "territory_code",
                "territory_name", "owner", "account_id", "industry_code", "employees", "country", "state",
                "created_at"]


def accounts_csv(qs: QuerySet[Account], *, plan: TerritoryPlan | None) -> Iterator[str]:
    """The rows of ``qs`` as CSV lines, read in chunks (placements per chunk: a few queries per
    2,000 accounts)."""
    writer = csv.writer(Echo())
    yield writer.writerow(ACCOUNT_CSV_HEADER)
    for chunk in itertools.batched(qs.iterator(chunk_size=EXPORT_CHUNK), EXPORT_CHUNK):
        for account, where in account_rows(chunk, plan=plan):
            territory, owner = where.territory, where.owner
            yield writer.writerow([csv_cell(v) for v in (
                account.pk, account.name, account.domain, account.status,
                territory.code if territory else "", territory.name if territory else "",
                person(owner), owner.email if owner else "",
                account.industry_code, account.employees, account.annual_revenue,
                account.country, account.state, account.city,
            )])


def leads_csv(qs: QuerySet[Lead]) -> Iterator[str]:
    writer = csv.writer(Echo())
    yield writer.writerow(LEAD_CSV_HEADER)
    for lead in qs.iterator(chunk_size=EXPORT_CHUNK):
        territory, owner = lead.territory, lead.owner
        yield writer.writerow([csv_cell(v) for v in (
            lead.pk, lead.company, lead.first_name, lead.last_name, lead.email, lead.status, lead.source,
            territory.code if territory else "", territory.name if territory else "",
            person(owner), lead.account_id, lead.industry_code, lead.employees, lead.country, lead.state,
            lead.created_at.isoformat(),
        )])
