from django.apps import AppConfig


class SalesosConfig(AppConfig):
    verbose_name = "SalesOS core"
    name = "salesos"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from salesos import checks  # noqa: F401  (registers the deploy checks)
