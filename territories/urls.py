"""Territory pages: the tree, lists and detail (``views``); create/edit/delete and the rule builder
(``urls_edit``); rep assignment, CSV upload and proposals (``urls_assign``)."""

from django.urls import include, path

from territories import views

app_name = "territories"
urlpatterns = [
    path("", views.index, name="index"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/children/", views.children, name="children"),
    path("<int:pk>/move/", views.move, name="move"),
    path("", include("territories.urls_edit")),
    path("", include("territories.urls_assign")),
]
