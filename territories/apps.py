from django.apps import AppConfig


class TerritoriesConfig(AppConfig):
    name = "territories"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from territories import receivers  # the app is loaded: connect its hooks

        receivers.connect()
