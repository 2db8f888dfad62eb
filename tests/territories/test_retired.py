"""Retired (inactive) territories are read-only and hidden from the tree unless asked for: no Edit,
Delete or "Assign a rep"; the pages refuse those POSTs with a message and the services refuse
them too."""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages
from django.core.exceptions import ValidationError
from django.urls import reverse

from salesos.models import SalesProfile
from territories import services
from territories.models import RepAssignment, Territory
from tests import factories

pytestmark = pytest.mark.django_db
Role = SalesProfile.Role


@pytest.fixture
def world(client):
    plan = factories.make_plan()
    live = factories.make_territory(plan, code="LIVE", name="Still selling")
    old = factories.make_territory(plan, code="GONE", name="Old patch", status=Territory.Status.INACTIVE,
                                   rule={"all": [{"field": "country", "op": "eq", "value": "FR"}]})
    admin = factories.make_user(Role.ADMIN, username="ops")
    rep = factories.make_user(Role.REP, username="ria")
    client.force_login(admin)
    return plan, live, old, admin, rep, client


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_the_tree_hides_retired_territories_unless_asked(world):
    plan, live, old, admin, rep, client = world
    page = client.get(reverse("territories:index")).content.decode()
    assert "LIVE" in page and "GONE" not in page
    assert 'name="retired"' in page  # the "Show retired" filter
    page = client.get(reverse("territories:index"), {"retired": "1"}).content.decode()
    assert "LIVE" in page and "GONE" in page
    # The flat list (a search) hides them as well, unless asked.
    assert "GONE" not in client.get(reverse("territories:index"), {"q": "o"}).content.decode()
    assert "GONE" in client.get(reverse("territories:index"), {"q": "o", "retired": "1"}).content.decode()


def test_children_of_a_node_hide_retired_ones_unless_asked(world):
    plan, live, old, admin, rep, client = world
    Territory.objects.filter(pk=old.pk).update(parent=live)
    url = reverse("territories:children", args=[live.pk])
    assert "GONE" not in client.get(url, headers={"HX-Request": "true"}).content.decode()
    assert "GONE" in client.get(url, {"retired": "1"}, headers={"HX-Request": "true"}).content.decode()


def test_a_retired_territory_page_offers_no_edit_delete_or_assign(world):
    plan, live, old, admin, rep, client = world
    page = client.get(reverse("territories:detail", args=[old.pk])).content.decode()
    assert "Retired: kept for its ownership history" in page
    assert reverse("territories:edit", args=[old.pk]) not in page
    assert reverse("territories:delete", args=[old.pk]) not in page
    assert "Assign a rep" not in page
    live_page = client.get(reverse("territories:detail", args=[live.pk])).content.decode()
    assert reverse("territories:edit", args=[live.pk]) in live_page and "Assign a rep" in live_page


def test_edit_delete_and_assign_posts_on_a_retired_territory_are_refused(world):
    plan, live, old, admin, rep, client = world
    before = Territory.objects.filter(pk=old.pk).values().get()
    response = client.post(reverse("territories:edit", args=[old.pk]),
                           {"name": "Renamed", "code": "GONE", "type": "geographic", "priority": "0",
                            "credit_percent": "100", "lead_assignment": "primary"})
    assert response.status_code == 302 and "is retired" in " ".join(messages_of(response))
    response = client.post(reverse("territories:delete", args=[old.pk]), {"confirm": "yes"})
    assert response.status_code == 302 and "is retired" in " ".join(messages_of(response))
    response = client.post(reverse("territories:assignments", args=[old.pk]),
                           {"user": rep.pk, "slot": "primary"})
    assert response.status_code == 302 and "is retired" in " ".join(messages_of(response))
    response = client.post(reverse("territories:assignments", args=[old.pk]),
                           {"user": rep.pk, "slot": "primary"}, headers={"HX-Request": "true"})
    assert response.status_code == 409
    assert Territory.objects.filter(pk=old.pk).values().get() == before
    assert not RepAssignment.objects.filter(territory=old).exists()
    # The GET pages send the user back to the territory too.
    assert client.get(reverse("territories:edit", args=[old.pk])).status_code == 302
    assert client.get(reverse("territories:delete", args=[old.pk])).status_code == 302


def test_the_services_refuse_a_retired_territory(world):
    plan, live, old, admin, rep, client = world
    with pytest.raises(ValidationError, match="retired"):
        services.assignment_add(territory=old, user=rep, slot=RepAssignment.Slot.PRIMARY, by=admin)
    with pytest.raises(ValidationError, match="retired"):
        services.territory_update(territory=old, data={"name": "New"}, by=admin)
    with pytest.raises(ValidationError, match="retired"):
        services.territory_delete(territory=old, by=admin)
    assert Territory.objects.filter(pk=old.pk, name="Old patch").exists()


def test_moving_a_retired_territory_or_under_one_is_refused(world):
    plan, live, old, admin, rep, client = world
    with pytest.raises(ValidationError, match="retired"):
        services.territory_move(territory=old, new_parent=live, by=admin)
    with pytest.raises(ValidationError, match="retired"):
        services.territory_move(territory=live, new_parent=old, by=admin)
    live.refresh_from_db()
    old.refresh_from_db()
    assert live.parent_id is None and old.parent_id is None
