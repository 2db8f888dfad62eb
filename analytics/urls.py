from django.urls import path

from analytics import views, views_plan_data, views_year

app_name = "analytics"
urlpatterns = [
    path("", views.index, name="index"),
    path("performance/", views.performance, name="performance"),
    path("compare/", views.compare, name="compare"),
    path("forecast/", views.forecast, name="forecast"),
    path("credit/", views.credit, name="credit"),
    path("plan-data/", views_plan_data.plan_data_page, name="plan_data"),
    path("year-over-year/", views_year.year_over_year_page, name="year_over_year"),
    path("plan-data/territories.csv", views_plan_data.plan_data_download, {"part": "territories"},
         name="plan_data_territories"),
    path("plan-data/assignments.csv", views_plan_data.plan_data_download, {"part": "assignments"},
         name="plan_data_assignments"),
    path("plan-data/metrics.csv", views_plan_data.plan_data_download, {"part": "metrics"}, name="plan_data_metrics"),
    path("plan-data/plan.xlsx", views_plan_data.plan_data_download, {"part": "xlsx"}, name="plan_data_xlsx"),
    path("coverage.csv", views.export, {"kind": "coverage"}, name="export_coverage"),
    path("performance.csv", views.export, {"kind": "performance"}, name="export_performance"),
    path("compare.csv", views.export, {"kind": "compare"}, name="export_compare"),
    path("forecast.csv", views.export, {"kind": "forecast"}, name="export_forecast"),
    path("credit.csv", views.export, {"kind": "credit"}, name="export_credit"),
]
