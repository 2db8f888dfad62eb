"""What a records list's filters may offer a user: the territories of a plan they may see, the
people who own them today, and, for lead lists, the owners of the leads in view. The accounts and
leads lists and the unassigned queue share it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model

from territories import coverage
from territories.access import leads_visible_to
from territories.models import Territory, TerritoryPlan
from territories.selectors import territories_visible_to

User = get_user_model()


@dataclass
class Options:
    """What the filters may offer this user: visible territories, their owners, reference lists."""

    territories: list[Territory]
    owners: list[Any]  # users
    owner_of: dict[int, int | None]  # visible territory id -> its owner's id today

    @classmethod
    def for_user(cls, user, *, plan: TerritoryPlan | None, lead_owners: bool = False) -> Options:
        territories = list(territories_visible_to(user, plan).order_by("code"))
        owner_of = coverage.owner_ids_on(territory_ids=[t.pk for t in territories])
        owner_ids = {u for u in owner_of.values() if u is not None}
        if lead_owners:
            # Leads carry their owner: offer the owners of the leads in view.
            owner_ids |= set(
                leads_visible_to(user).exclude(owner=None).order_by().values_list("owner_id", flat=True).distinct()
            )
        owners = list(User.objects.filter(pk__in=owner_ids).order_by("first_name", "last_name", "username"))
        return cls(territories=territories, owners=owners, owner_of=owner_of)

    @property
    def territory_ids(self) -> set[int]:
        return {t.pk for t in self.territories}

    @property
    def owner_ids(self) -> set[int]:
        return {u.pk for u in self.owners}
