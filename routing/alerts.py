"""Alerts when accounts arrive with no territory: admins get one in-app notification and one email
per batch, not one per record. The first unassigned arrival schedules a send a minute later; the
send covers every unassigned account created since the previous alert."""

from __future__ import annotations

import datetime as dt
import logging

from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from routing.models import Notification
from salesos.models import Account, SalesProfile
from territories import placement

User = get_user_model()
logger = logging.getLogger(__name__)
ALERT_DELAY = dt.timedelta(seconds=60)
SCHEDULE_NAME = "routing: unassigned accounts alert"
FIRST_LOOKBACK = dt.timedelta(days=1)


def unassigned_noted(*, account_ids: list[int]) -> None:
    """Called when accounts were routed to nobody. Schedules one batched alert after commit."""
    if account_ids:
        transaction.on_commit(_schedule_send)


def _schedule_send() -> None:
    from django_q.models import Schedule

    Schedule.objects.get_or_create(
        name=SCHEDULE_NAME,
        defaults={
            "func": "routing.tasks.unassigned_alert_send",
            "schedule_type": Schedule.ONCE,
            "repeats": -1,
            "next_run": timezone.now() + ALERT_DELAY,
        },
    )


def admins():
    return (
        User.objects.filter(is_active=True)
        .filter(Q(is_superuser=True) | Q(sales_profile__role=SalesProfile.Role.ADMIN))
        .distinct()
    )


@transaction.atomic
def unassigned_alert_send(*, now: dt.datetime | None = None) -> int:
    """Notifies every admin of the unassigned accounts created since the last alert. Returns the
    number of accounts reported (0: nothing sent)."""
    now = now or timezone.now()
    last = Notification.objects.filter(kind=Notification.Kind.UNASSIGNED).order_by("-created_at").first()
    since = last.created_at if last else now - FIRST_LOOKBACK
    new = placement.accounts_unassigned(qs=Account.objects.filter(created_at__gt=since, created_at__lte=now))
    count = new.count()
    if count == 0:
        return 0
    sample = list(new.order_by("-created_at").values_list("name", flat=True)[:10])
    title = f"{count:,} new account{'s' if count != 1 else ''} with no territory"
    body = "Newest: " + ", ".join(sample) + (" and more." if count > len(sample) else ".")
    url = reverse("routing:index")
    recipients = list(admins())
    Notification.objects.bulk_create(
        Notification(user=user, kind=Notification.Kind.UNASSIGNED, title=title, body=body, url=url, created_at=now)
        for user in recipients
    )
    emails = [u.email for u in recipients if u.email]
    if emails:
        try:
            send_mail(
                subject=f"[SalesOS] {title}",
                message=f"{body}\n\nRoute them from the unassigned queue: {url}",
                from_email=None,
                recipient_list=emails,
            )
        except OSError:
            # The in-app notification is already saved; a mail server outage must not undo it.
            logger.exception("Could not email the unassigned-accounts alert")
    return count
