"""The account admin: territory and owner are read from the routing rows, never edited there."""

import pytest
from django.contrib.auth import get_user_model

from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(client):
    user = get_user_model().objects.create_superuser("root", "root@example.com", "pw-Secret-123")
    client.force_login(user)
    return user


def test_account_list_and_change_page_show_where_it_sits(client, staff):
    plan = factories.make_plan()
    territory = factories.make_territory(plan, code="WEST", name="West")
    rep = factories.make_user(username="wes")
    factories.assign(territory, rep)
    placed = factories.make_account(name="Placed Co", territory=territory)
    queued = factories.make_account(name="Queued Co")

    listing = client.get("/admin/salesos/account/")
    assert listing.status_code == 200 and "Placed Co" in listing.content.decode()

    page = client.get(f"/admin/salesos/account/{placed.pk}/change/").content.decode()
    assert "WEST West" in page and "Wes Tester" in page
    assert 'name="territory"' not in page and 'name="owner"' not in page
    page = client.get(f"/admin/salesos/account/{queued.pk}/change/").content.decode()
    assert "WEST" not in page and "Wes Tester" not in page
