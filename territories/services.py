"""Every write to territories and rep assignments. Keyword-only, typed, atomic; each write is
recorded by django-simple-history with the user who made it and why (``_history_user`` and
``_change_reason`` on the instance), so the territory page can say who changed what, when.

After a change that can alter routing (rule, tree, named list, type, priority, status, overlay
credit) the plan's version stamp is bumped (``plan_touch``: every process drops its compiled
index) and, in the ACTIVE plan, a batch re-route of the touched territories is started. Draft
plans are never re-routed: nothing is assigned from them until they are activated.

Permission grants (django-guardian rows materialised from roles, the tree and assignments) are
resynchronised after tree and assignment changes.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Max, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.text import slugify

from routing import engine
from salesos.models import Account
from territories import coverage, hooks
from territories.access import accounts_visible_to, sees_everything
from territories.grants import grants_sync
from territories.models import RepAssignment, Territory, TerritoryPlan

if TYPE_CHECKING:
    from django.contrib.auth.models import User as AuthUser

User = get_user_model()
Slot = RepAssignment.Slot

# Fields a territory form may set directly; the rest go through their own service.
EDITABLE_FIELDS = ("code", "name", "description", "type", "status", "priority", "is_overlay", "credit_percent",
                   "lead_assignment")
# Changing one of these can move accounts.
ROUTING_FIELDS = frozenset({"type", "status", "priority", "is_overlay", "credit_percent", "rule", "parent_id"})
REASON_MAX = 100  # simple-history's change_reason column


# --- helpers -----------------------------------------------------------------------------------


def plan_touch(*, plan: TerritoryPlan) -> None:
    """Marks every process's compiled copy of the plan stale (its version stamp, which the
    routing index is keyed on). Call after any change to the plan's territories, rules, named
    lists or tree."""
    TerritoryPlan.objects.filter(pk=plan.pk).update(version=F("version") + 1)
    plan.refresh_from_db(fields=["version"])


def _stamp(instance: Territory | RepAssignment, *, by: AbstractBaseUser | None, reason: str) -> None:
    """Tags the next save of ``instance`` in history with who and why."""
    instance._history_user = by  # type: ignore[union-attr]
    instance._change_reason = reason[:REASON_MAX]  # type: ignore[union-attr]


def _is_active(plan: TerritoryPlan) -> bool:
    return plan.status == TerritoryPlan.Status.ACTIVE


def reroute(
    *,
    plan: TerritoryPlan,
    by: AbstractBaseUser | None,
    territory_ids: Iterable[int] = (),
    account_ids: Iterable[int] = (),
) -> list[Any]:
    """Starts the batch re-route for what a change touched, in the active plan only. The job
    itself waits for the commit. Returns the jobs started."""
    if not _is_active(plan):
        return []
    territory_ids, account_ids = sorted(set(territory_ids)), sorted(set(account_ids))
    if not territory_ids and not account_ids:
        return []
    # ``routing`` connects the batch re-route (``hooks.routing_changed``); each receiver answers
    # the jobs it started.
    answered = hooks.answers(
        hooks.routing_changed, plan=plan, by=by, territory_ids=territory_ids, account_ids=account_ids
    )
    return [job for jobs in answered for job in jobs]


def grants_refresh(*, territories: Iterable[Territory] | None = None, users: Iterable[Any] | None = None) -> None:
    """Resynchronises object permissions after tree or assignment changes (when the grants
    materialise the role rules of DESIGN "Permissions")."""
    grants_sync(
        territories=list(territories) if territories is not None else None,
        users=list(users) if users is not None else None,
    )


def _routing_changed(*, territory: Territory, territory_ids: Iterable[int], by: AbstractBaseUser | None) -> None:
    plan = territory.plan
    plan_touch(plan=plan)
    reroute(plan=plan, by=by, territory_ids=territory_ids)


def subtree_ids(territory: Territory) -> list[int]:
    return list(territory.descendants(include_self=True).values_list("pk", flat=True))


def code_suggest(*, plan: TerritoryPlan, name: str) -> str:
    """A readable code unique in the plan, from the name: "West Coast Health" -> WEST-COAST-HEALTH."""
    base = (slugify(name).upper() or "T")[:34].strip("-") or "T"
    taken = set(Territory.objects.filter(plan=plan, code__startswith=base).values_list("code", flat=True))
    code, n = base, 2
    while code in taken:
        code, n = f"{base}-{n}", n + 1
    return code


def _validated_rule(rule: Any) -> dict:
    return engine.validate(rule)  # raises engine.RuleError with each problem's path


def _check_parent(*, territory: Territory | None, plan: TerritoryPlan, parent: Territory | None) -> None:
    if parent is None:
        return
    if parent.plan_id != plan.pk:
        raise ValidationError({"parent": "The parent must belong to the same plan."})
    if territory is not None and territory.pk is not None:
        if parent.pk == territory.pk:
            raise ValidationError({"parent": "A territory cannot be its own parent."})
        if parent.ancestors(include_self=True).filter(pk=territory.pk).exists():
            raise ValidationError({"parent": f"{parent} is inside {territory.code}: moving there would make a loop."})


_CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")


def _check_code(*, plan: TerritoryPlan, code: str, territory: Territory | None = None) -> None:
    if not _CODE_RE.match(code):
        raise ValidationError({"code": "Use letters, digits, '-', '_' or '.' (no spaces)."})
    clash = Territory.objects.filter(plan=plan, code__iexact=code)
    if territory is not None and territory.pk:
        clash = clash.exclude(pk=territory.pk)
    if clash.exists():
        raise ValidationError({"code": f"{code} is already used in {plan}."})


# --- territories -------------------------------------------------------------------------------


@transaction.atomic
def territory_create(
    *, plan: TerritoryPlan, data: Mapping[str, Any], by: AbstractBaseUser | None, activate: bool
) -> Territory:
    """Creates a territory in ``plan``. ``data``: name (required), code (generated from the name
    when blank), description, type, parent, priority, rule, is_overlay, credit_percent,
    lead_assignment, named_account_ids, and ``reps``: a list of {user, slot, split_percent}.
    ``activate`` saves it active (routable at once in the active plan), otherwise as a draft."""
    name = (data.get("name") or "").strip()
    if not name:
        raise ValidationError({"name": "A territory needs a name."})
    code = (data.get("code") or "").strip() or code_suggest(plan=plan, name=name)
    _check_code(plan=plan, code=code)
    parent = data.get("parent")
    _check_parent(territory=None, plan=plan, parent=parent)
    territory = Territory(
        plan=plan,
        code=code,
        name=name,
        parent=parent,
        rule=_validated_rule(data.get("rule") or {}),
        status=Territory.Status.ACTIVE if activate else Territory.Status.DRAFT,
        **{k: data[k] for k in EDITABLE_FIELDS if k in data and k not in ("code", "name", "status")},
    )
    territory.full_clean(exclude=["parent"])
    _stamp(territory, by=by, reason="Created and activated" if activate else "Created as draft")
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
    _routing_changed(territory=territory, territory_ids=[territory.pk], by=by)
    grants_refresh(territories=[territory])
    return territory


def refuse_retired(territory: Territory) -> None:
    """Retired territories are read-only: no edit, delete or new assignment (``ValidationError``)."""
    if territory.is_retired:
        raise ValidationError(retired_message(territory))


def retired_message(territory: Territory) -> str:
    return (f"{territory.code} {territory.name} is retired: it is kept for its ownership history and can no "
            "longer be edited, deleted or given reps.")


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
    refuse_retired(territory)
    changed = [k for k in EDITABLE_FIELDS if k in data and getattr(territory, k) != data[k]]
    if "code" in changed:
        _check_code(plan=territory.plan, code=data["code"], territory=territory)
    for key in changed:
        setattr(territory, key, data[key])
    if changed:
        territory.full_clean(exclude=["parent"])
        labels = ", ".join(Territory._meta.get_field(k).verbose_name for k in changed)
        _stamp(territory, by=by, reason=f"Changed {labels}")
        territory.save(update_fields=[*changed, "updated_at"])
    if "parent" in data and data["parent"] != territory.parent:
        territory = territory_move(territory=territory, new_parent=data["parent"], by=by)
    if "rule" in data:
        territory = territory_update_rule(territory=territory, rule=data["rule"], by=by)
    if "named_account_ids" in data:
        territory_named_accounts_set(territory=territory, account_ids=data["named_account_ids"], by=by)
    if ROUTING_FIELDS.intersection(changed):
        _routing_changed(territory=territory, territory_ids=subtree_ids(territory), by=by)
    return territory


@transaction.atomic
def territory_update_rule(*, territory: Territory, rule: Any, by: AbstractBaseUser | None) -> Territory:
    """Replaces the rule (validated by the engine; raises ``RuleError`` with each problem's path).
    An unchanged rule writes nothing."""
    rule = _validated_rule(rule)
    if rule == (territory.rule or {}):
        return territory
    territory.rule = rule
    _stamp(territory, by=by, reason="Changed the rule")
    territory.save(update_fields=["rule", "updated_at"])
    # Children inherit the rule, so their accounts can move too.
    _routing_changed(territory=territory, territory_ids=subtree_ids(territory), by=by)
    return territory


@transaction.atomic
def territory_move(
    *, territory: Territory, new_parent: Territory | None, by: AbstractBaseUser | None, reason: str | None = None
) -> Territory:
    """Moves a territory (with its subtree) under ``new_parent`` (None: to the top level). The new
    parent must be in the same plan and outside the subtree (no loops): ``ValidationError``."""
    territory = Territory.objects.select_for_update().select_related("plan").get(pk=territory.pk)
    refuse_retired(territory)
    if new_parent is not None:
        refuse_retired(new_parent)
    _check_parent(territory=territory, plan=territory.plan, parent=new_parent)
    if territory.parent_id == (new_parent.pk if new_parent else None):
        return territory
    old_parent_id = territory.parent_id
    territory.parent = new_parent
    where = f"under {new_parent.code}" if new_parent else "to the top level"
    _stamp(territory, by=by, reason=f"{reason}: moved {where}" if reason else f"Moved {where}")
    territory.save(update_fields=["parent", "updated_at"])
    moved = subtree_ids(territory)
    # The old parent may win back accounts the subtree held; the new one may lose some to it.
    touched = [*moved, *(pk for pk in (old_parent_id, new_parent.pk if new_parent else None) if pk)]
    _routing_changed(territory=territory, territory_ids=touched, by=by)
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
        "active_plan": _is_active(territory.plan),
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
    held = Q(locked_territory_id__in=territory_ids) | Q(pk__in=named)
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
            _stamp(node, by=by, reason=f"Retired{' with ' + territory.code if node.pk != territory.pk else ''}: "
                                       "kept for its ownership history")
            node.save(update_fields=["status", "updated_at"])
    else:
        # Deepest first so every history row records a plain delete and no CASCADE runs first.
        for node in Territory.objects.with_tree_fields().filter(pk__in=doomed).order_by("-tree_depth"):
            _stamp(node, by=by, reason=f"Deleted{' with ' + territory.code if node.pk != territory.pk else ''}")
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
    have = set(territory.named_accounts.values_list("pk", flat=True))
    wanted = _namable(by=by, account_ids=account_ids, have=have)
    added, removed = wanted - have, have - wanted
    if not added and not removed:
        return territory
    if removed:
        territory.named_accounts.remove(*removed)
    if added:
        territory.named_accounts.add(*added)
    _stamp(territory, by=by, reason=f"Named accounts: +{len(added)} / -{len(removed)}")
    territory.save(update_fields=["updated_at"])
    plan_touch(plan=territory.plan)
    # Accounts that left the list are re-routed with the territory; those that joined may be
    # sitting in other territories, so they are re-routed by id.
    reroute(plan=territory.plan, by=by, territory_ids=[territory.pk], account_ids=added)
    return territory


# --- assignments -------------------------------------------------------------------------------


def overlay_total(*, territory: Territory, exclude: RepAssignment | None = None) -> int:
    current = coverage.open_assignments().filter(territory=territory, slot=Slot.OVERLAY)
    if exclude is not None:
        current = current.exclude(pk=exclude.pk)
    return int(current.aggregate(total=Sum("split_percent"))["total"] or 0)


def primary_last_ends(*, territory_ids: Iterable[int]) -> dict[int, dt.date]:
    """The last end date of each territory's ended primaries (one query; territories never
    handed over are absent)."""
    rows = (
        coverage.ended_assignments().filter(territory_id__in=list(territory_ids), slot=Slot.PRIMARY)
        .values("territory_id")
        .annotate(last=Max("end_date"))
        .values_list("territory_id", "last")
    )
    return dict(rows)


def assignment_default_start(*, slot: str, last_primary_end: dt.date | None) -> dt.date:
    """When an assignment given no start date starts: today, except that end dates are inclusive,
    so a primary ended today still covers today and the next primary starts the day after."""
    start = timezone.localdate()
    if slot == Slot.PRIMARY and last_primary_end is not None and last_primary_end >= start:
        start = last_primary_end + dt.timedelta(days=1)
    return start


@transaction.atomic
def assignment_add(
    *,
    territory: Territory,
    user: AuthUser,
    slot: str,
    split_percent: int | None = None,
    start_date: dt.date | None = None,
    by: AbstractBaseUser | None,
) -> RepAssignment:
    """Puts a rep on a territory. One current primary per territory (end the current one first);
    overlay splits of a territory add up to at most 100; a primary carries 100 and a backup 0."""
    if slot not in Slot.values:
        raise ValidationError({"slot": f"Unknown slot {slot!r}: use primary, overlay or backup."})
    # Lock the territory row so two concurrent adds cannot both pass the checks below.
    locked = Territory.objects.select_for_update().filter(pk=territory.pk).first()
    refuse_retired(locked or territory)
    current = coverage.open_assignments().filter(territory=territory)
    if start_date is None:
        last_end = primary_last_ends(territory_ids=[territory.pk]).get(territory.pk) if slot == Slot.PRIMARY else None
        start_date = assignment_default_start(slot=slot, last_primary_end=last_end)
    if slot == Slot.PRIMARY:
        split = 100
        holder = current.filter(slot=Slot.PRIMARY).select_related("user").first()
        if holder is not None:
            raise ValidationError(
                {"user": f"{territory.code} already has a primary owner ({_person(holder.user)}); end that first."}
            )
    elif slot == Slot.BACKUP:
        split = 0
    else:
        split = 0 if split_percent is None else int(split_percent)
        if not 0 <= split <= 100:
            raise ValidationError({"split_percent": "A split is between 0 and 100 percent."})
        total = overlay_total(territory=territory)
        if total + split > 100:
            raise ValidationError(
                {"split_percent": f"Overlay splits of {territory.code} would total {total + split}% (max 100%; "
                                  f"{total}% already given)."}
            )
    if current.filter(user=user, slot=slot).exists():
        raise ValidationError({"user": f"{_person(user)} already holds the {slot} slot of {territory.code}."})
    assignment = RepAssignment(territory=territory, user=user, slot=slot, split_percent=split, start_date=start_date)
    assignment.full_clean()
    _stamp(assignment, by=by, reason=f"Assigned as {slot}")
    try:
        with transaction.atomic():
            assignment.save()
    except IntegrityError as exc:  # a concurrent add won the race past the checks
        raise ValidationError(f"{territory.code} changed meanwhile; reload and try again.") from exc
    grants_refresh(territories=[territory], users=[user])
    return assignment


@transaction.atomic
def assignment_end(*, assignment: RepAssignment, end_date: dt.date | None = None,
                   by: AbstractBaseUser | None) -> RepAssignment:
    """Ends an assignment on ``end_date`` (today by default). Rows are never deleted: the ended
    row is the record of who covered the territory when."""
    assignment = RepAssignment.objects.select_for_update().select_related("territory__plan").get(pk=assignment.pk)
    if not coverage.is_open(assignment):
        raise ValidationError("This assignment has already ended.")
    # End dates are inclusive (``territories.coverage``): the rep still covers ``end_date``.
    # Ending before it began means it never applied: close it on its first day.
    assignment.end_date = max(end_date or timezone.localdate(), assignment.start_date)
    _stamp(assignment, by=by, reason="Assignment ended")
    assignment.save(update_fields=["end_date"])
    grants_refresh(territories=[assignment.territory], users=[assignment.user])
    return assignment


@dataclass(frozen=True)
class EndImpact:
    """What ending an assignment on ``end_date`` leaves on ``day_after`` (a dry run)."""

    end_date: dt.date  # the last day the rep covers (inclusive)
    day_after: dt.date
    vacant: bool  # the territory is vacant on ``day_after`` (``coverage.vacant_on``)
    primary: Any  # the primary in force on ``day_after`` (a user), if any
    owner: Any  # who owns the territory's accounts on ``day_after`` (``coverage.pick_owner``)
    backups: list[Any]


class _DryRun(Exception):
    """Rolls back a dry run."""


def assignment_end_impact(*, assignment: RepAssignment, end_date: dt.date | None = None,
                          by: AbstractBaseUser | None) -> EndImpact:
    """What ``assignment_end`` would leave the day after: a dry run of ``assignment_end`` itself
    inside a savepoint that is rolled back, read through ``territories.coverage``."""
    try:
        with transaction.atomic():  # a savepoint when called inside a transaction
            ended = assignment_end(assignment=assignment, end_date=end_date, by=by)
            last = cast(dt.date, ended.end_date)
            day_after = last + dt.timedelta(days=1)
            territory = ended.territory
            held = coverage.owners_on(territory_ids=[territory.pk], on=day_after).get(territory.pk, coverage.Owners())
            vacant = coverage.vacant_on(territory.plan, day_after, territory_ids=[territory.pk]).exists()
            raise _DryRun
    except _DryRun:
        pass
    people = User.objects.in_bulk([u for u in (held.primary, held.owner, *held.backups) if u is not None])
    return EndImpact(end_date=last, day_after=day_after, vacant=vacant, primary=people.get(held.primary or 0),
                     owner=people.get(held.owner or 0), backups=[people[b] for b in held.backups])


def _person(user: Any) -> str:
    return (user.get_full_name() or user.username) if user is not None else "nobody"
