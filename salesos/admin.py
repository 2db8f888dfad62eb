from django.contrib import admin

from salesos.models import Account, Activity, GeoArea, Industry, Lead, Leave, Opportunity, SalesProfile


@admin.register(Industry)
class IndustryAdmin(admin.ModelAdmin):
    list_display = ["code", "title", "scheme", "level"]
    list_filter = ["scheme", "level"]
    search_fields = ["code", "title"]
    raw_id_fields = ["parent"]


@admin.register(GeoArea)
class GeoAreaAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "level", "country", "population"]
    list_filter = ["level", "country"]
    search_fields = ["code", "name"]
    raw_id_fields = ["parent"]
    exclude = ["geometry"]


@admin.register(Account)
class AccountAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "country",
        "state",
        "metro",
        "industry_code",
        "employees",
        "annual_revenue",
    ]
    list_filter = ["region", "country", "status"]
    search_fields = ["name", "domain", "postal_code"]
    raw_id_fields = ["industry", "locked_territory"]
    # Where the account sits is its current primary routing row, its owner that territory's owner
    # today (routing.placement): shown on the change page, never edited here.
    readonly_fields = ["industry_code", "current_territory", "current_owner", "created_at", "updated_at"]
    show_full_result_count = False

    @admin.display(description="Territory")
    def current_territory(self, obj: Account) -> str:
        from routing.placement import placement

        territory = placement(obj).territory if obj.pk else None
        return str(territory) if territory is not None else "—"

    @admin.display(description="Owner")
    def current_owner(self, obj: Account) -> str:
        from routing.placement import placement

        owner = placement(obj).owner if obj.pk else None
        return (owner.get_full_name() or owner.username) if owner is not None else "—"

    def save_model(self, request, obj, form, change):
        # Through the routing service, so a new or moved account lands in its territory at once.
        from routing.services import account_save, routable_snapshot

        before = routable_snapshot(Account.objects.get(pk=obj.pk)) if change else None
        account_save(account=obj, before=before)


@admin.register(Lead)
class LeadAdmin(admin.ModelAdmin):
    list_display = ["company", "first_name", "last_name", "email", "status", "country", "territory", "owner"]
    list_filter = ["status", "country"]
    search_fields = ["company", "email", "last_name"]
    raw_id_fields = ["industry", "owner", "territory", "account"]
    readonly_fields = ["industry_code", "territory", "routing_trace"]
    list_select_related = ["territory", "owner"]

    def save_model(self, request, obj, form, change):
        from routing.services import lead_save

        lead_save(lead=obj)


@admin.register(Opportunity)
class OpportunityAdmin(admin.ModelAdmin):
    list_display = ["name", "account", "amount", "stage", "status", "close_date", "owner"]
    list_filter = ["status", "stage"]
    search_fields = ["name", "account__name"]
    raw_id_fields = ["account", "owner", "territory"]
    list_select_related = ["account", "owner"]
    show_full_result_count = False


@admin.register(Activity)
class ActivityAdmin(admin.ModelAdmin):
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
class SalesProfileAdmin(admin.ModelAdmin):
    list_display = ["user", "role", "title", "manager", "region", "experience", "hire_date", "ramp_months"]
    list_filter = ["role", "region", "experience"]
    search_fields = ["user__username", "user__first_name", "user__last_name", "title"]
    raw_id_fields = ["user", "manager"]
    list_select_related = ["user", "manager"]

    def save_model(self, request, obj, form, change):
        from salesos.services import profile_save

        profile_save(profile=obj)

    def delete_model(self, request, obj):
        from salesos.services import profile_delete

        profile_delete(profile=obj)


@admin.register(Leave)
class LeaveAdmin(admin.ModelAdmin):
    list_display = ["user", "kind", "start", "end"]
    list_filter = ["kind"]
    raw_id_fields = ["user"]
