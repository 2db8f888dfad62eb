"""A user's role in SalesOS, read from the sales profile (superusers are admins)."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

from salesos.models import SalesProfile

Role = SalesProfile.Role


def role_of(user: AbstractBaseUser | AnonymousUser) -> str | None:
    if not user.is_authenticated:
        return None
    if getattr(user, "is_superuser", False):
        return Role.ADMIN
    profile = getattr(user, "sales_profile", None)
    return profile.role if profile is not None else None


def is_admin(user: AbstractBaseUser | AnonymousUser) -> bool:
    return role_of(user) == Role.ADMIN
