"""The one way views get territory-scoped objects. "Missing" and "forbidden" both answer 404, so
a user cannot probe for objects they may not see.

Territory access reads the object permissions the grants service materialises
(``territories.grants``): a user may do ``perm`` on territory T iff they are an admin (global
permissions) or hold that permission on T. Plans other than the active one are for admins and
directors only. Accounts are visible through the visible territories of the active plan (any
current row, primary or overlay) or when the user owns them (owns their current territory today,
``territories.placement``); leads through their territory or their owner.

Visible is not editable: an account may be edited (its routable fields changed) only by admins and
by managers and directors whose own part of the tree holds it as its primary territory
(``territories_editable_by``); reps view accounts and log activities only. Seeing an account
through an overlay territory, a team member's overlay slot or the unassigned queue does not make
it editable (queue roles route the queue from its own page).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db.models import Q, QuerySet
from django.http import Http404

from salesos.models import Account, Lead, SalesProfile
from salesos.roles import EDITOR_ROLES, opens_any_plan, role_of, works_queue
from territories.models import AccountTerritory, RepAssignment, Territory, TerritoryPlan, TerritoryUserObjectPermission
from territories.placement import current_primary_rows, is_placed, placement, territories_owned_by
from territories.selectors import current_assignments, team_user_ids, territories_visible_to, view_grants

Role = SalesProfile.Role

# Accounts a user may also see (read-only) for a reason an upper layer knows: planning registers
# the outgoing rep of a reassignment inside its transition window. Each returns a queryset of
# account ids, or None. Registered in the upper app's ``AppConfig.ready``.
_VISIBILITY_EXTENSIONS: list[Callable[[Any], QuerySet | None]] = []


def account_visibility_extend(provider: Callable[[Any], QuerySet | None]) -> None:
    if provider not in _VISIBILITY_EXTENSIONS:
        _VISIBILITY_EXTENSIONS.append(provider)


def _extended(user, seen: Q) -> Q:
    for provider in _VISIBILITY_EXTENSIONS:
        extra = provider(user)
        if extra is not None:
            seen |= Q(pk__in=extra)
    return seen


def sees_everything(user) -> bool:
    return role_of(user) == Role.ADMIN


def may_see_plan(user, plan: TerritoryPlan) -> bool:
    """The active plan: everyone. Other plans: admins and directors; a draft (or a plan in review)
    also the managers it is shared with. Reps never see drafts or staged plans."""
    if plan.status == TerritoryPlan.Status.ACTIVE or opens_any_plan(user):
        return True
    return (
        plan.status in TerritoryPlan.SHAREABLE
        and role_of(user) == Role.MANAGER
        and plan.shared_with.filter(pk=user.pk).exists()
    )


def territory_perms(*, user, territory: Territory) -> set[str]:
    """The territory permissions (codenames) a user holds on one territory: one query, none
    for admins."""
    role = role_of(user)
    if role == Role.ADMIN:
        return {"view_territory", "change_territory", "delete_territory", "add_territory"}
    if role is None or not may_see_plan(user, territory.plan):
        return set()
    return set(
        TerritoryUserObjectPermission.objects.filter(user=user, content_object=territory).values_list(
            "permission__codename", flat=True
        )
    )


def territory_has_perm(*, user, territory: Territory, perm: str = "view_territory") -> bool:
    return perm in territory_perms(user=user, territory=territory)


def territory_get_for_user(
    *, user, pk: int, plan: TerritoryPlan | None = None, perm: str = "view_territory"
) -> Territory:
    """The territory ``pk`` if ``user`` holds ``perm`` on it (and it belongs to ``plan`` when
    given); otherwise 404. ``perm``: view_territory, change_territory, delete_territory or
    add_territory (create children)."""
    if not user.is_authenticated:
        raise Http404("No such territory")
    territory = Territory.objects.select_related("plan").filter(pk=pk).first()
    if territory is None or (plan is not None and territory.plan_id != plan.pk):
        raise Http404("No such territory")
    if not territory_has_perm(user=user, territory=territory, perm=perm.split(".")[-1]):
        raise Http404("No such territory")
    return territory


def territories_for_user(*, user, plan: TerritoryPlan | None, perm: str = "view_territory") -> QuerySet[Territory]:
    """The territories of ``plan`` on which ``user`` holds ``perm`` (a codename, as in
    ``territory_get_for_user``): all of them for admins; for everyone else the object permissions
    the grants service materialised (directors: the subtrees they lead), and none in a plan they
    may not open."""
    if plan is None or not user.is_authenticated or role_of(user) is None:
        return Territory.objects.none()
    territories = Territory.objects.filter(plan=plan)
    if sees_everything(user):
        return territories
    if not may_see_plan(user, plan):
        return Territory.objects.none()
    return territories.filter(pk__in=view_grants(user, perm.split(".")[-1]))


def accounts_visible_to(user) -> QuerySet[Account]:
    return _accounts_visible(user, TerritoryPlan.active(), owned=True)


def _accounts_visible(user, plan: TerritoryPlan | None, *, owned: bool) -> QuerySet[Account]:
    """``owned``: also the accounts whose current territory the user owns today (three queries to
    know which; owners hold an assignment there, so their view grant usually covers it already)."""
    if not user.is_authenticated or role_of(user) is None:
        return Account.objects.none()
    if sees_everything(user):
        return Account.objects.all()
    queue = works_queue(user)  # directors and managers route the unassigned queue
    if plan is None:
        # No active plan places anything: every account is in the queue.
        return Account.objects.all() if queue else Account.objects.filter(_extended(user, Q(pk__in=[])))
    # Any current row (primary or overlay) in a visible territory, or the current primary row in a
    # territory the user owns today (its primary, or the backup covering a primary on leave).
    visible = territories_visible_to(user, plan).values("pk")
    in_view = Q(territory_id__in=visible)
    mine = territories_owned_by(user, plan=plan) if owned else []
    if mine:
        # The visible ids are read first (one query), and owned territories already visible add
        # nothing: PostgreSQL then reads the rows through the (territory, valid_to) index, where a
        # subquery OR'ed with the owned territories made it test every row of the table.
        seen_ids = set(visible.values_list("pk", flat=True))
        in_view = Q(territory_id__in=sorted(seen_ids))
        mine = [pk for pk in mine if pk not in seen_ids]
        if mine:
            in_view |= Q(territory_id__in=mine, is_primary=True)
    rows = AccountTerritory.objects.filter(in_view, valid_to__isnull=True).values("account_id")
    seen = Q(pk__in=rows)
    if queue:
        # So they may open what is in it.
        seen |= Q(~is_placed(plan=plan))
    return Account.objects.filter(_extended(user, seen))


def territories_editable_by(user, plan: TerritoryPlan | None) -> QuerySet[Territory]:
    """The non-overlay territories of ``plan`` whose accounts ``user`` may edit: all for admins;
    for managers and directors the ones they or a direct report hold as primary today, and the
    subtrees a director leads (the grants' leader rule: their ``delete_territory`` rows); none
    for reps. A team member's overlay or backup slot gives view rights, not this."""
    role = role_of(user)
    if plan is None or role not in EDITOR_ROLES:
        return Territory.objects.none()
    territories = Territory.objects.filter(plan=plan, is_overlay=False)
    if role == Role.ADMIN:
        return territories
    team = Q(user=user) | Q(user__in=team_user_ids(user))
    held = current_assignments().filter(team, slot=RepAssignment.Slot.PRIMARY).values("territory_id")
    scope = Q(pk__in=held)
    if role == Role.DIRECTOR:
        scope |= Q(pk__in=view_grants(user, "delete_territory"))
    # Never wider than what the user sees.
    return territories.filter(scope).filter(pk__in=territories_visible_to(user, plan).values("pk"))


def accounts_editable_by(user) -> QuerySet[Account]:
    """Accounts ``user`` may edit: those whose current primary territory in the active plan is
    one of ``territories_editable_by`` (admins: every account)."""
    role = role_of(user)
    if role not in EDITOR_ROLES:
        return Account.objects.none()
    if role == Role.ADMIN:
        return Account.objects.all()
    plan = TerritoryPlan.active()
    rows = current_primary_rows(plan).filter(territory_id__in=territories_editable_by(user, plan).values("pk"))
    return Account.objects.filter(pk__in=rows.values("account_id"))


def account_may_edit(*, user, account: Account) -> bool:
    return accounts_editable_by(user).filter(pk=account.pk).exists()


def account_get_for_user(*, user, pk: int) -> Account:
    """The account ``pk`` if ``accounts_visible_to(user)`` holds it; otherwise 404. The territory
    view is asked first; whether the user owns an account outside it only when it is not there."""
    plan = TerritoryPlan.active()
    with_lock = "territory_lock__territory"  # the account's lock, shown on its pages
    account = _accounts_visible(user, plan, owned=False).filter(pk=pk).select_related(with_lock).first()
    if account is None and plan is not None and role_of(user) is not None:
        account = Account.objects.filter(pk=pk).select_related(with_lock).first()
        if account is not None and placement(account, plan=plan).owner != user:
            account = None
    if account is None:
        raise Http404("No such account")
    return account


def leads_visible_to(user) -> QuerySet[Lead]:
    if not user.is_authenticated or role_of(user) is None:
        return Lead.objects.none()
    if sees_everything(user):
        return Lead.objects.all()
    visible = territories_visible_to(user, TerritoryPlan.active()).values("pk")
    return Lead.objects.filter(Q(territory_id__in=visible) | Q(owner=user))


def lead_get_for_user(*, user, pk: int) -> Lead:
    lead = leads_visible_to(user).filter(pk=pk).select_related("territory", "owner").first()
    if lead is None:
        raise Http404("No such lead")
    return lead
