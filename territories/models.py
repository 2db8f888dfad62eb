"""The territory map: plans (one per fiscal year, plus drafts), the territory tree inside each
plan, and who covers each territory."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django_fsm import FSMField, transition
from django_fsm_log.decorators import fsm_log_by, fsm_log_description
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase
from simple_history.models import HistoricalRecords
from tree_queries.models import TreeNode


class TerritoryPlan(models.Model):
    """One version of the whole territory map. Exactly one plan is active; drafts are deep copies
    that the simulator and annual planning change without touching live assignments.

    The status is a state machine (django-fsm-2) whose every transition is logged with who and why
    (django-fsm-log's ``StateLog``): draft -> review -> staged -> active -> archived, a plan under
    review goes back to draft when its approvers ask for changes or reject it, a staged plan may be
    unstaged, and an archived plan may be re-activated within the grace period. The services in
    ``planning/plans/`` are the only callers of the transition methods."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        REVIEW = "review", "In review"
        STAGED = "staged", "Staged"
        ACTIVE = "active", "Active"
        ARCHIVED = "archived", "Archived"

    # Statuses in which a plan may be shared with managers (admins and directors open every plan).
    SHAREABLE = (Status.DRAFT, Status.REVIEW)

    class Kind(models.TextChoices):
        ANNUAL = "annual", "Annual plan"
        MID_YEAR = "mid_year", "Mid-year adjustment"
        SIMULATION = "simulation", "Simulation"

    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    fiscal_year = models.ForeignKey(
        "planning.FiscalYear", null=True, blank=True, on_delete=models.PROTECT, related_name="plans"
    )
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.ANNUAL)
    status = FSMField(max_length=8, choices=Status.choices, default=Status.DRAFT, db_index=True)
    effective_date = models.DateField(null=True, blank=True)
    source_plan = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="copies",
        help_text="The plan this one was copied from",
    )
    # Bumped by every change that can alter routing, so each process can tell that its compiled
    # rule index is stale without comparing rules.
    version = models.PositiveIntegerField(default=1)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    activated_at = models.DateTimeField(null=True, blank=True)
    # The lifecycle: when the review approved it, the day it is scheduled to become active, when
    # it was archived (re-activation is offered for a grace period after that).
    approved_at = models.DateTimeField(null=True, blank=True)
    activation_date = models.DateField(null=True, blank=True)
    archived_at = models.DateTimeField(null=True, blank=True)
    # Managers who may open this draft (admins and directors open every plan).
    shared_with = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="shared_plans")
    history = HistoricalRecords()

    class Meta:
        ordering = ["-effective_date", "name"]
        constraints = [
            models.UniqueConstraint(fields=["status"], condition=Q(status="active"), name="one_active_plan"),
            models.UniqueConstraint(fields=["name"], name="plan_name_unique"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_active(self) -> bool:
        """This plan is the active one (pages ask this instead of comparing status strings)."""
        return self.status == self.Status.ACTIVE

    @classmethod
    def active(cls) -> TerritoryPlan | None:
        """The active plan (the one definition: DESIGN "One definition of each fact")."""
        return cls.objects.select_related("fiscal_year").filter(status=cls.Status.ACTIVE).first()

    # Templates ask these instead of comparing status strings.
    @property
    def is_draft(self) -> bool:
        return self.status == self.Status.DRAFT

    @property
    def is_in_review(self) -> bool:
        return self.status == self.Status.REVIEW

    @property
    def is_staged(self) -> bool:
        return self.status == self.Status.STAGED

    @property
    def is_archived(self) -> bool:
        return self.status == self.Status.ARCHIVED

    @property
    def is_locked(self) -> bool:
        """Under review or staged: what the approvers saw is what activates, so no territory, rule
        or rep slot of it changes (``territories.services`` refuse)."""
        return self.status in (self.Status.REVIEW, self.Status.STAGED)

    # Transitions, each called by one service in ``planning/plans/`` inside its transaction and
    # row lock; ``by`` and ``description`` go to the transition log.
    S = Status

    @fsm_log_by
    @fsm_log_description
    @transition(field=status, source=S.DRAFT, target=S.REVIEW)
    def submit(self, *, by=None, description=None) -> None:
        self.approved_at = None

    @fsm_log_by
    @fsm_log_description
    @transition(field=status, source=[S.REVIEW, S.STAGED], target=S.DRAFT)
    def back_to_draft(self, *, by=None, description=None) -> None:
        self.approved_at = None
        self.activation_date = None

    @fsm_log_by
    @fsm_log_description
    @transition(field=status, source=S.REVIEW, target=S.STAGED)
    def stage(self, *, by=None, description=None) -> None:
        self.approved_at = timezone.now()

    @fsm_log_by
    @fsm_log_description
    @transition(field=status, source=[S.STAGED, S.ARCHIVED], target=S.ACTIVE)
    def activate(self, *, by=None, description=None) -> None:
        self.activated_at = timezone.now()
        self.archived_at = None

    @fsm_log_by
    @fsm_log_description
    @transition(field=status, source=S.ACTIVE, target=S.ARCHIVED)
    def archive(self, *, by=None, description=None) -> None:
        self.archived_at = timezone.now()
        self.activation_date = None


class Territory(TreeNode):
    """A node of the territory tree in one plan. ``parent`` (from TreeNode) is the one parent;
    children are unlimited. The rule is JSON in the schema of ``routing.engine``."""

    class Type(models.TextChoices):
        GEOGRAPHIC = "geographic", "Geographic"
        NAMED_ACCOUNT = "named_account", "Named account"
        INDUSTRY = "industry", "Industry"
        SIZE = "size", "Company size"
        HYBRID = "hybrid", "Hybrid"

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        ACTIVE = "active", "Active"
        INACTIVE = "inactive", "Inactive"

    class LeadAssignment(models.TextChoices):
        PRIMARY = "primary", "Primary owner"
        ROUND_ROBIN = "round_robin", "Round-robin among the territory's reps"
        CAPACITY = "capacity", "Capacity-based among the territory's reps"

    plan = models.ForeignKey(TerritoryPlan, on_delete=models.CASCADE, related_name="territories")
    code = models.CharField(max_length=40)
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    type = models.CharField(max_length=14, choices=Type.choices, default=Type.GEOGRAPHIC)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.ACTIVE, db_index=True)
    priority = models.IntegerField(default=0, help_text="Higher wins when several territories match")
    rule = models.JSONField(default=dict, blank=True)
    is_overlay = models.BooleanField(
        default=False, help_text="Overlay territories do not compete: each match adds a credit row"
    )
    credit_percent = models.PositiveSmallIntegerField(
        default=100, validators=[MinValueValidator(0), MaxValueValidator(100)]
    )
    named_accounts = models.ManyToManyField("salesos.Account", blank=True, related_name="named_territories")
    lead_assignment = models.CharField(max_length=12, choices=LeadAssignment.choices, default=LeadAssignment.PRIMARY)
    # Where round-robin lead assignment continues from (an index into the ordered rep list).
    lead_cursor = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    # Moves on every save: an edit made against an older version is refused (territory_update).
    version = models.PositiveIntegerField(default=1, editable=False)
    history = HistoricalRecords(excluded_fields=["lead_cursor", "updated_at", "version"])

    class Meta(TreeNode.Meta):
        verbose_name_plural = "territories"
        ordering = ["code"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "code"], name="territory_code_unique_in_plan"),
            models.CheckConstraint(
                condition=Q(credit_percent__gte=0, credit_percent__lte=100), name="territory_credit_0_100"
            ),
        ]
        indexes = [models.Index(fields=["plan", "parent"]), models.Index(fields=["plan", "type"])]

    @property
    def is_active(self) -> bool:
        return self.status == self.Status.ACTIVE

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:  # every change of a stored territory is a new version
            self.version = (self.version or 0) + 1
            if kwargs.get("update_fields") is not None:
                kwargs["update_fields"] = {*kwargs["update_fields"], "version"}
        super().save(*args, **kwargs)

    @property
    def is_retired(self) -> bool:
        """Retired (inactive): kept for its ownership history, out of routing, read-only."""
        return self.status == self.Status.INACTIVE

    def clean(self) -> None:
        super().clean()
        if self.parent_id is not None and self.parent is not None and self.parent.plan_id != self.plan_id:
            raise ValidationError({"parent": "The parent must belong to the same plan."})


