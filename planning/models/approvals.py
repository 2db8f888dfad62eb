"""Approval policies and the decisions taken under them. One engine serves reassignment proposals
and plans under review: a policy is ordered steps as data; submitting a subject resolves the steps
that apply into one ``ApprovalTask`` per approver, and every decision is a row with who, when and
why."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class Subject(models.TextChoices):
    REASSIGNMENT = "reassignment", "Reassignment proposals"
    PLAN = "plan", "Plans under review"


class ApprovalPolicy(models.Model):
    """Which approvals a subject needs. Policies are tried in ``order``; the first whose subject,
    kinds and condition match a proposal applies to it (the default policy matches everything)."""

    name = models.CharField(max_length=120, unique=True)
    description = models.TextField(blank=True)
    subject = models.CharField(max_length=12, choices=Subject.choices, default=Subject.REASSIGNMENT)
    # Reassignment kinds this policy covers; empty covers every kind.
    kinds = models.JSONField(default=list, blank=True)
    # When the policy applies, as data over the impact facts (see planning/approvals/conditions.py);
    # empty always applies.
    condition = models.JSONField(default=dict, blank=True)
    order = models.PositiveSmallIntegerField(default=100)
    is_active = models.BooleanField(default=True)
    # An admin's own proposal may be approved by the admin (otherwise nobody approves their own).
    allow_admin_self_approval = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["subject", "order", "name"]
        verbose_name_plural = "approval policies"

    def __str__(self) -> str:
        return self.name


class ApprovalPolicyStep(models.Model):
    """One step of a policy: who approves (by relation to the change), whether all of them or any
    one must, and when the step applies at all."""

    class Relation(models.TextChoices):
        OUTGOING_MANAGER = "outgoing_manager", "Manager of the giving territory"
        INCOMING_MANAGER = "incoming_manager", "Manager of the receiving territory"
        DIRECTOR = "director", "Director over both territories"
        NAMED_USER = "named_user", "A named person"
        ANY_ADMIN = "any_admin", "Any sales ops admin"

    class Mode(models.TextChoices):
        ALL = "all", "All of them"
        ANY = "any", "Any one of them"

    policy = models.ForeignKey(ApprovalPolicy, on_delete=models.CASCADE, related_name="steps")
    order = models.PositiveSmallIntegerField(default=1)
    name = models.CharField(max_length=120, blank=True)
    relation = models.CharField(max_length=20, choices=Relation.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The approver when the relation is a named person",
    )
    mode = models.CharField(max_length=3, choices=Mode.choices, default=Mode.ALL)
    # When this step applies, as data over the impact facts; empty always applies.
    condition = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["policy", "order", "id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(relation="named_user") | Q(user__isnull=False), name="named_step_has_user"
            ),
        ]

    def __str__(self) -> str:
        return self.name or self.get_relation_display()


class ApprovalTask(models.Model):
    """One approver's part in one step of one round. Submitting (again) opens a new round; earlier
    rounds stay as history. A step is done when all (or any, by its mode) of its tasks approve;
    the next step's tasks wait until then."""

    class Status(models.TextChoices):
        WAITING = "waiting", "Waiting"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"
        CHANGES_REQUESTED = "changes", "Changes requested"
        # Another approver of an any-of step decided, or the round ended before this turn came.
        SUPERSEDED = "superseded", "No longer needed"

    reassignment = models.ForeignKey(
        "planning.Reassignment", null=True, blank=True, on_delete=models.CASCADE, related_name="approval_tasks"
    )
    plan = models.ForeignKey(
        "territories.TerritoryPlan", null=True, blank=True, on_delete=models.CASCADE, related_name="approval_tasks"
    )
    policy = models.ForeignKey(ApprovalPolicy, null=True, on_delete=models.SET_NULL, related_name="+")
    round = models.PositiveSmallIntegerField(default=1)
    step_order = models.PositiveSmallIntegerField()
    step_name = models.CharField(max_length=120)
    mode = models.CharField(max_length=3, choices=ApprovalPolicyStep.Mode.choices)
    approver = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="approval_tasks")
    # Set when the step went to the approver's manager because the named approver is on leave,
    # or to an admin by escalation.
    delegated_from = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.WAITING, db_index=True)
    comment = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    decided_at = models.DateTimeField(null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)
    escalated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["round", "step_order", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(reassignment__isnull=False, plan__isnull=True)
                | Q(reassignment__isnull=True, plan__isnull=False),
                name="approval_task_one_subject",
            ),
            models.UniqueConstraint(
                fields=["reassignment", "round", "step_order", "approver"],
                condition=Q(reassignment__isnull=False),
                name="one_task_per_approver_step_reassignment",
            ),
            models.UniqueConstraint(
                fields=["plan", "round", "step_order", "approver"],
                condition=Q(plan__isnull=False),
                name="one_task_per_approver_step_plan",
            ),
        ]
        indexes = [models.Index(fields=["approver", "status"])]

    def __str__(self) -> str:
        return f"{self.step_name}: {self.approver} ({self.get_status_display()})"
