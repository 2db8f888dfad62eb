from django.urls import path

from analytics import views

app_name = "analytics"
urlpatterns = [
    path("", views.index, name="index"),
    path("performance/", views.performance, name="performance"),
    path("compare/", views.compare, name="compare"),
    path("forecast/", views.forecast, name="forecast"),
    path("credit/", views.credit, name="credit"),
    path("coverage.csv", views.export, {"kind": "coverage"}, name="export_coverage"),
    path("performance.csv", views.export, {"kind": "performance"}, name="export_performance"),
    path("compare.csv", views.export, {"kind": "compare"}, name="export_compare"),
    path("forecast.csv", views.export, {"kind": "forecast"}, name="export_forecast"),
    path("credit.csv", views.export, {"kind": "credit"}, name="export_credit"),
]
