"""The load test's database side (``manage.py load_support``): its users start signed in as the
role they simulate, and the check after the run catches a re-route that left accounts misplaced."""

from __future__ import annotations

import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from planning import loadrun
from routing import batch, services
from routing.models import IntegrationToken, RoutingJob
from territories.models import AccountTerritory
from tests.factories import assign, make_account, make_plan, make_territory, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_compiled_plans():
    services._indexes.clear()
    yield
    services._indexes.clear()


@pytest.fixture
def org():
    plan = make_plan()
    us = make_territory(plan, code="US", rule={"field": "country", "op": "eq", "value": "US"})
    west = make_territory(plan, code="US-W", parent=us, rule={"field": "state", "op": "in", "value": ["US-CA"]})
    east = make_territory(plan, code="US-E", parent=us, rule={"field": "state", "op": "in", "value": ["US-NY"]})
    manager = make_user("manager", username="mgr")
    reps = [make_user("rep", username=f"rep{i}", manager=manager) for i in range(2)]
    make_user("admin", username="ops")
    assign(west, reps[0])
    assign(east, reps[1])
    for state in ("US-CA", "US-CA", "US-NY", "US-TX"):
        make_account(state=state, employees=100)
    batch.plan_reroute(plan=plan)
    return plan


def test_prepare_gives_each_simulated_user_a_session_of_its_role(client, org, tmp_path):
    out = tmp_path / "fixture.json"
    call_command("load_support", "prepare", "--out", str(out), "--reps", "3", "--managers", "1", "--admins", "2")
    fixture = json.loads(out.read_text())
    assert [u for u, _ in fixture["reps"]] == ["rep0", "rep1", "rep0"]  # cycles when there are fewer reps
    assert [u for u, _ in fixture["managers"]] == ["mgr"] and [u for u, _ in fixture["admins"]] == ["ops", "ops"]
    assert len({key for _, key in fixture["reps"] + fixture["admins"]}) == 5
    client.cookies[fixture["session_cookie"]] = fixture["reps"][1][1]
    home = client.get(reverse("home"))
    assert home.status_code == 200 and home.wsgi_request.user.username == "rep1"
    client.cookies[fixture["session_cookie"]] = fixture["admins"][0][1]
    assert client.get(reverse("routing:jobs")).status_code == 200  # admins only
    # Admins edit leaf territories with a primary, one each; the key is a live integration key.
    assert set(fixture["admin_territories"]) == set(org.territories.filter(code__in=["US-W", "US-E"]).values_list(
        "pk", flat=True))
    token = IntegrationToken.objects.get(name=loadrun.TOKEN_NAME)
    assert token.key_hash == IntegrationToken.hash_key(fixture["api_key"]) and token.revoked_at is None
    assert {r["state"] for r in fixture["api_records"]} <= {"US-CA", "US-NY", "US-TX"}
    with pytest.raises(CommandError, match="holds 4 accounts, not 5"):  # the run wants its own demo size
        call_command("load_support", "prepare", "--out", str(out), "--accounts", "5")


def test_verify_passes_a_correct_reroute_and_fails_a_misplaced_account(org, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        job = loadrun.reroute_start()
    figures = loadrun.reroute_verify(job_id=job.pk, wait_s=0, sample=10)
    assert figures["job_status"] == "done" and figures["ok"] is True
    assert figures["dry_run_accounts"] == 4 and figures["dry_run_would_change"] == 0
    assert figures["verify_checked"] == 4 and figures["verify_mismatches"] == 0

    # One account's current row now points at the wrong territory: the check must say so.
    row = AccountTerritory.objects.filter(plan=org, is_primary=True, valid_to__isnull=True,
                                          territory__code="US-W").first()
    row.territory = org.territories.get(code="US-E")
    row.save()
    bad = loadrun.reroute_verify(job_id=job.pk, wait_s=0, sample=10)
    assert bad["ok"] is False and bad["dry_run_would_change"] == 1 and bad["verify_mismatches"] == 1
    with pytest.raises(CommandError, match="did not end correctly"):
        call_command("load_support", "verify", "--job", str(job.pk), "--wait", "0", "--sample", "10")


def test_verify_fails_a_job_that_did_not_finish(org):
    job = RoutingJob.objects.create(plan=org, scope="full", status="failed", error="boom")
    figures = loadrun.reroute_verify(job_id=job.pk, wait_s=0)
    assert figures["ok"] is False and figures["job_status"] == "failed" and "dry_run_would_change" not in figures
