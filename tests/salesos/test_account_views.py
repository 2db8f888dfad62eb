"""Account and lead pages: who may open them, server-side validation, and routing on save."""

from __future__ import annotations

import pytest
from django.urls import reverse

from routing import services
from salesos.models import Account
from territories.models import AccountTerritory
from territories.placement import placement
from tests.routing.pages import ROLES, World, build_world

pytestmark = pytest.mark.django_db

EDITORS = {"admin", "director", "manager"}


@pytest.fixture
def world() -> World:
    return build_world()


def form_data(**overrides) -> dict:
    data = {
        "name": "Kaiser Clinics",
        "domain": "kaiser.example",
        "status": "prospect",
        "country": "US",
        "region": "",
        "state": "US-CA",
        "city": "Oakland",
        "metro": "",
        "postal_code": "94612",
        "industry_code": "622110",
        "employees": "1200",
        "annual_revenue": "45000000",
        "potential": "",
    }
    data.update(overrides)
    return data


# --- permission matrix -------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_new_account_page_matrix(client, world, role):
    client.force_login(world.users[role])
    assert client.get(reverse("accounts:new")).status_code == (200 if role in EDITORS else 404)
    # US-OR routes to the West: held by the manager's rep, in the director's subtree.
    response = client.post(reverse("accounts:new"), form_data(state="US-OR", industry_code="51"))
    assert response.status_code == (302 if role in EDITORS else 404)
    assert Account.objects.filter(name="Kaiser Clinics").exists() == (role in EDITORS)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("which", ["own", "foreign"])
def test_account_detail_matrix(client, world, role, which):
    client.force_login(world.users[role])
    account = world.own if which == "own" else world.foreign_for(role)
    expected = 200 if which == "own" or role == "admin" else 404
    assert client.get(reverse("accounts:detail", args=[account.pk])).status_code == expected


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("which", ["own", "foreign"])
def test_account_edit_matrix(client, world, role, which):
    client.force_login(world.users[role])
    account = world.own if which == "own" else world.foreign_for(role)
    may = role in EDITORS and (which == "own" or role == "admin")
    assert client.get(reverse("accounts:edit", args=[account.pk])).status_code == (200 if may else 404)
    # US-OR keeps the account in the West (the rep's, in the manager's team and the director's subtree).
    response = client.post(reverse("accounts:edit", args=[account.pk]), form_data(name="Renamed", state="US-OR"))
    assert response.status_code == (302 if may else 404)
    account.refresh_from_db()
    assert (account.name == "Renamed") == may


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("which", ["own", "foreign"])
def test_lead_detail_matrix(client, world, role, which):
    client.force_login(world.users[role])
    lead = world.own_lead if which == "own" else world.foreign_for(role, "lead")
    expected = 200 if which == "own" or role == "admin" else 404
    assert client.get(reverse("accounts:lead_detail", args=[lead.pk])).status_code == expected


def test_missing_account_is_404(client, world):
    client.force_login(world.users["admin"])
    assert client.get(reverse("accounts:detail", args=[99999])).status_code == 404
    assert client.get(reverse("accounts:edit", args=[99999])).status_code == 404


def test_state_options_follow_the_country(client, world):
    client.force_login(world.users["manager"])
    body = client.get(reverse("accounts:state_options"), {"country": "us"}).content.decode()
    assert 'value="US-CA"' in body and "DE-BY" not in body
    client.force_login(world.users["rep"])
    assert client.get(reverse("accounts:state_options"), {"country": "US"}).status_code == 404


# --- routing on save -----------------------------------------------------------------------------


