"""The accounts and leads lists: scoped to what each role may see (pages, option lists and CSV
exports alike), every filter, server-side validation of the filters, and bounded queries."""

from __future__ import annotations

import csv
import io

import pytest
from django.urls import reverse

from routing import services
from salesos.models import Account, Lead
from tests.routing.pages import ROLES, World, build_world, unassigned

pytestmark = pytest.mark.django_db

ACCOUNTS = {"Golden Labs", "Atlantic Freight", "Tokyo Robotics"}
LEADS = {"Golden Leads", "Atlantic Leads", "Tokyo Leads"}
# What each role of the world may see.
SEES = {
    "admin": ({"Golden Labs", "Atlantic Freight", "Tokyo Robotics"}, {"Golden Leads", "Atlantic Leads", "Tokyo Leads"}),
    "director": ({"Golden Labs", "Atlantic Freight"}, {"Golden Leads", "Atlantic Leads"}),
    "manager": ({"Golden Labs"}, {"Golden Leads"}),
    "rep": ({"Golden Labs"}, {"Golden Leads"}),
}
# Territories (names) and people each role must not find anywhere on the lists.
HIDDEN = {
    "admin": set(),
    "director": {"Asia Pacific", "Healthcare specialists"},
    "manager": {"Asia Pacific", "Texas North", "Taylor Tran"},
    "rep": {"Asia Pacific", "Texas North", "Taylor Tran"},
}


@pytest.fixture
def world() -> World:
    return build_world()


def names_in_csv(response) -> list[str]:
    text = b"".join(response.streaming_content).decode()
    rows = list(csv.DictReader(io.StringIO(text)))
    return [r.get("name") or r["company"] for r in rows]


@pytest.mark.parametrize("role", ROLES)
def test_accounts_list_and_export_show_only_what_the_role_sees(client, world, role):
    client.force_login(world.users[role])
    seen, _ = SEES[role]
    body = client.get(reverse("accounts:index")).content.decode()
    for name in ACCOUNTS:
        assert (name in body) == (name in seen), name
    for hidden in HIDDEN[role]:
        assert hidden not in body, hidden
    export = client.get(reverse("accounts:export"))
    assert export["Content-Type"].startswith("text/csv")
    assert sorted(names_in_csv(export)) == sorted(seen)


@pytest.mark.parametrize("role", ROLES)
def test_leads_list_and_export_show_only_what_the_role_sees(client, world, role):
    client.force_login(world.users[role])
    _, seen = SEES[role]
    body = client.get(reverse("leads:index")).content.decode()
    for name in LEADS:
        assert (name in body) == (name in seen), name
    for hidden in HIDDEN[role]:
        assert hidden not in body, hidden
    assert sorted(names_in_csv(client.get(reverse("leads:export")))) == sorted(seen)


def test_lists_need_a_login(client, world):
    for url in (reverse("accounts:index"), reverse("accounts:export"), reverse("leads:index"), reverse("leads:export")):
        assert client.get(url).status_code == 302


def _filtered(client, **params) -> set[str]:
    response = client.get(reverse("accounts:index"), params)
    assert response.status_code == 200
    export = client.get(reverse("accounts:export"), params)
    shown = {a.name for a, _ in response.context["rows"]}
    assert sorted(names_in_csv(export)) == sorted(shown)  # the export is what is shown
    return shown


def test_account_filters(client, world):
    Account.objects.filter(name="Golden Labs").update(employees=120)
    Account.objects.filter(name="Atlantic Freight").update(employees=7000)
    unassigned(1, name="Munich Prospect", employees=30)
    client.force_login(world.users["admin"])
    t = world.t
    everyone = {"Golden Labs", "Atlantic Freight", "Tokyo Robotics", "Munich Prospect 0"}
    assert _filtered(client) == everyone
    assert _filtered(client, q="gold") == {"Golden Labs"}
    assert _filtered(client, territory=t["us"].pk) == {"Golden Labs", "Atlantic Freight"}  # the subtree
    assert _filtered(client, territory=t["east"].pk) == {"Atlantic Freight"}
    assert _filtered(client, owner=world.users["rep"].pk) == {"Golden Labs"}
    assert _filtered(client, owner=world.users["other_rep"].pk) == {"Atlantic Freight"}
    assert _filtered(client, industry="51") == {"Golden Labs"}
    assert _filtered(client, size="50-249") == {"Golden Labs"}
    assert _filtered(client, size="5000+") == {"Atlantic Freight"}
    assert _filtered(client, size="1-49") == {"Munich Prospect 0"}
    assert _filtered(client, country="jp") == {"Tokyo Robotics"}
    assert _filtered(client, country="US", state="US-NY") == {"Atlantic Freight"}
    assert _filtered(client, assigned="unassigned") == {"Munich Prospect 0"}
    assert _filtered(client, assigned="assigned") == everyone - {"Munich Prospect 0"}
    assert _filtered(client, q="zzz") == set()
    assert "No account matches these filters" in client.get(reverse("accounts:index"), {"q": "zzz"}).content.decode()


