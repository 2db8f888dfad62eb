"""Routing pages. Each area of the app keeps its own URL module: the queue, explanations, conflicts
and locks (``views``), batch re-routes (``views_jobs``), notifications (``views_alerts``)."""

from django.urls import include, path

from routing import views

app_name = "routing"
urlpatterns = [
    path("", views.index, name="index"),
    path("jobs/", include("routing.urls_jobs")),
    path("notifications/", include("routing.urls_alerts")),
]
