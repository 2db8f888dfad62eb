from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from planning.selectors import fiscal_years_with_quarters, plans_visible_to
from salesos.roles import is_admin


@require_GET
@login_required
def index(request: HttpRequest) -> HttpResponse:
    context = {
        "plans": list(plans_visible_to(request.user)),
        "fiscal_years": list(fiscal_years_with_quarters(today=timezone.localdate())),
        "edits_fiscal_calendar": is_admin(request.user),
    }
    return render(request, "planning/index.html", context)
