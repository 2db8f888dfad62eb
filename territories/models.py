"""The territory map: plans (one per fiscal year, plus drafts), the territory tree inside each
plan, who covers each territory, and where each account sits.

``AccountTerritory`` rows are effective-dated: the current rows have no ``valid_to``; a re-route
(``routing``) closes the rows that change and inserts their successors, so the table is its own
ownership history ("who owned X on date D" is one indexed query). Routing writes them; they live
here so the territory pages read them without importing the floor above."""

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


class AccountLock(models.Model):
    """An account's lock, the manual override: it stays in this territory whatever the rules say
    (the engine's first step). The one place a lock is kept. A narrow table of its own, so locking
    many accounts at once (a reassignment) writes small rows instead of rewriting wide account rows
    and their indexes. No database foreign keys, as on the ownership rows: a bulk lock would pay a
    key check per row at commit; Django's cascades drop a lock with its account or territory."""

    account = models.OneToOneField("salesos.Account", primary_key=True, on_delete=models.CASCADE,
                                   related_name="territory_lock", db_constraint=False)
    territory = models.ForeignKey(Territory, on_delete=models.CASCADE, related_name="account_locks",
                                  db_constraint=False)
    locked_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"account {self.account_id} locked to territory {self.territory_id}"


class TerritoryUserObjectPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey(Territory, on_delete=models.CASCADE)


class TerritoryGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(Territory, on_delete=models.CASCADE)


class RoutingDecision(models.Model):
    """Why accounts sit where they do: the territories that matched and the lock the record
    carried, stored once per distinct outcome and shared by every row it explains (a full
    re-route of a million accounts makes tens of thousands of these, not a million traces).

    The trace (tiers, priorities, specificity, who won and why) is rebuilt from it by
    ``engine.decide_matched`` against the plan (``routing.traces.decision_trace``)."""

    # Written by the tens of thousands beside the rows: checked by the writer, not a database key.
    plan = models.ForeignKey("territories.TerritoryPlan", on_delete=models.CASCADE, related_name="+",
                             db_constraint=False)
    plan_version = models.PositiveIntegerField(default=0, help_text="The plan's version when decided")
    # Ids of every territory that matched: winners, losers, rolled-up ancestors and overlays.
    matched = models.JSONField(default=list, blank=True)
    locked_territory_id = models.BigIntegerField(null=True, blank=True, help_text="The record's lock, as it was")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "routing decision"
        db_table = "routing_routingdecision"  # created by the routing app; kept so moving it rewrote nothing

    def __str__(self) -> str:
        return f"Decision {self.pk} (plan {self.plan_id} v{self.plan_version})"


class AccountTerritory(models.Model):
    class Source(models.TextChoices):
        RULE = "rule", "Rule"
        NAMED = "named", "Named account list"
        LOCK = "lock", "Manual lock"
        MANUAL = "manual", "Manual routing"

    # The busiest table: a full re-route writes one row per account. Its references are checked
    # by the services that write it, not by database foreign keys: a deferred key check locks
    # every referenced account row and, measured on a million-row re-route, tripled its time
    # (``routing/bench/``). Deletes still cascade (Django collects the rows). No single-column
    # indexes either: the composite ones below lead with account and territory.
    account = models.ForeignKey(
        "salesos.Account", on_delete=models.CASCADE, related_name="territory_rows", db_index=False,
        db_constraint=False,
    )
    territory = models.ForeignKey(
        "territories.Territory", on_delete=models.CASCADE, related_name="account_rows", db_index=False,
        db_constraint=False,
    )
    # Copied from the territory so the database can hold "one current primary per account per
    # plan" as a constraint.
    plan = models.ForeignKey(
        "territories.TerritoryPlan", on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False
    )
    is_primary = models.BooleanField(default=True)
    credit_percent = models.PositiveSmallIntegerField(default=100)
    source = models.CharField(max_length=8, choices=Source.choices, default=Source.RULE)
    # Why: shared by every row the same outcome put here (set on primary rows; see RoutingDecision).
    decision = models.ForeignKey(
        RoutingDecision, null=True, blank=True, on_delete=models.DO_NOTHING, related_name="+", db_index=False,
        db_constraint=False,
    )
    # Set on the primary row when a tie was broken by territory code (listed on the conflicts page).
    conflict = models.BooleanField(default=False)
    reason = models.CharField(max_length=200, blank=True, help_text="Why a person routed it by hand")
    routed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    valid_from = models.DateTimeField(default=timezone.now)
    valid_to = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "account territory"
        db_table = "routing_accountterritory"  # created by the routing app; kept so moving it rewrote nothing
        constraints = [
            models.UniqueConstraint(
                fields=["account", "plan"],
                condition=Q(is_primary=True, valid_to__isnull=True),
                name="one_current_primary_territory_per_account_plan",
            ),
            # Also the history index: "where was account X on date D" reads it.
            models.UniqueConstraint(
                fields=["account", "territory", "valid_from"], name="account_territory_once_per_instant"
            ),
            models.CheckConstraint(
                condition=Q(credit_percent__gte=0, credit_percent__lte=100), name="account_territory_credit_0_100"
            ),
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=models.F("valid_from")),
                name="account_territory_valid_range",
            ),
        ]
        indexes = [
            models.Index(fields=["territory", "valid_to"], name="routing_acc_territo_5a5778_idx"),
            models.Index(
                fields=["plan", "conflict"],
                condition=Q(conflict=True, valid_to__isnull=True),
                name="account_territory_conflicts",
            ),
            # Rows a person routed (rare): for "who did this" and for deleting a user.
            models.Index(fields=["routed_by"], condition=Q(routed_by__isnull=False), name="account_territory_by"),
        ]

    def __str__(self) -> str:
        return f"{self.account_id} in {self.territory_id} ({'primary' if self.is_primary else 'overlay'})"

    @property
    def routed_by_hand(self) -> bool:
        """Placed by a person from the unassigned queue; it holds until a rule claims the account."""
        return self.source == self.Source.MANUAL

    @property
    def set_by_lock(self) -> bool:
        return self.source == self.Source.LOCK