def test_creating_an_account_routes_it_at_once_and_the_explanation_says_why(client, world):
    client.force_login(world.users["admin"])
    response = client.post(reverse("accounts:new"), form_data(), follow=True)
    account = Account.objects.get(name="Kaiser Clinics")
    assert response.redirect_chain == [(reverse("accounts:detail", args=[account.pk]), 302)]
    assert [str(m) for m in response.context["messages"]] == [
        "Created Kaiser Clinics. Routed to W-HC West-Healthcare, owner Keisha Lee."
    ]
    assert placement(account).territory == world.t["west_hc"] and account.region == "AMER"
    assert account.industry.code == "622"  # the deepest reference node above 622110
    body = response.content.decode()
    assert 'data-territory="W-HC"' in body and reverse("routing:account_explain", args=[account.pk]) in body
    owner_url = f'{reverse("accounts:index")}?owner={world.users["rep"].pk}'
    owner_link = f'<a href="{owner_url}" title="Accounts this person owns">'
    assert f"data-owner>{owner_link}Keisha Lee</a>" in body  # the territory's owner today, linked to their accounts

    explained = client.get(reverse("routing:account_explain", args=[account.pk]))
    text = explained.content.decode()
    assert "Why is Kaiser Clinics in West-Healthcare?" in text
    assert "Tier hybrid, priority 10" in text  # the winner's reason
    assert explained.context["x"].stored.winner.code == "W-HC"


def test_an_account_no_rule_matches_lands_in_the_queue(client, world):
    client.force_login(world.users["admin"])
    response = client.post(reverse("accounts:new"), form_data(country="DE", state="BY", industry_code=""), follow=True)
    account = Account.objects.get(name="Kaiser Clinics")
    assert not placement(account).assigned and account.state == "DE-BY" and account.region == "EMEA"
    assert "No territory matched: it is in the unassigned queue." in str(list(response.context["messages"])[0])


def test_editing_a_routable_field_moves_the_account_and_closes_the_old_row(client, world):
    client.force_login(world.users["director"])
    account = world.own
    response = client.post(reverse("accounts:edit", args=[account.pk]),
                           form_data(name=account.name, state="US-NY", industry_code="51"), follow=True)
    account.refresh_from_db()
    assert placement(account).territory == world.t["east"]
    assert "Routed to US-E East, owner Taylor Tran." in str(list(response.context["messages"])[0])
    rows = list(AccountTerritory.objects.filter(account=account, is_primary=True).order_by("valid_from", "pk"))
    assert [(r.territory.code, r.valid_to is None) for r in rows] == [("US-W", False), ("US-E", True)]


def test_editing_a_non_routable_field_keeps_the_history_untouched(client, world):
    client.force_login(world.users["admin"])
    account = world.own
    rows = AccountTerritory.objects.filter(account=account).count()
    client.post(reverse("accounts:edit", args=[account.pk]),
                form_data(name="Golden Labs Inc.", state="US-CA", industry_code="51"))
    account.refresh_from_db()
    assert account.name == "Golden Labs Inc." and AccountTerritory.objects.filter(account=account).count() == rows


# --- visible is not editable ----------------------------------------------------------------------


def _healthcare_in_the_east(world) -> Account:
    """An East account (another team's) that the manager sees through the overlay slot of their
    rep on the healthcare overlay."""
    from territories.grants import grants_rebuild
    from tests.factories import assign

    assign(world.t["overlay"], world.users["rep"], slot="overlay", split_percent=40)
    account = services.account_save(account=Account(name="Harbor Clinic", country="US", state="US-NY",
                                                    industry_code="622110"))
    grants_rebuild()
    return account


def test_an_account_seen_through_an_overlay_is_not_editable(client, world):
    account = _healthcare_in_the_east(world)
    client.force_login(world.users["manager"])
    assert client.get(reverse("accounts:detail", args=[account.pk])).status_code == 200
    assert reverse("accounts:edit", args=[account.pk]) not in client.get(
        reverse("accounts:detail", args=[account.pk])).content.decode()
    assert client.get(reverse("accounts:edit", args=[account.pk])).status_code == 404
    response = client.post(reverse("accounts:edit", args=[account.pk]),
                           form_data(name="Harbor Clinic", state="US-CA", industry_code="622110"))
    assert response.status_code == 404
    account.refresh_from_db()
    assert account.state == "US-NY" and placement(account).territory == world.t["east"]
    # Nor through the service itself.
    from django.core.exceptions import PermissionDenied

    account.state = "US-CA"
    with pytest.raises(PermissionDenied):
        services.account_edit(account=account, before={"state": "US-NY"}, by=world.users["manager"])
    account.refresh_from_db()
    assert account.state == "US-NY"


