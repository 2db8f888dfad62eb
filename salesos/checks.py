from django.conf import settings
from django.core import checks
from django.core.checks import Error, Tags, register

from salesos.health import broker_ok


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


@register(deploy=True)
def broker_reachable(app_configs, **kwargs):
    if not settings.REDIS_URL or broker_ok():
        return []
    return [
        checks.Warning(
            "REDIS_URL is set but Redis does not answer: queued tasks (re-routes, alerts, schedules) will not run.",
            hint="Start Redis or correct REDIS_URL; without REDIS_URL the database is the task broker.",
            id="salesos.W001",
        )
    ]
