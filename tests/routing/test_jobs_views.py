"""Re-route job pages: admins start jobs and watch them; everyone else gets a 404."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from routing import services
from routing.models import RoutingJob, RoutingJobShard
from salesos.models import Account
from territories import placement
from tests.factories import make_account, make_plan, make_territory, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_compiled_plans():
    services._indexes.clear()
    yield
    services._indexes.clear()


@pytest.fixture
def plan():
    plan = make_plan()
    us = make_territory(plan, code="US", rule={"field": "country", "op": "eq", "value": "US"})
    make_territory(plan, code="US-CA", parent=us, rule={"field": "state", "op": "eq", "value": "US-CA"})
    make_territory(plan, code="US-NY", parent=us, rule={"field": "state", "op": "eq", "value": "US-NY"})
    for state in ("US-CA", "US-CA", "US-NY", "US-TX"):
        make_account(state=state)  # created straight, not routed: a re-route has work to do
    return plan


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


def start(client, django_capture_on_commit_callbacks, **data):
    with django_capture_on_commit_callbacks(execute=True):
        return client.post(reverse("routing:job_start"), {"scope": "full", **data})


def test_admin_starts_a_dry_run_and_sees_the_diff(admin_client, plan, django_capture_on_commit_callbacks):
    page = admin_client.get(reverse("routing:jobs"))
    assert page.status_code == 200 and b"Start a re-route" in page.content
    response = start(admin_client, django_capture_on_commit_callbacks, dry_run="on")
    job = RoutingJob.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("routing:job", args=[job.pk])
    assert job.dry_run and job.status == "done" and job.processed == job.total == 4
    assert not placement.accounts_assigned().exists()  # nothing written
    detail = admin_client.get(response["Location"])
    html = detail.content.decode()
    assert detail.status_code == 200
    assert 'hx-trigger="every 1s"' not in html  # done: no more polling
    assert "US-CA" in html and "US-NY" in html and f'href="/accounts/{Account.objects.first().pk}/"' in html
    assert 'data-kpi="moved">4<' in html and 'data-kpi="newly-assigned">4<' in html  # TX rolls up to US
    listing = admin_client.get(reverse("routing:jobs")).content.decode()
    assert f"#{job.pk} Every account" in listing and "Dry run" in listing


def test_a_real_run_writes_and_the_job_page_says_so(admin_client, plan, django_capture_on_commit_callbacks):
    start(admin_client, django_capture_on_commit_callbacks)
    job = RoutingJob.objects.get()
    assert not job.dry_run and job.status == "done" and job.changed == 4
    ca = plan.territories.get(code="US-CA")
    assert placement.accounts_in([ca.pk]).count() == 2


def test_running_job_polls_its_progress_fragment(admin_client, plan):
    job = RoutingJob.objects.create(plan=plan, status="running", total=200, processed=50)
    url = reverse("routing:job", args=[job.pk])
    html = admin_client.get(url).content.decode()
    assert f'hx-get="{url}"' in html and 'hx-trigger="every 1s"' in html and "25%" in html
    fragment = admin_client.get(url, headers={"HX-Request": "true"}).content.decode()
    assert fragment.lstrip().startswith('<div id="job-progress"') and "<html" not in fragment
    assert 'hx-trigger="every 1s"' in fragment
    RoutingJob.objects.filter(pk=job.pk).update(status="done", processed=200, result={"counts": {"moved": 0}})
    fragment = admin_client.get(url, headers={"HX-Request": "true"}).content.decode()
    assert "hx-trigger" not in fragment and "100%" in fragment


def test_failed_job_shows_its_error(admin_client, admin_user, plan):
    job = RoutingJob.objects.create(plan=plan, status="failed", error="OperationalError: gone", created_by=admin_user)
    html = admin_client.get(reverse("routing:job", args=[job.pk])).content.decode()
    assert "The job failed" in html and "OperationalError: gone" in html
    assert "bi-x-octagon" in html and "bg-danger" in html  # the failed badge and a red bar
    listed = admin_client.get(reverse("routing:jobs")).content.decode()
    assert "bi-x-octagon" in listed and "bg-danger" in listed
    RoutingJob.objects.filter(pk=job.pk).update(status="done")
    html = admin_client.get(reverse("routing:job", args=[job.pk])).content.decode()
    assert "bg-danger" not in html and "bi-x-octagon" not in html and "bi-check2" in html


def test_a_sharded_job_shows_each_shard_while_it_runs(admin_client, plan):
    job = RoutingJob.objects.create(plan=plan, status="running", total=300, processed=100)
    RoutingJobShard.objects.create(job=job, number=1, first_id=1, before_id=101, status="done", attempts=1,
                                   total=100, changed=7, seconds=2.4)
    RoutingJobShard.objects.create(job=job, number=2, first_id=101, before_id=201, status="running", attempts=2,
                                   error="", started_at=timezone.now())
    RoutingJobShard.objects.create(job=job, number=3, first_id=201, status="failed", attempts=1,
                                   error="Lost: attempt 1 gave no answer for 900 s (its worker stopped?).")
    url = reverse("routing:job", args=[job.pk])
    fragment = admin_client.get(url, headers={"HX-Request": "true"}).content.decode()  # the polled part has them
    rows = {n: fragment.split(f'data-shard="{n}"')[1].split("</tr>")[0] for n in (1, 2, 3)}
    assert "101" in fragment and "Shards" in fragment
    assert "bi-check2" in rows[1] and ">100<" in rows[1] and ">7<" in rows[1] and "2.4 s" in rows[1]
    assert "bi-arrow-repeat" in rows[2] and ">2<" in rows[2] and "started" in rows[2]
    assert "bi-x-octagon" in rows[3] and "the last" in rows[3] and "gave no answer for 900 s" in rows[3]
    single = RoutingJob.objects.create(plan=plan, status="running", total=10)
    assert "data-shards" not in admin_client.get(reverse("routing:job", args=[single.pk])).content.decode()


@pytest.mark.parametrize("role", ["rep", "manager", "director"])
def test_other_roles_get_404_everywhere(client, plan, role, django_capture_on_commit_callbacks):
    client.force_login(make_user(role))
    job = RoutingJob.objects.create(plan=plan)
    assert client.get(reverse("routing:jobs")).status_code == 404
    assert client.get(reverse("routing:job", args=[job.pk])).status_code == 404
    assert start(client, django_capture_on_commit_callbacks).status_code == 404
    assert RoutingJob.objects.count() == 1


def test_anonymous_is_sent_to_login(client, plan):
    response = client.get(reverse("routing:jobs"))
    assert response.status_code == 302 and "login" in response["Location"]


def test_missing_job_is_404(admin_client, plan):
    assert admin_client.get(reverse("routing:job", args=[999999])).status_code == 404


@pytest.mark.parametrize(
    "data, message",
    [
        ({"scope": "everything"}, "Select a valid choice"),
        ({"scope": "territories", "territories": ["NOPE"]}, "NOPE is not a territory of the active plan."),
        ({"scope": "territories", "territories": ["99"]}, "99 is not a territory of the active plan."),
        ({"scope": "accounts", "ids": "-3"}, "whole numbers"),
        ({"scope": "accounts", "ids": "1e5"}, "whole numbers"),
        ({"scope": "territories", "ids": "12"}, "Pick at least one territory for this scope."),
        ({"scope": "accounts", "ids": ""}, "Give at least one account id for this scope."),
        ({"scope": "accounts", "ids": "99999999999999999999999"}, "whole numbers"),
    ],
)
def test_bad_input_is_a_form_error_not_a_crash(admin_client, plan, data, message):
    response = admin_client.post(reverse("routing:job_start"), data)
    assert response.status_code == 400 and message in response.content.decode()
    assert not RoutingJob.objects.exists()


def test_no_active_plan_is_a_form_error(admin_client):
    make_plan(status="draft")
    response = admin_client.post(reverse("routing:job_start"), {"scope": "full"})
    assert response.status_code == 400 and "no active plan" in response.content.decode()


def test_start_requires_post_and_csrf(admin_user, plan):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(admin_user)
    assert strict.get(reverse("routing:job_start")).status_code == 405
    assert strict.post(reverse("routing:job_start"), {"scope": "full"}).status_code == 403
    assert not RoutingJob.objects.exists()


def test_territory_scope_from_the_form(admin_client, plan, django_capture_on_commit_callbacks):
    ca = plan.territories.get(code="US-CA")
    start(admin_client, django_capture_on_commit_callbacks, scope="territories", territories=["US-CA"])
    job = RoutingJob.objects.get()
    assert job.params == {"territory_ids": [ca.pk]} and job.status == "done"
    assert job.total == 2  # the Californian accounts: what the rule with its ancestors can match


def test_job_duration_reads_in_seconds_or_minutes():
    import datetime as dt

    from django.utils import timezone

    from routing.models import RoutingJob

    start = timezone.now()
    job = RoutingJob(started_at=start, finished_at=start + dt.timedelta(seconds=4.24))
    assert job.duration_text == "4.2 s"
    job.finished_at = start + dt.timedelta(seconds=190)
    assert job.duration_text == "3 min 10 s"
    assert RoutingJob().duration_text == ""


def test_territories_are_picked_by_code_and_name(admin_client, plan, django_capture_on_commit_callbacks):
    page = admin_client.get(reverse("routing:jobs")).content.decode()
    ca, ny = plan.territories.get(code="US-CA"), plan.territories.get(code="US-NY")
    assert f'<option value="US-CA">US-CA {ca.name}</option>' in page
    draft = make_plan(name="Draft", status="draft")
    make_territory(draft, code="DRAFT-ONLY")
    assert "DRAFT-ONLY" not in page  # only the active plan's territories
    with django_capture_on_commit_callbacks(execute=False):
        response = admin_client.post(reverse("routing:job_start"),
                                     {"scope": "territories", "territories": ["US-NY", "US-CA"], "dry_run": "on"})
    assert response.status_code == 302
    job = RoutingJob.objects.get()
    assert sorted(job.params["territory_ids"]) == sorted([ca.pk, ny.pk])
    shown = admin_client.get(reverse("routing:job", args=[job.pk])).content.decode()
    assert "US-CA</a>" in shown and "US-NY</a>" in shown
    wrong_plan = admin_client.post(reverse("routing:job_start"),
                                   {"scope": "territories", "territories": ["DRAFT-ONLY"]})
    assert wrong_plan.status_code == 400 and RoutingJob.objects.count() == 1
