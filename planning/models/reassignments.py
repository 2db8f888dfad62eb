"""Reassignment proposals: a change to who covers what on the active plan, proposed, approved
under a policy and executed on its effective date. The statuses are a state machine (django-fsm-2)
whose every transition is logged (django-fsm-log's ``StateLog``); the services in
``planning/reassignments/`` are the only callers of the transition methods."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django_fsm import FSMField, transition
from django_fsm_log.decorators import fsm_log_by, fsm_log_description

from salesos.models import Opportunity


class DealPolicy(models.TextChoices):
    FOLLOW_REP = "follow_rep", "Deals stay with their rep"
    FOLLOW_TERRITORY = "follow_territory", "Deals go to the new territory's owner"
    STAGE_BASED = "stage_based", "Late-stage deals stay, earlier ones move"
    MANUAL = "manual", "Decide deal by deal"


class ReassignmentSettings(models.Model):
    """The organisation's defaults for reassignments (one row; ``load()`` creates it)."""

    class AdminEdits(models.TextChoices):
        APPLY = "apply", "Admins apply rule edits on the active plan directly"
        PROPOSE = "propose", "Admins' rule edits on the active plan become proposals too"

    admin_rule_edits = models.CharField(max_length=8, choices=AdminEdits.choices, default=AdminEdits.APPLY)
    deal_policy = models.CharField(max_length=16, choices=DealPolicy.choices, default=DealPolicy.FOLLOW_TERRITORY)
    deal_stage = models.CharField(
        max_length=16,
        choices=Opportunity.Stage.choices,
        default=Opportunity.Stage.PROPOSAL,
        help_text="Under the stage-based policy, deals at or past this stage stay with their rep",
    )
    transition_days = models.PositiveSmallIntegerField(default=0)
    reminder_days = models.PositiveSmallIntegerField(default=2, help_text="Remind an approver after this many days")
    escalation_days = models.PositiveSmallIntegerField(
        default=5, help_text="Escalate a waiting step to the approver's manager after this many days"
    )
    notice_subject = models.CharField(max_length=200, default="Your account team at {{ company }} is changing")
    notice_body = models.TextField(
        default=(
            "Dear {{ contact_name }},\n\n"
            "From {{ effective_date }}, {{ new_owner }} will be your contact for {{ account }}.\n\n"
            "Kind regards,\n{{ company }}"
        )
    )

    class Meta:
        verbose_name = "reassignment settings"
        verbose_name_plural = "reassignment settings"

    def __str__(self) -> str:
        return "Reassignment settings"

    @classmethod
    def load(cls) -> ReassignmentSettings:
        row, _ = cls.objects.get_or_create(pk=1)
        return row


