"""Who covers what on a date has one definition (``territories.coverage``): end dates are
inclusive, so on the handover day every reader (tree page, grants, routing, the API, placement)
names the outgoing rep, and on the next day every reader names the incoming one."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone

from territories import coverage, placement
from territories import services as territory_services
from territories.models import RepAssignment, Territory
from territories.tree import plan_tree
from tests import factories

pytestmark = pytest.mark.django_db
Slot = RepAssignment.Slot
User = get_user_model()


@pytest.fixture
def world(client, admin_user):
    plan = factories.make_plan()
    territory = factories.make_territory(
        plan, code="HAND", name="Handover land", rule={"all": [{"field": "country", "op": "eq", "value": "NZ"}]}
    )
    account = factories.make_account(territory=territory)
    old = factories.make_user("rep", username="outgoing")
    new = factories.make_user("rep", username="incoming")
    client.force_login(admin_user)
    return plan, territory, account, old, new, client, admin_user


def owners_everywhere(world) -> dict[str, str | None]:
    """The owner of the territory today (a username) as each reader of coverage says it."""
    plan, territory, account, old, new, client, admin = world
    names = {u.pk: u.username for u in User.objects.all()}
    page = client.get(reverse("territories:index")).content.decode()
    shown = [u.username for u in (old, new) if u.get_full_name() in page]
    granted = [
        u.username
        for u in User.objects.filter(pk__in=[old.pk, new.pk]).order_by("username")
        if u.has_perm("territories.view_territory", Territory.objects.get(pk=territory.pk))
    ]
    _, person = coverage.names_and_owner_on([territory.pk], territory.pk, timezone.localdate())
    where = placement.placements([account.pk], plan=plan)[account.pk]
    return {
        "tree": names.get(plan_tree(user=admin, plan=plan).nodes[territory.pk].primary_id),
        "tree page": ",".join(shown),
        "grants": ",".join(granted),
        "routing": names.get(coverage.owner_ids_on(territory_ids=[territory.pk]).get(territory.pk)),
        "api": person.username if person else None,
        "account owner": where.owner.username if where.owner else None,
    }


def test_on_the_handover_day_everything_names_the_outgoing_rep(world):
    plan, territory, account, old, new, client, admin = world
    today = timezone.localdate()
    first = territory_services.assignment_add(
        territory=territory, user=old, slot=Slot.PRIMARY, start_date=today - dt.timedelta(days=30), by=admin
    )
    territory_services.assignment_end(assignment=first, end_date=today, by=admin)
    second = territory_services.assignment_add(territory=territory, user=new, slot=Slot.PRIMARY, by=admin)
    assert second.start_date == today + dt.timedelta(days=1)  # the next primary starts the day after
    assert owners_everywhere(world) == dict.fromkeys(
        ["tree", "tree page", "grants", "routing", "api", "account owner"], "outgoing"
    )
    assert not coverage.vacant_on(plan).filter(pk=territory.pk).exists()


def test_the_day_after_the_handover_everything_names_the_incoming_rep(world):
    plan, territory, account, old, new, client, admin = world
    today = timezone.localdate()
    factories.assign(territory, old, start_date=today - dt.timedelta(days=30), end_date=today - dt.timedelta(days=1))
    factories.assign(territory, new, start_date=today)
    assert owners_everywhere(world) == dict.fromkeys(
        ["tree", "tree page", "grants", "routing", "api", "account owner"], "incoming"
    )


def test_a_primary_starting_tomorrow_does_not_staff_today(world):
    plan, territory, account, old, new, client, admin = world
    factories.assign(territory, new, start_date=timezone.localdate() + dt.timedelta(days=1))
    assert owners_everywhere(world) == {
        "tree": None, "tree page": "", "grants": "", "routing": None, "api": None, "account owner": None
    }
    assert list(coverage.vacant_on(plan)) == [territory]


def test_vacant_is_the_same_in_sql_and_on_the_tree(world):
    plan, territory, account, old, new, client, admin = world
    today = timezone.localdate()
    day = dt.timedelta(days=1)
    t = {code: factories.make_territory(plan, code=code) for code in
         ("STAFFED", "EMPTY", "ENDED", "ENDS-TODAY", "STARTS-LATER", "ONLY-BACKUP")}
    t["OVL-EMPTY"] = factories.make_territory(plan, code="OVL-EMPTY", is_overlay=True)
    t["OVL-STAFFED"] = factories.make_territory(plan, code="OVL-STAFFED", is_overlay=True)
    t["OVL-PRIMARY"] = factories.make_territory(plan, code="OVL-PRIMARY", is_overlay=True)
    t["RETIRED"] = factories.make_territory(plan, code="RETIRED", status=Territory.Status.INACTIVE)
    t["DRAFT"] = factories.make_territory(plan, code="DRAFT", status=Territory.Status.DRAFT)
    factories.assign(t["STAFFED"], old)
    factories.assign(t["ENDED"], old, start_date=today - 9 * day, end_date=today - day)
    factories.assign(t["ENDS-TODAY"], new, start_date=today - 9 * day, end_date=today)
    factories.assign(t["STARTS-LATER"], new, start_date=today + day)
    factories.assign(t["ONLY-BACKUP"], new, slot=Slot.BACKUP)
    factories.assign(t["OVL-STAFFED"], old, slot=Slot.OVERLAY, split_percent=100)
    factories.assign(t["OVL-PRIMARY"], old)
    sql = set(coverage.vacant_on(plan).values_list("code", flat=True))
    tree = plan_tree(user=admin, plan=plan)
    python = {n.code for n in tree.nodes.values() if n.vacant}
    assert sql == python == {"HAND", "EMPTY", "ENDED", "STARTS-LATER", "ONLY-BACKUP", "OVL-EMPTY", "OVL-PRIMARY"}
    assert set(coverage.staffed_on(plan).values_list("code", flat=True)) == {
        "STAFFED", "ENDS-TODAY", "OVL-STAFFED", "RETIRED", "DRAFT"
    }


def test_owners_on_a_date_with_leave(world):
    plan, territory, account, old, new, client, admin = world
    factories.assign(territory, old)
    factories.assign(territory, new, slot=Slot.BACKUP)
    specialist = factories.make_user("rep", username="se")
    factories.assign(territory, specialist, slot=Slot.OVERLAY, split_percent=50)
    factories.make_leave(old, start=timezone.localdate(), days=3)
    held = coverage.owners_on(territory_ids=[territory.pk])[territory.pk]
    assert (held.primary, held.backups, held.overlays, held.owner) == (old.pk, [new.pk], [specialist.pk], new.pk)
    later = timezone.localdate() + dt.timedelta(days=10)
    assert coverage.owner_ids_on(territory_ids=[territory.pk], on=later) == {territory.pk: old.pk}


def test_pick_owner():
    away = {"p", "b1"}.__contains__
    assert coverage.pick_owner("p", ["b1", "b2"], away) == "b2"
    assert coverage.pick_owner("p", ["b1"], away) == "p"  # nobody can cover: the primary stays owner
    assert coverage.pick_owner("x", ["b2"], away) == "x"
    assert coverage.pick_owner(None, ["b1", "b2"], away) == "b2"
    assert coverage.pick_owner(None, [], away) is None


# --- the daily refresh ----------------------------------------------------------------------------


def test_the_daily_refresh_is_scheduled():
    from django_q.models import Schedule

    from territories.tasks import DAILY_REFRESH

    schedule = Schedule.objects.get(func=DAILY_REFRESH)
    assert schedule.schedule_type == Schedule.DAILY and schedule.repeats < 0


def test_the_daily_refresh_moves_grants_to_who_covers_today(world):
    from guardian.shortcuts import assign_perm

    from territories.tasks import coverage_daily_refresh

    plan, territory, account, old, new, client, admin = world
    today = timezone.localdate()
    # Yesterday's state, written without the services: the outgoing rep's last day was yesterday
    # and still holds the grant; the incoming rep starts today and holds none yet.
    RepAssignment.objects.create(territory=territory, user=old, slot=Slot.PRIMARY,
                                 start_date=today - dt.timedelta(days=30), end_date=today - dt.timedelta(days=1))
    RepAssignment.objects.create(territory=territory, user=new, slot=Slot.PRIMARY, start_date=today)
    assign_perm("territories.view_territory", old, territory)
    assert coverage_daily_refresh() == 2
    fresh = Territory.objects.get(pk=territory.pk)
    old, new = User.objects.get(pk=old.pk), User.objects.get(pk=new.pk)  # no cached permissions
    assert new.has_perm("territories.view_territory", fresh)
    assert not old.has_perm("territories.view_territory", fresh)


def test_every_schedule_calls_a_function_that_exists():
    # A schedule whose function is gone fails in the worker every day, silently.
    from django.utils.module_loading import import_string
    from django_q.models import Schedule

    for func in Schedule.objects.values_list("func", flat=True):
        assert callable(import_string(func)), func
