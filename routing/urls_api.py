"""The lead-routing API for other systems, mounted at /api/v1/."""

urlpatterns: list = []
