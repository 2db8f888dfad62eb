"""Core records shared by every module: the market (accounts, leads), the pipeline (deals,
activities), the sales org (profiles, leave) and reference data (industries, geography)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone


class Region(models.TextChoices):
    AMERICAS = "AMER", "Americas"
    EMEA = "EMEA", "EMEA"
    APAC = "APAC", "APAC"


class Industry(models.Model):
    """A node of an industry classification: NAICS sectors/subsectors, SIC divisions and major
    groups, or a company's own taxonomy. Codes are hierarchical by prefix within a scheme."""

    class Scheme(models.TextChoices):
        NAICS = "naics", "NAICS"
        SIC = "sic", "SIC"
        CUSTOM = "custom", "Custom"

    scheme = models.CharField(max_length=8, choices=Scheme.choices)
    code = models.CharField(max_length=16)
    title = models.CharField(max_length=200)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.CASCADE, related_name="children")
    level = models.PositiveSmallIntegerField(default=1, help_text="1 = top of the scheme")

    class Meta:
        verbose_name_plural = "industries"
        ordering = ["scheme", "code"]
        constraints = [models.UniqueConstraint(fields=["scheme", "code"], name="industry_scheme_code_unique")]

    def __str__(self) -> str:
        return f"{self.code} {self.title}"


class GeoArea(models.Model):
    """A geographic unit a territory can be drawn on. Codes: region AMER/EMEA/APAC, country ISO
    3166-1 alpha-2, state ISO 3166-2 (``US-CA``), metro a readable name (``Denver``), postal
    ``<country>-<code>`` (``US-94105``)."""

    class Level(models.TextChoices):
        REGION = "region", "Region"
        COUNTRY = "country", "Country"
        STATE = "state", "State/Province"
        METRO = "metro", "Metro/City"
        POSTAL = "postal", "Postal code"

    level = models.CharField(max_length=8, choices=Level.choices)
    code = models.CharField(max_length=64)
    name = models.CharField(max_length=200)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.CASCADE, related_name="children")
    country = models.CharField(max_length=2, blank=True, db_index=True)
    centroid_lat = models.FloatField(null=True, blank=True)
    centroid_lon = models.FloatField(null=True, blank=True)
    population = models.BigIntegerField(null=True, blank=True)
    geometry = models.JSONField(null=True, blank=True, help_text="Simplified GeoJSON geometry (WGS84)")

    class Meta:
        ordering = ["level", "code"]
        constraints = [models.UniqueConstraint(fields=["level", "code"], name="geoarea_level_code_unique")]
        indexes = [models.Index(fields=["level", "name"])]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_level_display()})"


