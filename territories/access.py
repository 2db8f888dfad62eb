"""The one way views get territory-scoped objects. "Missing" and "forbidden" both answer 404, so
a user cannot probe for objects they may not see.

Visibility follows SEED "Hierarchy Permissions" (see ``territories.selectors.territories_visible_to``);
accounts are visible through their territories (any current row, primary or overlay) or when the
user owns them.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.http import Http404

from routing.models import AccountTerritory
from salesos.models import Account, Lead, SalesProfile
from salesos.roles import role_of
from territories.models import Territory, TerritoryPlan
from territories.selectors import territories_visible_to

Role = SalesProfile.Role


def sees_everything(user) -> bool:
    return role_of(user) in (Role.ADMIN, Role.DIRECTOR)


def territory_get_for_user(*, user, pk: int, plan: TerritoryPlan | None = None) -> Territory:
    territory = Territory.objects.select_related("plan").filter(pk=pk).first()
    if territory is None or not territories_visible_to(user, plan or territory.plan).filter(pk=pk).exists():
        raise Http404("No such territory")
    return territory


def accounts_visible_to(user) -> QuerySet[Account]:
    if not user.is_authenticated or role_of(user) is None:
        return Account.objects.none()
    if sees_everything(user):
        return Account.objects.all()
    plan = TerritoryPlan.active()
    visible = territories_visible_to(user, plan).values("pk")
    rows = AccountTerritory.objects.filter(territory_id__in=visible, valid_to__isnull=True).values("account_id")
    return Account.objects.filter(Q(pk__in=rows) | Q(owner=user))


def account_get_for_user(*, user, pk: int) -> Account:
    account = accounts_visible_to(user).filter(pk=pk).select_related("territory", "owner", "locked_territory").first()
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
