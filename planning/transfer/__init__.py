"""A plan as one JSON document, and back: ``plan_export`` writes the plan, its hierarchy, rules,
priorities, named-account lists (by account domain, or id where a domain is missing or shared),
rep slots (by username) and quotas (by fiscal period); ``plan_import`` reads such a document back
as a new draft plan, after checking every part of it, and writes nothing when anything is wrong
(``PlanImportError`` lists each problem with its JSON path, e.g. ``territories[3].rule.all[0]``).

``manage.py export_plan`` / ``import_plan`` and the planning page use these two."""

from planning.transfer.export import FORMAT, FORMAT_VERSION, plan_export, plan_export_filename
from planning.transfer.load import PlanImportError, plan_import, plan_import_check

__all__ = [
    "FORMAT", "FORMAT_VERSION", "PlanImportError", "plan_export", "plan_export_filename", "plan_import",
    "plan_import_check",
]