class RepAssignment(models.Model):
    """Who covers a territory, in which slot, from when to when. The current assignment has no
    end date; history is kept by ending rows, never by deleting them."""

    class Slot(models.TextChoices):
        PRIMARY = "primary", "Primary owner"
        OVERLAY = "overlay", "Overlay"
        BACKUP = "backup", "Backup"

    territory = models.ForeignKey(Territory, on_delete=models.CASCADE, related_name="assignments")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="territory_assignments")
    slot = models.CharField(max_length=8, choices=Slot.choices)
    split_percent = models.PositiveSmallIntegerField(
        default=100,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
        help_text="Share of credit for overlays; 100 for the primary",
    )
    start_date = models.DateField(default=dt.date.today)
    end_date = models.DateField(null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["territory", "slot", "start_date"]
        constraints = [
            models.UniqueConstraint(
                fields=["territory"],
                condition=Q(slot="primary", end_date__isnull=True),
                name="one_current_primary_per_territory",
            ),
            models.UniqueConstraint(
                fields=["territory", "user", "slot"],
                condition=Q(end_date__isnull=True),
                name="one_current_assignment_per_user_slot",
            ),
            models.CheckConstraint(
                condition=Q(split_percent__gte=0, split_percent__lte=100), name="assignment_split_0_100"
            ),
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=models.F("start_date")),
                name="assignment_end_after_start",
            ),
        ]
        indexes = [models.Index(fields=["user", "end_date"])]

    def __str__(self) -> str:
        return f"{self.user} — {self.get_slot_display()} of {self.territory.code}"

    @property
    def is_primary_slot(self) -> bool:
        return self.slot == self.Slot.PRIMARY

    @property
    def is_overlay_slot(self) -> bool:
        return self.slot == self.Slot.OVERLAY

    def clean(self) -> None:
        # The database keeps one open-ended primary; dated ranges must not overlap either.
        if self.slot == self.Slot.PRIMARY and self.territory_id:
            overlapping = RepAssignment.objects.filter(territory_id=self.territory_id, slot=self.Slot.PRIMARY).exclude(
                pk=self.pk
            )
            overlapping = overlapping.filter(Q(end_date__isnull=True) | Q(end_date__gte=self.start_date))
            if self.end_date is not None:
                overlapping = overlapping.filter(start_date__lte=self.end_date)
            if overlapping.exists():
                raise ValidationError("This territory already has a primary owner for part of these dates.")


class TerritoryUserObjectPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey(Territory, on_delete=models.CASCADE)


class TerritoryGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(Territory, on_delete=models.CASCADE)
