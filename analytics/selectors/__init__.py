"""Read-only analytics figures, one module per subject: ``coverage`` (the coverage dashboard),
``performance`` (per territory and period), ``comparisons`` (side by side, coaching),
``forecast`` (roll-up by hierarchy), ``credit`` (compensation crediting); ``scope`` is the part
of the tree a user's figures cover and how they roll up."""

from analytics.selectors.coverage import Coverage, coverage_summary

__all__ = ["Coverage", "coverage_summary"]
