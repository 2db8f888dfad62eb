"""What the layers above add to the routing benchmark, without routing importing them: after the
re-routes are measured, ``plan_measured(plan, leaf_ids, log)`` is sent and each receiver answers a
dict of figures for the JSON line (``planning`` connects the simulation's ``simulate_s``)."""

from __future__ import annotations

from django.dispatch import Signal

plan_measured = Signal()
