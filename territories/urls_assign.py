"""Rep assignment: manual (per territory), bulk CSV upload, proposals for vacancies."""

from django.urls import path

from territories import views_assign as v

urlpatterns = [
    path("<int:pk>/assignments/", v.assignments, name="assignments"),
    path("<int:pk>/assignments/<int:aid>/end/", v.assignment_end, name="assignment_end"),
    path("assignments/upload/", v.csv_upload, name="csv_upload"),
    path("assignments/template.csv", v.csv_template, name="csv_template"),
    path("assignments/propose/", v.propose, name="propose"),
]
