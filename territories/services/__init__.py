"""Every write to territories and rep assignments. Keyword-only, typed, atomic; each write is
recorded by django-simple-history with the user who made it and why (``stamp``: ``_history_user``
and ``_change_reason`` on the instance), so the territory page can say who changed what, when.

After a change that can alter routing (rule, tree, named list, type, priority, status, overlay
credit) the plan's version stamp is bumped (``plan_touch``: every process drops its compiled
index) and, in the ACTIVE plan, a batch re-route of the touched territories is started (through
``territories.hooks.routing_changed``, which routing answers). Draft plans are never re-routed:
nothing is assigned from them until they are activated. Permission grants are resynchronised
after tree and assignment changes.

One module per job: ``common`` (stamps, re-route and grant refresh, input checks),
``territories`` (territory writes), ``assignments`` (rep assignment writes). Callers import this
package: ``from territories import services``.
"""

from territories.services.assignments import (
    EndImpact,
    assignment_add,
    assignment_default_start,
    assignment_end,
    assignment_end_impact,
    overlay_total,
    primary_last_ends,
)
from territories.services.common import (
    EDITABLE_FIELDS,
    LOCKED_STATUSES,
    REASON_MAX,
    ROUTING_FIELDS,
    code_suggest,
    grants_refresh,
    person_name,
    plan_touch,
    refuse_locked,
    refuse_retired,
    reroute,
    retired_message,
    stamp,
    subtree_ids,
)
from territories.services.territories import (
    STALE_EDIT,
    territory_create,
    territory_delete,
    territory_delete_impact,
    territory_move,
    territory_named_accounts_set,
    territory_update,
    territory_update_rule,
)

__all__ = [
    "EDITABLE_FIELDS",
    "LOCKED_STATUSES",
    "REASON_MAX",
    "ROUTING_FIELDS",
    "STALE_EDIT",
    "EndImpact",
    "assignment_add",
    "assignment_default_start",
    "assignment_end",
    "assignment_end_impact",
    "code_suggest",
    "grants_refresh",
    "overlay_total",
    "person_name",
    "plan_touch",
    "primary_last_ends",
    "refuse_locked",
    "refuse_retired",
    "reroute",
    "retired_message",
    "stamp",
    "subtree_ids",
    "territory_create",
    "territory_delete",
    "territory_delete_impact",
    "territory_move",
    "territory_named_accounts_set",
    "territory_update",
    "territory_update_rule",
]
