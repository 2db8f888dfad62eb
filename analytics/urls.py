from django.urls import path

from analytics import views

app_name = "analytics"
urlpatterns = [
    path("", views.index, name="index"),
    path("performance/", views.performance, name="performance"),
    path("coverage.csv", views.export, {"kind": "coverage"}, name="export_coverage"),
    path("performance.csv", views.export, {"kind": "performance"}, name="export_performance"),
]
