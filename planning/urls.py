from django.urls import path

from planning import views, views_fiscal

app_name = "planning"
urlpatterns = [
    path("", views.index, name="index"),
    path("fiscal/", views_fiscal.fiscal_settings, name="fiscal"),
    path("fiscal/settings/", views_fiscal.fiscal_settings_save, name="fiscal_settings_save"),
    path("fiscal/years/", views_fiscal.fiscal_year_add, name="fiscal_year_add"),
    path("fiscal/years/<int:pk>/periods/", views_fiscal.fiscal_periods_add, name="fiscal_periods_add"),
]
