import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from territories.models import RepAssignment, Territory, TerritoryPlan
from tests.factories import assert_db_refuses, assign, make_plan, make_territory, make_user

pytestmark = pytest.mark.django_db



def test_exactly_one_plan_can_be_active():
    make_plan(name="FY2027")
    make_plan(name="FY2028 draft", status="draft")
    make_plan(name="FY2028 staged", status="staged")
    assert_db_refuses(lambda: make_plan(name="Another active"))
    assert TerritoryPlan.active().name == "FY2027"


def test_territory_code_unique_within_plan_only():
    plan, draft = make_plan(), make_plan(status="draft")
    make_territory(plan, code="US-WEST")
    make_territory(draft, code="US-WEST")
    assert_db_refuses(lambda: make_territory(plan, code="US-WEST"))


def test_credit_percent_is_between_0_and_100():
    plan = make_plan()
    make_territory(plan, credit_percent=0)
    make_territory(plan, credit_percent=100)
    assert_db_refuses(lambda: make_territory(plan, credit_percent=101))


def test_parent_must_be_in_the_same_plan():
    plan, draft = make_plan(), make_plan(status="draft")
    parent = make_territory(draft)
    child = Territory(plan=plan, code="C", name="Child", parent=parent)
    with pytest.raises(ValidationError):
        child.full_clean()


def test_tree_has_ancestors_and_descendants():
    plan = make_plan()
    root = make_territory(plan, code="GLOBAL")
    amer = make_territory(plan, code="AMER", parent=root)
    west = make_territory(plan, code="US-WEST", parent=amer)
    assert [t.code for t in west.ancestors()] == ["GLOBAL", "AMER"]
    assert {t.code for t in root.descendants()} == {"AMER", "US-WEST"}


def test_one_current_primary_per_territory():
    plan = make_plan()
    territory = make_territory(plan)
    first, second = make_user(), make_user()
    assign(territory, first)
    assert_db_refuses(lambda: assign(territory, second))
    # Ending the first assignment frees the slot; the ended row stays as history.
    RepAssignment.objects.filter(user=first).update(end_date=dt.date.today())
    assign(territory, second, start_date=dt.date.today())
    assert territory.assignments.count() == 2
    # Overlays and backups are not limited.
    assign(territory, make_user(), slot="overlay", split_percent=30)
    assign(territory, make_user(), slot="overlay", split_percent=20)
    assign(territory, make_user(), slot="backup")


def test_primary_date_ranges_must_not_overlap():
    territory = make_territory(make_plan())
    assign(territory, make_user(), start_date=dt.date(2026, 1, 1), end_date=dt.date(2026, 3, 31))
    overlapping = RepAssignment(
        territory=territory,
        user=make_user(),
        slot="primary",
        start_date=dt.date(2026, 3, 1),
        end_date=dt.date(2026, 6, 30),
    )
    with pytest.raises(ValidationError):
        overlapping.clean()
    later = RepAssignment(
        territory=territory,
        user=make_user(),
        slot="primary",
        start_date=dt.date(2026, 4, 1),
        end_date=dt.date(2026, 6, 30),
    )
    later.clean()


def test_split_percent_and_dates_are_checked():
    territory = make_territory(make_plan())
    assert_db_refuses(lambda: assign(territory, make_user(), slot="overlay", split_percent=101))
    assert_db_refuses(
        lambda: assign(
            territory, make_user(), slot="overlay", start_date=dt.date(2026, 2, 1), end_date=dt.date(2026, 1, 1)
        )
    )


def test_configuration_changes_are_recorded_in_history():
    territory = make_territory(make_plan(), name="US West")
    territory.name = "US West Coast"
    territory.save()
    names = list(territory.history.order_by("history_date").values_list("name", flat=True))
    assert names == ["US West", "US West Coast"]
