from django.urls import path

from analytics import map_views

app_name = "map"
urlpatterns = [
    path("", map_views.index, name="index"),
    path("base.json", map_views.base, name="base"),
    path("boundaries.json", map_views.boundaries, name="boundaries"),
    path("points.json", map_views.points, name="points"),
    path("heat.json", map_views.heat, name="heat"),
    path("reps.json", map_views.reps, name="reps"),
    path("territories/<int:pk>/card/", map_views.territory_card, name="territory_card"),
    path("accounts/<int:pk>/card/", map_views.account_card, name="account_card"),
    path("adjust/preview/", map_views.adjust_preview_view, name="adjust_preview"),
    path("adjust/propose/", map_views.adjust_propose_view, name="adjust_propose"),
    path("location/", map_views.share_location, name="share_location"),
]
