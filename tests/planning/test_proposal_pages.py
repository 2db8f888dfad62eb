"""The proposal pages: the list, a proposal's page (change, impact snapshot, approval steps and
timeline), the mid-year changes log, the reassignment settings with the notice preview, and the
account's ownership history."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from planning.models import ApprovalTask, Reassignment, ReassignmentMove, ReassignmentSettings
from planning.reassignments.selectors import (
    account_owner_on,
    account_ownership_timeline,
    in_transition_for_account,
    mid_year_changes,
    mid_year_rows,
    reassignment_timeline,
)
from salesos.models import SalesProfile
from territories.grants import grants_rebuild
from territories.models import AccountTerritory
from tests import factories

pytestmark = pytest.mark.django_db
Role = SalesProfile.Role


@pytest.fixture
def org():
    plan = factories.make_plan(name="FY26")
    admin = factories.make_user(Role.ADMIN, username="p_admin")
    director = factories.make_user(Role.DIRECTOR, username="p_dir")
    west_mgr = factories.make_user(Role.MANAGER, username="p_west_mgr", manager=director)
    east_mgr = factories.make_user(Role.MANAGER, username="p_east_mgr", manager=director)
    west_rep = factories.make_user(Role.REP, username="p_west_rep", manager=west_mgr)
    east_rep = factories.make_user(Role.REP, username="p_east_rep", manager=east_mgr)
    west = factories.make_territory(plan, code="W-1", name="West One")
    east = factories.make_territory(plan, code="E-1", name="East One")
    factories.assign(west, west_rep, start_date=dt.date(2026, 2, 1))
    factories.assign(east, east_rep, start_date=dt.date(2026, 2, 1))
    grants_rebuild()
    return type("Org", (), dict(plan=plan, admin=admin, director=director, west_mgr=west_mgr, east_mgr=east_mgr,
                                west_rep=west_rep, east_rep=east_rep, west=west, east=east))


def _proposal(org, *, by=None, title="Move Acme west", **kw) -> Reassignment:
    return Reassignment.objects.create(
        plan=org.plan, kind=kw.pop("kind", Reassignment.Kind.MOVE_ACCOUNTS), title=title,
        change=kw.pop("change", {"accounts": [], "to_territory": org.west.pk}),
        effective_date=kw.pop("effective_date", dt.date(2026, 9, 1)), initiator=by or org.west_mgr, **kw,
    )


def test_the_list_shows_my_proposals_and_not_someone_elses(client, org):
    _proposal(org, title="Mine to the west")
    _proposal(org, by=org.east_mgr, title="Their east change")
    client.force_login(org.west_mgr)
    body = client.get(reverse("planning:proposals")).content.decode()
    assert "Mine to the west" in body and "Their east change" not in body


def test_the_list_filters_by_status_and_says_so_when_nothing_matches(client, org):
    _proposal(org, title="Still a draft")
    client.force_login(org.west_mgr)
    body = client.get(reverse("planning:proposals"), {"status": "submitted"}).content.decode()
    assert "Still a draft" not in body and "No proposal matches these filters" in body
    body = client.get(reverse("planning:proposals"), {"status": "draft"}).content.decode()
    assert "Still a draft" in body


def test_an_unknown_filter_value_is_ignored_not_an_error(client, org):
    client.force_login(org.west_mgr)
    assert client.get(reverse("planning:proposals"), {"status": "nonsense", "scope": "x"}).status_code == 200


def test_the_timeline_has_every_transition_and_decision_in_order(org):
    r = _proposal(org)
    r.submit(by=org.west_mgr, description="Balance the book")
    r.save()
    t0 = timezone.now()
    ApprovalTask.objects.create(reassignment=r, round=1, step_order=1, step_name="Managers", mode="all",
                                approver=org.east_mgr, status=ApprovalTask.Status.APPROVED, comment="Fine by me",
                                decided_at=t0 + dt.timedelta(minutes=1))
    ApprovalTask.objects.create(reassignment=r, round=1, step_order=1, step_name="Managers", mode="all",
                                approver=org.director, status=ApprovalTask.Status.WAITING)
    labels = [(e.what, e.who, e.comment) for e in reassignment_timeline(r)[0]]
    assert labels[0] == ("Drafted", org.west_mgr, "")
    assert labels[1] == ("Submitted for approval", org.west_mgr, "Balance the book")
    assert labels[2] == ("Approved (Managers)", org.east_mgr, "Fine by me")
    assert len(labels) == 3  # the waiting task has not decided anything


def test_the_proposal_page_shows_the_change_snapshot_steps_and_timeline(client, org):
    acc = factories.make_account(name="Acme West", territory=org.east)
    r = _proposal(org, change={"accounts": [acc.pk], "to_territory": org.west.pk})
    r.submit(by=org.west_mgr, description="")
    r.impact = {
        "kind": "move_accounts", "accounts": 1,
        "pairs": [{"from": {"id": org.east.pk, "code": "E-1", "name": "East One"},
                   "to": {"id": org.west.pk, "code": "W-1", "name": "West One"}, "accounts": 1}],
        "deals": {"count": 2, "amount": "30000.00", "moving": 1, "moving_amount": "10000.00", "staying": 1,
                  "by_stage": [{"stage": "qualify", "label": "Qualify", "count": 1, "amount": "10000.00",
                                "moving": 1, "moving_amount": "10000.00"}]},
        "activities": {"pending": 3, "moving": 2}, "territories": [], "reps": [],
    }
    r.save()
    ApprovalTask.objects.create(reassignment=r, round=1, step_order=1, step_name="Both managers", mode="all",
                                approver=org.east_mgr)
    Reassignment.objects.filter(pk=r.pk).update(round=1)
    client.force_login(org.west_mgr)
    body = client.get(reverse("planning:proposal", args=[r.pk])).content.decode()
    assert "West One" in body and "Awaiting approval" in body
    assert "E-1" in body and "$30,000" in body and "Both managers" in body and "p_east_mgr" in body
    assert "Submitted for approval" in body


def test_someone_elses_proposal_and_a_missing_one_answer_404(client, org):
    r = _proposal(org, by=org.east_mgr)
    client.force_login(org.west_rep)
    assert client.get(reverse("planning:proposal", args=[r.pk])).status_code == 404
    assert client.get(reverse("planning:proposal", args=[987654])).status_code == 404


def test_a_stale_proposal_shows_what_changed(client, org):
    r = _proposal(org)
    r.submit(by=org.west_mgr)
    r.mark_stale(description="Accounts changed")
    r.stale_difference = {"accounts_changed": [1, 2]}
    r.save()
    client.force_login(org.west_mgr)
    body = client.get(reverse("planning:proposal", args=[r.pk])).content.decode()
    assert "What this proposal covers changed" in body and "Accounts_changed" in body


# --- settings ----------------------------------------------------------------------------------


def _settings_post(**overrides) -> dict:
    data = {
        "admin_rule_edits": "propose", "deal_policy": "stage_based", "deal_stage": "negotiation",
        "transition_days": "14", "reminder_days": "2", "escalation_days": "5",
        "notice_subject": "Changes at {{ company }}", "notice_body": "Dear {{ contact_name }}, meet {{ new_owner }}.",
    }
    data.update(overrides)
    return data


def test_only_admins_open_the_settings(client, org):
    for user, expected in ((org.admin, 200), (org.director, 404), (org.west_mgr, 404), (org.west_rep, 404)):
        client.force_login(user)
        assert client.get(reverse("planning:proposal_settings")).status_code == expected


def test_settings_are_saved(client, org):
    client.force_login(org.admin)
    response = client.post(reverse("planning:proposal_settings_save"), _settings_post())
    assert response.status_code == 302
    s = ReassignmentSettings.load()
    assert (s.admin_rule_edits, s.deal_policy, s.deal_stage, s.transition_days) == (
        "propose", "stage_based", "negotiation", 14)


@pytest.mark.parametrize(
    "field,value,message",
    [
        ("notice_body", "Dear {% if %}", "does not render"),
        ("notice_subject", "{% include 'nowhere.html' %}", "does not render"),
        ("escalation_days", "1", "Escalate after the reminder"),
        ("transition_days", "400", "less than or equal to 365"),
        ("deal_policy", "whatever", "Select a valid choice"),
    ],
)
def test_bad_settings_are_refused_with_a_message_and_change_nothing(client, org, field, value, message):
    before = ReassignmentSettings.load()
    client.force_login(org.admin)
    response = client.post(reverse("planning:proposal_settings_save"), _settings_post(**{field: value}))
    assert response.status_code == 400 and message in response.content.decode()
    after = ReassignmentSettings.load()
    assert (after.deal_policy, after.notice_body, after.escalation_days) == (
        before.deal_policy, before.notice_body, before.escalation_days)


def test_the_notice_preview_renders_the_unsaved_template(client, org):
    client.force_login(org.admin)
    response = client.post(reverse("planning:proposal_settings_preview"),
                           {"notice_subject": "Hello {{ account }}", "notice_body": "From {{ new_owner }} <b>"},
                           HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert "Hello Acme Robotics" in body and "From Priya Natarajan &lt;b&gt;" in body  # text, shown escaped
    broken = client.post(reverse("planning:proposal_settings_preview"), {"notice_body": "{{ x|nope }}"}).content
    assert b"does not render" in broken
    client.force_login(org.west_mgr)
    assert client.post(reverse("planning:proposal_settings_preview"), {}).status_code == 404


# --- history -----------------------------------------------------------------------------------


def test_the_ownership_timeline_answers_who_owned_the_account_on_a_date(org):
    acc = factories.make_account(name="Globex")
    tz = timezone.get_current_timezone()
    AccountTerritory.objects.create(account=acc, territory=org.east, plan=org.plan, is_primary=True,
                                    valid_from=dt.datetime(2026, 2, 1, tzinfo=tz),
                                    valid_to=dt.datetime(2026, 6, 1, tzinfo=tz))
    AccountTerritory.objects.create(account=acc, territory=org.west, plan=org.plan, is_primary=True,
                                    valid_from=dt.datetime(2026, 6, 1, tzinfo=tz))
    spans = account_ownership_timeline(acc, org.admin)
    assert [(s.territory.code, [o[0] for o in s.owners]) for s in spans] == [
        ("W-1", [org.west_rep]), ("E-1", [org.east_rep])]
    assert account_owner_on(acc, dt.date(2026, 5, 31)) == org.east_rep
    assert account_owner_on(acc, dt.date(2026, 6, 1)) == org.west_rep
    assert account_owner_on(acc, dt.date(2025, 1, 1)) is None


def test_an_account_in_a_transition_window_names_both_owners_and_the_end(client, org):
    acc = factories.make_account(name="Initech", territory=org.west)
    r = _proposal(org, change={"accounts": [acc.pk], "to_territory": org.west.pk}, transition_days=10,
                  effective_date=dt.date(2026, 9, 1))
    ReassignmentMove.objects.create(reassignment=r, account=acc, from_territory=org.east, to_territory=org.west)
    Reassignment.objects.filter(pk=r.pk).update(status=Reassignment.Status.IN_TRANSITION,
                                                transition_ends=dt.date(2026, 9, 10))
    assert in_transition_for_account(acc, dt.date(2026, 9, 5)) == (org.east_rep, org.west_rep, dt.date(2026, 9, 10))
    # "until Sep 10": the 10th is the window's last day, included; the 11th is outside it.
    assert in_transition_for_account(acc, dt.date(2026, 9, 10)) is not None
    assert in_transition_for_account(acc, dt.date(2026, 9, 11)) is None
    client.force_login(org.west_mgr)
    with time_machine.travel(dt.datetime(2026, 9, 5, 12, tzinfo=dt.UTC)):
        body = client.get(reverse("accounts:detail", args=[acc.pk])).content.decode()
    assert "In transition from" in body and "P_east_rep Tester" in body and "Sep 10, 2026" in body


def test_mid_year_changes_lists_executed_proposals_by_date_and_territory(client, org):
    done = _proposal(org, by=org.admin, title="Executed west move", effective_date=dt.date(2026, 7, 1))
    acc = factories.make_account(name="Umbrella", territory=org.west)
    ReassignmentMove.objects.create(reassignment=done, account=acc, from_territory=org.east, to_territory=org.west)
    Reassignment.objects.filter(pk=done.pk).update(status=Reassignment.Status.DONE)
    pending = _proposal(org, by=org.admin, title="Only a draft")
    assert list(mid_year_changes(org.plan, org.admin)) == [done]
    assert list(mid_year_changes(org.plan, org.admin, date_from=dt.date(2026, 8, 1))) == []
    rows = mid_year_rows(mid_year_changes(org.plan, org.admin, territory=org.east))
    assert [(r.moved_accounts, [t.code for t in r.territories]) for r in rows] == [(1, ["E-1", "W-1"])]
    client.force_login(org.admin)
    body = client.get(reverse("planning:changes"), {"territory": org.west.pk}).content.decode()
    assert "Executed west move" in body and pending.title not in body
    bad = client.get(reverse("planning:changes"), {"date_from": "2026-09-01", "date_to": "2026-01-01"})
    assert bad.status_code == 400 and "before the start date" in bad.content.decode()


def test_only_the_initiator_submits_and_withdraws_and_a_refusal_says_why(client, org):
    r = _proposal(org, by=org.west_mgr)
    client.force_login(org.director)  # sees the team's proposal, may not act on it
    client.post(reverse("planning:proposal_withdraw", args=[r.pk]))
    assert Reassignment.objects.get(pk=r.pk).status == Reassignment.Status.DRAFT
    client.force_login(org.west_mgr)
    response = client.post(reverse("planning:proposal_withdraw", args=[r.pk]), follow=True)
    assert Reassignment.objects.get(pk=r.pk).status == Reassignment.Status.WITHDRAWN
    assert "Withdrawn" in response.content.decode()
    again = client.post(reverse("planning:proposal_submit", args=[r.pk]), follow=True)
    assert Reassignment.objects.get(pk=r.pk).status == Reassignment.Status.WITHDRAWN
    assert "alert-danger" in again.content.decode()
