"""The notifications page and the navbar bell: own notifications only, unread first, marking
read (plain POST and htmx), another user's notification is a 404, one query for the bell."""

import datetime as dt

import pytest
from django.utils import timezone

from routing.models import Notification
from tests.factories import make_user

pytestmark = pytest.mark.django_db

PAGE = "/routing/notifications/"
HTMX = {"HTTP_HX_REQUEST": "true"}


def note(user, title, *, minutes_ago=0, read=False, **kw):
    at = timezone.now() - dt.timedelta(minutes=minutes_ago)
    return Notification.objects.create(user=user, title=title, created_at=at, read_at=at if read else None, **kw)


@pytest.fixture
def alice(client):
    user = make_user("admin", username="alice")
    client.force_login(user)
    return user


def test_login_required(client):
    response = client.get(PAGE)
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_user_sees_only_their_own_notifications_unread_first(client, alice):
    bob = make_user(username="bob")
    note(alice, "Old unread", minutes_ago=50)
    note(alice, "Newest but read", minutes_ago=1, read=True)
    note(alice, "New unread", minutes_ago=5, url="/routing/")
    note(bob, "Bob's secret")
    response = client.get(PAGE)
    page = response.content.decode()
    assert response.status_code == 200
    assert "Bob&#x27;s secret" not in page and "Bob's secret" not in page
    order = [page.index(t) for t in ("New unread", "Old unread", "Newest but read")]
    assert order == sorted(order)
    assert 'href="/routing/"' in page  # the notification links to its url
    assert "2 unread" in page


def test_bell_shows_the_unread_count_on_every_page(client, alice):
    for i in range(3):
        note(alice, f"n{i}")
    note(alice, "read", read=True)
    note(make_user(), "someone else's")
    page = client.get("/").content.decode()
    assert 'id="notification-bell"' in page and 'data-unread="3"' in page
    assert "Notifications: 3 unread" in page


def test_bell_without_unread_has_no_badge(client, alice):
    page = client.get("/").content.decode()
    assert 'id="notification-bell"' in page and "data-unread" not in page


def test_bell_costs_one_query(client, alice, django_assert_num_queries, rf):
    from django.template import Context, Template

    note(alice, "one")
    request = rf.get("/")
    request.user = alice
    template = Template("{% load routing_tags %}{% notification_bell %}{% unread_notification_count %}")
    with django_assert_num_queries(1):
        html = template.render(Context({"request": request}))
    assert 'data-unread="1"' in html and html.strip().endswith("1")


def test_marking_one_read(client, alice):
    mine = note(alice, "Mine")
    other = note(alice, "Other")
    response = client.post(f"{PAGE}{mine.pk}/read/")
    assert response.status_code == 302 and response["Location"] == PAGE
    mine.refresh_from_db()
    other.refresh_from_db()
    assert mine.read_at is not None and other.read_at is None
    # Marking again keeps the first time.
    first = mine.read_at
    client.post(f"{PAGE}{mine.pk}/read/")
    mine.refresh_from_db()
    assert mine.read_at == first


def test_marking_read_with_htmx_swaps_the_item_and_the_bell(client, alice):
    mine = note(alice, "Mine")
    note(alice, "Still unread")
    response = client.post(f"{PAGE}{mine.pk}/read/", **HTMX)
    html = response.content.decode()
    assert response.status_code == 200
    assert f'id="notification-{mine.pk}"' in html and 'data-read="1"' in html and "Mark read" not in html
    assert 'hx-swap-oob="true"' in html and 'data-unread="1"' in html
    assert 'id="notification-summary"' in html and "1 unread" in html
    assert "<html" not in html


def test_mark_all_read(client, alice):
    bob = make_user()
    for i in range(3):
        note(alice, f"n{i}")
    bobs = note(bob, "Bob's")
    response = client.post(f"{PAGE}read-all/", **HTMX)
    html = response.content.decode()
    assert response.status_code == 200 and 'id="notification-list"' in html
    assert "Mark all read" not in html and "data-unread" not in html and 'hx-swap-oob="true"' in html
    assert not Notification.objects.filter(user=alice, read_at__isnull=True).exists()
    bobs.refresh_from_db()
    assert bobs.read_at is None
    assert client.post(f"{PAGE}read-all/").status_code == 302


def test_another_users_notification_is_404(client, alice):
    theirs = note(make_user(username="bob"), "Bob's")
    assert client.post(f"{PAGE}{theirs.pk}/read/").status_code == 404
    assert client.post(f"{PAGE}999999/read/").status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_marking_read_needs_post(client, alice):
    mine = note(alice, "Mine")
    assert client.get(f"{PAGE}{mine.pk}/read/").status_code == 405
    assert client.get(f"{PAGE}read-all/").status_code == 405


def test_empty_state(client, alice):
    page = client.get(PAGE).content.decode()
    assert "No notifications" in page and "Mark all read" not in page


def test_external_urls_are_not_rendered_as_links(client, alice):
    note(alice, "Phish", url="https://evil.example/steal")
    note(alice, "Script", url="javascript:alert(1)")
    page = client.get(PAGE).content.decode()
    assert "evil.example" not in page and "javascript:" not in page


def test_page_is_paginated_with_bounded_queries(client, alice, django_assert_max_num_queries):
    Notification.objects.bulk_create(Notification(user=alice, title=f"n{i}") for i in range(60))
    with django_assert_max_num_queries(8):
        response = client.get(PAGE)
    assert response.status_code == 200 and "Page 1 of 3" in response.content.decode()
    partial = client.get(PAGE + "?page=2", **HTMX).content.decode()
    assert partial.startswith('\n<section id="notification-list"') or 'id="notification-list"' in partial
    assert "<html" not in partial
