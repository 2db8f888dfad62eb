"""Forms of the routing pages: queue filters, bulk manual routing, locks. Every choice the browser
sends is checked against what this user may touch; nothing is trusted."""

from __future__ import annotations

from django import forms
from django.db.models import QuerySet

from routing.selectors import QueueFilters
from salesos.http import parse_id
from territories.models import Territory

MAX_BULK = 500


class QueueFilterForm(forms.Form):
    country = forms.CharField(required=False, max_length=2, label="Country",
                              widget=forms.TextInput(attrs={"placeholder": "US", "autocomplete": "off"}))
    state = forms.CharField(required=False, max_length=8, label="State",
                            widget=forms.TextInput(attrs={"placeholder": "US-CA", "autocomplete": "off"}))
    industry = forms.CharField(required=False, max_length=16, label="Industry code",
                               widget=forms.TextInput(attrs={"placeholder": "62 (and below)", "autocomplete": "off"}))
    since = forms.DateField(required=False, label="Created since", widget=forms.DateInput(attrs={"type": "date"}))
    q = forms.CharField(required=False, max_length=100, label="Name or domain",
                        widget=forms.TextInput(attrs={"placeholder": "Search accounts", "type": "search"}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.widget.attrs.setdefault("class", "form-control")

    def filters(self) -> QueueFilters:
        """The valid filters; a malformed one (a bad date) is dropped, not fatal."""
        if not self.is_bound:
            return QueueFilters()
        self.is_valid()
        data = {k: v for k, v in getattr(self, "cleaned_data", {}).items() if k not in self.errors}
        return QueueFilters(
            country=(data.get("country") or "").strip().upper(),
            state=(data.get("state") or "").strip().upper(),
            industry=(data.get("industry") or "").strip(),
            since=data.get("since"),
            q=(data.get("q") or "").strip(),
        )


class TerritoryCodeField(forms.CharField):
    """A territory typed by code (the input offers a searchable list), resolved within the given
    territories only: a code of another plan, an overlay or a territory the user may not touch is
    'unknown' to them."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_length", 40)
        super().__init__(*args, **kwargs)
        self.territories: QuerySet[Territory] = Territory.objects.none()

    def clean(self, value):
        code = super().clean(value)
        if not code:
            return None
        code = code.strip()
        # The datalist shows "CODE · Name"; keep the code if the whole label was submitted.
        code = code.split(" · ", 1)[0].strip()
        territory = self.territories.filter(code__iexact=code).first()
        if territory is None:
            raise forms.ValidationError(
                f"No territory “{code}” you can route into in the active plan. Pick one from the list.",
                code="unknown_territory",
            )
        return territory


class IdsField(forms.TypedMultipleChoiceField):
    """Integer ids within the database's range; which ids are acceptable is the form's business
    (``clean_<field>``)."""

    default_error_messages = {
        "invalid_choice": (
            "The selection holds a value that is not an account id. Nothing was changed; "
            "reload the queue and try again."
        ),
    }

    def __init__(self, **kwargs):
        super().__init__(coerce=int, **kwargs)

    def valid_value(self, value) -> bool:
        return parse_id(value) is not None


class BulkRouteForm(forms.Form):
    accounts = IdsField(
        error_messages={"required": "Select at least one account to route."},
    )
    territory = TerritoryCodeField(
        label="Territory",
        error_messages={"required": "Choose the territory to route the selected accounts into."},
    )
    reason = forms.CharField(
        max_length=200,
        label="Reason",
        error_messages={"required": "Say why these accounts go there (kept in the ownership history)."},
        widget=forms.TextInput(attrs={"placeholder": "e.g. Partner referral for the Bay Area team"}),
    )

    def __init__(self, *args, territories: QuerySet[Territory], queue: QuerySet, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["territory"]
        assert isinstance(field, TerritoryCodeField)
        field.territories = territories
        self.queue = queue

    def clean_accounts(self) -> list[int]:
        ids = list(dict.fromkeys(self.cleaned_data["accounts"]))
        if len(ids) > MAX_BULK:
            raise forms.ValidationError(f"Route at most {MAX_BULK} accounts at a time.")
        waiting = set(self.queue.filter(pk__in=ids).values_list("pk", flat=True))
        gone = [i for i in ids if i not in waiting]
        if gone:
            raise forms.ValidationError(
                "%(n)d of the selected accounts are no longer in the unassigned queue (someone routed "
                "them meanwhile). Nothing was changed; reload the queue and try again.",
                params={"n": len(gone)},
                code="not_in_queue",
            )
        return ids

    def clean_reason(self) -> str:
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError("Say why these accounts go there (kept in the ownership history).")
        return reason


class LockForm(forms.Form):
    territory = TerritoryCodeField(
        label="Lock to territory",
        error_messages={"required": "Choose the territory to lock this account to."},
    )

    def __init__(self, *args, territories: QuerySet[Territory], **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["territory"]
        assert isinstance(field, TerritoryCodeField)
        field.territories = territories
