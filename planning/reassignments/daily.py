"""The daily run (a django-q2 schedule): due proposals execute, ended transition windows close,
due customer notices go out."""

from __future__ import annotations

import datetime as dt
import logging

from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from planning.models import CustomerNotice, Reassignment
from planning.reassignments.execute import reassignment_execute as execute_one
from planning.reassignments.transition import windows_over

logger = logging.getLogger(__name__)
Status = Reassignment.Status


def _today() -> dt.date:
    return timezone.localdate()


def _send_notice(notice: CustomerNotice) -> bool:
    try:
        send_mail(notice.subject, notice.body, None, [notice.to_email])
    except Exception:  # noqa: BLE001 - one bad address must not stop the others
        logger.exception("customer notice %s failed", notice.pk)
        CustomerNotice.objects.filter(pk=notice.pk).update(status=CustomerNotice.Status.FAILED)
        return False
    CustomerNotice.objects.filter(pk=notice.pk).update(status=CustomerNotice.Status.SENT, sent_at=timezone.now())
    return True


def customer_notices_send_due(*, today: dt.date | None = None) -> int:
    """Sends the queued customer notices whose date has come, for proposals that executed."""
    today = today or _today()
    due = CustomerNotice.objects.filter(
        status=CustomerNotice.Status.QUEUED, send_on__lte=today,
        reassignment__status__in=[Status.IN_TRANSITION, Status.DONE])
    return sum(_send_notice(notice) for notice in due.iterator())


@transaction.atomic
def _complete_transition(reassignment_id: int) -> bool:
    reassignment = Reassignment.objects.select_for_update().get(pk=reassignment_id)
    if reassignment.status != Status.IN_TRANSITION:
        return False
    reassignment.complete(by=None, description="Transition window ended")
    reassignment.save()
    return True


def reassignments_execute_due(*, today: dt.date | None = None) -> dict[str, int]:
    """The daily run: executes every scheduled proposal due by ``today`` (each in its own
    transaction; one failing does not stop the others), completes the proposals whose transition
    window has ended (the outgoing reps' read-only view goes with it), and sends the customer
    notices due. Returns counts."""
    today = today or _today()
    counts = {"executed": 0, "stale": 0, "failed": 0, "completed": 0, "notices": 0}
    due = Reassignment.objects.filter(status=Status.SCHEDULED, effective_date__lte=today).order_by(
        "effective_date", "pk").values_list("pk", flat=True)
    for pk in list(due):
        try:
            result = execute_one(reassignment_id=pk, today=today)
        except Exception:  # noqa: BLE001 - noted on the proposal; the next run tries again
            logger.exception("reassignment %s failed", pk)
            counts["failed"] += 1
            continue
        if result.outcome in counts:
            counts[result.outcome] += 1
    ended = windows_over(today)
    for pk in list(ended.values_list("pk", flat=True)):
        counts["completed"] += _complete_transition(pk)
    counts["notices"] = customer_notices_send_due(today=today)
    return counts
