from django.http import HttpRequest

from salesos.roles import role_of


def navigation(request: HttpRequest) -> dict:
    return {"user_role": role_of(request.user) if hasattr(request, "user") else None}
