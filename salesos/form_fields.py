"""A larger form-field limit for the few views whose forms are long by design.

Django refuses a post of more than ``DATA_UPLOAD_MAX_NUMBER_FIELDS`` (1,000) fields with a bare
400 before any view runs (the CSRF check reads ``request.POST``). The rule builder posts several
fields per condition row, so a rule of about 150 rows hit that limit while the builder allows
``MAX_NODES`` rows. Rather than raising the limit for the whole site, a view declares its own
with ``@allow_form_fields(n)`` and ``FormFieldsMiddleware`` (placed before the CSRF middleware)
parses that view's url-encoded post with it. A post past even that limit answers 400 with a
message that says so.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import parse_qsl

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, QueryDict
from django.utils.datastructures import MultiValueDict

View = TypeVar("View", bound=Callable[..., Any])


def allow_form_fields(limit: int) -> Callable[[View], View]:
    """Lets the decorated view take a url-encoded post of up to ``limit`` fields. The mark survives
    ``functools.wraps`` decorators (``login_required``, ``require_POST``), in any order."""

    def decorate(view: View) -> View:
        view.max_form_fields = limit  # type: ignore[attr-defined]
        return view

    return decorate


class FormFieldsMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view_func: Callable[..., Any], view_args: Any,
                     view_kwargs: Any) -> HttpResponse | None:
        limit = getattr(view_func, "max_form_fields", None)
        if limit is None or request.method != "POST" or request.content_type != "application/x-www-form-urlencoded":
            return None
        encoding = request.encoding or settings.DEFAULT_CHARSET
        body = request.body  # still bounded by DATA_UPLOAD_MAX_MEMORY_SIZE
        try:
            text = body.decode(encoding)
        except UnicodeDecodeError:
            text = body.decode("iso-8859-1")  # as QueryDict does
        post = QueryDict(mutable=True, encoding=encoding)
        try:
            for key, value in parse_qsl(text, keep_blank_values=True, encoding=encoding, max_num_fields=limit):
                post.appendlist(key, value)
        except ValueError:
            return HttpResponseBadRequest(
                f"This form sent more than {limit:,} fields, more than it can hold. Nothing was saved.",
                content_type="text/plain; charset=utf-8",
            )
        post._mutable = False
        request._post = post  # type: ignore[attr-defined]
        request._files = MultiValueDict()  # type: ignore[attr-defined]
        return None
