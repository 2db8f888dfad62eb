"""Logging activities (calls, emails, meetings) on an account. Whoever may see an account may log
one on it (SEED: reps view accounts and log activities); the account is fetched through the one
access function, so an account the user cannot see answers 404 here too."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from salesos.models import Activity
from territories.access import account_get_for_user

NOTE_MAX = Activity._meta.get_field("subject").max_length or 200


class ActivityForm(forms.Form):
    kind = forms.ChoiceField(choices=Activity.Kind.choices, label="Kind",
                             error_messages={"required": "Pick call, email or meeting.",
                                             "invalid_choice": "Pick call, email or meeting."})
    note = forms.CharField(max_length=NOTE_MAX, strip=True, label="Note",
                           error_messages={"required": "Write a short note of what happened."})


@transaction.atomic
def activity_log(*, user: Any, account_id: int, kind: str, note: str) -> Activity:
    """Records an activity by ``user`` on an account they may see (404 otherwise), now."""
    account = account_get_for_user(user=user, pk=account_id)
    note = (note or "").strip()
    if kind not in Activity.Kind.values:
        raise ValidationError({"kind": "Pick call, email or meeting."})
    if not note:
        raise ValidationError({"note": "Write a short note of what happened."})
    if len(note) > NOTE_MAX:
        raise ValidationError({"note": f"Keep the note to {NOTE_MAX} characters."})
    return Activity.objects.create(account=account, user=user, kind=kind, subject=note, at=timezone.now())
