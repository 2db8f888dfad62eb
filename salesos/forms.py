"""Account forms. Every routable value is checked against the reference data on the server (the
browser's lists are only a convenience), so a record can only be saved with facts the routing
rules can read."""

from __future__ import annotations

import re

from django import forms

from salesos.models import Account, GeoArea, Industry, Region

NAICS_CODE = re.compile(r"^\d{2,6}$")


class AccountForm(forms.ModelForm):
    # Typed as a code: a reference industry ("62", "5415", "SIC 73"'s code) or any NAICS code
    # string of 2-6 digits ("622110"), which links the deepest reference node above it.
    industry_code = forms.CharField(
        required=False,
        max_length=16,
        label="Industry",
        help_text="A NAICS code (2–6 digits) or a code from the list.",
        widget=forms.TextInput(attrs={"list": "industry-options", "autocomplete": "off", "placeholder": "e.g. 5415"}),
    )
    employees = forms.IntegerField(
        required=False,
        min_value=0,
        max_value=2_147_483_647,
        label="Employees",
        error_messages={"min_value": "Employees cannot be negative.", "invalid": "Enter a whole number."},
    )
    annual_revenue = forms.DecimalField(
        required=False,
        min_value=0,
        max_digits=16,
        decimal_places=2,
        label="Annual revenue (USD)",
        error_messages={"min_value": "Revenue cannot be negative.", "invalid": "Enter an amount, e.g. 2500000."},
    )
    potential = forms.DecimalField(
        required=False,
        min_value=0,
        max_digits=16,
        decimal_places=2,
        label="Revenue potential (USD)",
        error_messages={"min_value": "Potential cannot be negative."},
    )

    class Meta:
        model = Account
        fields = [
            "name",
            "domain",
            "status",
            "country",
            "region",
            "state",
            "city",
            "metro",
            "postal_code",
            "industry_code",
            "employees",
            "annual_revenue",
            "potential",
        ]
        labels = {"state": "State / province", "postal_code": "Postal code", "metro": "Metro area"}
        help_texts = {
            "country": "ISO 3166-1 alpha-2 code, e.g. US, DE.",
            "state": "ISO 3166-2 code under the country, e.g. US-CA (or just CA).",
            "region": "Filled from the country when left empty.",
        }
        widgets = {
            "name": forms.TextInput(attrs={"autocomplete": "off"}),
            "country": forms.TextInput(attrs={"list": "country-options", "autocomplete": "off", "placeholder": "US"}),
            "state": forms.TextInput(attrs={"list": "state-options", "autocomplete": "off", "placeholder": "US-CA"}),
            "postal_code": forms.TextInput(attrs={"autocomplete": "off"}),
        }
        error_messages = {"name": {"required": "Give the account a name."}}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["name"].required = True
        self.fields["region"].required = False
        self.fields["region"].choices = [("", "—")] + list(Region.choices)
        self._industry: Industry | None = None
        self._country: GeoArea | None = None
        for field in self.fields.values():
            css = "form-select" if isinstance(field.widget, forms.Select) else "form-control"
            field.widget.attrs.setdefault("class", css)

    def full_clean(self) -> None:
        super().full_clean()
        # Mark the faulty inputs so the message beside each one is tied to it.
        for name in self.errors:
            if name in self.fields:
                attrs = self.fields[name].widget.attrs
                attrs["class"] = f"{attrs.get('class', '')} is-invalid".strip()
                attrs["aria-describedby"] = f"id_{name}-error"

    def clean_name(self) -> str:
        name = (self.cleaned_data.get("name") or "").strip()
        if not name:
            raise forms.ValidationError("Give the account a name.")
        return name

    def clean_country(self) -> str:
        code = (self.cleaned_data.get("country") or "").strip().upper()
        if not code:
            return ""
        country = GeoArea.objects.filter(level=GeoArea.Level.COUNTRY, code=code).select_related("parent").first()
        if country is None:
            raise forms.ValidationError(f"“{code}” is not a known country code (ISO 3166-1 alpha-2, e.g. US, DE).")
        self._country = country
        return code

    def clean_state(self) -> str:
        return (self.cleaned_data.get("state") or "").strip().upper()

    def clean_industry_code(self) -> str:
        code = (self.cleaned_data.get("industry_code") or "").strip()
        if not code:
            self._industry = None
            return ""
        exact = list(Industry.objects.filter(code=code).order_by("scheme"))
        if exact:
            # The same code can exist in two schemes; NAICS is the scheme routing rules use.
            self._industry = next((i for i in exact if i.scheme == Industry.Scheme.NAICS), exact[0])
            return code
        if not NAICS_CODE.match(code):
            raise forms.ValidationError(f"“{code}” is neither a known industry code nor a NAICS code (2–6 digits).")
        prefixes = [code[:n] for n in range(2, len(code))]
        parents = Industry.objects.filter(scheme=Industry.Scheme.NAICS, code__in=prefixes)
        self._industry = max(parents, key=lambda i: len(i.code), default=None)
        return code

    def clean(self):
        data = super().clean()
        country, state = data.get("country"), data.get("state")
        if state and "state" not in self.errors:
            if not country:
                self.add_error("state", "Choose the country first: a state is read under its country.")
            elif "country" not in self.errors:
                if "-" not in state:
                    state = f"{country}-{state}"
                if not state.startswith(f"{country}-"):
                    self.add_error("state", f"“{state}” is not a subdivision of {country}.")
                elif not GeoArea.objects.filter(level=GeoArea.Level.STATE, code=state, country=country).exists():
                    self.add_error("state", f"“{state}” is not a known state or province of {country} (ISO 3166-2).")
                else:
                    data["state"] = state
        if not data.get("region") and self._country is not None and self._country.parent is not None:
            region = self._country.parent.code
            if region in Region.values:
                data["region"] = region
        return data

    def _post_clean(self):
        super()._post_clean()
        # Link the reference industry the code falls under (or none), after the model fields
        # were copied onto the instance.
        self.instance.industry = self._industry
        if "state" in self.cleaned_data:
            self.instance.state = self.cleaned_data["state"]
        if "region" in self.cleaned_data:
            self.instance.region = self.cleaned_data["region"] or ""
