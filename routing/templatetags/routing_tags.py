"""Template tags for routing: the navbar's notification bell.

The unread count costs one small indexed query (``user, read_at``) per page, and none when a
view has already counted (the count is remembered on the request)."""

from __future__ import annotations

from django import template
from django.http import HttpRequest

from routing.models import Notification

register = template.Library()

_ATTR = "_unread_notifications"


def remember_unread_count(request: HttpRequest, count: int | None) -> None:
    """Views that change the count set it (or clear it with None) for the rest of the request."""
    if count is None:
        request.__dict__.pop(_ATTR, None)
    else:
        setattr(request, _ATTR, count)


def unread_count(request: HttpRequest | None) -> int:
    if request is None:
        return 0
    cached = getattr(request, _ATTR, None)
    if cached is not None:
        return cached
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return 0
    count = Notification.objects.filter(user=user, read_at__isnull=True).count()
    setattr(request, _ATTR, count)
    return count


@register.simple_tag(takes_context=True)
def unread_notification_count(context) -> int:
    return unread_count(context.get("request"))


@register.inclusion_tag("routing/notifications.html#bell", takes_context=True)
def notification_bell(context, oob: bool = False) -> dict:
    return {"unread": unread_count(context.get("request")), "oob": oob}
