import os

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "salesos.settings")
application = get_wsgi_application()

if not settings.DEVELOPMENT and not settings.SECRET_KEY_FROM_ENVIRONMENT:
    raise ImproperlyConfigured("Set SECRET_KEY in the environment before serving SalesOS (or DEVELOPMENT=1 locally).")
