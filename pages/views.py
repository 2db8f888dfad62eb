from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_safe

from pages.selectors import HomeData, home_for
from salesos.health import health_response
from salesos.http import HtmxHttpRequest
from salesos.roles import Role

# One home page per role; the shared frame is pages/home/base.html.
HOME_TEMPLATES: dict[str, str] = {
    Role.ADMIN: "pages/home/admin.html",
    Role.DIRECTOR: "pages/home/director.html",
    Role.MANAGER: "pages/home/manager.html",
    Role.REP: "pages/home/rep.html",
}
NO_ROLE_TEMPLATE = "pages/home/no_role.html"


def home_template(data: HomeData) -> str:
    return HOME_TEMPLATES.get(data.role or "", NO_ROLE_TEMPLATE)


@require_GET
@login_required
def home(request: HtmxHttpRequest) -> HttpResponse:
    q = request.GET.get("q", "").strip()[:100]
    data = home_for(user=request.user, q=q, page=request.GET.get("page"))
    # The rep's account search and paging swap only the table when htmx asks.
    template = "pages/home/rep.html#rep-accounts" if request.htmx else home_template(data)
    return render(request, template, {"home": data, "q": q})


@require_safe
def healthz(request: HttpRequest) -> HttpResponse:
    """``ok`` or ``unavailable`` (503); ``salesos.health.HealthCheckMiddleware`` answers this path
    before the other middleware, so this view is reached only without it."""
    return health_response()
