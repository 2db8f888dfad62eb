"""Planning records, one module per subject: ``fiscal`` (years, periods, quotas), ``settings``
(the organisation's fiscal start month and planning thresholds), ``reassignments`` (proposals and
what execution changed), ``approvals`` (policies and decisions)."""

from planning.models.fiscal import FiscalPeriod, FiscalYear, Quota, covering
from planning.models.settings import PlanningSettings

__all__ = ["FiscalPeriod", "FiscalYear", "PlanningSettings", "Quota", "covering"]
