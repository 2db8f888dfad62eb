"""Ending an assignment asks first: the page says what happens (from a dry run of the real
service) and only a confirmed POST ends it."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from salesos.models import SalesProfile
from territories.models import RepAssignment
from tests import factories

pytestmark = pytest.mark.django_db
Role = SalesProfile.Role
Slot = RepAssignment.Slot


@pytest.fixture
def world(client):
    plan = factories.make_plan()
    territory = factories.make_territory(plan, code="BR", name="Brazil")
    admin = factories.make_user(Role.ADMIN, username="ops")
    rep = factories.make_user(Role.REP, username="paula")
    primary = factories.assign(territory, rep, start_date=timezone.localdate() - dt.timedelta(days=40))
    client.force_login(admin)
    url = reverse("territories:assignment_end", args=[territory.pk, primary.pk])
    return territory, primary, url, client


def test_the_page_says_the_territory_becomes_vacant_and_ends_nothing(world):
    territory, primary, url, client = world
    history = RepAssignment.history.count()
    response = client.get(url)
    page = response.content.decode()
    assert response.status_code == 200
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    assert 'data-outcome="vacant"' in page and 'data-outcome="no-owner"' in page
    assert f"{tomorrow:%b} {tomorrow.day}, {tomorrow.year}" in page
    primary.refresh_from_db()
    assert primary.end_date is None
    assert RepAssignment.history.count() == history  # the dry run left no trace
    assert primary.user.has_perm("territories.view_territory", territory)


def test_the_page_names_the_backup_who_covers(world):
    territory, primary, url, client = world
    factories.assign(territory, factories.make_user(Role.REP, username="bea"), slot=Slot.BACKUP)
    page = client.get(url).content.decode()
    assert 'data-outcome="vacant"' in page and 'data-outcome="backup-covers"' in page and "Bea" in page


def test_a_post_without_confirmation_ends_nothing(world):
    territory, primary, url, client = world
    assert client.post(url, {"end_date": timezone.localdate().isoformat()}).status_code == 200
    primary.refresh_from_db()
    assert primary.end_date is None


def test_a_confirmed_post_ends_it_on_the_chosen_day(world):
    territory, primary, url, client = world
    last = timezone.localdate() + dt.timedelta(days=3)
    response = client.post(url, {"end_date": last.isoformat(), "confirm": "yes"})
    assert response.status_code == 302
    primary.refresh_from_db()
    assert primary.end_date == last


@pytest.mark.parametrize("bad", ["soon", "2026-02-30", "9999-12-31"])
def test_a_bad_date_is_refused_with_a_message(world, bad):
    territory, primary, url, client = world
    response = client.post(url, {"end_date": bad, "confirm": "yes"})
    assert response.status_code == 422 and "alert-danger" in response.content.decode()
    primary.refresh_from_db()
    assert primary.end_date is None


def test_the_section_links_to_the_confirmation_instead_of_ending(world):
    territory, primary, url, client = world
    page = client.get(reverse("territories:detail", args=[territory.pk])).content.decode()
    assert f'href="{url}"' in page
    assert f'action="{url}"' not in page
