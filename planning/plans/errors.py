class PlanError(Exception):
    """A lifecycle step refused, with a message the page shows as it is; nothing was changed."""