class Reassignment(models.Model):
    """A proposed change. ``change`` is the change as data, its shape given by ``kind``:

    - ``move_accounts``: ``{"accounts": [ids], "to_territory": id}`` (where each account sits now is
      read at impact time and frozen into ``ReassignmentMove`` rows on submit);
    - ``slot_change``: ``{"territory": id, "slot": "primary"|"backup"|"overlay", "from_user": id|null,
      "to_user": id|null, "split_percent": n}``;
    - ``rule_change``: ``{"territory": id, "rule": {...}, "priority": n}`` (priority optional);
    - ``merge``: ``{"territory": id, "into": id}``;
    - ``carve``: ``{"parent": id, "code": str, "name": str, "type": str, "rule": {...},
      "primary_user": id|null}``.
    """

    class Kind(models.TextChoices):
        MOVE_ACCOUNTS = "move_accounts", "Move accounts"
        SLOT_CHANGE = "slot_change", "Change a rep"
        RULE_CHANGE = "rule_change", "Change a rule"
        MERGE = "merge", "Merge territories"
        CARVE = "carve", "Carve out a child territory"

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        SUBMITTED = "submitted", "Awaiting approval"
        CHANGES_REQUESTED = "changes_requested", "Changes requested"
        APPROVED = "approved", "Approved"
        SCHEDULED = "scheduled", "Scheduled"
        IN_TRANSITION = "in_transition", "In transition"
        DONE = "done", "Done"
        REJECTED = "rejected", "Rejected"
        WITHDRAWN = "withdrawn", "Withdrawn"
        STALE = "stale", "Needs re-approval"
        FAILED = "failed", "Failed"

    S = Status
    # Statuses from which nothing more happens.
    FINAL = frozenset({S.DONE, S.REJECTED, S.WITHDRAWN})
    # Statuses in which the initiator may still edit the proposal.
    EDITABLE = frozenset({S.DRAFT, S.CHANGES_REQUESTED, S.STALE})

    plan = models.ForeignKey("territories.TerritoryPlan", on_delete=models.PROTECT, related_name="reassignments")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    title = models.CharField(max_length=200)
    change = models.JSONField(default=dict)
    reason = models.TextField(blank=True)
    effective_date = models.DateField()
    transition_days = models.PositiveSmallIntegerField(default=0)
    deal_policy = models.CharField(max_length=16, choices=DealPolicy.choices, default=DealPolicy.FOLLOW_TERRITORY)
    deal_stage = models.CharField(max_length=16, choices=Opportunity.Stage.choices, blank=True)
    notify_customers = models.BooleanField(default=False)
    initiator = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="reassignments")
    status = FSMField(max_length=18, choices=Status.choices, default=Status.DRAFT, protected=True, db_index=True)
    # The impact as shown to approvers: frozen on submit with a hash of what it covers, re-checked
    # before execution.
    impact = models.JSONField(null=True, blank=True)
    impact_hash = models.CharField(max_length=64, blank=True)
    # What changed since approval, when execution found the snapshot stale.
    stale_difference = models.JSONField(null=True, blank=True)
    policy = models.ForeignKey(
        "planning.ApprovalPolicy", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    round = models.PositiveSmallIntegerField(default=0, help_text="Approval rounds opened so far")
    version = models.PositiveIntegerField(default=1, help_text="Bumped by every edit of a draft")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    approved_at = models.DateTimeField(null=True, blank=True)
    executed_at = models.DateTimeField(null=True, blank=True)
    transition_ends = models.DateField(null=True, blank=True)
    failure = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "effective_date"]), models.Index(fields=["initiator", "status"])]
        constraints = [
            models.CheckConstraint(condition=Q(transition_days__lte=365), name="reassignment_transition_max_year"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_editable(self) -> bool:
        return self.status in self.EDITABLE

    @property
    def is_final(self) -> bool:
        return self.status in self.FINAL

    # Templates ask these instead of comparing status strings.
    @property
    def is_draft(self) -> bool:
        return self.status == self.Status.DRAFT

    @property
    def is_stale(self) -> bool:
        return self.status == self.Status.STALE

    @property
    def is_failed(self) -> bool:
        return self.status == self.Status.FAILED

    # Transitions. Each is called by exactly one service, inside its transaction and row lock;
    # ``by`` and ``description`` are recorded in the transition log.
    @fsm_log_by
    @fsm_log_description
    @transition(field=status, source=[S.DRAFT, S.CHANGES_REQUESTED, S.STALE], target=S.SUBMITTED)
    def submit(self, *, by=None, description=None) -> None:
        self.submitted_at = timezone.now()

    @fsm_log_by
    @fsm_log_description
    @transition(field=status, source=S.SUBMITTED, target=S.CHANGES_REQUESTED)
    def request_changes(self, *, by=None, description=None) -> None:
        pass

    @fsm_log_by
    @fsm_log_description
    @transition(field=status, source=S.SUBMITTED, target=S.APPROVED)
    def approve(self, *, by=None, description=None) -> None:
        self.approved_at = timezone.now()

    @fsm_log_by
    @fsm_log_description
    @transition(field=status, source=S.SUBMITTED, target=S.REJECTED)
    def reject(self, *, by=None, description=None) -> None:
        pass

    @fsm_log_by
    @fsm_log_description
    @transition(
        field=status,
        source=[S.DRAFT, S.SUBMITTED, S.CHANGES_REQUESTED, S.APPROVED, S.SCHEDULED, S.STALE],
        target=S.WITHDRAWN,
    )
    def withdraw(self, *, by=None, description=None) -> None:
        pass

    @fsm_log_by
    @fsm_log_description
    @transition(field=status, source=S.APPROVED, target=S.SCHEDULED)
    def schedule(self, *, by=None, description=None) -> None:
        pass

    @fsm_log_by
    @fsm_log_description
    @transition(field=status, source=[S.SUBMITTED, S.APPROVED, S.SCHEDULED], target=S.STALE)
    def mark_stale(self, *, by=None, description=None) -> None:
        pass

    @fsm_log_by
    @fsm_log_description
    @transition(field=status, source=S.SCHEDULED, target=S.IN_TRANSITION)
    def begin_transition(self, *, by=None, description=None) -> None:
        self.executed_at = timezone.now()

    @fsm_log_by
    @fsm_log_description
    @transition(field=status, source=[S.SCHEDULED, S.IN_TRANSITION], target=S.DONE)
    def complete(self, *, by=None, description=None) -> None:
        if self.executed_at is None:
            self.executed_at = timezone.now()

    @fsm_log_by
    @fsm_log_description
    @transition(field=status, source=[S.SCHEDULED, S.IN_TRANSITION], target=S.FAILED)
    def fail(self, *, by=None, description=None) -> None:
        pass


class ReassignmentMove(models.Model):
    """One account's move under a proposal, frozen on submit: where it sat and where it goes. The
    execution works from these rows, so what was approved is what moves."""

    reassignment = models.ForeignKey(Reassignment, on_delete=models.CASCADE, related_name="moves")
    account = models.ForeignKey("salesos.Account", on_delete=models.CASCADE, related_name="+", db_constraint=False)
    from_territory = models.ForeignKey(
        "territories.Territory", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    to_territory = models.ForeignKey(
        "territories.Territory", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Set when execution has written this account's rows: a resumed run skips done moves.
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["reassignment", "account"], name="one_move_per_account_per_proposal")
        ]

    def __str__(self) -> str:
        return f"account {self.account_id}: {self.from_territory_id} -> {self.to_territory_id}"


class DealDecision(models.Model):
    """Under the manual open-deal policy: what happens to each open deal, decided before submit."""

    class Choice(models.TextChoices):
        STAY = "stay", "Stays with its rep"
        MOVE = "move", "Moves to the new owner"

    reassignment = models.ForeignKey(Reassignment, on_delete=models.CASCADE, related_name="deal_decisions")
    opportunity = models.ForeignKey("salesos.Opportunity", on_delete=models.CASCADE, related_name="+")
    choice = models.CharField(max_length=4, choices=Choice.choices, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["reassignment", "opportunity"], name="one_deal_decision_per_proposal")
        ]

    def __str__(self) -> str:
        return f"deal {self.opportunity_id}: {self.choice or 'undecided'}"


class DealOwnerChange(models.Model):
    """A deal changing hands: by a reassignment, a plan activation or by hand. The deal's history.

    A reassignment writes one row per moved deal, set-based (tens of thousands at once), so, like
    the ownership rows (``routing.AccountTerritory``), its references are checked by the services
    that write it rather than by database foreign keys (a deferred check per row and reference at
    commit), and it carries only the indexes its readers use: the deal's history
    (``opportunity, changed_at``) and the proposal's changes (the unique constraint below). Deletes
    still cascade or clear through Django."""

    opportunity = models.ForeignKey("salesos.Opportunity", on_delete=models.CASCADE, related_name="owner_changes",
                                    db_constraint=False, db_index=False)
    from_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        db_constraint=False, db_index=False,
    )
    to_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        db_constraint=False, db_index=False,
    )
    reassignment = models.ForeignKey(
        Reassignment, null=True, blank=True, on_delete=models.SET_NULL, related_name="deal_changes",
        db_constraint=False, db_index=False,
    )
    effective_date = models.DateField()
    changed_at = models.DateTimeField(default=timezone.now)
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-changed_at"]
        indexes = [models.Index(fields=["opportunity", "changed_at"])]
        constraints = [
            # Execution is idempotent: one change per deal per proposal.
            models.UniqueConstraint(
                fields=["reassignment", "opportunity"],
                condition=Q(reassignment__isnull=False),
                name="one_deal_change_per_proposal",
            )
        ]

    def __str__(self) -> str:
        return f"deal {self.opportunity_id}: {self.from_user_id} -> {self.to_user_id} on {self.effective_date}"


class CustomerNotice(models.Model):
    """An email to an affected account's primary contact, rendered on submit from the settings'
    template and sent on the effective date."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        SENT = "sent", "Sent"
        CANCELLED = "cancelled", "Cancelled"
        FAILED = "failed", "Failed"

    reassignment = models.ForeignKey(Reassignment, on_delete=models.CASCADE, related_name="notices")
    account = models.ForeignKey("salesos.Account", on_delete=models.CASCADE, related_name="+")
    to_email = models.EmailField()
    subject = models.CharField(max_length=200)
    body = models.TextField()
    send_on = models.DateField(db_index=True)
    status = models.CharField(max_length=9, choices=Status.choices, default=Status.QUEUED, db_index=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["reassignment", "account"], name="one_notice_per_account_per_proposal")
        ]

    def __str__(self) -> str:
        return f"{self.subject} to {self.to_email}"
