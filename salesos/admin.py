from functools import wraps

from django.contrib import admin
from django.http import Http404
from django.urls import URLPattern

from salesos.http import parse_id
from salesos.models import Activity, GeoArea, Industry, Leave, Opportunity, SalesProfile
from salesos.services import profile_delete, profile_save


class IdCheckedAdmin(admin.ModelAdmin):
    """Object pages whose URL ids are not ids (``/admin/territories/territory/abc/history/``)
    answer 404. Django's own views would redirect, but simple-history's and guardian's raised
    ValueError (a 500). Every model registered with it has an integer primary key, so every id
    in an object URL (object, history version, guardian's user or group) must be one."""

    def get_urls(self):
        return [self._checked(p) if isinstance(p, URLPattern) else p for p in super().get_urls()]

    @staticmethod
    def _checked(pattern: URLPattern) -> URLPattern:
        view = pattern.callback

        @wraps(view)
        def checked(request, *args, **kwargs):
            if any(parse_id(value) is None for value in (*args, *kwargs.values())):
                raise Http404("No such object")
            return view(request, *args, **kwargs)

        pattern.callback = checked
        return pattern


@admin.register(Industry)
class IndustryAdmin(IdCheckedAdmin):
    list_display = ["code", "title", "scheme", "level"]
    list_filter = ["scheme", "level"]
    search_fields = ["code", "title"]
    raw_id_fields = ["parent"]


@admin.register(GeoArea)
class GeoAreaAdmin(IdCheckedAdmin):
    list_display = ["code", "name", "level", "country", "population"]
    list_filter = ["level", "country"]
    search_fields = ["code", "name"]
    raw_id_fields = ["parent"]
    exclude = ["geometry"]


@admin.register(Opportunity)
class OpportunityAdmin(IdCheckedAdmin):
    list_display = ["name", "account", "amount", "stage", "status", "close_date", "owner"]
    list_filter = ["status", "stage"]
    search_fields = ["name", "account__name"]
    raw_id_fields = ["account", "owner", "territory"]
    list_select_related = ["account", "owner"]
    show_full_result_count = False


@admin.register(Activity)
class ActivityAdmin(IdCheckedAdmin):
    list_display = ["kind", "subject", "account", "user", "at"]
    list_filter = ["kind"]
    raw_id_fields = ["account", "opportunity", "user"]
    list_select_related = ["account", "user"]
    show_full_result_count = False


class LeaveInline(admin.TabularInline):
    model = Leave
    fk_name = "user"
    extra = 0


@admin.register(SalesProfile)
class SalesProfileAdmin(IdCheckedAdmin):
    list_display = ["user", "role", "title", "manager", "region", "experience", "hire_date", "ramp_months"]
    list_filter = ["role", "region", "experience"]
    search_fields = ["user__username", "user__first_name", "user__last_name", "title"]
    raw_id_fields = ["user", "manager"]
    list_select_related = ["user", "manager"]

    def save_model(self, request, obj, form, change):
        profile_save(profile=obj)

    def delete_model(self, request, obj):
        profile_delete(profile=obj)


@admin.register(Leave)
class LeaveAdmin(IdCheckedAdmin):
    list_display = ["user", "kind", "start", "end"]
    list_filter = ["kind"]
    raw_id_fields = ["user"]
