"""Background tasks (django-q2). Each takes ids or nothing and calls one service."""

from routing import alerts


def unassigned_alert_send() -> int:
    return alerts.unassigned_alert_send()
