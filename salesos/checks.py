from django.conf import settings
from django.core.checks import Error, Tags, register


@register(Tags.security, deploy=True)
def secret_key_from_environment(app_configs, **kwargs):
    if settings.SECRET_KEY_FROM_ENVIRONMENT:
        return []
    return [
        Error(
            "SECRET_KEY is not set in the environment.",
            hint="Set SECRET_KEY to a long random value.",
            id="salesos.E001",
        )
    ]


@register(deploy=True)
def production_database(app_configs, **kwargs):
    if settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"):
        return [
            Error(
                "Production runs on PostgreSQL; SQLite is the embedded default for a first run.",
                hint="Set DATABASE_URL=postgres://...",
                id="salesos.E002",
            )
        ]
    return []
