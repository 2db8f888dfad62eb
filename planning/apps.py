from django.apps import AppConfig


class PlanningConfig(AppConfig):
    name = "planning"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Lower layers call up through hooks: the outgoing rep's read-only view of accounts in a
        # reassignment's transition window (territories.access).
        from planning import receivers  # the app is loaded: connect its hooks
        from planning.reassignments.transition import transition_account_ids
        from territories.access import account_visibility_extend

        account_visibility_extend(transition_account_ids)
        receivers.connect()
