"""The pages' reads of reassignments (bounded query counts)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth import get_user_model
from django.utils import timezone

from planning.models import Reassignment, ReassignmentMove
from planning.reassignments.transition import in_transition, outgoing_owner_ids
from routing.placement import placement
from salesos.models import Account

User = get_user_model()


def in_transition_for_account(account: Account, today: dt.date | None = None) -> tuple[Any, Any, dt.date] | None:
    """(from owner, to owner, until) when ``account`` is inside a transition window on ``today``
    (the outgoing rep still sees it read-only until that day), else None."""
    today = today or timezone.localdate()
    current = in_transition(today)
    move = (ReassignmentMove.objects.filter(reassignment__in=current, account=account)
            .select_related("reassignment").order_by("-reassignment__effective_date").first())
    found: Reassignment | None
    if move is not None:
        found = move.reassignment
        outgoing = outgoing_owner_ids(found).get(move.from_territory_id or 0)
    else:
        where = placement(account)
        here = where.territory.pk if where.territory is not None else None
        found = next((r for r in current.filter(kind=Reassignment.Kind.SLOT_CHANGE)
                      if here is not None and int(r.change.get("territory", 0)) == here), None)
        if found is None or here is None:
            return None
        outgoing = outgoing_owner_ids(found).get(here)
    if found.transition_ends is None:
        return None
    incoming = placement(account).owner
    from_user = User.objects.filter(pk=outgoing).first() if outgoing else None
    return from_user, incoming, found.transition_ends
