"""Template tags the pages of lower apps use to show reassignments without importing planning:
the account page's "in transition" note and its ownership history (with "propose a move")."""

from __future__ import annotations

from django import template

from planning.reassignments.access import proposable_territories
from planning.reassignments.selectors import account_ownership_timeline, in_transition_for_account
from territories import coverage

register = template.Library()


@register.inclusion_tag("planning/proposals/includes/account_transition.html")
def account_in_transition(account):
    """'In transition from A to B until D' while a proposal's window covers the account."""
    found = in_transition_for_account(account, coverage.today())
    if found is None:
        return {"transition": None}
    from_owner, to_owner, until = found
    return {"transition": {"from_owner": from_owner, "to_owner": to_owner, "until": until}}


@register.inclusion_tag("planning/proposals/includes/account_ownership.html", takes_context=True)
def account_ownership(context, account, territory=None):
    """The account's ownership timeline (who owned it when), and "Propose a move" for those who
    may propose on the territory it sits in (or, unassigned, anyone who may propose at all)."""
    user = context["request"].user
    plan = territory.plan if territory is not None else None
    may_propose = False
    if territory is not None:
        may_propose = proposable_territories(user, plan).filter(pk=territory.pk).exists()
    return {"periods": account_ownership_timeline(account, user), "account": account, "may_propose": may_propose,
            "today": coverage.today()}
