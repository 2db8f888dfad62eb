"""Create/edit/delete pages and the rule builder's HTMX endpoints (included by territories.urls)."""

from django.urls import path

from territories import views_edit as v

urlpatterns = [
    path("new/", v.territory_new, name="new"),
    path("<int:pk>/edit/", v.territory_edit, name="edit"),
    path("<int:pk>/delete/", v.territory_delete, name="delete"),
    path("builder/cond/", v.builder_cond, name="builder_cond"),
    path("builder/group/", v.builder_group, name="builder_group"),
    path("builder/options/", v.builder_options, name="builder_options"),
    path("builder/chip/", v.builder_chip, name="builder_chip"),
    path("builder/preview/", v.builder_preview, name="builder_preview"),
]