class RoutableFields(models.Model):
    """The attributes territory rules read. Accounts and leads both carry them; every one is
    indexed because rules and filters select on them."""

    country = models.CharField(max_length=2, blank=True, help_text="ISO 3166-1 alpha-2")
    region = models.CharField(max_length=8, blank=True, choices=Region.choices)
    state = models.CharField(max_length=8, blank=True, help_text="ISO 3166-2, e.g. US-CA")
    city = models.CharField(max_length=120, blank=True)
    metro = models.CharField(max_length=64, blank=True)
    postal_code = models.CharField(max_length=16, blank=True)
    lat = models.FloatField(null=True, blank=True)
    lon = models.FloatField(null=True, blank=True)
    industry = models.ForeignKey(Industry, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # The record's own classification code at any depth (NAICS "622110"), which prefix rules
    # read ("NAICS 62…"); ``industry`` links the reference node it falls under when there is one.
    industry_code = models.CharField(max_length=16, blank=True)
    employees = models.PositiveIntegerField(null=True, blank=True, db_index=True)
    annual_revenue = models.DecimalField(max_digits=16, decimal_places=2, null=True, blank=True, db_index=True)

    class Meta:
        abstract = True
        # Plain b-tree indexes, declared here rather than with db_index=True: on PostgreSQL that
        # would add a second, pattern-ops copy of every text index, which the rules' case-folded
        # SQL never uses and every mass update (routing writes the mirror columns) pays for.
        indexes = [
            models.Index(fields=[column], name=f"%(app_label)s_%(class)s_{column}")
            for column in ("country", "region", "state", "metro", "postal_code", "industry_code")
        ]

    def save(self, *args, **kwargs):
        # Choosing a reference industry sets the code unless the code is already a finer one
        # under it, so the two never disagree.
        if self.industry_id is not None:
            code = self.industry.code
            if not self.industry_code.startswith(code):
                self.industry_code = code
                update_fields = kwargs.get("update_fields")
                if update_fields is not None:
                    kwargs["update_fields"] = {*update_fields, "industry_code"}
        super().save(*args, **kwargs)


class Account(RoutableFields):
    class Status(models.TextChoices):
        PROSPECT = "prospect", "Prospect"
        CUSTOMER = "customer", "Customer"
        FORMER = "former", "Former customer"

    name = models.CharField(max_length=200)
    domain = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PROSPECT)
    potential = models.DecimalField(
        max_digits=16, decimal_places=2, null=True, blank=True, help_text="Estimated revenue potential (TAM)"
    )
    # No territory or owner columns: where an account sits is its current primary AccountTerritory
    # row and its owner is that territory's owner today (territories.placement).
    # Nor a lock column: an account's lock is a territories.AccountLock row (narrow, so a bulk
    # lock does not rewrite account rows).
    # Who hears from us when the account team changes (reassignment customer notices).
    contact_name = models.CharField("primary contact", max_length=200, blank=True)
    contact_email = models.EmailField("primary contact email", blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta(RoutableFields.Meta):
        ordering = ["name"]
        indexes = [*RoutableFields.Meta.indexes, models.Index(fields=["name"], name="salesos_account_name")]

    def __str__(self) -> str:
        return self.name


class Lead(RoutableFields):
    class Status(models.TextChoices):
        NEW = "new", "New"
        WORKING = "working", "Working"
        QUALIFIED = "qualified", "Qualified"
        DISQUALIFIED = "disqualified", "Disqualified"
        CONVERTED = "converted", "Converted"

    first_name = models.CharField(max_length=100, blank=True)
    last_name = models.CharField(max_length=100, blank=True)
    email = models.EmailField(blank=True)
    company = models.CharField(max_length=200)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.NEW, db_index=True)
    source = models.CharField(max_length=60, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="owned_leads"
    )
    territory = models.ForeignKey(
        "territories.Territory", null=True, blank=True, on_delete=models.SET_NULL, related_name="leads"
    )
    account = models.ForeignKey(Account, null=True, blank=True, on_delete=models.SET_NULL, related_name="leads")
    routing_trace = models.JSONField(null=True, blank=True, help_text="Why the lead went where it went")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta(RoutableFields.Meta):
        ordering = ["-created_at"]

    def __str__(self) -> str:
        person = f"{self.first_name} {self.last_name}".strip()
        return f"{person} ({self.company})" if person else self.company


class Opportunity(models.Model):
    class Stage(models.TextChoices):
        # Declared in pipeline order; STAGE_ORDER gives the rank for "past stage X" policies.
        PROSPECTING = "prospecting", "Prospecting"
        QUALIFICATION = "qualification", "Qualification"
        DISCOVERY = "discovery", "Discovery"
        PROPOSAL = "proposal", "Proposal"
        NEGOTIATION = "negotiation", "Negotiation"
        CLOSED_WON = "closed_won", "Closed won"
        CLOSED_LOST = "closed_lost", "Closed lost"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        WON = "won", "Won"
        LOST = "lost", "Lost"

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="opportunities")
    name = models.CharField(max_length=200)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="opportunities"
    )
    territory = models.ForeignKey(
        "territories.Territory", null=True, blank=True, on_delete=models.SET_NULL, related_name="opportunities"
    )
    amount = models.DecimalField(max_digits=14, decimal_places=2, validators=[MinValueValidator(Decimal(0))])
    stage = models.CharField(max_length=16, choices=Stage.choices, default=Stage.PROSPECTING)
    probability = models.PositiveSmallIntegerField(default=10, validators=[MaxValueValidator(100)])
    status = models.CharField(max_length=4, choices=Status.choices, default=Status.OPEN, db_index=True)
    created_date = models.DateField(default=dt.date.today)
    close_date = models.DateField(db_index=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = "opportunities"
        ordering = ["-close_date"]
        indexes = [models.Index(fields=["territory", "status"]), models.Index(fields=["owner", "status"])]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gte=0), name="opportunity_amount_not_negative"),
            models.CheckConstraint(condition=Q(probability__lte=100), name="opportunity_probability_max_100"),
            models.CheckConstraint(
                condition=Q(close_date__gte=models.F("created_date")), name="opportunity_closes_after_created"
            ),
            models.CheckConstraint(
                condition=(
                    Q(status="open", stage__in=["prospecting", "qualification", "discovery", "proposal", "negotiation"])
                    | Q(status="won", stage="closed_won")
                    | Q(status="lost", stage="closed_lost")
                ),
                name="opportunity_status_matches_stage",
            ),
        ]

    def __str__(self) -> str:
        return self.name


STAGE_ORDER = {stage: rank for rank, stage in enumerate(Opportunity.Stage.values)}


