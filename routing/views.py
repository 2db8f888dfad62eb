from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from routing.selectors import can_see_queue, unassigned_queue


@require_GET
@login_required
def index(request: HttpRequest) -> HttpResponse:
    page = unassigned_queue(page=request.GET.get("page")) if can_see_queue(request.user) else None
    return render(request, "routing/index.html", {"page": page})
