from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from planning.forms import PlanImportForm
from planning.quota_page import may_plan
from planning.selectors import fiscal_years_with_quarters, plans_visible_to
from planning.simulation.access import simulated_plans_for
from salesos.roles import is_admin, opens_any_plan


def index_page(
    request: HttpRequest, *, import_form: PlanImportForm | None = None,
    import_problems: list[tuple[str, str]] | None = None, status: int = 200,
) -> HttpResponse:
    """The plans page; the plan import view shows it again with the file's problems."""
    admin = is_admin(request.user)
    context = {
        "plans": list(plans_visible_to(request.user)),
        "fiscal_years": list(fiscal_years_with_quarters(today=timezone.localdate())),
        "edits_fiscal_calendar": admin,
        "transfers_plans": admin,
        "plans_quotas": may_plan(request.user),
        "simulated_ids": set(simulated_plans_for(request.user).values_list("pk", flat=True)),
        "plans_manage": opens_any_plan(request.user),
        "import_form": (import_form or PlanImportForm()) if admin else None,
        "import_problems": import_problems or [],
    }
    return render(request, "planning/index.html", context, status=status)


@require_GET
@login_required
def index(request: HttpRequest) -> HttpResponse:
    return index_page(request)
