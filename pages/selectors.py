"""Reads behind the home page, one per role. Every figure is aggregated in SQL (subqueries and
prefetches), so the number of queries does not grow with accounts, territories or team size."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING

from django.contrib.auth import get_user_model
from django.core.paginator import Page, Paginator
from django.db.models import (
    Case,
    Count,
    Exists,
    F,
    Func,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    Subquery,
    Sum,
    Value,
    When,
)
from django.utils import timezone

from salesos.models import Account, Leave, Opportunity, SalesProfile
from salesos.roles import role_of
from territories.models import RepAssignment, Territory, TerritoryPlan
from territories.placement import accounts_in, is_placed
from territories.selectors import (
    account_count_of,
    active_plan,
    current_assignments,
    is_staffed,
    largest_territories,
    open_pipeline_of,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import User as AuthUser

User = get_user_model()
Role = SalesProfile.Role
Slot = RepAssignment.Slot

ACCOUNTS_PAGE_SIZE = 50


@dataclass
class AdminCoverage:
    accounts: int
    unassigned: int
    territories: int
    vacant: int
    overlay: int
    open_pipeline: Decimal
    open_deals: int
    reps: int
    largest: list[Territory]

    @property
    def assigned(self) -> int:
        return self.accounts - self.unassigned

    @property
    def assigned_percent(self) -> float:
        return 100 * self.assigned / self.accounts if self.accounts else 0.0


@dataclass
class Member:
    """One person of a team, with the territories they own (primary slot) in the active plan."""

    user: AuthUser
    assignments: list[RepAssignment]
    on_leave: bool
    ramping: bool
    reports: list[Member] = field(default_factory=list)

    @property
    def territories(self) -> list[Territory]:
        return [a.territory for a in self.assignments]

    @property
    def account_count(self) -> int:
        return sum(t.account_count for t in self.territories)

    @property
    def open_pipeline(self) -> Decimal:
        return sum((t.open_pipeline for t in self.territories), Decimal(0))

    @property
    def team_territory_count(self) -> int:
        return len(self.territories) + sum(len(r.territories) for r in self.reports)

    @property
    def team_account_count(self) -> int:
        return self.account_count + sum(r.account_count for r in self.reports)

    @property
    def team_open_pipeline(self) -> Decimal:
        return self.open_pipeline + sum((r.open_pipeline for r in self.reports), Decimal(0))


@dataclass
class HomeData:
    role: str | None
    plan: TerritoryPlan | None
    admin: AdminCoverage | None = None
    team: list[Member] = field(default_factory=list)
    assignments: list[RepAssignment] = field(default_factory=list)
    accounts: Page | None = None
    q: str = ""

    @property
    def team_totals(self) -> dict:
        """Roll-up of a manager's or director's whole team (the people listed, and their reports)."""
        members = [*self.team, *(r for m in self.team for r in m.reports)]
        return {
            "people": len(members),
            "territories": sum(len(m.territories) for m in members),
            "accounts": sum(m.account_count for m in members),
            "open_pipeline": sum((m.open_pipeline for m in members), Decimal(0)),
            "on_leave": sum(1 for m in members if m.on_leave),
        }

    @property
    def primary_assignments(self) -> list[RepAssignment]:
        return [a for a in self.assignments if a.slot == Slot.PRIMARY]


def admin_coverage(*, plan: TerritoryPlan) -> AdminCoverage:
    accounts = Account.objects.aggregate(total=Count("pk"), unassigned=Count("pk", filter=~is_placed(plan=plan)))
    territories = (
        Territory.objects.filter(plan=plan)
        .annotate(staffed=is_staffed())
        .aggregate(
            total=Count("pk"),
            vacant=Count("pk", filter=Q(staffed=False)),
            overlay=Count("pk", filter=Q(is_overlay=True)),
        )
    )
    pipeline = Opportunity.objects.filter(status=Opportunity.Status.OPEN).aggregate(
        total=Sum("amount"), deals=Count("pk")
    )
    return AdminCoverage(
        accounts=accounts["total"],
        unassigned=accounts["unassigned"],
        territories=territories["total"],
        vacant=territories["vacant"],
        overlay=territories["overlay"],
        open_pipeline=pipeline["total"] or Decimal(0),
        open_deals=pipeline["deals"],
        reps=SalesProfile.objects.filter(role=Role.REP).count(),
        largest=largest_territories(plan=plan),
    )


def _assignments_with_coverage(plan: TerritoryPlan):
    return (
        current_assignments()
        .filter(territory__plan=plan)
        .select_related("territory")
        .annotate(
            account_count=account_count_of("territory_id"),
            open_pipeline=open_pipeline_of("territory_id"),
        )
        .order_by("territory__code")
    )


def _members(users, plan: TerritoryPlan) -> list[Member]:
    """People with their current primary territories (one prefetch), leave flag (one EXISTS) and
    ramp status (from the profile already joined)."""
    today = timezone.localdate()
    on_leave = Exists(Leave.objects.filter(user=OuterRef("pk"), start__lte=today, end__gte=today))
    owned = _assignments_with_coverage(plan).filter(slot=Slot.PRIMARY)
    users = (
        users.select_related("sales_profile")
        .annotate(on_leave=on_leave)
        .prefetch_related(Prefetch("territory_assignments", queryset=owned, to_attr="owned"))
        .order_by("first_name", "last_name", "username")
    )
    members = []
    for user in users:
        for assignment in user.owned:
            # Expose the figures on the territory too, so templates read one shape.
            assignment.territory.account_count = assignment.account_count
            assignment.territory.open_pipeline = assignment.open_pipeline
        members.append(
            Member(user=user, assignments=user.owned, on_leave=user.on_leave, ramping=user.sales_profile.is_ramping())
        )
    return members


def manager_team(*, manager, plan: TerritoryPlan) -> list[Member]:
    return _members(User.objects.filter(sales_profile__manager=manager), plan)


def director_team(*, director, plan: TerritoryPlan) -> list[Member]:
    """The director's direct reports (usually managers), each with their own reports nested."""
    people = User.objects.filter(
        Q(sales_profile__manager=director) | Q(sales_profile__manager__sales_profile__manager=director)
    )
    members = _members(people, plan)
    by_manager: dict[int | None, list[Member]] = {}
    for member in members:
        by_manager.setdefault(member.user.sales_profile.manager_id, []).append(member)
    top = by_manager.get(director.pk, [])
    for member in top:
        member.reports = by_manager.get(member.user.pk, [])
    return top


