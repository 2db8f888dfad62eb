"""Request-level protections: who the client is, and the answer to a locked-out sign-in.

``client_ip`` is the one definition of the client's address, used by login throttling
(django-axes, ``AXES_CLIENT_IP_CALLABLE``) and by the API rate limits. Behind a reverse proxy
(``BEHIND_PROXY=1``) every request arrives from the proxy, so the address is the last entry the
proxy appended to ``X-Forwarded-For``; otherwise that header is the client's own say and ignored.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from django.conf import settings
from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.forms.utils import ErrorDict
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def _address(value: object) -> str | None:
    try:
        return str(ipaddress.ip_address(str(value).strip()))
    except ValueError:
        return None


def client_ip(request: HttpRequest) -> str | None:
    """The client's IP address, or None when the request has none (e.g. one made in code)."""
    if getattr(settings, "BEHIND_PROXY", False):
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
        proxied = _address(forwarded[-1]) if forwarded[-1].strip() else None
        if proxied is not None:
            return proxied
    return _address(request.META.get("REMOTE_ADDR"))


def lockout_message() -> str:
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    return (
        f"Too many failed sign-ins for this username from your address. Sign-in is locked for "
        f"{minutes} minute{'s' if minutes != 1 else ''}; an admin can unlock it sooner."
    )


def _form_with_error(form_class: type[AuthenticationForm], request: HttpRequest, username: str) -> AuthenticationForm:
    form = form_class(request, initial={"username": username})
    # The form is not validated (that would try the password again): it only carries the message.
    form.cleaned_data = {}
    form._errors = ErrorDict()  # type: ignore[attr-defined]  # Form declares it untyped
    form.add_error(None, lockout_message())
    return form


def login_locked_out(request: HttpRequest, original_response: Any = None, credentials: Any = None) -> HttpResponse:
    """django-axes' answer once a username+address is locked: the same sign-in page (the app's or
    the admin's) with the reason, status 429. Nothing about the password is checked or said."""
    username = str((credentials or {}).get("username") or request.POST.get("username", ""))[:150]
    match = getattr(request, "resolver_match", None)
    if match is not None and match.namespace == admin.site.name:
        context = {
            **admin.site.each_context(request),
            "title": "Log in",
            "app_path": request.get_full_path(),
            "form": _form_with_error(AdminAuthenticationForm, request, username),
            "username": username,
        }
        return render(request, "admin/login.html", context, status=429)
    form = _form_with_error(AuthenticationForm, request, username)
    return render(request, "registration/login.html", {"form": form, "next": request.POST.get("next", "")}, status=429)