class Activity(models.Model):
    class Kind(models.TextChoices):
        CALL = "call", "Call"
        EMAIL = "email", "Email"
        MEETING = "meeting", "Meeting"

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="activities")
    opportunity = models.ForeignKey(
        Opportunity, null=True, blank=True, on_delete=models.SET_NULL, related_name="activities"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="activities"
    )
    kind = models.CharField(max_length=8, choices=Kind.choices)
    subject = models.CharField(max_length=200, blank=True)
    at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        verbose_name_plural = "activities"
        ordering = ["-at"]
        indexes = [models.Index(fields=["account", "at"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.subject or self.account}"


class SalesProfile(models.Model):
    """A person's place in the sales org: role, manager (the org chart), experience, ramp,
    capacity and home location."""

    class Role(models.TextChoices):
        REP = "rep", "Rep"
        MANAGER = "manager", "Manager"
        DIRECTOR = "director", "Director"
        ADMIN = "admin", "Sales ops admin"

    class Experience(models.TextChoices):
        JUNIOR = "junior", "Junior"
        MID = "mid", "Mid-level"
        SENIOR = "senior", "Senior"
        PRINCIPAL = "principal", "Principal"

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="sales_profile")
    role = models.CharField(max_length=8, choices=Role.choices, default=Role.REP, db_index=True)
    title = models.CharField(max_length=120, blank=True)
    specialist = models.BooleanField(
        default=False,
        help_text="An overlay specialist (solutions engineer, product specialist): supports deals in overlay "
        "territories, never a territory's primary owner",
    )
    manager = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="direct_reports"
    )
    region = models.CharField(max_length=8, blank=True, choices=Region.choices)
    experience = models.CharField(max_length=10, choices=Experience.choices, default=Experience.MID)
    hire_date = models.DateField(default=dt.date.today)
    ramp_months = models.PositiveSmallIntegerField(default=3, validators=[MaxValueValidator(24)])
    capacity_accounts = models.PositiveIntegerField(default=400, help_text="Most accounts this person can cover")
    capacity_pipeline = models.DecimalField(
        max_digits=14,
        decimal_places=2,
        default=Decimal("3000000"),
        help_text="Most open pipeline this person can carry",
    )
    home_city = models.CharField(max_length=120, blank=True)
    home_lat = models.FloatField(null=True, blank=True)
    home_lon = models.FloatField(null=True, blank=True)
    share_location = models.BooleanField(
        default=False,
        help_text="Show this person's home location on the map to their managers and admins (opt-in)",
    )

    class Meta:
        ordering = ["user__username"]
        constraints = [
            models.CheckConstraint(condition=Q(ramp_months__lte=24), name="profile_ramp_months_max_24"),
            models.CheckConstraint(condition=~Q(manager=models.F("user")), name="profile_not_own_manager"),
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.get_role_display()})"

    def ramp_ends(self) -> dt.date:
        month = self.hire_date.month - 1 + self.ramp_months
        year = self.hire_date.year + month // 12
        month = month % 12 + 1
        day = min(self.hire_date.day, 28)
        return dt.date(year, month, day)

    def is_ramping(self, on: dt.date | None = None) -> bool:
        return (on or timezone.localdate()) < self.ramp_ends()

    def ramp_factor(self, on: dt.date | None = None) -> float:
        """Share of full productivity on a date: linear from 0 at hire to 1 at ramp end."""
        on = on or timezone.localdate()
        if self.ramp_months == 0 or on >= self.ramp_ends():
            return 1.0
        total = (self.ramp_ends() - self.hire_date).days
        return max(0.0, min(1.0, (on - self.hire_date).days / total)) if total > 0 else 1.0


class Leave(models.Model):
    """A range of days away (PTO, parental leave, sick leave). The backup covers meanwhile."""

    class Kind(models.TextChoices):
        PTO = "pto", "PTO"
        PARENTAL = "parental", "Parental leave"
        SICK = "sick", "Sick leave"
        OTHER = "other", "Other"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="leaves")
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.PTO)
    start = models.DateField()
    end = models.DateField()
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-start"]
        indexes = [models.Index(fields=["user", "start", "end"])]
        constraints = [models.CheckConstraint(condition=Q(end__gte=models.F("start")), name="leave_end_after_start")]

    def __str__(self) -> str:
        return f"{self.user} {self.get_kind_display()} {self.start}–{self.end}"


def users_on_leave(on: dt.date | None = None) -> models.QuerySet:
    """Ids of the users away on a date (one indexed query)."""
    on = on or timezone.localdate()
    return Leave.objects.filter(start__lte=on, end__gte=on).values("user_id")
