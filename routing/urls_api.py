"""The lead-routing API for other systems, mounted at /api/v1/ (see ``routing.api``)."""

from django.urls import path, re_path

from routing import api

app_name = "api"
urlpatterns = [
    re_path(r"^route/?$", api.route, name="route"),
    re_path(r"^leads/?$", api.leads, name="leads"),
    # Anything else under /api/v1/ answers JSON too, never the HTML 404 page.
    path("<path:rest>", api.not_found),
    path("", api.not_found),
]
