"""Forms of the proposal pages: they parse and validate input; the services write."""

from __future__ import annotations

from django import forms

from planning.models import DealPolicy, Reassignment, ReassignmentSettings
from salesos.models import Opportunity

Status = Reassignment.Status
# A threshold among the stages an open deal can be in.
OPEN_STAGES = [(v, label) for v, label in Opportunity.Stage.choices if not v.startswith("closed")]


class ReassignmentSettingsForm(forms.Form):
    admin_rule_edits = forms.ChoiceField(
        label="Admins' rule edits on the active plan", choices=ReassignmentSettings.AdminEdits.choices,
        widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
    )
    deal_policy = forms.ChoiceField(label="Default open-deal policy", choices=DealPolicy.choices)
    deal_stage = forms.ChoiceField(
        label="Stage-based threshold", choices=OPEN_STAGES,
        help_text="Under the stage-based policy, deals at or past this stage stay with their rep.",
    )
    transition_days = forms.IntegerField(
        label="Default transition window (days)", min_value=0, max_value=365,
        help_text="The outgoing rep keeps read-only access this long after the effective date.",
    )
    reminder_days = forms.IntegerField(label="Remind approvers after (days)", min_value=1, max_value=60)
    escalation_days = forms.IntegerField(
        label="Escalate to the approver's manager after (days)", min_value=1, max_value=90,
    )
    notice_subject = forms.CharField(label="Customer notice subject", max_length=200)
    notice_body = forms.CharField(
        label="Customer notice body", max_length=5000, widget=forms.Textarea(attrs={"rows": 8})
    )

    @classmethod
    def for_settings(cls, settings: ReassignmentSettings) -> ReassignmentSettingsForm:
        return cls(initial={name: getattr(settings, name) for name in cls.base_fields})


class NoticePreviewForm(forms.Form):
    notice_subject = forms.CharField(max_length=200, required=False)
    notice_body = forms.CharField(max_length=5000, required=False)


class ProposalFilterForm(forms.Form):
    scope = forms.ChoiceField(
        required=False, choices=[("mine", "Mine"), ("team", "My team's and my territories'"), ("all", "All")]
    )
    status = forms.ChoiceField(required=False, choices=[("", "Any status"), *Status.choices])
    kind = forms.ChoiceField(required=False, choices=[("", "Any kind"), *Reassignment.Kind.choices])
    q = forms.CharField(required=False, max_length=100)


class MidYearFilterForm(forms.Form):
    date_from = forms.DateField(required=False, label="From", widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(required=False, label="To", widget=forms.DateInput(attrs={"type": "date"}))
    territory = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    def clean(self):
        data = super().clean()
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            self.add_error("date_to", "The end date is before the start date.")
        return data


class _AccountIds(forms.TypedMultipleChoiceField):
    """Ticked account ids: any whole numbers here; the service checks they exist and lie within
    what the user may change."""

    def __init__(self, **kw):
        super().__init__(coerce=int, choices=(), **kw)

    def valid_value(self, value) -> bool:
        return str(value).isdigit() and len(str(value)) < 12


class ProposeMoveForm(forms.Form):
    """A "move accounts" proposal: which accounts, where to, when and how (the service validates
    the change against the user's territories)."""

    accounts = _AccountIds(label="Accounts to move",
                           error_messages={"required": "Choose at least one account to move."})
    to_territory = forms.TypedChoiceField(label="Move them to", coerce=int, choices=(),
                                          error_messages={"required": "Choose the territory that receives them.",
                                                          "invalid_choice": "Choose one of the territories listed."})
    title = forms.CharField(label="Title", max_length=200, required=False,
                            help_text="Left empty: “Move N accounts”.")
    reason = forms.CharField(label="Why", max_length=4000, required=False, widget=forms.Textarea(attrs={"rows": 3}))
    effective_date = forms.DateField(label="Effective date", widget=forms.DateInput(attrs={"type": "date"}))
    transition_days = forms.IntegerField(
        label="Transition window (days)", min_value=0, max_value=365,
        help_text="The outgoing rep keeps read-only access this long after the effective date.",
    )
    deal_policy = forms.ChoiceField(label="Open deals", choices=DealPolicy.choices)
    deal_stage = forms.ChoiceField(label="Stage-based threshold", choices=[("", "—"), *OPEN_STAGES], required=False,
                                   help_text="Under the stage-based policy, deals at or past this stage stay with "
                                             "their rep.")
    notify_customers = forms.BooleanField(label="Tell the customers on the effective date", required=False)

    def __init__(self, *args, targets=(), **kw):
        super().__init__(*args, **kw)
        self.fields["to_territory"].choices = [("", "Choose a territory…"),
                                               *((t.pk, f"{t.code} · {t.name}") for t in targets)]

    @classmethod
    def for_settings(cls, settings: ReassignmentSettings, *, on, targets) -> ProposeMoveForm:
        return cls(targets=targets, initial={
            "effective_date": on.isoformat(), "transition_days": settings.transition_days,
            "deal_policy": settings.deal_policy, "deal_stage": settings.deal_stage,
        })


class EditDraftForm(forms.Form):
    """A draft's terms (every kind) and, for a move of accounts, which of its accounts stay in it
    and where they go. ``version`` is the draft's version the page showed: an edit made against an
    older one is refused by the service."""

    version = forms.IntegerField(min_value=1, widget=forms.HiddenInput)
    accounts = _AccountIds(label="Accounts in the proposal", required=False)
    to_territory = forms.TypedChoiceField(label="Move them to", coerce=int, choices=(), required=False,
                                          error_messages={"invalid_choice": "Choose one of the territories listed."})
    title = forms.CharField(label="Title", max_length=200, required=False)
    reason = forms.CharField(label="Why", max_length=4000, required=False, widget=forms.Textarea(attrs={"rows": 3}))
    effective_date = forms.DateField(label="Effective date", widget=forms.DateInput(attrs={"type": "date"}))
    transition_days = forms.IntegerField(
        label="Transition window (days)", min_value=0, max_value=365,
        help_text="The outgoing rep keeps read-only access up to and including the window's last day.",
    )
    deal_policy = forms.ChoiceField(label="Open deals", choices=DealPolicy.choices)
    deal_stage = forms.ChoiceField(label="Stage-based threshold", choices=[("", "—"), *OPEN_STAGES], required=False,
                                   help_text="Under the stage-based policy, deals at or past this stage stay with "
                                             "their rep.")
    notify_customers = forms.BooleanField(label="Tell the customers on the effective date", required=False)

    def __init__(self, *args, targets=(), **kw):
        super().__init__(*args, **kw)
        self.fields["to_territory"].choices = [("", "Choose a territory…"),
                                               *((t.pk, f"{t.code} · {t.name}") for t in targets)]

    @classmethod
    def for_proposal(cls, reassignment: Reassignment, *, targets) -> EditDraftForm:
        change = reassignment.change or {}
        return cls(targets=targets, initial={
            "version": reassignment.version, "to_territory": change.get("to_territory"),
            "title": reassignment.title, "reason": reassignment.reason,
            "effective_date": reassignment.effective_date.isoformat(),
            "transition_days": reassignment.transition_days, "deal_policy": reassignment.deal_policy,
            "deal_stage": reassignment.deal_stage, "notify_customers": reassignment.notify_customers,
        })
