from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest

from salesos.models import SalesProfile
from salesos.roles import role_flags, role_of, works_queue

# The areas of the top navigation: (url namespace, label, icon).
NAV_AREAS = [
    ("accounts", "Accounts", "buildings"),
    ("leads", "Leads", "person-lines-fill"),
    ("territories", "Territories", "diagram-3"),
    ("routing", "Routing", "signpost-split"),
    ("planning", "Planning", "calendar3"),
    ("analytics", "Analytics", "bar-chart-line"),
    ("map", "Map", "geo-alt"),
]

# Areas for sales ops and management only (reps get a "managed by sales ops" note there), by who
# may use them. Analytics is for every role: its pages are scoped to the user's part of the tree.
MANAGEMENT_AREAS = {"routing": works_queue}

DEMO_USERNAMES = ["admin", "director", "manager", "rep"]


def _demo_logins(request: HttpRequest) -> list[str]:
    """The demo accounts that exist, for the hint on the login page: DEVELOPMENT only, and only on that
    page so no other request pays the query."""
    match = getattr(request, "resolver_match", None)
    if not settings.DEVELOPMENT or match is None or match.url_name != "login":
        return []
    existing = set(get_user_model().objects.filter(username__in=DEMO_USERNAMES).values_list("username", flat=True))
    return [name for name in DEMO_USERNAMES if name in existing]


def navigation(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    role = role_of(user) if user is not None else None
    match = getattr(request, "resolver_match", None)
    demo_logins = _demo_logins(request)
    return {
        "user_role": role,
        "user_role_label": SalesProfile.Role(role).label if role else "",
        "user_is": role_flags(user) if user is not None else role_flags(AnonymousUser()),
        "nav_areas": [
            area for area in NAV_AREAS
            if area[0] not in MANAGEMENT_AREAS or (user is not None and MANAGEMENT_AREAS[area[0]](user))
        ],
        "nav_current": match.namespace if match is not None else "",
        "demo_logins": demo_logins,
        "demo_password": settings.SALESOS_DEMO_PASSWORD if demo_logins else "",
    }
