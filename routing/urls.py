"""Routing pages. Each area of the app keeps its own URL module: the queue, explanations, conflicts
and locks (``views``), batch re-routes (``views_jobs``), notifications (``views_alerts``)."""

from django.urls import include, path

from routing import views

app_name = "routing"
urlpatterns = [
    path("", views.index, name="index"),
    path("route/", views.route, name="route"),
    path("territory-options/", views.territory_options, name="territory_options"),
    path("conflicts/", views.conflicts, name="conflicts"),
    path("accounts/<int:pk>/explain/", views.account_explain, name="account_explain"),
    path("accounts/<int:pk>/lock/", views.account_lock_view, name="account_lock"),
    path("leads/<int:pk>/explain/", views.lead_explain, name="lead_explain"),
    path("jobs/", include("routing.urls_jobs")),
    path("notifications/", include("routing.urls_alerts")),
]
