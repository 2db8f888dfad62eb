"""The grants service: turns the role rules of DESIGN "Permissions" into django-guardian object
permissions (``TerritoryUserObjectPermission`` rows). Guardian has no inheritance, so whatever
changes an input of the rules (current assignments, the tree, the org chart, a role) calls
``grants_sync`` for the part it changed; ``grants_rebuild`` (and ``manage.py rebuild_grants``)
recomputes everything.

The rules, for one assignment in force today (user U on territory T, any slot; ends are
inclusive, see ``territories.coverage``):

* U may view T (every role).
* U is a manager or director: U may also change T (adjust rules, reassign within the team).
* U's manager M (the org chart) is a manager or director: M may view and change T.
* U is a director: U leads the subtree under T, and may view, change, delete and add (create
  children) on every territory of that subtree, T included.

Admins (role admin, or superusers) get no object rows: they hold the global model permissions
for territories instead, which this service also keeps (given to admins, taken from everyone
else). This service owns the four territory permissions below: rows added by hand are replaced
by the next sync.

Every sync is a diff (what should exist against what does) written with bulk operations, in a
fixed number of queries whatever the number of territories or users.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import Q

from salesos.models import SalesProfile
from salesos.roles import leads_team
from territories import coverage
from territories.models import Territory, TerritoryPlan, TerritoryUserObjectPermission

User = get_user_model()
Role = SalesProfile.Role

VIEW, CHANGE, DELETE, ADD = "view_territory", "change_territory", "delete_territory", "add_territory"
MANAGED_PERMS = (VIEW, CHANGE, DELETE, ADD)
HOLDER_PERMS: dict[str, tuple[str, ...]] = {
    Role.REP: (VIEW,), Role.MANAGER: (VIEW, CHANGE), Role.DIRECTOR: (VIEW, CHANGE)
}
TEAM_PERMS = (VIEW, CHANGE)  # what a manager (or director) gets on a direct report's territory
LEADER_PERMS = (VIEW, CHANGE, DELETE, ADD)  # what a director gets on the subtree they lead
BATCH = 5000

Row = tuple[int, int, str]  # (user id, territory id, codename)


def _ids(items: Iterable | None) -> set[int] | None:
    if items is None:
        return None
    return {item if isinstance(item, int) else item.pk for item in items if item is not None}


def managed_permissions() -> dict[str, Permission]:
    content_type = ContentType.objects.get_for_model(Territory)  # cached by Django after the first call
    perms = Permission.objects.filter(content_type=content_type, codename__in=MANAGED_PERMS)
    return {p.codename: p for p in perms}


def _tree_children() -> dict[int, list[int]]:
    children: dict[int, list[int]] = defaultdict(list)
    for pk, parent_id in Territory.objects.order_by().values_list("pk", "parent_id"):
        if parent_id is not None:
            children[parent_id].append(pk)
    return children


def _walk(roots: Iterable[int], children: dict[int, list[int]]) -> set[int]:
    seen: set[int] = set()
    stack = list(roots)
    while stack:
        node = stack.pop()
        if node not in seen:
            seen.add(node)
            stack.extend(children.get(node, ()))
    return seen


def _desired_rows(
    *, children: dict[int, list[int]], scope_users: set[int] | None, scope_territories: set[int] | None
) -> set[Row]:
    """Every row the rules call for whose user is in ``scope_users`` or whose territory is in
    ``scope_territories`` (both None: all rows). Two queries: current assignments, profiles."""
    holdings = list(current_holdings())
    profiles = {
        user_id: (role, manager_id)
        for user_id, role, manager_id, is_superuser in SalesProfile.objects.values_list(
            "user_id", "role", "manager_id", "user__is_superuser"
        )
        if not is_superuser
    }
    everything = scope_users is None and scope_territories is None
    users_in = scope_users or set()
    territories_in = scope_territories or set()
    rows: set[Row] = set()

    def add(user_id: int, territory_id: int, perms: Iterable[str]) -> None:
        if everything or user_id in users_in or territory_id in territories_in:
            rows.update((user_id, territory_id, perm) for perm in perms)

    led: dict[int, set[int]] = defaultdict(set)  # director -> roots of the subtrees they lead
    for user_id, territory_id in holdings:
        role, manager_id = profiles.get(user_id, (None, None))
        if role in HOLDER_PERMS:
            add(user_id, territory_id, HOLDER_PERMS[role])
        if role == Role.DIRECTOR:
            led[user_id].add(territory_id)
        if manager_id is not None and leads_team(profiles.get(manager_id, (None, None))[0]):
            add(manager_id, territory_id, TEAM_PERMS)
    for director_id, roots in led.items():
        for node in _walk(roots, children):
            add(director_id, node, LEADER_PERMS)
    return rows


def current_holdings(on: dt.date | None = None):
    """(user, territory) of the assignments in force on ``on`` (today): ``territories.coverage``.
    Grants follow the date, so a daily task resyncs them (``territories.tasks``)."""
    return (
        coverage.assignments_on(on)
        .order_by()
        .values_list("user_id", "territory_id")
        .distinct()
    )


def grants_sync(*, territories: Iterable | None = None, users: Iterable | None = None) -> None:
    """Re-materialise the object permissions touching ``territories`` (and their subtrees, whose
    grants depend on their ancestors' directors) and ``users`` (ids or objects). Both None:
    everything. Call it after any change to assignments, the tree, roles or the org chart; for
    an org-chart change pass the person and both their old and new manager."""
    territory_ids = _ids(territories)
    user_ids = _ids(users)
    everything = territory_ids is None and user_ids is None
    if not everything and not territory_ids and not user_ids:
        return
    with transaction.atomic():
        children = _tree_children()
        if everything:
            scope_territories = scope_users = None
        else:
            # A territory's grants depend on its ancestors' directors: its subtree is in scope too.
            scope_territories = _walk(territory_ids or (), children)
            scope_users = user_ids or set()
        _apply(children=children, scope_users=scope_users, scope_territories=scope_territories)
        _sync_global_perms(user_ids=None if everything else (user_ids or set()))


def grants_rebuild(*, plan: TerritoryPlan | None = None) -> int:
    """Recompute every grant (of one plan's territories when ``plan`` is given). Returns the
    number of object-permission rows that exist for the scope afterwards."""
    if plan is None:
        grants_sync()
        return TerritoryUserObjectPermission.objects.count()
    territory_ids = set(Territory.objects.filter(plan=plan).values_list("pk", flat=True))
    grants_sync(territories=territory_ids, users=[])
    return TerritoryUserObjectPermission.objects.filter(content_object__plan=plan).count()


def _apply(*, children: dict[int, list[int]], scope_users: set[int] | None, scope_territories: set[int] | None) -> None:
    perms = managed_permissions()
    perm_ids = {codename: p.pk for codename, p in perms.items()}
    codename_of = {pk: codename for codename, pk in perm_ids.items()}
    desired = _desired_rows(children=children, scope_users=scope_users, scope_territories=scope_territories)

    existing = TerritoryUserObjectPermission.objects.filter(permission_id__in=perm_ids.values()).order_by()
    if scope_users is not None or scope_territories is not None:
        scope = Q(pk__in=[])
        if scope_users:
            scope |= Q(user_id__in=scope_users)
        if scope_territories:
            scope |= Q(content_object_id__in=scope_territories)
        existing = existing.filter(scope)
    have: dict[Row, int] = {
        (user_id, territory_id, codename_of[perm_id]): pk
        for pk, user_id, territory_id, perm_id in existing.values_list(
            "pk", "user_id", "content_object_id", "permission_id"
        )
    }
    stale = [pk for row, pk in have.items() if row not in desired]
    for start in range(0, len(stale), BATCH):
        TerritoryUserObjectPermission.objects.filter(pk__in=stale[start : start + BATCH]).delete()
    missing = [
        TerritoryUserObjectPermission(user_id=user_id, content_object_id=territory_id, permission_id=perm_ids[perm])
        for user_id, territory_id, perm in desired
        if (user_id, territory_id, perm) not in have
    ]
    TerritoryUserObjectPermission.objects.bulk_create(missing, batch_size=BATCH)


def _sync_global_perms(*, user_ids: set[int] | None) -> None:
    """Admins hold the territory model permissions; nobody else holds them (two to five queries)."""
    if user_ids is not None and not user_ids:
        return
    perm_ids = [p.pk for p in managed_permissions().values()]
    through = User.user_permissions.through
    admins = SalesProfile.objects.filter(role=Role.ADMIN)
    if user_ids is not None:
        admins = admins.filter(user_id__in=user_ids)
    admin_ids = set(admins.values_list("user_id", flat=True))
    existing = through.objects.filter(permission_id__in=perm_ids)
    if user_ids is not None:
        existing = existing.filter(user_id__in=user_ids)
    have = set(existing.values_list("user_id", "permission_id"))
    stale = {(u, p) for u, p in have if u not in admin_ids}
    if stale:
        through.objects.filter(permission_id__in=perm_ids, user_id__in={u for u, _ in stale}).delete()
    missing = [through(user_id=u, permission_id=p) for u in admin_ids for p in perm_ids if (u, p) not in have]
    through.objects.bulk_create(missing, batch_size=BATCH)
