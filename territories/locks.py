"""An account's lock (the manual override), read and written here: ``AccountLock`` is the one
place it is kept. Routing reads it as the record's ``locked_territory_id``; SQL readers join
``LOCK_TABLE`` on the account id.

Locks across plans: a lock names a territory of the plan it was set in. When another plan takes
over, the lock follows the account to that plan's territory with the same code; a lock whose code
the new plan lacks keeps naming the old territory, which the engine ignores (the account is routed
by the rules). This module is the one definition of that rule: activation moves the locks by it
(``locks_follow``) and the simulator routes a draft with it (``lock_targets`` handed to
``routing.batch.plan_reroute``), so a simulation places a locked account where activation will."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.db.models import Case, Exists, IntegerField, OuterRef, Q, QuerySet, Subquery, Value, When
from django.utils import timezone

from salesos.models import Account
from territories.models import AccountLock, Territory

LOCK_TABLE = AccountLock._meta.db_table
LOCK_VALUE = "territory_lock__territory_id"  # an Account ``values()`` key: the lock's territory
CHUNK = 500  # lock pairs per UPDATE statement when locks follow accounts into another plan


def _loaded(account: Account) -> tuple[bool, AccountLock | None]:
    """The lock loaded with the account (``select_related("territory_lock")``, as
    ``account_get_for_user`` does, or set by ``lock_set``), if it was."""
    related = Account.territory_lock.related  # the reverse side of AccountLock.account
    if related.is_cached(account):
        lock = related.get_cached_value(account)
        return True, lock if isinstance(lock, AccountLock) else None
    return False, None


def locked_territory_id(account: Account | int) -> int | None:
    """The territory the account is locked to, None when it is not locked: as loaded with the
    account object when it was (like its other facts), else one query."""
    if isinstance(account, Account):
        loaded, lock = _loaded(account)
        if loaded:
            return lock.territory_id if lock is not None else None
    account_id = account.pk if isinstance(account, Account) else account
    return AccountLock.objects.filter(account_id=account_id).values_list("territory_id", flat=True).first()


def locked_territory(account: Account) -> Territory | None:
    """The territory the account is locked to, for showing it: the lock loaded with the account
    (``select_related("territory_lock__territory")``, as ``account_get_for_user`` does) when it
    was, else one query."""
    loaded, lock = _loaded(account)
    if loaded:
        return lock.territory if lock is not None else None
    found = AccountLock.objects.filter(account_id=account.pk).select_related("territory").first()
    return found.territory if found is not None else None


def locks_of(account_ids: Iterable[int]) -> dict[int, int]:
    """account -> the territory it is locked to, for the locked ones among these."""
    return dict(AccountLock.objects.filter(account_id__in=list(account_ids)).values_list("account_id", "territory_id"))


def locked_in(territory_ids: Iterable[int]) -> QuerySet[AccountLock]:
    """The locks naming one of these territories (``.values("account_id")`` for a subquery)."""
    return AccountLock.objects.filter(territory_id__in=list(territory_ids))


def is_locked() -> Exists:
    """For ``Account`` querysets: whether the account has a lock."""
    return Exists(AccountLock.objects.filter(account_id=OuterRef("pk")))


def lock_territory_column() -> Subquery:
    """For ``Account`` querysets: the territory the account is locked to (NULL when unlocked)."""
    return Subquery(AccountLock.objects.filter(account_id=OuterRef("pk")).values("territory_id")[:1])


def held_by_lock(territory_ids: Iterable[int]) -> Q:
    """For ``Account`` querysets: accounts locked to one of these territories."""
    return Q(pk__in=locked_in(territory_ids).values("account_id"))


def lock_set(*, account: Account | int, territory_id: int | None) -> None:
    """Locks the account to the territory (None unlocks); an account object given keeps the new
    lock as loaded. The caller re-routes it (``routing.services.account_lock``)."""
    account_id = account.pk if isinstance(account, Account) else account
    lock = None
    if territory_id is None:
        AccountLock.objects.filter(account_id=account_id).delete()
    else:
        lock, _ = AccountLock.objects.update_or_create(
            account_id=account_id, defaults={"territory_id": territory_id, "locked_at": timezone.now()}
        )
    if isinstance(account, Account):
        Account.territory_lock.related.set_cached_value(account, lock)


def lock_targets(*, source_plan_id: int, target_plan_id: int) -> dict[int, int]:
    """Territory id in the source plan -> the territory of the same code in the target plan."""
    target = dict(Territory.objects.filter(plan_id=target_plan_id).order_by().values_list("code", "pk"))
    return {
        pk: target[code]
        for pk, code in Territory.objects.filter(plan_id=source_plan_id).order_by().values_list("pk", "code")
        if code in target
    }


@transaction.atomic
def locks_follow(*, source_plan_id: int, target_plan_id: int) -> int:
    """Moves every account lock on a source-plan territory to its target (``lock_targets``): one
    UPDATE per ``CHUNK`` locked territories. Returns how many accounts' locks moved."""
    targets = lock_targets(source_plan_id=source_plan_id, target_plan_id=target_plan_id)
    in_use = sorted(
        set(
            AccountLock.objects.filter(territory__plan_id=source_plan_id)
            .order_by()
            .values_list("territory_id", flat=True)
            .distinct()
        )
        & set(targets)
    )
    moved = 0
    for start in range(0, len(in_use), CHUNK):
        part = in_use[start : start + CHUNK]
        moved += AccountLock.objects.filter(territory_id__in=part).update(
            territory_id=Case(
                *(When(territory_id=old, then=Value(targets[old])) for old in part),
                output_field=IntegerField(),
            )
        )
    return moved
