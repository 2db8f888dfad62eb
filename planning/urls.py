from django.urls import include, path

from planning import (
    views,
    views_capacity,
    views_fiscal,
    views_quotas,
    views_rebalance,
    views_simulation,
    views_transfer,
)

app_name = "planning"
urlpatterns = [
    path("", views.index, name="index"),
    path("plans/<int:pk>/export.json", views_transfer.plan_export_download, name="plan_export"),
    path("plans/<int:pk>/simulation/", views_simulation.simulation_page, name="simulation"),
    path("plans/<int:pk>/simulation/run/", views_simulation.simulation_run, name="simulation_run"),
    path("simulations/compare/", views_simulation.simulation_compare, name="simulation_compare"),
    path("plans/import/", views_transfer.plan_import_upload, name="plan_import"),
    path("", include("planning.urls_proposals")),
    path("fiscal/", views_fiscal.fiscal_settings, name="fiscal"),
    path("fiscal/settings/", views_fiscal.fiscal_settings_save, name="fiscal_settings_save"),
    path("fiscal/years/", views_fiscal.fiscal_year_add, name="fiscal_year_add"),
    path("fiscal/years/<int:pk>/periods/", views_fiscal.fiscal_periods_add, name="fiscal_periods_add"),
    path("capacity/", views_capacity.capacity_page, name="capacity"),
    path("rebalance/", views_rebalance.rebalance_page, name="rebalance"),
    path("rebalance/propose/", views_rebalance.rebalance_propose, name="rebalance_propose"),
    path("years/<int:pk>/quotas/", views_quotas.quotas_page, name="quotas"),
    path("years/<int:pk>/quotas.csv", views_quotas.quotas_csv, name="quotas_csv"),
]