def test_a_manager_cannot_move_an_own_account_out_of_the_team(client, world):
    account = world.own
    client.force_login(world.users["manager"])
    response = client.post(reverse("accounts:edit", args=[account.pk]),
                           form_data(name="Moved away", state="US-NY", industry_code="51"))
    assert response.status_code == 422
    assert "outside the ones you manage" in response.content.decode()
    account.refresh_from_db()
    assert account.name == "Golden Labs" and account.state == "US-CA"
    assert placement(account).territory == world.t["west"]
    assert AccountTerritory.objects.filter(account=account).count() == 1
    # To the unassigned queue is out of scope too; inside the team is fine.
    response = client.post(reverse("accounts:edit", args=[account.pk]),
                           form_data(name="Golden Labs", country="DE", state="DE-BY", industry_code="51"))
    assert response.status_code == 422 and "unassigned queue" in response.content.decode()
    response = client.post(reverse("accounts:edit", args=[account.pk]),
                           form_data(name="Golden Labs", state="US-OR", industry_code="51"))
    assert response.status_code == 302
    assert placement(account).territory == world.t["west"]


def test_reps_see_no_edit_link(client, world):
    client.force_login(world.users["rep"])
    body = client.get(reverse("accounts:detail", args=[world.own.pk])).content.decode()
    assert reverse("accounts:edit", args=[world.own.pk]) not in body
    client.force_login(world.users["manager"])
    body = client.get(reverse("accounts:detail", args=[world.own.pk])).content.decode()
    assert reverse("accounts:edit", args=[world.own.pk]) in body


def test_a_manager_cannot_create_an_account_in_another_teams_territory(client, world):
    """Visible is not editable, for creating too: US-NY routes to the other team's East."""
    client.force_login(world.users["manager"])
    accounts, rows = Account.objects.count(), AccountTerritory.objects.count()
    response = client.post(reverse("accounts:new"), form_data(state="US-NY", industry_code="51"))
    assert response.status_code == 422
    body = response.content.decode()
    assert "would land in a territory outside the ones you manage. Nothing was saved" in body
    assert 'value="Kaiser Clinics"' in body  # the form keeps what was typed
    assert not Account.objects.filter(name="Kaiser Clinics").exists()
    assert Account.objects.count() == accounts and AccountTerritory.objects.count() == rows


def test_a_manager_cannot_create_an_account_in_the_queue(client, world):
    """As for edits, entering an account into the unassigned queue is left to admins."""
    client.force_login(world.users["manager"])
    rows = AccountTerritory.objects.count()
    response = client.post(reverse("accounts:new"), form_data(country="DE", state="DE-BY", industry_code=""))
    assert response.status_code == 422 and "would land in the unassigned queue" in response.content.decode()
    assert not Account.objects.filter(name="Kaiser Clinics").exists()
    assert AccountTerritory.objects.count() == rows


def test_a_manager_creates_an_account_in_their_own_territory(client, world):
    client.force_login(world.users["manager"])
    response = client.post(reverse("accounts:new"), form_data(state="US-OR", industry_code="51"))
    account = Account.objects.get(name="Kaiser Clinics")
    assert response.status_code == 302 and response["Location"] == reverse("accounts:detail", args=[account.pk])
    assert placement(account).territory == world.t["west"]


def test_a_director_creates_only_inside_the_subtree_they_lead(client, world):
    client.force_login(world.users["director"])
    # Healthcare in California routes to West-Healthcare: outside the US subtree, held by a rep who
    # does not report to the director.
    response = client.post(reverse("accounts:new"), form_data(name="Far East"))
    assert response.status_code == 422 and "outside the ones you manage" in response.content.decode()
    assert not Account.objects.filter(name="Far East").exists()
    assert client.post(reverse("accounts:new"), form_data(state="US-NY", industry_code="51")).status_code == 302
    assert placement(Account.objects.get(name="Kaiser Clinics")).territory == world.t["east"]


@pytest.mark.parametrize("where", [{"state": "US-NY", "industry_code": "51"}, {},
                                   {"country": "DE", "state": "DE-BY", "industry_code": ""}])
def test_an_admin_creates_an_account_anywhere(client, world, where):
    client.force_login(world.users["admin"])
    response = client.post(reverse("accounts:new"), form_data(**where))
    assert response.status_code == 302
    assert Account.objects.filter(name="Kaiser Clinics").exists()


