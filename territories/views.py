from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from territories.selectors import active_plan, territory_tree_page


@require_GET
@login_required
def index(request: HttpRequest) -> HttpResponse:
    plan = active_plan()
    page = territory_tree_page(user=request.user, plan=plan, page=request.GET.get("page"))
    return render(request, "territories/index.html", {"plan": plan, "page": page})