def test_lead_filters(client, world):
    client.force_login(world.users["admin"])
    t = world.t

    def shown(**params) -> set[str]:
        response = client.get(reverse("leads:index"), params)
        assert response.status_code == 200
        got = {lead.company for lead in response.context["rows"]}
        assert sorted(names_in_csv(client.get(reverse("leads:export"), params))) == sorted(got)
        return got

    assert shown(q="atlantic") == {"Atlantic Leads"}
    assert shown(territory=t["us"].pk) == {"Golden Leads", "Atlantic Leads"}
    assert shown(country="JP") == {"Tokyo Leads"}
    services.lead_save(lead=Lead(company="Nowhere Leads", country="BR"))
    assert shown(assigned="unassigned") == {"Nowhere Leads"}


BAD = [
    ({"territory": "abc"}, "Pick a territory from the list."),
    ({"territory": "99999999999999999999"}, "Pick a territory from the list."),
    ({"owner": "-1"}, "Pick an owner from the list."),
    ({"industry": "9999"}, "Pick an industry from the list."),
    ({"size": "huge"}, "Select a valid choice."),
    ({"country": "USA"}, "two-letter country code"),
    ({"state": "California"}, "ISO 3166-2 state code"),
    ({"country": "JP", "state": "US-CA"}, "US-CA is not a state of JP."),
    ({"assigned": "maybe"}, "Select a valid choice."),
    ({"q": "x" * 101}, "at most 100 characters"),
]


@pytest.mark.parametrize(("params", "message"), BAD)
def test_bad_filters_answer_400_with_the_message_and_no_rows(client, world, params, message):
    client.force_login(world.users["admin"])
    response = client.get(reverse("accounts:index"), params)
    body = response.content.decode()
    assert response.status_code == 400 and message in body
    assert not any(f">{name}</a>" in body for name in ACCOUNTS)
    export = client.get(reverse("accounts:export"), params)
    assert export.status_code == 400 and message in export.content.decode()
    assert client.get(reverse("leads:index"), params).status_code == 400


def test_filters_only_offer_and_accept_what_the_user_sees(client, world):
    client.force_login(world.users["manager"])
    t = world.t
    page = client.get(reverse("accounts:index"))
    offered = {value for value, _ in page.context["form"].fields["territory"].choices}
    assert str(t["west"].pk) in offered and str(t["apac"].pk) not in offered
    owners = {value for value, _ in page.context["form"].fields["owner"].choices}
    assert str(world.users["rep"].pk) in owners and str(world.users["other_rep"].pk) not in owners
    # Asking for another team's territory or rep is refused, not answered with their accounts.
    for params in ({"territory": t["apac"].pk}, {"territory": t["east"].pk}, {"owner": world.users["other_rep"].pk}):
        response = client.get(reverse("accounts:index"), params)
        assert response.status_code == 400 and "Tokyo Robotics" not in response.content.decode()
        assert client.get(reverse("accounts:export"), params).status_code == 400


def test_rows_link_account_territory_and_owner(client, world):
    client.force_login(world.users["rep"])
    body = client.get(reverse("accounts:index")).content.decode()
    golden = Account.objects.get(name="Golden Labs")
    assert reverse("accounts:detail", args=[golden.pk]) in body
    assert reverse("territories:detail", args=[world.t["west"].pk]) in body
    assert f"{reverse('accounts:index')}?owner={world.users['rep'].pk}" in body


def test_htmx_answers_the_results_fragment_and_pages_keep_filters(client, world):
    unassigned(60, name="Bulk", country="US", state="US-CA")  # land in the West
    client.force_login(world.users["admin"])
    response = client.get(reverse("accounts:index"), {"q": "bulk"}, headers={"HX-Request": "true"})
    body = response.content.decode()
    assert response.status_code == 200 and body.lstrip().startswith('<section class="card" id="results"')
    assert "q=bulk&amp;page=2" in body
    page2 = client.get(reverse("accounts:index"), {"q": "bulk", "page": 2})
    assert len(page2.context["rows"]) == 10
    # htmx swaps only 2xx answers, so a bad filter's messages come in the fragment.
    bad = client.get(reverse("accounts:index"), {"size": "huge"}, headers={"HX-Request": "true"})
    assert bad.status_code == 200 and "Select a valid choice." in bad.content.decode()


@pytest.mark.parametrize("n", [5, 120])
@pytest.mark.parametrize("role", ["admin", "director", "rep"])
def test_list_and_export_queries_are_bounded(client, world, n, role, django_assert_max_num_queries):
    unassigned(n, name="Many", country="US", state="US-CA")
    client.force_login(world.users[role])
    client.get(reverse("accounts:index"))  # session and caches warm
    # 25: a user who owns territories reads the ids of the territories they see first (one query),
    # so the visibility filter reads ownership rows through their index (territories.access).
    with django_assert_max_num_queries(25):
        assert client.get(reverse("accounts:index"), {"territory": world.t["west"].pk}).status_code == 200
    with django_assert_max_num_queries(25):
        response = client.get(reverse("accounts:export"))
        assert len(names_in_csv(response)) >= n
    with django_assert_max_num_queries(20):
        assert client.get(reverse("leads:index")).status_code == 200
