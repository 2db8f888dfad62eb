"""The leads list and its CSV export, mounted at /leads/ (a lead's own page is
``accounts:lead_detail``)."""

from django.urls import path

from pages import views_accounts as views

app_name = "leads"
urlpatterns = [
    path("", views.lead_list, name="index"),
    path("export.csv", views.lead_export, name="export"),
]
