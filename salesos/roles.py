"""A user's role in SalesOS, read from the sales profile (superusers are admins), and the one home
of every role set (DESIGN "One definition of each fact"): views, grants, routing and the API ask
these predicates instead of listing roles themselves (``tests/test_one_definition.py``).

Who does what (README "Permissions"):

* the unassigned queue (see it, route from it, name queued accounts): admins, directors and
  managers; reps are told routing belongs to sales ops.
* editing accounts at all: admins, directors and managers (within their own territories).
* plans other than the active one, bulk reassignment (CSV upload, filling vacancies), creating and
  deleting territories: admins and directors.
* leading a team (a manager or director gets view and change on a direct report's territories).
* the coverage dashboard: admins, directors and managers.
* the approvals inbox in the navigation: admins, directors and managers (anyone a policy names
  sees it while something waits for them).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

from salesos.models import SalesProfile

Role = SalesProfile.Role
AnyUser = AbstractBaseUser | AnonymousUser

QUEUE_ROLES = frozenset({Role.ADMIN, Role.DIRECTOR, Role.MANAGER})
EDITOR_ROLES = frozenset({Role.ADMIN, Role.DIRECTOR, Role.MANAGER})
PLAN_ROLES = frozenset({Role.ADMIN, Role.DIRECTOR})
BULK_ROLES = frozenset({Role.ADMIN, Role.DIRECTOR})
TEAM_LEAD_ROLES = frozenset({Role.MANAGER, Role.DIRECTOR})
COVERAGE_ROLES = frozenset({Role.ADMIN, Role.DIRECTOR, Role.MANAGER})
APPROVER_ROLES = frozenset({Role.ADMIN, Role.DIRECTOR, Role.MANAGER})


def role_of(user: AnyUser) -> str | None:
    if not user.is_authenticated:
        return None
    if getattr(user, "is_superuser", False):
        return Role.ADMIN
    profile = getattr(user, "sales_profile", None)
    return profile.role if profile is not None else None


def is_admin(user: AnyUser) -> bool:
    return role_of(user) == Role.ADMIN


def works_queue(user: AnyUser) -> bool:
    """Sees and routes the unassigned queue (and may name queued accounts)."""
    return role_of(user) in QUEUE_ROLES


def edits_accounts(user: AnyUser) -> bool:
    return role_of(user) in EDITOR_ROLES


def opens_any_plan(user: AnyUser) -> bool:
    """May open plans other than the active one (drafts, staged, archived)."""
    return role_of(user) in PLAN_ROLES


def bulk_assigns(user: AnyUser) -> bool:
    """May reassign in bulk (CSV upload, filling vacancies) and create or delete territories."""
    return role_of(user) in BULK_ROLES


def leads_team(role: str | None) -> bool:
    """Whether a role leads a team (takes a role: the grants read roles in bulk)."""
    return role in TEAM_LEAD_ROLES


def sees_coverage(user: AnyUser) -> bool:
    return role_of(user) in COVERAGE_ROLES


@dataclass(frozen=True)
class RoleFlags:
    """A user's role as booleans, for templates (``user_is`` in every page's context): a template
    asks ``user_is.admin`` and never compares a role string."""

    role: str | None

    @property
    def admin(self) -> bool:
        return self.role == Role.ADMIN

    @property
    def director(self) -> bool:
        return self.role == Role.DIRECTOR

    @property
    def manager(self) -> bool:
        return self.role == Role.MANAGER

    @property
    def rep(self) -> bool:
        return self.role == Role.REP

    @property
    def bulk_assigns(self) -> bool:
        return self.role in BULK_ROLES


def role_flags(user: AnyUser) -> RoleFlags:
    return RoleFlags(role_of(user))


def approves(user: AnyUser) -> bool:
    """Has the "Approvals" inbox in the navigation (approval policies name these roles)."""
    return role_of(user) in APPROVER_ROLES
