from django.apps import AppConfig


class PagesConfig(AppConfig):
    """The pages at the edge that read across every layer below: home, the account and lead
    pages and lists, and the root URLs."""

    verbose_name = "SalesOS pages"
    name = "pages"
    default_auto_field = "django.db.models.BigAutoField"
