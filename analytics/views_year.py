"""Year over year: this fiscal year against the last, per territory, with the part of the change
that mid-year changes made (``analytics.selectors.year_over_year``). Every role, each its part."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from analytics.selectors.year_over_year import year_over_year


@require_GET
@login_required
def year_over_year_page(request: HttpRequest) -> HttpResponse:
    page = year_over_year(request.user, request.GET.get("year"))
    return render(request, "analytics/year_over_year.html", {"page": page, "totals": page.totals})
