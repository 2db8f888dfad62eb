from django.urls import include, path

from planning import (
    views,
    views_capacity,
    views_fiscal,
    views_plans,
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
    path("plans/<int:pk>/", views_plans.plan_detail, name="plan"),
    path("plans/<int:pk>/copy/", views_plans.plan_copy_view, name="plan_copy"),
    path("plans/<int:pk>/share/", views_plans.plan_share, name="plan_share"),
    path("plans/<int:pk>/submit/", views_plans.plan_submit, name="plan_submit"),
    path("plans/<int:pk>/decide/", views_plans.plan_decide, name="plan_decide"),
    path("plans/<int:pk>/back-to-draft/", views_plans.plan_back_to_draft, name="plan_back_to_draft"),
    path("plans/<int:pk>/comment/", views_plans.plan_comment, name="plan_comment"),
    path("plans/<int:pk>/schedule/", views_plans.plan_schedule, name="plan_schedule"),
    path("plans/<int:pk>/unschedule/", views_plans.plan_unschedule, name="plan_unschedule"),
    path("plans/<int:pk>/reactivate/", views_plans.plan_reactivate, name="plan_reactivate"),
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
