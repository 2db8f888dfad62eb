"""Reads of the create, edit and delete pages: the plan a new territory goes into, a territory's
named-account list as the user may see it, and where a deleted territory's children may go."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from django.http import Http404

from territories.access import accounts_visible_to, sees_everything
from territories.builder.pickers import named_chips
from territories.models import Territory, TerritoryPlan


def plan_for_new(plan_id: int | None) -> TerritoryPlan:
    """The plan ``plan_id`` (none given: the active plan) unless it is archived; else a 404."""
    plan = TerritoryPlan.objects.filter(pk=plan_id).first() if plan_id else TerritoryPlan.active()
    if plan is None or plan.status == TerritoryPlan.Status.ARCHIVED:
        raise Http404("No plan to add territories to")
    return plan


def has_code(plan: TerritoryPlan, code: str) -> bool:
    """Whether ``plan`` holds a territory with exactly this code."""
    return bool(code) and Territory.objects.filter(plan=plan, code=code).exists()


def named_account_ids(territory: Territory) -> list[int]:
    """The territory's named accounts, by name."""
    return list(territory.named_accounts.order_by("name").values_list("pk", flat=True))


def named_context(user: Any, territory: Territory | None, named: list[int]) -> dict[str, Any]:
    """The named-account chips the user may see by name. Listed accounts they cannot see stay on
    the list as bare ids (saving does not drop them); posted ids of other accounts are left out
    and only counted, so the page never names an account outside the user's view."""
    visible = None if sees_everything(user) else accounts_visible_to(user)
    chips = named_chips(named, visible)
    shown = {int(pk) for pk, _ in chips}
    listed = set(territory.named_accounts.values_list("pk", flat=True)) if territory is not None else set()
    kept = [pk for pk in named if pk not in shown and pk in listed]
    return {"named_chips": chips, "named_kept": kept, "named_left_out": len(set(named) - shown - listed)}


@dataclass(frozen=True)
class ChildrenTarget:
    target: Territory | None  # where the children go ("other"); None: up a level, or not chosen
    error: str  # why the chosen target cannot take them ("" when it can)
    subtree: QuerySet[Territory]  # the territories below the one being deleted

    @property
    def subtree_count(self) -> int:
        return self.subtree.count()


def children_target(*, territory: Territory, choice: str, code: str) -> ChildrenTarget:
    """Where the children of a territory being deleted go when ``choice`` is "other": the
    territory ``code`` in the same plan, outside the one being deleted."""
    subtree = territory.descendants().filter(plan=territory.plan)
    target = None
    error = ""
    if choice == "other":
        code = code.strip()
        target = Territory.objects.filter(plan=territory.plan, code__iexact=code).first() if code else None
        if target is None or subtree.filter(pk=target.pk).exists() or target.pk == territory.pk:
            error = "Choose a territory outside the one being deleted." if code else "Choose where the children go."
            target = None
    return ChildrenTarget(target=target, error=error, subtree=subtree)
