"""What routing keeps besides the ownership rows (those, ``AccountTerritory`` and
``RoutingDecision``, live in ``territories.models``, below routing, so every floor can read where
an account sits): the API's tokens and rate counters, notifications, and batch re-route jobs."""

from __future__ import annotations

import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone


class IntegrationToken(models.Model):
    """A credential for one other system (a CRM, a web form) calling the lead-routing API. Only a
    hash is stored; the key is shown once, when the token is made. Revoking keeps the row."""

    name = models.CharField(max_length=100, unique=True)
    prefix = models.CharField(max_length=12, editable=False, help_text="The key's first characters, to recognise it")
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    can_create_leads = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @staticmethod
    def hash_key(key: str) -> str:
        return hashlib.sha256(key.encode()).hexdigest()

    def issue_key(self) -> str:
        """Sets a new random key and returns it (the only time it is visible)."""
        key = "sos_" + secrets.token_urlsafe(32)
        self.prefix = key[:10]
        self.key_hash = self.hash_key(key)
        return key

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class ApiRateCounter(models.Model):
    """One fixed-window request counter of the API rate limits (``routing/ratelimit.py``): kept in
    the database so every web process counts against the same number."""

    key = models.CharField(max_length=255, primary_key=True)
    count = models.PositiveIntegerField(default=0)
    expires_at = models.FloatField(help_text="Unix time at which this window ends")

    def __str__(self) -> str:
        return f"{self.key}: {self.count}"


class Notification(models.Model):
    """An in-app message for one user (also mailed where the kind says so)."""

    class Kind(models.TextChoices):
        UNASSIGNED = "unassigned", "New unassigned accounts"
        REROUTE = "reroute", "Re-route finished"
        INFO = "info", "Information"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=12, choices=Kind.choices, default=Kind.INFO)
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    url = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["user", "read_at"])]

    def __str__(self) -> str:
        return self.title


class RoutingJob(models.Model):
    """One batch re-route (or its dry run): what was asked, how far it got, what it changed."""

    class Scope(models.TextChoices):
        FULL = "full", "Every account"
        TERRITORIES = "territories", "Accounts touched by some territories"
        ACCOUNTS = "accounts", "Chosen accounts"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    plan = models.ForeignKey("territories.TerritoryPlan", on_delete=models.CASCADE, related_name="routing_jobs")
    scope = models.CharField(max_length=12, choices=Scope.choices, default=Scope.FULL)
    params = models.JSONField(default=dict, blank=True)
    dry_run = models.BooleanField(default=False)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED, db_index=True)
    total = models.PositiveIntegerField(default=0)
    processed = models.PositiveIntegerField(default=0)
    changed = models.PositiveIntegerField(default=0)
    result = models.JSONField(default=dict, blank=True, help_text="Summary and a sample of the moves")
    error = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.get_scope_display()} ({self.get_status_display()})"

    @property
    def duration_text(self) -> str:
        """How long the run took, readable at any size ("4.2 s", "3 min 10 s")."""
        if self.started_at is None or self.finished_at is None:
            return ""
        seconds = (self.finished_at - self.started_at).total_seconds()
        if seconds < 60:
            return f"{seconds:.1f} s"
        minutes, rest = divmod(round(seconds), 60)
        return f"{minutes} min {rest} s"

    @property
    def is_running(self) -> bool:
        return self.status == self.Status.RUNNING

    @property
    def is_done(self) -> bool:
        return self.status == self.Status.DONE

    @property
    def is_failed(self) -> bool:
        return self.status == self.Status.FAILED

    @property
    def percent(self) -> int:
        return 100 if self.is_done else int(100 * self.processed / self.total) if self.total else 0


class RoutingJobShard(models.Model):
    """One account-id range of a sharded full re-route (``routing.batch.shards``): its own task on
    any worker, reading, routing and writing the accounts with ``first_id <= id < before_id``
    (no upper end on the last shard). Its parent job's counters add up its progress."""

    job = models.ForeignKey(RoutingJob, on_delete=models.CASCADE, related_name="shards")
    number = models.PositiveIntegerField()
    first_id = models.BigIntegerField()
    before_id = models.BigIntegerField(null=True, blank=True)
    status = models.CharField(max_length=8, choices=RoutingJob.Status.choices, default=RoutingJob.Status.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    total = models.PositiveIntegerField(default=0)
    changed = models.PositiveIntegerField(default=0)
    result = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    seconds = models.FloatField(null=True, blank=True, help_text="Wall time of the attempt that finished")
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["job", "number"]
        constraints = [models.UniqueConstraint(fields=["job", "number"], name="one_shard_number_per_job")]

    def __str__(self) -> str:
        return f"Shard {self.number} of job {self.job_id} ({self.get_status_display()})"

    # The job's status badge (routing/job_status.html) reads these on a shard too.
    @property
    def is_running(self) -> bool:
        return self.status == RoutingJob.Status.RUNNING

    @property
    def is_done(self) -> bool:
        return self.status == RoutingJob.Status.DONE

    @property
    def is_failed(self) -> bool:
        return self.status == RoutingJob.Status.FAILED
