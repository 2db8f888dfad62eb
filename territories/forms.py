"""The territory form and the rep assignment form. The rule and the named-account list the
territory form saves come from the rule builder's fields, parsed by ``territories.builder.codec``."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.contrib.auth import get_user_model

from salesos.models import SalesProfile
from salesos.roles import role_of
from territories.models import RepAssignment, Territory, TerritoryPlan

User = get_user_model()


class RepChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        profile = getattr(obj, "sales_profile", None)
        role = f" · {profile.get_role_display()}" if profile else ""
        return f"{obj.get_full_name() or obj.username}{role}"


def _reps_queryset():
    return (
        User.objects.filter(is_active=True, sales_profile__isnull=False)
        .select_related("sales_profile")
        .order_by("first_name", "last_name", "username")
    )


OVERLAY_ROWS = 3


class TerritoryForm(forms.Form):
    """Name, description, type, parent and the finer settings; on create also the reps. The rule
    and the named-account list come from the builder fields (``parse_rule``, ``named`` ids)."""

    name = forms.CharField(max_length=120)
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    type = forms.ChoiceField(choices=Territory.Type.choices, initial=Territory.Type.GEOGRAPHIC)
    parent = forms.CharField(required=False, max_length=40, help_text="Code of the parent territory")
    code = forms.CharField(required=False, max_length=40, help_text="Left blank, made from the name")
    priority = forms.IntegerField(initial=0, min_value=-1000, max_value=1000)
    is_overlay = forms.BooleanField(required=False)
    credit_percent = forms.IntegerField(initial=100, min_value=0, max_value=100)
    lead_assignment = forms.ChoiceField(choices=Territory.LeadAssignment.choices,
                                        initial=Territory.LeadAssignment.PRIMARY)
    # The territory's version when the edit form was opened (territory_update refuses a stale one).
    version = forms.CharField(required=False, max_length=20, widget=forms.HiddenInput)

    def __init__(self, *args: Any, plan: TerritoryPlan, territory: Territory | None = None,
                 with_reps: bool = True, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.plan, self.territory, self.with_reps = plan, territory, with_reps
        self.fields["lead_assignment"].widget.attrs["class"] = "form-select"
        if with_reps:
            self.fields["primary"] = RepChoiceField(_reps_queryset(), required=False, empty_label="— Vacant —")
            self.fields["backup"] = RepChoiceField(_reps_queryset(), required=False, empty_label="— None —")
            for i in range(OVERLAY_ROWS):
                self.fields[f"overlay_{i}"] = RepChoiceField(_reps_queryset(), required=False, empty_label="—")
                self.fields[f"overlay_{i}_split"] = forms.IntegerField(required=False, min_value=0, max_value=100)
            for name in ("primary", "backup", *(f"overlay_{i}" for i in range(OVERLAY_ROWS))):
                self.fields[name].widget.attrs["class"] = "form-select"

    @property
    def overlay_rows(self) -> list[tuple[forms.BoundField, forms.BoundField]]:
        return [(self[f"overlay_{i}"], self[f"overlay_{i}_split"]) for i in range(OVERLAY_ROWS)]

    def clean_version(self) -> int | None:
        """The version the edit was made against; None when none was posted (no check). A value
        that is no version is one no territory has: the save is refused as made against another
        version, with that message."""
        raw = (self.cleaned_data.get("version") or "").strip()
        if not raw:
            return None
        return int(raw) if raw.isdigit() and len(raw) <= 9 else -1

    def clean_parent(self) -> Territory | None:
        code = (self.cleaned_data.get("parent") or "").strip()
        if not code:
            return None
        parent = Territory.objects.filter(plan=self.plan, code__iexact=code).first()
        if parent is None:
            raise forms.ValidationError(f"No territory {code} in {self.plan}.")
        if self.territory is not None and parent.ancestors(include_self=True).filter(pk=self.territory.pk).exists():
            raise forms.ValidationError("A territory cannot sit inside itself or its own children.")
        return parent

    def clean(self) -> dict[str, Any] | None:
        data = super().clean()
        if not self.with_reps:
            return data
        if data is None:  # Form.clean() returns cleaned_data; the stubs allow None for overrides
            raise TypeError("Form.clean() returned None")
        reps: list[dict[str, Any]] = []
        people: dict[tuple[int, str], str] = {}

        def add(user: Any, slot: str, split: int | None, key: str) -> None:
            if (user.pk, slot) in people:
                self.add_error(key, f"{user.get_full_name() or user.username} is already an {slot} here.")
                return
            people[(user.pk, slot)] = key
            reps.append({"user": user, "slot": slot, "split_percent": split})

        if data.get("primary"):
            add(data["primary"], RepAssignment.Slot.PRIMARY, 100, "primary")
        total = 0
        for i in range(OVERLAY_ROWS):
            user, split = data.get(f"overlay_{i}"), data.get(f"overlay_{i}_split")
            if user is None:
                continue
            if split is None:
                self.add_error(f"overlay_{i}_split", "Give the overlay's split percent.")
                continue
            total += split
            add(user, RepAssignment.Slot.OVERLAY, split, f"overlay_{i}")
        if total > 100:
            self.add_error(None, f"Overlay splits add up to {total}%: at most 100%.")
        if data.get("backup"):
            if data.get("primary") and data["backup"].pk == data["primary"].pk:
                self.add_error("backup", "The backup must be someone other than the primary.")
            else:
                add(data["backup"], RepAssignment.Slot.BACKUP, 0, "backup")
        data["reps"] = reps
        return data

    def service_data(self) -> dict[str, Any]:
        d = self.cleaned_data
        data = {k: d[k] for k in ("name", "description", "type", "priority", "is_overlay", "credit_percent",
                                  "lead_assignment")}
        data["parent"] = d.get("parent")
        if d.get("code"):
            data["code"] = d["code"].strip()
        if self.with_reps:
            data["reps"] = d.get("reps", [])
        return data


class AssignmentForm(forms.Form):
    user = RepChoiceField(queryset=User.objects.none(), label="Rep")
    slot = forms.ChoiceField(choices=RepAssignment.Slot.choices, initial=RepAssignment.Slot.PRIMARY)
    split_percent = forms.IntegerField(required=False, min_value=0, max_value=100, label="Split %")
    start_date = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args: Any, assigner: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        people = User.objects.filter(is_active=True, sales_profile__isnull=False).select_related("sales_profile")
        if role_of(assigner) == SalesProfile.Role.MANAGER:
            people = people.filter(pk__in=[assigner.pk, *assigner.direct_reports.values_list("user_id", flat=True)])
        cast(RepChoiceField, self.fields["user"]).queryset = people.order_by("first_name", "last_name", "username")
        for name in ("user", "slot"):
            self.fields[name].widget.attrs["class"] = "form-select form-select-sm"
        for name in ("split_percent", "start_date"):
            self.fields[name].widget.attrs["class"] = "form-control form-control-sm"
