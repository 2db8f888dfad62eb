from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from analytics.selectors import coverage_summary
from salesos.roles import sees_coverage
from territories.selectors import active_plan


@require_GET
@login_required
def index(request: HttpRequest) -> HttpResponse:
    plan = active_plan()
    coverage = None
    if plan is not None and sees_coverage(request.user):
        coverage = coverage_summary(plan=plan, user=request.user)
    return render(request, "analytics/index.html", {"plan": plan, "coverage": coverage})
