"""Account and lead pages (create, edit, detail with the routing explanation)."""

urlpatterns: list = []
