"""Who hears about a reassignment proposal, and how: an in-app notification (the bell) and an
email for each person concerned. Called by the reassignment and approval services inside their
transaction: the notifications roll back with them, and the emails leave on commit.

Who is concerned: the reps holding the giving and receiving territories (primary, backup and
overlay, today) and, for a rep change, the reps named in it; their managers; the initiator; the
approvers whose turn it is. The person who acted is not told of their own act. A reminder or an
escalation goes only to the approvers whose turn it is.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from django.contrib.auth import get_user_model
from django.core.mail import send_mass_mail
from django.db import transaction
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from planning.approvals.services import waiting_approver_ids
from planning.approvals.snapshot import impact_summary
from planning.models import ApprovalTask, Reassignment, ReassignmentMove
from routing.models import Notification
from salesos.models import SalesProfile
from territories.coverage import owners_on

logger = logging.getLogger(__name__)
User = get_user_model()

# event -> (title for people concerned, title for the approvers whose turn it is)
EVENTS: dict[str, tuple[str, str]] = {
    "submitted": ("Proposed: {title}", "Your approval is needed: {title}"),
    "decided": ("{actor} approved their step: {title}", "Your approval is needed: {title}"),
    "approved": ("Approved: {title}", ""),
    "rejected": ("Rejected by {actor}: {title}", ""),
    "changes_requested": ("{actor} asks for changes: {title}", ""),
    "withdrawn": ("Withdrawn: {title}", ""),
    "stale": ("Needs re-approval (accounts or deals changed): {title}", "Your approval is needed again: {title}"),
    "scheduled": ("Scheduled for {effective_date}: {title}", ""),
    "executed": ("Done: {title}", ""),
    "reminder": ("", "Reminder: your approval is waiting: {title}"),
    "escalated": ("", "Escalated to you: your approval is waiting: {title}"),
}
APPROVERS_ONLY = frozenset({"reminder", "escalated"})


def _url(name: str, *args: int) -> str:
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return ""


def proposal_url(reassignment: Reassignment) -> str:
    """The proposal's page."""
    return _url("planning:proposal", reassignment.pk) or _url("approvals:inbox")


def territory_ids_of(reassignment: Reassignment) -> set[int]:
    """The giving and receiving territories: frozen moves, or the ones the change names."""
    ids: set[int] = set()
    for from_id, to_id in ReassignmentMove.objects.filter(reassignment=reassignment).values_list(
        "from_territory_id", "to_territory_id"
    ):
        ids.update(i for i in (from_id, to_id) if i is not None)
    change = reassignment.change or {}
    for key in ("territory", "to_territory", "into", "parent"):
        value = change.get(key)
        if isinstance(value, int) and not isinstance(value, bool):
            ids.add(value)
    return ids


def concerned_user_ids(reassignment: Reassignment) -> set[int]:
    """The reps on both sides, their managers and the initiator."""
    reps: set[int] = set()
    for held in owners_on(territory_ids=territory_ids_of(reassignment)).values():
        reps.update(u for u in (held.primary, *held.backups, *held.overlays) if u is not None)
    change = reassignment.change or {}
    if reassignment.kind == Reassignment.Kind.SLOT_CHANGE:
        reps.update(u for u in (change.get("from_user"), change.get("to_user")) if isinstance(u, int))
    managers = SalesProfile.objects.filter(user_id__in=reps, manager__isnull=False).values_list("manager_id", flat=True)
    return reps | set(managers) | {reassignment.initiator_id}


def _name(user) -> str:
    return user.get_full_name() or user.get_username()


def _comment(reassignment: Reassignment, actor) -> str:
    if actor is None:
        return ""
    task = (
        ApprovalTask.objects.filter(reassignment=reassignment, approver=actor, decided_at__isnull=False)
        .exclude(comment="")
        .order_by("-decided_at")
        .first()
    )
    return task.comment if task is not None else ""


def _body(reassignment: Reassignment, actor) -> str:
    lines = [
        f"{reassignment.get_kind_display()} proposed by {_name(reassignment.initiator)}, "
        f"effective {reassignment.effective_date:%d %b %Y}.",
        f"Status: {reassignment.get_status_display()}.",
    ]
    impact = impact_summary(reassignment.impact)
    if impact.known:
        lines.append(
            f"Moves {impact.moved_accounts:,} accounts and {impact.moved_deals:,} of {impact.open_deals:,} open deals "
            f"(${impact.moved_pipeline:,.0f} of pipeline)."
        )
    if reassignment.reason:
        lines.append(f"Reason: {reassignment.reason}")
    comment = _comment(reassignment, actor)
    if comment:
        lines.append(f"{_name(actor)}: “{comment}”")
    return "\n".join(lines)


@transaction.atomic
def reassignment_notify(*, event: str, reassignment: Reassignment, actor=None) -> list[Notification]:
    """Tells everyone concerned that ``event`` happened to ``reassignment`` (events: submitted,
    decided, approved, rejected, changes_requested, withdrawn, stale, scheduled, executed,
    reminder, escalated): one in-app notification each, and an email on commit. Returns the
    notifications created."""
    if event not in EVENTS:
        raise ValueError(f"unknown reassignment event {event!r}")
    concerned_title, approver_title = EVENTS[event]
    approvers = set(waiting_approver_ids(reassignment=reassignment)) if approver_title else set()
    concerned = set() if event in APPROVERS_ONLY else concerned_user_ids(reassignment) - approvers
    actor_id = getattr(actor, "pk", None)
    recipients = {
        user.pk: user
        for user in User.objects.filter(pk__in=(concerned | approvers) - {actor_id}, is_active=True).order_by("pk")
    }
    if not recipients:
        return []
    words = {
        "title": reassignment.title,
        "actor": _name(actor) if actor is not None else "Someone",
        "effective_date": f"{reassignment.effective_date:%d %b %Y}",
    }
    body = _body(reassignment, actor)
    detail, inbox = proposal_url(reassignment), _url("approvals:inbox")
    now = timezone.now()
    notes = [
        Notification(
            user=user,
            kind=Notification.Kind.INFO,
            title=(approver_title if pk in approvers else concerned_title).format(**words)[:200],
            body=body,
            url=(inbox or detail) if pk in approvers else detail,
            created_at=now,
        )
        for pk, user in recipients.items()
    ]
    Notification.objects.bulk_create(notes)
    mails = [
        (f"[SalesOS] {n.title}", f"{n.body}\n\n{n.url}".rstrip(), None, [n.user.email]) for n in notes if n.user.email
    ]
    if mails:
        transaction.on_commit(lambda: _send(mails))
    return notes


def _send(mails: Iterable[tuple[str, str, None, list[str]]]) -> None:
    try:
        send_mass_mail(tuple(mails), fail_silently=False)
    except OSError:
        # The in-app notifications are saved; a mail server outage must not undo a decision.
        logger.exception("Could not email reassignment notifications")
