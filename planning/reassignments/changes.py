"""The change as data (``Reassignment.change``), validated per kind on the server.

``change_validate`` returns the change normalised (ids as ints, a validated rule) and the
problems as field -> messages; a proposal is only saved when there are none. What is checked:
the ids exist, belong to the proposal's plan, name active territories (a retired territory takes
nothing), and lie within what the user may change (``access.proposable_territories``; accounts
now in the unassigned queue may be proposed by whoever works the queue).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.contrib.auth import get_user_model

from planning.models import Reassignment
from planning.reassignments.access import proposable_territories
from routing import engine
from salesos.models import Account, SalesProfile
from salesos.roles import works_queue
from territories import coverage
from territories.models import RepAssignment, Territory, TerritoryPlan
from territories.placement import current_territories

User = get_user_model()
Kind = Reassignment.Kind
Slot = RepAssignment.Slot
Problems = dict[str, list[str]]

MAX_ACCOUNTS = 200_000  # one proposal; larger moves are a rule change or a plan
ID_CHUNK = 5_000


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _ids(value: Any) -> list[int] | None:
    if not isinstance(value, list | tuple):
        return None
    ids = [_int(v) for v in value]
    if any(i is None for i in ids):
        return None
    return sorted({i for i in ids if i is not None})


class _Check:
    def __init__(self, *, by, plan: TerritoryPlan) -> None:
        self.by = by
        self.plan = plan
        self.problems: Problems = {}
        self._allowed: set[int] | None = None

    def add(self, field: str, message: str) -> None:
        self.problems.setdefault(field, []).append(message)

    @property
    def allowed(self) -> set[int]:
        if self._allowed is None:
            self._allowed = set(proposable_territories(self.by, self.plan).values_list("pk", flat=True))
        return self._allowed

    def territory(self, field: str, value: Any, *, overlay_ok: bool = False) -> Territory | None:
        """The territory ``value`` names, if it is in the plan, active and within reach."""
        pk = _int(value)
        if pk is None:
            self.add(field, "Choose a territory.")
            return None
        territory = Territory.objects.filter(pk=pk).first()
        if territory is None or territory.plan_id != self.plan.pk:
            self.add(field, "This territory is not in the plan the proposal changes.")
            return None
        if territory.status != Territory.Status.ACTIVE:
            self.add(field, f"{territory.code} is {territory.get_status_display().lower()}: it cannot take part.")
            return None
        if territory.is_overlay and not overlay_ok:
            self.add(field, f"{territory.code} is an overlay territory: it holds no accounts of its own.")
            return None
        if territory.pk not in self.allowed and not (overlay_ok and territory.is_overlay and self._sees(territory)):
            self.add(field, f"{territory.code} is outside the territories you may change.")
            return None
        return territory

    def _sees(self, territory: Territory) -> bool:
        parent = territory.parent_id
        return parent is not None and parent in self.allowed

    def user(self, field: str, value: Any) -> Any:
        pk = _int(value)
        found = User.objects.filter(pk=pk, is_active=True).select_related("sales_profile").first() if pk else None
        if found is None or getattr(found, "sales_profile", None) is None:
            self.add(field, "Choose a person from the sales team.")
            return None
        return found


def _move_accounts(check: _Check, change: Mapping[str, Any]) -> dict[str, Any]:
    ids = _ids(change.get("accounts"))
    to = check.territory("to_territory", change.get("to_territory"))
    if not ids:
        check.add("accounts", "Choose at least one account to move.")
        return {}
    if len(ids) > MAX_ACCOUNTS:
        check.add("accounts", f"One proposal moves at most {MAX_ACCOUNTS:,} accounts; change a rule instead.")
        return {}
    found: set[int] = set()
    for start in range(0, len(ids), ID_CHUNK):
        found.update(Account.objects.filter(pk__in=ids[start : start + ID_CHUNK]).values_list("pk", flat=True))
    missing = len(ids) - len(found)
    if missing:
        check.add("accounts", f"{missing} of the chosen accounts no longer exist.")
    where: dict[int, int] = {}
    for start in range(0, len(ids), ID_CHUNK):
        part = current_territories(ids[start : start + ID_CHUNK], plan=check.plan)
        where.update({a: t.pk for a, t in part.items()})
    queue = works_queue(check.by)
    outside = sum(1 for a in found if (a in where and where[a] not in check.allowed) or (a not in where and not queue))
    if outside:
        check.add("accounts", f"{outside} of the chosen accounts sit outside the territories you may change.")
    if to is not None:
        already = sum(1 for a in found if where.get(a) == to.pk)
        if already == len(found) and found:
            check.add("accounts", f"The chosen accounts are already in {to.code}.")
    return {"accounts": ids, "to_territory": to.pk if to else None}


def _slot_change(check: _Check, change: Mapping[str, Any]) -> dict[str, Any]:
    territory = check.territory("territory", change.get("territory"), overlay_ok=True)
    slot = change.get("slot")
    if slot not in Slot.values:
        check.add("slot", "Choose the primary, backup or overlay slot.")
    from_user = check.user("from_user", change["from_user"]) if change.get("from_user") not in (None, "") else None
    to_user = check.user("to_user", change["to_user"]) if change.get("to_user") not in (None, "") else None
    if from_user is None and to_user is None and "from_user" not in check.problems and "to_user" not in check.problems:
        check.add("to_user", "Name who takes the slot, who leaves it, or both.")
    if from_user is not None and to_user is not None and from_user.pk == to_user.pk:
        check.add("to_user", "The incoming rep is the one already there.")
    split = _int(change.get("split_percent", 0 if slot != Slot.PRIMARY else 100))
    if split is None or not 0 <= split <= 100:
        check.add("split_percent", "A split is between 0 and 100 percent.")
    if territory is not None and slot in Slot.values:
        holding = coverage.open_assignments().filter(territory=territory, slot=slot)
        if from_user is not None and not holding.filter(user=from_user).exists():
            check.add("from_user", f"{from_user.get_full_name() or from_user} does not hold the {slot} slot of "
                                   f"{territory.code}.")
        if from_user is None and to_user is not None and slot == Slot.PRIMARY and holding.exists():
            check.add("from_user", f"{territory.code} has a primary: name who hands over.")
        if to_user is not None and holding.filter(user=to_user).exists():
            check.add("to_user", f"{to_user.get_full_name() or to_user} already holds that slot.")
        if to_user is not None and to_user.sales_profile.role not in (SalesProfile.Role.REP, SalesProfile.Role.MANAGER,
                                                                      SalesProfile.Role.DIRECTOR):
            check.add("to_user", "Admins hold no territory slots.")
    return {
        "territory": territory.pk if territory else None,
        "slot": slot,
        "from_user": from_user.pk if from_user else None,
        "to_user": to_user.pk if to_user else None,
        "split_percent": split if split is not None else 0,
    }


def _rule(check: _Check, value: Any) -> dict | None:
    try:
        return engine.validate(value if value is not None else {})
    except engine.RuleError as exc:
        for problem in exc.problems:
            check.add("rule", str(problem))
        return None


def _rule_change(check: _Check, change: Mapping[str, Any]) -> dict[str, Any]:
    territory = check.territory("territory", change.get("territory"))
    rule = _rule(check, change.get("rule"))
    out: dict[str, Any] = {"territory": territory.pk if territory else None, "rule": rule}
    if change.get("priority") not in (None, ""):
        priority = _int(change.get("priority"))
        if priority is None or not -1000 <= priority <= 1000:
            check.add("priority", "A priority is a whole number between -1000 and 1000.")
        out["priority"] = priority
    if territory is not None and rule is not None and rule == (territory.rule or {}) and (
        out.get("priority") in (None, territory.priority)
    ):
        check.add("rule", "This is the rule the territory has already.")
    return out


def _merge(check: _Check, change: Mapping[str, Any]) -> dict[str, Any]:
    territory = check.territory("territory", change.get("territory"))
    into = check.territory("into", change.get("into"))
    if territory is not None and into is not None:
        if territory.pk == into.pk:
            check.add("into", "A territory cannot merge into itself.")
        elif into.ancestors(include_self=True).filter(pk=territory.pk).exists():
            check.add("into", f"{into.code} is inside {territory.code}: merge the other way round.")
        elif territory.children.filter(status=Territory.Status.ACTIVE).exists():
            check.add("territory", f"{territory.code} has territories under it: merge or move those first.")
    return {"territory": territory.pk if territory else None, "into": into.pk if into else None}


def _carve(check: _Check, change: Mapping[str, Any]) -> dict[str, Any]:
    parent = check.territory("parent", change.get("parent"))
    code = str(change.get("code") or "").strip()
    name = str(change.get("name") or "").strip()
    kind = change.get("type") or Territory.Type.HYBRID
    if not code or len(code) > 40 or not all(c.isalnum() or c in "-_." for c in code):
        check.add("code", "A code of up to 40 letters, digits, '-', '_' or '.'.")
    elif Territory.objects.filter(plan=check.plan, code__iexact=code).exists():
        check.add("code", f"{code} is already used in {check.plan}.")
    if not name or len(name) > 120:
        check.add("name", "Name the new territory (up to 120 characters).")
    if kind not in Territory.Type.values:
        check.add("type", "Choose a territory type.")
    rule = _rule(check, change.get("rule"))
    if rule == {}:
        check.add("rule", "A carved territory needs a rule saying which accounts it takes.")
    primary = check.user("primary_user", change["primary_user"]) if change.get("primary_user") else None
    return {"parent": parent.pk if parent else None, "code": code, "name": name, "type": kind, "rule": rule,
            "primary_user": primary.pk if primary else None}


_KINDS: dict[str, Any] = {
    Kind.MOVE_ACCOUNTS: _move_accounts,
    Kind.SLOT_CHANGE: _slot_change,
    Kind.RULE_CHANGE: _rule_change,
    Kind.MERGE: _merge,
    Kind.CARVE: _carve,
}


def change_validate(*, by, plan: TerritoryPlan, kind: str, change: Any) -> tuple[dict[str, Any], Problems]:
    """The change normalised and its problems (field -> messages; empty when it may be saved)."""
    check = _Check(by=by, plan=plan)
    if kind not in _KINDS:
        check.add("kind", "Choose what the proposal changes.")
        return {}, check.problems
    if not isinstance(change, Mapping):
        check.add("change", "The change is missing.")
        return {}, check.problems
    return _KINDS[kind](check, change), check.problems


def change_territory_ids(kind: str, change: Mapping[str, Any]) -> set[int]:
    """The existing territories a change names (giving, receiving, changed)."""
    keys = {"move_accounts": ("to_territory",), "slot_change": ("territory",), "rule_change": ("territory",),
            "merge": ("territory", "into"), "carve": ("parent",)}.get(kind, ())
    return {int(change[k]) for k in keys if change.get(k)}


def territories_named(ids: set[int]) -> dict[int, Territory]:
    return Territory.objects.in_bulk(list(ids)) if ids else {}


__all__ = ["MAX_ACCOUNTS", "Problems", "change_territory_ids", "change_validate", "territories_named"]
