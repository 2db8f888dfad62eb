"""Account and lead pages (list, CSV export, create, edit and detail), mounted at /accounts/ (the
leads list at /leads/, ``pages.urls_leads``). The routing
explanation of a record lives with the routing pages (``routing:account_explain``)."""

from django.urls import path

from pages import views_accounts as views

app_name = "accounts"
urlpatterns = [
    path("", views.account_list, name="index"),
    path("export.csv", views.account_export, name="export"),
    path("new/", views.account_new, name="new"),
    path("state-options/", views.state_options, name="state_options"),
    path("<int:pk>/", views.account_detail, name="detail"),
    path("<int:pk>/edit/", views.account_edit, name="edit"),
    path("<int:pk>/activities/", views.activity_add, name="activity_add"),
    path("leads/<int:pk>/", views.lead_detail, name="lead_detail"),
]
