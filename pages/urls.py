from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from pages import views

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("healthz", views.healthz, name="healthz"),
    path("accounts/", include("pages.urls_accounts")),
    path("leads/", include("pages.urls_leads")),
    path("territories/", include("territories.urls")),
    path("routing/", include("routing.urls")),
    path("planning/", include("planning.urls")),
    path("approvals/", include("planning.urls_approvals")),
    path("analytics/", include("analytics.urls")),
    path("map/", include("analytics.map_urls")),
    path("api/v1/", include("routing.urls_api")),
    path("admin/", admin.site.urls),
]
