"""Batch re-routes, mounted at /routing/jobs/ (names in the ``routing`` namespace)."""

from django.urls import path

from routing import views_jobs

urlpatterns = [
    path("", views_jobs.jobs, name="jobs"),
    path("start/", views_jobs.job_start, name="job_start"),
    path("<int:pk>/", views_jobs.job, name="job"),
]
