"""Territory writes: create, update (fields, rule, tree position), delete or retire, and the
named-account list. Each is atomic, stamped in history, and re-routes and refreshes grants as
the change requires."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from salesos.models import Account
from territories import coverage, hooks
from territories.access import accounts_visible_to, sees_everything
from territories.locks import held_by_lock
from territories.models import RepAssignment, Territory, TerritoryPlan
from territories.services.assignments import assignment_add, assignment_end
from territories.services.common import (
    EDITABLE_FIELDS,
    ROUTING_FIELDS,
    check_code,
    check_parent,
    code_suggest,
    grants_refresh,
    plan_touch,
    refuse_locked,
    refuse_retired,
    reroute,
    routing_changed,
    stamp,
    subtree_ids,
    validated_rule,
)

User = get_user_model()
Slot = RepAssignment.Slot

# --- territories -------------------------------------------------------------------------------


@transaction.atomic
def territory_create(
    *, plan: TerritoryPlan, data: Mapping[str, Any], by: AbstractBaseUser | None, activate: bool
) -> Territory:
    """Creates a territory in ``plan``. ``data``: name (required), code (generated from the name
    when blank), description, type, parent, priority, rule, is_overlay, credit_percent,
    lead_assignment, named_account_ids, and ``reps``: a list of {user, slot, split_percent}.
    ``activate`` saves it active (routable at once in the active plan), otherwise as a draft."""
    refuse_locked(plan)
    name = (data.get("name") or "").strip()
    if not name:
        raise ValidationError({"name": "A territory needs a name."})
    code = (data.get("code") or "").strip() or code_suggest(plan=plan, name=name)
    check_code(plan=plan, code=code)
    parent = data.get("parent")
    check_parent(territory=None, plan=plan, parent=parent)
    territory = Territory(
        plan=plan,
        code=code,
        name=name,
        parent=parent,
        rule=validated_rule(data.get("rule") or {}),
        status=Territory.Status.ACTIVE if activate else Territory.Status.DRAFT,
        **{k: data[k] for k in EDITABLE_FIELDS if k in data and k not in ("code", "name", "status")},
    )
    territory.full_clean(exclude=["parent"])
    stamp(territory, by=by, reason="Created and activated" if activate else "Created as draft")
    territory.save()
    named = _namable(by=by, account_ids=data.get("named_account_ids") or (), have=set())
    if named:
        territory.named_accounts.set(named)
    for rep in data.get("reps") or ():
        assignment_add(
            territory=territory,
            user=rep["user"],
            slot=rep["slot"],
            split_percent=rep.get("split_percent"),
            start_date=rep.get("start_date"),
            by=by,
        )
    routing_changed(territory=territory, territory_ids=[territory.pk], by=by)
    grants_refresh(territories=[territory])
    return territory


STALE_EDIT = (
    "Someone else changed this territory after you opened this form, so nothing was saved. "
    "Reload the page to see their change, then make yours again."
)


@transaction.atomic
def territory_update(
    *, territory: Territory, data: Mapping[str, Any], by: AbstractBaseUser | None, version: int | None = None
) -> Territory:
    """Changes the plain fields in ``data`` (see ``EDITABLE_FIELDS``); ``rule``, ``parent`` and
    ``named_account_ids`` when present go through their own services, in one transaction.
    Only the fields whose value changes are written. ``version`` is the territory's version the
    edit was made against (the form's hidden field): if the territory changed since, the edit
    is refused with ``ValidationError`` (code ``stale``) and nothing is written."""
    # Lock the row and read it afresh: the comparison below and the save see the stored values.
    stored = Territory.objects.select_for_update().filter(pk=territory.pk).first()
    if stored is None:
        raise ValidationError("This territory no longer exists.", code="missing")
    if version is not None and stored.version != version:
        raise ValidationError(STALE_EDIT, code="stale")
    territory.refresh_from_db()
    refuse_locked(territory.plan_id)
    refuse_retired(territory)
    changed = [k for k in EDITABLE_FIELDS if k in data and getattr(territory, k) != data[k]]
    if "code" in changed:
        check_code(plan=territory.plan, code=data["code"], territory=territory)
    for key in changed:
        setattr(territory, key, data[key])
    if changed:
        territory.full_clean(exclude=["parent"])
        labels = ", ".join(Territory._meta.get_field(k).verbose_name for k in changed)
        stamp(territory, by=by, reason=f"Changed {labels}")
        territory.save(update_fields=[*changed, "updated_at"])
    if "parent" in data and data["parent"] != territory.parent:
        territory = territory_move(territory=territory, new_parent=data["parent"], by=by)
    if "rule" in data:
        territory = territory_update_rule(territory=territory, rule=data["rule"], by=by)
    if "named_account_ids" in data:
        territory_named_accounts_set(territory=territory, account_ids=data["named_account_ids"], by=by)
    if ROUTING_FIELDS.intersection(changed):
        routing_changed(territory=territory, territory_ids=subtree_ids(territory), by=by)
    return territory


@transaction.atomic
def territory_update_rule(*, territory: Territory, rule: Any, by: AbstractBaseUser | None) -> Territory:
    """Replaces the rule (validated by the engine; raises ``RuleError`` with each problem's path).
    An unchanged rule writes nothing."""
    refuse_locked(territory.plan_id)
    rule = validated_rule(rule)
    if rule == (territory.rule or {}):
        return territory
    territory.rule = rule
    stamp(territory, by=by, reason="Changed the rule")
    territory.save(update_fields=["rule", "updated_at"])
    # Children inherit the rule, so their accounts can move too.
    routing_changed(territory=territory, territory_ids=subtree_ids(territory), by=by)
    return territory


@transaction.atomic
def territory_move(
    *, territory: Territory, new_parent: Territory | None, by: AbstractBaseUser | None, reason: str | None = None
) -> Territory:
    """Moves a territory (with its subtree) under ``new_parent`` (None: to the top level). The new
    parent must be in the same plan and outside the subtree (no loops): ``ValidationError``."""
    territory = Territory.objects.select_for_update().select_related("plan").get(pk=territory.pk)
    refuse_locked(territory.plan_id)
    refuse_retired(territory)
    if new_parent is not None:
        refuse_retired(new_parent)
    check_parent(territory=territory, plan=territory.plan, parent=new_parent)
    if territory.parent_id == (new_parent.pk if new_parent else None):
        return territory
    old_parent_id = territory.parent_id
    territory.parent = new_parent
    where = f"under {new_parent.code}" if new_parent else "to the top level"
    stamp(territory, by=by, reason=f"{reason}: moved {where}" if reason else f"Moved {where}")
    territory.save(update_fields=["parent", "updated_at"])
    moved = subtree_ids(territory)
    # The old parent may win back accounts the subtree held; the new one may lose some to it.
    touched = [*moved, *(pk for pk in (old_parent_id, new_parent.pk if new_parent else None) if pk)]
    routing_changed(territory=territory, territory_ids=touched, by=by)
    grants_refresh(territories=Territory.objects.filter(pk__in=moved))
    return territory


def territory_delete_impact(*, territory: Territory, reassign_children_to: Territory | None = None,
                            delete_children: bool = False) -> dict[str, Any]:
    """What deleting would do, for the confirmation page: bounded COUNT queries only."""
    doomed = subtree_ids(territory) if delete_children else [territory.pk]
    children = list(territory.children.order_by("code"))
    target = reassign_children_to if reassign_children_to is not None else territory.parent
    return {
        "territories": len(doomed),
        "accounts": _affected_accounts(doomed).count(),
        "children": children,
        "children_to": None if delete_children else target,
        "delete_children": delete_children,
        "assignments": coverage.open_assignments().filter(territory_id__in=doomed).count(),
        "named": Territory.named_accounts.through.objects.filter(territory_id__in=doomed).count(),
        "active_plan": territory.plan.is_active,
        "retire": _has_records(doomed),
    }


def _has_records(territory_ids: list[int]) -> bool:
    """Whether any of these territories carries records that must outlive it: ownership rows
    (the effective-dated history of who owned which account) or quotas: the apps that keep them
    answer ``hooks.territory_records``."""
    return any(hooks.answers(hooks.territory_records, territory_ids=territory_ids))


def _affected_accounts(territory_ids: list[int]) -> QuerySet[Account]:
    """Accounts locked to, listed in, or currently held by (``hooks.territory_accounts``) these
    territories."""
    named = Territory.named_accounts.through.objects.filter(territory_id__in=territory_ids).values("account_id")
    held = held_by_lock(territory_ids) | Q(pk__in=named)
    for current in hooks.answers(hooks.territory_accounts, territory_ids=territory_ids):
        held |= Q(pk__in=current)
    return Account.objects.filter(held)


@transaction.atomic
def territory_delete(
    *,
    territory: Territory,
    by: AbstractBaseUser | None,
    reassign_children_to: Territory | None = None,
    delete_children: bool = False,
) -> dict[str, Any]:
    """Deletes a territory. Its children move to ``reassign_children_to`` (by default the deleted
    territory's own parent, so the tree closes over the gap), or the whole subtree goes with
    ``delete_children``. Its accounts (current rows, locks, named lists) fall back to the rules
    of what remains: they are re-routed. Returns what was done (counts and the children's new
    parent)."""
    territory = Territory.objects.select_for_update(of=("self",)).select_related("plan", "parent").get(pk=territory.pk)
    refuse_locked(territory.plan_id)
    refuse_retired(territory)
    plan = territory.plan
    doomed = subtree_ids(territory) if delete_children else [territory.pk]
    if reassign_children_to is not None and reassign_children_to.pk in subtree_ids(territory):
        raise ValidationError({"reassign_children_to": "Children cannot move inside the territory being deleted."})
    target = None if delete_children else (reassign_children_to or territory.parent)
    moved: list[int] = []
    if not delete_children:
        for child in territory.children.all():
            moved.append(
                territory_move(territory=child, new_parent=target, by=by, reason=f"{territory.code} deleted").pk
            )
    account_ids = list(_affected_accounts(doomed).values_list("pk", flat=True))
    holders = list(
        User.objects.filter(
            pk__in=coverage.open_assignments().filter(territory_id__in=doomed).values("user_id")
        )
    )
    count = len(doomed)
    retire = _has_records(doomed)
    if retire:
        # Nothing is lost: territories with ownership history or quotas are retired (inactive,
        # out of routing, reps' assignments ended) and keep their records.
        today = timezone.localdate()
        for assignment in coverage.open_assignments().filter(territory_id__in=doomed):
            assignment_end(assignment=assignment, end_date=max(today, assignment.start_date), by=by)
        for node in Territory.objects.filter(pk__in=doomed):
            node.status = Territory.Status.INACTIVE
            stamp(node, by=by, reason=f"Retired{' with ' + territory.code if node.pk != territory.pk else ''}: "
                                       "kept for its ownership history")
            node.save(update_fields=["status", "updated_at"])
    else:
        # Deepest first so every history row records a plain delete and no CASCADE runs first.
        for node in Territory.objects.with_tree_fields().filter(pk__in=doomed).order_by("-tree_depth"):
            stamp(node, by=by, reason=f"Deleted{' with ' + territory.code if node.pk != territory.pk else ''}")
            node.delete()
    plan_touch(plan=plan)
    reroute(plan=plan, by=by, account_ids=account_ids)
    grants_refresh(users=holders)
    return {"territories": count, "accounts": len(account_ids), "children_moved": len(moved), "children_to": target,
            "retired": retire}


def _namable(*, by: AbstractBaseUser | None, account_ids: Iterable[int], have: set[int]) -> set[int]:
    """The ids of ``account_ids`` that may be on a named list that holds ``have`` today. Named
    lists win over every rule, so a user may add only accounts they may already see
    (``accounts_visible_to``: their territories' accounts and, for the roles that work it, the
    unassigned queue); ids already on the list stay. Any other id, missing or not visible alike
    (so the answer does not tell which), refuses the whole change with ``ValidationError``.
    Admins and system writes (``by`` None) name any existing account; unknown ids are ignored."""
    ids = set(account_ids)
    if by is None or sees_everything(by):
        return set(Account.objects.filter(pk__in=list(ids)).values_list("pk", flat=True))
    new = ids - have
    seen = set(accounts_visible_to(by).filter(pk__in=list(new)).values_list("pk", flat=True))
    unseen = len(new - seen)
    if unseen:
        raise ValidationError({"named_account_ids": (
            f"{unseen} of the named accounts {'is' if unseen == 1 else 'are'} not one{'' if unseen == 1 else 's'} "
            "you can see. You may name only accounts in your territories or in the unassigned queue; "
            "nothing was saved."
        )})
    return (ids & have) | seen


@transaction.atomic
def territory_named_accounts_set(
    *, territory: Territory, account_ids: Iterable[int], by: AbstractBaseUser | None
) -> Territory:

    """Replaces the named-account list (ids of accounts that exist; others are ignored; a user
    may add only accounts they may see, see ``_namable``). The change is recorded in the
    territory's history as "+N / -M named accounts"."""
    refuse_locked(territory.plan_id)
    have = set(territory.named_accounts.values_list("pk", flat=True))
    wanted = _namable(by=by, account_ids=account_ids, have=have)
    added, removed = wanted - have, have - wanted
    if not added and not removed:
        return territory
    if removed:
        territory.named_accounts.remove(*removed)
    if added:
        territory.named_accounts.add(*added)
    stamp(territory, by=by, reason=f"Named accounts: +{len(added)} / -{len(removed)}")
    territory.save(update_fields=["updated_at"])
    plan_touch(plan=territory.plan)
    # Accounts that left the list are re-routed with the territory; those that joined may be
    # sitting in other territories, so they are re-routed by id.
    reroute(plan=territory.plan, by=by, territory_ids=[territory.pk], account_ids=added)
    return territory
