"""The rule builder's live preview, on the territories side: which plan and parent a posted form
previews under, and who may ask. What the rule would cover and move is routing's answer
(``territories.hooks.rule_preview``, a dry run of the re-route the save starts)."""

from __future__ import annotations

from typing import Any

from django.http import Http404, QueryDict

from salesos.http import parse_id
from territories import hooks
from territories.access import may_see_plan, territories_for_user, territory_get_for_user
from territories.builder.codec import ParsedRule, named_ids_from_post
from territories.models import Territory, TerritoryPlan


def preview_parent(
    *, user: Any, may_restructure: bool, data: QueryDict, plan: TerritoryPlan, territory: Territory | None
) -> tuple[Territory | None, bool]:
    """The parent whose rules bound the preview, and whether one must still be picked. Only
    those who restructure (``may_restructure``: admins) may preview at the top level (an empty
    parent) or under any territory; anyone else previews an edit under its stored parent, and a
    new territory under a territory they may create children in (an unknown code and a forbidden
    one look the same)."""
    code = data.get("parent", "").strip()
    if may_restructure:
        # As the save reads it: no code is the top level.
        return (Territory.objects.filter(plan=plan, code__iexact=code).first() if code else None), False
    if territory is not None:
        return territory.parent, False
    allowed = territories_for_user(user=user, plan=plan, perm="add_territory")
    parent = allowed.filter(code__iexact=code).first() if code else None
    return parent, parent is None


def preview_for_post(
    *, user: Any, data: QueryDict, parsed: ParsedRule, may_create: bool, may_restructure: bool
) -> dict[str, Any]:
    """The preview of a posted builder form, for the territory it edits (``change_territory``
    on it) or a new one in a plan the user may see (``may_create``); anything else is a 404."""
    territory = None
    territory_id = parse_id(data.get("territory", ""))
    if territory_id:
        territory = territory_get_for_user(user=user, pk=territory_id, perm="change_territory")
        plan = territory.plan  # whatever plan is posted
    elif not may_create:
        raise Http404("No such territory")
    else:
        plan_id = parse_id(data.get("plan", ""))
        found = TerritoryPlan.objects.filter(pk=plan_id).first() if plan_id else TerritoryPlan.active()
        if found is None or not may_see_plan(user, found):
            raise Http404("No plan")
        plan = found
    parent, needs_parent = preview_parent(
        user=user, may_restructure=may_restructure, data=data, plan=plan, territory=territory
    )
    if needs_parent:
        preview: dict[str, Any] = {"ready": False, "needs_parent": True}
    else:
        preview = hooks.rule_preview(
            user=user,
            plan=plan,
            rule=parsed.rule,
            parent=parent,
            territory=territory,
            territory_type=data.get("type", ""),
            named_ids=named_ids_from_post(data),
            data=data,
        )
    return {"preview": preview, "parsed": parsed, "plan": plan, "territory": territory, "parent": parent}
