from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from territories.selectors import TREE_PAGE_SIZE, active_plan, territory_tree_for


@require_GET
@login_required
def index(request: HttpRequest) -> HttpResponse:
    plan = active_plan()
    tree = territory_tree_for(user=request.user, plan=plan)
    page = Paginator(tree, TREE_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "territories/index.html", {"plan": plan, "page": page})
