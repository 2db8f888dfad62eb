"""The in-app notifications page: a user's own notifications, unread first; mark one or all read
(POST; htmx swaps the item or the list and refreshes the navbar bell out of band)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Case, IntegerField, QuerySet, Value, When
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from routing.models import Notification
from routing.templatetags.routing_tags import remember_unread_count, unread_count
from salesos.http import HtmxHttpRequest

PAGE_SIZE = 25


# Writes kept beside the page they serve: each is one UPDATE scoped to the user.
def notification_mark_read(*, user, notification: Notification) -> Notification:
    if notification.read_at is None:
        notification.read_at = timezone.now()
        Notification.objects.filter(pk=notification.pk, user=user, read_at__isnull=True).update(
            read_at=notification.read_at
        )
    return notification


def notifications_mark_all_read(*, user) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).update(read_at=timezone.now())


def notifications_for(user) -> QuerySet[Notification]:
    return (
        Notification.objects.filter(user=user)
        .annotate(unread=Case(When(read_at__isnull=True, then=Value(0)), default=Value(1), output_field=IntegerField()))
        .order_by("unread", "-created_at", "-id")
    )


def _with_links(request: HttpRequest, notifications) -> list[Notification]:
    """Only links inside this site are rendered as links (a stored url is still data)."""
    items = list(notifications)
    for item in items:
        safe = item.url and url_has_allowed_host_and_scheme(
            item.url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        )
        item.link = item.url if safe else ""  # type: ignore[attr-defined]
    return items


def _list_context(request: HttpRequest) -> dict:
    page = Paginator(notifications_for(request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    page.object_list = _with_links(request, page.object_list)
    return {"page": page, "unread": unread_count(request)}


@require_GET
@login_required
def notification_list(request: HtmxHttpRequest) -> HttpResponse:
    template = "routing/notifications.html#list" if request.htmx else "routing/notifications.html"
    return render(request, template, _list_context(request))


@require_POST
@login_required
def notification_read(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    # Another user's notification is "not found", the same as a missing one.
    notification = get_object_or_404(Notification, pk=pk, user=request.user)
    notification_mark_read(user=request.user, notification=notification)
    if not request.htmx:
        return redirect("routing:notifications")
    _with_links(request, [notification])
    remember_unread_count(request, None)
    return render(request, "routing/notifications.html#read-item",
                  {"notification": notification, "unread": unread_count(request)})


@require_POST
@login_required
def notifications_read_all(request: HtmxHttpRequest) -> HttpResponse:
    notifications_mark_all_read(user=request.user)
    if not request.htmx:
        return redirect("routing:notifications")
    remember_unread_count(request, 0)
    return render(request, "routing/notifications.html#read-list", _list_context(request))
