"""Which proposals a user may see, and on which territories they may propose.

* Admins see every proposal and may propose on every active, non-overlay territory of the plan.
* Directors and managers propose within ``territories_editable_by`` (managers: the territories
  they or a direct report hold as primary; directors: also the subtrees they lead). They see
  their own proposals, their team's (initiated by a direct report), the proposals that touch a
  territory they may edit, and those on which they hold (or held) an approval task.
* Reps propose nothing; they see the proposals that move accounts into or out of a territory
  they hold (their own book changing hands), and a rep change that names them (the rep leaving
  the slot or the one taking it).

"Missing" and "not visible" both answer 404.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.http import Http404

from planning.models import Reassignment, ReassignmentMove
from salesos.roles import EDITOR_ROLES, is_admin, role_of
from territories.access import territories_editable_by
from territories.models import Territory, TerritoryPlan
from territories.selectors import team_user_ids, territories_visible_to


def proposable_territories(user, plan: TerritoryPlan | None) -> QuerySet[Territory]:
    """The active, non-overlay territories of ``plan`` on which ``user`` may propose a change
    (give or receive accounts, change reps, rules, merge, carve under): admins all of them;
    managers and directors ``territories_editable_by``; reps none."""
    if plan is None or role_of(user) not in EDITOR_ROLES:
        return Territory.objects.none()
    return territories_editable_by(user, plan).filter(status=Territory.Status.ACTIVE)


def may_propose(user) -> bool:
    return role_of(user) in EDITOR_ROLES


def _territory_ids_of(user) -> QuerySet:
    """Territories of the active plan the user sees (their own, their team's, their subtree)."""
    return territories_visible_to(user, TerritoryPlan.active()).values("pk")


def reassignments_visible_to(user) -> QuerySet[Reassignment]:
    """The proposals ``user`` may open (see the module doc)."""
    if not user.is_authenticated or role_of(user) is None:
        return Reassignment.objects.none()
    if is_admin(user):
        return Reassignment.objects.all()
    mine = Q(initiator=user) | Q(approval_tasks__approver=user) | Q(approval_tasks__delegated_from=user)
    visible = _territory_ids_of(user)
    touching = ReassignmentMove.objects.filter(
        Q(from_territory_id__in=visible) | Q(to_territory_id__in=visible)
    ).values("reassignment_id")
    named = Q(kind=Reassignment.Kind.SLOT_CHANGE) & (Q(change__from_user=user.pk) | Q(change__to_user=user.pk))
    scope = mine | Q(pk__in=touching) | named
    if role_of(user) in EDITOR_ROLES:
        scope |= Q(initiator__in=team_user_ids(user))
    return Reassignment.objects.filter(pk__in=Reassignment.objects.filter(scope).values("pk"))


def reassignment_get_for_user(user, pk: int) -> Reassignment:
    """The proposal ``pk`` if ``user`` may see it (``reassignments_visible_to``); otherwise 404."""
    found = reassignments_visible_to(user).filter(pk=pk).select_related("plan", "initiator").first()
    if found is None:
        raise Http404("No such proposal")
    return found


def reassignment_may_edit(user, reassignment: Reassignment) -> bool:
    """Only the initiator edits, submits or withdraws their proposal (admins may withdraw any)."""
    return reassignment.initiator_id == user.pk
