"""Activation: a staged plan becomes the active one on its day, in ONE transaction.

Inside it, with both plans' rows locked: the old plan is archived and the new one made active
(both transitions logged); account locks follow the accounts into the new plan (the territory with
the same code: ``territories.locks``, the rule the simulator routes a draft by); every account's
current row in the old plan ends at the start of the day (so it
held through the day before) and the routing batch's set-based path (``routing.batch.plan_reroute``,
run with ``now`` at the start of the day) writes its new rows from that instant; open deals whose
account changes owner follow the reassignment settings' open-deal policy
(``planning.reassignments.impact.deal_moves``) with a ``DealOwnerChange`` each; the grants of the
new plan are rebuilt; everyone holding a territory in either plan, and the admins, are notified.
A reader never sees the swap half done: the plan's status and the rows change in the same commit.

Refused with ``PlanError`` (nothing changes): a plan that is not staged (or, for re-activation, not
the plan archived last within the grace period), a day before approval, a second plan on the same
day, and a plan with problems (``checks.plan_problems``) unless ``confirm``."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models import Value
from django.db.models.functions import Greatest
from django.utils import timezone

from planning.models import DealOwnerChange, ReassignmentSettings
from planning.plans.checks import plan_problems
from planning.plans.errors import PlanError
from planning.reassignments.ids import array_text
from planning.reassignments.impact import deal_moves
from routing.batch import plan_reroute
from routing.models import Notification
from salesos.models import Opportunity, SalesProfile
from territories import coverage
from territories.grants import grants_rebuild
from territories.locks import locks_follow
from territories.models import AccountTerritory, Territory, TerritoryPlan

User = get_user_model()
Status = TerritoryPlan.Status
DAY = dt.timedelta(days=1)


@dataclass
class Activation:
    plan_id: int
    previous_id: int | None
    on: dt.date
    accounts: int = 0
    moved: int = 0
    deals_moved: int = 0
    notified: int = 0
    problems_confirmed: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (f"Active from {self.on:%d %b %Y}: {self.accounts} accounts routed, {self.moved} changed territory, "
                f"{self.deals_moved} open deals changed owner")


def grace_days() -> int:
    return int(getattr(settings, "PLAN_REACTIVATION_GRACE_DAYS", 30))


def day_start(on: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(on, dt.time.min))


def reactivatable(plan: TerritoryPlan, *, today: dt.date | None = None) -> bool:
    """The plan archived last, within the grace period (``PLAN_REACTIVATION_GRACE_DAYS``)."""
    today = today or timezone.localdate()
    if not plan.is_archived or plan.archived_at is None:
        return False
    latest = TerritoryPlan.objects.filter(status=Status.ARCHIVED).order_by("-archived_at").first()
    return latest is not None and latest.pk == plan.pk and \
        timezone.localdate(plan.archived_at) + dt.timedelta(days=grace_days()) >= today


def _placements(plan_id: int) -> dict[int, int]:
    return dict(AccountTerritory.objects.filter(plan_id=plan_id, is_primary=True, valid_to__isnull=True)
                .order_by().values_list("account_id", "territory_id"))


def _moving_stages() -> list[str]:
    """The open-deal stages that follow the account under the reassignment settings' policy
    (``deal_moves``, the one definition; a whole plan has no per-deal manual choices, so under the
    manual policy every deal stays with its rep)."""
    rules = ReassignmentSettings.load()
    return [stage for stage in Opportunity.Stage.values
            if deal_moves(policy=rules.deal_policy, threshold_stage=rules.deal_stage, stage=stage, choice=None)]


def _move_deals(before: dict[int, int], after: dict[int, int], old_owner: dict[int, int | None],
                new_owner: dict[int, int | None], plan: TerritoryPlan, on: dt.date) -> int:
    """Open deals of accounts whose owner changes follow the open-deal policy: set-based, each
    moved deal recorded with a ``DealOwnerChange``. On PostgreSQL one statement picks the deals (row
    locked), updates them and records the changes; elsewhere the same in a few ORM statements."""
    stages = _moving_stages()
    targets = {a: (t, new_owner[t]) for a, t in after.items()
               if new_owner.get(t) is not None and old_owner.get(before.get(a, 0)) != new_owner.get(t)}
    if not targets or not stages:
        return 0
    note = f"Plan {plan.name} activated"[:200]
    now = timezone.now()
    if connection.vendor == "postgresql":
        return _move_deals_sql(targets, stages, note, on, now)
    deals = (Opportunity.objects.filter(account_id__in=list(targets), status=Opportunity.Status.OPEN,
                                        stage__in=stages).order_by().values_list("pk", "account_id", "owner_id"))
    rows = [(pk, owner, *targets[account]) for pk, account, owner in deals if owner != targets[account][1]]
    by_target: dict[tuple[int, int | None], list[int]] = {}
    for pk, _, territory, owner in rows:
        by_target.setdefault((territory, owner), []).append(pk)
    for (territory, owner), pks in by_target.items():
        for start in range(0, len(pks), 500):
            Opportunity.objects.filter(pk__in=pks[start:start + 500]).update(owner_id=owner, territory_id=territory)
    DealOwnerChange.objects.bulk_create(
        (DealOwnerChange(opportunity_id=pk, from_user_id=old, to_user_id=owner, effective_date=on, changed_at=now,
                         note=note) for pk, old, _, owner in rows), batch_size=2000)
    return len(rows)


def _move_deals_sql(targets: dict[int, tuple[int, int | None]], stages: list[str], note: str, on: dt.date,
                    now: dt.datetime) -> int:
    deals, changes = Opportunity._meta.db_table, DealOwnerChange._meta.db_table
    accounts = list(targets)
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH m AS (SELECT * FROM unnest(%s::bigint[], %s::bigint[], %s::bigint[]) AS v(account, territory, owner)), "  # noqa: S608,E501
            f"picked AS (SELECT o.id, o.owner_id AS old, m.owner, m.territory FROM {deals} o "
            "JOIN m ON o.account_id = m.account WHERE o.status = %s AND o.stage = ANY(%s) "
            "AND o.owner_id IS DISTINCT FROM m.owner FOR UPDATE OF o), "
            f"moved AS (UPDATE {deals} o SET owner_id = p.owner, territory_id = p.territory FROM picked p "
            "WHERE o.id = p.id RETURNING o.id) "
            f"INSERT INTO {changes} (opportunity_id, from_user_id, to_user_id, effective_date, changed_at, note) "
            "SELECT p.id, p.old, p.owner, %s, %s, %s FROM picked p JOIN moved USING (id)",
            [array_text(accounts), array_text([targets[a][0] for a in accounts]),
             array_text([targets[a][1] for a in accounts]), Opportunity.Status.OPEN, stages, on, now, note],
        )
        return cursor.rowcount


def _notify(old: TerritoryPlan | None, plan: TerritoryPlan, on: dt.date, text: str) -> int:
    plans = [p.pk for p in (old, plan) if p is not None]
    holders = set(coverage.assignments_on(on).filter(territory__plan_id__in=plans).values_list("user_id", flat=True))
    holders |= set(SalesProfile.objects.filter(role=SalesProfile.Role.ADMIN).values_list("user_id", flat=True))
    users = User.objects.filter(pk__in=holders, is_active=True)
    title = f"{plan.name} is the active territory plan from {on:%d %b %Y}"[:200]
    notes = [Notification(user=u, kind=Notification.Kind.INFO, title=title, body=text, url="/territories/")
             for u in users]
    Notification.objects.bulk_create(notes, batch_size=2000)
    return len(notes)


@transaction.atomic
def plan_activate(*, plan: TerritoryPlan, on: dt.date, by=None, confirm: bool = False) -> Activation:
    """Makes ``plan`` (staged, or archived within the grace period: re-activation) the active plan
    from ``on``; see the module doc. Returns what it did."""
    plan = TerritoryPlan.objects.select_for_update().get(pk=plan.pk)
    old = TerritoryPlan.objects.select_for_update().filter(status=Status.ACTIVE).exclude(pk=plan.pk).first()
    if plan.is_active:
        raise PlanError(f"{plan.name} is already the active plan.")
    if plan.is_archived:
        if not reactivatable(plan, today=on):
            raise PlanError(f"{plan.name} can be re-activated only within {grace_days()} days of being archived, "
                            "and only if no plan was archived after it.")
    elif not plan.is_staged:
        raise PlanError(f"{plan.name} is {plan.get_status_display().lower()}: only a staged plan is activated.")
    else:
        approved = timezone.localdate(plan.approved_at) if plan.approved_at else None
        if approved is None or on < approved:
            raise PlanError(f"{on:%d %b %Y} is before {plan.name} was approved: it cannot take effect earlier.")
    if old is not None and old.activated_at is not None and old.effective_date == on:
        raise PlanError(f"{old.name} became active on {on:%d %b %Y}: two plans cannot be activated on one day.")
    problems = plan_problems(plan=plan, on=on)
    if problems and not confirm:
        raise PlanError(f"{plan.name} has {len(problems)} problem(s): " + "; ".join(p.message for p in problems[:5])
                        + (" …" if len(problems) > 5 else "") + " Confirm to activate anyway.")
    result = Activation(plan_id=plan.pk, previous_id=old.pk if old else None, on=on,
                        problems_confirmed=[p.message for p in problems])
    start = day_start(on)
    before = _placements(old.pk) if old is not None else {}
    old_owner = coverage.owner_ids_on(plan=old, on=on - DAY) if old is not None else {}
    if old is not None:
        old.archive(by=by, description=f"Replaced by {plan.name} from {on:%d %b %Y}")
        old.save(update_fields=["status", "archived_at", "activation_date"])
        locks_follow(source_plan_id=old.pk, target_plan_id=plan.pk)
        AccountTerritory.objects.filter(plan=old, valid_to__isnull=True).update(
            valid_to=Greatest("valid_from", Value(start)))
    if not plan.is_archived:  # rows a staged plan holds are a simulation's, never anyone's ownership
        AccountTerritory.objects.filter(plan=plan).delete()
    else:
        AccountTerritory.objects.filter(plan=plan, valid_to__isnull=True).update(
            valid_to=Greatest("valid_from", Value(start)))
    plan.activate(by=by, description=f"Active from {on:%d %b %Y}"
                  + (f" (confirmed {len(problems)} problem(s))" if problems else ""))
    plan.effective_date, plan.activation_date = on, None
    plan.save(update_fields=["status", "activated_at", "archived_at", "effective_date", "activation_date"])
    plan_reroute(plan=plan, now=start)
    after = _placements(plan.pk)
    result.accounts = len(after)
    codes = dict(Territory.objects.filter(plan_id__in=[p for p in (plan.pk, result.previous_id) if p])
                 .values_list("pk", "code"))
    result.moved = sum(1 for a in set(before) | set(after)
                       if codes.get(before.get(a, 0)) != codes.get(after.get(a, 0)))
    new_owner = coverage.owner_ids_on(plan=plan, on=on)
    result.deals_moved = _move_deals(before, after, old_owner, new_owner, plan, on)
    grants_rebuild(plan=plan)
    result.notified = _notify(old, plan, on, result.summary())
    return result



def plans_activate_due(*, today: dt.date | None = None) -> list[Activation]:
    """The daily run: the staged plan whose activation day has come becomes active (with its
    problems confirmed when it was scheduled: scheduling is the admin's confirmation). A refusal is
    noted on the plan's timeline through the notification to the admins and leaves it staged."""
    today = today or timezone.localdate()
    done = []
    for plan in TerritoryPlan.objects.filter(status=Status.STAGED, activation_date__lte=today).order_by(
            "activation_date", "pk"):
        try:
            done.append(plan_activate(plan=plan, on=today, confirm=True))
        except PlanError as exc:
            admins = User.objects.filter(sales_profile__role=SalesProfile.Role.ADMIN, is_active=True)
            Notification.objects.bulk_create(
                Notification(user=u, kind=Notification.Kind.INFO, title=f"{plan.name} did not activate"[:200],
                             body=str(exc)) for u in admins)
    return done
