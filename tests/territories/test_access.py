"""Who sees which accounts (territories.access), now that an account sits where its current primary
routing row says and its owner is that territory's owner today (territories.placement)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.http import Http404

from salesos.models import SalesProfile
from territories.access import account_get_for_user, accounts_visible_to
from territories.models import AccountTerritory, RepAssignment, TerritoryUserObjectPermission
from tests import factories

pytestmark = pytest.mark.django_db
Role = SalesProfile.Role


@pytest.fixture
def org():
    plan = factories.make_plan()
    manager = factories.make_user(Role.MANAGER)
    rep = factories.make_user(Role.REP, manager=manager)
    other = factories.make_user(Role.REP)
    mine = factories.make_territory(plan, code="MINE")
    theirs = factories.make_territory(plan, code="THEIRS")
    overlay = factories.make_territory(plan, code="OVL", is_overlay=True)
    factories.assign(mine, rep)
    factories.assign(theirs, other)
    factories.assign(overlay, rep, slot=RepAssignment.Slot.OVERLAY, split_percent=50)
    own = factories.make_account(name="Own", territory=mine)
    foreign = factories.make_account(name="Foreign", territory=theirs)
    credited = factories.make_account(name="Credited", territory=theirs)
    AccountTerritory.objects.create(account=credited, territory=overlay, plan=plan, is_primary=False,
                                    credit_percent=50)
    queued = factories.make_account(name="Queued")
    return dict(plan=plan, manager=manager, rep=rep, other=other, mine=mine, theirs=theirs, own=own,
                foreign=foreign, credited=credited, queued=queued)


def names(qs) -> set[str]:
    return set(qs.values_list("name", flat=True))


def test_a_rep_sees_the_accounts_with_a_current_row_in_their_territories(org):
    assert names(accounts_visible_to(org["rep"])) == {"Own", "Credited"}
    assert account_get_for_user(user=org["rep"], pk=org["own"].pk) == org["own"]
    for account in (org["foreign"], org["queued"]):
        with pytest.raises(Http404):
            account_get_for_user(user=org["rep"], pk=account.pk)


def test_a_closed_row_no_longer_shows_the_account(org):
    AccountTerritory.objects.filter(account=org["own"]).update(valid_to=dt.datetime.now(dt.UTC))
    assert "Own" not in names(accounts_visible_to(org["rep"]))
    with pytest.raises(Http404):
        account_get_for_user(user=org["rep"], pk=org["own"].pk)


def test_managers_also_see_the_unassigned_queue(org):
    # The manager sees the team's territory (grants) and every account without a primary row.
    assert names(accounts_visible_to(org["manager"])) == {"Own", "Credited", "Queued"}
    assert account_get_for_user(user=org["manager"], pk=org["queued"].pk) == org["queued"]
    with pytest.raises(Http404):
        account_get_for_user(user=org["manager"], pk=org["foreign"].pk)


def test_an_owner_sees_their_accounts_even_without_a_view_grant(org):
    # The backup covers THEIRS while its primary is away: the accounts there are theirs today,
    # whatever the materialised grants say.
    backup = factories.make_user(Role.REP)
    RepAssignment.objects.create(territory=org["theirs"], user=backup, slot=RepAssignment.Slot.BACKUP)
    assert not TerritoryUserObjectPermission.objects.filter(user=backup).exists()
    assert names(accounts_visible_to(backup)) == set()
    factories.make_leave(org["other"])
    assert names(accounts_visible_to(backup)) == {"Foreign", "Credited"}
    assert account_get_for_user(user=backup, pk=org["foreign"].pk) == org["foreign"]
    with pytest.raises(Http404):
        account_get_for_user(user=backup, pk=org["own"].pk)


# --- visible is not editable -------------------------------------------------------------------


def test_editable_accounts_are_the_primary_territories_of_the_team(org):
    from territories.access import accounts_editable_by, territories_editable_by

    manager, rep = org["manager"], org["rep"]
    # A backup slot of the manager's rep on another team's territory: seen, not editable.
    factories.assign(org["theirs"], rep, slot=RepAssignment.Slot.BACKUP)
    seen = set(accounts_visible_to(manager).values_list("name", flat=True))
    assert {"Own", "Foreign", "Credited", "Queued"} <= seen
    assert set(accounts_editable_by(manager).values_list("name", flat=True)) == {"Own"}
    assert set(territories_editable_by(manager, org["plan"]).values_list("code", flat=True)) == {"MINE"}
    # Reps edit nothing, not even their own accounts; admins everything.
    assert not accounts_editable_by(rep).exists()
    admin = factories.make_user(Role.ADMIN)
    assert accounts_editable_by(admin).count() == 4


def test_a_director_edits_the_subtree_they_lead(org):
    from territories.access import accounts_editable_by

    director = factories.make_user(Role.DIRECTOR)
    region = factories.make_territory(org["plan"], code="REGION")
    org["theirs"].parent = region
    org["theirs"].save(update_fields=["parent"])
    factories.assign(region, director)
    assert set(accounts_editable_by(director).values_list("name", flat=True)) == {"Foreign", "Credited"}
