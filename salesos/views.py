from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from salesos.http import HtmxHttpRequest
from salesos.selectors import home_for


@require_GET
@login_required
def home(request: HtmxHttpRequest) -> HttpResponse:
    q = request.GET.get("q", "").strip()[:100]
    data = home_for(user=request.user, q=q, page=request.GET.get("page"))
    # The rep's account search and paging swap only the table when htmx asks.
    template = "salesos/home.html#rep-accounts" if request.htmx else "salesos/home.html"
    return render(request, template, {"home": data, "q": q})


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"ok": True})
