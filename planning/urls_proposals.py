"""The proposal pages, under /planning/ (the ``planning`` namespace)."""

from django.urls import path

from planning import views_drafts, views_queue
from planning import views_proposals as views

urlpatterns = [
    path("proposals/", views.proposal_list, name="proposals"),
    path("proposals/new/", views.proposal_new, name="proposal_new"),
    path("proposals/from-queue/", views_queue.proposal_from_queue, name="proposal_from_queue"),
    path("proposals/<int:pk>/", views.proposal_detail, name="proposal"),
    path("proposals/<int:pk>/edit/", views_drafts.proposal_edit, name="proposal_edit"),
    path("proposals/<int:pk>/deals/", views_drafts.proposal_deals, name="proposal_deals"),
    path("proposals/<int:pk>/submit/", views.proposal_submit, name="proposal_submit"),
    path("proposals/<int:pk>/withdraw/", views.proposal_withdraw, name="proposal_withdraw"),
    path("proposals/settings/", views.settings_page, name="proposal_settings"),
    path("proposals/settings/save/", views.settings_save, name="proposal_settings_save"),
    path("proposals/settings/preview/", views.settings_preview, name="proposal_settings_preview"),
    path("changes/", views.changes_log, name="changes"),
]
