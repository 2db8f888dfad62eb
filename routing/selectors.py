"""Reads for the routing pages: the unassigned queue (accounts no territory has claimed)."""

from __future__ import annotations

from django.core.paginator import Page, Paginator

from salesos.models import Account, SalesProfile
from salesos.roles import role_of

QUEUE_PAGE_SIZE = 50
# Who works the unassigned queue; reps are told routing belongs to sales ops.
QUEUE_ROLES = {SalesProfile.Role.ADMIN, SalesProfile.Role.DIRECTOR, SalesProfile.Role.MANAGER}


def can_see_queue(user) -> bool:
    return role_of(user) in QUEUE_ROLES


def unassigned_queue(*, page: int | str | None = 1) -> Page:
    """Accounts with no territory, newest first."""
    accounts = Account.objects.filter(territory__isnull=True).order_by("-created_at", "-pk")
    return Paginator(accounts, QUEUE_PAGE_SIZE).get_page(page)
