"""Org-chart changes re-materialise territory visibility."""

import pytest

from salesos.services import profile_save
from territories.selectors import territories_visible_to
from tests.factories import assign, make_plan, make_territory, make_user

pytestmark = pytest.mark.django_db


def test_changing_a_reps_manager_moves_visibility_of_their_territory():
    plan = make_plan()
    old_boss, new_boss = make_user("manager"), make_user("manager")
    rep = make_user(manager=old_boss)
    territory = make_territory(plan)
    assign(territory, rep)
    assert territory in territories_visible_to(old_boss, plan)
    assert territory not in territories_visible_to(new_boss, plan)

    profile = rep.sales_profile
    profile.manager = new_boss
    profile_save(profile=profile)

    assert territory not in territories_visible_to(old_boss, plan)
    assert territory in territories_visible_to(new_boss, plan)