def rep_assignments(*, rep, plan: TerritoryPlan) -> list[RepAssignment]:
    slot_rank = Case(
        When(slot=Slot.PRIMARY, then=Value(0)),
        When(slot=Slot.OVERLAY, then=Value(1)),
        default=Value(2),
        output_field=IntegerField(),
    )
    assignments = _assignments_with_coverage(plan).filter(user=rep).order_by(slot_rank, "territory__code")
    return list(assignments)


def territory_accounts(*, territory_ids: list[int], q: str = "", page: int | str | None = 1) -> Page:
    # Open deals by a correlated count: PostgreSQL evaluates it for the page's 50 rows only, where
    # a join and GROUP BY counted every deal of every account in the territories first (and the
    # paginator's count leaves the unused subquery out).
    open_deals = (
        Opportunity.objects.filter(account=OuterRef("pk"), status=Opportunity.Status.OPEN)
        .order_by()
        .annotate(n=Func(F("pk"), function="COUNT", output_field=IntegerField()))
        .values("n")
    )
    accounts = accounts_in(territory_ids).annotate(open_deals=Subquery(open_deals)).order_by("name", "pk")
    if q:
        accounts = accounts.filter(name__icontains=q)
    return Paginator(accounts, ACCOUNTS_PAGE_SIZE).get_page(page)


def home_for(*, user, q: str = "", page: int | str | None = 1) -> HomeData:
    role = role_of(user)
    plan = active_plan()
    data = HomeData(role=role, plan=plan, q=q)
    if plan is None or role is None:
        return data
    if role == Role.ADMIN:
        data.admin = admin_coverage(plan=plan)
    elif role == Role.DIRECTOR:
        data.team = director_team(director=user, plan=plan)
    elif role == Role.MANAGER:
        data.team = manager_team(manager=user, plan=plan)
    elif role == Role.REP:
        data.assignments = rep_assignments(rep=user, plan=plan)
        primary_ids = [a.territory_id for a in data.primary_assignments]
        if primary_ids:
            data.accounts = territory_accounts(territory_ids=primary_ids, q=q, page=page)
    return data
