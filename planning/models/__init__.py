"""Planning records, one module per subject: ``fiscal`` (years, periods, quotas), ``reassignments``
(proposals and what execution changed), ``approvals`` (policies and decisions)."""

from planning.models.fiscal import FiscalPeriod, FiscalYear, Quota, covering

__all__ = ["FiscalPeriod", "FiscalYear", "Quota", "covering"]
