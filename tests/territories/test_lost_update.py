"""Lost update (issue 8, section 7): an edit made against an older version of a territory is
refused with a message and changes nothing; only the fields an edit changes are written."""

from __future__ import annotations

import re

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from territories import services
from territories.models import Territory
from tests import factories
from tests.territories.test_rule_builder import Builder

pytestmark = pytest.mark.django_db

FORM = dict(type="size", priority=0, credit_percent=100, lead_assignment="primary", action="save")
OLD_RULE = {"field": "employees", "op": "gte", "value": 5}
NEW_RULE = {"all": [{"field": "employees", "op": "gte", "value": 500}]}  # as the builder saves it


def employees_rule(value: str) -> Builder:
    b = Builder()
    root = b.group()
    b.cond(root, "employees", "gte", text=value)
    return b


def opened_version(client: Client, territory: Territory) -> str:
    """The hidden version of the edit form as a browser gets it."""
    page = client.get(reverse("territories:edit", args=[territory.pk])).content.decode()
    found = re.search(r'<input type="hidden" name="version" value="(\d+)"', page)
    assert found, "the edit form carries the territory's version"
    return found.group(1)


def test_a_stale_edit_form_is_refused_and_the_first_change_survives():
    plan = factories.make_plan()
    territory = factories.make_territory(plan, code="T1", name="Mid market", type=Territory.Type.SIZE,
                                         rule=OLD_RULE)
    first, second = Client(), Client()
    first.force_login(factories.make_user("admin"))
    second.force_login(factories.make_user("admin"))
    v1, v2 = opened_version(first, territory), opened_version(second, territory)
    assert v1 == v2

    # The first saves a rule change.
    r = first.post(reverse("territories:edit", args=[territory.pk]), employees_rule("500").post(
        plan=plan.pk, territory=territory.pk, name="Mid market", code="T1", version=v1, **FORM))
    assert r.status_code == 302
    territory.refresh_from_db()
    assert territory.rule == NEW_RULE

    # The second, opened before it, changes the name and still carries the old rule: refused.
    r = second.post(reverse("territories:edit", args=[territory.pk]), employees_rule("5").post(
        plan=plan.pk, territory=territory.pk, name="Renamed", code="T1", version=v2, **FORM))
    assert r.status_code == 422
    assert "Someone else changed this territory after you opened this form" in r.content.decode()
    territory.refresh_from_db()
    assert territory.rule == NEW_RULE
    assert territory.name == "Mid market"

    # Reloaded, the same change saves.
    v3 = opened_version(second, territory)
    assert int(v3) > int(v2)
    r = second.post(reverse("territories:edit", args=[territory.pk]), employees_rule("500").post(
        plan=plan.pk, territory=territory.pk, name="Renamed", code="T1", version=v3, **FORM))
    assert r.status_code == 302
    territory.refresh_from_db()
    assert territory.name == "Renamed" and territory.rule == NEW_RULE


def test_a_version_that_is_no_number_is_refused_too():
    plan = factories.make_plan()
    territory = factories.make_territory(plan, code="T1", name="Mid market", type=Territory.Type.SIZE,
                                         rule=OLD_RULE)
    client = Client()
    client.force_login(factories.make_user("admin"))
    r = client.post(reverse("territories:edit", args=[territory.pk]), employees_rule("5").post(
        plan=plan.pk, territory=territory.pk, name="Renamed", code="T1", version="abc", **FORM))
    assert r.status_code == 422 and "Reload the page" in r.content.decode()
    territory.refresh_from_db()
    assert territory.name == "Mid market"


def test_the_service_writes_only_the_fields_that_change_from_a_stale_instance():
    """A caller holding an instance read before someone else's change does not write that
    instance's old values back."""
    plan = factories.make_plan()
    territory = factories.make_territory(plan, code="T1", name="Mid market", priority=1, rule=OLD_RULE)
    admin = factories.make_user("admin")
    stale = Territory.objects.get(pk=territory.pk)
    Territory.objects.filter(pk=territory.pk).update(priority=9, description="set elsewhere")
    services.territory_update(territory=stale, data={"name": "Renamed"}, by=admin)
    territory.refresh_from_db()
    assert (territory.name, territory.priority, territory.description) == ("Renamed", 9, "set elsewhere")


def test_the_service_refuses_an_older_version_and_changes_nothing():
    plan = factories.make_plan()
    territory = factories.make_territory(plan, code="T1", name="Mid market", rule=OLD_RULE)
    admin = factories.make_user("admin")
    opened = territory.version
    services.territory_update(territory=territory, data={"priority": 4}, by=admin, version=opened)
    with pytest.raises(ValidationError) as refused:
        services.territory_update(territory=Territory.objects.get(pk=territory.pk),
                                  data={"priority": 1, "name": "Other"}, by=admin, version=opened)
    assert refused.value.code == "stale"
    territory.refresh_from_db()
    assert (territory.priority, territory.name) == (4, "Mid market")
