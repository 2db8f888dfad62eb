"""Writes to the core records that other modules react to."""

from __future__ import annotations

from django.db import transaction

from salesos import hooks
from salesos.models import SalesProfile


@transaction.atomic
def profile_save(*, profile: SalesProfile) -> SalesProfile:
    """Saves a sales profile; a change of manager or role re-materialises territory permissions
    for the person, their old manager and their new one (the org chart drives visibility):
    ``hooks.org_chart_changed`` tells ``territories``."""
    before = (
        SalesProfile.objects.filter(pk=profile.pk).values_list("manager_id", "role").first() if profile.pk else None
    )
    profile.save()
    if before is None or before != (profile.manager_id, profile.role):
        old_manager = before[0] if before else None
        hooks.org_chart_changed.send(
            sender=SalesProfile, users=[profile.user_id, *(u for u in {old_manager, profile.manager_id} if u)]
        )
    return profile


@transaction.atomic
def profile_delete(*, profile: SalesProfile) -> None:
    affected = [u for u in (profile.user_id, profile.manager_id) if u]
    profile.delete()
    hooks.org_chart_changed.send(sender=SalesProfile, users=affected)


@transaction.atomic
def profile_set_share_location(*, user, share: bool) -> SalesProfile:
    """Turns a person's own opt-in to show their home location on the map on or off."""
    profile = SalesProfile.objects.select_for_update().get(user=user)
    if profile.share_location != share:
        profile.share_location = share
        profile.save(update_fields=["share_location"])
    return profile
