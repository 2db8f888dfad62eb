from django.urls import path

from planning import views_approvals, views_policies

app_name = "approvals"
urlpatterns = [
    path("", views_approvals.approvals_inbox, name="inbox"),
    path("<int:pk>/decide/", views_approvals.approval_decide_view, name="decide"),
    path("policies/", views_policies.policies, name="policies"),
    path("policies/new/", views_policies.policy_create, name="policy_create"),
    path("policies/step-row/", views_policies.policy_step_row, name="policy_step_row"),
    path("policies/<int:pk>/", views_policies.policy_edit, name="policy"),
    path("policies/<int:pk>/move/", views_policies.policy_move, name="policy_move"),
    path("policies/<int:pk>/delete/", views_policies.policy_delete, name="policy_delete"),
]