def test_account_create_enforces_the_rule_in_the_service(world):
    from django.core.exceptions import PermissionDenied, ValidationError

    with pytest.raises(PermissionDenied):
        services.account_create(account=Account(name="Rep made", country="US", state="US-CA"), by=world.users["rep"])
    account = Account(name="Elsewhere", country="US", state="US-NY")
    with pytest.raises(ValidationError):
        services.account_create(account=account, by=world.users["manager"])
    assert not Account.objects.filter(name__in=["Rep made", "Elsewhere"]).exists()
    # Nothing stored, so the instance is still new: corrected, it is created.
    assert account.pk is None
    account.state = "US-CA"
    services.account_create(account=account, by=world.users["manager"])
    assert placement(account).territory == world.t["west"]


# --- validation ----------------------------------------------------------------------------------

BAD = {
    "name": ({"name": "  "}, "Give the account a name."),
    "country": ({"country": "XX"}, "“XX” is not a known country code"),
    "state": ({"state": "US-ZZ"}, "“US-ZZ” is not a known state or province of US"),
    "state_other_country": ({"state": "DE-BY"}, "“DE-BY” is not a subdivision of US."),
    "state_without_country": ({"country": "", "state": "US-CA"}, "Choose the country first"),
    "industry": ({"industry_code": "health"}, "neither a known industry code nor a NAICS code"),
    "employees": ({"employees": "-3"}, "Employees cannot be negative."),
    "employees_decimal": ({"employees": "2.5"}, "Enter a whole number."),
    "revenue": ({"annual_revenue": "-1"}, "Revenue cannot be negative."),
    "revenue_text": ({"annual_revenue": "lots"}, "Enter an amount"),
}


@pytest.mark.parametrize("case", BAD)
def test_bad_input_is_shown_beside_the_field_and_nothing_is_saved(client, world, case):
    overrides, message = BAD[case]
    client.force_login(world.users["admin"])
    count = Account.objects.count()
    response = client.post(reverse("accounts:new"), form_data(**overrides))
    assert response.status_code == 422
    body = response.content.decode()
    assert message in body and "is-invalid" in body and 'class="invalid-feedback d-block"' in body
    assert Account.objects.count() == count


def test_a_reference_industry_code_is_linked(client, world):
    client.force_login(world.users["admin"])
    client.post(reverse("accounts:new"), form_data(industry_code="62"))
    account = Account.objects.get(name="Kaiser Clinics")
    assert account.industry.code == "62" and account.industry_code == "62"


def test_detail_page_shows_deals_activities_and_overlays(client, world):
    from salesos.models import Activity
    from tests.factories import make_opportunity

    client.force_login(world.users["admin"])
    client.post(reverse("accounts:new"), form_data())
    account = Account.objects.get(name="Kaiser Clinics")
    make_opportunity(account, amount=50_000, name="Clinic rollout")
    Activity.objects.create(account=account, kind="call", subject="Intro call", user=world.users["rep"])
    body = client.get(reverse("accounts:detail", args=[account.pk])).content.decode()
    assert "Clinic rollout" in body and "Intro call" in body and "HC-OVL" in body and "40%" in body


@pytest.mark.parametrize("n", [1, 30])
def test_detail_page_queries_are_bounded(client, world, n, django_assert_max_num_queries):
    from salesos.models import Activity
    from tests.factories import make_opportunity

    for i in range(n):
        make_opportunity(world.own, amount=1000 + i, owner=world.users["rep"])
        Activity.objects.create(account=world.own, kind="email", user=world.users["rep"])
    client.force_login(world.users["manager"])
    # Territory and owner are read live (territories.placement): the active plan, the current primary
    # row, the territory's primary/backup assignments, who is on leave, the owner; whether the user
    # may edit it (the active plan, one query); which territories and people on the page the user
    # may open as links (the visible territories and their owners: five queries); the reassignments
    # in their transition window (one query: planning.reassignments.transition); the
    # reassignment panel (planning's tags): open transition windows (one), the active plan, the ownership rows and
    # their rep assignments (three), whether the user may propose a move on its territory (two).
    # (and one: the approvals badge)
    with django_assert_max_num_queries(30):
        assert client.get(reverse("accounts:detail", args=[world.own.pk])).status_code == 200
