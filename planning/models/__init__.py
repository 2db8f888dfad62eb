"""Planning records, one module per subject: ``fiscal`` (years, periods, quotas), ``settings``
(the organisation's fiscal start month and planning thresholds), ``reassignments`` (proposals and
what execution changed), ``approvals`` (policies and decisions), ``plans`` (review comments on plans),
``simulation`` (draft plans routed and their impact)."""

from planning.models.approvals import ApprovalPolicy, ApprovalPolicyStep, ApprovalTask, Subject
from planning.models.fiscal import FiscalPeriod, FiscalYear, Quota, covering
from planning.models.plans import PlanComment
from planning.models.reassignments import (
    CustomerNotice,
    DealDecision,
    DealOwnerChange,
    DealPolicy,
    Reassignment,
    ReassignmentMove,
    ReassignmentSettings,
)
from planning.models.settings import PlanningSettings
from planning.models.simulation import Simulation

__all__ = [
    "ApprovalPolicy",
    "ApprovalPolicyStep",
    "ApprovalTask",
    "CustomerNotice",
    "DealDecision",
    "DealOwnerChange",
    "DealPolicy",
    "FiscalPeriod",
    "FiscalYear",
    "PlanComment",
    "PlanningSettings",
    "Quota",
    "Reassignment",
    "ReassignmentMove",
    "ReassignmentSettings",
    "Simulation",
    "Subject",
    "covering",
]
